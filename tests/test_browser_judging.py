"""A judge and the chief judge on a tablet (1024x768), in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import Mark, MarkRevision

from .conftest import screenshot
from .judging_helpers import PASSWORD, Judged, set_up_event

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def judged(runner: FlaskCliRunner, tmp_path: Path) -> Judged:
    return set_up_event(runner, tmp_path)


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def row(page, index: int):  # type: ignore[no-untyped-def]
    return page.locator(".mark-row").nth(index)


def enter(page, index: int, value: str) -> None:  # type: ignore[no-untyped-def]
    field = row(page, index).locator(".mark-input")
    field.fill(value)
    field.press("Enter")


def no_overflow(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]


def test_judge_marks_signs_and_chief_corrects(browser, live_server: str,  # type: ignore[no-untyped-def]
                                              judged: Judged) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server, "judge1")
    page.wait_for_url(live_server + "/judge")
    assert page.locator(".sheet-progress").inner_text() == "0 / 5"
    no_overflow(page)
    screenshot(page, "judge-home-zh")
    page.get_by_role("link", name=re.compile("外观检验")).click()
    page.wait_for_url(live_server + "/judge/J/V")
    names = [entry.contestant.name for entry in judged.entries]
    assert not any(name in page.content() for name in names)

    enter(page, 0, "35.5")
    page.wait_for_selector("#progress-V:has-text('1 / 5')")
    page.wait_for_selector(".mark-row.state-saved")
    assert "已保存" in row(page, 0).inner_text()
    enter(page, 1, "45")  # above the maximum of 40
    page.wait_for_selector(".mark-row.state-invalid")
    assert "超过满分 40" in row(page, 1).inner_text()
    assert row(page, 1).locator(".mark-input").input_value() == "45"
    no_overflow(page)
    screenshot(page, "judge-sheet-refused-zh")
    enter(page, 1, "38")
    page.wait_for_selector("#progress-V:has-text('2 / 5')")
    for index, value in ((2, "33"), (3, "29.5"), (4, "40")):
        enter(page, index, value)
    page.wait_for_selector("#progress-V:has-text('5 / 5')")
    screenshot(page, "judge-sheet-zh")
    # The count stays in sight at the bottom of a sheet longer than the screen (five rows
    # are not, so the screen is made shorter).
    page.set_viewport_size({"width": TABLET["width"], "height": 400})
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("window.scrollY") > 400
    box = page.locator(".progress-count").bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 400
    page.set_viewport_size(TABLET)
    page.check("#confirm-sign")
    page.get_by_role("button", name="签字确认本评分表").click()
    page.wait_for_selector("text=你已签字确认本评分表")
    assert page.locator(".mark-input").first.is_disabled()
    db.session.expire_all()
    assert sorted(str(v) for v in db.session.scalars(select(Mark.value))) == [
        "29.5", "33", "35.5", "38", "40"]
    context.close()

    chief = browser.new_context(viewport=TABLET)
    page = chief.new_page()
    sign_in(page, live_server, "chief")
    page.goto(live_server + "/chief/J")
    assert "flag-extreme" in page.content()  # the 40
    page.locator(".cell-button", has_text="38").click()
    page.fill("#correct-value", "37")
    page.fill("#correct-reason", "复核：咬边超差")
    page.get_by_role("button", name="保存更正").click()
    page.wait_for_selector("text=已更正为 37")
    assert page.locator(".cell-button", has_text="37").count() == 1
    screenshot(page, "chief-matrix-zh")
    page.goto(live_server + "/chief/J/history")
    history = page.content()
    changes = history.split("评分修改记录")[1].split("赛项日志")[0]
    assert "复核：咬边超差" in history and "<td>45</td>" not in changes  # the refused 45
    assert "评分表签字" in history and "裁判长更正评分" in history
    assert "sheet.sign" not in history and "mark.correct" not in history
    screenshot(page, "chief-history-zh")
    chief.close()
    db.session.expire_all()
    corrected = db.session.scalars(select(MarkRevision).where(
        MarkRevision.source == "chief")).one()
    assert (str(corrected.old_value), str(corrected.new_value)) == ("38", "37")


def test_a_mark_typed_offline_is_saved_when_the_network_returns(
        browser, live_server: str, judged: Judged) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server, "judge1")
    page.goto(live_server + "/judge/J/V")
    context.set_offline(True)
    enter(page, 0, "31")
    page.wait_for_selector(".mark-row.state-unsaved")
    assert "尚未保存" in row(page, 0).inner_text()
    screenshot(page, "judge-sheet-offline-zh")
    context.set_offline(False)
    page.wait_for_selector(".mark-row.state-saved", timeout=20_000)
    db.session.expire_all()
    assert [str(v) for v in db.session.scalars(select(Mark.value))] == ["31"]
    assert len(db.session.scalars(select(MarkRevision)).all()) == 1
    context.close()


def test_an_expired_session_keeps_the_typed_mark(browser, live_server: str,  # type: ignore[no-untyped-def]
                                                 judged: Judged) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server, "judge1")
    page.goto(live_server + "/judge/J/V")
    context.clear_cookies()  # the session ends while the sheet is open
    enter(page, 2, "27.5")
    page.wait_for_selector("#session-banner:not([hidden])")
    page.locator("#session-banner a").click()
    page.fill("#username", "judge1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/judge/J/V")
    page.wait_for_selector(".mark-row.state-saved", timeout=10_000)
    assert row(page, 2).locator(".mark-input").input_value() == "27.5"
    db.session.expire_all()
    assert [str(v) for v in db.session.scalars(select(Mark.value))] == ["27.5"]
    context.close()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_pages_fit_the_tablet_in_both_languages(browser, live_server: str,  # type: ignore[no-untyped-def]
                                                judged: Judged, language: str) -> None:
    for viewport in (TABLET, {"width": 768, "height": 1024}):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, live_server, "judge2")
        if language == "en":
            page.get_by_role("link", name="English").click()
        for path, name in (("/judge", "judge-home"), ("/judge/J/V", "judge-sheet-empty"),
                           (f"/judge/J/code/{judged.entries[0].blind_code}", "judge-entry")):
            page.goto(live_server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            small = page.evaluate("""() => [...document.querySelectorAll(
                'button, input:not([type=hidden]), a')].filter(e => e.offsetParent &&
                e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 80))""")
            assert small == [], small
            if viewport is TABLET:
                screenshot(page, f"{name}-{language}")
        if language == "en":
            assert "My mark sheets" in page.content() or "Station" in page.content()
        context.close()
