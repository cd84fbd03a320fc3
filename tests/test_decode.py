"""Blind criteria and decoding (解密): a blind criterion's marks reach the public board, the
big screen, the team ranking and the API only once the chief judge decodes it, after every
sheet of it is signed (DOMAIN.md, "Blind marking on a live board")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import AuditEvent, Criterion, Event, Mark

from .judging_helpers import SCHEME, Judged, marks_of, save, set_up_event, sign_in
from .test_cli import run

PUBLIC = ("/e/J", "/e/J/teams", "/e/J/screen", "/api/events/J/results", "/api/events/J/teams")


def open_criteria(runner: FlaskCliRunner, tmp_path: Path, *codes: str) -> None:
    """Import the judging helpers' scheme again with `codes` not blind (`blind = false`), as
    an organiser would for criteria observed at the station; allowed while no mark exists."""
    blocks = SCHEME.split("[[criteria]]")
    for index, block in enumerate(blocks[1:], start=1):
        code = re.search(r'code = "([^"]+)"', block).group(1)  # type: ignore[union-attr]
        if code in codes:
            blocks[index] = block.rstrip("\n") + "\nblind = false\n"
    scheme = tmp_path / "open-scheme.toml"
    scheme.write_text("[[criteria]]".join(blocks), encoding="utf-8")
    run(runner, "event", "import", scheme)


def public_state(client: FlaskClient) -> dict[str, tuple[str, bytes]]:
    """Every public response of the event: its ETag and its body (times included)."""
    found = {}
    for url in PUBLIC:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            found[url + str(headers)] = (response.headers["ETag"], response.data)
    return found


def criterion(code: str) -> Criterion:
    db.session.expire_all()
    return db.session.scalar(select(Criterion).where(Criterion.code == code))


def complete_and_sign(client: FlaskClient, judged: Judged, judge: str, code: str,
                      value: str = "20") -> str:
    """`judge` marks every entry on `code` and signs the sheet; returns the CSRF token."""
    token = sign_in(client, judge)
    for entry in judged.entries:
        if judge in marks_of(entry, code):
            continue
        response = save(client, token, entry, value, criterion=code)
        assert "state-saved" in response.get_data(as_text=True)
    signed = client.post(f"/judge/J/{code}/sign", data={"csrf_token": token, "confirm": "y"})
    assert signed.status_code == 200, signed.get_data(as_text=True)
    return token


@pytest.fixture
def judged(runner: FlaskCliRunner, tmp_path: Path) -> Judged:
    judged = set_up_event(runner, tmp_path)
    run(runner, "board", "J", "live")
    return judged


def test_criteria_are_blind_unless_the_scheme_says_otherwise(
        runner: FlaskCliRunner, tmp_path: Path, judged: Judged) -> None:
    assert criterion("V").blind and criterion("R").blind
    open_criteria(runner, tmp_path, "R")
    assert criterion("V").blind and not criterion("R").blind
    bad = tmp_path / "bad.toml"
    bad.write_text(SCHEME.replace('code = "R"', 'code = "R"\nblind = "no"'), encoding="utf-8")
    result = runner.invoke(args=["event", "import", str(bad)])
    assert result.exit_code != 0
    assert "criteria[2] (R).blind" in result.output and "true or false" in result.output


def test_a_blind_mark_changes_no_public_response_until_decoded(
        client: FlaskClient, judged: Judged) -> None:
    before = public_state(client)
    results = json.loads(before["/api/events/J/results{}"][1])
    assert results["decoded"] == []
    assert "已解密 0 / 2 项" in before["/e/J{}"][1].decode()
    assert "已解密 0 / 2 项" in before["/e/J/screen{}"][1].decode()
    token = sign_in(client, "judge2")
    assert "state-saved" in save(client, token, judged.entries[0], "27",
                                 criterion="R").get_data(as_text=True)
    assert "state-saved" in save(client, token, judged.entries[1], "12",
                                 criterion="V").get_data(as_text=True)
    client.get("/logout")
    assert public_state(client) == before  # not a byte, not an ETag, not the "updated" time
    version = db.session.scalar(select(Event.results_version).where(Event.code == "J"))
    assert version == judged.event.results_version


def test_decoding_waits_for_every_blind_sheet_then_shows_the_marks(
        client: FlaskClient, runner: FlaskCliRunner, judged: Judged) -> None:
    """Both criteria are marked on the same coded workpieces: decoding R while V is still
    being marked would let V's judges who know R's marks by code tell whose workpiece each
    code is. So nothing is decoded until every blind sheet is signed."""
    token = sign_in(client, "judge2")
    for entry in judged.entries[:-1]:
        save(client, token, entry, "20", criterion="R")
    refused = runner.invoke(args=["decode", "J", "R"])
    assert refused.exit_code != 0
    assert "R: 1 of 1 sheets are not signed yet (judge2)" in refused.output
    assert "V: 2 of 2 sheets are not signed yet (judge1, judge2)" in refused.output
    refused = runner.invoke(args=["decode", "J"])  # none named: none can be
    assert refused.exit_code != 0 and "not signed yet" in refused.output
    assert criterion("R").decoded_at is None

    before = public_state(client)
    complete_and_sign(client, judged, "judge2", "R")
    refused = runner.invoke(args=["decode", "J", "R"])  # R is done, V is not
    assert refused.exit_code != 0 and "reveals every blind code" in refused.output
    assert "V: 2 of 2 sheets" in refused.output and "R:" not in refused.output
    complete_and_sign(client, judged, "judge2", "V", "30")
    complete_and_sign(client, judged, "judge1", "V", "32")
    client.get("/logout")
    assert public_state(client) == before  # all of it marked and signed: nothing public yet
    decoded = runner.invoke(args=["decode", "J", "R"])
    assert decoded.exit_code == 0, decoded.output
    assert "Decoded R of J" in decoded.output and "Still blind: V" in decoded.output
    after = public_state(client)
    for key in before:
        assert after[key][0] != before[key][0], key
    document = json.loads(after["/api/events/J/results{}"][1])
    assert document["decoded"] == ["R"]
    assert {row["R"] for row in document["results"]} == {"20.00"}
    assert {row["V"] for row in document["results"]} == {""}
    assert "已解密 1 / 2 项" in after["/e/J{}"][1].decode()
    record = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "criterion.decode"))
    assert record is not None and record.details["criterion"] == "R"
    again = runner.invoke(args=["decode", "J", "R"])
    assert again.exit_code != 0 and "R is already decoded" in again.output
    rest = runner.invoke(args=["decode", "J"])  # none named: every one that can be
    assert rest.exit_code == 0 and "Decoded V of J" in rest.output
    assert client.get("/api/events/J/results").json["decoded"] == ["V", "R"]


def test_a_mark_of_a_criterion_that_is_not_blind_shows_at_once(
        client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path, judged: Judged) -> None:
    open_criteria(runner, tmp_path, "R")
    etag = client.get("/api/events/J/results").headers["ETag"]
    document = client.get("/api/events/J/results").json
    assert document["decoded"] == ["R"]
    token = sign_in(client, "judge2")
    save(client, token, judged.entries[0], "27", criterion="R")
    client.get("/logout")
    changed = client.get("/api/events/J/results", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    bib = judged.entries[0].bib
    assert next(row for row in changed.json["results"] if row["bib"] == bib)["R"] == "27.00"
    refused = runner.invoke(args=["decode", "J", "R"])
    assert refused.exit_code != 0 and "R is not blind" in refused.output


def test_the_chief_decodes_in_the_browser_pages_with_a_tick(
        client: FlaskClient, judged: Judged) -> None:
    complete_and_sign(client, judged, "judge2", "R")
    client.get("/logout")
    token = sign_in(client, "chief")
    page = client.get("/chief/J").get_data(as_text=True)
    assert 'id="decoding"' in page and "解密 R" in page
    assert "V：2 张评分表中还有 2 张未签字" in page  # V's sheets: judge1 and judge2
    refused = client.post("/chief/J/decode", data={"csrf_token": token, "criterion": "R",
                                                  "confirm": "y"})
    assert refused.status_code == 422 and "揭示全部加密号" in refused.get_data(as_text=True)
    assert criterion("R").decoded_at is None
    complete_and_sign(client, judged, "judge1", "V")
    complete_and_sign(client, judged, "judge2", "V")
    token = sign_in(client, "chief")
    unticked = client.post("/chief/J/decode", data={"csrf_token": token, "criterion": "R"})
    assert unticked.status_code == 422
    assert "请勾选确认：解密后不可撤销。" in unticked.get_data(as_text=True)
    assert criterion("R").decoded_at is None
    # A double click: the first decodes, the second is told it is done; one record.
    first = client.post("/chief/J/decode", data={"csrf_token": token, "criterion": "R",
                                                "confirm": "y"})
    second = client.post("/chief/J/decode", data={"csrf_token": token, "criterion": "R",
                                                 "confirm": "y"})
    assert first.status_code == 303 and second.status_code == 422
    assert "R 已经解密" in second.get_data(as_text=True)
    assert criterion("R").decoded_by == "chief"
    assert len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "criterion.decode")).all()) == 1
    assert "由 chief 于" in client.get("/chief/J").get_data(as_text=True)
    # A criterion that is not there (or not blind) is refused where the page shows it.
    for code in ("NOPE", "P\x1b1", "x" * 300):
        odd = client.post("/chief/J/decode", data={"csrf_token": token, "criterion": code,
                                                  "confirm": "y"})
        assert odd.status_code == 422 and 'class="error decode-problem"' in odd.get_data(
            as_text=True), code
    assert client.post("/chief/J/decode", data={"csrf_token": "x", "criterion": "V",
                                                "confirm": "y"}).status_code == 400


@pytest.mark.parametrize("who", ["boss", "judge1", "other-chief"])
def test_only_the_event_s_chief_judge_decodes(client: FlaskClient, runner: FlaskCliRunner,
                                             judged: Judged, who: str) -> None:
    complete_and_sign(client, judged, "judge2", "R")
    client.get("/logout")
    if who == "other-chief":
        run(runner, "user", "create", who, "--role", "chief", "--password", "correct-horse")
    token = sign_in(client, who)
    response = client.post("/chief/J/decode", data={"csrf_token": token, "criterion": "R",
                                                   "confirm": "y"})
    assert response.status_code in (302, 403)
    assert criterion("R").decoded_at is None


def test_publishing_decodes_what_is_left_and_a_correction_after_decoding_shows(
        client: FlaskClient, runner: FlaskCliRunner, judged: Judged) -> None:
    complete_and_sign(client, judged, "judge2", "R")
    complete_and_sign(client, judged, "judge1", "V", "30")
    complete_and_sign(client, judged, "judge2", "V", "30")
    client.get("/logout")
    run(runner, "decode", "J", "R")
    token = sign_in(client, "chief")
    mark = db.session.scalar(select(Mark).join(Criterion).where(Criterion.code == "R"))
    etag = client.get("/api/events/J/results").headers["ETag"]
    corrected = client.post(f"/chief/J/marks/{mark.id}", data={
        "csrf_token": token, "value": "25", "reason": "复核：读数有误",
        "version": str(mark.version)}, headers={"HX-Request": "true"})
    assert corrected.status_code == 200
    assert client.get("/api/events/J/results",
                      headers={"If-None-Match": etag}).status_code == 200
    # V is still blind; lock and publish: everything is public, and recorded.
    assert client.post("/chief/J/lock", data={"csrf_token": token, "confirm": "y", "from_state": "scoring"}).status_code == 303
    client.get("/logout")
    assert criterion("V").decoded_at is None
    run(runner, "event", "state", "J", "provisional")  # public already: decoded now
    assert criterion("V").decoded_at is not None
    document = client.get("/api/events/J/results").json
    assert document["decoded"] == ["V", "R"]
    assert {row["V"] for row in document["results"]} == {"30.00"}
    steps = [record.details.get("step") for record in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "criterion.decode")
        .order_by(AuditEvent.id))]
    assert steps == ["decode", "provisional"]
