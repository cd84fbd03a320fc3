"""The console's progress page (a block per criterion, refreshing itself while scoring is
open, judges by their display names) and the audit log in words (the page and the XLSX
audit sheet), on the demo (issue 13 items 5 and 6)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from scoring import audit_words
from scoring.extensions import db
from scoring.models import AuditEvent, Criterion, Entry, Event, Mark, User
from scoring.operations.marks import chief_correct
from scoring.queries.marks import event_progress

from .test_counts import sign_in_as

SOURCE = Path(__file__).resolve().parent.parent / "scoring"
SHOTS = Path("/tmp/shots-progress")


def demo(runner: FlaskCliRunner) -> Event:
    assert runner.invoke(args=["demo"]).exit_code == 0
    return db.session.scalar(select(Event).where(Event.code == "WELD"))


def organiser(client: FlaskClient) -> str:
    return sign_in_as(client, "organiser", "demo-organiser")


def blocks(page: str) -> dict[str, str]:
    """The progress page's block of each criterion, by code."""
    found = re.findall(r'<section class="progress-criterion" data-criterion="([^"]+)".*?</section>',
                       page, re.S)
    parts = re.split(r'(?=<section class="progress-criterion")', page)[1:]
    return dict(zip(found, parts))


def visible_text(page: str) -> str:
    """The page's text as people read it (no tags, no attribute values)."""
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


def test_progress_has_a_block_per_criterion_agreeing_with_event_progress(
        client: FlaskClient, runner: FlaskCliRunner) -> None:
    event = demo(runner)
    organiser(client)
    page = client.get("/admin/events/WELD/progress").get_data(as_text=True)
    found = blocks(page)
    assert list(found) == [criterion.code for criterion in event.criteria]
    names = {user.username: user.display_name for user in db.session.scalars(select(User))}
    for item in event_progress(event):
        block = found[item.criterion.code]
        assert re.search(r'class="progress-count">(\d+) / (\d+)<', block).groups() == (
            str(item.done), str(item.expected))
        for judge, (done, expected) in item.judges.items():
            line = re.search(rf'<li class="progress-judge" data-judge="{judge}">.*?</li>\s*(?=<li class="progress-judge"|</ul>\s*</section>)',
                             block, re.S).group(0)
            assert names[judge] in line  # the display name
            assert f'<span class="judge-count">{done} / {expected}</span>' in line
            owed = re.findall(rf'<li class="code" data-judge="{judge}">([^<]+)</li>', line)
            assert owed == [code for code, by in item.missing if by == judge]
            if owed:
                assert "<details" in line and "<details open" not in line  # folded
    # The demo's page is short: a line per judge, not a line per missing mark.
    assert sum(len(item.missing) for item in event_progress(event)) > 50
    assert page.count("<tr") == 0


def test_progress_refreshes_while_scoring_and_stops_when_locked(
        client: FlaskClient, runner: FlaskCliRunner) -> None:
    event = demo(runner)
    token = organiser(client)
    assert event.state == "scoring"
    for url in ("/admin/events/WELD/progress", "/admin/events/WELD/progress/figures"):
        page = client.get(url).get_data(as_text=True)
        assert 'hx-get="/admin/events/WELD/progress/figures"' in page
        assert 'hx-trigger="every 10s"' in page and 'hx-swap="outerHTML"' in page
    partial = client.get("/admin/events/WELD/progress/figures").get_data(as_text=True)
    assert "<html" not in partial and partial.count('class="progress-criterion"') == len(
        event.criteria)

    from scoring.operations.events import change_state

    from .judging_helpers import settle_spreads
    settle_spreads(event)
    change_state(event, "lock", "organiser")
    db.session.commit()
    assert token
    for url in ("/admin/events/WELD/progress", "/admin/events/WELD/progress/figures"):
        page = client.get(url).get_data(as_text=True)
        assert "hx-trigger" not in page and "progress/figures" not in page
        assert 'class="progress-count"' in page


def test_judges_by_display_name_for_staff(client: FlaskClient, runner: FlaskCliRunner) -> None:
    demo(runner)
    organiser(client)
    assignments = client.get("/admin/events/WELD/judges").get_data(as_text=True)
    assert "张裁判" in assignments and "陈裁判" in assignments
    sign_in_as(client, "chief", "demo-chief")
    matrix = client.get("/chief/WELD").get_data(as_text=True)
    heads = re.findall(r'<th scope="col" class="judge" title="([^"]+)">([^<]+)</th>', matrix)
    accounts = set(db.session.scalars(select(User.username)))
    assert heads and all(shown != account for account, shown in heads if account in accounts)
    assert ("judge1", "张裁判") in heads


def correct_one(event: Event) -> tuple[Mark, str]:
    """The chief judge corrects one mark of the demo, with a reason."""
    chief = db.session.scalar(select(User).where(User.username == "chief"))
    criterion = db.session.scalar(select(Criterion).where(Criterion.event_id == event.id,
                                                          Criterion.code == "P2"))
    mark = db.session.scalar(select(Mark).where(Mark.criterion_id == criterion.id)
                             .order_by(Mark.id))
    reason = "复核：读数有误"
    typed = str(criterion.max_value - 1 if mark.value == criterion.max_value
                else criterion.max_value)
    assert chief_correct(chief, event, mark, typed, reason, mark.version).state == "saved"
    db.session.commit()
    return mark, reason


def test_the_audit_page_is_in_words(client: FlaskClient, runner: FlaskCliRunner) -> None:
    event = demo(runner)
    _mark, reason = correct_one(event)
    organiser(client)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"event.state", "draw", "codes.assign", "user.create", "mark.correct"} <= actions
    for language, changed in (("en", "State changed"), ("zh", "状态变更")):
        page = client.get(f"/admin/audit?lang={language}").get_data(as_text=True)
        assert changed in page
        text = visible_text(page)
        table = page[page.index('<table class="history"'):]
        assert '{"' not in table and "{&#34;" not in table and "{&quot;" not in table
        cells = re.findall(r'<td class="audit-action">([^<]*)</td>', page)
        assert cells and not set(cells) & actions
        for action in actions:
            if "." in action:
                assert action not in text, action
        assert text.count(reason) == 1  # the correction, once
        assert "刘裁判 (judge4)" in text  # the judge of the corrected mark, by name
    page = client.get("/admin/audit?event=WELD&action=event.state").get_data(as_text=True)
    assert "open scoring" in visible_text(page) or "开始评分" in visible_text(page)


def test_every_action_code_has_words() -> None:
    codes = set()
    for path in SOURCE.rglob("*.py"):
        codes.update(re.findall(r'audit\(\s*"([a-z_.]+)"', path.read_text(encoding="utf-8")))
    assert {"event.state", "mark.correct", "sheet.sign", "criterion.decode"} <= codes
    assert codes <= set(audit_words.ACTIONS), codes - set(audit_words.ACTIONS)


def test_xlsx_audit_sheet_in_words_with_the_code_last(client: FlaskClient,
                                                      runner: FlaskCliRunner) -> None:
    event = demo(runner)
    mark, reason = correct_one(event)
    organiser(client)
    data = client.get("/admin/events/WELD/export.xlsx?lang=en").data
    book = load_workbook(io.BytesIO(data))
    sheet = book["Audit log"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[-2:] == ["Action code", "Details (data)"]
    code_column = headers.index("Action code")
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    codes = {row[code_column] for row in rows}
    assert {"event.state", "mark.correct", "mark.demo"} <= codes
    for row in rows:
        people = [str(value) for value in row[:code_column] if value is not None]
        assert not any('{"' in value for value in people), row
        assert row[2] != row[code_column] and row[2] not in codes, row
    corrections = [row for row in rows if any(reason in str(value) for value in
                                              row[:code_column] if value is not None)]
    assert len(corrections) == 1  # a revision and a record: shown once, as the record
    (row,) = corrections
    assert row[code_column] == "mark.correct"
    assert row[3] == db.session.get(Entry, mark.entry_id).bib
    assert row[5] == "刘裁判 (judge4)"  # P2's judge, by display name
    marks = book["Judges’ marks"]
    header = [cell.value for cell in marks[1]]
    assert header[4:6] == ["Judge", "Account"]
    judges = {(row[4], row[5]) for row in marks.iter_rows(min_row=2, values_only=True)}
    assert ("张裁判", "judge1") in judges


@pytest.mark.browser
def test_progress_page_of_the_demo_fits_in_two_screens(
        browser, live_server: str, runner: FlaskCliRunner) -> None:  # type: ignore[no-untyped-def]
    demo(runner)
    for language in ("zh", "en"):
        context = browser.new_context(viewport={"width": 1366, "height": 768},
                                      locale="zh-CN" if language == "zh" else "en-GB")
        page = context.new_page()
        page.goto(live_server + "/login")
        page.fill("#username", "organiser")
        page.fill("#password", "demo-organiser")
        page.click("button[type=submit]")
        page.wait_for_url(live_server + "/admin")
        if language == "en":
            page.get_by_role("link", name="English").click()
        page.goto(live_server + "/admin/events/WELD/progress")
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 1600, height
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        # htmx refreshes the figures; an unfolded list stays unfolded.
        page.locator("details.owed summary").first.click()
        with page.expect_response(lambda r: "/progress/figures" in r.url, timeout=15000):
            pass
        page.wait_for_timeout(300)
        assert page.locator("details.owed[open]").count() == 1
        if SHOTS.is_dir():
            page.screenshot(path=str(SHOTS / f"test-progress-{language}.png"), full_page=True)
        context.close()
