"""Reading the contestants, scores and entries files of FORMATS.md (.csv or .xlsx).

Each reader checks every row and returns clean records, or raises InputError with every
problem found, each naming the file, the row (as Excel numbers it: the header is row 1)
and the column as headed in the file. Nothing here writes to the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from . import rules
from .problems import InputError, Problem

MAX_ROWS = 100_000


@dataclass
class Table:
    filename: str
    headers: dict[str, tuple[int, str]]  # key -> (column index, header as written)
    rows: list[tuple[int, list[str]]]  # (row number, cells)

    def cell(self, cells: list[str], key: str) -> str:
        column = self.headers.get(key)
        if column is None or column[0] >= len(cells):
            return ""
        return cells[column[0]]

    def problem(self, row: int, key: str, message: str) -> Problem:
        column = self.headers.get(key)
        return Problem(message, file=self.filename, row=row,
                       column=column[1] if column else key)


def _cell_text(value: Any) -> str:
    """An Excel cell as the text a person typed, as far as it can be recovered."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.time):
        return f"{value.hour}:{value.minute:02d}:{value.second:02d}"
    if isinstance(value, dt.timedelta):
        return str(int(value.total_seconds()))
    return str(value).strip()


def _decode_csv(data: bytes, filename: str) -> str:
    if b"\x00" in data:
        raise InputError(Problem(_("this is not a CSV text file"), file=filename))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # WPS and older Excel save Chinese CSV as GBK; GB 18030 reads it and more.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(Problem(_(
            "cannot read the text: save the file as “CSV UTF-8” and try again"),
            file=filename)) from None


def read_rows(path: str | Path, data: bytes | None = None) -> tuple[str, list[list[str]]]:
    """The file's rows as lists of text cells: .csv (UTF-8, BOM or not, or GBK) or .xlsx."""
    path = Path(path)
    filename = path.name
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise InputError(Problem(_("cannot read the file: %(error)s",
                                       error=error.strerror), file=str(path))) from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = _decode_csv(data, filename)
        try:
            return filename, [[cell.strip() for cell in row]
                              for row in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as error:
            raise InputError(Problem(_("not a valid CSV file: %(error)s", error=error),
                                     file=filename)) from None
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # a zip of broken XML raises anything from zipfile to etree
            raise InputError(Problem(_("not a valid .xlsx workbook"), file=filename)) from None
        try:
            sheet = book.worksheets[0]
            rows = [[_cell_text(value) for value in row]
                    for row in sheet.iter_rows(values_only=True)]
        except Exception:
            raise InputError(Problem(_("not a valid .xlsx workbook"), file=filename)) from None
        finally:
            book.close()
        return filename, rows
    raise InputError(Problem(_("a file must be .csv or .xlsx, not “%(suffix)s”",
                               suffix=suffix or filename), file=filename))


def read_table(path: str | Path, columns: dict[str, str], required: Iterable[str],
               data: bytes | None = None) -> Table:
    """Read a file and find its columns by English key or Chinese header (`columns`)."""
    filename, rows = read_rows(path, data)
    by_header = {}
    for key, chinese in columns.items():
        by_header[key.lower()] = key
        by_header[chinese] = key
    filled = [index for index, row in enumerate(rows) if any(row)]
    if not filled:
        raise InputError(Problem(_("the file is empty"), file=filename))

    def known(row: list[str]) -> bool:
        return any(by_header.get(cell.strip().lower()) or by_header.get(cell.strip())
                   for cell in row)

    # The header is the first row that names a column; a 报名表 often has a title row above.
    header_index = next((index for index in filled[:10] if known(rows[index])), filled[0])
    headers: dict[str, tuple[int, str]] = {}
    problems = []
    for index, header in enumerate(rows[header_index]):
        key = by_header.get(header.strip().lower()) or by_header.get(header.strip())
        if key is None:
            continue  # delegations' sheets carry extra columns (序号, 备注): ignored
        if key in headers:
            problems.append(Problem(_("the column “%(header)s” appears twice", header=header),
                                    file=filename, row=header_index + 1, column=header))
        headers[key] = (index, header.strip())
    for key in required:
        if key not in headers:
            problems.append(Problem(
                _("the required column is missing (header “%(key)s” or “%(chinese)s”)",
                  key=key, chinese=columns[key]),
                file=filename, row=header_index + 1, column=columns[key]))
    if problems:
        raise InputError(problems)
    body = [(number, row) for number, row in enumerate(rows[header_index + 1:],
                                                       start=header_index + 2) if any(row)]
    width = len(rows[header_index])
    for number, row in body:
        if any(cell for cell in row[width:]):
            problems.append(Problem(_(
                "this row has more cells than the header has columns (a decimal comma, "
                "such as 88,5? write 88.5)"), file=filename, row=number))
    if problems:
        raise InputError(problems)
    if not body:
        raise InputError(Problem(_("the file has a header but no rows"), file=filename))
    if len(body) > MAX_ROWS:
        raise InputError(Problem(_("the file has more than %(count)s rows", count=MAX_ROWS),
                                 file=filename))
    return Table(filename, headers, body)


# --- contestants ------------------------------------------------------------------------

CONTESTANT_COLUMNS = {
    "bib": "参赛号", "name": "姓名", "gender": "性别", "id_number": "身份证号",
    "unit": "工作单位", "delegation": "代表队", "phone": "手机号",
}
GENDERS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
BIB_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number_problem(number: str) -> str | None:
    """Why `number` is not a valid 18-character PRC resident ID number, or None."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return _("an ID number has 17 digits and a check digit (0–9 or X)")
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return _("the date of birth in the ID number (%(date)s) is not a date",
                 date=number[6:14])
    expected = ID_CHECK[sum(int(digit) * weight
                            for digit, weight in zip(number, ID_WEIGHTS)) % 11]
    if number[17] != expected:
        return _("the check digit is wrong (the last character should be %(expected)s)",
                 expected=expected)
    return None


def id_check_digit(first17: str) -> str:
    return ID_CHECK[sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS)) % 11]


@dataclass
class ContestantRow:
    row: int
    bib: str
    name: str
    gender: str | None
    id_number: str | None
    unit: str | None
    delegation: str | None
    phone: str | None
    # The file's columns (key -> header as written): a column the file lacks changes nothing.
    columns: dict[str, str] = field(default_factory=lambda: dict(CONTESTANT_COLUMNS))


def check_contestant(values: dict[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """One contestant's fields (bib, name, gender, id_number, unit, delegation, phone) as
    typed: the clean values, and the problem of each field that has one. Used by the file
    import and by the console's form alike."""
    clean: dict[str, str | None] = {}
    problems: dict[str, str] = {}
    bib = values.get("bib", "").strip()
    if not bib:
        problems["bib"] = _("the bib is empty")
    elif not BIB_PATTERN.match(bib):
        problems["bib"] = _(
            "a bib is a letter or digit followed by letters, digits, - or _ (at most 20)")
    clean["bib"] = bib
    name = values.get("name", "").strip()
    if not name:
        problems["name"] = _("the name is empty")
    for key, limit in (("name", 100), ("unit", 200), ("delegation", 100)):
        text = values.get(key, "").strip()
        if len(text) > limit:
            problems[key] = _("longer than %(limit)s characters", limit=limit)
        elif CONTROL.search(text):
            problems[key] = _("contains a line break or another control character")
        clean[key] = text or None
    gender_text = values.get("gender", "").strip()
    clean["gender"] = GENDERS.get(gender_text.lower()) if gender_text else None
    if gender_text and clean["gender"] is None:
        problems["gender"] = _("“%(value)s” is not a gender (男, 女, M or F)", value=gender_text)
    id_number = values.get("id_number", "").upper().replace(" ", "").strip() or None
    if id_number and "E+" in id_number:
        problems["id_number"] = _(
            "Excel stored this ID number as a number and lost its last digits: format "
            "the column as text and type it again")
    elif id_number:
        problem = id_number_problem(id_number)
        if problem:
            problems["id_number"] = problem
    clean["id_number"] = id_number
    phone = re.sub(r"[\s-]", "", values.get("phone", "")).removeprefix("+86") or None
    if phone and not re.fullmatch(r"1[0-9]{10}", phone):
        problems["phone"] = _("a mobile number has 11 digits and begins with 1")
    clean["phone"] = phone
    return clean, problems


def contestant_rows(table: Table) -> tuple[list[ContestantRow], list[Problem]]:
    """The checked rows of a contestants table, and every problem found."""
    columns = {key: header for key, (_index, header) in table.headers.items()}
    problems: list[Problem] = []
    records = []
    bibs: dict[str, int] = {}
    id_numbers: dict[str, int] = {}
    for row, cells in table.rows:
        clean, found = check_contestant({key: table.cell(cells, key)
                                         for key in CONTESTANT_COLUMNS})
        bib, id_number = clean["bib"] or "", clean["id_number"]
        if "bib" not in found and bib in bibs:
            found["bib"] = _("bib %(bib)s is already used in row %(other)s", bib=bib,
                             other=bibs[bib])
        if "id_number" not in found and id_number and id_number in id_numbers:
            found["id_number"] = _("the same ID number is in row %(other)s",
                                   other=id_numbers[id_number])
        bibs.setdefault(bib, row)
        if id_number:
            id_numbers.setdefault(id_number, row)
        problems.extend(table.problem(row, key, message) for key, message in found.items())
        if not found:
            records.append(ContestantRow(
                row, bib, clean["name"] or "", clean["gender"], id_number, clean["unit"],
                clean["delegation"], clean["phone"], columns))
    return records, problems


def read_contestants(path: str | Path, data: bytes | None = None) -> list[ContestantRow]:
    records, problems = contestant_rows(
        read_table(path, CONTESTANT_COLUMNS, ("bib", "name"), data))
    if problems:
        raise InputError(problems)
    return records


def bib_finder(bibs: Iterable[str]) -> Callable[[str], str | None]:
    """Find a registered bib as typed, or as Excel shows it after eating leading zeros
    ("03" typed in a number cell becomes 3), when that is unambiguous."""
    registered = set(bibs)
    by_number: dict[str, list[str]] = {}
    for bib in registered:
        if bib.isdigit():
            by_number.setdefault(bib.lstrip("0"), []).append(bib)

    def find(text: str) -> str | None:
        if text in registered:
            return text
        candidates = by_number.get(text.lstrip("0"), []) if text.isdigit() else []
        return candidates[0] if len(candidates) == 1 else None

    return find


def registered_bib(table: Table, row: int, cells: list[str],
                   find_bib: Callable[[str], str | None], problems: list[Problem]) -> str | None:
    """The row's bib as registered in the event, or None with a problem noted."""
    typed = table.cell(cells, "bib")
    bib = find_bib(typed)
    if bib is None:
        problems.append(table.problem(row, "bib", _(
            "no contestant with bib “%(bib)s” in this event", bib=typed)))
    return bib


# --- scores -----------------------------------------------------------------------------

SCORE_COLUMNS = {"bib": "参赛号", "criterion": "评分项", "judge": "裁判", "score": "分数"}


def mark_problem(problem: str | None, criterion: rules.CriterionRule) -> str | None:
    """The person's reason for a rules.check_mark problem code."""
    if problem is None:
        return None
    messages: dict[str, Callable[[], str]] = {
        "not_a_number": lambda: _("not a number"),
        "below_zero": lambda: _("below 0"),
        "above_max": lambda: _("above the maximum %(max)s", max=criterion.max),
        "off_step": lambda: _("not a multiple of the step %(step)s", step=criterion.step),
        "too_precise": lambda: _("more than 4 decimal places"),
    }
    return messages[problem]()


def parse_mark(text: str, criterion: rules.CriterionRule) -> tuple[Decimal | None, str | None]:
    """A typed mark as a Decimal, or the reason it is not one (empty, NaN, 1e3, 12,5...)."""
    text = text.strip()
    if not text:
        return None, _("the mark is empty")
    try:
        value = rules.parse_decimal(text)
    except (ValueError, ArithmeticError):
        return None, _("“%(value)s” is not a number", value=text)
    problem = mark_problem(rules.check_mark(criterion, value), criterion)
    return (None, problem) if problem else (value, None)


@dataclass
class ScoreRow:
    row: int
    bib: str
    criterion: str
    judge: str
    score: Decimal


def read_scores(path: str | Path, criteria: dict[str, rules.CriterionRule], bibs: set[str],
                data: bytes | None = None) -> list[ScoreRow]:
    table = read_table(path, SCORE_COLUMNS, ("bib", "criterion", "judge", "score"), data)
    problems: list[Problem] = []
    records = []
    seen: dict[tuple[str, str, str], int] = {}
    find_bib = bib_finder(bibs)
    for row, cells in table.rows:
        before = len(problems)
        bib = registered_bib(table, row, cells, find_bib, problems)
        code = table.cell(cells, "criterion")
        criterion = criteria.get(code)
        if criterion is None:
            problems.append(table.problem(row, "criterion", _(
                "unknown criterion “%(code)s” (this event has %(codes)s)",
                code=code, codes=", ".join(criteria))))
        judge = table.cell(cells, "judge")
        if not judge:
            problems.append(table.problem(row, "judge", _("the judge is empty")))
        elif len(judge) > 80:
            problems.append(table.problem(row, "judge", _("longer than %(limit)s characters",
                                                          limit=80)))
        value = None
        if criterion is not None:
            value, reason = parse_mark(table.cell(cells, "score"), criterion)
            if reason:
                problems.append(table.problem(row, "score", reason))
        key = (bib, code, judge)
        if key in seen and len(problems) == before:
            problems.append(table.problem(row, "judge", _(
                "the same bib, criterion and judge are already in row %(other)s",
                other=seen[key])))
        seen.setdefault(key, row)
        if len(problems) == before and value is not None:
            records.append(ScoreRow(row, bib, code, judge, value))
    if problems:
        raise InputError(problems)
    return records


# --- entries ----------------------------------------------------------------------------

ENTRY_COLUMNS = {"bib": "参赛号", "status": "状态", "time": "用时"}
STATUS_WORDS = {"ok": "ok", "absent": "absent", "dq": "dq",
                "正常": "ok", "缺考": "absent", "取消资格": "dq"}


MAX_TIME = 7 * 24 * 3600  # no task of a skills competition lasts a week


def parse_time(text: str) -> int:
    """Seconds from "9000", "mm:ss" or "h:mm:ss"; ValueError otherwise."""
    parts = text.strip().split(":")
    if not all(part.isdigit() and part.isascii() for part in parts) or len(parts) > 3:
        raise ValueError(text)
    numbers = [int(part) for part in parts]
    if any(number >= 60 for number in numbers[1:]):
        raise ValueError(text)
    seconds = 0
    for number in numbers:
        seconds = seconds * 60 + number
    if seconds > MAX_TIME:
        raise ValueError(text)
    return seconds


def format_time(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


@dataclass
class EntryRow:
    row: int
    bib: str
    status: str | None
    time: int | None


def read_entries(path: str | Path, bibs: set[str], data: bytes | None = None) -> list[EntryRow]:
    table = read_table(path, ENTRY_COLUMNS, ("bib",), data)
    if "status" not in table.headers and "time" not in table.headers:
        raise InputError(Problem(_("the file needs a status (状态) or a time (用时) column"),
                                 file=table.filename, row=1))
    problems: list[Problem] = []
    records = []
    seen: dict[str, int] = {}
    find_bib = bib_finder(bibs)
    for row, cells in table.rows:
        before = len(problems)
        bib = registered_bib(table, row, cells, find_bib, problems)
        if bib is not None and bib in seen:
            problems.append(table.problem(row, "bib", _(
                "bib %(bib)s is already used in row %(other)s", bib=bib, other=seen[bib])))
        if bib is not None:
            seen.setdefault(bib, row)
        status_text = table.cell(cells, "status")
        status = STATUS_WORDS.get(status_text.lower()) if status_text else None
        if status_text and status is None:
            problems.append(table.problem(row, "status", _(
                "“%(value)s” is not a status (ok, absent, dq, 正常, 缺考, 取消资格)",
                value=status_text)))
        time_text = table.cell(cells, "time")
        seconds = None
        if time_text:
            try:
                seconds = parse_time(time_text)
            except ValueError:
                problems.append(table.problem(row, "time", _(
                    "“%(value)s” is not a time (seconds, mm:ss or h:mm:ss)", value=time_text)))
        if len(problems) == before:
            records.append(EntryRow(row, bib, status, seconds))
    if problems:
        raise InputError(problems)
    return records
