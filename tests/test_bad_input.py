"""Bad files: every problem names file, row and column, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from openpyxl import Workbook

from sqlalchemy import func, select

from scoring.extensions import db

from .test_cli import EXAMPLE_B, load_example_b, run, snapshot

SCORES_HEADER = "参赛号,评分项,裁判,分数\n"


@pytest.fixture
def loaded(runner: FlaskCliRunner) -> FlaskCliRunner:
    load_example_b(runner)
    return runner


@pytest.mark.parametrize(("row", "column", "reason"), [
    ("03,Q,e,80", "评分项", "unknown criterion “Q”"),
    ("03,T,e,100.5", "分数", "above the maximum 100"),
    ("03,T,e,-1", "分数", "below 0"),
    ("03,T,e,80.25", "分数", "not a multiple of the step 0.5"),
    ("03,T,e,eighty", "分数", "“eighty” is not a number"),
    ("03,T,e,NaN", "分数", "“NaN” is not a number"),
    ("03,T,e,1e3", "分数", "“1e3” is not a number"),
    ("03,T,e,", "分数", "the mark is empty"),
    ("03,T,e,inf", "分数", "“inf” is not a number"),
    ("99,T,e,80", "参赛号", "no contestant with bib “99”"),
    ("03,T,,80", "裁判", "the judge is empty"),
])
def test_bad_mark_is_refused_whole(loaded: FlaskCliRunner, tmp_path: Path, row: str,
                                   column: str, reason: str) -> None:
    path = tmp_path / "marks.csv"
    path.write_text(SCORES_HEADER + "12,T,e,88\n" + row + "\n", encoding="utf-8")
    before = snapshot()
    error = run(loaded, "scores", "import", "EX-B", path, ok=False)
    assert f"marks.csv, row 3, column {column}: {reason}" in error
    assert snapshot() == before


def test_same_mark_twice_in_one_file(loaded: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "marks.csv"
    path.write_text(SCORES_HEADER + "12,T,e,88\n03,T,e,80\n12,T,e,89\n", encoding="utf-8")
    before = snapshot()
    error = run(loaded, "scores", "import", "EX-B", path, ok=False)
    assert "row 4, column 裁判: the same bib, criterion and judge are already in row 2" in error
    assert snapshot() == before


def test_every_problem_is_reported(loaded: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "marks.csv"
    path.write_text(SCORES_HEADER + "12,T,e,abc\n03,X,e,80\n03,P,e,101\n", encoding="utf-8")
    lines = run(loaded, "scores", "import", "EX-B", path, ok=False).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "error", "error", "error"]
    assert ["row 2" in lines[0], "row 3" in lines[1], "row 4" in lines[2]] == [True] * 3


def test_missing_column(loaded: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "marks.csv"
    path.write_text("参赛号,评分项,分数\n03,T,80\n", encoding="utf-8")
    error = run(loaded, "scores", "import", "EX-B", path, ok=False)
    assert "row 1, column 裁判: the required column is missing" in error


@pytest.mark.parametrize(("content", "column", "reason"), [
    ("01,张三\n01,李四\n", "参赛号", "bib 01 is already used in row 2"),
    ("01,张三,11010519491231002X\n02,李四,110105194912310021\n", "身份证号",
     "the check digit is wrong (the last character should be X)"),
    ("01,张三,11010519491331002X\n", "身份证号", "is not a date"),
    ("01,张三,1101051949123100\n", "身份证号", "17 digits and a check digit"),
    ("01,,\n", "姓名", "the name is empty"),
    ("0 1,张三\n", "参赛号", "a bib is a letter or digit"),
    ("-1,张三\n", "参赛号", "a bib is a letter or digit"),
])
def test_bad_contestant_is_refused_whole(runner: FlaskCliRunner, tmp_path: Path,
                                         content: str, column: str, reason: str) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path = tmp_path / "people.csv"
    path.write_text("参赛号,姓名,身份证号\n" + content, encoding="utf-8")
    before = snapshot()
    error = run(runner, "contestants", "import", "EX-B", path, ok=False)
    assert "people.csv, row " in error and f"column {column}: " in error and reason in error
    assert snapshot() == before


def test_bad_phone_and_gender(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path = tmp_path / "people.csv"
    path.write_text("bib,name,gender,phone\n01,张三,X,1380013800\n", encoding="utf-8")
    error = run(runner, "contestants", "import", "EX-B", path, ok=False)
    assert "row 2, column gender: “X” is not a gender" in error
    assert "row 2, column phone: a mobile number has 11 digits" in error


def test_bad_row_in_an_xlsx(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    book = Workbook()
    book.active.append(["参赛号", "姓名", "身份证号"])
    book.active.append(["01", "张三", "11010519491231002X"])
    book.active.append(["02", "李四", 110105194912310021])  # typed as a number: digits lost
    path = tmp_path / "people.xlsx"
    book.save(path)
    before = snapshot()
    error = run(runner, "contestants", "import", "EX-B", path, ok=False)
    assert "people.xlsx, row 3, column 身份证号:" in error
    assert snapshot() == before


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("people.txt", b"bib,name\n01,x\n", "must be .csv or .xlsx"),
    ("people.xlsx", b"bib,name\n01,x\n", "not a valid .xlsx workbook"),
    ("people.csv", b"PK\x03\x04\x00\x00binary", "not a CSV text file"),
    ("people.csv", b"", "the file is empty"),
    ("people.csv", "参赛号,姓名\n".encode(), "a header but no rows"),
    ("people.csv", b"\xff\xfe\xfa\xfb bad bytes \x81", "save the file as"),
])
def test_files_that_cannot_be_read(runner: FlaskCliRunner, tmp_path: Path, name: str,
                                   data: bytes, reason: str) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot()
    error = run(runner, "contestants", "import", "EX-B", path, ok=False)
    assert name in error and reason in error
    assert snapshot() == before


def test_unknown_event(runner: FlaskCliRunner) -> None:
    error = run(runner, "contestants", "import", "NOPE", EXAMPLE_B / "contestants.csv",
                ok=False)
    assert "no event with the code “NOPE”" in error


def test_bad_entries_file(loaded: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "entries.csv"
    path.write_text("bib,status,time\n03,late,2:61:00\n44,ok,100\n", encoding="utf-8")
    before = snapshot()
    error = run(loaded, "entries", "update", "EX-B", path, ok=False)
    assert "row 2, column status: “late” is not a status" in error
    assert "row 2, column time: “2:61:00” is not a time" in error
    assert "row 3, column bib: no contestant with bib “44”" in error
    assert snapshot() == before


SCHEME = """code = "S"
name = "测试"
tie_break = {tie_break}
[[sections]]
code = "p"
name = "实操"
[[criteria]]
code = "P1"
section = "p"
max = 40
judges = {judges}
aggregate = "{aggregate}"
{awards}
"""


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"judges": 2, "aggregate": "trimmed"}, "criteria[1] (P1).aggregate", "needs judges = 3"),
    ({"tie_break": '["speed"]'}, "tie_break", "unknown tie-break key “speed”"),
    ({"tie_break": '["time", "time"]'}, "tie_break", "tie-break key “time” is given twice"),
    ({"tie_break": '["section:x"]'}, "tie_break", "unknown tie-break key “section:x”"),
    ({"awards": '[[awards]]\nname = "一"\nshare = 0.6\n[[awards]]\nname = "二"\nshare = 0.5'},
     "awards", "add up to 110"),
    ({"awards": '[[awards]]\nname = "一"\nshare = 0.1\ncount = 2'}, "awards[1].share",
     "either share or count"),
    ({"aggregate": "average"}, "criteria[1] (P1).aggregate", "“average” is not one of"),
])
def test_bad_scheme(runner: FlaskCliRunner, tmp_path: Path, changes: dict[str, object],
                    field: str, reason: str) -> None:
    values = {"tie_break": "[]", "judges": 5, "aggregate": "trimmed", "awards": "", **changes}
    path = tmp_path / "scheme.toml"
    path.write_text(SCHEME.format(**values), encoding="utf-8")
    before = snapshot()
    error = run(runner, "event", "import", path, ok=False)
    assert f"scheme.toml, field {field}: " in error and reason in error
    assert snapshot() == before


def test_scheme_typos_and_syntax(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "scheme.toml"
    path.write_text('code = "S"\nname = "x"\n[[criteria]]\ncode = "A"\nmax = 10\nwieght = 2\n',
                    encoding="utf-8")
    assert "criteria[1] (A).wieght: unknown key" in run(runner, "event", "import", path,
                                                          ok=False)
    path.write_text('code = "S"\nname = \n', encoding="utf-8")
    assert "not a valid TOML file" in run(runner, "event", "import", path, ok=False)


def test_scheme_cannot_change_once_marked(loaded: FlaskCliRunner) -> None:
    before = snapshot()
    error = run(loaded, "event", "import", EXAMPLE_B / "scheme.toml", ok=False)
    assert "already has marks" in error
    assert snapshot() == before


def test_scheme_update_before_marks(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    changed = (EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8").replace(
        "weight = 0.7", 'weight = "7/10"')
    path = tmp_path / "scheme.toml"
    path.write_text(changed, encoding="utf-8")
    assert "Updated event EX-B" in run(runner, "event", "import", path)


def test_scheme_update_renames_a_section(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "scheme.toml"
    text = (EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8")
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path.write_text(text.replace("theory", "written"), encoding="utf-8")
    assert "Updated event EX-B" in run(runner, "event", "import", path)
    path.write_text(text.replace('[[sections]]\ncode = "theory"\nname = "理论知识"\n\n', "")
                    .replace('section = "theory"', 'section = "practical"')
                    .replace(', "section:theory"]', ']'), encoding="utf-8")
    assert "Updated event EX-B" in run(runner, "event", "import", path)
    from scoring.models import Section

    assert [s.code for s in db.session.scalars(select(Section))] == ["practical"]


def test_weights_in_exponent_notation_are_stored_plainly(runner: FlaskCliRunner,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "scheme.toml"
    path.write_text((EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8").replace(
        "weight = 0.3", "weight = 3e-1"), encoding="utf-8")
    run(runner, "event", "import", path)
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")
    run(runner, "entries", "update", "EX-B", EXAMPLE_B / "entries.csv")
    output = run(runner, "results", "export", "EX-B", "--format", "csv")
    assert output == (EXAMPLE_B / "expected-results.csv").read_text(encoding="utf-8")


def test_a_row_with_more_cells_than_the_header(loaded: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "marks.csv"
    path.write_text(SCORES_HEADER + "03,T,e,88,5\n", encoding="utf-8")
    before = snapshot()
    error = run(loaded, "scores", "import", "EX-B", path, ok=False)
    assert "marks.csv, row 2: this row has more cells than the header" in error
    assert snapshot() == before


def test_one_mark_too_many_for_the_criterion(loaded: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "marks.csv"
    path.write_text(SCORES_HEADER + "03,T,复核,90\n", encoding="utf-8")
    before = snapshot()
    error = run(loaded, "scores", "import", "EX-B", path, ok=False)
    assert "row 2: criterion T takes 1 marks per contestant, but bib 03 would have 2" in error
    assert snapshot() == before


def test_entries_cannot_change_once_locked(loaded: FlaskCliRunner, tmp_path: Path) -> None:
    from scoring.models import Event

    event = db.session.scalar(select(Event))
    event.state = "locked"
    db.session.commit()
    before = snapshot()
    error = run(loaded, "entries", "update", "EX-B", EXAMPLE_B / "entries.csv", ok=False)
    assert "locked" in error
    assert snapshot() == before


def test_a_title_row_above_the_header(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path = tmp_path / "people.csv"
    path.write_text("第六届职工技能大赛焊工报名表,,\n参赛号,姓名,代表队\n01,张三,甲队\n",
                    encoding="utf-8")
    run(runner, "contestants", "import", "EX-B", path)
    from scoring.models import Contestant

    assert db.session.scalar(select(Contestant.name)) == "张三"


def test_control_characters_in_a_name(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path = tmp_path / "people.csv"
    path.write_text('参赛号,姓名\n01,"张\n三"\n', encoding="utf-8")
    error = run(runner, "contestants", "import", "EX-B", path, ok=False)
    assert "column 姓名: contains a line break" in error


def test_the_same_person_across_events(runner: FlaskCliRunner, tmp_path: Path) -> None:
    from scoring.models import Contestant, Entry

    for code in ("EA", "EB"):
        path = tmp_path / f"{code}.toml"
        path.write_text((EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8").replace(
            'code = "EX-B"', f'code = "{code}"'), encoding="utf-8")
        run(runner, "event", "import", path)
    people = tmp_path / "people.csv"
    people.write_text("参赛号,姓名,身份证号,手机号\n01,张三,11010519491231002X,13800138000\n",
                      encoding="utf-8")
    run(runner, "contestants", "import", "EA", people)
    other = tmp_path / "other.csv"
    other.write_text("参赛号,姓名,身份证号\n07,李四,11010519491231002X\n", encoding="utf-8")
    before = snapshot()
    error = run(runner, "contestants", "import", "EB", other, ok=False)
    assert "row 2, column 身份证号: this ID number is registered for 张三" in error
    assert snapshot() == before
    other.write_text("参赛号,姓名,身份证号\n07,张三,11010519491231002X\n", encoding="utf-8")
    run(runner, "contestants", "import", "EB", other)  # the same person in a second event
    assert db.session.scalar(select(func.count(Contestant.id))) == 1
    partial = tmp_path / "partial.csv"
    partial.write_text("bib,name,delegation\n01,张三,甲队\n", encoding="utf-8")
    run(runner, "contestants", "import", "EA", partial)
    db.session.expire_all()
    person = db.session.scalar(select(Contestant))
    assert (person.id_number, person.phone) == ("11010519491231002X", "13800138000")
    assert {e.delegation for e in db.session.scalars(select(Entry))} == {"甲队", None}
