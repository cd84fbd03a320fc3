"""A registration sheet as delegations send it (issue 13 item 2): 序号, 姓名, 性别, 身份证号,
代表队, 工作单位, 手机 and no 参赛号. The bibs come from the draw: the next free numbers, in
registration order (the order of the rows), zero-padded to the width of the largest."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from scoring.extensions import db
from scoring.inputs import check_phone, id_check_digit
from scoring.models import AuditEvent, Entry

from .judging_helpers import PASSWORD, sign_in
from .test_cli import EXAMPLE_B, run, snapshot

HEADERS = ["序号", "姓名", "性别", "身份证号", "代表队", "工作单位", "手机"]


def id_number(serial: int, born: str = "19900101") -> str:
    first = f"110105{born}{serial:03d}"
    return first + id_check_digit(first)


PEOPLE = [  # as a delegation types them: phones with spaces, a landline, 性别 both ways
    [1, "王强", "男", id_number(1), "沈阳代表队", "沈阳某机械厂", "138 0013 8001"],
    [2, "李娜", "女", id_number(2), "沈阳代表队", "沈阳某机械厂", "13800138002"],
    [3, "赵军", "M", id_number(3), "大连代表队", "大连某船厂", "+86 139-0013-8003"],
    [4, "陈芳", "F", id_number(4), "大连代表队", "大连某船厂", "(0411)8888-1234"],
    [5, "刘洋", "男", id_number(5), "鞍山代表队", "鞍山某钢厂", "13700137005"],
]
PHONES = ["13800138001", "13800138002", "13900138003", "0411-88881234", "13700137005"]


def sheet(rows: list[list[object]], headers: list[str] = HEADERS,
          title: str | None = None) -> bytes:
    """An .xlsx as a delegation makes it in Excel (the ID numbers and phones as text)."""
    book = Workbook()
    active = book.active
    active.title = "报名表"
    if title:
        active.append([title])
    active.append(headers)
    for row in rows:
        active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def entries() -> list[Entry]:
    db.session.expire_all()
    return list(db.session.scalars(select(Entry).order_by(Entry.id)))


@pytest.fixture
def event(runner: FlaskCliRunner) -> str:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    return "EX-B"


def test_a_delegation_sheet_through_the_command_line(runner: FlaskCliRunner, event: str,
                                                     tmp_path: Path) -> None:
    path = write(tmp_path, "沈阳代表队报名表.xlsx", sheet(PEOPLE, title="第六届职工技能大赛报名表"))
    output = run(runner, "contestants", "import", event, path)
    assert "5" in output
    registered = entries()
    assert [entry.bib for entry in registered] == [None] * 5
    assert [entry.contestant.name for entry in registered] == [row[1] for row in PEOPLE]
    assert [entry.contestant.phone for entry in registered] == PHONES
    assert [entry.contestant.gender for entry in registered] == ["M", "F", "M", "F", "M"]
    assert [entry.delegation for entry in registered] == [row[4] for row in PEOPLE]
    assert registered[0].contestant.unit == "沈阳某机械厂"
    # The draw gives the bibs "1".."5" (five: one digit), in registration order.
    drawn = run(runner, "draw", event, "--seed", "7")
    registered = entries()
    assert [entry.bib for entry in registered] == ["1", "2", "3", "4", "5"]
    assert all(entry.station and entry.draw_order and entry.blind_code for entry in registered)
    assert sorted(line.split("\t")[0] for line in drawn.splitlines() if "\t" in line
                  and line.split("\t")[0].isdigit()) == ["1", "2", "3", "4", "5"]
    record = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bibs.assign"))
    assert json.loads(record.details_json)["bibs"] == {
        "1": "王强", "2": "李娜", "3": "赵军", "4": "陈芳", "5": "刘洋"}
    # Drawing again keeps the bibs, and the same seed gives the same stations and order.
    before = [(entry.bib, entry.station, entry.draw_order) for entry in registered]
    run(runner, "draw", event, "--seed", "7")
    assert [(entry.bib, entry.station, entry.draw_order) for entry in entries()] == before


def test_a_delegation_sheet_through_the_console(client: FlaskClient, runner: FlaskCliRunner,
                                                event: str) -> None:
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    token = sign_in(client, "boss")
    before = snapshot()
    response = client.post(f"/admin/events/{event}/contestants/preview", data={
        "csrf_token": token, "file": (io.BytesIO(sheet(PEOPLE)), "报名表.xlsx")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert snapshot() == before  # the preview writes nothing
    assert "手机" in page and "序号" in page
    payload = re.search(r'name="payload" value="([^"]+)"', page)
    assert payload
    response = client.post(f"/admin/events/{event}/contestants/import", data={
        "csrf_token": token, "payload": payload.group(1)})
    assert response.status_code == 302
    registered = entries()
    assert [entry.contestant.phone for entry in registered] == PHONES
    assert [entry.bib for entry in registered] == [None] * 5
    # The organisers' list shows "—" for a bib not given yet, and the phones (beside the ID
    # numbers, where they were shown already).
    listing = client.get(f"/admin/events/{event}/contestants").get_data(as_text=True)
    assert listing.count("—</span>") == 5 and "13800138001" in listing
    assert id_number(1) in listing
    edit = client.get(f"/admin/events/{event}/entries/{registered[0].id}")
    assert edit.status_code == 200 and "王强" in edit.get_data(as_text=True)
    # The draw, from the console as from the command line, gives the bibs.
    run(runner, "draw", event)
    assert [entry.bib for entry in entries()] == ["1", "2", "3", "4", "5"]
    listing = client.get(f"/admin/events/{event}/contestants").get_data(as_text=True)
    assert "—</span>" not in listing


def test_phones_are_never_public(client: FlaskClient, runner: FlaskCliRunner, event: str,
                                 tmp_path: Path) -> None:
    run(runner, "contestants", "import", event, write(tmp_path, "p.xlsx", sheet(PEOPLE)))
    run(runner, "board", event, "live")
    for drawn in (False, True):
        if drawn:
            run(runner, "draw", event)
        for url in (f"/e/{event}", f"/e/{event}/teams", f"/e/{event}/screen",
                    f"/api/events/{event}/results", f"/api/events/{event}/teams"):
            body = client.get(url).get_data(as_text=True)
            for phone in PHONES:
                assert phone not in body and phone.replace("-", "") not in body, url
            assert id_number(1) not in body, url
        # Before the draw a contestant without a bib is on no board (it has no result yet);
        # after it, under the bib the draw gave ("find my bib" links #bib-1).
        board = client.get(f"/e/{event}").get_data(as_text=True)
        assert ("王强" in board) == drawn


def test_a_mixed_sheet_keeps_the_bibs_it_gives(runner: FlaskCliRunner, event: str,
                                               tmp_path: Path) -> None:
    rows = [["07", *row[1:]] if index == 0 else ["A1", *row[1:]] if index == 2 else
            ["", *row[1:]] for index, row in enumerate(PEOPLE)]
    path = write(tmp_path, "mixed.xlsx", sheet(rows, ["参赛号", *HEADERS[1:]]))
    run(runner, "contestants", "import", event, path)
    assert [entry.bib for entry in entries()] == ["07", None, "A1", None, None]
    run(runner, "draw", event, "--seed", "3")
    # After the largest numeric bib (07), as wide as it: 08, 09, 10.
    assert [entry.bib for entry in entries()] == ["07", "08", "A1", "09", "10"]
    # Registered after the draw, without a bib: scoring cannot open until lots are drawn
    # again, which gives the next numbers.
    late = [[6, "孙丽", "女", id_number(6), "鞍山代表队", "", "13600136006"]]
    run(runner, "contestants", "import", event, write(tmp_path, "late.xlsx", sheet(late)))
    assert entries()[-1].bib is None
    run(runner, "draw", event)
    assert entries()[-1].bib == "11"


def test_a_sheet_sent_again_updates_rather_than_duplicates(
        runner: FlaskCliRunner, event: str, tmp_path: Path) -> None:
    run(runner, "contestants", "import", event, write(tmp_path, "a.xlsx", sheet(PEOPLE)))
    again = [row[:6] + ["13811112222"] if row[0] == 1 else row for row in PEOPLE]
    run(runner, "contestants", "import", event, write(tmp_path, "b.xlsx", sheet(again)))
    registered = entries()
    assert len(registered) == 5 and registered[0].contestant.phone == "13811112222"


@pytest.mark.parametrize("phone", ["1380013800", "23800138000", "138001380012", "12345",
                                   "010-1234", "tel 13800138000"])
def test_a_bad_phone_is_refused_and_nothing_written(runner: FlaskCliRunner, event: str,
                                                    tmp_path: Path, phone: str) -> None:
    rows = [list(row) for row in PEOPLE]
    rows[3][6] = phone
    path = write(tmp_path, "报名表.xlsx", sheet(rows))
    before = snapshot()
    error = run(runner, "contestants", "import", event, path, ok=False)
    assert "报名表.xlsx, row 5, column 手机: " in error, error
    assert "11 digits" in error
    assert snapshot() == before


def test_a_bad_phone_in_the_console_preview(client: FlaskClient, runner: FlaskCliRunner,
                                            event: str) -> None:
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    token = sign_in(client, "boss")
    rows = [list(row) for row in PEOPLE]
    rows[1][6] = "1380013800"
    before = snapshot()
    response = client.post(f"/admin/events/{event}/contestants/preview", data={
        "csrf_token": token, "file": (io.BytesIO(sheet(rows)), "报名表.xlsx")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "payload" not in page
    assert "row-bad" in page and "1380013800" in page
    assert snapshot() == before


def test_phone_forms() -> None:
    assert check_phone("138 0013 8000") == ("13800138000", None)
    assert check_phone("+86 13800138000") == ("13800138000", None)
    assert check_phone("010-12345678") == ("010-12345678", None)
    assert check_phone("（0755）8888 1234") == ("0755-88881234", None)
    assert check_phone("0411-8888123") == ("0411-8888123", None)
    assert check_phone("") == (None, None)
    for bad in ("013800138000", "12345678", "010-123456", "１３８００１３８０００"):
        assert check_phone(bad)[0] is None and check_phone(bad)[1], bad


def test_headers_with_spaces_and_notes(runner: FlaskCliRunner, event: str,
                                       tmp_path: Path) -> None:
    headers = ["序号", " 姓名", "性别", "身份证号 ", "代表队", "工作单位", "手机（必填）", "备注"]
    rows = [[*row, "备注文字"] for row in PEOPLE]
    run(runner, "contestants", "import", event, write(tmp_path, "h.xlsx", sheet(rows, headers)))
    registered = entries()
    assert [entry.contestant.phone for entry in registered] == PHONES
    assert registered[0].contestant.id_number == id_number(1)


def test_a_csv_without_bibs(runner: FlaskCliRunner, event: str, tmp_path: Path) -> None:
    lines = [",".join(HEADERS)] + [",".join(str(cell) for cell in row) for row in PEOPLE]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    run(runner, "contestants", "import", event, path)
    run(runner, "draw", event)
    assert [entry.bib for entry in entries()] == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_template_sample_row_is_refused(client: FlaskClient, runner: FlaskCliRunner,
                                            event: str, tmp_path: Path, kind: str) -> None:
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    sign_in(client, "boss")
    data = client.get(f"/admin/contestants-template.{kind}").data
    if kind == "xlsx":
        book = load_workbook(io.BytesIO(data))
        assert [cell.value for cell in book.active[1]] == HEADERS
        assert book.active["B2"].value == "张三"
        for row in PEOPLE[:2]:  # the delegation fills in its rows below the sample
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        filled = buffer.getvalue()
    else:
        text = data.decode("utf-8-sig")
        assert text.splitlines()[0] == ",".join(HEADERS) and "张三" in text
        filled = (text + "".join(",".join(str(cell) for cell in row) + "\r\n"
                                 for row in PEOPLE[:2])).encode("utf-8-sig")
    path = write(tmp_path, f"template.{kind}", filled)
    before = snapshot()
    error = run(runner, "contestants", "import", event, path, ok=False)
    assert f"template.{kind}, row 2, column 姓名: the sample row 张三 of the template is " \
           "still there: delete it" in error, error
    assert snapshot() == before
    # An old template's sample row (bib 001, no 示例 mark) is known by its details.
    old = tmp_path / "old.csv"
    old.write_text("参赛号,姓名,性别,身份证号,工作单位,代表队,手机号\n"
                   "001,张三,男,11010519491231002X,某某机械厂,某某代表队,13800138000\n",
                   encoding="utf-8")
    assert "row 2, column 姓名: the sample row 张三" in run(
        runner, "contestants", "import", event, old, ok=False)
    assert snapshot() == before
