"""Export builders: each takes an event's results and returns bytes; callers only send them."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from .models import Event
from .results import EventResults, result_columns, result_rows, team_rows

TEXT_COLUMNS = ("bib", "name", "delegation", "unit")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Make a text cell inert in Excel and WPS: a leading ' stops a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


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


def event_summary(event: Event) -> dict:
    return {"code": event.code, "name": event.name, "state": event.state,
            "visibility": event.visibility}


def results_document(results: EventResults, with_awards: bool = True) -> dict:
    columns = [*result_columns(results.scheme), "complete"]
    return {
        "event": event_summary(results.event),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "results": [{column: row[column] for column in columns}
                    for row in result_rows(results, with_awards)],
    }


def teams_document(results: EventResults) -> dict:
    return {
        "event": event_summary(results.event),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "teams": team_rows(results),
    }


def results_json(results: EventResults) -> bytes:
    return json.dumps(results_document(results), ensure_ascii=False, indent=2).encode("utf-8")
