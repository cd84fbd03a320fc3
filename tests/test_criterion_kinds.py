"""Judgement and measurement criteria through every path: the scheme file and form, scores
import, the judge's sheet, sign-off and the spread rule, the chief judge's matrix, results and
exports (DOMAIN.md "Measurement and judgement criteria", example (d))."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.files.scheme import parse_scheme
from scoring.models import (
    AuditEvent, Criterion, Entry, Event, Mark, MarkRevision, SignOff, SpreadConfirmation,
)
from scoring.web.admin.forms import scheme_data

from .judging_helpers import PASSWORD, csrf_token, sign_in
from .test_admin import scheme_form
from .test_admin_forms import beside
from .test_cli import run, snapshot
from .conftest import DATA

EXAMPLE_D = DATA / "example-d"
SCHEME_D = (EXAMPLE_D / "scheme.toml").read_text(encoding="utf-8")


def load_example_d(runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_D / "scheme.toml")
    run(runner, "contestants", "import", "EX-D", EXAMPLE_D / "contestants.csv")
    run(runner, "scores", "import", "EX-D", EXAMPLE_D / "scores.csv")


def event_d() -> Event:
    return db.session.scalar(select(Event).where(Event.code == "EX-D"))


def criterion(code: str) -> Criterion:
    return next(c for c in event_d().criteria if c.code == code)


# --- the command line: example (d) -----------------------------------------------------------

def test_example_d_round_trip_reproduces_the_expected_csv(runner: FlaskCliRunner) -> None:
    """J1 levels 2, 3, 2 (max 6) -> 4.67; M1 2.4 mm -> 2; J1 + M1 = 6.67 (bib 01), and the
    other bands: 2.0 -> 4, 3.0 -> 2, 3.1 -> 0."""
    load_example_d(runner)
    output = run(runner, "results", "export", "EX-D", "--format", "csv")
    assert output == (EXAMPLE_D / "expected-results.csv").read_text(encoding="utf-8")
    rows = {line.split(",")[1]: line.split(",") for line in output.splitlines()[1:]}
    assert rows["01"][8:11] == ["4.67", "2.00", "6.67"]
    assert [rows[bib][9] for bib in ("02", "01", "03", "04")] == [
        "4.00", "2.00", "2.00", "0.00"]


def test_what_was_entered_is_kept_beside_the_mark(runner: FlaskCliRunner) -> None:
    load_example_d(runner)
    marks = {(mark.entry.bib, mark.criterion.code, mark.judge): mark
             for mark in db.session.scalars(select(Mark))}
    level = marks[("01", "J1", "b")]
    assert (level.entered, level.value) == (Decimal(3), Decimal(6))
    measured = marks[("01", "M1", "m")]
    assert (measured.entered, measured.value) == (Decimal("2.4"), Decimal(2))
    revision = measured.revisions[0]
    assert (revision.new_entered, revision.new_value) == (Decimal("2.4"), Decimal(2))


def test_a_judgement_mark_that_no_decimal_holds_is_used_exactly(
        runner: FlaskCliRunner, tmp_path: Path) -> None:
    """max 10, levels 1, 1, 2: (10/3 + 10/3 + 20/3) / 3 = 40/9, 4.444444 at six places (the
    stored 3.3333 would give 4.444433)."""
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(SCHEME_D.replace("decimals = 2", "decimals = 6")
                      .replace("max = 6", "max = 10"), encoding="utf-8")
    run(runner, "event", "import", scheme)
    run(runner, "contestants", "import", "EX-D", EXAMPLE_D / "contestants.csv")
    scores = tmp_path / "scores.csv"
    scores.write_text("bib,criterion,judge,score\n01,J1,a,1\n01,J1,b,1\n01,J1,c,2\n",
                      encoding="utf-8")
    run(runner, "scores", "import", "EX-D", scores)
    output = run(runner, "results", "export", "EX-D", "--format", "json")
    assert '"4.444444"' in output


@pytest.mark.parametrize(("line", "message"), [
    ("01,J1,a,4", "not a level"), ("01,J1,a,1.5", "not a level"),
    ("01,M1,m,10.1", "above the range 0–10 mm"), ("01,M1,m,-1", "below the range"),
    ("01,M1,m,2.45", "not a multiple of the step 0.1"), ("01,J1,a,", "empty")])
def test_a_bad_level_or_value_is_refused_with_its_row(
        runner: FlaskCliRunner, tmp_path: Path, line: str, message: str) -> None:
    run(runner, "event", "import", EXAMPLE_D / "scheme.toml")
    run(runner, "contestants", "import", "EX-D", EXAMPLE_D / "contestants.csv")
    scores = tmp_path / "scores.csv"
    scores.write_text(f"bib,criterion,judge,score\n02,J1,a,2\n{line}\n", encoding="utf-8")
    before = snapshot()
    error = run(runner, "scores", "import", "EX-D", scores, ok=False)
    assert "scores.csv" in error and "row 3" in error and message in error, error
    assert snapshot() == before  # nothing written, not even row 2


# --- the scheme file ----------------------------------------------------------------------

def test_the_scheme_file_round_trips_both_kinds(runner: FlaskCliRunner) -> None:
    """TOML -> database -> the rules' scheme, and the database -> the scheme form's data ->
    the checker: the same criteria every way."""
    from scoring.files.scheme import check_scheme

    parsed = parse_scheme(SCHEME_D).scheme
    run(runner, "event", "import", EXAMPLE_D / "scheme.toml")
    event = event_d()
    assert event.to_scheme().criteria == parsed.criteria
    j1, m1 = parsed.criteria
    assert j1.levels[3] == "全面超过，优秀" and j1.kind == "judgement"
    assert (m1.unit, m1.range, m1.step) == ("mm", (Decimal(0), Decimal(10)), Decimal("0.1"))
    data = scheme_data(event)
    rows = []
    for row in data["criterion"]:
        rows.append({key: value for key, value in row.items()
                     if value not in (None, "") and key != "blind"})
    again = check_scheme({"code": data["code"], "name": data["name"],
                          "sections": data["section"], "criteria": rows}).scheme
    assert again.criteria == parsed.criteria


@pytest.mark.parametrize(("change", "message"), [
    (('levels = ["低于行业标准", "达到行业标准", "达到并部分超过行业标准", "全面超过，优秀"]',
      'levels = ["差", "好"]'), "one per level 0, 1, 2 and 3"),
    (("bands = [{ min = 0, max = 2.0, mark = 4 }, { min = 0, max = 3.0, mark = 2 }]",
      "bands = []"), "needs at least one band"),
    (("bands = [{ min = 0, max = 2.0, mark = 4 }, { min = 0, max = 3.0, mark = 2 }]",
      "bands = [{ min = 0, max = 3.0, mark = 2 }, { min = 0, max = 2.0, mark = 4 }]"),
     "would never count"),
    (("bands = [{ min = 0, max = 2.0, mark = 4 }, { min = 0, max = 3.0, mark = 2 }]",
      "bands = [{ min = 2.0, max = 0, mark = 4 }]"), "is above max"),
    (("bands = [{ min = 0, max = 2.0, mark = 4 }, { min = 0, max = 3.0, mark = 2 }]",
      "bands = [{ min = 0, max = 2.0, mark = 5 }]"), "above the criterion's max 4"),
    (("range = [0, 10]", "range = [10, 0]"), "below the highest"),
    (("judges = 3\n", "judges = 3\nstep = 1\n"), "not a step"),
    (('unit = "mm"', 'unit = "mm"\nlevels = ["a", "b", "c", "d"]'), "only a judgement"),
])
def test_a_bad_scheme_of_the_new_kinds_says_what_is_wrong(
        runner: FlaskCliRunner, tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in SCHEME_D
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(SCHEME_D.replace(old, new, 1), encoding="utf-8")
    before = snapshot()
    error = run(runner, "event", "import", scheme, ok=False)
    assert message in error, error
    assert snapshot() == before


# --- the console's scheme form ---------------------------------------------------------------

@pytest.fixture
def organiser(client: FlaskClient, runner: FlaskCliRunner) -> str:
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    token = sign_in(client, "boss")
    client.get("/lang/en")
    return token


def kinds_form(**changes: str) -> dict[str, str]:
    return scheme_form(**{
        "criterion-1-code": "J1", "criterion-1-name": "焊缝成形", "criterion-1-section": "p",
        "criterion-1-max": "6", "criterion-1-weight": "1", "criterion-1-judges": "3",
        "criterion-1-aggregate": "mean", "criterion-1-kind": "judgement",
        "criterion-1-levels": "差 | 合格 | 良好 | 优秀",
        "criterion-2-code": "M1", "criterion-2-name": "焊缝余高", "criterion-2-section": "p",
        "criterion-2-max": "4", "criterion-2-step": "0.1", "criterion-2-weight": "1",
        "criterion-2-judges": "1", "criterion-2-aggregate": "mean",
        "criterion-2-kind": "measurement", "criterion-2-unit": "mm",
        "criterion-2-range": "0~10", "criterion-2-bands": "0~2.0: 4, 0~3.0: 2", **changes})


def test_the_scheme_form_takes_both_kinds(client: FlaskClient, organiser: str) -> None:
    response = client.post("/admin/events/new", data={**kinds_form(), "csrf_token": organiser})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    event = db.session.scalar(select(Event))
    rules = {c.code: c for c in event.to_scheme().criteria}
    assert rules["J1"].levels == ("差", "合格", "良好", "优秀")
    assert rules["M1"].range == (Decimal(0), Decimal(10)) and rules["M1"].unit == "mm"
    assert [(b.min, b.max, b.mark) for b in rules["M1"].bands] == [
        (0, 2, 4), (0, 3, 2)]
    page = client.get(f"/admin/events/{event.code}/scheme").get_data(as_text=True)
    assert 'value="0~2.0: 4, 0~3.0: 2"' in page and 'value="差 | 合格 | 良好 | 优秀"' in page


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("criterion-2-bands", "0~3.0: 2, 0~2.0: 4", "would never count"),
    ("criterion-2-bands", "two to three", "is not a band"),
    ("criterion-2-range", "10", "two numbers"),
    ("criterion-1-levels", "差 | 好", "one per level"),
])
def test_the_scheme_form_says_a_problem_beside_its_field(
        client: FlaskClient, organiser: str, field: str, typed: str, message: str) -> None:
    before = snapshot()
    response = client.post("/admin/events/new",
                           data={**kinds_form(**{field: typed}), "csrf_token": organiser})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    beside(page, field, message)
    assert snapshot() == before
    # The criteria table is wider than the screen: the alert above names the place too.
    number = int(field.split("-")[1]) + 1
    alert = page.split('role="alert">', 1)[1].split("</p>", 1)[0]
    assert f"criterion {number}" in alert or f"第 {number} 个评分项" in alert, alert


# --- the judges' sheets, sign-off and the chief judge -------------------------------------------

@pytest.fixture
def judged(runner: FlaskCliRunner) -> Event:
    """EX-D drawn, judges judge1-3 on J1, judge4 on M1, a chief; scoring open, no marks."""
    run(runner, "event", "import", EXAMPLE_D / "scheme.toml")
    run(runner, "contestants", "import", "EX-D", EXAMPLE_D / "contestants.csv")
    run(runner, "draw", "EX-D", "--seed", "1")
    for name in ("judge1", "judge2", "judge3", "judge4"):
        run(runner, "user", "create", name, "--role", "judge", "--password", PASSWORD)
    run(runner, "user", "create", "chief", "--role", "chief", "--password", PASSWORD,
        "--event", "EX-D")
    for name in ("judge1", "judge2", "judge3"):
        run(runner, "judge", "assign", "EX-D", name, "J1")
    run(runner, "judge", "assign", "EX-D", "judge4", "M1")
    event = event_d()
    event.state = "scoring"
    db.session.commit()
    return event


def entries() -> list[Entry]:
    return list(db.session.scalars(select(Entry).join(Event).where(Event.code == "EX-D")
                                   .order_by(Entry.blind_code)))


def save(client: FlaskClient, token: str, entry: Entry, value: str, code: str = "J1",
         version: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/judge/EX-D/{code}/{entry.blind_code}", data={
        "value": value, "version": version, "token": "", "view": "sheet"},
        headers={"HX-Request": "true", "X-CSRFToken": token})


def mark_of(entry: Entry, judge: str, code: str = "J1") -> Mark | None:
    db.session.expire_all()
    return db.session.scalar(select(Mark).join(Criterion).where(
        Mark.entry_id == entry.id, Mark.judge == judge, Criterion.code == code))


def test_the_judgement_sheet_has_four_level_buttons(client: FlaskClient, judged: Event) -> None:
    sign_in(client, "judge1")
    page = client.get("/judge/EX-D/J1").get_data(as_text=True)
    rows = re.findall(r'<form class="mark-form".*?</form>', page, re.S)
    assert len(rows) == 4
    for row in rows:
        assert len(re.findall(r'class="level-button"', row)) == 4
        assert re.search(r'<input type="hidden" class="level-value" id="value-[^"]+" '
                         r'name="value" value=""', row)
        for field in ("token", "version", "view"):
            assert f'name="{field}"' in row
        assert 'aria-pressed="true"' not in row
    for text in ("低于行业标准", "达到行业标准", "达到并部分超过行业标准", "全面超过，优秀"):
        assert text in page
    # the marks each level gives: 0, 2, 4, 6 of max 6
    assert [re.sub(r"\D", "", mark) for mark in re.findall(
        r'<span class="level-mark">(.*?)</span>', rows[0])] == ["0", "2", "4", "6"]


def test_a_judge_saves_a_level_and_its_mark(client: FlaskClient, judged: Event) -> None:
    token = sign_in(client, "judge1")
    entry = entries()[0]
    response = save(client, token, entry, "2")
    assert response.status_code == 200
    mark = mark_of(entry, "judge1")
    assert (mark.entered, mark.value) == (Decimal(2), Decimal(4))
    assert re.search(r'data-level="2"\s+aria-pressed="true"', response.get_data(as_text=True))
    # the same level again: nothing new; another level: a new revision with both
    save(client, token, entry, "2", version=str(mark.version))
    save(client, token, entry, "3", version=str(mark.version))
    mark = mark_of(entry, "judge1")
    assert [(r.old_entered, r.new_entered, r.new_value) for r in mark.revisions] == [
        (None, Decimal(2), Decimal(4)), (Decimal(2), Decimal(3), Decimal(6))]


@pytest.mark.parametrize("typed", ["4", "1.5", "-1", "x"])
def test_a_level_outside_0_to_3_is_refused(client: FlaskClient, judged: Event,
                                           typed: str) -> None:
    token = sign_in(client, "judge1")
    client.get("/lang/en")
    before = snapshot()
    response = save(client, token, entries()[0], typed)
    page = response.get_data(as_text=True)
    assert "state-invalid" in page
    assert "not a level" in page or "not a number" in page
    assert snapshot() == before


def test_a_measured_value_gives_its_band_mark(client: FlaskClient, judged: Event) -> None:
    token = sign_in(client, "judge4")
    client.get("/lang/en")
    page = client.get("/judge/EX-D/M1").get_data(as_text=True)
    assert page.count('class="unit">mm<') == 4
    assert 'data-bands="[[&#34;0&#34;, &#34;2.0&#34;, &#34;4&#34;]' in page
    # The bands are in sight before typing: what each range of values is worth.
    assert "0–2.0 mm → 4; 0–3.0 mm → 2" in page
    for entry, typed, mark in zip(entries(), ("2.4", "2.0", "3.0", "3.1"), (2, 4, 2, 0)):
        response = save(client, token, entry, typed, code="M1")
        assert f"→ {mark} of 4 marks" in response.get_data(as_text=True)
        saved = mark_of(entry, "judge4", "M1")
        assert (saved.entered, saved.value) == (Decimal(typed), Decimal(mark))
    before = snapshot()
    for typed, message in (("10.5", "above the range"), ("2.45", "step 0.1")):
        page = save(client, token, entries()[0], typed, code="M1").get_data(as_text=True)
        assert message in page and "state-invalid" in page
    assert snapshot() == before


def sign(client: FlaskClient, token: str, code: str = "J1"):  # type: ignore[no-untyped-def]
    return client.post(f"/judge/EX-D/{code}/sign", data={"confirm": "y", "csrf_token": token})


def mark_all(client: FlaskClient, levels: dict[str, list[str]]) -> dict[str, str]:
    tokens = {}
    for judge, by_entry in levels.items():
        client.get("/logout")
        tokens[judge] = sign_in(client, judge)
        for entry, level in zip(entries(), by_entry):
            assert save(client, tokens[judge], entry, level).status_code == 200
    return tokens


def test_levels_two_apart_block_sign_off_until_a_judge_changes_one(
        client: FlaskClient, judged: Event) -> None:
    """DOMAIN.md (d): levels 1, 3, 2 are two apart: flagged, and the sheet is not signed as
    it stands; judge1 changes 1 to 2 and every sheet can be signed."""
    mark_all(client, {"judge1": ["1", "2", "2", "0"], "judge2": ["3", "2", "2", "1"],
                      "judge3": ["2", "2", "3", "1"]})
    client.get("/logout")
    token = sign_in(client, "judge2")
    client.get("/lang/en")
    first = entries()[0]
    response = sign(client, token)
    assert response.status_code == 409
    assert f"more than 1 apart on {first.blind_code}" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SignOff.id))) == 0
    page = client.get("/judge/EX-D/J1").get_data(as_text=True)
    assert "spread-notice" in page
    client.get("/logout")
    token = sign_in(client, "judge1")
    mark = mark_of(first, "judge1")
    save(client, token, first, "2", version=str(mark.version))
    assert sign(client, token).status_code == 200
    client.get("/logout")
    assert sign(client, sign_in(client, "judge2")).status_code == 200
    assert db.session.scalar(select(func.count(SignOff.id))) == 2


def test_the_chief_judge_confirms_levels_with_a_reason(client: FlaskClient,
                                                       judged: Event) -> None:
    mark_all(client, {"judge1": ["1", "2", "2", "0"], "judge2": ["3", "2", "2", "1"],
                      "judge3": ["2", "2", "3", "1"]})
    first = entries()[0]
    client.get("/logout")
    token = sign_in(client, "chief")
    client.get("/lang/en")
    page = client.get("/chief/EX-D").get_data(as_text=True)
    # the matrix shows each level and its mark; the flagged levels with a form to confirm
    assert "1 → 2" in page and "3 → 6" in page and "2 → 4" in page
    assert "(level → mark)" in page and "(measured → mark)" in page
    assert 'id="spreads"' in page and first.blind_code in page
    form = {"criterion": "J1", "code": first.blind_code, "csrf_token": token,
            "levels": shown_levels(page, first.blind_code)}
    before = snapshot()
    refused = client.post("/chief/EX-D/spread", data={**form, "reason": " "})
    assert refused.status_code == 422 and "needs a reason" in refused.get_data(as_text=True)
    assert snapshot() == before
    done = client.post("/chief/EX-D/spread", data={**form, "reason": "复议后维持"})
    assert done.status_code == 303
    confirmation = db.session.scalar(select(SpreadConfirmation))
    assert confirmation.reason == "复议后维持" and confirmation.actor == "chief"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "spread.confirm"))
    assert "Confirmed by chief" in client.get("/chief/EX-D").get_data(as_text=True)
    # now every sheet can be signed with the levels as they stand
    for judge in ("judge1", "judge2", "judge3"):
        client.get("/logout")
        assert sign(client, sign_in(client, judge)).status_code == 200
    # a second confirmation of the same levels: nothing left to confirm
    client.get("/logout")
    token = sign_in(client, "chief")
    client.get("/lang/en")
    again = client.post("/chief/EX-D/spread", data={**form, "csrf_token": token,
                                                    "reason": "again"})
    assert again.status_code == 422 and "nothing to confirm" in again.get_data(as_text=True)


def shown_levels(page: str, code: str) -> str:
    """The levels a spread's confirmation form on the chief's page carries (hidden)."""
    import html
    import re
    form = re.search(rf'name="code" value="{code}">.*?name="levels" value="([^"]*)"', page, re.S)
    assert form, "no confirmation form for " + code
    return html.unescape(form.group(1))


def test_levels_changed_while_the_chief_types_the_reason_are_not_confirmed(
        client: FlaskClient, judged: Event) -> None:
    """The confirmation names the levels the chief judge saw: a judge moving a level further
    away meanwhile is not covered by it (nor is a post without the page's levels)."""
    mark_all(client, {"judge1": ["0", "2", "2", "0"], "judge2": ["2", "2", "2", "1"],
                      "judge3": ["1", "2", "3", "1"]})
    first = entries()[0]
    client.get("/logout")
    token = sign_in(client, "chief")
    seen = shown_levels(client.get("/chief/EX-D").get_data(as_text=True), first.blind_code)
    client.get("/logout")
    judge_token = sign_in(client, "judge2")
    save(client, judge_token, first, "3", version=str(mark_of(first, "judge2").version))
    client.get("/logout")
    token = sign_in(client, "chief")
    client.get("/lang/en")
    before = snapshot()
    for levels in (seen, None):
        data = {"criterion": "J1", "code": first.blind_code, "csrf_token": token,
                "reason": "discussed"}
        if levels is not None:
            data["levels"] = levels
        refused = client.post("/chief/EX-D/spread", data=data)
        assert refused.status_code == 422 and "changed a level" in refused.get_data(as_text=True)
    assert snapshot() == before
    assert db.session.scalar(select(SpreadConfirmation)) is None


def test_a_changed_level_after_confirmation_is_flagged_again(client: FlaskClient,
                                                             judged: Event) -> None:
    from scoring.queries.marks import unresolved_spreads

    mark_all(client, {"judge1": ["1", "2", "2", "0"], "judge2": ["3", "2", "2", "1"],
                      "judge3": ["2", "2", "3", "1"]})
    first = entries()[0]
    client.get("/logout")
    token = sign_in(client, "chief")
    levels = shown_levels(client.get("/chief/EX-D").get_data(as_text=True), first.blind_code)
    client.post("/chief/EX-D/spread", data={"criterion": "J1", "code": first.blind_code,
                                            "csrf_token": token, "reason": "ok",
                                            "levels": levels})
    assert unresolved_spreads(criterion("J1")) == {}
    client.get("/logout")
    token = sign_in(client, "judge3")
    mark = mark_of(first, "judge3")
    save(client, token, first, "3", version=str(mark.version))  # now 1, 3, 3
    assert list(unresolved_spreads(criterion("J1"))) == [first.id]


def test_the_chief_judge_corrects_a_level(client: FlaskClient, judged: Event) -> None:
    mark_all(client, {"judge1": ["2", "2", "2", "0"]})
    mark = mark_of(entries()[0], "judge1")
    client.get("/logout")
    token = sign_in(client, "chief")
    client.get("/lang/en")
    form = client.get(f"/chief/EX-D/marks/{mark.id}").get_data(as_text=True)
    assert "New level (0, 1, 2 or 3)" in form and "Saved mark: 2 → 4" in form
    bad = client.post(f"/chief/EX-D/marks/{mark.id}", data={
        "value": "4", "reason": "r", "version": str(mark.version)},
        headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert "not a level" in bad.get_data(as_text=True)
    good = client.post(f"/chief/EX-D/marks/{mark.id}", data={
        "value": "3", "reason": "复核", "version": str(mark.version)},
        headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert "Corrected to 3 → 6" in good.get_data(as_text=True)
    mark = mark_of(entries()[0], "judge1")
    assert (mark.entered, mark.value, mark.revisions[-1].source) == (
        Decimal(3), Decimal(6), "chief")


# --- exports ---------------------------------------------------------------------------------

def test_the_xlsx_marks_sheet_shows_the_entered_value_and_the_mark(
        client: FlaskClient, runner: FlaskCliRunner) -> None:
    load_example_d(runner)
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    sign_in(client, "boss")
    client.get("/lang/en")
    response = client.get("/admin/events/EX-D/export.xlsx")
    assert response.status_code == 200, response.status_code
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["Judges’ marks"]
    header = [cell.value for cell in sheet[1]]
    assert header[6:9] == ["Level or measured value", "Unit", "Mark"]
    rows = {(row[0], row[2], row[5]): row[6:9]
            for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("01", "M1", "m")] == (2.4, "mm", 2)
    assert rows[("01", "J1", "b")] == (3, None, 6)


@pytest.mark.parametrize("value", ["1111111111111111111", "99999999999999999999", "1000000000"])
def test_a_huge_measured_value_without_a_range_is_refused(
        runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path, value: str) -> None:
    """Without a range any value not below 0 may be entered, but not one no measurement is
    (a 19-digit number overflowed the database's integer column: a 500 before)."""
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(SCHEME_D.replace("range = [0, 10]\n", ""), encoding="utf-8")
    run(runner, "event", "import", scheme)
    run(runner, "contestants", "import", "EX-D", EXAMPLE_D / "contestants.csv")
    scores = tmp_path / "scores.csv"
    scores.write_text(f"bib,criterion,judge,score\n01,M1,m,{value}\n", encoding="utf-8")
    before = snapshot()
    error = run(runner, "scores", "import", "EX-D", scores, ok=False)
    assert "row 2" in error and "too large" in error, error
    assert snapshot() == before


def test_scoring_is_not_locked_with_levels_too_far_apart(client: FlaskClient,
                                                         judged: Event) -> None:
    """Levels more than a level apart "must be discussed and redone": a judge who does not
    sign (or signed before the others) cannot carry them past the lock; once the chief judge
    confirms them, the lock goes through."""
    mark_all(client, {"judge1": ["0", "2", "2", "0"], "judge2": ["2", "2", "2", "1"],
                      "judge3": ["1", "2", "3", "1"]})
    first = entries()[0]
    client.get("/logout")
    token = sign_in(client, "chief")
    client.get("/lang/en")
    lock = {"csrf_token": token, "confirm": "y", "from_state": "scoring"}
    refused = client.post("/chief/EX-D/lock", data=lock)
    assert refused.status_code in (409, 422), refused.status_code
    assert "not resolved: J1 (1)" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert event_d().state == "scoring"
    page = client.get("/chief/EX-D").get_data(as_text=True)
    client.post("/chief/EX-D/spread", data={
        "criterion": "J1", "code": first.blind_code, "csrf_token": token,
        "reason": "复议后维持", "levels": shown_levels(page, first.blind_code)})
    assert client.post("/chief/EX-D/lock", data=lock).status_code in (302, 303)
    db.session.expire_all()
    assert event_d().state == "locked"
