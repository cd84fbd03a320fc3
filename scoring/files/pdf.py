"""The PDF exports: the printable results sheet (成绩公示表), the winners' certificates
(获奖证书) with their verification QR codes, the public draw record (抽签记录) and the sealed
code list (加密号对照表) for the encoding judge.

Chinese is set in ReportLab's built-in CID font STSong-Light, which every PDF reader
provides, so no font file is needed on the server and none is embedded.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

import segno
from flask_babel import format_date, format_datetime, to_user_timezone
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from .exports import sheet_columns, sheet_rows, sheet_title
from ..labels import entered_text, label
from ..models import Event
from ..operations.certificates import Issued
from ..operations.events import CodeList
from ..queries.appeals import AppealFile
from ..queries.results import EventResults

FONT = "STSong-Light"
INK = colors.HexColor("#1b2430")
MUTED = colors.HexColor("#5b6675")
LINE = colors.HexColor("#9aa5b4")
WASH = colors.HexColor("#e8ecf2")
RED = colors.HexColor("#9b1c1c")
GOLD = colors.HexColor("#b8860b")
MARGIN = 12 * mm
WIDE_SHEET = 9  # more columns than this: A4 landscape


def font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def style(size: float, alignment: int = TA_LEFT, leading: float | None = None,
          color: colors.Color = INK) -> ParagraphStyle:
    return ParagraphStyle(f"s{size}-{alignment}", fontName=font(), fontSize=size,
                          leading=leading or size * 1.3, alignment=alignment,
                          textColor=color, wordWrap="CJK")


def numbered_canvas(footer: Callable[[int, int], str]) -> type[canvas.Canvas]:
    """A canvas that knows the page count when it draws each footer ("page 2 of 5")."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                width, _height = self._pagesize
                self.setFont(font(), 8)
                self.setFillColor(MUTED)
                self.drawCentredString(width / 2, MARGIN / 2, footer(number, len(self._pages)))
                super().showPage()
            super().save()

    return NumberedCanvas


# --- the results sheet -----------------------------------------------------------------

def column_widths(natural: Sequence[float], wrappable: Sequence[bool],
                  available: float) -> list[float]:
    """Natural widths if they fit; else the wrappable (text) columns give up the excess,
    in proportion to their width, down to a floor."""
    total = sum(natural)
    if total <= available:
        spare = (available - total) / len(natural)
        return [width + spare for width in natural]
    floor = 36.0
    excess = total - available
    give = [max(0.0, width - floor) if wrap else 0.0 for width, wrap in zip(natural, wrappable)]
    can_give = sum(give)
    if can_give <= 0:
        return list(natural)
    ratio = min(1.0, excess / can_give)
    return [width - share * ratio for width, share in zip(natural, give)]


def results_table(results: EventResults, width: float, size: float) -> Table:
    columns = sheet_columns(results)
    rows = sheet_rows(results)
    padding = 3.0
    text = [[column.shown(row[column.key]) for column in columns] for row in rows]
    natural = []
    for index, column in enumerate(columns):
        cells = [line[index] for line in text]
        widest = max((pdfmetrics.stringWidth(cell, font(), size) for cell in cells), default=0)
        header = pdfmetrics.stringWidth(column.header, font(), size)
        # A long header wraps onto two lines rather than widening a column of figures.
        natural.append(max(widest, min(header, max(widest, size * 4)), size * 2) + 2 * padding)
    widths = column_widths(natural, [column.kind == "text" for column in columns], width)
    head_style = style(size, TA_CENTER)
    cell_style = style(size)
    data: list[list[Any]] = [[Paragraph(escape(column.header), head_style) for column in columns]]
    for line in text:
        data.append([cell if column.kind != "text" else Paragraph(escape(cell), cell_style)
                     for column, cell in zip(columns, line)])
    table = Table(data, colWidths=widths, repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font(), size),
        ("GRID", (0, 0), (-1, -1), 0.5, LINE),
        ("BACKGROUND", (0, 0), (-1, 0), WASH),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), padding),
        ("RIGHTPADDING", (0, 0), (-1, -1), padding),
        ("TOPPADDING", (0, 1), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 2),
    ]
    for index, column in enumerate(columns):
        if column.kind == "figure":
            commands.append(("ALIGN", (index, 1), (index, -1), "RIGHT"))
        elif column.kind == "rank":
            commands.append(("ALIGN", (index, 1), (index, -1), "CENTER"))
    for number, row in enumerate(rows, start=1):
        if number % 2 == 0:
            commands.append(("BACKGROUND", (0, number), (-1, number), colors.HexColor("#f6f8fa")))
    table.setStyle(TableStyle(commands))
    return table


def signature_block(width: float) -> Table:
    """Lines for the chief judge's and the supervisor's signatures, and the date."""
    line = "_" * 16
    cells = [[f"{_('Chief judge (signature):')}{line}", f"{_('Supervisor (signature):')}{line}",
              f"{_('Date:')}{_('____ year __ month __ day')}"]]
    table = Table(cells, colWidths=[width / 3] * 3)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font(), 10.5),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("ALIGN", (1, 0), (1, 0), "CENTER"),
        ("ALIGN", (2, 0), (2, 0), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 18),
    ]))
    return table


def results_pdf(results: EventResults, generated_at: datetime | None = None) -> bytes:
    """The results sheet for the notice board: header, the whole table, signature lines,
    page numbers; landscape when the table is wide."""
    generated_at = generated_at or datetime.now().astimezone()
    event = results.event
    wide = len(sheet_columns(results)) > WIDE_SHEET
    pagesize = landscape(A4) if wide else A4
    width = pagesize[0] - 2 * MARGIN
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=pagesize, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm, title=sheet_title(results),
        author=event.competition.name, creator="scoring")
    story: list[Flowable] = [
        Paragraph(escape(event.competition.name), style(13, TA_CENTER, color=MUTED)),
        Spacer(1, 2 * mm),
        Paragraph(escape(sheet_title(results)), style(18, TA_CENTER)),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("Event %(code)s | %(state)s | printed %(when)s",
                           code=event.code, state=label("state", event.state),
                           when=format_datetime(generated_at, "yyyy-MM-dd HH:mm"))),
                  style(9, TA_CENTER, color=MUTED)),
    ]
    if not results.standings.complete:
        story += [Spacer(1, 2 * mm), Paragraph(
            escape(_("Marks are still missing: these results are provisional.")),
            style(10, TA_CENTER, color=RED))]
    story += [Spacer(1, 4 * mm), results_table(results, width, 8.5 if wide else 9),
              KeepTogether([Spacer(1, 6 * mm), signature_block(width)])]
    title = sheet_title(results)

    def footer(page: int, pages: int) -> str:
        return f"{title}    " + _("Page %(page)s of %(pages)s", page=page, pages=pages)

    document.build(story, canvasmaker=numbered_canvas(footer))
    return buffer.getvalue()


# --- the draw record and the sealed code list -------------------------------------------

@dataclass(frozen=True)
class DrawLine:
    """One contestant of the public draw record: never a blind code."""
    order: int | None
    bib: str
    name: str
    delegation: str
    station: int | None


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
                size: float = 10.5, alignment: int = TA_LEFT, show_header: bool = True,
                first: int = 0) -> Table:
    """A ruled table with a shaded header row repeated on every page. `show_header=False`:
    the rows alone, continuing a table above them whose rows before them number `first`
    (for the stripes)."""
    cell = style(size, alignment)
    data: list[list[Any]] = [[Paragraph(escape(text), style(size, TA_CENTER)) for text in header]]
    data += [[Paragraph(escape(text), cell) for text in row] for row in rows]
    top = 1
    if not show_header:
        data, top = data[1:], 0
    table = Table(data, colWidths=list(widths), repeatRows=top)
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font(), size),
        ("GRID", (0, 0), (-1, -1), 0.5, LINE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, top), (-1, -1), 3),
        ("BOTTOMPADDING", (0, top), (-1, -1), 3),
    ]
    if show_header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), WASH))
    # Every second row of the whole table (its rows counted from 1), shaded.
    commands += [("BACKGROUND", (0, index), (-1, index), colors.HexColor("#f6f8fa"))
                 for index in range(top, len(data)) if (first + index - top + 1) % 2 == 0]
    table.setStyle(TableStyle(commands))
    return table


def signature_lines(labels: Sequence[str], width: float) -> Table:
    """A signature line for each of `labels`, side by side."""
    line = "_" * 16
    table = Table([[f"{text}{line}" for text in labels]], colWidths=[width / len(labels)]
                  * len(labels))
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font(), 10.5),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("TOPPADDING", (0, 0), (-1, -1), 18),
    ]))
    return table


def simple_document(buffer: io.BytesIO, title: str, author: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm, title=title, author=author, creator="scoring")


def page_footer(title: str) -> Callable[[int, int], str]:
    def footer(page: int, pages: int) -> str:
        return f"{title}    " + _("Page %(page)s of %(pages)s", page=page, pages=pages)
    return footer


def draw_record_pdf(event: Event, lines: Sequence[DrawLine], drawn_by: str,
                    drawn_at: datetime, seed: int | None) -> bytes:
    """The public draw record (抽签记录): who drew, when, with which seed, and for each
    contestant the bib, name, delegation, station and order. No blind code: those are on the
    sealed code list alone."""
    title = _("Draw record")
    width = A4[0] - 2 * MARGIN
    buffer = io.BytesIO()
    document = simple_document(buffer, f"{event.name} {title}", event.competition.name)
    rows = [[str(line.order or ""), line.bib, line.name, line.delegation,
             str(line.station or "")] for line in lines]
    story: list[Flowable] = [
        Paragraph(escape(event.competition.name), style(13, TA_CENTER, color=MUTED)),
        Spacer(1, 2 * mm),
        Paragraph(escape(f"{event.name}\u3000{title}"), style(18, TA_CENTER)),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("Drawn by %(who)s at %(when)s with seed %(seed)s.", who=drawn_by,
                           when=format_datetime(drawn_at, "yyyy-MM-dd HH:mm:ss"),
                           seed=seed)), style(9, TA_CENTER, color=MUTED)),
        Spacer(1, 4 * mm),
    ]
    # The signature lines never stand alone on a page: they are kept with the table's last
    # rows (the same table's tail, without a header of its own, moving with the lines).
    header = [_("Order"), _("Bib"), _("Name"), _("Delegation"), _("Station")]
    widths = [w * width for w in (0.12, 0.16, 0.24, 0.32, 0.16)]
    kept = min(len(rows), 3)
    if len(rows) > kept:
        story.append(plain_table(header, rows[:-kept], widths))
    story.append(KeepTogether([
        plain_table(header, rows[len(rows) - kept:], widths, show_header=len(rows) <= kept,
                    first=len(rows) - kept),
        Spacer(1, 6 * mm),
        signature_lines([_("Organiser (signature):"), _("Supervisor (signature):")], width)]))
    document.build(story, canvasmaker=numbered_canvas(page_footer(f"{event.code} {title}")))
    return buffer.getvalue()


def codes_pdf(listing: CodeList, printed_at: datetime | None = None) -> bytes:
    """The sealed code list (加密号对照表) for the encoding judge: bib and blind code by bib,
    nothing else about anyone; when the codes were made and their SHA-256 fingerprint (the
    audit log holds the same), signature lines for the encoding judge and a witness, and
    the note that it stays sealed until decoding."""
    printed_at = printed_at or datetime.now().astimezone()
    event = listing.event
    title = _("Sealed code list")
    width = A4[0] - 2 * MARGIN
    buffer = io.BytesIO()
    document = simple_document(buffer, f"{event.name} {title}", event.competition.name)
    made = (_("Codes made by %(who)s at %(when)s.", who=listing.generated_by,
              when=format_datetime(listing.generated_at, "yyyy-MM-dd HH:mm:ss"))
            if listing.generated_by and listing.generated_at else
            _("Codes made at the draw, %(when)s.",
              when=format_datetime(listing.generated_at, "yyyy-MM-dd HH:mm:ss"))
            if listing.generated_at else "")
    story: list[Flowable] = [
        Paragraph(escape(event.competition.name), style(13, TA_CENTER, color=MUTED)),
        Spacer(1, 2 * mm),
        Paragraph(escape(f"{event.name}\u3000{title}"), style(18, TA_CENTER)),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("Sealed: open only at decoding.")), style(12, TA_CENTER, color=RED)),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("Event %(code)s | %(count)s codes | printed %(when)s",
                           code=event.code, count=listing.count,
                           when=format_datetime(printed_at, "yyyy-MM-dd HH:mm"))),
                  style(9, TA_CENTER, color=MUTED)),
        Paragraph(escape(made), style(9, TA_CENTER, color=MUTED)),
        Paragraph(escape(_("SHA-256 of the list: %(fingerprint)s",
                           fingerprint=listing.fingerprint)), style(8, TA_CENTER, color=MUTED)),
        Spacer(1, 4 * mm),
        plain_table([_("Bib"), _("Blind code")], list(listing.codes.items()),
                    [width * 0.3, width * 0.3], size=12, alignment=TA_CENTER),
        KeepTogether([Spacer(1, 6 * mm), signature_lines(
            [_("Encoding judge (signature):"), _("Supervisor (signature):")], width),
            Spacer(1, 2 * mm), Paragraph(escape(_("Date:") + _("____ year __ month __ day")),
                                         style(10.5))]),
    ]
    document.build(story, canvasmaker=numbered_canvas(page_footer(f"{event.code} {title}")))
    return buffer.getvalue()


# --- an appeal's file ------------------------------------------------------------------

def appeal_pdf(record: AppealFile, printed_at: datetime | None = None) -> bytes:
    """An appeal's whole file (申诉材料): the appeal as received, the marks of its criteria by
    judge when it was received and now (blind code, judge, delegation, conflict check), the
    spreads, every revision of those marks, the rulings, the result before and now, and
    signature lines for the arbiters, the chief judge and the organiser who received it."""
    printed_at = printed_at or datetime.now().astimezone()
    appeal, event, entry = record.appeal, record.event, record.entry
    title = _("Appeal file #%(id)s", id=appeal.id)
    width = A4[0] - 2 * MARGIN
    buffer = io.BytesIO()
    document = simple_document(buffer, f"{event.name} {title}", event.competition.name)

    def when(moment: datetime | None) -> str:
        return format_datetime(moment, "yyyy-MM-dd HH:mm:ss") if moment else "—"

    def para(text: str, size: float = 10.5, **kwargs: Any) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style(size, **kwargs))

    facts = [
        [_("Contestant"), f"{entry.bib} {entry.contestant.name}"
                          f"{'（' + entry.delegation + '）' if entry.delegation else ''}"],
        [_("Blind code"), entry.blind_code or "—"],
        [_("Lodged by"), appeal.delegation or "—"],
        [_("Criteria appealed"), ", ".join(appeal.criteria)],
        [_("Received"), _("%(when)s by %(who)s", when=when(appeal.received_at),
                          who=record.names.get(appeal.received_by, appeal.received_by))],
        [_("Appeal window ends"), when(record.window_ends)],
        [_("Status"), label("appeal", appeal.status)],
    ]
    story: list[Flowable] = [
        Paragraph(escape(event.competition.name), style(13, TA_CENTER, color=MUTED)),
        Spacer(1, 2 * mm),
        Paragraph(escape(f"{event.name}\u3000{title}"), style(18, TA_CENTER)),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("Event %(code)s | printed %(when)s", code=event.code,
                           when=format_datetime(printed_at, "yyyy-MM-dd HH:mm"))),
                  style(9, TA_CENTER, color=MUTED)),
        Spacer(1, 4 * mm),
        plain_table([_("Item"), _("Record")], facts, [width * 0.25, width * 0.75]),
        Spacer(1, 3 * mm),
        para(_("The appeal says:"), 11),
        para(appeal.text, 10.5),
        Spacer(1, 4 * mm),
    ]
    for item in record.criteria:
        criterion = item.criterion
        story.append(para(f"{criterion.code} {criterion.name}", 12))
        rows = [[line.name + (f" ({line.judge})" if line.name != line.judge else ""),
                 line.delegation or "—",
                 (_("conflict!") if line.mark else _("stood aside")) if line.conflict
                 else _("none"),
                 line.before or "—", line.now or "—"] for line in item.marks]
        rows.append([_("Spread"), "", "", "" if item.spread_before is None
                     else str(item.spread_before),
                     "" if item.spread_now is None else str(item.spread_now)])
        story.append(plain_table(
            [_("Judge"), _("Judge's delegation"), _("Conflict of interest"),
             _("When received"), _("Now")], rows,
            [width * 0.3, width * 0.2, width * 0.16, width * 0.17, width * 0.17]))
        history = [[when(revision.created_at), line.name,
                    entered_text(item.criterion, revision.old_entered, revision.old_value),
                    entered_text(item.criterion, revision.new_entered, revision.new_value),
                    record.names.get(revision.actor, revision.actor),
                    label("source", revision.source)
                    + (f" #{revision.appeal_id}" if revision.appeal_id else ""),
                    revision.reason or ""]
                   for line, revision in item.history]
        if history:
            story.append(Spacer(1, 2 * mm))
            story.append(plain_table(
                [_("When"), _("Judge"), _("Old"), _("New"), _("By"), _("Source"), _("Reason")],
                history, [width * w for w in (0.19, 0.15, 0.08, 0.08, 0.14, 0.14, 0.22)],
                size=8.5))
        story.append(Spacer(1, 4 * mm))
    before, now = record.result_before, record.result_now
    story.append(plain_table(
        ["", _("Rank"), _("Total"), _("Award")],
        [[_("When received"), before.get("rank", ""), before.get("total", ""),
          before.get("award", "")],
         [_("Now"), now.get("rank", ""), now.get("total", ""), now.get("award", "")]],
        [width * 0.3, width * 0.2, width * 0.25, width * 0.25]))
    story.append(Spacer(1, 4 * mm))
    rulings = []
    if appeal.ruled_at:
        ruled_by = appeal.ruled_by or ""
        rulings.append([when(appeal.ruled_at), record.names.get(ruled_by, ruled_by),
                        label("appeal", "dismissed" if appeal.status == "dismissed"
                              else "recheck"), appeal.ruling_reason or ""])
    if appeal.final_at:
        final_by = appeal.final_by or ""
        rulings.append([when(appeal.final_at), record.names.get(final_by, final_by),
                        label("appeal", appeal.status), appeal.final_reason or ""])
    # The rulings and the signatures stay together: never a page of signature lines alone.
    story.append(KeepTogether([
        para(_("Rulings of the arbitration group"), 12),
        plain_table([_("When"), _("By"), _("Ruling"), _("Reason")],
                    rulings or [["—", "", _("not ruled on yet"), ""]],
                    [width * 0.22, width * 0.18, width * 0.22, width * 0.38]),
        Spacer(1, 8 * mm),
        signature_lines([_("Arbitration group (signature):"), _("Chief judge (signature):")],
                        width),
        signature_lines([_("Received by (signature):"), _("Appellant (signature):")], width),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("Date:") + _("____ year __ month __ day")), style(10.5))]))
    document.build(story, canvasmaker=numbered_canvas(page_footer(f"{event.code} {title}")))
    return buffer.getvalue()


# --- certificates ----------------------------------------------------------------------

@dataclass(frozen=True)
class CertificatePage:
    token: str
    name: str
    delegation: str
    unit: str
    event: str
    award: str
    competition: str
    issued: date


def draw_qr(page: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code of `data` as filled rectangles (one per run of dark modules in a row),
    with its quiet zone, bottom-left corner at (x, y)."""
    code = segno.make(data, error="m")
    matrix = [list(row) for row in code.matrix]
    border = 2
    count = len(matrix) + 2 * border
    module = size / count
    page.setFillColor(colors.white)
    page.rect(x, y, size, size, stroke=0, fill=1)
    page.setFillColor(colors.black)
    for row_number, row in enumerate(matrix):
        top = y + size - (row_number + border + 1) * module
        column = 0
        while column < len(row):
            if row[column]:
                start = column
                while column < len(row) and row[column]:
                    column += 1
                page.rect(x + (start + border) * module, top, (column - start) * module,
                          module, stroke=0, fill=1)
            else:
                column += 1


def draw_certificate(page: canvas.Canvas, certificate: CertificatePage, url: str) -> None:
    width, height = page._pagesize
    page.setStrokeColor(GOLD)
    page.setLineWidth(3)
    page.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)
    page.setLineWidth(0.8)
    page.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)

    page.setFillColor(RED)
    page.setFont(font(), 40)
    page.drawCentredString(width / 2, height - 45 * mm, _("Certificate of award"))

    affiliation = _(", ").join(part for part in (certificate.delegation, certificate.unit)
                                if part)
    greeting = (_("%(name)s (%(affiliation)s):", name=certificate.name, affiliation=affiliation)
                if affiliation else _("%(name)s:", name=certificate.name))
    body = _("in the %(event)s of the %(competition)s, won", event=certificate.event,
             competition=certificate.competition)
    frame_width = width - 70 * mm
    y = height - 70 * mm
    for text, size, indent in ((greeting, 20, 0), (body, 18, 2)):
        paragraph_style = style(size, TA_LEFT, leading=size * 1.6)
        paragraph_style.firstLineIndent = indent * size  # two characters, as Chinese does
        paragraph = Paragraph(escape(text), paragraph_style)
        _w, used = paragraph.wrap(frame_width, height)
        y -= used
        paragraph.drawOn(page, 35 * mm, y)
        y -= 6 * mm

    page.setFillColor(RED)
    page.setFont(font(), 34)
    page.drawCentredString(width / 2, y - 16 * mm, certificate.award)
    page.setFillColor(INK)
    page.setFont(font(), 18)
    page.drawString(35 * mm + 36, y - 34 * mm, _("Awarded in recognition of this achievement."))

    right = width - 35 * mm
    page.setFont(font(), 16)
    page.drawRightString(right, 42 * mm, certificate.competition)
    page.drawRightString(right, 32 * mm, format_date(certificate.issued, "long"))

    qr_size = 32 * mm
    draw_qr(page, url, 24 * mm, 24 * mm, qr_size)
    page.setFont(font(), 9)
    page.setFillColor(MUTED)
    page.drawString(24 * mm + qr_size + 3 * mm, 24 * mm + qr_size - 4 * mm,
                    _("Scan to verify this certificate"))
    page.drawString(24 * mm + qr_size + 3 * mm, 24 * mm + 2 * mm, url)


def certificates_pdf(certificates: Sequence[CertificatePage],
                     verify_url: Callable[[str], str], title: str = "") -> bytes:
    """One A4 landscape page per certificate, each with its verification QR code."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=landscape(A4))
    page.setTitle(title or _("Certificates"))
    page.setCreator("scoring")
    for certificate in certificates:
        draw_certificate(page, certificate, verify_url(certificate.token))
        page.showPage()
    if not certificates:
        page.setFont(font(), 14)
        page.drawString(MARGIN, landscape(A4)[1] - 2 * MARGIN, _("No certificates to print."))
        page.showPage()
    page.save()
    return buffer.getvalue()


def certificate_pages(issued: Issued) -> list[CertificatePage]:
    event = issued.results.event
    pages = []
    for certificate in issued.certificates:
        entry = certificate.entry
        pages.append(CertificatePage(
            token=certificate.token, name=entry.contestant.name,
            delegation=entry.delegation or "", unit=entry.contestant.unit or "",
            event=event.name, award=certificate.award, competition=event.competition.name,
            issued=to_user_timezone(certificate.created_at).date()))
    return pages
