"""Judge analytics end to end: `scoring analytics` reproduces DOMAIN.md's example (e) from an
event built here, the console's page (who may see it, the chart, the threshold) and the
XLSX export's sheet."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import AuditEvent, Event

from .judging_helpers import PASSWORD, sign_in
from .test_cli import EXAMPLE_B, run

SCHEME = """code = "AN"
name = "分析示例"
decimals = 2
[[sections]]
code = "p"
name = "实操"
[[criteria]]
code = "T"
name = "理论机考"
section = "p"
max = 100
judges = 1
blind = false
[[criteria]]
code = "Q"
name = "焊缝外观"
section = "p"
max = 50
step = 0.5
judges = 3
[[criteria]]
code = "S"
name = "安全扣分"
section = "p"
kind = "penalty"
max = 10
judges = 1
"""

# DOMAIN.md (e): X, Y, Z are bibs 03, 07, 12; judges A, B, C are judges' accounts. T is a
# computer-marked exam under a label that is no account: nobody's judgement.
SCORES = """bib,criterion,judge,score
03,Q,A,30
03,Q,B,32
03,Q,C,34
07,Q,A,28
07,Q,B,31
07,Q,C,31
12,Q,A,35
12,Q,B,36
12,Q,C,40
03,T,机考,90
07,T,机考,80
12,T,机考,70
03,S,C,1
"""

EXPECTED_CSV = """judge,criterion,n,severity,deviation,consistency
A,Q,3,-3.00,3.00,1.00
B,Q,3,0.00,1.00,0.99
C,Q,3,3.00,3.00,1.00
C,S,0,,,
"""


def set_up_panel(runner: FlaskCliRunner, tmp_path: Path, marks: str = SCORES) -> None:
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(SCHEME, encoding="utf-8")
    scores = tmp_path / "scores.csv"
    scores.write_text(marks, encoding="utf-8")
    run(runner, "event", "import", scheme)
    run(runner, "contestants", "import", "AN", EXAMPLE_B / "contestants.csv")
    for name, shown in (("A", "甲裁判"), ("B", "乙裁判"), ("C", "丙裁判")):
        run(runner, "user", "create", name, "--role", "judge", "--password", PASSWORD,
            "--display-name", shown)
    run(runner, "user", "create", "chief", "--role", "chief", "--password", PASSWORD,
        "--event", "AN")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    run(runner, "scores", "import", "AN", scores)


@pytest.fixture
def panel(runner: FlaskCliRunner, tmp_path: Path) -> None:
    set_up_panel(runner, tmp_path)


# --- the command line ------------------------------------------------------------------------

def test_csv_reproduces_example_e(runner: FlaskCliRunner, panel: None) -> None:
    assert run(runner, "analytics", "AN", "--format", "csv") == EXPECTED_CSV


def test_json_has_the_same_rows(runner: FlaskCliRunner, panel: None) -> None:
    document = json.loads(run(runner, "analytics", "AN", "--format", "json"))
    assert document["event"]["code"] == "AN" and document["decimals"] == 2
    rows = list(csv.DictReader(io.StringIO(EXPECTED_CSV)))
    assert document["analytics"] == [{**row, "n": int(row["n"])} for row in rows]
    assert list(document["analytics"][0]) == ["judge", "criterion", "n", "severity",
                                              "deviation", "consistency"]


def test_to_a_file_with_a_bom_and_recorded(runner: FlaskCliRunner, panel: None,
                                           tmp_path: Path) -> None:
    target = tmp_path / "analytics.csv"
    assert run(runner, "analytics", "AN", "--format", "csv", "-o", target) == ""
    assert target.read_bytes().decode("utf-8") == "\ufeff" + EXPECTED_CSV
    record = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "analytics.export")).one()
    assert record.details["format"] == "csv" and record.details["file"] == str(target)


def test_the_events_decimals(runner: FlaskCliRunner, tmp_path: Path) -> None:
    set_up_panel(runner, tmp_path)
    event = db.session.scalar(select(Event).where(Event.code == "AN"))
    event.decimals = 1
    db.session.commit()
    rows = list(csv.DictReader(io.StringIO(run(runner, "analytics", "AN", "--format", "csv"))))
    assert [(row["judge"], row["severity"], row["deviation"], row["consistency"])
            for row in rows][:3] == [("A", "-3.0", "3.0", "1.00"), ("B", "0.0", "1.0", "0.99"),
                                     ("C", "3.0", "3.0", "1.00")]


def test_csv_is_the_default_format(runner: FlaskCliRunner, panel: None) -> None:
    assert run(runner, "analytics", "AN") == EXPECTED_CSV


@pytest.mark.parametrize("args", [
    ("analytics", "NOPE", "--format", "csv"),
    ("analytics", "AN", "--format", "xml"),
    ("analytics", "AN", "--format", ""),
])
def test_bad_input_is_one_line_and_writes_nothing(runner: FlaskCliRunner, panel: None,
                                                  tmp_path: Path, args: tuple[str, ...]) -> None:
    target = tmp_path / "out.csv"
    result = runner.invoke(args=[*args, "-o", str(target)])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert ("NOPE" in lines[0]) if "NOPE" in args else ("--format" in lines[0])
    assert not target.exists()
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "analytics.export")).first()


def test_no_marks_is_a_header_only(runner: FlaskCliRunner, tmp_path: Path) -> None:
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(SCHEME, encoding="utf-8")
    run(runner, "event", "import", scheme)
    assert run(runner, "analytics", "AN", "--format", "csv") == (
        "judge,criterion,n,severity,deviation,consistency\n")


# --- the console's page -----------------------------------------------------------------------

def page(client: FlaskClient, query: str = "") -> tuple[int, str]:
    """The page in English (the interface's default is Chinese)."""
    client.get("/lang/en")
    response = client.get(f"/admin/events/AN/analytics{query}")
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["chief", "boss"])
def test_the_chief_and_organisers_see_it(client: FlaskClient, panel: None, who: str) -> None:
    sign_in(client, who)
    status, html = page(client)
    assert status == 200
    # One chart for Q, the only criterion with something to compare; T and S are named.
    assert html.count('<svg class="analytics-chart"') == 1
    assert re.search(r"<title[^>]*>Q 焊缝外观", html)
    for name in ("甲裁判", "乙裁判", "丙裁判"):
        assert name in html
    # The table holds the figures of example (e).
    rows = re.findall(r'<tr class="[^"]*" data-judge="(\w)">\s*<th scope="row">([^<]+)'
                      r'(?:<span[^>]*>[^<]*</span>)?</th>\s*<td class="num">(\d+)</td>\s*'
                      r'<td class="num">([^<]*)</td>\s*<td class="num">([^<]*)</td>\s*'
                      r'<td class="num">([^<]*)</td>', html)
    assert [(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows] == [
        ("A", "甲裁判", "3", "-3.00", "3.00", "1.00"), ("B", "乙裁判", "3", "0.00", "1.00", "0.99"),
        ("C", "丙裁判", "3", "3.00", "3.00", "1.00")]
    # S (C's one deduction) and T (the exam's label, no account) have nothing to compare.
    assert "Not compared (no contestant marked by three judges or more): T, S." in html
    assert "data-judge=\"机考\"" not in html and html.count("<tr class=") == 3


def highlighted(html: str) -> list[str]:
    return re.findall(r'<tr class="flag-severity" data-judge="(\w)"', html)


def test_the_threshold_highlights_judges(client: FlaskClient, panel: None) -> None:
    sign_in(client, "chief")
    # Default 10% of Q's 50: 5; nobody's |severity| of 3 is beyond.
    status, html = page(client)
    assert status == 200 and highlighted(html) == []
    assert 'value="10"' in html
    # 5% of 50 = 2.5: A (harsher) and C (more lenient).
    status, html = page(client, "?threshold=5")
    assert status == 200 and highlighted(html) == ["A", "C"]
    assert "harsher than the panel" in html and "more lenient than the panel" in html
    assert html.count('class="judge-bar flagged"') == 2
    # 6% of 50 = 3: |−3| is not beyond 3 (strictly more).
    assert highlighted(page(client, "?threshold=6")[1]) == []
    assert highlighted(page(client, "?threshold=0")[1]) == ["A", "C"]


@pytest.mark.parametrize("value", ["abc", "101", "-1", "1e3", "5.555", ""])
def test_a_bad_threshold_is_said_beside_the_field(client: FlaskClient, panel: None,
                                                  value: str) -> None:
    sign_in(client, "chief")
    status, html = page(client, f"?threshold={value}")
    assert status == 422
    assert 'aria-invalid="true"' in html and 'class="error field-error"' in html
    assert highlighted(html) == []  # the default is used meanwhile
    assert html.count('<svg class="analytics-chart"') == 1


def test_a_panel_in_full_agreement(client: FlaskClient, runner: FlaskCliRunner,
                                   tmp_path: Path) -> None:
    """Every judge gives every contestant the same mark: severity and deviation 0, no
    consistency (nothing varies), nobody highlighted even at a threshold of 0."""
    same = "bib,criterion,judge,score\n" + "".join(
        f"{bib},Q,{judge},30\n" for bib in ("03", "07", "12") for judge in "ABC")
    set_up_panel(runner, tmp_path, same)
    assert run(runner, "analytics", "AN", "--format", "csv") == (
        "judge,criterion,n,severity,deviation,consistency\n"
        "A,Q,3,0.00,0.00,\nB,Q,3,0.00,0.00,\nC,Q,3,0.00,0.00,\n")
    sign_in(client, "chief")
    status, html = page(client, "?threshold=0")
    assert status == 200 and highlighted(html) == []
    assert html.count('<g class="judge-bar"') == 3


def test_judges_and_the_public_never_see_it(client: FlaskClient, panel: None) -> None:
    assert client.get("/admin/events/AN/analytics").status_code == 302  # sign in first
    sign_in(client, "A")
    assert client.get("/admin/events/AN/analytics").status_code == 403


def test_a_chief_of_another_event_is_refused(client: FlaskClient, runner: FlaskCliRunner,
                                             panel: None, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(SCHEME.replace('code = "AN"', 'code = "OTHER"'), encoding="utf-8")
    run(runner, "event", "import", other)
    run(runner, "user", "create", "chief2", "--role", "chief", "--password", PASSWORD,
        "--event", "OTHER")
    sign_in(client, "chief2")
    assert client.get("/admin/events/AN/analytics").status_code == 403
    assert client.get("/admin/events/OTHER/analytics").status_code == 200
    assert client.get("/admin/events/NONE/analytics").status_code == 404


def test_linked_from_the_chiefs_pages_and_the_console(client: FlaskClient,
                                                      panel: None) -> None:
    sign_in(client, "chief")
    link = 'href="/admin/events/AN/analytics"'
    for url in ("/chief", "/chief/AN", "/admin/events/AN"):
        assert link in client.get(url).get_data(as_text=True), url


def test_the_page_in_chinese(client: FlaskClient, panel: None) -> None:
    sign_in(client, "chief")
    client.get("/lang/zh_CN")
    html = client.get("/admin/events/AN/analytics?threshold=5").get_data(as_text=True)
    assert "<h1>裁判评分分析" in html and highlighted(html) == ["A", "C"]
    assert "偏严" in html and "偏宽" in html and "宽严度" in html


# --- the XLSX export ----------------------------------------------------------------------------

def test_the_xlsx_export_has_the_analytics_sheet(runner: FlaskCliRunner, panel: None,
                                                 tmp_path: Path) -> None:
    target = tmp_path / "results.xlsx"
    run(runner, "results", "export", "AN", "--format", "xlsx", "-o", target)
    book = load_workbook(target)
    sheet = book["Judge analytics"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Judge", "Account", "Criterion", "Criterion name", "Contestants compared",
                       "Severity", "Deviation", "Consistency"]
    assert rows[1:] == [
        ["甲裁判", "A", "Q", "焊缝外观", 3, -3, 3, 1],
        ["乙裁判", "B", "Q", "焊缝外观", 3, 0, 1, 0.99],
        ["丙裁判", "C", "Q", "焊缝外观", 3, 3, 3, 1],
        ["丙裁判", "C", "S", "安全扣分", 0, None, None, None],
    ]
    assert sheet.cell(row=2, column=6).number_format == "0.00"
    assert sheet.cell(row=3, column=8).number_format == "0.00"


def test_judgement_marks_are_compared_exactly(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """A judgement mark is max x level / 3 (10/3 for level 1 of 10), which the stored value
    only rounds (3.3333): the analytics compare the exact marks. A's marks are one level
    (10/3) below the others' every time: severity −3.3333 at four places, not −3.3334."""
    scheme = tmp_path / "scheme.toml"
    scheme.write_text('code = "JA"\nname = "评价分"\ndecimals = 4\n[[criteria]]\ncode = "J"\n'
                      'name = "焊缝成形"\nkind = "judgement"\nmax = 10\njudges = 3\n'
                      'levels = ["差", "合格", "良", "优"]\n', encoding="utf-8")
    run(runner, "event", "import", scheme)
    run(runner, "contestants", "import", "JA", EXAMPLE_B / "contestants.csv")
    for name in "ABC":
        run(runner, "user", "create", name, "--role", "judge", "--password", PASSWORD)
    scores = tmp_path / "scores.csv"
    scores.write_text("bib,criterion,judge,score\n" + "".join(
        f"{bib},J,{judge},{level}\n" for bib, levels in (("03", "122"), ("07", "122"),
                                                           ("12", "233"))
        for judge, level in zip("ABC", levels)), encoding="utf-8")
    run(runner, "scores", "import", "JA", scores)
    rows = list(csv.DictReader(io.StringIO(run(runner, "analytics", "JA", "--format", "csv"))))
    assert [(row["judge"], row["severity"], row["deviation"]) for row in rows] == [
        ("A", "-3.3333", "3.3333"), ("B", "1.6667", "1.6667"), ("C", "1.6667", "1.6667")]
