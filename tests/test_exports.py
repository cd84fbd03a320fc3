"""Results out: XLSX, CSV, the printable sheet, PDF and verifiable certificates, checked
figure by figure against the rules (`event_results`) for the demo and for example (b)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner, FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from scoring.files.exports import FORMULA_STARTS, results_csv
from scoring.extensions import db
from scoring.models import AuditEvent, Certificate, Contestant, Entry, Event, Mark, MarkRevision
from scoring.queries.results import event_results, result_rows

from .judging_helpers import sign_in
from .test_cli import EXAMPLE_B, load_example_b, run

DEMO_PASSWORDS = {"organiser": "demo-organiser", "chief": "demo-chief", "judge1": "demo-judge1"}
HOSTILE = {
    "name": '=HYPERLINK("http://x","y")',
    "delegation": "+SUM(1,2)",
    "unit": "@cmd|' /C calc'!A0",
}


def load_demo(runner: FlaskCliRunner) -> Event:
    run(runner, "demo")
    return db.session.scalar(select(Event).where(Event.code == "WELD"))


def set_state(event: Event, state: str) -> None:
    event.state = state
    db.session.commit()


def publish(runner: FlaskCliRunner) -> None:
    """Publish the locked results (provisionally, the appeal window let pass, finally):
    only then does a certificate verify."""
    from .judging_helpers import publish_cli

    publish_cli(runner, "EX-B")


def export_file(runner: FlaskCliRunner, tmp_path: Path, code: str, format_: str) -> bytes:
    target = tmp_path / f"{code}.{format_}"
    run(runner, "results", "export", code, "--format", format_, "-o", target)
    return target.read_bytes()


def figure(value: Any) -> Decimal | None:
    """A number read back from the workbook, as the exact figure it was written from."""
    return None if value is None else Decimal(repr(value))


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


# --- XLSX --------------------------------------------------------------------------------

def check_workbook(data: bytes, event: Event) -> None:
    """Every figure of every sheet against the rules module, and nothing a formula."""
    db.session.expire_all()
    results = event_results(event)
    scheme = results.scheme
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Results", "Team ranking", "Judges’ marks", "Judge analytics",
                               "Appeals",
                               "Audit log"]

    sheet = book["Results"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == ["Rank", "Bib", "Name", "Delegation", "Work unit", "Status", "Time used",
                       *(section.name for section in scheme.sections),
                       *(criterion.name for criterion in scheme.criteria), "Total", "Award"]
    assert sheet.freeze_panes == "A2" and sheet.print_title_rows == "$1:$1"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    number_format = "0." + "0" * scheme.decimals
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(results.standings.results)
    figure_columns = [("section", section.code) for section in scheme.sections] + \
        [("criterion", criterion.code) for criterion in scheme.criteria]
    for cells, result in zip(rows, results.standings.results):
        entry = results.entries[result.bib]
        assert cells[0].value == result.rank
        assert cells[1].value == result.bib and cells[1].data_type == "s"
        assert cells[2].value == entry.name
        assert cells[3].value == entry.delegation
        assert cells[4].value == entry.unit
        for cell, (kind, code) in zip(cells[7:], figure_columns):
            expected = (result.sections if kind == "section" else result.aggregates)[code]
            assert figure(cell.value) == expected, (result.bib, code)
            if expected is not None:
                assert cell.data_type == "n" and cell.number_format == number_format
        total, award = cells[-2], cells[-1]
        assert figure(total.value) == result.total
        if result.total is not None:
            assert total.data_type == "n" and total.number_format == number_format
        assert award.value == result.award

    teams = list(book["Team ranking"].iter_rows(min_row=2, values_only=True))
    assert [(rank, delegation, counted, figure(total))
            for rank, delegation, counted, total in teams] == [
        (team.rank, team.delegation, team.members_counted, team.total)
        for team in results.standings.teams]

    marks = {(mark.entry.bib, mark.criterion.code, mark.judge):
             (mark.entered, mark.criterion.unit if mark.entered is not None
              and mark.criterion.kind == "measurement" else None, mark.value)
             for mark in db.session.scalars(select(Mark).join(Entry)
                                            .where(Entry.event_id == event.id))}
    # what the judge entered (a level, a measured value and its unit) beside the mark
    written = {(bib, code, judge): (None if entered is None else figure(entered), unit,
                                    figure(value))
               for bib, blind, code, _name, _shown, judge, entered, unit, value, when
               in book["Judges’ marks"].iter_rows(min_row=2, values_only=True)}
    assert written == marks

    audit_rows = book["Audit log"].max_row - 1
    records = db.session.scalar(select(func.count(AuditEvent.id))
                                .where(AuditEvent.event_id == event.id))
    revisions = db.session.scalar(select(func.count(MarkRevision.id)).join(Mark).join(Entry)
                                  .where(Entry.event_id == event.id,
                                         MarkRevision.source != "chief"))
    # All but the record of this export; a chief judge's correction once (its audit record).
    assert audit_rows == records - 1 + revisions

    assert no_formulas(data)


def no_formulas(data: bytes) -> bool:
    """No cell of any sheet is a formula: read back by openpyxl and in the raw XML."""
    book = load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    return True


def test_xlsx_of_the_demo_matches_the_rules(runner: FlaskCliRunner, tmp_path: Path) -> None:
    event = load_demo(runner)
    check_workbook(export_file(runner, tmp_path, "WELD", "xlsx"), event)


def test_xlsx_of_example_b_matches_the_rules(runner: FlaskCliRunner, tmp_path: Path) -> None:
    load_example_b(runner)
    event = db.session.scalar(select(Event).where(Event.code == "EX-B"))
    data = export_file(runner, tmp_path, "EX-B", "xlsx")
    check_workbook(data, event)
    sheet = load_workbook(io.BytesIO(data))["Results"]
    assert [[cell.value for cell in row][:2] + [row[-2].value] for row in sheet.iter_rows(
        min_row=2)] == [[1, "03", 89.55], [2, "12", 87], [2, "18", 87], [4, "07", 87],
                        [5, "15", 82.35]]


def test_xlsx_headers_are_chinese_by_default(schema: str, runner: FlaskCliRunner,
                                             tmp_path: Path) -> None:
    from .conftest import make_app

    load_example_b(runner)
    chinese = make_app(schema, SCORING_LOCALE=None)
    target = tmp_path / "zh.xlsx"
    with chinese.app_context():
        result = chinese.test_cli_runner().invoke(
            args=["results", "export", "EX-B", "--format", "xlsx", "-o", str(target)])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    book = load_workbook(target)
    assert [cell.value for cell in book.worksheets[0][1]] == [
        "名次", "参赛号", "姓名", "代表队", "工作单位", "状态", "用时", "理论知识", "实际操作",
        "理论考试", "实操总分", "总分", "奖项"]
    assert book.worksheets[0]["F2"].value == "正常"


# --- formula injection -------------------------------------------------------------------

def make_hostile(tmp_path: Path, runner: FlaskCliRunner) -> None:
    """Example (b) where one contestant's name, delegation and unit are formulas."""
    load_example_b(runner)
    contestant = db.session.scalar(select(Entry).where(Entry.bib == "03")).contestant
    contestant.name = HOSTILE["name"]
    contestant.unit = HOSTILE["unit"]
    entry = db.session.scalar(select(Entry).where(Entry.bib == "03"))
    entry.delegation = HOSTILE["delegation"]
    other = db.session.scalar(select(Entry).where(Entry.bib == "07")).contestant
    other.name = "\tTAB-" + other.name
    db.session.commit()


def test_a_formula_for_a_name_is_inert_in_csv(runner: FlaskCliRunner, tmp_path: Path) -> None:
    make_hostile(tmp_path, runner)
    for data in (run(runner, "results", "export", "EX-B", "--format", "csv").encode(),
                 export_file(runner, tmp_path, "EX-B", "csv")):
        rows = {row["bib"]: row for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
        for key, text in HOSTILE.items():
            assert rows["03"][key] == "'" + text
        assert rows["07"]["name"].startswith("'\tTAB-")
        for row in rows.values():
            for value in row.values():
                assert not value.startswith(FORMULA_STARTS), value


def test_a_formula_for_a_name_is_inert_in_xlsx(runner: FlaskCliRunner, tmp_path: Path) -> None:
    make_hostile(tmp_path, runner)
    data = export_file(runner, tmp_path, "EX-B", "xlsx")
    assert no_formulas(data)
    sheet = load_workbook(io.BytesIO(data))["Results"]
    row = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "03")
    for cell, text in zip(row[2:5], (HOSTILE["name"], HOSTILE["delegation"], HOSTILE["unit"])):
        # Shown exactly as typed, stored as text with Excel's quote prefix: never evaluated.
        assert cell.value == text and cell.data_type == "s" and cell.quotePrefix


# --- CSV ---------------------------------------------------------------------------------

def test_csv_download_has_a_bom_and_round_trips(app: Flask, runner: FlaskCliRunner,
                                                client: FlaskClient) -> None:
    event = load_demo(runner)
    sign_in(client, "organiser", DEMO_PASSWORDS["organiser"])
    response = client.get("/admin/events/WELD/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    expected = result_rows(event_results(event))
    assert len(rows) == len(expected) == 30
    for row, want in zip(rows, expected):
        assert row == {key: "" if want[key] is None else str(want[key])
                       for key in row}, want["bib"]
    # The same bytes as the command line's file and, without the BOM, its stdout.
    assert response.data == results_csv(event_results(event), bom=True)
    assert response.data[3:].decode() == run(runner, "results", "export", "WELD",
                                             "--format", "csv")


# --- PDF ---------------------------------------------------------------------------------

def test_results_pdf_holds_the_event_and_every_winner(runner: FlaskCliRunner,
                                                      tmp_path: Path) -> None:
    event = load_demo(runner)
    data = export_file(runner, tmp_path, "WELD", "pdf")
    assert data.startswith(b"%PDF")
    text = "\n".join(pdf_text(data))
    assert "焊工决赛" in text and "第六届全国职工职业技能大赛" in text
    results = event_results(event)
    winners = [(results.entries[r.bib].name, r.award)
               for r in results.standings.results if r.award]
    assert len(winners) >= 10
    for name, award in winners:
        assert name in text and award in text
    assert "89.55" not in text  # (sanity: the demo is not example (b))
    assert "Chief judge (signature):" in text and "Supervisor (signature):" in text
    assert "Page 1 of" in text


def test_results_pdf_of_example_b(runner: FlaskCliRunner, tmp_path: Path) -> None:
    load_example_b(runner)
    text = "\n".join(pdf_text(export_file(runner, tmp_path, "EX-B", "pdf")))
    assert "示例（b）：并列名次" in text
    for name, total in (("王强", "89.55"), ("张伟", "87.00"), ("陈静", "82.35")):
        assert name in text and total in text


# --- certificates ------------------------------------------------------------------------

AWARDS = """
[[awards]]
name = "一等奖"
count = 1

[[awards]]
name = "二等奖"
count = 2
"""


def example_b_with_awards(runner: FlaskCliRunner, tmp_path: Path) -> Event:
    scheme = tmp_path / "scheme.toml"
    scheme.write_text((EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8") + AWARDS,
                      encoding="utf-8")
    run(runner, "event", "import", scheme)
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")
    run(runner, "entries", "update", "EX-B", EXAMPLE_B / "entries.csv")
    return db.session.scalar(select(Event).where(Event.code == "EX-B"))


def valid_tokens() -> dict[str, tuple[str, str]]:
    db.session.expire_all()
    return {certificate.entry.bib: (certificate.award, certificate.token)
            for certificate in db.session.scalars(
                select(Certificate).where(Certificate.revoked_at.is_(None)))}


def test_certificates_only_once_scoring_is_locked(runner: FlaskCliRunner,
                                                  tmp_path: Path) -> None:
    example_b_with_awards(runner, tmp_path)
    error = run(runner, "certificates", "EX-B", "-o", tmp_path / "c.pdf", ok=False)
    assert "locked" in error
    assert not (tmp_path / "c.pdf").exists()
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_certificates_pdf_and_verification(runner: FlaskCliRunner, client: FlaskClient,
                                           tmp_path: Path) -> None:
    event = example_b_with_awards(runner, tmp_path)
    set_state(event, "locked")
    target = tmp_path / "certificates.pdf"
    output = run(runner, "certificates", "EX-B", "-o", target,
                 "--base-url", "https://scores.example.cn")
    assert "3 certificates" in output
    pages = pdf_text(target.read_bytes())
    tokens = valid_tokens()
    assert {bib: award for bib, (award, _token) in tokens.items()} == {
        "03": "一等奖", "12": "二等奖", "18": "二等奖"}
    for page, (bib, name) in zip(pages, (("03", "王强"), ("12", "张伟"), ("18", "刘洋"))):
        award, token = tokens[bib]
        assert name in page and award in page and "示例（b）：并列名次" in page
        assert f"https://scores.example.cn/verify/{token}" in page
        assert len(token) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert len(pages) == 3

    award, token = tokens["03"]
    contestant = db.session.scalar(select(Entry).where(Entry.bib == "03")).contestant
    contestant.id_number, contestant.phone = "11010519491231002X", "13800138000"
    db.session.commit()
    locked = client.get(f"/verify/{token}")  # issued while locked: not final yet
    assert locked.status_code == 404 and "王强" not in locked.get_data(as_text=True)
    publish(runner)
    page = client.get(f"/verify/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "本证书真实有效" in text  # the web speaks Chinese unless asked otherwise
    assert "王强" in text and "一等奖" in text and "示例（b）：并列名次" in text
    for private in ("11010519491231002X", "13800138000", "沈阳某机械厂", "沈阳代表队"):
        assert private not in text
    assert page.headers["X-Robots-Tag"] == "noindex"

    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 22, "x" * 500):
        refused = client.get(f"/verify/{forged}")
        assert refused.status_code == 404
        assert "没有与此验证码对应的有效证书" in refused.get_data(as_text=True)
        assert "王强" not in refused.get_data(as_text=True)


def test_reissuing_keeps_unchanged_awards_and_revokes_changed_ones(
        runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path) -> None:
    event = example_b_with_awards(runner, tmp_path)
    set_state(event, "locked")
    run(runner, "certificates", "EX-B", "-o", tmp_path / "first.pdf")
    first = valid_tokens()
    again = run(runner, "certificates", "EX-B", "-o", tmp_path / "again.pdf")
    assert "0 new, 0 revoked" in again and valid_tokens() == first

    # A correction after review: 07's practical becomes 100, so 07 wins first prize and
    # 03 drops to second; 12 and 18 keep their second prizes.
    set_state(event, "scoring")
    fix = tmp_path / "fix.csv"
    fix.write_text("bib,criterion,judge,score\n07,P,e,100\n", encoding="utf-8")
    run(runner, "scores", "import", "EX-B", fix)
    set_state(db.session.scalar(select(Event)), "locked")
    output = run(runner, "certificates", "EX-B", "-o", tmp_path / "second.pdf")
    assert "2 new, 1 revoked" in output
    second = valid_tokens()
    assert {bib: award for bib, (award, _token) in second.items()} == {
        "07": "一等奖", "03": "二等奖", "12": "二等奖", "18": "二等奖"}
    assert second["12"] == first["12"] and second["18"] == first["18"]
    assert second["03"][1] != first["03"][1]
    publish(runner)
    assert client.get(f"/verify/{first['03'][1]}").status_code == 404  # revoked
    assert "二等奖" in client.get(f"/verify/{second['03'][1]}").get_data(as_text=True)
    record = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "certificates.issue").order_by(AuditEvent.id.desc())).first()
    assert record.details == {"created": 2, "revoked": 1, "valid": 4}


# --- the web: sheet, downloads, who may have them ------------------------------------------

ROUTES = ["/admin/events/WELD/sheet", "/admin/events/WELD/export.csv",
          "/admin/events/WELD/export.xlsx", "/admin/events/WELD/export.json",
          "/admin/events/WELD/export.pdf", "/admin/events/WELD/certificates.pdf"]


@pytest.mark.parametrize("url", ROUTES)
def test_anonymous_users_are_sent_to_sign_in(runner: FlaskCliRunner, client: FlaskClient,
                                             url: str) -> None:
    load_demo(runner)
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert not export_records()


@pytest.mark.parametrize("url", ROUTES)
def test_judges_are_refused(runner: FlaskCliRunner, client: FlaskClient, url: str) -> None:
    load_demo(runner)
    sign_in(client, "judge1", DEMO_PASSWORDS["judge1"])
    assert client.get(url).status_code == 403
    assert not export_records()


def export_records() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("results.export", "certificates.export")))
        .order_by(AuditEvent.id)))


@pytest.mark.parametrize("user", ["organiser", "chief"])
def test_downloads_for_organisers_and_chief_judges_are_audited(
        runner: FlaskCliRunner, client: FlaskClient, user: str) -> None:
    event = load_demo(runner)
    client.set_cookie("lang", "en")
    sign_in(client, user, DEMO_PASSWORDS[user])
    kinds = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument"
             ".spreadsheetml.sheet", "json": "application/json", "pdf": "application/pdf"}
    for format_, mimetype in kinds.items():
        response = client.get(f"/admin/events/WELD/export.{format_}")
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.headers["Content-Disposition"] == (
            f"attachment; filename=\"WELD-results.{format_}\"; "
            f"filename*=UTF-8''WELD-%E7%84%8A%E5%B7%A5%E5%86%B3%E8%B5%9B-results.{format_}")
        assert response.headers["Cache-Control"] == "no-store"
    check_workbook(client.get("/admin/events/WELD/export.xlsx").data, event)

    refused = client.get("/admin/events/WELD/certificates.pdf")  # still scoring
    assert refused.status_code == 409 and "locked" in refused.get_data(as_text=True)
    set_state(event, "locked")
    certificates = client.get("/admin/events/WELD/certificates.pdf")
    assert certificates.status_code == 200 and certificates.data.startswith(b"%PDF")
    assert 'filename="WELD-certificates.pdf"' in certificates.headers["Content-Disposition"]
    first_page = pdf_text(certificates.data)[0]
    token = db.session.scalars(select(Certificate.token).order_by(Certificate.id)).first()
    assert f"http://localhost/verify/{token}" in first_page  # the address the request came to

    records = export_records()
    assert [(record.action, record.actor, record.details.get("format"))
            for record in records] == [
        ("results.export", user, "csv"), ("results.export", user, "xlsx"),
        ("results.export", user, "json"), ("results.export", user, "pdf"),
        ("results.export", user, "xlsx"), ("certificates.export", user, None)]
    assert all(record.event_id == event.id and record.user_id for record in records)


def test_certificates_use_the_public_address_when_configured(
        app: Flask, runner: FlaskCliRunner, client: FlaskClient) -> None:
    event = load_demo(runner)
    set_state(event, "published")
    app.config["SCORING_PUBLIC_URL"] = "https://jineng.example.org/"
    sign_in(client, "organiser", DEMO_PASSWORDS["organiser"])
    data = client.get("/admin/events/WELD/certificates.pdf").data
    assert "https://jineng.example.org/verify/" in pdf_text(data)[0]


def test_unknown_event_or_format(runner: FlaskCliRunner, client: FlaskClient) -> None:
    load_demo(runner)
    sign_in(client, "organiser", DEMO_PASSWORDS["organiser"])
    assert client.get("/admin/events/NOPE/sheet").status_code == 404
    assert client.get("/admin/events/WELD/export.exe").status_code == 404


def test_the_printable_sheet(runner: FlaskCliRunner, client: FlaskClient) -> None:
    event = load_demo(runner)
    sign_in(client, "chief", DEMO_PASSWORDS["chief"])
    response = client.get("/admin/events/WELD/sheet")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "焊工决赛成绩公示表" in page and "第六届全国职工职业技能大赛（示例）" in page
    for header in ("名次", "参赛号", "理论知识", "外观检验", "安全文明生产扣分", "总分", "奖项"):
        assert f">{header}</th>" in page
    results = event_results(event)
    for result in results.standings.results:
        assert results.entries[result.bib].name in page
        if result.total is not None:
            assert f"{result.total}</td>" in page
    assert "裁判长（签字）：" in page and "监督（签字）：" in page and "日期：" in page
    assert "css/print.css" in page and "sheet-wide" in page
    assert "尚有评分未录入" in page  # the demo is half-way through its marking
    # The CSP allows no inline style or script.
    assert " style=" not in page and "<style" not in page
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", page))
    for format_ in ("xlsx", "pdf", "csv", "json"):
        assert f'href="/admin/events/WELD/export.{format_}"' in page
    assert "/admin/events/WELD/certificates.pdf" not in page  # not before the lock
    set_state(event, "locked")
    assert "/admin/events/WELD/certificates.pdf" in client.get(
        "/admin/events/WELD/sheet").get_data(as_text=True)


def test_exports_are_read_only_apart_from_the_audit(runner: FlaskCliRunner,
                                                    client: FlaskClient) -> None:
    load_demo(runner)
    counts = {model: db.session.scalar(select(func.count()).select_from(model))
              for model in (Mark, MarkRevision, Entry, Contestant, Certificate)}
    sign_in(client, "organiser", DEMO_PASSWORDS["organiser"])
    for format_ in ("csv", "xlsx", "json", "pdf"):
        client.get(f"/admin/events/WELD/export.{format_}")
    client.get("/admin/events/WELD/sheet")
    assert counts == {model: db.session.scalar(select(func.count()).select_from(model))
                      for model in counts}


def test_the_qr_code_is_drawn_module_for_module() -> None:
    """The rectangles drawn on the certificate rebuild segno's matrix exactly."""
    import segno

    from scoring.files.pdf import draw_qr

    class Recorder:
        def __init__(self) -> None:
            self.colour: object = None
            self.rects: list[tuple[object, float, float, float, float]] = []

        def setFillColor(self, colour: object) -> None:  # noqa: N802
            self.colour = colour

        def rect(self, x: float, y: float, width: float, height: float, stroke: int,
                 fill: int) -> None:
            self.rects.append((self.colour, x, y, width, height))

    url = "https://jineng.example.cn/verify/n0sJ92BCuqB2kHdFKukgdrrY"
    matrix = [[bool(module) for module in row] for row in segno.make(url, error="m").matrix]
    count = len(matrix) + 4  # two modules of quiet zone on each side
    recorder = Recorder()
    draw_qr(recorder, url, 0, 0, count * 10.0)  # type: ignore[arg-type]
    drawn = [[False] * len(matrix) for _ in matrix]
    for colour, x, y, width, height in recorder.rects[1:]:  # the first is the white ground
        row = count - 1 - round(y / 10) - 2
        for column in range(round(x / 10) - 2, round((x + width) / 10) - 2):
            drawn[row][column] = True
        assert height == 10.0
    assert drawn == matrix
