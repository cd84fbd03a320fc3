"""The public board in a real browser: it follows a judge's mark live, and stops when frozen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import Entry

from .conftest import screenshot
from .test_decode import open_criteria
from .judging_helpers import PASSWORD, Judged, set_up_event
from .test_cli import run

pytestmark = pytest.mark.browser

POLL = 2  # seconds between the board's polls in these tests
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
SCREEN = {"width": 1920, "height": 1080}


@pytest.fixture
def judged(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> Judged:
    app.config["SCORING_BOARD_POLL"] = POLL
    judged = set_up_event(runner, tmp_path)
    open_criteria(runner, tmp_path, "R")  # observed at the station: public at once
    run(runner, "board", "J", "live")
    return judged


def judge_page(browser, base: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#username", "judge2")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(base + "/judge/J/R")
    return context, page


def save_mark(page, index: int, value: str) -> None:  # type: ignore[no-untyped-def]
    field = page.locator(".mark-input").nth(index)
    field.fill(value)
    field.press("Enter")
    page.wait_for_selector(".mark-row.state-saved")


def bib_of(entry: Entry) -> str:
    return entry.bib


def test_the_board_follows_a_mark_and_stops_when_frozen(
        browser, live_server: str, judged: Judged, runner: FlaskCliRunner) -> None:  # type: ignore[no-untyped-def]
    board_context = browser.new_context(viewport=PHONE)
    board = board_context.new_page()
    board.goto(live_server + "/e/J")
    by_station = sorted(judged.entries, key=lambda entry: entry.station)  # R's sheet order
    first = by_station[0]
    row = board.locator(f"#bib-{first.bib}")
    assert row.locator(".total").inner_text().startswith("0.00")
    assert board.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    judge_context, judge = judge_page(browser, live_server)
    save_mark(judge, 0, "30")  # R has weight 1: the total becomes 30.00
    saved_at = time.monotonic()
    board.wait_for_selector(f"#bib-{first.bib} .total:has-text('30.00')",
                            timeout=(POLL + 1) * 1000)
    assert time.monotonic() - saved_at <= POLL + 1
    assert board.locator(f"#bib-{first.bib} .rank").inner_text() == "1"
    assert "changed" in (row.get_attribute("class") or "")  # briefly highlighted
    assert board.url == live_server + "/e/J"  # no reload

    run(runner, "board", "J", "frozen")
    board.wait_for_selector("text=已冻结", timeout=(POLL + 1) * 1000)
    save_mark(judge, 1, "25")
    second = by_station[1]
    board.wait_for_timeout((POLL + 1) * 1000)
    assert board.locator(f"#bib-{second.bib} .total").inner_text().startswith("0.00")
    judge_context.close()
    board_context.close()


def test_find_my_bib(browser, live_server: str, judged: Judged) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(live_server + "/e/J")
    bib = judged.entries[3].bib
    page.fill("#find-bib", str(int(bib)))  # "7" finds bib "07"
    page.get_by_role("button", name="查找").click()
    assert "mine" in page.locator(f"#bib-{bib}").get_attribute("class")
    assert page.url.endswith(f"#bib-{bib}")
    page.fill("#find-bib", "999")
    page.get_by_role("button", name="查找").click()
    assert page.get_by_text("本榜单没有这个参赛号").is_visible()
    # A link to the row, written as the find box takes it (#bib-7 for bib 07), and a broken one.
    other = judged.entries[4].bib
    page.goto(live_server + f"/e/J#bib-{int(other)}")
    page.wait_for_selector(f"#bib-{other}.mine")
    assert page.url.endswith(f"#bib-{other}")
    # Switching the language keeps the row.
    page.get_by_role("link", name="English").click()
    page.wait_for_selector(f"#bib-{other}.mine")
    assert "Find my bib" in page.content() and page.url.endswith(f"#bib-{other}")
    broken = context.new_page()
    errors: list[str] = []
    broken.on("pageerror", lambda error: errors.append(str(error)))
    broken.goto(live_server + "/e/J#bib-%E0")
    broken.wait_for_selector("#board[data-poll]")
    assert broken.locator("tr.mine").count() == 0 and errors == []
    context.close()


def demo_board(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("language", ["zh", "en"])
def test_board_pages_at_every_size(browser, live_server: str, runner: FlaskCliRunner,  # type: ignore[no-untyped-def]
                                   language: str) -> None:
    demo_board(runner)
    query = "?lang=en" if language == "en" else ""
    for name, viewport, path in (("board-phone", PHONE, "/e/WELD"),
                                 ("board-desktop", DESKTOP, "/e/WELD"),
                                 ("teams-phone", PHONE, "/e/WELD/teams"),
                                 ("screen", SCREEN, "/e/WELD/screen"),
                                 ("screen-phone", PHONE, "/e/WELD/screen")):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(live_server + path + query)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
        if name == "screen":
            # The top three and one page of eleven; no scrolling on the big screen.
            visible = page.locator("tbody tr:visible").count()
            assert visible == 14
            assert page.evaluate("document.documentElement.scrollHeight") <= viewport["height"]
            # Read from the back of the hall: headings of 18 px or more, and the rows fill
            # the screen (no empty bottom fifth).
            assert page.evaluate("parseFloat(getComputedStyle("
                                 "document.querySelector('.screen-board th')).fontSize)") >= 18
            assert page.evaluate("Math.max(...[...document.querySelectorAll("
                                 "'.screen-board tbody tr')].map("
                                 "row => row.getBoundingClientRect().bottom))"
                                 ) >= 0.9 * viewport["height"]
        screenshot(page, f"{name}-{language}")
        context.close()
    names = db.session.scalars(select(Entry)).all()
    assert len(names) == 30
