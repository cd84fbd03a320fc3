"""Hard limits on what people and files bring in (DESIGN.md, "What bad input gets"), where a
person meets them: the console over HTTP and the command line.

- hostile workbooks (a declared dimension of A1:XFD1048576, a cell at XFD1048576, rows
  spread to row 1048576, a row of a million cells, zip bombs, parts that lie about their
  size) are refused, naming the file, at a bounded cost: the memory Python holds at once
  (tracemalloc) and the bytes zlib inflates are measured, never the wall clock;
- a scheme nested 100000 deep (brackets, or the dots of a dotted key) is refused, and a
  long scheme full of brackets in its strings and comments still imports;
- control, bidirectional and zero-width characters in every name a scheme, a contestant
  or an account carries are refused beside the field, or naming file, row and column;
- a scheme without criteria is refused;
- a mark is stored and shown normalised: -0 is 0, 40.00000 is 40.

Every refusal is checked to have written nothing. The suite runs on SQLite and on
PostgreSQL (SCORING_TEST_DB=postgres), which refuses NUL in text with an error of its own.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner, FlaskClient
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from scoring import rules
from scoring.extensions import db
from scoring.files import imports
from scoring.inputs import id_check_digit, normal_mark, parse_mark
from scoring.models import AuditEvent, Competition, Entry, Event, Mark, MarkRevision

from .judging_helpers import PASSWORD, save, set_up_event, sign_in
from .test_cli import EXAMPLE_B, run, snapshot

MB = 1_000_000
INVISIBLE = "contains a line break, a control character or an invisible character"
INVISIBLE_IN_LINES = "contains a control character or an invisible character"  # reasons
# NUL, ESC, a C1 control (CSI), the bidirectional embeddings, overrides and isolates, the
# zero-width characters and the BOM: each makes a name show other than it is, or not at all.
CHARACTERS = ["\x00", "\x1b", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069", "\u200b",
              "\u200f", "\u2060", "\ufeff"]
NAMES = {character: f"U+{ord(character):04X}" for character in CHARACTERS}


def written() -> tuple[int, ...]:
    """The rows of every table a refused request could have written to."""
    return (*snapshot(), db.session.scalar(select(func.count(Competition.id))) or 0)


@pytest.fixture
def console(client: FlaskClient, runner: FlaskCliRunner) -> str:
    """Example (b) imported, and an organiser signed in (in English): the CSRF token."""
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    client.set_cookie("lang", "en")
    return sign_in(client, "boss")


def upload(client: FlaskClient, token: str, url: str, field: str, name: str, data: bytes,
           **form: str) -> Any:
    """Post a file as a browser does. The body is built here: Werkzeug's test client spools
    one over 500 kB to a temporary file it never closes (a ResourceWarning, an error)."""
    boundary, body = encode_multipart({"csrf_token": token, **form,
                                       field: FileStorage(io.BytesIO(data), filename=name)})
    return client.post(url, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


# --- what a read costs ------------------------------------------------------------------------

@dataclass
class Cost:
    peak: int = 0  # bytes Python held at once, at most (tracemalloc)
    inflated: int = 0  # bytes the zip's decompressors put out


class CountingDecompressor:
    """A zipfile decompressor that counts what it puts out."""

    def __init__(self, inner: Any, cost: Cost) -> None:
        self.inner, self.cost = inner, cost

    def decompress(self, data: bytes, *limit: int) -> bytes:
        out = self.inner.decompress(data, *limit)
        self.cost.inflated += len(out)
        return out

    def flush(self, *args: int) -> bytes:
        out = self.inner.flush(*args)
        self.cost.inflated += len(out)
        return out

    def __getattr__(self, name: str) -> Any:  # eof, unconsumed_tail
        return getattr(self.inner, name)


@contextmanager
def measured(monkeypatch: pytest.MonkeyPatch) -> Iterator[Cost]:
    cost = Cost()
    real = zipfile._get_decompressor  # type: ignore[attr-defined]

    def counting(compress_type: int) -> Any:
        inner = real(compress_type)
        return None if inner is None else CountingDecompressor(inner, cost)

    with monkeypatch.context() as patch:
        patch.setattr(zipfile, "_get_decompressor", counting)
        tracemalloc.start()
        try:
            yield cost
        finally:
            cost.peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()


# --- workbooks written by hand -----------------------------------------------------------------

SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE}">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{SHEET_NS}" '
    f'xmlns:r="{RELATIONSHIPS}"><sheets><sheet name="报名表" sheetId="1" r:id="rId1"/>'
    '</sheets></workbook>')
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PACKAGE}">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>')


def text_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def people_rows(count: int = 3) -> str:
    """A header (参赛号, 姓名, 代表队) and `count` contestants, rows 1 to count + 1."""
    rows = ['<row r="1">' + text_cell("A1", "参赛号") + text_cell("B1", "姓名")
            + text_cell("C1", "代表队") + "</row>"]
    for number in range(2, count + 2):
        rows.append(f'<row r="{number}">' + text_cell(f"A{number}", f"{number:02d}")
                    + text_cell(f"B{number}", f"选手{number}")
                    + text_cell(f"C{number}", "甲队") + "</row>")
    return "".join(rows)


def sheet(rows: str, dimension: str | None = None) -> str:
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}">'
            f"{declared}<sheetData>{rows}</sheetData></worksheet>")


def parts(sheet_xml: str) -> dict[str, str]:
    return {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": ROOT_RELS,
            "xl/workbook.xml": WORKBOOK, "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
            "xl/worksheets/sheet1.xml": sheet_xml}


def workbook(sheet_xml: str, method: int = zipfile.ZIP_DEFLATED,
             **extra: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, text in parts(sheet_xml).items():
            archive.writestr(name, text)
        for name, data in extra.items():
            archive.writestr(name.replace("__", "/"), data)
    return buffer.getvalue()


def deflated_zeros(size: int, prefix: bytes = b"") -> bytes:
    """Raw deflate of `prefix` and `size` zero bytes (200 MB make some 200 KB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = [packer.compress(prefix)]
    block = bytes(MB)
    for _ in range(size // MB):
        out.append(packer.compress(block))
    out.append(packer.flush())
    return b"".join(out)


@dataclass
class Member:
    name: str
    data: bytes  # as stored in the zip
    method: int  # 0 stored, 8 deflated
    crc: int  # as declared
    size: int  # the uncompressed size, as declared


def stored(name: str, text: str) -> Member:
    data = text.encode()
    return Member(name, data, 0, zlib.crc32(data), len(data))


def raw_zip(members: list[Member]) -> bytes:
    """A zip written byte by byte, so that a member's headers may say what they like."""
    out = io.BytesIO()
    directory = []
    for member in members:
        offset, name = out.tell(), member.name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, member.method, 0, 0x21,
                              member.crc, len(member.data), member.size, len(name), 0))
        out.write(name + member.data)
        directory.append(struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, member.method, 0, 0x21,
            member.crc, len(member.data), member.size, len(name), 0, 0, 0, 0, 0, offset)
            + name)
    start = out.tell()
    out.write(b"".join(directory))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                          out.tell() - start, start, 0))
    return out.getvalue()


def plain_members(sheet_xml: str) -> list[Member]:
    return [stored(name, text) for name, text in parts(sheet_xml).items()]


def lying_content_types() -> bytes:
    """[Content_Types].xml is the deflate of 200 MB of zeros; its headers say 1000 bytes."""
    return raw_zip([Member("[Content_Types].xml", zeros_200mb(), 8, zlib.crc32(bytes(1000)),
                           1000), *plain_members(sheet(people_rows()))[1:]])


def lying_within_bounds() -> bytes:
    """[Content_Types].xml holds the real one and 200 MB of zeros after it; its headers
    declare as many bytes as its compressed data has (nothing looks amiss before a byte is
    inflated) and the CRC of those first bytes (zipfile finds no fault after them either).
    zipfile's read() would inflate all 200 MB in one call before cutting them to size."""
    data = deflated_zeros(200 * MB, CONTENT_TYPES.encode())
    declared = (CONTENT_TYPES.encode() + bytes(len(data)))[:len(data)]
    return raw_zip([Member("[Content_Types].xml", data, 8, zlib.crc32(declared), len(data)),
                    *plain_members(sheet(people_rows()))[1:]])


def lying_sheet() -> bytes:
    """The sheet is a real one and 200 MB of zeros, its headers declare the compressed size."""
    real = sheet(people_rows()).encode()
    data = deflated_zeros(200 * MB, real)
    declared = (real + bytes(len(data)))[:len(data)]
    return raw_zip([*plain_members("")[:4],
                    Member("xl/worksheets/sheet1.xml", data, 8, zlib.crc32(declared),
                           len(data))])


@functools.cache
def zeros_200mb() -> bytes:
    return deflated_zeros(200 * MB)


def declared_bomb() -> bytes:
    """An honest bomb: a 150 MB part (of zeros), declared as such, in a 150 KB file."""
    data = deflated_zeros(150 * MB)
    return raw_zip([*plain_members(sheet(people_rows())),
                    Member("xl/media/image1.png", data, 8, zlib.crc32(bytes(150 * MB)),
                           150 * MB)])


def bzip2_part() -> bytes:
    """zipfile inflates bzip2 (and LZMA) in one call whatever a reader asks for."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        for name, text in parts(sheet(people_rows())).items():
            archive.writestr(name, text)
    return buffer.getvalue()


ROWS_BEYOND = "the sheet reaches row {row}: a file has at most 100000 rows"
TOO_LARGE = "the workbook is too large or malformed (at most 100000 rows of 64 columns)"
NOT_XLSX = "not a valid .xlsx workbook"

# name: (the workbook, what the refusal says, what zlib may inflate at most)
HOSTILE: dict[str, tuple[Callable[[], bytes], str, int]] = {
    "dimension-A1-XFD1048576": (
        lambda: workbook(sheet(people_rows(), dimension="A1:XFD1048576")),
        ROWS_BEYOND.format(row=1048576), MB),
    "a-cell-at-XFD1048576": (
        lambda: workbook(sheet(people_rows() + '<row r="1048576"><c r="XFD1048576">'
                               "<v>1</v></c></row>")),
        ROWS_BEYOND.format(row=1048576), MB),
    "rows-spread-to-1048576": (
        lambda: workbook(sheet(people_rows() + "".join(
            f'<row r="{row}"><c r="A{row}"><v>{row}</v></c></row>'
            for row in range(10_000, 1_048_577, 10_000)), dimension="A1:C1048576")),
        ROWS_BEYOND.format(row=1048576), MB),
    "rows-spread-undeclared": (
        lambda: workbook(sheet(people_rows() + "".join(
            f'<row r="{row}"><c r="A{row}"><v>{row}</v></c></row>'
            for row in [*range(10_000, 1_048_576, 10_000), 1_048_576]))),
        ROWS_BEYOND.format(row=110000), MB),
    "a-row-of-a-million-cells": (
        lambda: workbook(sheet(people_rows() + '<row r="5">' + '<c r="B5"/>' * 1_000_000
                               + "</row>")),
        TOO_LARGE, 2 * MB),
    "a-row-past-XFD": (
        lambda: workbook(sheet(people_rows() + '<row r="5">' + "<c/>" * 20_000 + "</row>")),
        NOT_XLSX, MB),
    "a-value-beyond-column-64": (
        lambda: workbook(sheet(people_rows() + '<row r="5">' + text_cell("A5", "05")
                               + text_cell("BM5", "note") + "</row>")),
        "cell BM5 holds a value beyond column BL: a file has at most 64 columns", MB),
    "a-tag-of-40-MB": (
        lambda: workbook(sheet(people_rows() + '<row r="5"><c r="A5" x="' + "x" * 40 * MB
                               + '"/></row>')),
        TOO_LARGE, 2 * MB),
    "a-150-MB-part": (declared_bomb, TOO_LARGE, 0),
    "a-part-lying-about-its-size": (lying_content_types, NOT_XLSX, 0),
    "a-part-lying-within-bounds": (lying_within_bounds, NOT_XLSX, MB),
    "a-sheet-lying-within-bounds": (lying_sheet, NOT_XLSX, MB),
    "a-bzip2-part": (bzip2_part, NOT_XLSX, 0),
}


@functools.cache
def hostile(name: str) -> bytes:
    data = HOSTILE[name][0]()
    assert len(data) < 300_000, (name, len(data))  # a few KB, or a few hundred for a bomb
    return data


def assert_cheap(cost: Cost, inflated: int) -> None:
    assert cost.peak < 50 * MB, f"{cost.peak / MB:.1f} MB held at once"
    assert cost.inflated <= inflated, f"{cost.inflated} bytes inflated"
    assert cost.inflated <= imports.MAX_UNZIPPED


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_workbook_is_refused_cheaply_in_the_console(
        client: FlaskClient, console: str, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    data, (_build, message, inflated) = hostile(name), HOSTILE[name]
    before = written()
    with measured(monkeypatch) as cost:
        response = upload(client, console, "/admin/events/EX-B/contestants/preview", "file",
                          f"{name}.xlsx", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:500]
    assert f"{name}.xlsx: {message}" in page and 'name="payload"' not in page
    assert_cheap(cost, inflated)
    assert written() == before


@pytest.mark.parametrize("command", ["contestants", "scores"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_workbook_is_refused_cheaply_on_the_command_line(
        runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
        command: str) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(hostile(name))
    before = written()
    with measured(monkeypatch) as cost:
        error = run(runner, command, "import", "EX-B", path, ok=False)
    assert error == f"error: {name}.xlsx: {HOSTILE[name][1]}\n"
    assert_cheap(cost, HOSTILE[name][2])
    assert written() == before


def test_zipfile_alone_would_inflate_a_lying_part_whole() -> None:
    """Why _xlsx_rows reads in chunks: zipfile's read() of the lying part inflates all of
    it in one call (and cuts it to the declared size only afterwards)."""
    cost = Cost()
    real = zipfile._get_decompressor  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(hostile("a-part-lying-within-bounds"))) as archive:
        raw = archive.open("[Content_Types].xml")
        raw._decompressor = CountingDecompressor(real(zipfile.ZIP_DEFLATED), cost)
        declared = raw.read()  # the CRC of what is kept holds: zipfile sees nothing wrong
    assert len(declared) < MB and cost.inflated > 100 * MB


def test_a_large_plain_sheet_is_read_whole() -> None:
    """35000 rows of four cells: the limit counts the cells a sheet has (the first cut of
    the limits counted 64 per row, padding included, and refused it)."""
    book = Workbook(write_only=True)
    page = book.create_sheet()
    page.append(["参赛号", "评分项", "裁判", "分数"])
    for number in range(35_000):
        page.append([f"{number:05d}", "T", "e", 80])
    buffer = io.BytesIO()
    book.save(buffer)
    name, rows = imports.read_rows("scores.xlsx", buffer.getvalue())
    assert len(rows) == 35_001 and rows[-1] == ["34999", "T", "e", "80"]


DELEGATION_HEADER = ["序号", "参赛号", "姓名", "性别", "身份证号", "工作单位", "代表队", "手机号",
                     "职务", "备注"]


def delegation_sheet() -> bytes:
    """A delegation's sheet as they come: a title row merged above the header, ten columns
    (three of them unknown to the import), thirty contestants, text-formatted IDs."""
    book = Workbook()
    page = book.active
    page.title = "报名表"
    page.append(["第六届全国职工职业技能大赛焊工决赛报名表"])
    page.merge_cells("A1:J1")
    page.append(DELEGATION_HEADER)
    for number in range(1, 31):
        first17 = f"110105{1970 + number}0{number % 9 + 1}1{number % 10}{number % 7:03d}"
        page.append([number, f"{number:03d}", f"选手{number}", "男" if number % 2 else "女",
                     first17 + id_check_digit(first17), "某某机械厂", f"第{number % 5 + 1}代表队",
                     f"138{number:08d}", "焊工", ""])
    for cell in page["E"]:
        cell.number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_delegation_sheet_still_imports_in_the_console(client: FlaskClient,
                                                         console: str) -> None:
    response = upload(client, console, "/admin/events/EX-B/contestants/preview", "file",
                      "报名表.xlsx", delegation_sheet())
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    payload = re.search(r'name="payload" value="([^"]+)"', page)
    assert payload
    response = client.post("/admin/events/EX-B/contestants/import",
                           data={"csrf_token": console, "payload": payload.group(1)})
    assert response.status_code == 302
    entries = db.session.scalars(select(Entry).order_by(Entry.bib)).all()
    assert len(entries) == 30
    assert (entries[0].bib, entries[0].contestant.name, entries[0].delegation) == (
        "001", "选手1", "第2代表队")


def test_a_delegation_sheet_still_imports_on_the_command_line(runner: FlaskCliRunner,
                                                              tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path = tmp_path / "报名表.xlsx"
    path.write_bytes(delegation_sheet())
    assert "Imported 30 contestants" in run(runner, "contestants", "import", "EX-B", path)
    assert db.session.scalar(select(func.count(Entry.id))) == 30


@pytest.mark.parametrize(("content", "message"), [
    (b"bib,name\n01,x\n" + b"\n" * 4_000_000, "the file has more than 100000 rows"),
    (b"bib,name\n01,x" + b"," * 4_000_000 + b"\n", "the file has more than 2000000 cells"),
])
def test_a_csv_of_millions_of_rows_or_cells_is_refused_cheaply(
        client: FlaskClient, console: str, monkeypatch: pytest.MonkeyPatch, content: bytes,
        message: str) -> None:
    """A 4 MB upload of blank lines (or commas) was as many Python lists (or strings)."""
    before = written()
    with measured(monkeypatch) as cost:
        response = upload(client, console, "/admin/events/EX-B/contestants/preview", "file",
                          "people.csv", content)
    assert response.status_code == 422
    assert f"people.csv: {message}" in response.get_data(as_text=True)
    assert cost.peak < 50 * MB, f"{cost.peak / MB:.1f} MB"
    assert written() == before


# --- schemes nested deep ------------------------------------------------------------------------

NESTED = {
    "brackets": "a = " + "[" * 100_000,
    "braces": "a = " + "{ b = " * 30_000,
    "a-dotted-key": ".".join(["a"] * 60_000) + " = 1\n",  # tomllib: a minute, quadratic
    "a-dotted-table": "[" + ".".join(["a"] * 60_000) + "]\n",
    "hidden-behind-an-escaped-quote": 'name = "\\""\n' + "a = " + "[" * 100_000,
}
NESTED_MESSAGE = "arrays or tables nested deeper than 8: this is not a scheme"


@pytest.mark.parametrize("name", list(NESTED))
def test_a_scheme_nested_deep_is_refused_in_the_console(client: FlaskClient, console: str,
                                                        name: str) -> None:
    before = written()
    response = upload(client, console, "/admin/events/new", "scheme_file", f"{name}.toml",
                      NESTED[name].encode(), competition="new", new_competition="赛事")
    assert response.status_code == 422
    assert f"{name}.toml: {NESTED_MESSAGE}" in response.get_data(as_text=True)
    assert written() == before


@pytest.mark.parametrize("name", list(NESTED))
def test_a_scheme_nested_deep_is_refused_on_the_command_line(runner: FlaskCliRunner,
                                                             tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_text(NESTED[name], encoding="utf-8")
    before = written()
    assert run(runner, "event", "import", path, ok=False) == \
        f"error: {path}: {NESTED_MESSAGE}\n"
    assert written() == before


def long_scheme() -> str:
    """Sixty criteria whose names and comments hold brackets, quotes and escapes: legal."""
    lines = ['# [[[[[[[[[[ a comment is not nesting ]]]]]]]]]]', 'code = "LONG"',
             'name = "长方案 \\"[[[[[[[[[[\\" {{{{{{{{{{"', 'competition = \'赛事 [[[[[[[[[[\'',
             'tie_break = ["section:s1", "criterion:C01"]', ""]
    for section in range(1, 5):
        lines += ["[[sections]]", f'code = "s{section}"',
                  f'name = """模块 {section} [[[[[[[[[[ {{{{{{{{{{"""', ""]
    for number in range(1, 61):
        lines += ["[[criteria]]", f'code = "C{number:02d}"',
                  f'name = "评分项 {number} \\\\ [[[[[[[[[[" # ]]]]]]]]]] {"[" * 20}',
                  f'section = "s{number % 4 + 1}"', f"max = {number}.5", "step = 0.5",
                  "weight = 0.1", ""]
    lines += ["[[awards]]", "name = '一等奖 [[[[[[[[[['", "share = 0.1"]
    return "\n".join(lines) + "\n# " + "[" * 150_000 + "\n"


def test_a_long_legal_scheme_still_imports(client: FlaskClient, console: str,
                                           runner: FlaskCliRunner, tmp_path: Path) -> None:
    text = long_scheme()
    assert 150_000 < len(text) < 200_000
    response = upload(client, console, "/admin/events/new", "scheme_file", "long.toml",
                      text.encode(), competition="new", new_competition="赛事")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    event = db.session.scalar(select(Event).where(Event.code == "LONG"))
    assert len(event.criteria) == 60 and event.name == '长方案 "[[[[[[[[[[" {{{{{{{{{{'
    assert event.criteria[0].name == "评分项 1 \\ [[[[[[[[[["
    path = tmp_path / "long.toml"
    path.write_text(text.replace('code = "LONG"', 'code = "LONG2"'), encoding="utf-8")
    assert "Created event LONG2" in run(runner, "event", "import", path)


# --- invisible characters in names ---------------------------------------------------------------

def toml_escape(character: str) -> str:
    return f"\\u{ord(character):04X}"


def scheme_with(character: str) -> str:
    bad = toml_escape(character)
    return (f'code = "INV"\nname = "焊工{bad}决赛"\ncompetition = "大赛{bad}一"\n'
            f'[[sections]]\ncode = "p"\nname = "实{bad}操"\n'
            f'[[criteria]]\ncode = "V"\nname = "外{bad}观"\nsection = "p"\nmax = 40\n'
            f'[[awards]]\nname = "一等{bad}奖"\ncount = 1\n')


SCHEME_FIELDS = ["field name", "field competition", "field sections[1].name",
                 "field criteria[1] (V).name", "field awards[1].name"]


@pytest.mark.parametrize("character", CHARACTERS, ids=NAMES.get)
def test_invisible_characters_in_a_scheme_file_are_refused(
        client: FlaskClient, console: str, runner: FlaskCliRunner, tmp_path: Path,
        character: str) -> None:
    path = tmp_path / "scheme.toml"
    path.write_text(scheme_with(character), encoding="utf-8")
    before = written()
    lines = run(runner, "event", "import", path, ok=False).splitlines()
    assert lines == [f"error: {path}, {field}: {INVISIBLE}" for field in SCHEME_FIELDS]
    response = upload(client, console, "/admin/events/new", "scheme_file", "scheme.toml",
                      scheme_with(character).encode(), competition="new",
                      new_competition="赛事")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in SCHEME_FIELDS:
        assert f"scheme.toml, {field}: {INVISIBLE}" in page
    assert written() == before


def scheme_form(**changes: str) -> dict[str, str]:
    form = {
        "competition": "new", "new_competition": "第六届职工技能大赛", "code": "W1",
        "name": "焊工", "decimals": "2", "rounding": "stage", "award_rounding": "half_up",
        "tie_break-0": "", "team_best_n": "", "section-0-code": "p", "section-0-name": "实操",
        "criterion-0-code": "V", "criterion-0-name": "外观", "criterion-0-section": "p",
        "criterion-0-max": "40", "criterion-0-step": "0.5", "criterion-0-weight": "1",
        "criterion-0-judges": "1", "criterion-0-aggregate": "mean",
        "criterion-0-kind": "score", "award-0-name": "一等奖", "award-0-count": "1",
    }
    form.update(changes)
    return form


def assert_field_refused(page: str, field: str, message: str = INVISIBLE) -> None:
    """The field is marked invalid, and the element that describes it says why."""
    control = re.search(rf'<(?:input|select|textarea)\b[^>]*\bname="{re.escape(field)}"[^>]*>',
                        page)
    assert control and 'aria-invalid="true"' in control.group(0), field
    described = re.search(r'aria-describedby="([^"]+)"', control.group(0))
    assert described, field
    assert any(re.search(rf'id="{re.escape(name)}"[^>]*>[^<]*{re.escape(message)}', page)
               for name in described.group(1).split()), field


def assert_malformed(response: Any) -> None:
    """A NUL anywhere in a request: no person types one, no database takes one. The app
    refuses the request before anything reads it (scoring/__init__.py)."""
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "The request is malformed."


@pytest.mark.parametrize("character", CHARACTERS, ids=NAMES.get)
def test_invisible_characters_in_the_scheme_form_are_refused_beside_the_field(
        client: FlaskClient, console: str, character: str) -> None:
    fields = ["name", "new_competition", "section-0-name", "criterion-0-name", "award-0-name"]
    before = written()
    response = client.post("/admin/events/new", data={
        **scheme_form(**{field: f"焊{character}工" for field in fields}),
        "csrf_token": console})
    if character == "\x00":
        assert_malformed(response)
    else:
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        for field in fields:
            assert_field_refused(page, field)
    assert written() == before


@pytest.mark.parametrize("character", CHARACTERS, ids=NAMES.get)
def test_invisible_characters_in_a_competition_name_are_refused_beside_the_field(
        client: FlaskClient, console: str, character: str) -> None:
    before = written()
    response = client.post("/admin/competitions",
                           data={"csrf_token": console, "name": f"大赛{character}一"})
    if character == "\x00":
        assert_malformed(response)
    else:
        if response.status_code == 302:  # back to the dashboard, the problem beside the field
            response = client.get(response.headers["Location"])
        assert_field_refused(response.get_data(as_text=True), "name")
    assert written() == before


@pytest.mark.parametrize("character", CHARACTERS, ids=NAMES.get)
def test_invisible_characters_in_a_contestants_file_are_refused(
        runner: FlaskCliRunner, tmp_path: Path, character: str) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    path = tmp_path / "people.csv"
    path.write_text("参赛号,姓名,工作单位,代表队\n01,张三,某厂,甲队\n"
                    f"02,李{character}四,某{character}厂,乙{character}队\n", encoding="utf-8")
    before = written()
    error = run(runner, "contestants", "import", "EX-B", path, ok=False)
    if character == "\x00":  # a NUL is no CSV text: the file is refused whole
        assert error == "error: people.csv: this is not a CSV text file\n"
    else:
        assert error.splitlines() == [f"error: people.csv, row 3, column {column}: {INVISIBLE}"
                                      for column in ("姓名", "工作单位", "代表队")]
    assert written() == before


XML_ILLEGAL = {"\x00", "\x1b"}  # no XML 1.0 text holds them, not even as &#27;


@pytest.mark.parametrize("character", CHARACTERS, ids=NAMES.get)
def test_invisible_characters_in_an_uploaded_workbook_are_refused(
        client: FlaskClient, console: str, character: str) -> None:
    bad = f"&#x{ord(character):X};"
    rows = ('<row r="1">' + text_cell("A1", "参赛号") + text_cell("B1", "姓名")
            + text_cell("C1", "工作单位") + text_cell("D1", "代表队") + "</row>"
            '<row r="2">' + text_cell("A2", "01") + text_cell("B2", f"李{bad}四")
            + text_cell("C2", f"某{bad}厂") + text_cell("D2", f"乙{bad}队") + "</row>")
    before = written()
    response = upload(client, console, "/admin/events/EX-B/contestants/preview", "file",
                      "people.xlsx", workbook(sheet(rows)))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    if character in XML_ILLEGAL:
        assert f"people.xlsx: {NOT_XLSX}" in page
    else:
        assert page.count(INVISIBLE) >= 3 and 'name="payload"' not in page
    assert written() == before


@pytest.mark.parametrize("character", CHARACTERS, ids=NAMES.get)
def test_invisible_characters_in_the_entry_form_are_refused_beside_the_field(
        client: FlaskClient, console: str, runner: FlaskCliRunner, character: str) -> None:
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    entry = db.session.scalar(select(Entry).where(Entry.bib == "03"))
    fields = ["name", "unit", "delegation", "status_reason"]
    before = written(), (entry.contestant.name, entry.contestant.unit, entry.delegation,
                         entry.status, entry.status_reason)
    response = client.post(f"/admin/events/EX-B/entries/{entry.id}", data={
        "csrf_token": console, "gender": "M", "id_number": "", "phone": "", "time": "",
        "status": "absent", **{field: f"王{character}强" for field in fields}})
    if character == "\x00":
        assert_malformed(response)
    else:
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        for field in fields:
            assert_field_refused(page, field, INVISIBLE_IN_LINES if field == "status_reason"
                                 else INVISIBLE)
    db.session.expire_all()
    assert (written(), (entry.contestant.name, entry.contestant.unit, entry.delegation,
                        entry.status, entry.status_reason)) == before


@pytest.mark.parametrize("character", CHARACTERS, ids=NAMES.get)
def test_invisible_characters_in_an_account_are_refused(
        client: FlaskClient, console: str, runner: FlaskCliRunner, character: str) -> None:
    before = written()
    response = client.post("/admin/judges", data={
        "csrf_token": console, "username": "judge9", "role": "judge", "password": "",
        "display_name": f"李{character}四", "delegation": f"甲{character}队"})
    if character == "\x00":
        assert_malformed(response)
    else:
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert_field_refused(page, "display_name")
        assert_field_refused(page, "delegation")
    error = run(runner, "user", "create", "judge9", "--role", "judge", "--display-name",
                f"李{character}四", "--delegation", f"甲{character}队", ok=False)
    assert error.splitlines() == [f"error: field --display-name: {INVISIBLE}",
                                  f"error: field --delegation: {INVISIBLE}"]
    assert written() == before


@pytest.mark.parametrize("character", ["\x1b", "\x9b", "\u202e", "\u200b", "\ufeff"],
                         ids=NAMES.get)
def test_invisible_characters_in_a_judge_of_a_scores_file_are_refused(
        runner: FlaskCliRunner, tmp_path: Path, character: str) -> None:
    """The judge of an imported mark is a label kept with it: a name like the others."""
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    path = tmp_path / "marks.csv"
    path.write_text(f"参赛号,评分项,裁判,分数\n03,T,阅卷{character}组,80\n", encoding="utf-8")
    before = written()
    error = run(runner, "scores", "import", "EX-B", path, ok=False)
    assert error == f"error: marks.csv, row 2, column 裁判: {INVISIBLE}\n"
    assert written() == before


# --- a scheme without criteria -------------------------------------------------------------------

NO_CRITERION = "a scheme needs at least one criterion"


@pytest.mark.parametrize("criteria", ["criteria = []\n", ""])
def test_a_scheme_without_criteria_is_refused(client: FlaskClient, console: str,
                                              runner: FlaskCliRunner, tmp_path: Path,
                                              criteria: str) -> None:
    text = f'code = "EMPTY"\nname = "空"\n{criteria}'
    path = tmp_path / "empty.toml"
    path.write_text(text, encoding="utf-8")
    before = written()
    assert run(runner, "event", "import", path, ok=False) == \
        f"error: {path}, field criteria: {NO_CRITERION}\n"
    response = upload(client, console, "/admin/events/new", "scheme_file", "empty.toml",
                      text.encode(), competition="new", new_competition="赛事")
    assert response.status_code == 422
    assert f"empty.toml, field criteria: {NO_CRITERION}" in response.get_data(as_text=True)
    assert written() == before


def test_the_scheme_form_with_every_criterion_row_empty_is_refused(client: FlaskClient,
                                                                   console: str) -> None:
    empty = {key: "" for key in scheme_form() if key.startswith("criterion-0-")}
    empty.update({"criterion-0-aggregate": "mean", "criterion-0-kind": "score"})
    before = written()
    response = client.post("/admin/events/new", data={**scheme_form(**empty),
                                                     "csrf_token": console})
    assert response.status_code == 422
    assert NO_CRITERION in response.get_data(as_text=True)
    assert written() == before


# --- marks as stored and shown -------------------------------------------------------------------

def test_an_imported_mark_is_stored_normalised(runner: FlaskCliRunner, tmp_path: Path,
                                               client: FlaskClient) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "draw", "EX-B", "--seed", "1")
    path = tmp_path / "marks.csv"
    path.write_text("参赛号,评分项,裁判,分数\n03,T,e,-0\n03,P,e,40.00000\n07,T,e,+080.50\n",
                    encoding="utf-8")
    event = db.session.scalar(select(Event))
    rows = imports.read_scores(path, {c.code: c.to_rule() for c in event.criteria},
                               {entry.bib for entry in event.entries})
    assert [str(row.score) for row in rows] == ["0", "40", "80.5"]  # as the import has them
    run(runner, "scores", "import", "EX-B", path)
    db.session.expire_all()
    stored = {(mark.entry.bib, mark.criterion.code): str(mark.value)
              for mark in db.session.scalars(select(Mark))}
    assert stored == {("03", "T"): "0", ("03", "P"): "40", ("07", "T"): "80.5"}
    assert sorted(str(revision.new_value) for revision in
                  db.session.scalars(select(MarkRevision))) == ["0", "40", "80.5"]
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    sign_in(client, "boss")
    page = client.get("/chief/EX-B").get_data(as_text=True)
    shown = re.findall(r'id="cell-\d+"[^>]*>([^<]*)<', page)
    assert sorted(shown) == ["0", "40", "80.5"]


def test_a_judge_save_is_stored_and_shown_normalised(client: FlaskClient,
                                                     runner: FlaskCliRunner,
                                                     tmp_path: Path) -> None:
    judged = set_up_event(runner, tmp_path)
    entry = judged.entries[0]
    token = sign_in(client, "judge1")
    version = ""
    for typed, normal in (("-0", "0"), ("40.00000", "40"), ("-0.000", "0"), ("039.50", "39.5")):
        response = save(client, token, entry, typed, version=version)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'data-saved="{normal}"' in page and f'value="{normal}"' in page, page
        for wrong in {typed, "-0", "40.00000", "4E+1", "4.0E+1"} - {normal}:
            assert f'"{wrong}"' not in page
        db.session.expire_all()
        mark = db.session.scalar(select(Mark).where(Mark.entry_id == entry.id))
        assert str(mark.value) == normal
        version = str(mark.version)


def test_a_chief_correction_is_recorded_normalised(app: Flask, client: FlaskClient,
                                                   runner: FlaskCliRunner,
                                                   tmp_path: Path) -> None:
    """The audit log keeps the correction's old and new values as text: as normalised."""
    judged = set_up_event(runner, tmp_path)
    save(client, sign_in(client, "judge1"), judged.entries[0], "30")
    mark = db.session.scalar(select(Mark))
    chief = app.test_client()
    token = sign_in(chief, "chief")
    response = chief.post(f"/chief/J/marks/{mark.id}", data={
        "value": "40.00000", "reason": "复核", "version": str(mark.version)},
        headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 200
    record = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mark.correct"))
    assert record is not None, response.get_data(as_text=True)
    assert (record.details["old"], record.details["new"]) == ("30", "40")


WIDE = rules.CriterionRule(code="X", section="", max=Decimal(999_999_999))


@settings(max_examples=500, deadline=None)
@given(text=st.from_regex(r"[ ]?[+-]?[0-9]{1,10}(\.[0-9]{0,12})?[ ]?", fullmatch=True))
@example(text="-0")
@example(text="40.00000")
@example(text="-0.0000")
@example(text="000000.10000")
@example(text="999999999.0000")
def test_a_mark_is_normalised_exactly(text: str) -> None:
    value, problem = parse_mark(text, WIDE)
    assume(problem is None and value is not None)
    typed = Decimal(text.strip())
    normal = normal_mark(typed)
    assert normal == typed and value == normal and str(value) == str(normal)
    shown = str(normal)
    assert "E" not in shown and "e" not in shown
    assert shown != "-0" and not shown.startswith("-")
    if "." in shown:
        assert not shown.endswith("0") and not shown.endswith(".")
    assert Decimal(shown) == typed and str(Decimal(shown)) == shown
