"""Export builders: each takes an event's results and returns bytes; callers only send them.

CSV and JSON (here) carry the stable English keys of FORMATS.md; the exports for people
(`export_xlsx`, `export_pdf`, the printable sheet) share `sheet_columns` and `sheet_rows`
here, with the event's own headers in the interface language.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask_babel import gettext as _

from ..labels import label
from ..models import Event
from ..queries.analytics import COLUMNS as ANALYTICS_COLUMNS, CriterionAnalytics, analytics_rows
from ..queries.results import (
    EventResults, event_summary, result_columns, result_rows, results_document, team_rows,
)

TEXT_COLUMNS = ("bib", "name", "delegation", "unit", "award")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Make a text cell inert in Excel and WPS: a leading ' stops a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet take this text for a formula (or a command, in old Excel)?"""
    return text.startswith(FORMULA_STARTS)


@dataclass(frozen=True)
class SheetColumn:
    """A column of the results sheet for people: its key in `result_rows`, the header
    people read, and whether it holds text, a whole number (the rank) or a figure."""

    key: str
    header: str
    kind: str  # "text", "rank" or "figure"
    deduction: bool = False  # a penalty criterion's figure: printed with a minus sign

    def shown(self, value: Any) -> str:
        """The cell as people read it on the printed sheet (HTML and PDF): a deduction
        that takes something off is "−3.00" (a minus sign, U+2212); the files for machines
        (CSV, JSON) and the spreadsheet keep the plain figure."""
        if value is None:
            return ""
        text = str(value)
        if self.deduction and text and text[0].isdigit() and any(
                char in "123456789" for char in text):
            return "\u2212" + text
        return text


def sheet_columns(results: EventResults) -> list[SheetColumn]:
    """The results table's columns in FORMATS.md's order, headed by the event's own names:
    名次, 参赛号, 姓名, 代表队, 工作单位, 状态, 用时, each section and criterion, 总分, 奖项."""
    scheme = results.scheme
    return [
        SheetColumn("rank", _("Rank"), "rank"),
        SheetColumn("bib", _("Bib"), "text"),
        SheetColumn("name", _("Name"), "text"),
        SheetColumn("delegation", _("Delegation"), "text"),
        SheetColumn("unit", _("Work unit"), "text"),
        SheetColumn("status", _("Status"), "text"),
        SheetColumn("time", _("Time used"), "text"),
        *(SheetColumn(section.code, section.name or section.code, "figure")
          for section in scheme.sections),
        *(SheetColumn(criterion.code, criterion.name or criterion.code, "figure",
                      deduction=criterion.kind == "penalty")
          for criterion in scheme.criteria),
        SheetColumn("total", _("Total"), "figure"),
        SheetColumn("award", _("Award"), "text"),
    ]


def sheet_rows(results: EventResults) -> list[dict[str, Any]]:
    """`result_rows` with the status in words; figures stay exact text."""
    rows = result_rows(results)
    for row in rows:
        row["status"] = label("status", row["status"])
    return rows


def sheet_title(results: EventResults) -> str:
    return _("%(event)s: results sheet", event=results.event.name)


def results_csv(results: EventResults, bom: bool = False) -> bytes:
    """The results table of FORMATS.md; `bom` for files opened in Excel or WPS."""
    columns = result_columns(results.scheme)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in result_rows(results):
        for column in TEXT_COLUMNS:
            row[column] = neutralise(row[column])
        writer.writerow(["" if row[column] is None else row[column] for column in columns])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def results_json(results: EventResults) -> bytes:
    """The results document with the team ranking (`teams`, as the API's /teams)."""
    document = {**results_document(results), "teams": team_rows(results)}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def analytics_csv(event: Event, analytics: list[CriterionAnalytics], bom: bool = False) -> bytes:
    """Judge analytics, one row per (judge, criterion): FORMATS.md's columns in order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ANALYTICS_COLUMNS)
    for row in analytics_rows(event, analytics):
        row["judge"] = neutralise(row["judge"])
        writer.writerow([row[column] for column in ANALYTICS_COLUMNS])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def analytics_json(event: Event, analytics: list[CriterionAnalytics]) -> bytes:
    """`{"event": ..., "generated_at": ..., "decimals": ..., "analytics": [rows]}`, the rows
    with the CSV's keys (`n` a number, the figures exact text, "" when undefined)."""
    document = {
        "event": event_summary(event),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "decimals": event.decimals,
        "analytics": analytics_rows(event, analytics),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
