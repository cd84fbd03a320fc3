"""Blind marking in real browsers, on the demo: a judge's blind mark leaves the public board
still; the judge signs, the chief judge decodes, and the board shows the criterion within
its poll."""

from __future__ import annotations

import random
import time

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from sqlalchemy import select

from scoring import demo
from scoring.extensions import db
from scoring.models import Event
from scoring.operations.marks import save_judge_mark
from scoring.queries.marks import sheets_of

from .conftest import screenshot

pytestmark = pytest.mark.browser

POLL = 2  # seconds between the board's polls in this test
PHONE = {"width": 390, "height": 844}


def signed_in(browser, base: str, username: str, password: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def everything_but_p2_marked_and_signed() -> None:
    """The demo's judges finish every sheet but judge4's P2 (decoding waits for every blind
    sheet of the event: one decoded criterion would reveal the codes of the others)."""
    rng = random.Random(3)
    event = db.session.scalar(select(Event).where(Event.code == demo.DEMO_EVENT))
    for user, criterion, entry in demo.missing_marks(event):
        if criterion.code != "P2":
            outcome = save_judge_mark(user, event, criterion, entry,
                                      str(demo.plausible_mark(rng, criterion, entry)),
                                      token=None, seen_version=None)
            assert outcome.changed
            db.session.commit()
    for criterion in event.criteria:
        if criterion.code != "P2":
            demo.finish_sheets(event, criterion, lambda line: None)
    assert [c.code for c in event.criteria if not c.public
            and all(signed for _user, _name, signed in sheets_of(c))] == [
        "P1", "J1", "M1", "P3"]


def test_a_blind_mark_waits_for_decoding(browser, app: Flask, live_server: str,  # type: ignore[no-untyped-def]
                                         runner: FlaskCliRunner) -> None:
    app.config["SCORING_BOARD_POLL"] = POLL
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    everything_but_p2_marked_and_signed()
    board_context = browser.new_context(viewport=PHONE)
    board = board_context.new_page()
    board.goto(live_server + "/e/WELD")
    assert "已解密 2 / 7 项" in board.locator(".board-status").inner_text()  # T1 and S1
    before = board.locator("#board tbody").inner_html()

    # judge4 reads the radiographs (P2, blind): three marks are still to come.
    judge_context, judge = signed_in(browser, live_server, "judge4", "demo-judge4",
                                     {"width": 1024, "height": 768})
    judge.goto(live_server + "/judge/WELD/P2")
    empty = judge.locator(".mark-input[data-saved='']")
    assert empty.count() == 3
    field = empty.first
    field.fill("29")
    field.press("Enter")
    judge.wait_for_selector(".mark-row.state-saved")
    board.wait_for_timeout(5000)  # more than two polls: nothing moves
    assert board.locator("#board tbody").inner_html() == before
    assert "已解密 2 / 7 项" in board.locator(".board-status").inner_text()
    while (left := judge.locator(".mark-input[data-saved='']").count()):
        field = judge.locator(".mark-input[data-saved='']").first
        field.fill("30")
        field.press("Enter")
        judge.wait_for_function(
            "n => document.querySelectorAll(\".mark-input[data-saved='']\").length < n",
            arg=left)
    judge.check("#confirm-sign")
    judge.get_by_role("button", name="签字确认").click()
    judge.wait_for_load_state()
    assert judge.locator(".sign-off button").count() == 0  # signed
    judge_context.close()
    assert board.locator("#board tbody").inner_html() == before

    chief_context, chief = signed_in(browser, live_server, "chief", "demo-chief",
                                     {"width": 1366, "height": 768})
    chief.goto(live_server + "/chief/WELD#decoding")
    decode = chief.get_by_role("button", name="解密 P2")
    decode.click()  # without the tick: the browser asks for it, nothing is sent
    assert "/decode" not in chief.url
    chief.check("#confirm-P2")
    screenshot(chief, "chief-decoding")
    decode.click()
    chief.wait_for_selector("text=由 chief 于")
    decoded_at = time.monotonic()
    board.wait_for_selector(".board-status:has-text('已解密 3 / 7 项')",
                            timeout=(POLL + 2) * 1000)
    assert time.monotonic() - decoded_at <= POLL + 2
    assert board.locator("#board tbody").inner_html() != before
    screenshot(board, "board-decoded-phone")
    chief_context.close()
    board_context.close()
