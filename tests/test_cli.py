"""The command line of FORMATS.md, end to end through the real database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import (
    Assignment, AuditEvent, Contestant, Entry, Event, Mark, MarkRevision, User,
)

from .conftest import DATA

EXAMPLE_B = DATA / "example-b"


def run(runner: FlaskCliRunner, *args: str | Path, ok: bool = True) -> str:
    result = runner.invoke(args=[str(arg) for arg in args])
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
        return result.stdout
    assert result.exit_code == 1, result.output
    return result.stderr


def load_example_b(runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")
    run(runner, "entries", "update", "EX-B", EXAMPLE_B / "entries.csv")


def load_example_b_with_an_award(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Example (b) with one award tier (一等奖, one winner), without entries.csv."""
    scheme = tmp_path / "scheme.toml"
    scheme.write_text((EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8")
                      + '\n[[awards]]\nname = "一等奖"\ncount = 1\n', encoding="utf-8")
    run(runner, "event", "import", scheme)
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def snapshot() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(count(model) for model in (Event, Entry, Contestant, Mark, MarkRevision,
                                            AuditEvent, User, Assignment))


def test_example_b_round_trip_reproduces_the_expected_csv(runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    output = run(runner, "results", "export", "EX-B", "--format", "csv")
    assert output == (EXAMPLE_B / "expected-results.csv").read_text(encoding="utf-8")


def test_csv_to_a_file_has_a_bom_for_excel(runner: FlaskCliRunner, tmp_path: Path) -> None:
    load_example_b(runner)
    target = tmp_path / "results.csv"
    run(runner, "results", "export", "EX-B", "--format", "csv", "-o", target)
    data = target.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(row["rank"], row["bib"], row["total"]) for row in rows] == [
        ("1", "03", "89.55"), ("2", "12", "87.00"), ("2", "18", "87.00"),
        ("4", "07", "87.00"), ("5", "15", "82.35")]


def test_json_export(runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    document = json.loads(run(runner, "results", "export", "EX-B", "--format", "json"))
    assert document["event"]["code"] == "EX-B"
    first = document["results"][0]
    assert first["bib"] == "03" and first["total"] == "89.55" and first["complete"] is True
    assert first["theory"] == "27.60" and first["T"] == "92.00"
    assert "id_number" not in first and "phone" not in first
    # The team ranking, as the API's /teams (README: `teams` in the JSON export).
    assert document["teams"][0] == {"rank": 1, "delegation": "沈阳代表队",
                                    "members_counted": 2, "total": "176.55", "complete": True}
    assert document["decoded"] == ["T", "P"]


@pytest.mark.parametrize("format_", ["xlsx", "pdf"])
def test_binary_exports_need_a_file(runner: FlaskCliRunner, format_: str) -> None:
    load_example_b(runner)
    error = run(runner, "results", "export", "EX-B", "--format", format_, ok=False)
    assert "binary file" in error and "-o" in error
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "results.export")).first()


def test_absent_and_dq_rows_come_last_without_rank(runner: FlaskCliRunner,
                                                   tmp_path: Path) -> None:
    load_example_b(runner)
    update = tmp_path / "entries.csv"
    update.write_text("参赛号,状态\n03,取消资格\n12,缺考\n", encoding="utf-8")
    run(runner, "entries", "update", "EX-B", update)
    rows = list(csv.DictReader(io.StringIO(
        run(runner, "results", "export", "EX-B", "--format", "csv"))))
    assert [(row["rank"], row["bib"], row["status"], row["total"]) for row in rows] == [
        ("1", "18", "ok", "87.00"), ("2", "07", "ok", "87.00"), ("3", "15", "ok", "82.35"),
        ("", "12", "absent", ""), ("", "03", "dq", "")]


def test_reimporting_a_mark_replaces_it_and_keeps_the_old_value(
        runner: FlaskCliRunner, tmp_path: Path) -> None:
    load_example_b(runner)
    correction = tmp_path / "fix.csv"
    correction.write_text("参赛号,评分项,裁判,分数\n07,P,e,91.5\n", encoding="utf-8")
    run(runner, "scores", "import", "EX-B", correction)
    mark = db.session.scalars(select(Mark).join(Entry).where(Entry.bib == "07")
                              .where(Mark.value == 91.5)).one()
    assert [(str(r.old_value), str(r.new_value)) for r in mark.revisions] == [
        ("None", "90"), ("90", "91.5")]
    assert mark.version == 2


def test_xlsx_contestants_with_chinese_headers(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "参赛号", "姓名", "性别", "身份证号", "工作单位", "代表队", "手机号"])
    sheet.append([1, 3, "王强", "男", "11010519491231002X", "沈阳某机械厂", "沈阳代表队",
                  13800138000])
    sheet.append([2, "07", "李娜", "女", None, None, "大连代表队", None])
    path = tmp_path / "报名表.xlsx"
    book.save(path)
    run(runner, "contestants", "import", "EX-B", path)
    entries = {entry.bib: entry for entry in db.session.scalars(select(Entry))}
    assert set(entries) == {"3", "07"}
    assert entries["3"].contestant.id_number == "11010519491231002X"
    assert entries["3"].contestant.phone == "13800138000"
    assert entries["3"].contestant.gender == "M"


def test_contestants_csv_in_gbk_is_read(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path = tmp_path / "gbk.csv"
    path.write_bytes("参赛号,姓名,代表队\n01,张伟,沈阳代表队\n".encode("gbk"))
    run(runner, "contestants", "import", "EX-B", path)
    assert db.session.scalar(select(Contestant.name)) == "张伟"


def test_draw_is_seeded_recorded_and_reproducible(runner: FlaskCliRunner,
                                                  app: Flask) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    first = run(runner, "draw", "EX-B", "--seed", "2026")
    table = {(e.bib, e.station, e.draw_order) for e in db.session.scalars(select(Entry))}
    codes = {e.blind_code for e in db.session.scalars(select(Entry))}
    again = run(runner, "draw", "EX-B", "--seed", "2026")
    db.session.expire_all()
    assert first == again
    # Stations and order come from the seed; blind codes do not (tests/test_codes.py).
    assert table == {(e.bib, e.station, e.draw_order) for e in
                     db.session.scalars(select(Entry))}
    assert sorted(station for _, station, _ in table) == [1, 2, 3, 4, 5]
    assert len(codes) == 5 and None not in codes
    assert not codes & {e.blind_code for e in db.session.scalars(select(Entry))}
    assert "blind" not in first and "加密号" not in first.splitlines()[1]
    event = db.session.scalar(select(Event))
    assert event.draw_seed == 2026 and event.state == "drawn"
    record = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "draw")).first()
    assert record.details["seed"] == 2026 and set(record.details["result"]) == {
        "03", "07", "12", "15", "18"}
    other = run(runner, "draw", "EX-B", "--seed", "7")
    assert other != first


def test_draw_is_refused_once_scoring_started(runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    before = snapshot()
    assert "started scoring" in run(runner, "draw", "EX-B", ok=False)
    assert snapshot() == before


def test_users_and_assignments(runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    output = run(runner, "user", "create", "judge1", "--role", "judge")
    password = output.strip().splitlines()[-1].split(": ", 1)[1]
    user = db.session.scalar(select(User).where(User.username == "judge1"))
    assert user.check_password(password) and not user.check_password("wrong")
    assert password not in user.password_hash and user.password_hash.startswith("scrypt")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", "long-enough")
    run(runner, "judge", "assign", "EX-B", "judge1", "T", "P")
    assert count(Assignment) == 2
    error = run(runner, "judge", "assign", "EX-B", "judge1", "Q", ok=False)
    assert "unknown criterion “Q”" in error
    error = run(runner, "judge", "assign", "EX-B", "boss", "T", ok=False)
    assert "not a judge" in error
    error = run(runner, "user", "create", "judge1", "--role", "judge", ok=False)
    assert "already exists" in error
    assert count(Assignment) == 2


def test_a_command_on_a_new_database_creates_the_schema(app: Flask, runner: FlaskCliRunner,
                                                tmp_path: Path) -> None:
    from scoring import create_app

    empty = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.db'}",
                        "SECRET_KEY": "x", "SCORING_LOCALE": "en"})
    with empty.app_context():
        result = empty.test_cli_runner().invoke(args=["event", "import",
                                                      str(EXAMPLE_B / "scheme.toml")])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "Created the database schema" in result.stderr
    assert "Created event EX-B" in result.stdout


def test_chinese_is_the_default_language(schema: str, tmp_path: Path) -> None:
    from .conftest import make_app

    chinese = make_app(schema, SCORING_LOCALE=None)
    path = tmp_path / "bad.txt"
    path.write_text("x")
    with chinese.app_context():
        result = chinese.test_cli_runner().invoke(
            args=["contestants", "import", "NOPE", str(path)])
        db.engine.dispose()
    assert result.exit_code == 1
    assert "没有" in result.stderr or "赛项" in result.stderr, result.stderr


@pytest.mark.parametrize("command", [["--help"], ["results", "export", "--help"]])
def test_help(runner: FlaskCliRunner, command: list[str]) -> None:
    assert "Usage" in run(runner, *command)


def test_scores_from_excel_find_bibs_that_lost_their_leading_zero(
        runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    book = Workbook()
    book.active.append(["参赛号", "评分项", "裁判", "分数"])
    book.active.append([3, "T", "e", 92])
    book.active.append([7, "P", "e", 90.5])
    path = tmp_path / "marks.xlsx"
    book.save(path)
    run(runner, "scores", "import", "EX-B", path)
    marks = {(mark.entry.bib, mark.criterion.code): str(mark.value)
             for mark in db.session.scalars(select(Mark))}
    assert marks == {("03", "T"): "92", ("07", "P"): "90.5"}
