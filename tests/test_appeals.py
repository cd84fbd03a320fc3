"""Provisional publication, appeals, re-checks and arbitration (issue 15), over HTTP: lock ->
provisional -> an appeal received -> a late appeal refused -> the final publication refused
-> the chief judge re-checks one mark -> the arbiters' final ruling -> publish. The new award
follows on the board, the exports and the certificates; the audit log and the appeal's file
hold every step; only arbiters rule, only the event's chief judge re-marks, judges never see
an appeal."""

from __future__ import annotations

import io
from decimal import Decimal
import json
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import (
    Appeal, AuditEvent, Certificate, Criterion, Entry, Event, Mark, MarkRevision, User,
)

from .judging_helpers import PASSWORD, SCHEME, close_window, set_up_event, sign_in, step
from .test_cli import run

AWARDED = SCHEME + '\n[[awards]]\nname = "一等奖"\ncount = 1\n'
# bib -> (judge1's V, judge2's V, judge2's R): 03 wins by one point over 07.
MARKS = {"03": ("35", "35", "28"), "07": ("34", "34", "28"), "12": ("30", "30", "25"),
         "15": ("20", "20", "20"), "18": ("25", "25", "22")}


def set_up(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Event J with an award for one winner, every mark in; judge2 is of 07's delegation
    (大连代表队: the conflict check flags it); arbiter `arb` of J, `other` of another event."""
    set_up_event(runner, tmp_path, AWARDED)
    scores = tmp_path / "scores.csv"
    scores.write_text("bib,criterion,judge,score\n" + "".join(
        f"{bib},V,judge1,{v1}\n{bib},V,judge2,{v2}\n{bib},R,judge2,{r}\n"
        for bib, (v1, v2, r) in MARKS.items()), encoding="utf-8")
    run(runner, "scores", "import", "J", scores)
    other = tmp_path / "other.toml"
    other.write_text(SCHEME.replace('code = "J"', 'code = "K"'), encoding="utf-8")
    run(runner, "event", "import", other)
    run(runner, "user", "create", "arb", "--role", "arbiter", "--password", PASSWORD,
        "--event", "J", "--display-name", "仲裁员甲")
    run(runner, "user", "create", "other", "--role", "arbiter", "--password", PASSWORD,
        "--event", "K")
    db.session.scalar(select(User).where(User.username == "judge2")).delegation = "大连代表队"
    db.session.scalar(select(User).where(User.username == "judge1")).display_name = "张裁判"
    db.session.commit()


def event() -> Event:
    db.session.expire_all()
    return db.session.scalar(select(Event).where(Event.code == "J"))


def mark(bib: str, criterion: str, judge: str) -> Mark:
    db.session.expire_all()
    return db.session.scalar(select(Mark).join(Entry).join(Criterion).where(
        Entry.bib == bib, Criterion.code == criterion, Mark.judge == judge))


def actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def appeal_post(client: FlaskClient, token: str, bib: str, criteria: list[str], text: str):  # type: ignore[no-untyped-def]
    return client.post("/appeals/J", data={"csrf_token": token, "bib": bib,
                                           "criteria": criteria, "text": text,
                                           "delegation": ""})


def winner(client: FlaskClient) -> str:
    """The bib holding 一等奖 in the public API (a fresh request: no cache in between)."""
    data = client.get("/api/events/J/results").get_json()
    return next(row["bib"] for row in data["results"] if row["award"] == "一等奖")


def test_the_whole_walk(runner: FlaskCliRunner, client: FlaskClient, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    set_up(runner, tmp_path)
    boss = sign_in(client, "boss")
    # Publishing finally straight from locked is refused: provisionally first.
    assert client.post("/admin/events/J/state", data={"csrf_token": boss, **step("lock")}
                       ).status_code == 302
    refused = client.post("/admin/events/J/state", data={
        "csrf_token": boss, "action": "publish", "confirm": "y", "from_state": "locked"})
    assert refused.status_code == 409 and event().state == "locked"
    # Provisional: every blind criterion decoded, the board live with awards marked provisional.
    assert client.post("/admin/events/J/state", data={"csrf_token": boss, **step("provisional")}
                       ).status_code == 302
    current = event()
    assert current.state == "provisional" and current.visibility == "live"
    assert current.provisional_at is not None and all(c.public for c in current.criteria)
    ends = current.appeal_window_ends_at
    assert (ends - current.provisional_at).total_seconds() == 2 * 3600
    api = client.get("/api/events/J/results").get_json()
    assert api["event"]["state"] == "provisional" and api["event"]["provisional"] is True
    assert api["event"]["appeal_window_ends_at"] == ends.isoformat(timespec="seconds")
    assert api["event"]["visibility"] == "live"  # the old keys stay
    assert winner(client) == "03"
    board = client.get("/e/J?lang=en").get_data(as_text=True)
    assert "Provisional results" in board and "Award (provisional)" in board
    # The console shows the window and its time left.
    console = client.get("/admin/events/J").get_data(as_text=True)
    assert "1 h 59 min" in console or "2 h 00 min" in console or "1 小时 59 分" in console

    # Certificates printed during the window: 03's. Not valid until published.
    assert client.get("/admin/events/J/certificates.pdf").status_code == 200
    old = db.session.scalar(select(Certificate).where(Certificate.revoked_at.is_(None)))
    assert old.entry.bib == "03"
    assert "not valid now" in client.get(f"/verify/{old.token}?lang=en").get_data(as_text=True)

    # The appeal is received; the final publication is refused (window open, appeal open).
    response = appeal_post(client, boss, "07", ["V"], "外观检验评分偏低，请求复核。")
    assert response.status_code == 303
    appeal = db.session.scalar(select(Appeal))
    assert appeal.status == "received" and appeal.criteria == ["V"]
    assert appeal.delegation == "大连代表队" and appeal.received_by == "boss"
    assert appeal.before["marks"]["V"] == {"judge1": "34", "judge2": "34"}
    assert appeal.before["result"]["rank"] == "2"
    refused = client.post("/admin/events/J/state", data={"csrf_token": boss, **step("publish")})
    assert refused.status_code == 409 and event().state == "provisional"
    page = refused.get_data(as_text=True)
    assert f"#{appeal.id}" in page and ("appeal window is open" in page or "申诉期" in page)

    # The arbiter sees everything: judges by name and account, the blind code, the conflict.
    arbiter = FlaskClient(app, use_cookies=True)
    arb = sign_in(arbiter, "arb")
    page = arbiter.get(f"/appeals/J/{appeal.id}?lang=en").get_data(as_text=True)
    entry = appeal.entry
    assert entry.blind_code in page and "张裁判" in page and "judge2" in page
    assert "conflict!" in page or "回避" in page
    ruling = arbiter.post(f"/appeals/J/{appeal.id}/rule", data={
        "csrf_token": arb, "ruling": "recheck", "reason": "评分差异需复核", "seen": "received"})
    assert ruling.status_code == 303
    again = arbiter.post(f"/appeals/J/{appeal.id}/rule", data={
        "csrf_token": arb, "ruling": "recheck", "reason": "评分差异需复核", "seen": "received"})
    assert again.status_code == 409  # the second post of the same page: nothing done
    assert actions().count("appeal.rule") == 1

    # The window passes (its start moved back): a late appeal is refused, with the time.
    close_window("J")
    before = db.session.scalar(select(func.count(Appeal.id)))
    late = appeal_post(client, boss, "12", ["R"], "射线探伤评分有误。")
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    closed = event().appeal_window_ends_at
    from zoneinfo import ZoneInfo

    assert closed.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") in text
    assert db.session.scalar(select(func.count(Appeal.id))) == before
    refused = client.post("/admin/events/J/state", data={"csrf_token": boss, **step("publish")})
    assert refused.status_code == 409 and f"#{appeal.id}" in refused.get_data(as_text=True)

    # The chief judge re-checks: only the appeal's criteria of its contestant.
    chief = FlaskClient(app, use_cookies=True)
    chief_token = sign_in(chief, "chief")
    target = mark("07", "V", "judge1")
    other = mark("07", "R", "judge2")
    response = chief.post(f"/appeals/J/{appeal.id}/marks/{other.id}", data={
        "csrf_token": chief_token, "value": "30", "reason": "x", "version": other.version})
    assert response.status_code == 409 and mark("07", "R", "judge2").value == 28
    # The ordinary correction is closed while provisional.
    response = chief.post(f"/chief/J/marks/{target.id}", data={
        "csrf_token": chief_token, "value": "38", "reason": "x", "version": target.version},
        headers={"HX-Request": "true"})
    assert mark("07", "V", "judge1").value == 34
    response = chief.post(f"/appeals/J/{appeal.id}/marks/{target.id}", data={
        "csrf_token": chief_token, "value": "38", "reason": "复核：焊缝余高测量有误",
        "version": target.version})
    assert response.status_code == 303
    changed = mark("07", "V", "judge1")
    assert changed.value == 38
    revision = db.session.scalar(select(MarkRevision).where(
        MarkRevision.appeal_id == appeal.id))
    assert revision.old_value == 34 and revision.new_value == 38
    assert revision.reason == "复核：焊缝余高测量有误" and revision.actor == "chief"
    assert winner(client) == "07"  # results recomputed (the board's version moved on)

    # The final ruling; then publish.
    response = arbiter.post(f"/appeals/J/{appeal.id}/rule", data={
        "csrf_token": arb, "ruling": "final", "reason": "复核后改分，名次变化",
        "seen": "recheck"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "changed"
    # Once ruled, the re-check is closed.
    response = chief.post(f"/appeals/J/{appeal.id}/marks/{target.id}", data={
        "csrf_token": chief_token, "value": "39", "reason": "again",
        "version": changed.version})
    assert response.status_code == 409 and mark("07", "V", "judge1").value == 38
    assert client.post("/admin/events/J/state", data={"csrf_token": boss, **step("publish")}
                       ).status_code == 302
    assert event().state == "published" and event().visibility == "published"

    # The new award: board, exports, certificates; the old certificate no longer verifies.
    assert winner(client) == "07"
    csv = client.get("/admin/events/J/export.csv").get_data(as_text=True)
    line = next(row for row in csv.splitlines() if row.split(",")[1] == "07")
    assert line.endswith("一等奖") or ",一等奖" in line
    assert client.get("/admin/events/J/certificates.pdf").status_code == 200
    db.session.expire_all()
    valid = db.session.scalars(select(Certificate).where(Certificate.revoked_at.is_(None))).all()
    assert [certificate.entry.bib for certificate in valid] == ["07"]
    page = client.get(f"/verify/{old.token}?lang=en").get_data(as_text=True)
    assert "This certificate is valid" not in page
    assert "This certificate is valid" in client.get(
        f"/verify/{valid[0].token}?lang=en").get_data(as_text=True)

    # The audit log and the appeal's file hold every step.
    logged = actions()
    for action in ("appeal.file", "appeal.rule", "mark.recheck"):
        assert action in logged
    steps = [record.details["step"] for record in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "event.state").order_by(AuditEvent.id))]
    assert steps[-3:] == ["lock", "provisional", "publish"]
    client.get("/lang/en")  # the console in English from here on
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    for words in ("Appeal received", "Appeal ruled on", "Mark changed in a re-check"):
        assert words in audit_page, words
    file_page = arbiter.get(f"/appeals/J/{appeal.id}?lang=en").get_data(as_text=True)
    for needle in ("外观检验评分偏低", "评分差异需复核", "复核：焊缝余高测量有误",
                   "复核后改分，名次变化", ">34<", ">38<"):
        assert needle in file_page, needle
    pdf = arbiter.get(f"/appeals/J/{appeal.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    book = load_workbook(io.BytesIO(client.get("/admin/events/J/export.xlsx").data))
    sheet = book[book.sheetnames[4]]  # after the judge analytics
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 and rows[0][0] == appeal.id and rows[0][1] == "07"
    assert "34 → 38" in rows[0][12] and rows[0][13] == "复核后改分，名次变化"


def test_roles(runner: FlaskCliRunner, client: FlaskClient, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    set_up(runner, tmp_path)
    run(runner, "event", "state", "J", "lock")
    run(runner, "event", "state", "J", "provisional")
    run(runner, "appeal", "file", "J", "07", "--criteria", "V", "--text", "请复核")
    appeal = db.session.scalar(select(Appeal))
    target = mark("07", "V", "judge1")
    urls = ["/appeals", "/appeals/J", f"/appeals/J/{appeal.id}", f"/appeals/J/{appeal.id}.pdf"]
    # Anonymous: sent to sign in; nothing shown.
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    sessions = {}
    for name in ("judge1", "chief", "boss", "arb", "other"):
        browser = FlaskClient(app, use_cookies=True)
        sessions[name] = (browser, sign_in(browser, name))
    judge, judge_token = sessions["judge1"]
    for url in urls:  # judges never see an appeal
        assert judge.get(url).status_code == 403
    other, other_token = sessions["other"]  # another event's arbiter
    listing = other.get("/appeals").get_data(as_text=True)
    assert 'href="/appeals/K"' in listing and 'href="/appeals/J"' not in listing
    for url in urls[1:]:
        assert other.get(url).status_code == 403
    ruling = {"ruling": "dismissed", "reason": "no", "seen": "received"}
    for name in ("judge1", "chief", "boss", "other"):  # only the event's arbiters rule
        browser, token = sessions[name]
        response = browser.post(f"/appeals/J/{appeal.id}/rule", data={"csrf_token": token,
                                                                     **ruling})
        assert response.status_code == 403, name
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "received"
    # Organisers and arbiters may not file or re-mark as the chief; the chief may not file.
    for name in ("chief", "arb", "judge1"):
        browser, token = sessions[name]
        response = browser.post("/appeals/J", data={"csrf_token": token, "bib": "12",
                                                    "criteria": ["R"], "text": "x"})
        assert response.status_code == 403, name
    arb, arb_token = sessions["arb"]
    assert arb.post(f"/appeals/J/{appeal.id}/rule", data={
        "csrf_token": arb_token, "ruling": "recheck", "reason": "复核", "seen": "received"}
    ).status_code == 303
    for name in ("judge1", "boss", "arb", "other"):  # only the chief judge re-marks
        browser, token = sessions[name]
        response = browser.post(f"/appeals/J/{appeal.id}/marks/{target.id}", data={
            "csrf_token": token, "value": "38", "reason": "x", "version": target.version})
        assert response.status_code == 403, name
    assert mark("07", "V", "judge1").value == 34
    # The arbiter's home after signing in is the appeals list; an arbiter marks nothing.
    assert arb.get("/judge").status_code in (302, 403)
    assert arb.get("/admin").status_code == 403
    # An arbiter's account is nobody in another event: policy.
    from scoring import policy
    user = db.session.scalar(select(User).where(User.username == "arb"))
    k = db.session.scalar(select(Event).where(Event.code == "K"))
    assert policy.roles(event(), user) == {"arbiter"} and policy.roles(k, user) == frozenset()


def test_command_line(runner: FlaskCliRunner, tmp_path: Path) -> None:
    set_up(runner, tmp_path)
    error = run(runner, "appeal", "file", "J", "07", "--criteria", "V", "--text", "x", ok=False)
    assert "provisional" in error or "公示" in error
    run(runner, "event", "state", "J", "lock")
    output = run(runner, "event", "state", "J", "provisional")
    assert "J" in output
    output = run(runner, "appeal", "file", "J", "07", "--criteria", "V,R", "--text", "请复核",
                 "--delegation", "大连代表队")
    appeal = db.session.scalar(select(Appeal))
    assert f"#{appeal.id}" in output and appeal.criteria == ["V", "R"]
    # The same appeal twice is recorded once; unknown bibs and criteria say so.
    twice = run(runner, "appeal", "file", "J", "7", "--criteria", "V,R", "--text", "请复核",
                ok=False)  # "7" is 07, as in the files and the board's search
    assert f"#{appeal.id}" in twice
    error = run(runner, "appeal", "file", "J", "99", "--criteria", "X", "--text", "y", ok=False)
    assert "99" in error and "X" in error
    refused = run(runner, "event", "state", "J", "publish", ok=False)
    assert f"#{appeal.id}" in refused and ("cannot be published" in refused or "正式公布" in refused)
    run(runner, "appeal", "rule", str(appeal.id), "final", "--reason", "x", ok=False)
    run(runner, "appeal", "rule", str(appeal.id), "dismissed", "--reason", "理由不成立")
    run(runner, "appeal", "rule", str(appeal.id), "recheck", "--reason", "y", ok=False)
    run(runner, "appeal", "rule", "999", "recheck", "--reason", "y", ok=False)
    close_window("J")
    error = run(runner, "appeal", "file", "J", "12", "--criteria", "R", "--text", "late",
                ok=False)
    assert "J" in error and db.session.scalar(select(func.count(Appeal.id))) == 1
    run(runner, "event", "state", "J", "publish")
    assert event().state == "published"
    details = [json.loads(record.details_json) for record in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "appeal.rule"))]
    assert [item["ruling"] for item in details] == ["dismissed"]


def test_scheme_appeal_hours(runner: FlaskCliRunner, tmp_path: Path) -> None:
    set_up_event(runner, tmp_path,
                 SCHEME.replace('name = "焊工评分"', 'name = "焊工评分"\nappeal_hours = 48'))
    assert event().appeal_hours == 48
    bad = tmp_path / "bad.toml"
    bad.write_text(SCHEME.replace('name = "焊工评分"', 'name = "焊工评分"\nappeal_hours = -1')
                   .replace('code = "J"', 'code = "Z"'), encoding="utf-8")
    assert "appeal_hours" in run(runner, "event", "import", bad, ok=False)


def test_a_double_post_of_a_filing_is_received_once(
        runner: FlaskCliRunner, live_server: str, tmp_path: Path) -> None:
    from .test_races import Browser, at_once, csrf_of, post_status

    def signed_in(username: str) -> tuple[Browser, str]:
        browser = Browser()
        token = csrf_of(browser.get(live_server + "/login")[1])
        browser.post(live_server + "/login", {"username": username, "password": PASSWORD,
                                              "csrf_token": token})
        status, page, _headers = browser.get(live_server + "/appeals/J")
        assert status == 200, page[:300]
        return browser, csrf_of(page)

    set_up(runner, tmp_path)
    run(runner, "event", "state", "J", "lock")
    run(runner, "event", "state", "J", "provisional")
    db.session.remove()
    boss, token = signed_in("boss")
    statuses = at_once(5, lambda: post_status(boss, live_server + "/appeals/J", {
        "csrf_token": token, "bib": "07", "criteria": "V", "text": "请复核"}))
    assert sorted(statuses).count(200) == 1, statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Appeal.id))) == 1
    appeal = db.session.scalar(select(Appeal))
    arb, arb_token = signed_in("arb")
    statuses = at_once(5, lambda: post_status(
        arb, f"{live_server}/appeals/J/{appeal.id}/rule",
        {"csrf_token": arb_token, "ruling": "recheck", "reason": "复核", "seen": "received"}))
    assert sorted(statuses).count(200) == 1, statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "appeal.rule")) == 1


@pytest.mark.parametrize("where", ["provisional"])
def test_reopening_a_provisional_event_ends_its_window(
        runner: FlaskCliRunner, tmp_path: Path, where: str) -> None:
    set_up(runner, tmp_path)
    run(runner, "event", "state", "J", "lock")
    run(runner, "event", "state", "J", where)
    run(runner, "event", "state", "J", "reopen", "--reason", "发现录入错误")
    assert event().state == "scoring" and event().provisional_at is None


def test_the_provisional_board_cannot_be_hidden_or_frozen(
        runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path) -> None:
    """公示 means shown: while provisional the board stays live (a re-check shows at once)."""
    set_up(runner, tmp_path)
    run(runner, "event", "state", "J", "lock")
    run(runner, "event", "state", "J", "provisional")
    token = sign_in(client, "boss")
    for visibility in ("hidden", "frozen"):
        response = client.post("/admin/events/J/visibility",
                               data={"csrf_token": token, "visibility": visibility})
        assert response.status_code in (302, 303, 409, 422)
        db.session.expire_all()
        assert event().visibility == "live"
        assert client.get("/e/J").status_code == 200


def test_the_demo_can_show_a_provisional_event_with_one_open_appeal(
        runner: FlaskCliRunner, client: FlaskClient) -> None:
    output = run(runner, "demo", "--provisional")
    assert "arbiter" in output and "demo-arbiter" in output
    weld = db.session.scalar(select(Event).where(Event.code == "WELD"))
    assert weld.state == "provisional" and weld.visibility == "live"
    # The window closes ten minutes after loading: the whole walk fits in one sitting.
    from datetime import datetime, timedelta, timezone
    left = weld.appeal_window_ends_at - datetime.now(timezone.utc)
    assert timedelta(minutes=9) < left <= timedelta(minutes=10)
    assert all(criterion.public for criterion in weld.criteria)
    appeals = db.session.scalars(select(Appeal)).all()
    assert len(appeals) == 1 and appeals[0].status == "received"
    assert appeals[0].criteria == ["P1"]
    arbiter = db.session.scalar(select(User).where(User.username == "arbiter"))
    assert arbiter.role == "arbiter" and weld.id in arbiter.arbiter_of
    api = client.get("/api/events/WELD/results").get_json()
    assert api["event"]["provisional"] and any(row["award"] for row in api["results"])
    token = sign_in(client, "arbiter", "demo-arbiter")
    assert token and client.get(f"/appeals/WELD/{appeals[0].id}").status_code == 200


def test_bad_input_is_shown_beside_its_field_and_writes_nothing(
        runner: FlaskCliRunner, client: FlaskClient, app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    set_up(runner, tmp_path)
    run(runner, "event", "state", "J", "lock")
    run(runner, "event", "state", "J", "provisional")
    boss = sign_in(client, "boss")
    client.get("/lang/en")
    before = len(actions())
    response = appeal_post(client, boss, "", [], "")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="e-f-bib"' in page and 'id="e-f-text"' in page
    response = appeal_post(client, boss, "99", ["NOPE"], "请复核")
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "99" in page and "NOPE" in page
    assert len(actions()) == before and db.session.scalar(select(func.count(Appeal.id))) == 0
    appeal_post(client, boss, "07", ["V"], "请复核")
    appeal = db.session.scalar(select(Appeal))
    arbiter = FlaskClient(app, use_cookies=True)
    token = sign_in(arbiter, "arb")
    arbiter.get("/lang/en")
    response = arbiter.post(f"/appeals/J/{appeal.id}/rule", data={
        "csrf_token": token, "ruling": "recheck", "reason": "", "seen": "received"})
    assert response.status_code == 422 and 'id="e-f-reason"' in response.get_data(as_text=True)
    response = arbiter.post(f"/appeals/J/{appeal.id}/rule", data={
        "csrf_token": token, "ruling": "final", "reason": "x", "seen": "received"})
    assert response.status_code == 409 and "re-check" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "received"
    assert arbiter.get(f"/appeals/J/{appeal.id + 1}").status_code == 404


def test_a_recheck_of_levels_and_measured_values(runner: FlaskCliRunner, app) -> None:  # type: ignore[no-untyped-def]
    """On the demo's judgement (J1) and measurement (M1) criteria the re-check asks for what
    the judges enter, a level or a measured value, and the appeal file shows it beside the
    mark; the spread of J1 is in levels; a re-measurement giving the same mark changes no
    mark, so the final ruling is "unchanged"."""
    run(runner, "demo", "--provisional")
    weld = db.session.scalar(select(Event).where(Event.code == "WELD"))
    entry = next(entry for entry in weld.entries if entry.status == "ok")
    run(runner, "appeal", "file", "WELD", entry.bib, "--criteria", "J1,M1", "--text", "请复核")
    appeal = db.session.scalars(select(Appeal).order_by(Appeal.id.desc())).first()
    run(runner, "appeal", "rule", str(appeal.id), "recheck", "--reason", "复核")
    chief = FlaskClient(app, use_cookies=True)
    token = sign_in(chief, "chief", "demo-chief")
    page = chief.get(f"/appeals/WELD/{appeal.id}").get_data(as_text=True)
    assert "新等级（0、1、2 或 3）" in page and "新测量值 (mm)" in page
    j1, m1 = (next(criterion for criterion in weld.criteria if criterion.code == code)
              for code in ("J1", "M1"))
    measured = db.session.scalar(select(Mark).where(Mark.entry_id == entry.id,
                                                    Mark.criterion_id == m1.id))
    assert f"{measured.entered} mm → {measured.value}" in page
    level = db.session.scalar(select(Mark).where(Mark.entry_id == entry.id,
                                                 Mark.criterion_id == j1.id))
    assert f"{level.entered} → " in page
    # The same mark from another measured value in the same band: 0.1 mm off, if in range.
    same_band = next(value for value in (measured.entered + Decimal("0.1"),
                                         measured.entered - Decimal("0.1"))
                     if rules_mark(m1, value) == measured.value)
    response = chief.post(f"/appeals/WELD/{appeal.id}/marks/{measured.id}", data={
        "csrf_token": token, "value": str(same_band), "reason": "重新测量",
        "version": measured.version})
    assert response.status_code == 303
    db.session.expire_all()
    again = db.session.get(Mark, measured.id)
    assert again.entered == same_band and again.value == measured.value
    run(runner, "appeal", "rule", str(appeal.id), "final", "--reason", "维持")
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status == "unchanged"


def rules_mark(criterion, value):  # type: ignore[no-untyped-def]
    from scoring import rules
    return rules.band_mark(criterion.to_rule().bands, value)
