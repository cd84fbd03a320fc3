"""Reading the contestants, scores and entries files of FORMATS.md (.csv or .xlsx).

Each reader checks every row and returns clean records, or raises InputError with every
problem found, each naming the file, the row (as Excel numbers it: the header is row 1)
and the column as headed in the file. Nothing here writes to the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from .. import rules
from ..inputs import (
    CONTESTANT_COLUMNS, ContestantRow, EntryRow, ScoreRow, bib_finder, check_contestant,
    parse_mark, parse_time,
)
from ..problems import InputError, Problem

MAX_ROWS = 100_000
# Hard limits on a workbook, whatever it declares: a 5 KB file may claim A1:XFD1048576.
MAX_COLUMNS = 64  # a delegation's sheet has about ten
MAX_CELLS = 2_000_000
MAX_UNZIPPED = 50_000_000  # bytes, all parts of the workbook together
MAX_PARTS = 1_000


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
        return filename, _xlsx_rows(data, filename)
    raise InputError(Problem(_("a file must be .csv or .xlsx, not “%(suffix)s”",
                               suffix=suffix or filename), file=filename))


def _xlsx_rows(data: bytes, filename: str) -> list[list[str]]:
    """The first sheet's rows as text, read within the limits above: the zip's declared
    sizes are checked before anything is inflated, rows are read as they stream, at most
    MAX_COLUMNS cells of each, and reading stops past MAX_ROWS rows or MAX_CELLS cells."""
    import zipfile

    from openpyxl import load_workbook

    too_large = InputError(Problem(_("the workbook is too large or malformed (at most %(rows)s "
                                     "rows of %(columns)s columns)", rows=MAX_ROWS,
                                     columns=MAX_COLUMNS), file=filename))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > MAX_UNZIPPED:
                raise too_large
    except zipfile.BadZipFile:
        raise InputError(Problem(_("not a valid .xlsx workbook"), file=filename)) from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a zip of broken XML raises anything from zipfile to etree
        raise InputError(Problem(_("not a valid .xlsx workbook"), file=filename)) from None
    rows: list[list[str]] = []
    cells = 0
    try:
        sheet = book.worksheets[0]
        # The declared dimension is not trusted: rows are padded to MAX_COLUMNS at most.
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            texts = [_cell_text(value) for value in row]
            while texts and not texts[-1]:
                texts.pop()
            rows.append(texts)
            cells += len(row)
            if len(rows) > MAX_ROWS + 20 or cells > MAX_CELLS:
                raise too_large
    except InputError:
        raise
    except Exception:
        raise InputError(Problem(_("not a valid .xlsx workbook"), file=filename)) from None
    finally:
        book.close()
    while rows and not rows[-1]:
        rows.pop()
    return rows


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
