"""Issue 15 in headless Chromium: lock -> provisional -> an appeal received -> a late one
refused -> the final publication refused -> the chief judge's re-check changes one mark ->
the arbiters' final ruling -> publish; the runner-up becomes the winner on the board. With
SCORING_SCREENSHOTS=1: the appeal's page, its PDF and the provisional board (phone and
1920x1080), in Chinese and English, in docs/screenshots."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from pypdf import PdfReader
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import Appeal, Criterion, Entry, Event, Mark

from .conftest import SCREENSHOTS, screenshot
from .judging_helpers import PASSWORD, close_window
from .test_appeals import set_up

pytestmark = pytest.mark.browser

CONSOLE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREEN = {"width": 1920, "height": 1080}


def signed_in(browser, base: str, username: str, viewport=CONSOLE):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def state() -> str:
    db.session.expire_all()
    return db.session.scalar(select(Event.state).where(Event.code == "J"))


def step(page, base: str, action: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/admin/events/J")
    page.check(f"#confirm-{action}")
    page.click("form.state-form button[type=submit]")
    page.wait_for_load_state()


def boards(browser, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """The public board on a phone and the big screen, in both languages (new contexts:
    public pages are cached by the browser for a moment)."""
    for language in ("zh", "en"):
        for suffix, viewport, path in (("phone", PHONE, "/e/J"), ("screen", SCREEN,
                                                                   "/e/J/screen")):
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            page.goto(f"{base}{path}?lang={language}")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            screenshot(page, f"{name}-{suffix}-{language}")
            context.close()


def test_the_walk_in_a_browser(runner: FlaskCliRunner, live_server: str, browser,  # type: ignore[no-untyped-def]
                               tmp_path: Path) -> None:
    set_up(runner, tmp_path)
    db.session.remove()
    boss_context, boss = signed_in(browser, live_server, "boss")
    step(boss, live_server, "lock")
    assert state() == "locked"
    step(boss, live_server, "provisional")
    assert state() == "provisional"
    assert boss.locator(".appeals-card .window-open").count() == 1  # the time left
    # The provisional board: awards marked provisional, the window's end.
    board_context = browser.new_context(viewport=PHONE)
    board = board_context.new_page()
    board.goto(live_server + "/e/J?lang=en")
    assert "Provisional results" in board.locator(".board-status").inner_text()
    assert board.locator("#bib-03 .award").inner_text() == "一等奖"
    board_context.close()
    boards(browser, live_server, "board-provisional")

    # The organiser records the written appeal.
    boss.goto(live_server + "/appeals/J")
    boss.fill("#f-bib", "07")
    boss.check("input[name=criteria][value=V]")
    boss.fill("#f-text", "外观检验评分偏低，请求复核。")
    boss.click("form.appeal-form button[type=submit]")
    boss.wait_for_load_state()
    appeal = db.session.scalar(select(Appeal))
    assert appeal is not None and boss.url.endswith(f"/appeals/J/{appeal.id}")
    # The final publication is refused while the window is open and the appeal unruled.
    step(boss, live_server, "publish")
    assert state() == "provisional"
    assert f"#{appeal.id}" in boss.locator(".confirm-tick .field-error").inner_text()
    # The window passes: a late appeal is refused, the time said.
    close_window("J")
    boss.goto(live_server + "/appeals/J")
    boss.fill("#f-bib", "12")
    boss.check("input[name=criteria][value=R]")
    boss.fill("#f-text", "射线探伤评分有误。")
    boss.click("form.appeal-form button[type=submit]")
    boss.wait_for_load_state()
    assert "申诉期已于" in boss.locator(".field-error").inner_text()
    db.session.expire_all()
    assert len(db.session.scalars(select(Appeal)).all()) == 1

    # The arbiter orders a re-check.
    arbiter_context, arbiter = signed_in(browser, live_server, "arb")
    assert arbiter.url.endswith("/appeals")  # an arbiter's home
    arbiter.goto(f"{live_server}/appeals/J/{appeal.id}")
    assert "应回避" in arbiter.locator(".appeal-marks").inner_text()  # judge2: 大连代表队
    arbiter.select_option("#f-ruling", "recheck")
    arbiter.fill("#f-reason", "两位裁判评分一致但与录像不符，复核外观检验")
    arbiter.click(".ruling button[type=submit]")
    arbiter.wait_for_load_state()
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "recheck"

    # The chief judge changes one mark in the re-check.
    chief_context, chief = signed_in(browser, live_server, "chief")
    chief.goto(f"{live_server}/appeals/J/{appeal.id}")
    target = db.session.scalar(select(Mark).join(Entry).join(Criterion).where(
        Entry.bib == "07", Criterion.code == "V", Mark.judge == "judge1"))
    chief.fill(f"#value-{target.id}", "38")
    chief.fill(f"#reason-{target.id}", "复核：焊缝余高测量有误")
    chief.click(f"#mark-{target.id} button[type=submit]")
    chief.wait_for_load_state()
    assert chief.locator(f"#mark-{target.id} .mark-now").inner_text() == "38"
    chief_context.close()

    # The final ruling, then the final publication.
    arbiter.goto(f"{live_server}/appeals/J/{appeal.id}")
    arbiter.select_option("#f-ruling", "final")
    arbiter.fill("#f-reason", "复核后改分，名次变化")
    arbiter.click(".ruling button[type=submit]")
    arbiter.wait_for_load_state()
    assert "已复核：评分已修改" in arbiter.locator("h1").inner_text()
    screenshot(arbiter, "appeal-file-zh")
    pdfs = {"zh": arbiter_context.request.get(f"{live_server}/appeals/J/{appeal.id}.pdf").body()}
    arbiter.goto(f"{live_server}/lang/en?next=/appeals/J/{appeal.id}")
    assert "re-checked: marks changed" in arbiter.locator("h1").inner_text()
    screenshot(arbiter, "appeal-file-en")
    pdfs["en"] = arbiter_context.request.get(f"{live_server}/appeals/J/{appeal.id}.pdf").body()
    for language, pdf in pdfs.items():
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        for needle in (f"#{appeal.id}", "34", "38", appeal.entry.blind_code, "复核后改分"):
            assert needle in text, (language, needle)
        assert ("Appeal file" in text) == (language == "en")
        if os.environ.get("SCORING_SCREENSHOTS") == "1":  # the PDF's first page as an image
            if shutil.which("pdftoppm") is None:
                pytest.fail("pdftoppm is missing (apt-get install poppler-utils)")
            source = tmp_path / f"appeal-{language}.pdf"
            source.write_bytes(pdf)
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1",
                            "-singlefile", str(source),
                            str(SCREENSHOTS / f"appeal-pdf-{language}")], check=True)
    arbiter_context.close()
    step(boss, live_server, "publish")
    assert state() == "published"
    boss_context.close()
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(live_server + "/e/J")
    assert page.locator("#bib-07 .award").inner_text() == "一等奖"
    assert page.locator("#bib-03 .award").inner_text() == ""
    context.close()

