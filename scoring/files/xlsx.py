"""The XLSX export for the competition committee: results, team ranking, every judge's raw
marks (for 成绩复核), the judge analytics and the event's audit log, one sheet each, ready
to print.

Figures are numbers (the exact Decimal, shown with the event's `decimals` places); text that
a spreadsheet could take for a formula is stored as a string with Excel's quote prefix, so
it shows exactly as typed and never runs, even when the cell is edited.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import get_timezone
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .exports import is_formula_like, sheet_columns, sheet_rows, sheet_title
from .. import audit_words
from ..extensions import db
from ..models import AuditEvent, Criterion, Entry, Mark, MarkRevision
from ..queries.analytics import event_analytics
from ..queries.marks import display_names
from ..queries.results import EventResults, team_rows
from ..rules import natural_key

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8ECF2")
THIN = Side(style="thin", color="9AA5B4")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MARK_FORMAT = "General"  # marks have up to four places: show the places they have
MAX_WIDTH = 48


def figure_format(decimals: int) -> str:
    return "0." + "0" * decimals if decimals else "0"


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: Chinese characters count twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def local_time(moment: datetime | None) -> datetime | None:
    """A stored UTC moment as the competition's local time, without a zone (Excel has none)."""
    if moment is None:
        return None
    return moment.astimezone(get_timezone()).replace(tzinfo=None)


def put(sheet: Worksheet, row: int, column: int, value: Any,
        number_format: str | None = None) -> Cell:
    """Write one cell: text always as a string (never a formula), numbers as numbers."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        cell.data_type = "s"  # openpyxl would make "=..." a formula
        if is_formula_like(text):
            cell.quotePrefix = True  # as if typed with a leading ': stays text when edited
    else:
        cell.value = value
    if number_format is not None:
        cell.number_format = number_format
    return cell


def write_table(sheet: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                formats: Sequence[str | None]) -> None:
    """A header row (frozen, repeated on every printed page) and the rows under it."""
    widths = [display_width(header) for header in headers]
    for column, header in enumerate(headers, start=1):
        cell = put(sheet, 1, column, header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    row_number = 1
    for row_number, values in enumerate(rows, start=2):
        for column, (value, number_format) in enumerate(zip(values, formats), start=1):
            cell = put(sheet, row_number, column, value, number_format)
            cell.border = BORDER
            if value is not None:
                shown = value if isinstance(value, str) else (
                    f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else str(value))
                widths[column - 1] = max(widths[column - 1], display_width(shown))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    if row_number > 1:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{row_number}"


def set_up_printing(sheet: Worksheet, title: str, landscape: bool) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.oddHeader.center.text = title.replace("&", "&&")
    sheet.oddFooter.center.text = _("Page %(page)s of %(pages)s", page="&P", pages="&N")


def results_sheet(sheet: Worksheet, results: EventResults) -> None:
    columns = sheet_columns(results)
    number = figure_format(results.scheme.decimals)
    formats = [number if column.kind == "figure" else "0" if column.kind == "rank" else "@"
               for column in columns]
    rows = []
    for row in sheet_rows(results):
        values: list[Any] = []
        for column in columns:
            value = row[column.key]
            if column.kind == "figure":
                values.append(Decimal(value) if value else None)
            elif column.kind == "rank":
                values.append(value)
            else:
                values.append(value or None)
        rows.append(values)
    write_table(sheet, [column.header for column in columns], rows, formats)
    set_up_printing(sheet, f"{results.event.competition.name}  {sheet_title(results)}",
                    landscape=len(columns) > 9)


def teams_sheet(sheet: Worksheet, results: EventResults) -> None:
    number = figure_format(results.scheme.decimals)
    rows = [[team["rank"], team["delegation"], team["members_counted"], Decimal(team["total"])]
            for team in team_rows(results)]
    write_table(sheet, [_("Rank"), _("Delegation"), _("Members counted"), _("Total")], rows,
                ["0", "@", "0", number])
    set_up_printing(sheet, f"{results.event.competition.name}  {results.event.name}  "
                    f"{_('Team ranking')}", landscape=False)


def marks_sheet(sheet: Worksheet, results: EventResults) -> None:
    """Every judge's raw mark, by bib, criterion and judge: what 成绩复核 checks against."""
    marks = db.session.scalars(
        select(Mark).join(Entry).where(Entry.event_id == results.event.id)
        .options(joinedload(Mark.entry), joinedload(Mark.criterion))).all()
    marks = sorted(marks, key=lambda mark: (natural_key(mark.entry.bib),
                                            mark.criterion.position, mark.judge))
    names = display_names()
    # A judgement or measurement mark shows what the judge entered (the level, the measured
    # value and its unit) beside the mark it gives; a judgement mark such as 10/3 is shown
    # to four places (the results use it exactly).
    rows = [[mark.entry.bib, mark.entry.blind_code, mark.criterion.code, mark.criterion.name,
             names.get(mark.judge, mark.judge), mark.judge, mark.entered,
             (mark.criterion.unit or None) if mark.entered is not None
             and mark.criterion.kind == "measurement" else None, mark.value,
             local_time(mark.updated_at)] for mark in marks]
    write_table(sheet, [_("Bib"), _("Blind code"), _("Criterion"), _("Criterion name"),
                        _("Judge"), _("Account"), _("Level or measured value"), _("Unit"),
                        _("Mark"), _("Last changed")], rows,
                ["@", "@", "@", "@", "@", "@", "General", "@", MARK_FORMAT, DATETIME_FORMAT])
    set_up_printing(sheet, f"{results.event.name}  {_('Judges’ marks')}", landscape=False)


def analytics_sheet(sheet: Worksheet, results: EventResults) -> None:
    """Judge analytics (scoring/queries/analytics.py): one row per judge and criterion, as
    `scoring analytics` gives them; figures as numbers with the event's places, consistency
    with 2, empty when undefined."""
    event = results.event
    number = figure_format(event.decimals)
    rows = [[row.name, row.account, item.criterion.code, item.criterion.name, row.figures.n,
             row.figures.severity, row.figures.deviation, row.figures.consistency]
            for item in event_analytics(event) for row in item.rows]
    write_table(sheet, [_("Judge"), _("Account"), _("Criterion"), _("Criterion name"),
                        _("Contestants compared"), _("Severity"), _("Deviation"),
                        _("Consistency")], rows,
                ["@", "@", "@", "@", "0", number, number, figure_format(2)])
    set_up_printing(sheet, f"{event.name}  {_('Judge analytics')}", landscape=False)


def audit_sheet(sheet: Worksheet, results: EventResults) -> None:
    """The event's audit records and the revisions of its marks, oldest first, in words
    (scoring/audit_words.py): who by display name, the action's label, the details as
    "key: value"; the raw action code and details last, for machines. A chief judge's
    correction is both a revision and a `mark.correct` record: it is listed once, as the
    record (which has the reason and fills the bib, criterion, judge, old and new columns)."""
    event = results.event
    bibs = {entry.id: entry.bib for entry in results.entries.values()}
    namer = audit_words.namer({event.id})
    namer.event_id = event.id
    lines: list[tuple[datetime, int, list[Any]]] = []
    for record in db.session.scalars(select(AuditEvent).where(AuditEvent.event_id == event.id)):
        details = record.details
        columns: list[Any] = [bibs.get(record.entry_id) if record.entry_id else None,
                              None, None, None, None]
        if record.action in ("mark.correct", "mark.recheck"):
            columns = [columns[0], namer.criterion(details.get("criterion")),
                       namer.person(details.get("judge")), as_figure(details.get("old")),
                       as_figure(details.get("new"))]
            details = {key: value for key, value in details.items()
                       if key not in ("criterion", "judge", "old", "new")}
        pairs = audit_words.details_pairs(record.action, details, namer, event.id)
        lines.append((record.created_at, 0, [
            local_time(record.created_at), namer.person(record.actor),
            audit_words.action_label(record.action), *columns,
            audit_words.details_text(pairs) or None, record.action, record.details_json]))
    for revision in db.session.scalars(
            select(MarkRevision).join(Mark).join(Criterion).where(
                Criterion.event_id == event.id, MarkRevision.source != "chief")
            .options(joinedload(MarkRevision.mark).joinedload(Mark.entry),
                     joinedload(MarkRevision.mark).joinedload(Mark.criterion))):
        mark = revision.mark
        action = f"mark.{revision.source}"
        reason = None
        if revision.reason:
            key = "file" if revision.source == "import" else "reason"
            reason = audit_words.details_text([(audit_words.key_label(key), revision.reason)])
        lines.append((revision.created_at, 1, [
            local_time(revision.created_at), namer.person(revision.actor),
            audit_words.action_label(action), mark.entry.bib,
            namer.criterion(mark.criterion.code), namer.person(mark.judge),
            revision.old_value, revision.new_value, reason, action, None]))
    lines.sort(key=lambda line: (line[0], line[1]))
    write_table(sheet, [_("When"), _("By"), _("Action"), _("Bib"), _("Criterion"), _("Judge"),
                        _("Old"), _("New"), _("Details"), _("Action code"),
                        _("Details (data)")],
                [values for _when, _kind, values in lines],
                [DATETIME_FORMAT, "@", "@", "@", "@", "@", MARK_FORMAT, MARK_FORMAT, "@", "@",
                 "@"])
    sheet.column_dimensions[get_column_letter(9)].width = MAX_WIDTH
    set_up_printing(sheet, f"{event.name}  {_('Audit log')}", landscape=True)


def appeals_sheet(sheet: Worksheet, results: EventResults) -> None:
    """Every appeal of the event (申诉): who lodged it about whom and which criteria, what it
    says, when it was received and by whom, the rulings with their reasons, and the
    re-check's changes of marks."""
    from ..labels import label
    from ..queries.appeals import event_appeals

    names = display_names()
    rows = []
    for appeal in event_appeals(results.event):
        changes = db.session.scalars(select(MarkRevision).where(
            MarkRevision.appeal_id == appeal.id).options(
                joinedload(MarkRevision.mark).joinedload(Mark.criterion))
            .order_by(MarkRevision.id)).all()
        rechecked = "; ".join(
            f"{revision.mark.criterion.code} {names.get(revision.mark.judge, revision.mark.judge)}"
            f" {revision.old_value} → {revision.new_value} ({revision.reason or ''})"
            for revision in changes)
        rows.append([appeal.id, appeal.entry.bib, appeal.entry.contestant.name,
                     appeal.delegation or "", ", ".join(appeal.criteria), appeal.text,
                     local_time(appeal.received_at), names.get(appeal.received_by,
                                                               appeal.received_by),
                     label("appeal", appeal.status), appeal.ruling_reason or "",
                     names.get(appeal.ruled_by or "", appeal.ruled_by or ""),
                     local_time(appeal.ruled_at), rechecked or None,
                     appeal.final_reason or "", local_time(appeal.final_at)])
    write_table(sheet, [_("Appeal"), _("Bib"), _("Name"), _("Lodged by"), _("Criteria"),
                        _("What the appeal says"), _("Received"), _("Received by"),
                        _("Status"), _("Ruling's reason"), _("Ruled by"), _("Ruled"),
                        _("Re-check's changes"), _("Final ruling's reason"), _("Final ruling")],
                rows, [None, "@", "@", "@", "@", "@", DATETIME_FORMAT, "@", "@", "@", "@",
                       DATETIME_FORMAT, "@", "@", DATETIME_FORMAT])
    set_up_printing(sheet, f"{results.event.name}  {_('Appeals')}", landscape=True)


def as_figure(value: Any) -> Decimal | None:
    """A mark kept as text in an audit record, as a number again (None when it is not one)."""
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:
        return None


def results_xlsx(results: EventResults) -> bytes:
    """The workbook: results, team ranking, judges' marks, judge analytics, appeals, audit
    log."""
    book = Workbook()
    sheets = [(book.active, _("Results"), results_sheet)]
    for title, build in ((_("Team ranking"), teams_sheet), (_("Judges’ marks"), marks_sheet),
                         (_("Judge analytics"), analytics_sheet), (_("Appeals"), appeals_sheet),
                         (_("Audit log"), audit_sheet)):
        sheets.append((book.create_sheet(), title, build))
    for sheet, title, build in sheets:
        sheet.title = title[:31]
        build(sheet, results)
    book.properties.title = sheet_title(results)
    book.properties.creator = "scoring"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
