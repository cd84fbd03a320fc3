"""The organiser console over HTTP: who may enter, the scheme form, the contestants preview,
the draw, assignments, the lifecycle and the audit log."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner, FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import Assignment, AuditEvent, Contestant, Entry, Event

from .judging_helpers import PASSWORD, close_window, sign_in, step
from .test_cli import EXAMPLE_B, run, snapshot


@pytest.fixture
def organiser(client: FlaskClient, runner: FlaskCliRunner) -> str:
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    run(runner, "user", "create", "judge1", "--role", "judge", "--password", PASSWORD)
    return sign_in(client, "boss")


def admin_urls(app: Flask) -> list[tuple[str, str]]:
    """Every console route, with its placeholders filled."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = (rule.rule.replace("<code>", "EX-B").replace("<kind>", "csv")
               .replace("<fmt>", "csv"))
        url = re.sub(r"<int[^>]*>", "1", url)
        url = re.sub(r"<[^>]+>", "x", url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, url))
    return urls


def test_every_console_route_refuses_anonymous_users_and_judges(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "user", "create", "judge1", "--role", "judge", "--password", PASSWORD)
    urls = admin_urls(app)
    assert len(urls) >= 20
    for method, url in urls:
        response = client.open(url, method=method)
        assert response.status_code in (302, 401), (method, url, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]
    token = sign_in(client, "judge1")
    for method, url in urls:
        response = client.open(url, method=method, data={"csrf_token": token},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 403, (method, url, response.status_code)


def scheme_form(**changes: str) -> dict[str, str]:
    form = {
        "competition": "new", "new_competition": "第六届职工技能大赛", "code": "W1",
        "name": "焊工", "decimals": "2", "rounding": "stage", "award_rounding": "half_up",
        "tie_break-0": "section:p", "team_best_n": "",
        "section-0-code": "p", "section-0-name": "实操",
        "criterion-0-code": "V", "criterion-0-name": "外观", "criterion-0-section": "p",
        "criterion-0-max": "40", "criterion-0-step": "0.5", "criterion-0-weight": "1",
        "criterion-0-judges": "3", "criterion-0-aggregate": "trimmed",
        "criterion-0-kind": "score", "criterion-0-max_spread": "",
        "award-0-name": "一等奖", "award-0-share": "0.1",
    }
    form.update(changes)
    return form


def test_create_an_event_in_the_form(client: FlaskClient, organiser: str) -> None:
    response = client.post("/admin/events/new", data={**scheme_form(), "csrf_token": organiser})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/events/W1"
    event = db.session.scalar(select(Event))
    assert (event.code, event.competition.name, event.tie_break) == (
        "W1", "第六届职工技能大赛", ["section:p"])
    assert [(c.code, str(c.max_value), c.judges, c.aggregate) for c in event.criteria] == [
        ("V", "40", 3, "trimmed")]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"criterion-0-judges": "2"}, "criterion-0-aggregate", "至少为 3"),
    ({"criterion-0-max": "abc"}, "criterion-0-max", "不是数字"),
    ({"tie_break-0": "speed"}, "tie_break-0", "speed"),
    ({"award-0-share": "1.5"}, "award-0-share", "100"),
    ({"code": "bad code!"}, "code", "bad code!"),
])
def test_a_bad_scheme_field_is_marked_and_nothing_written(
        client: FlaskClient, organiser: str, changes: dict[str, str], field: str,
        message: str) -> None:
    before = snapshot()
    response = client.post("/admin/events/new",
                           data={**scheme_form(**changes), "csrf_token": organiser})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', page), field
    assert message in page
    assert snapshot() == before


def test_upload_a_scheme_file(client: FlaskClient, organiser: str) -> None:
    data = {"csrf_token": organiser, "competition": "new", "new_competition": "赛事",
            "scheme_file": (io.BytesIO((EXAMPLE_B / "scheme.toml").read_bytes()), "s.toml")}
    response = client.post("/admin/events/new", data=data, content_type="multipart/form-data")
    assert response.headers["Location"] == "/admin/events/EX-B"


def people_xlsx(rows: list[list[object]]) -> io.BytesIO:
    book = Workbook()
    book.active.append(["参赛号", "姓名", "身份证号", "代表队"])
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_contestants_preview_then_import(client: FlaskClient, organiser: str,
                                         runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    bad = people_xlsx([["01", "张三", "11010519491231002X", "甲队"],
                       ["02", "李四", "110105194912310021", "乙队"]])
    before = snapshot()
    response = client.post("/admin/events/EX-B/contestants/preview", data={
        "csrf_token": organiser, "file": (bad, "people.xlsx")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "row-bad" in page and "校验码" in page and "payload" not in page
    assert snapshot() == before
    good = people_xlsx([["01", "张三", "11010519491231002X", "甲队"],
                        ["02", "李四", "", "乙队"]])
    response = client.post("/admin/events/EX-B/contestants/preview", data={
        "csrf_token": organiser, "file": (good, "people.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 200 and snapshot() == before
    payload = re.search(r'name="payload" value="([^"]+)"', response.get_data(as_text=True))
    response = client.post("/admin/events/EX-B/contestants/import", data={
        "csrf_token": organiser, "payload": payload.group(1)})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Entry.id))) == 2
    forged = client.post("/admin/events/EX-B/contestants/import", data={
        "csrf_token": organiser, "payload": payload.group(1)[:-3] + "abc"})
    assert forged.status_code == 400


def test_template_has_the_chinese_headers(client: FlaskClient, organiser: str) -> None:
    response = client.get("/admin/contestants-template.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    # The headers delegations send; no 参赛号: the draw gives the bibs (tests/test_registration.py).
    assert [cell.value for cell in sheet[1]] == [
        "序号", "姓名", "性别", "身份证号", "代表队", "工作单位", "手机"]
    assert client.get("/admin/contestants-template.csv").data.startswith("\ufeff序号".encode())


def test_edit_a_contestant_and_mark_absent(client: FlaskClient, organiser: str,
                                           runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    entry = db.session.scalar(select(Entry).where(Entry.bib == "03"))
    url = f"/admin/events/EX-B/entries/{entry.id}"
    form = {"csrf_token": organiser, "name": "王强", "gender": "M", "id_number": "",
            "unit": "沈阳某机械厂", "delegation": "沈阳代表队", "phone": "123",
            "status": "absent", "status_reason": "", "time": ""}
    response = client.post(url, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "11 位" in page and "需要填写原因" in page
    response = client.post(url, data={**form, "phone": "13800138000",
                                      "status_reason": "迟到 25 分钟"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (entry.status, entry.status_reason, entry.contestant.phone) == (
        "absent", "迟到 25 分钟", "13800138000")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "entry.update"))


def test_draw_assign_open_lock_publish(client: FlaskClient, organiser: str,
                                      runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    too_big = client.post("/admin/events/EX-B/draw", data={"csrf_token": organiser,
                                                           "seed": str(2**62)})
    assert too_big.status_code != 302 and db.session.scalar(select(Event.draw_seed)) is None
    assert "随机种子应为整数" in too_big.get_data(as_text=True)
    response = client.post("/admin/events/EX-B/draw", data={"csrf_token": organiser,
                                                            "seed": "42", "drawn": "0"})
    assert response.status_code == 302
    page = client.get("/admin/events/EX-B/draw").get_data(as_text=True)
    assert "42" in page and db.session.scalar(select(Event.draw_seed)) == 42
    judge = db.session.scalar(select(func.min(Contestant.id)))  # any id; judges below
    assert judge
    from scoring.models import User

    judge_id = db.session.scalar(select(User.id).where(User.username == "judge1"))
    response = client.post("/admin/events/EX-B/judges", data={
        "csrf_token": organiser, "assign": [f"{judge_id}:T", f"{judge_id}:P"]})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Assignment.id))) == 2
    cards = client.post("/admin/events/EX-B/cards", data={"csrf_token": organiser})
    assert cards.status_code == 200 and b"<svg" in cards.data and b"/login/link/" in cards.data
    for action in ("open", "lock"):
        client.post("/admin/events/EX-B/state", data={"csrf_token": organiser, **step(action)})
    db.session.expire_all()
    assert db.session.scalar(select(Event.state)) == "locked"
    response = client.post("/admin/events/EX-B/draw", data={"csrf_token": organiser})
    assert response.status_code == 409  # no redraw once scoring started
    client.post("/admin/events/EX-B/state",
                data={"csrf_token": organiser, **step("provisional")})
    refused = client.post("/admin/events/EX-B/state",
                          data={"csrf_token": organiser, **step("publish")})
    assert refused.status_code == 409  # the appeal window is open
    close_window("EX-B")
    client.post("/admin/events/EX-B/state", data={"csrf_token": organiser, **step("publish")})
    db.session.expire_all()
    assert db.session.scalar(select(Event.state)) == "published"
    assert db.session.scalar(select(Event.visibility)) == "published"
    response = client.post("/admin/events/EX-B/state", data={"csrf_token": organiser, **step("reopen")})
    assert response.status_code == 409 and "原因" in response.get_data(as_text=True)
    client.post("/admin/events/EX-B/state", data={"csrf_token": organiser,
                                                  "action": "reopen", "reason": "申诉复核"})
    db.session.expire_all()
    assert db.session.scalar(select(Event.state)) == "scoring"
    audit = client.get("/admin/audit?event=EX-B&action=event.state").get_data(as_text=True)
    assert "申诉复核" in audit


def test_scheme_once_marked_keeps_what_changes_results(client: FlaskClient, organiser: str,
                                                       runner: FlaskCliRunner,
                                                       tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")
    page = client.get("/admin/events/EX-B/scheme").get_data(as_text=True)
    values = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    values.update({key: value for key, value in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>.*?<option value="([^"]*)" selected', page, re.S)})
    values["csrf_token"] = organiser
    renamed = {**values, "criterion-0-name": "理论考试（机考）"}
    assert client.post("/admin/events/EX-B/scheme", data=renamed).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Event)).criteria[0].name == "理论考试（机考）"
    reweighted = {**values, "criterion-0-weight": "0.4"}
    response = client.post("/admin/events/EX-B/scheme", data=reweighted)
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(Event)).criteria[0].weight == "0.3"
