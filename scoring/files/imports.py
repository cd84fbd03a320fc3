"""Reading the contestants, scores and entries files of FORMATS.md (.csv or .xlsx).

Each reader checks every row and returns clean records, or raises InputError with every
problem found, each naming the file, the row (as Excel numbers it: the header is row 1)
and the column as headed in the file. Nothing here writes to the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import pyexpat
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from .. import rules
from ..inputs import (
    CONTESTANT_ALIASES, CONTESTANT_COLUMNS, ContestantRow, EntryRow, ScoreRow, bib_finder, check_contestant,
    parse_mark, parse_time, text_problem,
)
from ..problems import InputError, Problem

MAX_ROWS = 100_000
# Hard limits on a workbook, whatever it declares: a 5 KB file may claim A1:XFD1048576, hold
# a cell at XFD1048576, or inflate to gigabytes. A delegation's sheet is far inside them all.
MAX_COLUMNS = 64  # a delegation's sheet has about ten; a value further right is refused
MAX_CELLS = 2_000_000  # cells of a sheet (<c> elements, empty or not), or of a CSV file
MAX_STRINGS = 500_000  # entries of a workbook's shared strings
MAX_TEXT = 32_767  # characters of one text in the XML: Excel's limit for a cell
MAX_ELEMENTS = 100_000  # XML elements of any other part (styles, the workbook, relations...)
MAX_UNZIPPED = 50_000_000  # bytes inflated, every read of every part of the workbook together
MAX_PARTS = 1_000
LAST_ROW = MAX_ROWS + 20  # a file's rows, and a title and blank rows above its header
EXCEL_COLUMNS = 16_384  # XFD: no row of a real workbook holds more cells
READ_SIZE = 65_536  # bytes inflated at a time, however much a reader asks for
MAX_TAG = 1_000_000  # bytes between two ">": a tag with its attributes, or a text, at most


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
        return filename, _csv_rows(_decode_csv(data, filename), filename)
    if suffix == ".xlsx":
        return filename, _xlsx_rows(data, filename)
    raise InputError(Problem(_("a file must be .csv or .xlsx, not “%(suffix)s”",
                               suffix=suffix or filename), file=filename))


def _csv_rows(text: str, filename: str) -> list[list[str]]:
    """The rows of a CSV text, read within MAX_ROWS (and a few) rows and MAX_CELLS cells: a
    5 MB file of blank lines or of commas would otherwise be millions of lists."""
    too_many_cells = InputError(Problem(_("the file has more than %(count)s cells",
                                          count=MAX_CELLS), file=filename))
    if text.count(",") >= MAX_CELLS:  # before the csv module makes a list of them
        raise too_many_cells
    rows: list[list[str]] = []
    cells = 0
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append([cell.strip() for cell in row])
            cells += len(row)
            if len(rows) > LAST_ROW:
                raise InputError(Problem(_("the file has more than %(count)s rows",
                                           count=MAX_ROWS), file=filename))
            if cells > MAX_CELLS:
                raise too_many_cells
    except csv.Error as error:
        raise InputError(Problem(_("not a valid CSV file: %(error)s", error=error),
                                 file=filename)) from None
    return rows


# --- .xlsx within hard limits -------------------------------------------------------------
#
# openpyxl trusts what a workbook says of itself: read-only mode pads the rows up to the
# declared dimension, builds every cell of a row before it hands the row over, keeps every
# shared string, and zipfile's read() inflates a whole part in one call (up to a gigabyte)
# before it notices, at the end, that the part is longer than its header said. So every part
# openpyxl reads comes through _Part: inflated READ_SIZE bytes at a time against one budget
# for the whole workbook (MAX_UNZIPPED), and fed to a _Watch (expat, no tree, no objects)
# before openpyxl sees a byte of it. The watch stops the read at the first limit passed, so
# openpyxl never holds more than a chunk beyond a limit.


class _TooLarge(Exception):
    """A workbook passes a hard limit; the message (or None: the general one) says which."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.message = message


class _Malformed(Exception):
    """A workbook that is not what an .xlsx file holds (bad XML, a DTD, a bad reference)."""


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise _TooLarge()


def _rows_beyond(row: int) -> _TooLarge:
    return _TooLarge(_("the sheet reaches row %(row)s: a file has at most %(rows)s rows",
                       row=row, rows=MAX_ROWS))


def _number(text: str) -> int:
    """A row number as openpyxl reads it ("7", or "7.0"); _Malformed otherwise."""
    if text.isdigit() and len(text) < 10:
        number = int(text)
    else:
        try:
            value = float(text) if len(text) < 20 else 0.0
        except ValueError:
            raise _Malformed from None
        if not value.is_integer():
            raise _Malformed
        number = int(value)
    if number < 1:
        raise _Malformed
    return number


CELL_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,12})")
COLUMNS: dict[str, int] = {}  # "XFD" -> 16384, filled as letters are met


def _cell(reference: str) -> tuple[int, int]:
    """("XFD1048576") -> (1048576, 16384); _Malformed for what is not a cell reference."""
    match = CELL_REFERENCE.fullmatch(reference)
    if match is None:
        raise _Malformed
    letters, digits = match.groups()
    column = COLUMNS.get(letters)
    if column is None:
        column = 0
        for letter in letters.upper():
            column = column * 26 + ord(letter) - ord("A") + 1
        COLUMNS[letters] = column
    return _number(digits), column


def _column_letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class _Watch:
    """The XML of one part, parsed as it is inflated (expat: no tree, no objects), with the
    limits that bound what openpyxl then builds of it: the rows, the cells and the cells of a
    row of a sheet, its declared dimension, no value beyond MAX_COLUMNS, the shared strings,
    the elements of any other part, the length of one text; and no DTD (so no entities)."""

    def __init__(self) -> None:
        self.parser = parser = pyexpat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self.first
        parser.CharacterDataHandler = self.characters
        parser.StartDoctypeDeclHandler = self.doctype
        self.done = self.in_data = False
        self.elements = self.text = self.strings = self.since_tag = 0
        self.rows = self.row = self.row_elements = self.cells = self.column = 0
        self.wide: str | None = None  # the cell being read, when it is beyond MAX_COLUMNS
        self.names: dict[str, str] = {}  # "x:row" -> "row"

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        # expat hands over a start tag once it has all of it, attributes and all: a tag of
        # forty megabytes would be parsed whole before any limit below could see it.
        first = data.find(b">")
        if self.since_tag + (len(data) if first < 0 else first) > MAX_TAG:
            raise _TooLarge()
        self.since_tag = self.since_tag + len(data) if first < 0 \
            else len(data) - data.rfind(b">") - 1
        self.done = not data
        try:
            self.parser.Parse(data, self.done)
        except pyexpat.ExpatError:
            raise _Malformed from None

    def local(self, name: str) -> str:
        local = self.names.get(name)
        if local is None:
            local = self.names[name] = name.rpartition(":")[2]
        return local

    def doctype(self, *_args: Any) -> None:
        raise _Malformed

    def characters(self, data: str) -> None:
        self.text += len(data)
        if self.text > MAX_TEXT:
            raise _TooLarge()

    def first(self, name: str, attributes: dict[str, str]) -> None:
        """The root element says what the part is."""
        local = self.local(name)
        if local == "worksheet":
            self.parser.StartElementHandler = self.sheet
            self.parser.EndElementHandler = self.sheet_end
        elif local == "sst":
            self.parser.StartElementHandler = self.string
        else:
            self.parser.StartElementHandler = self.other
        self.parser.StartElementHandler(name, attributes)

    def other(self, _name: str, _attributes: dict[str, str]) -> None:
        self.text = 0
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise _TooLarge()

    def string(self, name: str, _attributes: dict[str, str]) -> None:
        self.text = 0
        self.elements += 1
        if self.local(name) == "si":
            self.strings += 1
            if self.strings > MAX_STRINGS:
                raise _TooLarge()
        if self.elements > 4 * MAX_STRINGS:
            raise _TooLarge()

    def sheet_end(self, name: str) -> None:
        self.text = 0
        local = self.local(name)
        if local == "c":
            self.wide = None
        elif local == "sheetData":
            self.in_data = False

    def sheet(self, name: str, attributes: dict[str, str]) -> None:
        self.text = 0
        local = self.local(name)
        if not self.in_data:
            self.elements += 1
            if self.elements > MAX_ELEMENTS:
                raise _TooLarge()
            if local == "sheetData":
                self.in_data = True
            elif local == "dimension":
                row, _column = _cell(attributes.get("ref", "").rpartition(":")[2])
                if row > LAST_ROW:
                    raise _rows_beyond(row)
            return
        self.row_elements += 1
        if local == "c":
            self.cells += 1
            reference = attributes.get("r")
            row = self.row
            if reference is None:
                self.column += 1
            else:
                row, self.column = _cell(reference)
            if self.cells > MAX_CELLS or self.row_elements > 4 * EXCEL_COLUMNS:
                raise _TooLarge()
            if row > LAST_ROW:
                raise _rows_beyond(row)
            if self.column > MAX_COLUMNS:
                if self.column > EXCEL_COLUMNS:
                    raise _Malformed
                self.wide = reference or f"{_column_letters(self.column)}{row}"
        elif local == "row":
            number = attributes.get("r")
            self.row = _number(number) if number is not None else self.row + 1
            self.rows += 1
            if self.row > LAST_ROW:
                raise _rows_beyond(self.row)
            if self.rows > LAST_ROW:
                raise _TooLarge()
            self.column = self.row_elements = 0
        elif self.row_elements > 4 * EXCEL_COLUMNS:
            raise _TooLarge()
        elif self.wide and local in ("v", "is", "f"):
            raise _TooLarge(_(
                "cell %(cell)s holds a value beyond column %(last)s: a file has at most "
                "%(columns)s columns", cell=self.wide, last=_column_letters(MAX_COLUMNS),
                columns=MAX_COLUMNS))


def _deflated_bound(size: int) -> int:
    """The most a deflate encoder makes of `size` bytes (stored blocks add 5 bytes in 64 KB;
    a careless encoder's fixed Huffman codes an eighth)."""
    return size + size // 8 + 1024


class _Part:
    """A part of the workbook as openpyxl reads it: inflated READ_SIZE bytes at a time (zipfile
    inflates what a single read asks for before it cuts the part to its declared size), the
    bytes counted against the workbook's budget and watched before they are handed over."""

    def __init__(self, raw: Any, budget: _Budget) -> None:
        self.raw, self.budget, self.watch = raw, budget, _Watch()

    def read(self, size: int | None = -1) -> bytes:
        wanted = MAX_UNZIPPED + 1 if size is None or size < 0 else size
        chunks = []
        while wanted > 0:
            chunk = self.raw.read(min(wanted, READ_SIZE))
            self.budget.spend(len(chunk))
            self.watch.feed(chunk)
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> _Part:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Archive(zipfile.ZipFile):
    """The workbook's zip, every part of it read through a _Part."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.budget = _Budget(MAX_UNZIPPED)

    def open(self, name: Any, mode: str = "r", pwd: bytes | None = None, *,
             force_zip64: bool = False) -> Any:
        raw = super().open(name, mode, pwd, force_zip64=force_zip64)
        return _Part(raw, self.budget) if mode == "r" else raw


@functools.cache
def _reader() -> type:
    """openpyxl's reader, taking the first worksheet as it is: openpyxl's own would read its
    declared dimension (and parse the whole sheet when it has none) to pad rows with it."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            pass  # the dimension is checked by the watch, never trusted

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_worksheets(self) -> None:
            for sheet, rel in self.parser.find_sheets():
                if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                    self.wb._sheets.append(Sheet(self.wb, sheet.name, rel.target,
                                                 self.shared_strings))
                    return

    return Reader


def _xlsx_rows(data: bytes, filename: str) -> list[list[str]]:
    """The first sheet's rows as text, read within the limits above: the zip's declared sizes
    and methods are checked before anything is inflated, every part is inflated in small
    chunks against MAX_UNZIPPED and watched as it goes (see _Watch), the declared dimension
    is checked and then ignored, and at most MAX_COLUMNS cells of a row are read."""
    too_large = _("the workbook is too large or malformed (at most %(rows)s rows of "
                  "%(columns)s columns)", rows=MAX_ROWS, columns=MAX_COLUMNS)
    malformed = InputError(Problem(_("not a valid .xlsx workbook"), file=filename))
    archive = book = None
    rows: list[list[str]] = []
    try:
        archive = _Archive(data)
        parts = archive.infolist()
        if len(parts) > MAX_PARTS or sum(part.file_size for part in parts) > MAX_UNZIPPED:
            raise _TooLarge()
        if any(part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
               or part.flag_bits & 0x1 or part.compress_size > _deflated_bound(part.file_size)
               for part in parts):
            # Excel and WPS deflate (zipfile inflates bzip2 and LZMA unbounded), never
            # encrypt, and deflate never makes data much larger: a part whose compressed
            # data is larger than its declared size lies about that size.
            raise _Malformed
        reader = _reader()(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        reader.archive.close()
        reader.archive, reader.valid_files = archive, archive.namelist()
        reader.read()
        book = reader.wb
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            texts = [_cell_text(value) for value in row]
            while texts and not texts[-1]:
                texts.pop()
            rows.append(texts[:])
            if len(rows) > LAST_ROW:
                raise _TooLarge()
    except _TooLarge as error:
        raise InputError(Problem(error.message or too_large, file=filename)) from None
    except InputError:
        raise
    except Exception:  # a zip of broken XML raises anything from zipfile to etree
        raise malformed from None
    finally:
        if book is not None:
            book.close()
        if archive is not None:
            archive.close()
    while rows and not rows[-1]:
        rows.pop()
    return rows


# What a header may carry around its name: spaces (full-width too), a note in brackets
# ("手机（必填）", "身份证号(18位)"), a star marking it required ("姓名*").
HEADER_NOTE = re.compile(r"[(（][^()（）]*[)）]|[*＊\s\u3000]")


def header_key(header: str) -> str:
    """A header as compared with the known ones: "手机（必填） " is "手机", "Name" is "name"."""
    return HEADER_NOTE.sub("", header).lower()


def read_table(path: str | Path, columns: dict[str, str], required: Iterable[str],
               data: bytes | None = None, aliases: dict[str, str] | None = None) -> Table:
    """Read a file and find its columns by English key or Chinese header (`columns`), or by
    another header for the same column (`aliases`: header -> key)."""
    filename, rows = read_rows(path, data)
    by_header = {}
    for header, key in (aliases or {}).items():
        by_header[header_key(header)] = key
    for key, chinese in columns.items():
        by_header[header_key(key)] = key
        by_header[header_key(chinese)] = key
    filled = [index for index, row in enumerate(rows) if any(row)]
    if not filled:
        raise InputError(Problem(_("the file is empty"), file=filename))

    def known(row: list[str]) -> bool:
        return any(by_header.get(header_key(cell)) for cell in row)

    # The header is the first row that names a column; a 报名表 often has a title row above.
    header_index = next((index for index in filled[:10] if known(rows[index])), filled[0])
    headers: dict[str, tuple[int, str]] = {}
    problems = []
    for index, header in enumerate(rows[header_index]):
        key = by_header.get(header_key(header)) if header.strip() else None
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


# The template's sample row (admin/contestants.py): refused if it is left in a sheet. It is
# known by 示例 (example) in its 序号, or, in a template downloaded before it had that mark,
# by its name, ID number (the national standard's example), unit and delegation together.
SAMPLE_MARK = "示例"
SAMPLE_NAME = "张三"
SAMPLE_ID_NUMBER = "11010519491231002X"
SAMPLE_UNIT = "某某机械厂"
SAMPLE_DELEGATION = "某某代表队"
# The contestants file's columns: those of a contestant, and 序号 (a row number: read only
# to recognise the template's sample row; never stored).
CONTESTANT_FILE_COLUMNS = {**CONTESTANT_COLUMNS, "seq": "序号"}


def contestant_table(path: str | Path, data: bytes | None = None) -> Table:
    """A contestants file: 姓名 required; 参赛号 optional (the draw gives the missing bibs)."""
    return read_table(path, CONTESTANT_FILE_COLUMNS, ("name",), data, CONTESTANT_ALIASES)


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
        bib, id_number = clean["bib"], clean["id_number"]
        if table.cell(cells, "seq") == SAMPLE_MARK or (
                (clean["name"], id_number, clean["unit"], clean["delegation"])
                == (SAMPLE_NAME, SAMPLE_ID_NUMBER, SAMPLE_UNIT, SAMPLE_DELEGATION)):
            problems.append(table.problem(row, "name", _(
                "the sample row %(name)s of the template is still there: delete it",
                name=clean["name"] or SAMPLE_NAME)))
            continue
        if "bib" not in found and bib and bib in bibs:
            found["bib"] = _("bib %(bib)s is already used in row %(other)s", bib=bib,
                             other=bibs[bib])
        if "id_number" not in found and id_number and id_number in id_numbers:
            found["id_number"] = _("the same ID number is in row %(other)s",
                                   other=id_numbers[id_number])
        if bib:
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
    records, problems = contestant_rows(contestant_table(path, data))
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
        elif text_problem(judge, 80):
            problems.append(table.problem(row, "judge", text_problem(judge, 80) or ""))
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
