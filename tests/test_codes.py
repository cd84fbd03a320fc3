"""The sealed code list and two-stage coding (issue 12 item 3): the draw's seed gives stations
and order only; blind codes come from `secrets`, are printed for the encoding judge alone
(page, PDF, `scoring codes`) and never appear on the draw record or in the audit log."""

from __future__ import annotations

import hashlib
import random
import re
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import AuditEvent, Entry, Event
from scoring.operations.events import BLIND_ALPHABET

from .judging_helpers import PASSWORD, sign_in
from .test_cli import EXAMPLE_B, run

CODE = re.compile(rf"^[{BLIND_ALPHABET}]{{2}}[1-9][0-9]{{2}}$")
NAMES = ("王强", "李娜", "张伟", "刘洋", "陈静")
DELEGATIONS = ("沈阳代表队", "大连代表队", "鞍钢代表队", "抚顺代表队")


def drawn(runner: FlaskCliRunner, seed: str = "2026") -> str:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    return run(runner, "draw", "EX-B", "--seed", seed)


def codes() -> dict[str, str]:
    db.session.expire_all()
    return {entry.bib: entry.blind_code for entry in db.session.scalars(select(Entry))}


def places() -> dict[str, tuple[int, int]]:
    db.session.expire_all()
    return {entry.bib: (entry.station, entry.draw_order)
            for entry in db.session.scalars(select(Entry))}


def records(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def no_code_in_the_audit_log(*lists: dict[str, str]) -> None:
    every = {code for listing in lists for code in listing.values()}
    for record in records():
        for code in every:
            assert code not in record.details_json, (record.action, code)


def fingerprint(listing: dict[str, str]) -> str:
    """As README says: the lines "bib:code\\n" sorted by code point, hashed with SHA-256,
    in groups of eight hex digits."""
    digest = hashlib.sha256("".join(sorted(f"{bib}:{code}\n" for bib, code in
                                           listing.items())).encode()).hexdigest()
    return " ".join(re.findall("........", digest))


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "file.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def organiser(client: FlaskClient, runner: FlaskCliRunner) -> str:
    drawn(runner)
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    return sign_in(client, "boss")


def recode_form(client: FlaskClient, token: str, **extra: str) -> dict[str, str]:
    page = client.get("/admin/events/EX-B/draw").get_data(as_text=True)
    generation = re.search(r'name="generation" value="(\d+)"', page)
    assert generation, "the draw page has the recode form"
    return {"csrf_token": token, "generation": generation.group(1), **extra}


# --- the draw: stations and order from the seed, codes from secrets ---------------------------

def test_the_same_seed_gives_the_same_places_and_new_codes(runner: FlaskCliRunner) -> None:
    first = drawn(runner)
    places_1, codes_1 = places(), codes()
    again = run(runner, "draw", "EX-B", "--seed", "2026")
    places_2, codes_2 = places(), codes()
    assert first == again  # the printed draw has no code: the same both times
    assert places_1 == places_2
    assert all(CODE.match(code) for code in [*codes_1.values(), *codes_2.values()])
    assert len(set(codes_1.values())) == len(set(codes_2.values())) == 5
    # A redraw's codes are all new: none is an old one (a label left on a workpiece
    # matches nobody).
    assert not set(codes_1.values()) & set(codes_2.values())
    # Nothing computed from the seed gives them: not the old draw's generator (the codes
    # after the shuffles), nor a generator seeded alone.
    for start in (0, 1, 2):
        generator = random.Random(2026)
        for _ in range(start):
            generator.shuffle(list(range(5)))
        guess = {"".join(generator.choice(BLIND_ALPHABET) for _ in range(2))
                 + str(generator.randrange(100, 1000)) for _ in range(5)}
        assert not guess & set(codes_2.values())
    other = run(runner, "draw", "EX-B", "--seed", "7")
    assert other != first and places() != places_1


def test_the_draw_prints_no_code_and_says_where_they_are(runner: FlaskCliRunner) -> None:
    output = drawn(runner)
    assert "scoring codes EX-B" in output
    table = [line.split("\t") for line in output.splitlines() if "\t" in line]
    assert len(table) == 6 and all(len(row) == 3 for row in table)  # bib, station, order
    for code in codes().values():
        assert code not in output


def test_the_audit_log_has_the_fingerprint_never_a_code(runner: FlaskCliRunner) -> None:
    drawn(runner)
    first = codes()
    draw = records("draw")[-1]
    assert set(draw.details["result"]) == set(first)
    assert all(set(value) == {"station", "order"} for value in draw.details["result"].values())
    made = records("codes.assign")
    assert len(made) == 1
    assert made[0].actor.startswith("cli") and made[0].details["step"] == "draw"
    assert made[0].details["count"] == 5
    assert made[0].details["fingerprint"] == fingerprint(first)
    run(runner, "codes", "EX-B", "--new")
    second = codes()
    made = records("codes.assign")
    assert [record.details["step"] for record in made] == ["draw", "recode"]
    assert made[-1].details["fingerprint"] == fingerprint(second) != fingerprint(first)
    no_code_in_the_audit_log(first, second)


# --- the command line -------------------------------------------------------------------------

def test_scoring_codes_prints_the_list_by_bib(runner: FlaskCliRunner, tmp_path: Path) -> None:
    drawn(runner)
    listing, where = codes(), places()
    result = runner.invoke(args=["codes", "EX-B"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("\t") for line in lines[1:]] == [
        [bib, listing[bib]] for bib in ("03", "07", "12", "15", "18")]
    assert fingerprint(listing) in result.stderr
    for name in NAMES:
        assert name not in result.stdout
    assert records("codes.export")[-1].details["via"] == "cli"

    new = run(runner, "codes", "EX-B", "--new")
    renewed = codes()
    assert set(renewed) == set(listing) and not set(renewed.values()) & set(listing.values())
    assert all(f"{bib}\t{code}" in new for bib, code in renewed.items())
    assert places() == where  # stations and order stay

    target = tmp_path / "codes.pdf"
    output = run(runner, "codes", "EX-B", "-o", target)
    assert str(target) in output and renewed["03"] not in output
    text = pdf_text(target.read_bytes(), tmp_path)
    for bib, code in renewed.items():
        assert re.search(rf"^\s*{bib}\s+{code}\s*$", text, re.M), (bib, code)
    for word in (*NAMES, *DELEGATIONS, "工位", "Station"):
        assert word not in text
    assert fingerprint(renewed) in text
    assert ("监督" in text or "Supervisor" in text) and (
        "加密裁判" in text or "Encoding judge" in text)


def test_scoring_codes_new_is_refused_once_scoring_opened(runner: FlaskCliRunner) -> None:
    drawn(runner)
    before = codes()
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")  # opens scoring
    error = run(runner, "codes", "EX-B", "--new", ok=False)
    assert "error" in error or "错误" in error
    assert "开始评分之前" in error or "before scoring opens" in error
    assert codes() == before
    assert len(records("codes.assign")) == 1
    # Printing the list stays possible (for decoding).
    assert before["03"] in run(runner, "codes", "EX-B")


def test_scoring_codes_before_the_draw_is_refused(runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    assert "EX-B" in run(runner, "codes", "EX-B", ok=False)


# --- the console: the draw record, the code list, the recode form -------------------------------

def test_the_draw_record_has_no_code_and_the_list_has_nothing_else(
        client: FlaskClient, organiser: str, tmp_path: Path) -> None:
    listing = codes()
    page = client.get("/admin/events/EX-B/draw").get_data(as_text=True)
    for code in listing.values():
        assert code not in page
    for text in (*NAMES, "沈阳代表队", "/admin/events/EX-B/codes", "/admin/events/EX-B/draw.pdf"):
        assert text in page
    response = client.get("/admin/events/EX-B/draw.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    record = pdf_text(response.data, tmp_path)
    for code in listing.values():
        assert code not in record
    for text in (*NAMES, *DELEGATIONS, "2026"):
        assert text in record

    response = client.get("/admin/events/EX-B/codes")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    sheet = response.get_data(as_text=True)
    for bib, code in listing.items():
        assert re.search(rf"<td[^>]*>{bib}</td><td[^>]*><strong>{code}</strong>", sheet)
    for text in (*NAMES, *DELEGATIONS):
        assert text not in sheet
    assert fingerprint(listing) in sheet and "密封保存，解密时开启" in sheet
    assert "加密裁判" in sheet and "监督" in sheet

    response = client.get("/admin/events/EX-B/codes.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    for bib, code in listing.items():
        assert re.search(rf"^\s*{bib}\s+{code}\s*$", text, re.M)
    for word in (*NAMES, *DELEGATIONS, "工位"):
        assert word not in text
    assert fingerprint(listing) in text and "密封保存" in text
    looks = records("codes.export")
    assert [record.details["format"] for record in looks] == ["html", "pdf"]
    no_code_in_the_audit_log(listing)


def test_the_code_list_is_the_organisers(client: FlaskClient, runner: FlaskCliRunner) -> None:
    drawn(runner)
    for url in ("/admin/events/EX-B/codes", "/admin/events/EX-B/codes.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    run(runner, "user", "create", "chief", "--role", "chief", "--password", PASSWORD,
        "--event", "EX-B")
    run(runner, "user", "create", "judge1", "--role", "judge", "--password", PASSWORD)
    listing = codes()
    for name in ("chief", "judge1"):
        other = client.application.test_client()
        token = sign_in(other, name)
        for url in ("/admin/events/EX-B/codes", "/admin/events/EX-B/codes.pdf"):
            assert other.get(url).status_code == 403, (name, url)
        response = other.post("/admin/events/EX-B/recode",
                              data={"csrf_token": token, "confirm": "y"})
        assert response.status_code == 403
    # The chief judge sees the draw page, without codes and without the way to them.
    chief = client.application.test_client()
    sign_in(chief, "chief")
    page = chief.get("/admin/events/EX-B/draw").get_data(as_text=True)
    assert "王强" in page and "/admin/events/EX-B/codes" not in page
    for code in listing.values():
        assert code not in page
    assert codes() == listing


def test_recode_in_the_console(client: FlaskClient, organiser: str) -> None:
    before, where = codes(), places()
    response = client.post("/admin/events/EX-B/recode",
                           data=recode_form(client, organiser, confirm="y"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/events/EX-B/draw#codes")
    after = codes()
    assert set(after) == set(before) and not set(after.values()) & set(before.values())
    assert places() == where  # stations and order stay
    record = records("codes.assign")[-1]
    assert (record.actor, record.details["step"], record.details["count"]) == (
        "boss", "recode", 5)
    assert record.user_id is not None
    assert record.details["fingerprint"] == fingerprint(after)
    no_code_in_the_audit_log(before, after)


def test_recode_needs_the_tick(client: FlaskClient, organiser: str) -> None:
    before = codes()
    response = client.post("/admin/events/EX-B/recode", data=recode_form(client, organiser))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="recode-confirm"[^>]*aria-invalid="true"', page)
    assert "勾选" in page or "Tick" in page
    assert codes() == before and len(records("codes.assign")) == 1


def test_a_double_post_makes_one_new_list(client: FlaskClient, organiser: str) -> None:
    """Decision: the second post of the same page (a double click) is refused beside the
    form, saying the codes were made again meanwhile; one new list, one record."""
    before = codes()
    form = recode_form(client, organiser, confirm="y")
    first = client.post("/admin/events/EX-B/recode", data=form)
    assert first.status_code == 303
    after = codes()
    second = client.post("/admin/events/EX-B/recode", data=form)
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert re.search(r'id="recode-confirm"[^>]*aria-invalid="true"', page)
    assert "boss" in page and ("重新" in page or "again" in page)
    assert codes() == after != before
    assert [record.details["step"] for record in records("codes.assign")] == ["draw", "recode"]
    # A fresh page can recode again: two recodes, two records.
    third = client.post("/admin/events/EX-B/recode",
                        data=recode_form(client, organiser, confirm="y"))
    assert third.status_code == 303 and codes() != after
    assert len(records("codes.assign")) == 3
    # A post that names no page's record (forged, or the field left out) is refused too.
    latest = codes()
    for generation in ({}, {"generation": ""}, {"generation": "x"}):
        form = {"csrf_token": organiser, "confirm": "y", **generation}
        assert client.post("/admin/events/EX-B/recode", data=form).status_code == 409
    assert codes() == latest and len(records("codes.assign")) == 3


def test_recode_is_refused_once_scoring_opened(client: FlaskClient, organiser: str,
                                               runner: FlaskCliRunner) -> None:
    form = recode_form(client, organiser, confirm="y")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")  # opens scoring
    db.session.expire_all()
    assert db.session.scalar(select(Event.state)) == "scoring"
    before = codes()
    response = client.post("/admin/events/EX-B/recode", data=form)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="error field-error" id="e-recode-confirm"[^>]*>[^<]*开始评分之前',
                     page), "the reason beside the form"
    assert re.search(r'<button type="submit" disabled>', page)
    assert codes() == before and len(records("codes.assign")) == 1
    # The page says why before anyone tries, too.
    page = client.get("/admin/events/EX-B/draw").get_data(as_text=True)
    assert "开始评分之前" in page
