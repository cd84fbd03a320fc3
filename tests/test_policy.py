"""One policy decides who may change what, and when: the holes it closed, each tried the way
a judge, an organiser or an attacker found it (HTTP, the command line, real parallel
requests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import func, select

from scoring import policy
from scoring.extensions import db
from scoring.models import AuditEvent, Certificate, Entry, Event, Mark, MarkRevision, User
from scoring.queries.results import event_results

from .test_decode import open_criteria
from .judging_helpers import (
    PASSWORD, Judged, csrf_token, marks_of, publish_steps, save, set_up_event, sign_in, step,
)
from .test_cli import EXAMPLE_B, run


@pytest.fixture
def judged(runner: FlaskCliRunner, tmp_path: Path) -> Judged:
    return set_up_event(runner, tmp_path)


def fresh(event: Event) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event.id)  # type: ignore[return-value]


def sign_out(client: FlaskClient, token: str) -> None:
    client.post("/logout", data={"csrf_token": token})


# --- the state table ----------------------------------------------------------------------

def test_every_action_names_real_states_and_roles() -> None:
    for action, (states, who) in policy.ACTIONS.items():
        assert states <= set(policy.STATES), action
        assert who <= {"organiser", "chief", "judge", "arbiter"}, action
    # Marks are entered only in scoring; after the lock only the chief's correction.
    changes_results = ("register", "change_entry", "assign", "import_scores", "mark", "draw")
    for action in changes_results:
        assert not policy.ACTIONS[action][0] & policy.CLOSED, action
    assert policy.ACTIONS["mark"][0] == {"scoring"}
    assert policy.ACTIONS["correct"][0] == {"scoring", "locked"}


def test_one_way_to_lock_whoever_locks(client: FlaskClient, runner: FlaskCliRunner,
                                       judged: Judged) -> None:
    token = sign_in(client, "chief")
    assert client.post("/chief/J/lock", data={"csrf_token": token, "confirm": "y", "from_state": "scoring"}).status_code == 303
    sign_out(client, token)
    token = sign_in(client, "boss")
    client.post("/admin/events/J/state", data={"csrf_token": token, "action": "reopen",
                                                 "reason": "复核"})
    client.post("/admin/events/J/state", data={"csrf_token": token, **step("lock")})
    records = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("event.state", "event.lock"))).order_by(AuditEvent.id)).all()
    assert [(r.action, r.actor, r.details["step"], r.details["new"]) for r in records
            if r.details["step"] in ("lock", "reopen")] == [
        ("event.state", "chief", "lock", "locked"), ("event.state", "boss", "reopen", "scoring"),
        ("event.state", "boss", "lock", "locked")]
    assert fresh(judged.event).state == "locked"


def test_every_change_of_state_is_one_record_of_one_kind(
        client: FlaskClient, runner: FlaskCliRunner, judged: Judged) -> None:
    """The state moves only through operations.move_state: the records chain without a gap,
    from setup to the state the event is in, each naming its step."""
    token = sign_in(client, "boss")
    publish_steps(client, token, "J")
    client.post("/admin/events/J/state", data={"csrf_token": token, "action": "reopen",
                                                 "reason": "复核"})
    records = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "event.state").order_by(AuditEvent.id)).all()
    chain = [(r.details["step"], r.details["old"], r.details["new"]) for r in records]
    assert chain[:2] == [("register", "setup", "registration"), ("draw", "registration", "drawn")]
    # (the fixture opened scoring behind the operations' back: drawn -> scoring unrecorded)
    assert chain[2:] == [("lock", "scoring", "locked"), ("provisional", "locked", "provisional"),
                         ("publish", "provisional", "published"),
                         ("reopen", "published", "scoring")]
    assert fresh(judged.event).state == "scoring"


# --- the number of judges per contestant ----------------------------------------------------

def test_a_judge_beyond_the_schemes_number_cannot_add_a_mark(
        client: FlaskClient, runner: FlaskCliRunner, judged: Judged) -> None:
    """R takes one mark per contestant; a second judge assigned to it used to save a 0 and
    halve the contestant's mark (16.00 -> 8.00). The file import refused it; now the web does."""
    run(runner, "judge", "assign", "J", "judge1", "R")
    entry = judged.entries[0]
    token = sign_in(client, "judge2")
    assert "state-saved" in save(client, token, entry, "16", criterion="R").get_data(
        as_text=True)
    sign_out(client, token)
    token = sign_in(client, "judge1")
    page = save(client, token, entry, "0", criterion="R").get_data(as_text=True)
    assert "state-refused" in page and "已有规定的全部分数（1 个）" in page
    assert marks_of(entry, "R") == {"judge2": "16"}
    # judge1 owes nothing on R for that contestant: their count and the sheet agree.
    done, expected = map(int, client.get("/judge/J/R/progress").get_data(
        as_text=True).split(" / "))
    assert done == 0 and expected == len(judged.entries) - 1
    # The file import refuses the same.
    marks = Path(runner.app.instance_path) / "second.csv"
    marks.write_text(f"bib,criterion,judge,score\n{entry.bib},R,judge1,0\n", encoding="utf-8")
    assert "takes 1 marks per contestant" in run(runner, "scores", "import", "J", marks,
                                                  ok=False)


# --- nothing that changes results changes after the lock -------------------------------------

def test_after_the_lock_nothing_that_changes_results_changes(
        client: FlaskClient, runner: FlaskCliRunner, judged: Judged, tmp_path: Path) -> None:
    token = sign_in(client, "judge2")
    for entry in judged.entries:
        save(client, token, entry, "20", criterion="R")
    sign_out(client, token)
    token = sign_in(client, "boss")
    client.post("/admin/events/J/state", data={"csrf_token": token, **step("lock")})
    assert fresh(judged.event).state == "locked"
    entry = judged.entries[0]
    person = entry.contestant
    before = (entry.delegation, entry.status, entry.time_used)
    base = {"csrf_token": token, "name": person.name, "gender": "", "id_number": "",
            "unit": "", "phone": "", "status": "ok", "status_reason": "", "time": ""}
    response = client.post(f"/admin/events/J/entries/{entry.id}",
                           data=base | {"delegation": "别的代表队"})
    assert response.status_code == 422 and "已锁定" in response.get_data(as_text=True)
    response = client.post(f"/admin/events/J/entries/{entry.id}",
                           data=base | {"delegation": entry.delegation or "",
                                        "status": "dq", "status_reason": "x"})
    assert response.status_code == 422
    db.session.expire_all()
    entry = db.session.get(Entry, entry.id)
    assert (entry.delegation, entry.status, entry.time_used) == before
    # A name is not a result: it may still be corrected (for the certificates).
    response = client.post(f"/admin/events/J/entries/{entry.id}",
                           data=base | {"delegation": entry.delegation or "",
                                        "name": "王强强"})
    assert response.status_code == 302
    # The command line and the files are held to the same table.
    moved = tmp_path / "moved.csv"
    moved.write_text(f"参赛号,姓名,代表队\n{entry.bib},王强强,别的代表队\n", encoding="utf-8")
    assert "locked" in run(runner, "contestants", "import", "J", moved, ok=False)
    new = tmp_path / "new.csv"
    new.write_text("参赛号,姓名\n99,新人\n", encoding="utf-8")
    assert "before scoring opens" in run(runner, "contestants", "import", "J", new, ok=False)
    status = tmp_path / "status.csv"
    status.write_text(f"bib,status\n{entry.bib},dq\n", encoding="utf-8")
    assert "locked" in run(runner, "entries", "update", "J", status, ok=False)
    assert "locked" in run(runner, "judge", "assign", "J", "judge1", "R", ok=False)
    db.session.expire_all()
    assert db.session.get(Entry, entry.id).delegation == before[0]


def test_a_published_delegation_does_not_move_the_team_ranking(
        client: FlaskClient, runner: FlaskCliRunner, judged: Judged) -> None:
    token = sign_in(client, "boss")
    publish_steps(client, token, "J")
    assert fresh(judged.event).state == "published"
    teams = client.get("/api/events/J/teams").json["teams"]
    entry = judged.entries[0]
    response = client.post(f"/admin/events/J/entries/{entry.id}", data={
        "csrf_token": token, "name": entry.contestant.name, "gender": "", "id_number": "",
        "unit": "", "phone": "", "status": "ok", "status_reason": "", "time": "",
        "delegation": "新代表队"})
    assert response.status_code == 422
    assert client.get("/api/events/J/teams").json["teams"] == teams


# --- roles per event ---------------------------------------------------------------------------

def test_a_chief_of_one_event_is_nobody_in_another(
        client: FlaskClient, runner: FlaskCliRunner, judged: Judged) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")
    mark = db.session.scalar(select(Mark).join(Entry).join(Event).where(Event.code == "EX-B"))
    token = sign_in(client, "chief")
    assert client.get("/chief/J").status_code == 200
    for url in ("/chief/EX-B", "/chief/EX-B/history", "/admin/events/EX-B",
                "/admin/events/EX-B/progress", "/admin/events/EX-B/export.csv"):
        assert client.get(url).status_code == 403, url
    response = client.post(f"/chief/EX-B/marks/{mark.id}", data={
        "value": "1", "reason": "x", "version": mark.version},
        headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 403
    assert client.post("/chief/EX-B/lock", data={"csrf_token": token, "confirm": "y", "from_state": "scoring"}).status_code == 403
    assert "EX-B" not in client.get("/chief").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Mark, mark.id).version == mark.version


def test_an_organiser_cannot_make_a_chief_once_scoring_is_open(
        client: FlaskClient, runner: FlaskCliRunner, judged: Judged) -> None:
    """An organiser made a chief account mid-event and corrected marks with it: a chief is
    appointed before scoring opens (recorded), never after."""
    token = sign_in(client, "judge1")
    save(client, token, judged.entries[0], "30")
    sign_out(client, token)
    token = sign_in(client, "boss")
    client.post("/admin/judges", data={"csrf_token": token, "username": "mole",
                                      "role": "chief", "password": PASSWORD,
                                      "display_name": "", "delegation": ""})
    response = client.post("/admin/events/J/chief", data={"csrf_token": token,
                                                          "chief": "mole"})
    assert response.status_code == 302
    assert "评分开始前" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert "before scoring opens" in run(runner, "event", "chief", "J", "mole", ok=False)
    sign_out(client, token)
    token = sign_in(client, "mole")
    mark = db.session.scalar(select(Mark))
    response = client.post(f"/chief/J/marks/{mark.id}", data={
        "value": "1", "reason": "x", "version": mark.version},
        headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 403
    assert marks_of(judged.entries[0]) == {"judge1": "30"}


# --- sessions and accounts -------------------------------------------------------------------

def test_a_cookie_copied_before_logout_opens_nothing(client: FlaskClient,
                                                    judged: Judged) -> None:
    token = sign_in(client, "judge1")
    copied = client.get_cookie("session").value
    sign_out(client, token)
    thief = client.application.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/judge").status_code == 302  # back to sign-in
    assert thief.get("/judge", headers={"HX-Request": "true"}).status_code == 401


def test_disable_and_reset_end_every_session(client: FlaskClient, runner: FlaskCliRunner,
                                             judged: Judged) -> None:
    judge = client.application.test_client()
    sign_in(judge, "judge1")
    assert judge.get("/judge").status_code == 200
    token = sign_in(client, "boss")
    judge1 = db.session.scalar(select(User).where(User.username == "judge1"))
    client.post(f"/admin/judges/{judge1.id}/active", data={"csrf_token": token, "active": "0"})
    assert judge.get("/judge").status_code == 302
    login = csrf_token(judge)
    refused = judge.post("/login", data={"username": "judge1", "password": PASSWORD,
                                         "csrf_token": login})
    assert refused.status_code == 401 and "此账号已停用" in refused.get_data(as_text=True)
    client.post(f"/admin/judges/{judge1.id}/active", data={"csrf_token": token, "active": "1"})
    sign_in(judge, "judge1")
    assert judge.get("/judge").status_code == 200
    # A reset from the console shows the new password once and ends the session.
    page = client.post(f"/admin/judges/{judge1.id}/reset", data={"csrf_token": token})
    new_password = re.search(r"judge1[^：:]*[：:]\s*([a-z0-9-]{14})", page.get_data(
        as_text=True)).group(1)
    assert judge.get("/judge").status_code == 302
    sign_in(judge, "judge1", new_password)
    assert judge.get("/judge").status_code == 200
    # ... and from the command line.
    output = run(runner, "user", "reset", "judge1", "--password", "another-secret")
    assert "sessions have ended" in output
    assert judge.get("/judge").status_code == 302
    sign_in(judge, "judge1", "another-secret")
    run(runner, "user", "disable", "judge1")
    assert judge.get("/judge").status_code == 302
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action.in_(("user.disable", "user.enable", "user.reset")))) == 5


def test_a_session_from_a_qr_link_ends_with_the_revoke(client: FlaskClient,
                                                       runner: FlaskCliRunner,
                                                       judged: Judged) -> None:
    url = run(runner, "user", "link", "judge1").strip().splitlines()[-1]
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/" + path, data={"csrf_token": token}).status_code == 302
    assert client.get("/judge").status_code == 200
    run(runner, "user", "link", "judge1", "--revoke")
    assert client.get("/judge").status_code == 302
    # A session signed in with the password is not the link's: it goes on.
    other = client.application.test_client()
    sign_in(other, "judge1")
    run(runner, "user", "link", "judge1", "--revoke")
    assert other.get("/judge").status_code == 200


# --- certificates -------------------------------------------------------------------------------

def test_verify_follows_the_published_award_without_a_reprint(
        client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path) -> None:
    scheme = (EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8")
    scheme += '\n[[awards]]\nname = "一等奖"\ncount = 1\n'
    (tmp_path / "scheme.toml").write_text(scheme, encoding="utf-8")
    run(runner, "event", "import", tmp_path / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    token = sign_in(client, "boss")
    publish_steps(client, token, "EX-B")
    run(runner, "certificates", "EX-B", "-o", tmp_path / "c.pdf")
    certificate = db.session.scalar(select(Certificate))
    winner = certificate.entry.bib
    assert client.get(f"/verify/{certificate.token}").status_code == 200
    # Reopened: at once no longer valid, though nobody printed anything.
    client.post("/admin/events/EX-B/state", data={"csrf_token": token, "action": "reopen",
                                                    "reason": "复核"})
    page = client.get(f"/verify/{certificate.token}")
    assert page.status_code == 404 and "复核" in page.get_data(as_text=True)
    # A correction gives first prize to another contestant; republished.
    others = [row for row in event_results(db.session.scalar(select(Event))).standings.results
              if row.bib != winner]
    fix = tmp_path / "fix.csv"
    fix.write_text(f"bib,criterion,judge,score\n{others[0].bib},P,e,100\n", encoding="utf-8")
    run(runner, "scores", "import", "EX-B", fix)
    publish_steps(client, token, "EX-B")
    page = client.get(f"/verify/{certificate.token}")
    assert page.status_code == 404 and "撤销" in page.get_data(as_text=True)
    assert db.session.scalar(select(Certificate.revoked_at)) is None  # no reprint happened


# --- save tokens -----------------------------------------------------------------------------------

def test_a_save_token_counts_only_for_its_judge_entry_and_criterion(
        client: FlaskClient, judged: Judged) -> None:
    first, second = judged.entries[0], judged.entries[1]
    token = sign_in(client, "judge1")
    assert "state-saved" in save(client, token, first, "30", request_token="tok").get_data(
        as_text=True)
    # The same token on another row: not taken for a retry (it would show ✓ unsaved).
    page = save(client, token, second, "25", request_token="tok").get_data(as_text=True)
    assert "state-saved" not in page and "请刷新页面" in page
    sign_out(client, token)
    token = sign_in(client, "judge2")
    page = save(client, token, first, "12", request_token="tok").get_data(as_text=True)
    assert "state-saved" not in page
    assert marks_of(first) == {"judge1": "30"} and marks_of(second) == {}
    assert db.session.scalar(select(func.count(MarkRevision.id))) == 1


# --- the public API shares the boards' cache ---------------------------------------------------

def test_the_api_answers_304_until_the_results_change(
        client: FlaskClient, judged: Judged, runner: FlaskCliRunner, tmp_path: Path) -> None:
    open_criteria(runner, tmp_path, "R")  # a blind mark moves nothing public: test_decode.py
    judged.event.visibility = "live"
    db.session.commit()
    for key in ("results", "teams"):
        first = client.get(f"/api/events/J/{key}")
        assert first.status_code == 200 and first.headers["ETag"]
        again = client.get(f"/api/events/J/{key}",
                           headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and not again.data
    etag = client.get("/api/events/J/results").headers["ETag"]
    token = sign_in(client, "judge2")
    save(client, token, judged.entries[0], "20", criterion="R")
    changed = client.get("/api/events/J/results", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert client.get("/api/events/NOPE/results").status_code == 404


# --- a previewed upload imports into its event, once, soon -----------------------------------

def test_a_preview_imports_into_its_own_event_once(
        client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import time

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from scoring.web.admin import contestants as console_contestants

    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    other = (EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8").replace(
        'code = "EX-B"', 'code = "EX-C"', 1)
    (tmp_path / "other.toml").write_text(other, encoding="utf-8")
    run(runner, "event", "import", tmp_path / "other.toml")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    token = sign_in(client, "boss")

    def preview(code: str) -> str:
        sheet = io.BytesIO("参赛号,姓名\n01,张三\n02,李四\n".encode())
        page = client.post(f"/admin/events/{code}/contestants/preview", data={
            "csrf_token": token, "file": (sheet, "people.csv")},
            content_type="multipart/form-data").get_data(as_text=True)
        found = re.search(r'name="payload" value="([^"]+)"', page)
        assert found, page[-1500:]
        return found.group(1)

    def entries(code: str) -> int:
        db.session.expire_all()
        return db.session.scalar(select(func.count(Entry.id)).join(Event).where(
            Event.code == code)) or 0

    payload = preview("EX-B")
    elsewhere = client.post("/admin/events/EX-C/contestants/import",
                            data={"csrf_token": token, "payload": payload})
    assert elsewhere.status_code == 409 and "其他赛项" in elsewhere.get_data(as_text=True)
    assert entries("EX-C") == 0
    first = client.post("/admin/events/EX-B/contestants/import",
                        data={"csrf_token": token, "payload": payload})
    assert first.status_code == 302 and entries("EX-B") == 2
    again = client.post("/admin/events/EX-B/contestants/import",
                        data={"csrf_token": token, "payload": payload})
    assert again.status_code == 409 and "已导入过" in again.get_data(as_text=True)
    # A preview left three hours on a desk is stale: upload again.
    class ThreeHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 3600

    secret = client.application.secret_key
    monkeypatch.setattr(console_contestants, "signer", lambda: URLSafeTimedSerializer(
        secret, salt="contestants-upload", signer=ThreeHoursAgo))
    stale = preview("EX-C")
    monkeypatch.undo()
    late = client.post("/admin/events/EX-C/contestants/import",
                       data={"csrf_token": token, "payload": stale})
    assert late.status_code == 400 and entries("EX-C") == 0


# --- found by an attacker's review ------------------------------------------------------------

def test_only_judges_get_sign_in_links(client: FlaskClient, runner: FlaskCliRunner,
                                       judged: Judged) -> None:
    """A QR card opens a judge's sheet, never a chief's or an organiser's powers (a chief
    printing cards could sign in as anyone; an organiser could make a chief mid-event)."""
    for name in ("chief", "boss"):
        assert "judges' accounts only" in run(runner, "user", "link", name, ok=False)
    assert "judge1" in run(runner, "user", "link", "judge1")
    # A password reset or a disable revokes the links too (re-enabling revives none).
    url = run(runner, "user", "link", "judge1").strip().splitlines()[-1]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    run(runner, "user", "reset", "judge1", "--password", "another-secret")
    assert client.get(path).status_code == 404
    url = run(runner, "user", "link", "judge1").strip().splitlines()[-1]
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    run(runner, "user", "disable", "judge1")
    run(runner, "user", "enable", "judge1")
    assert client.get(path).status_code == 404


def test_reasons_hold_no_hidden_characters(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "boss")
    for action in ("lock",):
        client.post("/admin/events/J/state", data={"csrf_token": token, **step(action)})
    for reason in ("\u200b", "\u202eevil", "x\x1b[31m", "A" * 2001):
        client.post("/admin/events/J/state", data={"csrf_token": token, "action": "reopen",
                                                     "reason": reason})
        assert fresh(judged.event).state == "locked", repr(reason[:10])
    client.post("/admin/events/J/state", data={"csrf_token": token, "action": "reopen",
                                                 "reason": "复核\n第二行"})
    assert fresh(judged.event).state == "scoring"
    entry = judged.entries[0]
    data = {"csrf_token": token, "name": entry.contestant.name, "gender": "", "id_number": "",
            "unit": "", "phone": "", "status": "dq", "time": "",
            "delegation": entry.delegation or ""}
    for reason in ("\u202e作弊", "作弊\u200b"):
        response = client.post(f"/admin/events/J/entries/{entry.id}",
                               data=data | {"status_reason": reason})
        assert response.status_code == 422
    assert client.post(f"/admin/events/J/entries/{entry.id}",
                       data=data | {"status_reason": "作弊"}).status_code == 302
    client.post("/admin/events/J/state", data={"csrf_token": token, **step("lock")})
    # Locked: a disqualification's reason is part of the result; it waits for a reopen.
    response = client.post(f"/admin/events/J/entries/{entry.id}",
                           data=data | {"status_reason": "别的理由"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Entry, entry.id).status_reason == "作弊"


def test_a_token_is_a_retry_only_of_the_same_value(client: FlaskClient,
                                                   judged: Judged) -> None:
    entry = judged.entries[0]
    token = sign_in(client, "judge1")
    assert "state-saved" in save(client, token, entry, "30", request_token="tokA").get_data(
        as_text=True)
    assert "state-saved" in save(client, token, entry, "30.0", request_token="tokA").get_data(
        as_text=True)  # the same save again
    page = save(client, token, entry, "31", version="1", request_token="tokA").get_data(
        as_text=True)
    assert "state-saved" not in page and "请刷新页面" in page
    page = save(client, token, entry, "31", version="1", request_token="x" * 65).get_data(
        as_text=True)
    assert "state-saved" not in page
    assert marks_of(entry) == {"judge1": "30"}


def test_account_names_that_look_alike_are_refused(runner: FlaskCliRunner,
                                                   judged: Judged) -> None:
    for name in ("Judge1", "JUDGE1", "ｊｕｄｇｅ９", "judge9\u0301"):
        output = run(runner, "user", "create", name, "--role", "judge", ok=False)
        assert "already exists" in output or "without spaces" in output, name
    assert "200" in run(runner, "user", "create", "judge9", "--role", "judge", "--password",
                        "p" * 201, ok=False)
    assert db.session.scalar(select(func.count(User.id)).where(
        User.username.like("%9%"))) == 0


def test_signing_in_starts_a_new_cookie_session(client: FlaskClient, judged: Judged) -> None:
    csrf_token(client)
    with client.session_transaction("/login") as cookie:  # ("/" is public: no session read)
        before = cookie["csrf_token"]
    sign_in(client, "judge1")
    with client.session_transaction("/login") as cookie:
        assert cookie["csrf_token"] != before


def test_a_scheme_has_at_most_sixty_criteria(runner: FlaskCliRunner, tmp_path: Path) -> None:
    rows = "".join(f'[[criteria]]\ncode = "C{n}"\nname = "项{n}"\nmax = 10\n'
                   for n in range(61))
    (tmp_path / "big.toml").write_text(f'code = "BIG"\nname = "大"\n{rows}', encoding="utf-8")
    assert "at most 60" in run(runner, "event", "import", tmp_path / "big.toml", ok=False)
    assert db.session.scalar(select(func.count(Event.id))) == 0
    rows = "".join(f'[[criteria]]\ncode = "C{n}"\nname = "项{n}"\nmax = 10\n'
                   for n in range(60))
    (tmp_path / "big.toml").write_text(f'code = "BIG"\nname = "大"\n{rows}', encoding="utf-8")
    run(runner, "event", "import", tmp_path / "big.toml")
