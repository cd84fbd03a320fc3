"""Irreversible steps ask first (issue 13 item 3): open, lock, publish on the console, the
chief judge's lock, a redraw and a judge's sign-off need a tick; the lifecycle's and the
draw's forms carry what the page showed, so a second post of the same page (a double click)
is refused instead of taking the next step. Every refusal: 4xx, the problem beside the tick
(aria-invalid, aria-describedby), nothing written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import AuditEvent, Event, SignOff, User

from .judging_helpers import PASSWORD, Judged, save, set_up_event, sign_in, step
from .test_admin_forms import beside
from .test_cli import snapshot


@pytest.fixture
def judged(runner: FlaskCliRunner, tmp_path: Path) -> Judged:
    judged = set_up_event(runner, tmp_path)
    for username, name in (("judge1", "张裁判"), ("judge2", "李裁判")):
        db.session.scalar(select(User).where(User.username == username)).display_name = name
    db.session.commit()
    return judged


def state() -> str:
    db.session.expire_all()
    return db.session.scalar(select(Event.state).where(Event.code == "J"))


def state_changes() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "event.state")) or 0


def test_console_steps_need_the_tick(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "boss")
    before = snapshot()
    for fields in ({"action": "lock", "from_state": "scoring"},
                   {"action": "lock", "from_state": "scoring", "confirm": ""}):
        response = client.post("/admin/events/J/state", data={"csrf_token": token, **fields})
        assert response.status_code == 422
        beside(response.get_data(as_text=True), "confirm", "勾选", id="confirm-lock")
    assert snapshot() == before and state() == "scoring"
    # Without the state the page showed (no page's post): refused too.
    response = client.post("/admin/events/J/state", data={
        "csrf_token": token, "action": "lock", "confirm": "y"})
    assert response.status_code == 422 and snapshot() == before
    beside(response.get_data(as_text=True), "confirm", "页面", id="confirm-lock")


def test_a_second_post_of_the_same_page_is_refused(client: FlaskClient,
                                                   judged: Judged) -> None:
    token = sign_in(client, "boss")
    page = client.get("/admin/events/J").get_data(as_text=True)
    assert 'name="from_state" value="scoring"' in page and 'id="confirm-lock"' in page
    changes = state_changes()
    assert client.post("/admin/events/J/state", data={
        "csrf_token": token, **step("lock")}).status_code == 302
    assert state() == "locked" and state_changes() == changes + 1
    before = snapshot()
    # The same page posted again (a double click): not a second step, whatever it names.
    for action in ("lock", "publish"):
        response = client.post("/admin/events/J/state", data={
            "csrf_token": token, "action": action, "confirm": "y", "from_state": "scoring"})
        assert response.status_code == 409
        page = response.get_data(as_text=True)
        beside(page, "confirm", "已锁定", id="confirm-provisional")  # the tick shown now
    assert snapshot() == before and state() == "locked"
    # English too.
    client.get("/lang/en")
    response = client.post("/admin/events/J/state", data={
        "csrf_token": token, **step("lock")})
    assert response.status_code == 409
    assert "moved on to “locked” meanwhile" in response.get_data(as_text=True)


def test_the_chief_lock_needs_the_tick_and_refuses_a_replay(client: FlaskClient,
                                                             judged: Judged) -> None:
    token = sign_in(client, "chief")
    before = snapshot()
    response = client.post("/chief/J/lock", data={"csrf_token": token,
                                                  "from_state": "scoring"})
    assert response.status_code == 422
    beside(response.get_data(as_text=True), "confirm", "勾选", id="confirm-lock")
    assert snapshot() == before and state() == "scoring"
    fields = {"csrf_token": token, "from_state": "scoring", "confirm": "y"}
    changes = state_changes()
    assert client.post("/chief/J/lock", data=fields).status_code == 303
    assert state() == "locked" and state_changes() == changes + 1
    before = snapshot()
    replay = client.post("/chief/J/lock", data=fields)
    assert replay.status_code == 409 and "已锁定" in replay.get_data(as_text=True)
    assert snapshot() == before


def unsigned_line(page: str) -> str:
    found = re.search(r'<div class="lock-summary">(.*?)</div>', page, re.S)
    assert found, "no lock summary"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1)))


def test_lock_lists_the_unsigned_sheets_by_judge_name(client: FlaskClient,
                                                      judged: Judged) -> None:
    token = sign_in(client, "judge1")
    for entry in judged.entries:
        save(client, token, entry, "30", request_token=f"t{entry.id}")
    assert client.post("/judge/J/V/sign", data={"csrf_token": token, "confirm": "y"}
                       ).status_code == 200
    client.post("/logout", data={"csrf_token": token})
    token = sign_in(client, "boss")
    for url in ("/admin/events/J", "/chief/J"):
        summary = unsigned_line(client.get(url).get_data(as_text=True))
        # Three sheets: V by judge1 (signed), V and R by judge2 (not).
        assert "3 份评分表中有 2 份未签字" in summary, summary
        assert "V 李裁判" in summary and "R 李裁判" in summary and "张裁判" not in summary
        assert "V 5" in summary and "R 5" in summary  # judge2's marks, none given


def test_sign_off_needs_the_tick(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    for entry in judged.entries:
        save(client, token, entry, "30", request_token=f"t{entry.id}")
    before = snapshot()
    response = client.post("/judge/J/V/sign", data={"csrf_token": token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    beside(page, "confirm", "勾选", id="confirm-sign")
    assert "只有裁判长" in page  # the tick says what signing means
    assert snapshot() == before and not db.session.scalar(select(func.count(SignOff.id)))
    assert client.post("/judge/J/V/sign", data={"csrf_token": token, "confirm": "y"}
                       ).status_code == 200
    assert db.session.scalar(select(func.count(SignOff.id))) == 1


def test_a_redraw_needs_the_tick_and_a_replay_is_refused(client: FlaskClient,
                                                         judged: Judged) -> None:
    event = db.session.scalar(select(Event).where(Event.code == "J"))
    event.state = "drawn"
    db.session.commit()
    token = sign_in(client, "boss")
    page = client.get("/admin/events/J/draw").get_data(as_text=True)
    drawn = re.search(r'name="drawn" value="(\d+)"', page).group(1)
    assert drawn != "0" and 'id="confirm-redraw"' in page
    before = snapshot()
    response = client.post("/admin/events/J/draw", data={"csrf_token": token, "seed": "5",
                                                         "drawn": drawn})
    assert response.status_code == 422
    beside(response.get_data(as_text=True), "confirm", "加密号", id="confirm-redraw")
    assert snapshot() == before
    fields = {"csrf_token": token, "seed": "5", "drawn": drawn, "confirm": "y"}
    assert client.post("/admin/events/J/draw", data=fields).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Event.draw_seed).where(Event.code == "J")) == 5
    before = snapshot()
    replay = client.post("/admin/events/J/draw", data={**fields, "seed": "6"})
    assert replay.status_code == 409 and snapshot() == before
    beside(replay.get_data(as_text=True), "confirm", "重新抽签", id="confirm-redraw")
    db.session.expire_all()
    assert db.session.scalar(select(Event.draw_seed).where(Event.code == "J")) == 5


# --- in the browser ---------------------------------------------------------------------------

SHOTS = os.environ.get("SCORING_SHOTS_CONFIRM")  # a folder: keep screenshots of these pages


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def browser_sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.browser
def test_a_double_click_on_the_console_s_lock_locks_once(
        browser, live_server: str, judged: Judged) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    browser_sign_in(page, live_server, "boss")
    page.goto(live_server + "/admin/events/J")
    assert "3 份评分表中有 3 份未签字" in page.locator(".lock-summary").inner_text()
    shot(page, "console-event-lock-zh")
    changes = state_changes()
    # Without the tick the browser itself asks for it (required): nothing is posted.
    page.get_by_role("button", name="锁定评分").click()
    assert state() == "scoring" and state_changes() == changes
    page.check("#confirm-lock")
    page.get_by_role("button", name="锁定评分").dblclick()
    page.wait_for_load_state()
    page.wait_for_timeout(500)
    assert state() == "locked" and state_changes() == changes + 1
    page.goto(live_server + "/admin/events/J")
    assert page.locator("#confirm-provisional").count() == 1  # the next step asks again
    assert not page.locator("#confirm-provisional").is_checked()
    shot(page, "console-event-publish-zh")
    context.close()


def test_the_board_menu_does_not_publish(client, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Publishing is the lifecycle's step with its tick; the public board's menu offers
    "published" only once the event is, and a forged post of it is refused."""
    from scoring.extensions import db
    from scoring.models import Event
    from sqlalchemy import select

    from .judging_helpers import set_up_event, sign_in

    set_up_event(runner, tmp_path)
    token = sign_in(client, "boss")
    page = client.get("/admin/events/J").get_data(as_text=True)
    assert 'value="published"' not in page
    event = db.session.scalar(select(Event).where(Event.code == "J"))
    event.state = "locked"
    db.session.commit()
    refused = client.post("/admin/events/J/visibility",
                          data={"csrf_token": token, "visibility": "published"})
    assert refused.status_code == 302 and "problem=" in refused.headers["Location"]
    db.session.expire_all()
    assert db.session.scalar(select(Event.state).where(Event.code == "J")) == "locked"
