"""An event's results: load its entries and marks in two queries and hand them to the rules.

Also the one row builder behind the CSV, JSON and (later) XLSX and PDF exports, with the
stable English keys of FORMATS.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, select, type_coerce

from . import rules
from .extensions import db
from .imports import format_time
from .models import Assignment, Contestant, Criterion, Entry, Event, Mark, User, from_units


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


def event_results(event: Event) -> EventResults:
    scheme = event.to_scheme()
    entries = {row.bib: EntryRecord(*row) for row in db.session.execute(
        select(Entry.id, Entry.bib, Entry.status, Entry.time_used, Entry.delegation,
               Contestant.name, Contestant.unit)
        .join(Contestant, Entry.contestant_id == Contestant.id)
        .where(Entry.event_id == event.id))}
    codes = {criterion.id: criterion.code for criterion in event.criteria}
    marks: dict[int, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    units = type_coerce(Mark.value, BigInteger)  # the stored integer, converted below
    for entry_id, criterion_id, value in db.session.execute(
            select(Mark.entry_id, Mark.criterion_id, units)
            .join(Entry).where(Entry.event_id == event.id)):
        marks[entry_id][codes[criterion_id]].append(from_units(value))
    needed = marks_needed(event) if event.conflict_check else {}
    standings = rules.compute_standings(scheme, [
        rules.EntryInput(bib=entry.bib, marks=marks.get(entry.id, {}), status=entry.status,
                         time=entry.time_used, delegation=entry.delegation,
                         needed=needed.get(entry.delegation, {}))
        for entry in entries.values()
    ])
    return EventResults(event, scheme, standings, entries)


def marks_needed(event: Event) -> dict[str | None, dict[str, int]]:
    """By delegation, the criteria whose `judges` marks its contestants cannot all get: the
    assigned judges of that delegation stand aside (conflict of interest), so of A judges
    assigned with R standing aside, max(A, judges) - R can mark, and at least one mark is
    always needed. Delegations every criterion can fully mark are left out. The rule is
    marking.has_conflict's (and the chief judge's matrix expects the same marks), counted
    per delegation here instead of per judge and entry."""
    assigned: dict[int, list[str | None]] = defaultdict(list)
    for criterion_id, delegation in db.session.execute(
            select(Assignment.criterion_id, User.delegation).join(User)
            .join(Criterion).where(Criterion.event_id == event.id)):
        assigned[criterion_id].append(delegation)
    needed: dict[str | None, dict[str, int]] = defaultdict(dict)
    for criterion in event.criteria:
        judges = assigned.get(criterion.id, [])
        for delegation in {delegation for delegation in judges if delegation}:
            can_mark = max(len(judges), criterion.judges) - judges.count(delegation)
            if can_mark < criterion.judges:
                needed[delegation][criterion.code] = max(1, can_mark)
    return needed


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
