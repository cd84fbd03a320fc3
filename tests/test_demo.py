"""`scoring demo`: the welding final it loads, and what it must never do."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from fractions import Fraction

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from scoring import demo, rules
from scoring.extensions import db
from scoring.inputs import id_number_problem
from scoring.models import (
    Assignment, AuditEvent, Competition, Contestant, Criterion, Entry, Event, Mark,
    MarkRevision, User,
)
from scoring.queries.marks import unresolved_spreads
from scoring.queries.results import event_results, public_snapshot


def load(runner: FlaskCliRunner) -> str:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result.output


def demo_event() -> Event:
    event = db.session.scalar(select(Event).where(Event.code == "WELD"))
    assert event is not None
    return event


def row_counts() -> dict[str, int]:
    return {table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def assert_accounts_printed(output: str) -> None:
    for username, password in [("organiser", "demo-organiser"), ("chief", "demo-chief"),
                               *((f"judge{n}", f"demo-judge{n}") for n in range(1, 6))]:
        line = next((line for line in output.splitlines()
                     if line.startswith(f"{username}:")), None)
        assert line is not None, f"no line for {username} in:\n{output}"
        assert password in line
    assert "chief judge" in output


def test_demo_prints_summary_and_accounts(runner: FlaskCliRunner) -> None:
    output = load(runner)
    assert "WELD" in output and "焊工决赛" in output
    assert demo.DEMO_COMPETITION in output
    assert_accounts_printed(output)
    assert demo.demo_loaded()
    assert not demo.database_is_empty()


def test_demo_competition_event_and_scheme(runner: FlaskCliRunner) -> None:
    assert not demo.demo_loaded()
    load(runner)
    competition = db.session.scalar(select(Competition))
    assert competition is not None and competition.name == "第六届全国职工职业技能大赛（示例）"
    event = demo_event()
    assert event.competition_id == competition.id
    assert event.name == "焊工决赛"
    assert event.state == "scoring"
    assert event.visibility == "live"
    assert event.draw_seed == demo.DRAW_SEED and event.drawn_at is not None
    assert event.tie_break == ["section:practical", "time"]
    assert event.team_best_n == 3
    assert [section.code for section in event.sections] == ["theory", "practical"]
    scheme = event.to_scheme()
    criteria = {criterion.code: criterion for criterion in scheme.criteria}
    assert list(criteria) == ["T1", "P1", "J1", "M1", "P2", "P3", "S1"]
    assert criteria["P1"].judges == 5 and criteria["P1"].aggregate == "trimmed"
    assert criteria["P1"].max_spread == 8
    assert criteria["S1"].kind == "penalty"
    # WorldSkills-style criteria: 焊缝成形 judged by three judges, 焊缝余高 measured in mm.
    assert criteria["J1"].kind == "judgement" and criteria["J1"].judges == 3
    assert criteria["J1"].name == "焊缝成形" and len(criteria["J1"].levels) == 4
    assert criteria["M1"].kind == "measurement" and criteria["M1"].unit == "mm"
    assert criteria["M1"].name == "焊缝余高" and criteria["M1"].bands
    # Full marks give 30 for the theory and 70 for the practical.
    theory = sum(c.weight * Fraction(c.max) for c in scheme.criteria if c.section == "theory")
    practical = sum(c.weight * Fraction(c.max) for c in scheme.criteria
                    if c.section == "practical" and c.kind != "penalty")
    assert (theory, practical) == (30, 70)
    assert [(tier.name, tier.min_total) for tier in scheme.awards] == [
        ("一等奖", None), ("二等奖", None), ("三等奖", Decimal(60))]
    assert event.results_version > 1
    actions = [record.action for record in db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.id))]
    for action in ("event.create", "contestants.import", "draw", "user.create",
                   "judge.assign", "entries.update", "demo.load"):
        assert action in actions
    assert actions[-1] == "demo.load"


def test_demo_contestants(runner: FlaskCliRunner) -> None:
    load(runner)
    entries = list(db.session.scalars(select(Entry)))
    assert 28 <= len(entries) <= 32
    assert sorted(entry.bib for entry in entries) == [f"{n:02d}" for n in
                                                       range(1, len(entries) + 1)]
    delegations = Counter(entry.delegation for entry in entries)
    assert len(delegations) == 6 and None not in delegations
    assert "北京代表队" in delegations and "辽宁代表队" in delegations
    people = list(db.session.scalars(select(Contestant)))
    assert len(people) == len(entries)
    assert len({person.name for person in people}) == len(people)
    assert {person.gender for person in people} == {"M", "F"}
    assert all(person.unit for person in people)
    for person in people:
        assert person.id_number is not None and id_number_problem(person.id_number) is None
        assert 1975 <= int(person.id_number[6:10]) <= 2000
        # The sequence's last digit is odd for a man, even for a woman.
        assert int(person.id_number[16]) % 2 == (1 if person.gender == "M" else 0)
        assert person.phone is not None and re.fullmatch(r"1[3-9]\d{9}", person.phone)
    assert len({person.id_number for person in people}) == len(people)
    assert len({person.phone for person in people}) == len(people)
    # The draw gave every entry a station, an order and a blind code.
    assert sorted(entry.station for entry in entries) == list(range(1, len(entries) + 1))
    assert sorted(entry.draw_order for entry in entries) == list(range(1, len(entries) + 1))
    assert len({entry.blind_code for entry in entries}) == len(entries)
    statuses = Counter(entry.status for entry in entries)
    assert statuses == {"ok": len(entries) - 1, "absent": 1}
    for entry in entries:
        if entry.status == "absent":
            assert entry.time_used is None
            assert not entry.marks
        else:
            assert entry.time_used is not None and 7800 <= entry.time_used <= 10800


def test_demo_accounts_and_assignments(runner: FlaskCliRunner) -> None:
    load(runner)
    users = {user.username: user for user in db.session.scalars(select(User))}
    assert len(users) >= 7
    assert users["organiser"].role == "organiser"
    assert users["chief"].role == "chief"
    judges = [f"judge{n}" for n in range(1, 6)]
    for username in judges:
        assert users[username].role == "judge"
        assert users[username].display_name and users[username].display_name != username
    assert any(users[username].delegation for username in judges)
    for account in demo.ACCOUNTS:
        assert users[account.username].check_password(account.password)
    assigned: dict[str, set[str]] = {}
    for assignment in db.session.scalars(select(Assignment)):
        assigned.setdefault(assignment.criterion.code, set()).add(assignment.user.username)
    assert assigned["P1"] == set(judges)
    for code in ("P2", "P3", "S1", "M1"):
        assert assigned.get(code), f"nobody marks {code}"
    assert len(assigned["J1"]) == 3
    assert "T1" not in assigned  # the theory result is imported, not marked by a judge
    # Every mark by an account is on a criterion that account is assigned to.
    for mark in db.session.scalars(select(Mark).where(Mark.user_id.is_not(None))):
        assert mark.judge in assigned[mark.criterion.code]
        assert users[mark.judge].id == mark.user_id


def test_demo_marks_are_valid_and_recorded(runner: FlaskCliRunner) -> None:
    load(runner)
    event = demo_event()
    rules_by_id = {criterion.id: criterion.to_rule() for criterion in event.criteria}
    marks = list(db.session.scalars(select(Mark)))
    assert marks
    for mark in marks:
        rule = rules_by_id[mark.criterion_id]
        assert rules.check_mark(rule, mark.value) is None, (rule.code, mark.value)
        assert [revision.source for revision in mark.revisions] == ["demo"]
        assert mark.revisions[0].new_value == mark.value
        assert mark.revisions[0].new_entered == mark.entered
        if rule.entered:  # a level or a measured value, and the mark it gives
            assert rules.check_entered(rule, mark.entered) is None, (rule.code, mark.entered)
            assert rules.stored_mark(rule, mark.entered) == mark.value
        else:
            assert mark.entered is None
        if rule.code == "T1":
            assert mark.judge == demo.THEORY_JUDGE and mark.user_id is None
            assert Decimal(60) <= mark.value <= Decimal(98)
        else:
            assert mark.user_id is not None
    assert db.session.scalar(select(func.count(MarkRevision.id))) == len(marks)

    by_code = Counter(mark.criterion.code for mark in marks)
    present = [entry for entry in event.entries if entry.status == "ok"]
    assert by_code["T1"] == len(present)  # all theory results are in
    for code in ("P2", "P3", "S1", "M1"):  # most of the single-judge criteria
        assert len(present) * 2 // 3 < by_code[code] < len(present), code
    p1_judges = Counter(mark.entry_id for mark in marks if mark.criterion.code == "P1")
    assert set(p1_judges.values()) <= {3, 4, 5}
    assert 5 in p1_judges.values() and min(p1_judges.values()) < 5
    assert len(present) // 2 <= len(p1_judges) <= len(present) * 4 // 5
    j1_judges = Counter(mark.entry_id for mark in marks if mark.criterion.code == "J1")
    assert set(j1_judges) == set(p1_judges) and set(j1_judges.values()) == {3}


def test_the_demo_has_a_harsh_judge_and_a_spread_of_levels(runner: FlaskCliRunner) -> None:
    """judge5 marks lower than the panel on P1 and J1 (for the judge analytics), and one
    entry's J1 levels are two apart: flagged, blocking its judges' sheets."""
    load(runner)
    event = demo_event()
    for code in ("P1", "J1"):
        criterion = next(criterion for criterion in event.criteria if criterion.code == code)
        differences = []
        for entry in event.entries:
            marks = {mark.judge: mark.value for mark in entry.marks
                     if mark.criterion_id == criterion.id}
            if demo.HARSH_JUDGE in marks and len(marks) >= 3:
                others = [value for judge, value in marks.items() if judge != demo.HARSH_JUDGE]
                differences.append(marks[demo.HARSH_JUDGE] - sum(others) / len(others))
        assert differences and sum(differences) / len(differences) < -1, code
    # On the analytics page, at its default threshold (10 % of P1's 40), judge5 stands out.
    from scoring.queries.analytics import event_analytics
    p1 = next(item for item in event_analytics(event) if item.criterion.code == "P1")
    severities = {row.account: row.figures.severity for row in p1.rows}
    assert severities[demo.HARSH_JUDGE] < -4
    assert all(abs(value) <= 4 for judge, value in severities.items() if judge != demo.HARSH_JUDGE)
    j1 = next(criterion for criterion in event.criteria if criterion.code == "J1")
    flagged = unresolved_spreads(j1)
    assert len(flagged) == 1
    (levels,) = flagged.values()
    assert max(levels.values()) - min(levels.values()) == 2


def no_judge_marked_their_own_delegation(event: Event) -> None:
    for mark in db.session.scalars(select(Mark).where(Mark.user_id.is_not(None))):
        user = db.session.get(User, mark.user_id)
        assert not (user.delegation and user.delegation == mark.entry.delegation), (
            mark.judge, mark.entry.bib, mark.criterion.code)
    assert event.conflict_check


def test_the_simulated_judges_finish_the_marking(runner: FlaskCliRunner) -> None:
    """`scoring demo --simulate` enters every mark left, as the judges would, and then
    every result is final: judge2 and judge3 stand aside for their own delegations, so
    those contestants' P1 counts four marks, not five, and nothing stays provisional."""
    output = load(runner)
    event = demo_event()
    no_judge_marked_their_own_delegation(event)
    left = len(demo.missing_marks(event))
    entered, expected = map(int, re.search(r"(\d+) of (\d+) marks", output).groups())
    assert expected == entered + left and left > 0
    lines: list[str] = []
    assert demo.simulate(rate=1e6, echo=lines.append, seed=7) == left
    saves = [line for line in lines if " = " in line]
    assert "complete" in lines[-1] and len(saves) == left
    # As each sheet completes its judge signs it, and the chief judge decodes each blind
    # criterion once all its sheets are signed: the board ends with every criterion in.
    # 5 on P1, 3 on J1; M1, P2, P3, S1. J1's sheets wait for the chief judge to confirm
    # the levels two apart.
    assert sum("signed the sheet" in line for line in lines) == 12
    confirmed = [index for index, line in enumerate(lines) if "confirmed the levels" in line]
    assert len(confirmed) == 1
    assert all(index > confirmed[0] for index, line in enumerate(lines)
               if "signed the sheet of J1" in line)
    assert [line.split()[4].rstrip(":") for line in lines if "decoded" in line] == [
        "P1", "J1", "M1", "P2", "P3"]
    event = demo_event()
    assert all(criterion.public for criterion in event.criteria)
    assert public_snapshot(event)["decoded"] == ["T1", "P1", "J1", "M1", "P2", "P3", "S1"]
    no_judge_marked_their_own_delegation(event)
    assert demo.missing_marks(event) == []
    standings = event_results(event).standings
    assert standings.complete and all(team.complete for team in standings.teams)
    own = [entry for entry in event.entries if entry.status == "ok"
           and entry.delegation in ("江苏代表队", "广东代表队")]
    assert own
    p1 = next(criterion for criterion in event.criteria if criterion.code == "P1")
    for entry in own:
        assert sum(mark.criterion_id == p1.id for mark in entry.marks) == 4


def test_demo_results_are_mid_competition(runner: FlaskCliRunner) -> None:
    load(runner)
    results = event_results(demo_event()).standings.results
    assert any(result.complete for result in results)
    incomplete = [result for result in results if not result.complete]
    assert len(incomplete) >= len(results) // 4
    assert any("P1" in result.spread for result in results)
    assert [result.status for result in results].count("absent") == 1
    ranked = [result for result in results if result.rank is not None]
    assert len(ranked) == len(results) - 1
    totals = [result.total for result in ranked]
    assert all(total is not None for total in totals)
    assert max(totals) <= 100  # type: ignore[type-var]
    assert len(set(totals)) > len(totals) // 2  # a realistic spread of totals


def test_demo_api_shows_the_event_without_personal_data(
        runner: FlaskCliRunner, client: FlaskClient) -> None:
    load(runner)
    events = client.get("/api/events")
    assert events.status_code == 200
    assert {"code": "WELD", "name": "焊工决赛", "state": "scoring", "visibility": "live",
            "provisional": False, "appeal_window_ends_at": None} in events.get_json()["events"]
    results = client.get("/api/events/WELD/results")
    assert results.status_code == 200
    rows = results.get_json()["results"]
    assert 28 <= len(rows) <= 32
    assert any(row["complete"] is False for row in rows)
    assert any(row["complete"] is True for row in rows)
    assert all(row["award"] == "" for row in rows)  # awards wait for publication
    teams = client.get("/api/events/WELD/teams")
    assert teams.status_code == 200
    assert len(teams.get_json()["teams"]) == 6

    secrets = [value for person in db.session.scalars(select(Contestant))
               for value in (person.id_number, person.phone) if value]
    judges = [account.display_name for account in demo.ACCOUNTS]
    for response in (events, results, teams, client.get("/")):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        for secret in secrets:
            assert secret not in text
        for name in judges:
            assert name not in text


def test_demo_a_second_time_fails_and_writes_nothing(runner: FlaskCliRunner) -> None:
    load(runner)
    before = row_counts()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "empty" in result.stderr
    assert "password" not in result.output
    db.session.expire_all()
    assert row_counts() == before


def test_demo_if_empty_on_a_loaded_database(runner: FlaskCliRunner) -> None:
    load(runner)
    before = row_counts()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "already loaded" in result.output
    assert_accounts_printed(result.output)
    db.session.expire_all()
    assert row_counts() == before


def test_demo_if_empty_on_an_empty_database_loads_it(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert_accounts_printed(result.output)
    assert demo.demo_loaded()


def test_demo_only_flushes(app: object) -> None:
    """The caller commits: a rollback after load_demo leaves the database empty."""
    summary = demo.load_demo("test")
    assert "WELD" in summary
    assert db.session.scalar(select(func.count(Mark.id)))
    db.session.rollback()
    assert demo.database_is_empty()
    assert not demo.demo_loaded()
    assert all(count == 0 for count in row_counts().values())


def snapshot() -> list[tuple]:
    event = demo_event()
    people = [(entry.bib, entry.contestant.name, entry.contestant.id_number,
               entry.contestant.phone, entry.contestant.unit, entry.delegation, entry.station,
               entry.draw_order, bool(entry.blind_code), entry.status, entry.time_used)
              for entry in sorted(event.entries, key=lambda entry: entry.bib)]
    marks = sorted((mark.entry.bib, mark.criterion.code, mark.judge, mark.value)
                   for mark in db.session.scalars(select(Mark)))
    return [*people, *marks]


def test_demo_is_the_same_every_time(app: object) -> None:
    """The same contestants, draw and marks every time; only the blind codes differ (they
    come from `secrets`, never from the draw's seed)."""
    demo.load_demo("test")
    first = snapshot()
    db.session.rollback()
    demo.load_demo("test")
    assert snapshot() == first
    db.session.rollback()


@pytest.mark.pure
def test_demo_scheme_text_passes_the_scheme_checks() -> None:
    from scoring.files.scheme import parse_scheme

    checked = parse_scheme(demo.SCHEME, filename="demo.toml")
    assert checked.competition == demo.DEMO_COMPETITION
    assert checked.scheme.code == "WELD"
    assert checked.weights == {"T1": "0.3", "P1": "0.7", "J1": "0.7", "M1": "0.7",
                               "P2": "0.7", "P3": "0.7", "S1": "0.7"}


def test_demo_criteria_rows(runner: FlaskCliRunner) -> None:
    load(runner)
    rows = {criterion.code: criterion for criterion in db.session.scalars(select(Criterion))}
    assert rows["T1"].step == Decimal("0.5") and rows["T1"].max_value == 100
    assert rows["P2"].step == 1 and rows["P3"].max_value == 20
    assert rows["S1"].max_value == 10 and rows["S1"].step == Decimal("0.5")
