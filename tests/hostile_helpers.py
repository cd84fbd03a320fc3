"""Strategies and checks for tests/test_hostile.py: hostile values, hostile files, the known
bugs a property test steps over (each has its own strict xfail test there), and the database
invariants checked after every example."""

from __future__ import annotations

import csv
import datetime as dt
import io
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import event, note
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import String, select

import scoring
from scoring import rules
from scoring.extensions import db
from scoring.inputs import id_check_digit
from scoring.models import Mark

from .conftest import backend

# --- hostile values ------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'

# Numbers as people (and attackers) type them: every one of these is text a form receives.
ODD_NUMBERS = [
    "NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "-inf", "1e308", "-1e308",
    "1e-308", "1e3", "1E3", "0x10", "0b1", "0o7", "1_0", "１２", "١٢", "²", "12,5", " 12 ",
    "12.", ".5", "+5", "--5", "5-", "-0", "-0.0", "+0", "0", "00", "0.0000", "0.00001",
    "0.5", "1", "10", "29.5", "30", "30.0000", "39.5", "39.9999", "39.99995", "40", "40.0",
    "40.00001", "40.5", "100", "100.5", "-1", "-0.5", "1.25", "35.25", "0" * 400 + "1",
    "9" * 5000, "1" * 100_000, "", " ", "\t", "\n12", "12\n", "\u00a012", "12\u200b", "\ufeff12",
    "1/2", "½", "Ⅻ", "🙂", "12 5",
]
ODD_TEXTS = [
    "' OR '1'='1", "'; DROP TABLE marks; --", "1; DELETE FROM marks", "\" OR 1=1 --",
    "admin'--", "%", "_", "\\", SCRIPT, IMG, "{{7*7}}", "${7*7}", "%s%s%n", "../../etc/passwd",
    "\r\n", "\r", "\u2028", "\u202e", "\ufeff", "𝟘", "null", "None", "true", "[]", "{}",
    "A" * 70_000, "张" * 300, "x" * 101, "x" * 201,
]
NUL = "\x00"

# Unicode text of every kind, control characters included (NUL among them).
any_text = st.text(st.characters(codec="utf-8"), max_size=40)
huge_text = st.builds(lambda char, count: char * count,
                      st.sampled_from(["9", "a", "<", "张", " ", "\x00", "."]),
                      st.integers(200, 120_000))


def hostile(*extra: str) -> st.SearchStrategy[str]:
    """Text a form may receive: odd numbers, injections, control characters, huge strings."""
    return st.one_of(st.sampled_from([*ODD_NUMBERS, *ODD_TEXTS, NUL, *extra]), any_text,
                     huge_text, st.integers(-10**30, 10**30).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.decimals(allow_nan=True, allow_infinity=True).map(str))


@st.composite
def maybe(draw: st.DrawFn, value: str, other: st.SearchStrategy[str], one_in: int = 3) -> str:
    """Mostly a good value, a hostile one once in `one_in`: so that good paths are reached."""
    return draw(other) if draw(st.integers(1, one_in)) == 1 else value


def id_number(first17: str) -> str:
    return first17 + id_check_digit(first17)


valid_id_numbers = st.builds(
    lambda area, day, serial: id_number(f"{area}{day:%Y%m%d}{serial:03d}"),
    st.sampled_from(["110105", "210102", "440305"]),
    st.dates(dt.date(1950, 1, 1), dt.date(2005, 12, 31)), st.integers(0, 999))


# --- hostile files -------------------------------------------------------------------------

@dataclass
class Upload:
    name: str
    data: bytes

    def __repr__(self) -> str:  # hypothesis prints the failing file: keep it readable
        return f"Upload({self.name!r}, {self.data[:300]!r}{'...' if len(self.data) > 300 else ''})"


@st.composite
def spoiled(draw: st.DrawFn, rows: st.SearchStrategy[list[list[Any]]],
            cell: st.SearchStrategy[Any]) -> tuple[bool, list[list[Any]]]:
    """Rows of a good file, or (half the time) with some cells hostile, some rows too short
    or too long: (clean, rows)."""
    body = draw(rows)
    if draw(st.booleans()):
        return True, body
    one_in = draw(st.sampled_from([1, 3, 10]))
    out = []
    for row in body:
        row = [draw(cell) if draw(st.integers(1, one_in)) == 1 else value for value in row]
        shape = draw(st.integers(0, 9))
        if shape == 0:
            row = row[:draw(st.integers(0, len(row)))]  # too few cells
        elif shape == 1:
            row.extend(draw(st.lists(cell, min_size=1, max_size=3)))  # too many
        out.append(row)
    return False, out


@st.composite
def csv_upload(draw: st.DrawFn, header: list[str], rows: st.SearchStrategy[list[list[str]]]
               ) -> Upload:
    """A CSV: the header and rows, good or spoiled, in an encoding people use; a spoiled one
    may also lose a column, gain one, have a title row, another delimiter or damaged bytes."""
    clean, body = draw(spoiled(rows, hostile()))
    order = draw(st.permutations(range(len(header))))
    table = [[header[i] for i in order],
             *[[row[i] if i < len(row) else "" for i in order] + row[len(header):]
               for row in body]]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    delimiter, damage = ",", -1
    if not clean:
        if draw(st.integers(0, 4)) == 0:
            cut = draw(st.integers(0, len(header) - 1))  # a column is missing
            table = [row[:cut] + row[cut + 1:] for row in table]
        if draw(st.integers(0, 6)) == 0:
            table[0].append(draw(st.sampled_from([*header, "备注", ""])))  # an extra one
        if draw(st.integers(0, 6)) == 0:
            table.insert(0, [draw(any_text)])  # a title row above the header
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16",
                                         "latin-1"]))
        delimiter = draw(st.sampled_from([",", ",", ",", ";", "\t", "，"]))
        damage = draw(st.integers(0, 9))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter,
               quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
               ).writerows(table)
    data = buffer.getvalue().encode(encoding, errors="replace")
    if damage == 0:
        data = data.replace(b",", b"\x00", 1)  # a NUL byte
    elif damage == 1:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif damage == 2:
        data = data[:draw(st.integers(0, len(data)))]  # cut short
    return Upload(draw(st.sampled_from(["file.csv", "FILE.CSV", "报名表.csv"])), data)


def xlsx_cell() -> st.SearchStrategy[Any]:
    """Any type a cell holds: text, numbers, dates, times, durations, booleans, formulas."""
    return st.one_of(
        hostile(), st.none(), st.booleans(), st.integers(-10**20, 10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([0.5, 88.5, 3.0, -0.0, 1e308, 1e-300, 12.25, 99.99999999]),
        st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)),
        st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)), st.times(),
        st.timedeltas(dt.timedelta(0), dt.timedelta(days=3)),
        st.sampled_from(["=1+1", "=A1", "=SUM(A1:A3)", "=1/0", "@x", "+1", "-1"]),
    )


def as_number(value: str) -> Any:
    """A cell as Excel keeps what was typed: 03 becomes 3, 88.5 a float."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


@st.composite
def xlsx_upload(draw: st.DrawFn, header: list[str], rows: st.SearchStrategy[list[list[str]]]
                ) -> Upload:
    """A workbook made with openpyxl: the header, then rows, good (numbers typed as numbers
    or as text) or spoiled with cells of every type."""
    clean, body = draw(spoiled(rows, xlsx_cell()))
    numbers = draw(st.booleans())
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in body:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("?", value)[:32_000] if isinstance(value, str)
                      and not (numbers and clean) else
                      as_number(value) if isinstance(value, str) else value for value in row])
    if not clean and draw(st.integers(0, 5)) == 0:
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                cell.number_format = draw(st.sampled_from(["@", "0.00", "yyyy-mm-dd",
                                                           "h:mm:ss", "General"]))
    if not clean and draw(st.integers(0, 8)) == 0:
        book.create_sheet("说明", 0).append(["nothing", "here"])  # the data is not first
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if not clean and draw(st.integers(0, 10)) == 0:
        data = data[:draw(st.integers(0, len(data)))]  # a download cut short
    return Upload(draw(st.sampled_from(["file.xlsx", "报名表.XLSX"])), data)


def uploads(header: list[str], rows: st.SearchStrategy[list[list[str]]]
            ) -> st.SearchStrategy[Upload]:
    """A file of this header and rows: CSV, XLSX, or bytes that are neither."""
    return st.one_of(
        csv_upload(header, rows), csv_upload(header, rows), xlsx_upload(header, rows),
        st.builds(Upload, st.sampled_from(["file.csv", "file.xlsx", "file.txt", "file",
                                           "file.xls", ".csv"]),
                  st.one_of(st.binary(max_size=300),
                            st.sampled_from([b"", b"\xef\xbb\xbf", b"PK\x03\x04", b"\x00" * 9,
                                             b"\r\n\r\n", b",,,\n,,,\n"]))),
    )


# --- known bugs ----------------------------------------------------------------------------

SCORING = Path(scoring.__file__).resolve().parent


@dataclass(frozen=True)
class KnownBug:
    """A crash already reported (and shown by an xfail test in test_hostile.py): a property
    test steps over it, still checking that nothing was written, and goes on."""

    name: str
    exceptions: tuple[str, ...]  # class names
    words: tuple[str, ...]  # one of them is in the message
    functions: tuple[str, ...] = ()  # the innermost function of scoring/ that raised; () any
    postgres_only: bool = False


KNOWN_BUGS: list[KnownBug] = []  # all thirteen found so far are fixed


def innermost_scoring_function(error: BaseException) -> str | None:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).resolve().is_relative_to(SCORING)]
    return frames[-1].name if frames else None


def known_bug(error: BaseException) -> KnownBug | None:
    names = {cls.__name__ for cls in type(error).__mro__}
    message = str(error)
    function = innermost_scoring_function(error)
    for bug in KNOWN_BUGS:
        if bug.postgres_only and backend() != "postgres":
            continue
        if names.isdisjoint(bug.exceptions) or not any(word in message for word in bug.words):
            continue
        if bug.functions and function not in bug.functions:
            continue
        return bug
    return None


def step_over_known_bug(error: BaseException) -> None:
    """Roll back after a crash; re-raise it unless it is a known bug."""
    db.session.rollback()
    bug = known_bug(error)
    if bug is None:
        raise error
    event(f"known bug: {bug.name}")
    note(f"stepped over a known bug: {bug.name} ({type(error).__name__}: "
         f"{str(error)[:200]})")


def web(call: Callable[[], Any]) -> Any:
    """The response of a request, never a 5xx; None when it hit a known bug."""
    try:
        response = call()
    except Exception as error:  # noqa: BLE001  (TESTING propagates the view's exception)
        step_over_known_bug(error)
        return None
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    event(f"HTTP {response.status_code}")
    return response


def precision_lost(text: str) -> bool:
    """Known bug: a numeral of more than 28 significant digits is rounded by the decimal
    context before check_mark sees its places (29.99999999999999999999999999999 -> 30)."""
    digits = text.strip().lstrip("+-").replace(".", "").lstrip("0")
    return len(digits) > 28


# --- database invariants -------------------------------------------------------------------

def assert_marks_valid() -> None:
    """Every mark and every revision holds a value its criterion accepts."""
    db.session.expire_all()
    for mark in db.session.scalars(select(Mark)):
        rule = mark.criterion.to_rule()
        assert rules.check_mark(rule, mark.value) is None, (mark.judge, mark.value)
        for revision in mark.revisions:
            assert rules.check_mark(rule, revision.new_value) is None, revision.new_value


def too_long_values() -> list[tuple[str, str, int]]:
    """(table.column, start of the value, length) of every stored text longer than its column
    (PostgreSQL refuses them, SQLite keeps them)."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String) and column.type.length:
                for value in db.session.scalars(select(column)):
                    if isinstance(value, str) and len(value) > column.type.length:
                        found.append((f"{table.name}.{column.name}", value[:20], len(value)))
    return found


def decimal_or_none(text: str) -> Decimal | None:
    try:
        return rules.parse_decimal(text)
    except (ValueError, ArithmeticError):
        return None

