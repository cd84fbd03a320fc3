"""An event's results: load its entries and marks in two queries and hand them to the rules.

Also the one row builder behind every export and the public boards and API, with the stable
English keys of FORMATS.md, and the public snapshot they all show.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import json
from datetime import datetime, timezone

from sqlalchemy import BigInteger, select, type_coerce

from .. import policy, rules
from ..extensions import db
from ..inputs import format_time
from ..models import Contestant, Entry, Event, Mark, from_units, utcnow
from .marks import panels


@dataclass(frozen=True)
class EntryRecord:
    """What results and their exports show of one entry: read as columns, not ORM objects
    (a 1,000-entry board is rendered often; this is several times quicker)."""

    id: int
    bib: str
    status: str
    time_used: int | None
    delegation: str | None
    name: str
    unit: str | None


@dataclass
class EventResults:
    event: Event
    scheme: rules.Scheme
    standings: rules.Standings
    entries: dict[str, EntryRecord]  # by bib
    included: tuple[str, ...] = ()  # the criteria whose marks these results hold


def included_codes(event: Event, public: bool) -> tuple[str, ...]:
    """The criteria whose marks are in the results: all of them for staff; for the public
    those not blind or decoded (DOMAIN.md, blind marking on a live board)."""
    return tuple(criterion.code for criterion in event.criteria
                 if not public or criterion.public)


def event_results(event: Event, public: bool = False) -> EventResults:
    """The results with every mark (organisers, chief judges, exports), or with
    `public` only the marks the public may see: a blind criterion's once it is decoded."""
    scheme = event.to_scheme()
    included = included_codes(event, public)
    entries = {row.bib: EntryRecord(*row) for row in db.session.execute(
        select(Entry.id, Entry.bib, Entry.status, Entry.time_used, Entry.delegation,
               Contestant.name, Contestant.unit)
        .join(Contestant, Entry.contestant_id == Contestant.id)
        # Registered without a bib: on no result until the draw gives one (it has no marks:
        # marks need the draw's blind codes, and the draw gives every entry a bib).
        .where(Entry.event_id == event.id, Entry.bib.is_not(None)))}
    codes = {criterion.id: criterion.code for criterion in event.criteria
             if criterion.code in included}
    marks: dict[int, dict[str, list[rules.Number]]] = defaultdict(lambda: defaultdict(list))
    units = type_coerce(Mark.value, BigInteger)  # the stored integer, converted below
    entered = type_coerce(Mark.entered, BigInteger)
    # A judgement mark is max x level / 3 exactly, rebuilt from the level (rules.exact_mark).
    judged = {criterion.id: criterion.to_rule() for criterion in event.criteria
              if criterion.kind == "judgement" and criterion.id in codes}
    for entry_id, criterion_id, value, level in db.session.execute(
            select(Mark.entry_id, Mark.criterion_id, units, entered)
            .join(Entry).where(Entry.event_id == event.id, Mark.criterion_id.in_(codes))):
        rule = judged.get(criterion_id)
        marks[entry_id][codes[criterion_id]].append(
            from_units(value) if rule is None or level is None
            else rules.judgement_mark(rule.max, from_units(level)))
    needed = marks_needed(event)
    standings = rules.compute_standings(scheme, [
        rules.EntryInput(bib=entry.bib, marks=marks.get(entry.id, {}), status=entry.status,
                         time=entry.time_used, delegation=entry.delegation,
                         needed=needed.get(entry.delegation, {}))
        for entry in entries.values()
    ])
    return EventResults(event, scheme, standings, entries, included)


def marks_needed(event: Event) -> dict[str | None, dict[str, int]]:
    """By delegation, the criteria whose contestants need fewer marks than the scheme's
    `judges` because judges of that delegation stand aside (policy.needed)."""
    codes = {criterion.id: criterion.code for criterion in event.criteria}
    return policy.needed_by_delegation(
        {codes[criterion_id]: panel for criterion_id, panel in panels(event).items()},
        event.conflict_check)


def _figure(value: Decimal | None, decimals: int) -> str:
    if value is None:
        return ""
    return f"{value:.{decimals}f}"


def result_columns(scheme: rules.Scheme) -> list[str]:
    return ["rank", "bib", "name", "delegation", "unit", "status", "time",
            *(section.code for section in scheme.sections),
            *(criterion.code for criterion in scheme.criteria), "total", "award"]


def result_rows(results: EventResults, with_awards: bool = True) -> list[dict[str, Any]]:
    """One dict per contestant in the order of the standings, figures as exact text."""
    d = results.scheme.decimals
    rows = []
    for result in results.standings.results:
        entry = results.entries[result.bib]
        row: dict[str, Any] = {
            "rank": result.rank,
            "bib": result.bib,
            "name": entry.name,
            "delegation": entry.delegation or "",
            "unit": entry.unit or "",
            "status": result.status,
            "time": format_time(result.time),
        }
        for section in results.scheme.sections:
            row[section.code] = _figure(result.sections.get(section.code), d)
        for criterion in results.scheme.criteria:
            row[criterion.code] = _figure(result.aggregates.get(criterion.code), d)
        row["total"] = _figure(result.total, d)
        row["award"] = (result.award or "") if with_awards else ""
        row["complete"] = result.complete
        rows.append(row)
    return rows


def team_rows(results: EventResults) -> list[dict[str, Any]]:
    d = results.scheme.decimals
    return [{"rank": team.rank, "delegation": team.delegation,
             "members_counted": team.members_counted, "total": _figure(team.total, d),
             "complete": team.complete}
            for team in results.standings.teams]


# --- documents: the JSON export, the public API and the boards ------------------------------

def event_summary(event: Event) -> dict[str, Any]:
    """An event as the API and the boards name it; `provisional` and `appeal_window_ends_at`
    (ISO 8601, UTC) while its results are provisional (公示), the window's end null else."""
    ends = event.appeal_window_ends_at if event.state == "provisional" else None
    return {"code": event.code, "name": event.name, "state": event.state,
            "visibility": event.visibility, "provisional": event.state == "provisional",
            "appeal_window_ends_at": ends.isoformat(timespec="seconds") if ends else None}


def awards_public(event: Event) -> bool:
    """Awards are shown once the results are published, provisionally or finally."""
    return event.visibility == "published" or event.state == "provisional"


def results_document(results: EventResults, with_awards: bool = True) -> dict[str, Any]:
    columns = [*result_columns(results.scheme), "complete"]
    return {
        "event": event_summary(results.event),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "results": [{column: row[column] for column in columns}
                    for row in result_rows(results, with_awards)],
        "decoded": list(results.included),
    }


def teams_document(results: EventResults) -> dict[str, Any]:
    return {
        "event": event_summary(results.event),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "teams": team_rows(results),
    }


def public_snapshot(event: Event) -> dict[str, Any]:
    """The public results now: the API's rows and teams plus what the boards show; awards
    only once published (provisionally or finally)."""
    results = event_results(event, public=True)
    return {
        "event": event_summary(event),
        "decoded": list(results.included),  # the criteria whose marks the totals hold
        "criteria": len(results.scheme.criteria),
        "sections": [[section.code, section.name] for section in results.scheme.sections],
        "results": results_document(results, with_awards=awards_public(event))["results"],
        "teams": team_rows(results),
        "complete": results.standings.complete,
        # When the results last changed (the same on every worker), not when drawn.
        "updated_at": (event.results_changed_at or event.created_at or utcnow()).isoformat(
            timespec="seconds"),
    }


def board_data(event: Event) -> dict[str, Any]:
    """Rows and teams as the public may see them: a frozen board shows its snapshot."""
    if event.visibility == "frozen" and event.frozen_json:
        return json.loads(event.frozen_json)
    return public_snapshot(event)
