"""Writes on contestants and entries: registration, details, status and time used."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..inputs import ContestantRow, EntryRow, bib_finder, text_problem
from ..models import AuditEvent, Contestant, Entry, Event, User
from ..problems import InputError, Problem
from . import audit, bump_results, lock_event, move_state, require


def import_contestants(event: Event, rows: list[ContestantRow], actor: str,
                       filename: str, user: User | None = None,
                       nonce: str | None = None) -> tuple[int, int]:
    """Register contestants; returns (rows, new entries).

    A bib already in the event has its details updated from the columns the file has (a
    column the file lacks changes nothing). A row without a bib is the entry of its ID
    number if that person is in the event already (a sheet sent again), else a new entry
    without a bib: the draw gives it one (events.give_bibs). A person is known across the
    competition's events by ID number: the same ID number under another name is refused,
    never renamed.
    """
    lock_event(event)
    require("edit_person", event, user, file=filename)
    if nonce is not None and db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.event_id == event.id, AuditEvent.action == "contestants.import",
            AuditEvent.details_json.contains(nonce)).limit(1)) is not None:
        # Checked under the event's lock: the same preview sent twice at once imports once.
        raise InputError(Problem(_("This preview has already been imported."),
                                 file=filename))
    every = list(db.session.scalars(
        select(Entry).where(Entry.event_id == event.id).options(joinedload(Entry.contestant))))
    entries = {entry.bib: entry for entry in every if entry.bib}
    entry_of = {entry.contestant_id: entry for entry in every}  # the event's, by person
    bib_of = {entry.contestant_id: entry.bib or "—" for entry in every}
    find_bib = bib_finder(entries)
    people = {person.id_number: person for person in db.session.scalars(
        select(Contestant).where(Contestant.competition_id == event.competition_id,
                                 Contestant.id_number.is_not(None)))}
    problems = []
    created = moved = 0
    for row in rows:
        known = people.get(row.id_number) if row.id_number else None
        if row.bib:
            entry = entries.get(find_bib(row.bib) or row.bib)
        else:  # no bib: the person's entry if they are in the event already
            entry = entry_of.get(known.id) if known is not None else None
        person = entry.contestant if entry else None
        if known is not None and known is not person:
            problem = None
            if known.name != row.name:
                problem = _("this ID number is registered for %(name)s", name=known.name)
            elif person is not None or known.id in bib_of:
                problem = _("this ID number is already registered in this event (bib "
                            "%(bib)s)", bib=bib_of.get(known.id, "?"))
            if problem:
                problems.append(Problem(problem, file=filename, row=row.row,
                                        column=row.columns.get("id_number", "id_number")))
                continue
            person = known  # the same person, registered in another event too
        if person is None:
            person = Contestant(competition_id=event.competition_id)
            db.session.add(person)
        for key in ("name", "gender", "id_number", "unit", "phone"):
            if key in row.columns:
                setattr(person, key, getattr(row, key))
        if row.id_number:
            people[row.id_number] = person
        if entry is None:
            entry = Entry(event=event, contestant=person, bib=row.bib, status="ok")
            db.session.add(entry)
            if row.bib:
                entries[row.bib] = entry
            if person.id is not None:
                entry_of[person.id] = entry
            created += 1
        elif "delegation" in row.columns and entry.delegation != row.delegation:
            moved += 1
        if "delegation" in row.columns:
            entry.delegation = row.delegation
    if problems:
        raise InputError(problems)
    # New bibs wait for the next draw; a delegation changes a team's result.
    if created:
        require("register", event, user, file=filename)
    if moved:
        require("change_entry", event, user, file=filename)
    if event.state == "setup":
        move_state(event, "registration", "register", actor, user, via=filename)
    db.session.flush()
    audit("contestants.import", actor, event, user=user, file=filename, rows=len(rows),
          created=created, **({"preview": nonce} if nonce else {}))
    bump_results(event)
    return len(rows), created


def update_entries(event: Event, rows: list[EntryRow], actor: str, filename: str,
                   user: User | None = None) -> None:
    lock_event(event)
    require("change_entry", event, user, file=filename)
    entries = {entry.bib: entry for entry in db.session.scalars(
        select(Entry).where(Entry.event_id == event.id))}
    changes = []
    for row in rows:
        entry = entries[row.bib]
        before = (entry.status, entry.time_used)
        if row.status is not None:
            entry.status = row.status
        if row.time is not None:
            entry.time_used = row.time
        if before != (entry.status, entry.time_used):
            changes.append({"bib": row.bib, "status": [before[0], entry.status],
                            "time": [before[1], entry.time_used]})
    db.session.flush()
    audit("entries.update", actor, event, file=filename, changes=changes)
    bump_results(event)


def update_contestant(entry: Entry, values: dict[str, str | None], status: str,
                      reason: str | None, time: int | None, actor: str,
                      user: User | None = None) -> None:
    """Change one contestant's details, status (with its reason) and time used."""
    person = entry.contestant
    event = lock_event(entry.event)
    require("edit_person", event, user, field="name")
    if values.get("id_number"):
        other = db.session.scalar(select(Contestant).where(
            Contestant.competition_id == person.competition_id,
            Contestant.id_number == values["id_number"], Contestant.id != person.id))
        if other is not None:
            raise InputError(Problem(_("this ID number is registered for %(name)s",
                                       name=other.name), field="id_number"))
    if reason is not None:
        problem = text_problem(reason, 2000, lines=True)
        if problem:
            raise InputError(Problem(problem, field="status_reason"))
    # What changes a result (status and its reason, time, delegation) waits for a reopen
    # once locked.
    for field, old, new in (("status", entry.status, status), ("time", entry.time_used, time),
                            ("delegation", entry.delegation, values.get("delegation")),
                            ("status_reason", entry.status_reason, reason)):
        if old != new:
            require("change_entry", event, user, field=field)
    before = {"status": entry.status, "time": entry.time_used, "name": person.name}
    for key in ("name", "gender", "id_number", "unit", "phone"):
        setattr(person, key, values.get(key))
    entry.delegation = values.get("delegation")
    entry.status, entry.status_reason, entry.time_used = status, reason, time
    audit("entry.update", actor, event, user=user, entry=entry, bib=entry.bib, before=before,
          status=status, reason=reason, time=time)
    bump_results(event)
    db.session.flush()
