"""A judge taps judgement levels on a 1024x768 touch screen and enters a measured value, in
headless Chromium; levels two apart block the sheet's sign-off until a level changes; the
chief judge's matrix shows levels and marks (DOMAIN.md example (d))."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import Criterion, Entry, Event, Mark, SignOff

from .conftest import screenshot
from .judging_helpers import PASSWORD
from .test_cli import run
from .test_criterion_kinds import EXAMPLE_D

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def drawn(runner: FlaskCliRunner, tmp_path: Path) -> list[Entry]:
    """EX-D drawn; judge1-3 judge J1, judge1 also measures M1; judge2 and judge3 have given
    their levels already (imported): 3, 2, 2, 1 and 2, 2, 3, 1 by blind code."""
    run(runner, "event", "import", EXAMPLE_D / "scheme.toml")
    run(runner, "contestants", "import", "EX-D", EXAMPLE_D / "contestants.csv")
    run(runner, "draw", "EX-D", "--seed", "1")
    for name in ("judge1", "judge2", "judge3"):
        run(runner, "user", "create", name, "--role", "judge", "--password", PASSWORD,
            "--display-name", {"judge1": "张裁判", "judge2": "李裁判", "judge3": "王裁判"}[name])
        run(runner, "judge", "assign", "EX-D", name, "J1")
    run(runner, "judge", "assign", "EX-D", "judge1", "M1")
    run(runner, "user", "create", "chief", "--role", "chief", "--password", PASSWORD,
        "--event", "EX-D")
    entries = list(db.session.scalars(select(Entry).order_by(Entry.blind_code)))
    scores = tmp_path / "scores.csv"
    lines = ["bib,criterion,judge,score"]
    for entry, two, three in zip(entries, "3221", "2231"):
        lines += [f"{entry.bib},J1,judge2,{two}", f"{entry.bib},J1,judge3,{three}"]
    scores.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(runner, "scores", "import", "EX-D", scores)
    return entries


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/judge" if username.startswith("judge") else "**")


def level_of(entry: Entry, judge: str = "judge1") -> Mark | None:
    db.session.expire_all()
    return db.session.scalar(select(Mark).join(Criterion).where(
        Mark.entry_id == entry.id, Mark.judge == judge, Criterion.code == "J1"))


def no_overflow(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_judge_taps_levels_and_measures_then_the_spread_blocks_sign_off(
        browser, live_server: str, drawn: list[Entry], language: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=TABLET, has_touch=True, is_mobile=False)
    page = context.new_page()
    sign_in(page, live_server, "judge1")
    if language == "en":
        page.goto(live_server + "/lang/en")
    page.goto(live_server + "/judge/EX-D/J1")
    rows = page.locator(".mark-row")
    assert rows.count() == 4
    # Every level button is a big touch target (gloves).
    for box in (button.bounding_box() for button in rows.nth(0).locator(".level-button").all()):
        assert box is not None and box["width"] >= 48 and box["height"] >= 48
    no_overflow(page)
    # Levels 1, 2, 2, 0: the first is two from judge2's 3.
    for index, level in enumerate("1220"):
        rows.nth(index).locator(f'.level-button[data-level="{level}"]').tap()
        page.wait_for_selector(f"#progress-J1:has-text('{index + 1} / 4')")
    for index, level in enumerate("1220"):
        pressed = rows.nth(index).locator('.level-button[aria-pressed="true"]')
        assert pressed.count() == 1 and pressed.get_attribute("data-level") == level
    assert [level_of(entry).entered for entry in drawn] == [Decimal(n) for n in "1220"]
    assert [level_of(entry).value for entry in drawn] == [Decimal(n) for n in "2440"]
    screenshot(page, f"judge-judgement-sheet-{language}")

    page.check("#confirm-sign")
    page.locator(".sign-off button[type=submit]").tap()
    page.wait_for_selector(".field-error, .error")
    assert drawn[0].blind_code in page.locator("form.sign-off").inner_text()
    assert db.session.scalar(select(func.count(SignOff.id))) == 0
    if language == "zh":
        screenshot(page, "judge-judgement-spread-zh")

    # The chief judge sees the levels two apart, flagged, with the form to confirm them.
    chief = browser.new_context(viewport={"width": 1366, "height": 768})
    chief_page = chief.new_page()
    sign_in(chief_page, live_server, "chief")
    if language == "en":
        chief_page.goto(live_server + "/lang/en")
    chief_page.goto(live_server + "/chief/EX-D")
    text = chief_page.locator("table.matrix").inner_text()
    assert "1 → 2" in text and "3 → 6" in text
    assert chief_page.locator("table.matrix td.flag-spread").count() == 3
    spreads = chief_page.locator("#spreads").inner_text()
    assert drawn[0].blind_code in spreads and "李裁判" in spreads
    screenshot(chief_page, f"chief-matrix-kinds-{language}")
    chief.close()

    # judge1 changes the first level to 2: one apart now, and the sheet is signed.
    page.locator(".mark-row").nth(0).locator('.level-button[data-level="2"]').tap()
    page.wait_for_selector('.mark-list > .mark-row:first-child.state-saved '
                           '.level-button[data-level="2"][aria-pressed="true"]')
    assert level_of(drawn[0]).entered == Decimal(2)
    page.check("#confirm-sign")
    page.locator(".sign-off button[type=submit]").tap()
    page.wait_for_selector(".notice:not(.spread-notice)")
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SignOff.id))) == 1
    assert page.locator(".level-button").first.is_disabled()

    # The measurement sheet: the value with its unit, and at once the mark it gives.
    page.goto(live_server + "/judge/EX-D/M1")
    field = page.locator(".mark-row").nth(0).locator(".mark-input")
    expected = {"zh": "→ 2", "en": "→ 2 of 4 marks"}[language]
    for typed, mark in (("2.4", expected), ("2.0", expected.replace("2", "4", 1)),
                        ("3.1", expected.replace("2", "0", 1))):
        field.fill("")
        field.type(typed)
        assert mark in page.locator(".mark-row").nth(0).locator(".band-mark").inner_text()
    field.fill("2.4")
    field.press("Enter")
    page.wait_for_selector("#progress-M1:has-text('1 / 4')")
    db.session.expire_all()
    measured = db.session.scalar(select(Mark).join(Criterion).where(Criterion.code == "M1"))
    assert (measured.entered, measured.value) == (Decimal("2.4"), Decimal(2))
    assert "mm" in page.locator(".mark-row").nth(0).inner_text()
    no_overflow(page)
    screenshot(page, f"judge-measurement-sheet-{language}")
    context.close()

    chief = browser.new_context(viewport={"width": 1366, "height": 768})
    page = chief.new_page()
    sign_in(page, live_server, "chief")
    page.goto(live_server + "/chief/EX-D")
    text = page.locator("table.matrix").inner_text()
    assert "2 → 4" in text and "3 → 6" in text and "2.4 mm → 2" in text
    assert page.locator("table.matrix td.flag-spread").count() == 0  # resolved
    chief.close()


def test_a_level_tapped_offline_is_saved_when_the_network_returns(
        browser, live_server: str, drawn: list[Entry]) -> None:  # type: ignore[no-untyped-def]
    """A level button goes through the same save as a typed mark: kept while offline, sent
    again (same token: one revision) when the network is back."""
    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server, "judge1")
    page.goto(live_server + "/judge/EX-D/J1")
    context.set_offline(True)
    page.locator(".mark-row").nth(1).locator('.level-button[data-level="3"]').tap()
    page.wait_for_selector(".mark-row.state-unsaved")
    assert level_of(drawn[1]) is None
    context.set_offline(False)
    page.wait_for_selector('.mark-row.state-saved .level-button[data-level="3"]'
                           '[aria-pressed="true"]', timeout=20_000)
    mark = level_of(drawn[1])
    assert (mark.entered, mark.value, len(mark.revisions)) == (Decimal(3), Decimal(6), 1)
    context.close()
