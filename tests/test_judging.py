"""Judges' pages over HTTP: sign-in, blind sheets, saves, refusals, sign-off, the chief judge."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import AuditEvent, Entry, Event, Mark, MarkRevision, SignOff, User
from scoring.queries.results import event_results

from .judging_helpers import (
    PASSWORD, Judged, csrf_token, marks_of, save, set_up_event, sign_in,
)
from .test_cli import EXAMPLE_B, run


@pytest.fixture
def judged(runner: FlaskCliRunner, tmp_path: Path) -> Judged:
    return set_up_event(runner, tmp_path)


def revisions() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(MarkRevision.id))) or 0


# --- sign-in ---------------------------------------------------------------------------------

def test_sign_in_and_out(client: FlaskClient, judged: Judged) -> None:
    assert client.get("/judge").status_code == 302
    token = csrf_token(client)
    response = client.post("/login", data={"username": "judge1", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.headers["Location"] == "/judge"
    assert "外观检验" in client.get("/judge").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/judge")})
    assert client.get("/judge").status_code == 302


def test_wrong_password_then_throttled(client: FlaskClient, judged: Judged) -> None:
    token = csrf_token(client)
    for _ in range(5):
        response = client.post("/login", data={"username": "judge1", "password": "nope",
                                               "csrf_token": token})
        assert response.status_code == 401
        assert "账号或密码不正确" in response.get_data(as_text=True)
    response = client.post("/login", data={"username": "judge1", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 429
    assert "秒后再试" in response.get_data(as_text=True)
    assert client.get("/judge").status_code == 302  # still not signed in


def test_throttle_per_address(client: FlaskClient, judged: Judged) -> None:
    token = csrf_token(client)
    for number in range(20):
        client.post("/login", data={"username": f"guess{number}", "password": "x",
                                    "csrf_token": token})
    response = client.post("/login", data={"username": "judge2", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 429


def test_login_without_csrf_is_refused(client: FlaskClient, judged: Judged) -> None:
    response = client.post("/login", data={"username": "judge1", "password": PASSWORD})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/judge").status_code == 302  # not signed in


def test_sign_in_link(client: FlaskClient, runner: FlaskCliRunner, judged: Judged) -> None:
    url = run(runner, "user", "link", "judge1", "--base-url", "http://hall.local").splitlines()[-1]
    assert url.startswith("http://hall.local/login/link/")
    path = url.removeprefix("http://hall.local")
    assert "judge1" in client.get(path).get_data(as_text=True)
    assert client.get("/judge").status_code == 302  # a GET alone signs nobody in
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.headers["Location"] == "/judge"
    assert client.get("/judge").status_code == 200
    run(runner, "user", "link", "judge1", "--revoke")
    assert client.get(path).status_code == 404
    assert client.get("/login/link/forged-token").status_code == 404


# --- the judge's sheets ------------------------------------------------------------------------

def test_home_shows_progress(client: FlaskClient, judged: Judged) -> None:
    sign_in(client, "judge2")
    page = client.get("/judge").get_data(as_text=True)
    assert "V 外观检验" in page and "R 射线探伤" in page and "0 / 5" in page


def test_sheet_is_blind(client: FlaskClient, judged: Judged) -> None:
    sign_in(client, "judge1")
    page = client.get("/judge/J/V").get_data(as_text=True)
    for entry in judged.entries:
        assert entry.blind_code in page
        assert entry.contestant.name not in page
        assert f">{entry.bib}<" not in page
        assert (entry.delegation or "@@") not in page
    assert 'inputmode="decimal"' in page


def test_save_a_mark(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    entry = judged.entries[0]
    response = save(client, token, entry, "35.5", request_token="t-1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "state-saved" in page
    assert response.headers["HX-Trigger"] == "progress-changed"
    assert marks_of(entry) == {"judge1": "35.5"}
    assert client.get("/judge/J/V/progress").get_data(as_text=True) == "1 / 5"
    assert client.get("/judge/J/R/progress").status_code == 403  # not judge1's criterion
    revision = db.session.scalars(select(MarkRevision)).one()
    assert (revision.source, revision.actor, revision.client_token) == ("judge", "judge1", "t-1")


def test_a_retried_save_makes_no_second_revision(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    entry = judged.entries[0]
    save(client, token, entry, "35.5", request_token="same")
    response = save(client, token, entry, "35.5", request_token="same")
    assert "state-saved" in response.get_data(as_text=True)
    assert revisions() == 1


@pytest.mark.parametrize(("value", "reason"), [
    ("40.5", "超过满分 40"), ("-1", "小于 0"), ("35.25", "步长 0.5"), ("abc", "不是数字"),
    ("NaN", "不是数字"), ("1e3", "不是数字"), ("", "未填写分数"),
])
def test_a_bad_mark_is_refused_and_the_saved_one_stays(
        client: FlaskClient, judged: Judged, value: str, reason: str) -> None:
    token = sign_in(client, "judge1")
    entry = judged.entries[0]
    save(client, token, entry, "30", request_token="first")
    mark = db.session.scalars(select(Mark)).one()
    response = save(client, token, entry, value, version=str(mark.version), request_token="2")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "state-invalid" in page and reason in page
    assert f'value="{value}"' in page  # what was typed stays in the field
    assert marks_of(entry) == {"judge1": "30"} and revisions() == 1


def test_two_tabs_cannot_overwrite_each_other(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    entry = judged.entries[0]
    save(client, token, entry, "30", request_token="tab-1")  # the first tab saw nothing
    response = save(client, token, entry, "31", version="", request_token="tab-2")
    page = response.get_data(as_text=True)
    assert "state-conflict" in page and "30" in page and "31" in page
    assert marks_of(entry) == {"judge1": "30"}
    mark = db.session.scalars(select(Mark)).one()
    # "Save 31" resubmits against the version now shown.
    response = save(client, token, entry, "31", version=str(mark.version), request_token="tab-2b")
    assert "state-saved" in response.get_data(as_text=True)
    assert marks_of(entry) == {"judge1": "31"} and revisions() == 2


# --- refusals ----------------------------------------------------------------------------------

def test_a_criterion_not_assigned_is_refused(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    response = save(client, token, judged.entries[0], "10", criterion="R")
    assert response.status_code == 403 and revisions() == 0
    assert client.get("/judge/J/R").status_code == 403


def test_a_forged_entry_is_refused(client: FlaskClient, judged: Judged,
                                   runner: FlaskCliRunner, tmp_path: Path) -> None:
    token = sign_in(client, "judge1")
    response = client.post("/judge/J/V/999999", data={"value": "10", "token": "x"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 404
    other = tmp_path / "other.toml"
    other.write_text((tmp_path / "scheme.toml").read_text(encoding="utf-8").replace(
        'code = "J"', 'code = "K"'), encoding="utf-8")
    run(runner, "event", "import", other)
    run(runner, "contestants", "import", "K", EXAMPLE_B / "contestants.csv")
    run(runner, "draw", "K", "--seed", "2")
    foreign = db.session.scalars(select(Entry).join(Event).where(Event.code == "K")).first()
    response = save(client, token, foreign, "10")  # an entry of event K, posted to J
    assert response.status_code == 404 and revisions() == 0


def test_no_mark_after_lock(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    judged.event.state = "locked"
    db.session.commit()
    response = save(client, token, judged.entries[0], "10")
    page = response.get_data(as_text=True)
    assert "state-refused" in page and "已锁定" in page and revisions() == 0


def test_missing_or_wrong_csrf_is_refused(client: FlaskClient, judged: Judged) -> None:
    sign_in(client, "judge1")
    entry = judged.entries[0]
    for headers in ({"HX-Request": "true"}, {"HX-Request": "true", "X-CSRFToken": "forged"}):
        response = client.post(f"/judge/J/V/{entry.id}", data={"value": "10"}, headers=headers)
        assert response.status_code == 400
        assert "刷新" in response.get_data(as_text=True)
    assert revisions() == 0


def test_an_expired_session_answers_401_to_htmx(client: FlaskClient, judged: Judged) -> None:
    entry = judged.entries[0]
    token = csrf_token(client)
    response = client.post(f"/judge/J/V/{entry.id}", data={"value": "10"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 401 and revisions() == 0
    assert client.get("/judge/J/V").status_code == 302


def test_conflict_of_interest(client: FlaskClient, judged: Judged) -> None:
    user = db.session.scalar(select(User).where(User.username == "judge1"))
    user.delegation = "沈阳代表队"
    db.session.commit()
    own = next(entry for entry in judged.entries if entry.delegation == "沈阳代表队")
    token = sign_in(client, "judge1")
    response = save(client, token, own, "30")
    # A blind sheet has no row for it, and its code answers as one that does not exist
    # (a refusal "your own delegation" would say whose workpiece it is).
    assert response.status_code == 404 and revisions() == 0
    assert "3 / 3" not in client.get("/judge").get_data(as_text=True)
    assert "0 / 3" in client.get("/judge").get_data(as_text=True)  # two of five are recused
    judged.event.conflict_check = False
    db.session.commit()
    assert "state-saved" in save(client, token, own, "30").get_data(as_text=True)


def test_marks_a_recused_judge_cannot_give_are_not_missing(client: FlaskClient,
                                                           judged: Judged) -> None:
    """V needs 2 marks and has 2 judges; judge1 stands aside for 沈阳代表队, so its two
    contestants can get only judge2's: complete with it, as the chief judge's matrix says."""
    user = db.session.scalar(select(User).where(User.username == "judge1"))
    user.delegation = "沈阳代表队"
    db.session.commit()
    token = sign_in(client, "judge1")
    for entry in judged.entries:
        if entry.delegation != "沈阳代表队":
            assert "state-saved" in save(client, token, entry, "30").get_data(as_text=True)
    token = sign_in(client, "judge2")
    for entry in judged.entries:
        for criterion in ("V", "R"):
            assert "state-saved" in save(client, token, entry, "20",
                                         criterion=criterion).get_data(as_text=True)

    def missing() -> dict[str, dict[str, int]]:
        db.session.expire_all()
        standings = event_results(judged.event).standings
        return {result.bib: result.missing for result in standings.results
                if any(result.missing.values())}

    assert missing() == {}
    token = sign_in(client, "chief")
    assert "缺评分：0" in client.get("/chief/J").get_data(as_text=True)
    # Without the conflict check judge1 may mark them, so their marks are missing again.
    judged.event.conflict_check = False
    db.session.commit()
    assert missing() == {entry.bib: {"V": 1, "R": 0} for entry in judged.entries
                         if entry.delegation == "沈阳代表队"}


# --- sign-off ------------------------------------------------------------------------------------

def test_sign_off_once_complete(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    response = client.post("/judge/J/V/sign", data={"csrf_token": token, "confirm": "y"})
    assert response.status_code == 409 and "还缺 5 条评分" in response.get_data(as_text=True)
    for number, entry in enumerate(judged.entries):
        save(client, token, entry, str(30 + number), request_token=f"s{number}")
    response = client.post("/judge/J/V/sign", data={"csrf_token": token, "confirm": "y"})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(SignOff.id))) == 1
    mark = db.session.scalars(select(Mark).where(Mark.entry_id == judged.entries[0].id)).one()
    response = save(client, token, judged.entries[0], "20", version=str(mark.version))
    assert "裁判长" in response.get_data(as_text=True)
    assert marks_of(judged.entries[0]) == {"judge1": "30"}
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "sheet.sign"))


# --- the chief judge -----------------------------------------------------------------------------

def test_chief_matrix_flags_and_correction(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    save(client, token, judged.entries[0], "40", request_token="a")
    client.post("/logout", data={"csrf_token": token})
    token = sign_in(client, "judge2")
    save(client, token, judged.entries[0], "30", request_token="b")
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/chief/J").status_code == 302
    token = sign_in(client, "chief")
    page = client.get("/chief/J").get_data(as_text=True)
    assert "flag-spread" in page and "flag-extreme" in page and "flag-missing" in page
    for entry in judged.entries:
        assert entry.contestant.name not in page
    mark = db.session.scalar(select(Mark).where(Mark.judge == "judge1"))
    url = f"/chief/J/marks/{mark.id}"
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    response = client.post(url, data={"value": "36", "reason": " ", "version": mark.version},
                           headers=headers)
    assert "需要填写原因" in response.get_data(as_text=True)
    response = client.post(url, data={"value": "36", "reason": "复核焊缝余高",
                                      "version": mark.version}, headers=headers)
    assert "已更正为 36" in response.get_data(as_text=True)
    revision = db.session.scalars(select(MarkRevision).order_by(MarkRevision.id.desc())).first()
    assert (revision.source, revision.reason, str(revision.old_value)) == (
        "chief", "复核焊缝余高", "40")
    history = client.get("/chief/J/history").get_data(as_text=True)
    # In words (the chief's history reads like the audit log), never the stored codes.
    assert "复核焊缝余高" in history and "裁判长更正评分" in history
    assert "mark.correct" not in history and '"old"' not in history


def test_chief_locks_scoring(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "chief")
    response = client.post("/chief/J/lock", data={"csrf_token": token, "confirm": "y", "from_state": "scoring"})
    assert response.status_code == 303
    db.session.expire_all()
    assert judged.event.state == "locked"
    assert client.post("/chief/J/lock", data={"csrf_token": token, "confirm": "y", "from_state": "scoring"}).status_code == 409


@pytest.mark.parametrize("url", ["/chief", "/chief/J", "/chief/J/history"])
def test_judges_cannot_reach_chief_pages(client: FlaskClient, judged: Judged, url: str) -> None:
    sign_in(client, "judge1")
    assert client.get(url).status_code == 403


def test_organisers_see_but_do_not_correct(client: FlaskClient, judged: Judged) -> None:
    token = sign_in(client, "judge1")
    save(client, token, judged.entries[0], "30", request_token="a")
    client.post("/logout", data={"csrf_token": token})
    token = sign_in(client, "boss")
    assert client.get("/chief/J").status_code == 200
    mark = db.session.scalar(select(Mark))
    response = client.post(f"/chief/J/marks/{mark.id}", data={
        "value": "1", "reason": "x", "version": mark.version},
        headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 403
    # Locking is the organisers' as well as the chief's (one policy): from either page.
    assert client.post("/chief/J/lock", data={"csrf_token": token, "confirm": "y", "from_state": "scoring"}).status_code == 303
    db.session.expire_all()
    assert judged.event.state == "locked"


def test_a_chinese_keyboard_s_full_width_mark_is_saved(client: FlaskClient,
                                                      judged: Judged) -> None:
    token = sign_in(client, "judge1")
    response = save(client, token, judged.entries[0], "３２．５")
    assert "state-saved" in response.get_data(as_text=True)
    assert marks_of(judged.entries[0]) == {"judge1": "32.5"}
