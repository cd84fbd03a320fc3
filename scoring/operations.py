"""The writes: every change to events, entries, marks and accounts, each with its audit record.

Operations add to the session and flush; the caller (a command or a view) commits once, so a
failure anywhere leaves nothing written.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from . import board, rules
from .extensions import db
from .labels import label
from .imports import ContestantRow, EntryRow, ScoreRow, bib_finder
from .models import (
    Assignment, AuditEvent, AwardTierRow, Competition, Contestant, Criterion, Entry, Event,
    Mark, MarkRevision, Section, User, utcnow,
)
from .problems import InputError, Problem
from .scheme import SchemeFile

DEFAULT_COMPETITION = "技能竞赛"
MAX_SEED = 2**62 - 1  # a draw's seed, typed or given on the command line
BLIND_ALPHABET = "ACDEFHJKLMNPRTUVWXY"  # no letters that read as digits (B8, I1, O0, S5, Z2)


def audit(action: str, actor: str, event: Event | None = None, user: User | None = None,
          entry: Entry | None = None, **details: Any) -> AuditEvent:
    record = AuditEvent(action=action, actor=actor, details_json=json.dumps(
        details, ensure_ascii=False, default=str))
    record.event_id = event.id if event else None
    record.user_id = user.id if user else None
    record.entry_id = entry.id if entry else None
    db.session.add(record)
    return record


def find_event(code: str) -> Event:
    event = db.session.scalar(select(Event).where(Event.code == code))
    if event is None:
        raise InputError(Problem(_("no event with the code “%(code)s”", code=code)))
    return event


def event_has_marks(event: Event) -> bool:
    return bool(db.session.scalar(
        select(func.count(Mark.id)).join(Entry).where(Entry.event_id == event.id)))


def bump_results(event: Event) -> None:
    """Tell every worker's board that the event's results may have changed."""
    event.results_version = Event.results_version + 1
    event.results_changed_at = utcnow()
    board.changed(db.session())


# --- events -----------------------------------------------------------------------------

def import_scheme(checked: SchemeFile, actor: str, filename: str) -> tuple[Event, bool]:
    """Create the event of a scheme file, or update it while it has no marks."""
    scheme = checked.scheme
    event = db.session.scalar(select(Event).where(Event.code == scheme.code))
    created = event is None
    if event is None:
        competition_name = checked.competition or DEFAULT_COMPETITION
        competition = db.session.scalar(
            select(Competition).where(Competition.name == competition_name))
        if competition is None:
            competition = Competition(name=competition_name)
            db.session.add(competition)
        event = Event(code=scheme.code, competition=competition, state="setup",
                      visibility="hidden", results_version=1)
        db.session.add(event)
    elif event_has_marks(event):
        raise InputError(Problem(_(
            "event %(code)s already has marks: its scheme can no longer be replaced",
            code=scheme.code), file=filename))
    event.name = scheme.name
    event.decimals = scheme.decimals
    event.rounding = scheme.rounding
    event.award_rounding = scheme.award_rounding
    event.tie_break = list(scheme.tie_break)
    event.team_best_n = scheme.team_best_n

    # Sections and criteria keep their rows (criteria their judges) when their code stays.
    with db.session.no_autoflush:
        old_sections = {section.code: section for section in event.sections}
        old_criteria = {criterion.code: criterion for criterion in event.criteria}
        sections = {}
        for position, rule in enumerate(scheme.sections):
            section = old_sections.get(rule.code) or Section(code=rule.code)
            section.name, section.position = rule.name, position
            sections[rule.code] = section
        criteria = []
        for position, rule in enumerate(scheme.criteria):
            criterion = old_criteria.pop(rule.code, None) or Criterion(code=rule.code)
            criterion.name = rule.name
            criterion.section = sections.get(rule.section)
            criterion.position = position
            criterion.max_value = rule.max
            criterion.step = rule.step
            criterion.weight = checked.weights[rule.code]
            criterion.judges = rule.judges
            criterion.aggregate = rule.aggregate
            criterion.kind = rule.kind
            criterion.max_spread = rule.max_spread
            criteria.append(criterion)
        for removed in old_criteria.values():
            db.session.execute(Assignment.__table__.delete().where(
                Assignment.criterion_id == removed.id))
        event.criteria = criteria
        event.sections = list(sections.values())
    event.awards = [
        AwardTierRow(position=position, name=tier.name, share=share, count=tier.count,
                     min_total=tier.min_total)
        for position, (tier, share) in enumerate(zip(scheme.awards, checked.shares))
    ]
    db.session.flush()
    audit("event.create" if created else "event.update", actor, event, file=filename)
    bump_results(event)
    return event, created


# --- contestants and entries ------------------------------------------------------------

def import_contestants(event: Event, rows: list[ContestantRow], actor: str,
                       filename: str) -> tuple[int, int]:
    """Register contestants; returns (rows, new entries).

    A bib already in the event has its details updated from the columns the file has (a
    column the file lacks changes nothing). A person is known across the competition's
    events by ID number: the same ID number under another name is refused, never renamed.
    """
    if event.state in ("locked", "published"):
        raise InputError(Problem(_(
            "event %(code)s is %(state)s: contestants can no longer be registered",
            code=event.code, state=label("state", event.state)), file=filename))
    entries = {entry.bib: entry for entry in db.session.scalars(
        select(Entry).where(Entry.event_id == event.id).options(joinedload(Entry.contestant)))}
    bib_of = {entry.contestant_id: bib for bib, entry in entries.items()}
    find_bib = bib_finder(entries)
    people = {person.id_number: person for person in db.session.scalars(
        select(Contestant).where(Contestant.competition_id == event.competition_id,
                                 Contestant.id_number.is_not(None)))}
    problems = []
    created = 0
    for row in rows:
        entry = entries.get(find_bib(row.bib) or row.bib)
        person = entry.contestant if entry else None
        known = people.get(row.id_number) if row.id_number else None
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
            entries[row.bib] = entry
            created += 1
        if "delegation" in row.columns:
            entry.delegation = row.delegation
    if problems:
        raise InputError(problems)
    if event.state == "setup":
        event.state = "registration"
    db.session.flush()
    audit("contestants.import", actor, event, file=filename, rows=len(rows), created=created)
    bump_results(event)
    return len(rows), created


def update_entries(event: Event, rows: list[EntryRow], actor: str, filename: str) -> None:
    entries = {entry.bib: entry for entry in db.session.scalars(
        select(Entry).where(Entry.event_id == event.id))}
    if event.state in ("locked", "published"):
        raise InputError(Problem(_(
            "event %(code)s is %(state)s: statuses and times can no longer change",
            code=event.code, state=label("state", event.state)), file=filename))
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


# --- marks ------------------------------------------------------------------------------

def import_scores(event: Event, rows: list[ScoreRow], actor: str, filename: str) -> int:
    """Enter marks from a file; an existing (bib, criterion, judge) mark is replaced and its
    old value kept in the mark's revisions. Opens scoring if it was not open yet."""
    if event.state in ("locked", "published"):
        raise InputError(Problem(_(
            "event %(code)s is %(state)s: marks can no longer be imported",
            code=event.code, state=label("state", event.state)), file=filename))
    entries = {entry.bib: entry for entry in db.session.scalars(
        select(Entry).where(Entry.event_id == event.id))}
    criteria = {criterion.code: criterion for criterion in event.criteria}
    existing = {(mark.entry_id, mark.criterion_id, mark.judge): mark
                for mark in db.session.scalars(
                    select(Mark).join(Entry).where(Entry.event_id == event.id))}
    users = {user.username: user for user in db.session.scalars(
        select(User).where(User.username.in_({row.judge for row in rows})))}
    # One judge too many would silently enter the mean: refuse it instead.
    judges: dict[tuple[int, int], set[str]] = {}
    for entry_id, criterion_id, judge in existing:
        judges.setdefault((entry_id, criterion_id), set()).add(judge)
    problems = []
    for row in rows:
        entry, criterion = entries[row.bib], criteria[row.criterion]
        marked = judges.setdefault((entry.id, criterion.id), set())
        marked.add(row.judge)
        if len(marked) > criterion.judges:
            problems.append(Problem(_(
                "criterion %(code)s takes %(count)s marks per contestant, but bib %(bib)s "
                "would have %(marked)s (%(judges)s)", code=criterion.code,
                count=criterion.judges, bib=row.bib, marked=len(marked),
                judges=", ".join(sorted(marked))), file=filename, row=row.row))
    if problems:
        raise InputError(problems)
    changed = 0
    for row in rows:
        entry, criterion = entries[row.bib], criteria[row.criterion]
        mark = existing.get((entry.id, criterion.id, row.judge))
        if mark is not None and mark.value == row.score:
            continue
        set_mark(entry, criterion, row.judge, row.score, source="import", actor=actor,
                 user=users.get(row.judge), mark=mark, reason=filename)
        changed += 1
    if event.state != "scoring":
        audit("event.state", actor, event, old=event.state, new="scoring", via=filename)
        event.state = "scoring"
    audit("scores.import", actor, event, file=filename, rows=len(rows), changed=changed)
    bump_results(event)
    db.session.flush()
    return changed


def set_mark(entry: Entry, criterion: Criterion, judge: str, value: Decimal, *, source: str,
             actor: str, user: User | None = None, mark: Mark | None = None,
             reason: str | None = None, client_token: str | None = None) -> Mark:
    """Create or change one mark, with its revision. The caller has checked the value."""
    if mark is None:
        mark = Mark(entry=entry, criterion=criterion, judge=judge, value=value,
                    user_id=user.id if user else None)
        db.session.add(mark)
        old = None
    else:
        old = mark.value
        mark.value = value
        mark.updated_at = utcnow()
    db.session.add(MarkRevision(mark=mark, old_value=old, new_value=value,
                                user_id=user.id if user else None, actor=actor, source=source,
                                reason=reason, client_token=client_token))
    return mark


# --- the draw ---------------------------------------------------------------------------

def draw_lots(event: Event, actor: str, seed: int | None = None) -> int:
    """Stations, order and blind codes for every entry, from a recorded seed.

    The same seed and the same bibs give the same draw: the entries are taken in bib order
    and shuffled by a random.Random(seed), so anyone can re-run it to check it.
    """
    if event.state in ("scoring", "locked", "published") or event_has_marks(event):
        raise InputError(Problem(_(
            "event %(code)s has started scoring: lots can no longer be drawn",
            code=event.code)))
    entries = sorted(event.entries, key=lambda entry: rules.natural_key(entry.bib))
    if not entries:
        raise InputError(Problem(_("event %(code)s has no contestants to draw",
                                   code=event.code)))
    if seed is None:
        seed = secrets.randbelow(10**9)
    result = draw_result([entry.bib for entry in entries], seed)
    for entry in entries:
        entry.blind_code = None
    db.session.flush()  # free the old blind codes before the unique constraint sees new ones
    for entry in entries:
        entry.station, entry.draw_order, entry.blind_code = result[entry.bib]
    event.draw_seed = seed
    event.drawn_at = utcnow()
    event.state = "drawn"
    db.session.flush()
    audit("draw", actor, event, seed=seed, result={
        bib: {"station": station, "order": order, "blind_code": code}
        for bib, (station, order, code) in result.items()})
    return seed


def draw_result(bibs: list[str], seed: int) -> dict[str, tuple[int, int, str]]:
    """bib -> (station, order, blind code), the same for the same bibs and seed."""
    generator = random.Random(seed)
    count = len(bibs)
    stations = list(range(1, count + 1))
    generator.shuffle(stations)
    orders = list(range(1, count + 1))
    generator.shuffle(orders)
    codes: set[str] = set()
    result = {}
    for bib, station, order in zip(bibs, stations, orders):
        code = ""
        while not code or code in codes:
            code = "".join(generator.choice(BLIND_ALPHABET) for _ in range(2)) + str(
                generator.randrange(100, 1000))
        codes.add(code)
        result[bib] = (station, order, code)
    return result


# --- accounts ---------------------------------------------------------------------------

def create_user(username: str, role: str, password: str | None, actor: str,
                display_name: str | None = None, delegation: str | None = None
                ) -> tuple[User, str]:
    """A new account; returns it with its password (generated when none is given)."""
    problems = []
    if not username or len(username) > 80 or any(char.isspace() for char in username):
        problems.append(Problem(_("an account name is 1 to 80 characters without spaces"),
                                field="NAME"))
    elif db.session.scalar(select(User).where(User.username == username)):
        problems.append(Problem(_("the account “%(name)s” already exists", name=username),
                                field="NAME"))
    if role not in ("organiser", "chief", "judge"):
        problems.append(Problem(_("the role must be organiser, chief or judge"),
                                field="--role"))
    for value, field in ((display_name, "--display-name"), (delegation, "--delegation")):
        if value is not None and len(value) > 100:
            problems.append(Problem(_("longer than %(limit)s characters", limit=100),
                                    field=field))
    if password is not None and len(password) < 8:
        problems.append(Problem(_("a password needs at least 8 characters"),
                                field="--password"))
    if problems:
        raise InputError(problems)
    password = password or generate_password()
    user = User(username=username, role=role, display_name=display_name or username,
                delegation=delegation)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit("user.create", actor, user=user, username=username, role=role)
    return user, password


def generate_password() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def assign_judge(event: Event, username: str, codes: Iterable[str], actor: str) -> list[str]:
    user = db.session.scalar(select(User).where(User.username == username))
    problems = []
    if user is None:
        problems.append(Problem(_("no account named “%(name)s”", name=username),
                                field="JUDGE"))
    elif user.role not in ("judge", "chief"):
        problems.append(Problem(_("“%(name)s” is not a judge's account", name=username),
                                field="JUDGE"))
    criteria = {criterion.code: criterion for criterion in event.criteria}
    for code in codes:
        if code not in criteria:
            problems.append(Problem(_(
                "unknown criterion “%(code)s” (this event has %(codes)s)",
                code=code, codes=", ".join(criteria)), field="CRITERION"))
    if problems:
        raise InputError(problems)
    assert user is not None
    assigned = {assignment.criterion_id for assignment in db.session.scalars(
        select(Assignment).where(Assignment.user_id == user.id))}
    added = []
    for code in dict.fromkeys(codes):
        criterion = criteria[code]
        if criterion.id not in assigned:
            db.session.add(Assignment(user=user, criterion=criterion))
            added.append(code)
    db.session.flush()
    audit("judge.assign", actor, event, user=user, criteria=added)
    return added


# --- the public board ---------------------------------------------------------------------

def set_visibility(event: Event, visibility: str, actor: str, user: User | None = None) -> None:
    """Hide the board, show it live, freeze it as it is now, or publish the final results."""
    from .board import freeze

    if visibility not in ("hidden", "live", "frozen", "published"):
        raise InputError(Problem(_("the board is hidden, live, frozen or published"),
                                 field="VISIBILITY"))
    if visibility == "published" and event.state not in ("locked", "published"):
        raise InputError(Problem(_(
            "lock the scoring of %(code)s before publishing its results", code=event.code),
            field="VISIBILITY"))
    old = event.visibility
    event.visibility = visibility
    if visibility == "frozen":
        freeze(event)
    else:
        event.frozen_at = event.frozen_json = None
    if visibility == "published" and event.state != "published":
        audit("event.state", actor, event, user=user, old=event.state, new="published")
        event.state = "published"
    audit("board.visibility", actor, event, user=user, old=old, new=visibility)
    bump_results(event)
    db.session.flush()


# --- the lifecycle ------------------------------------------------------------------------

def change_state(event: Event, action: str, actor: str, user: User | None = None,
                 reason: str = "") -> None:
    """open (scoring), lock, publish or reopen (with a reason) an event."""
    state = event.state
    if action == "open":
        if state != "drawn":
            raise InputError(Problem(_("Scoring opens once lots are drawn.")))
        event.state = "scoring"
    elif action == "lock":
        if state != "scoring":
            raise InputError(Problem(_("Only an event in scoring can be locked.")))
        event.state = "locked"
    elif action == "publish":
        set_visibility(event, "published", actor, user)  # checks the lock, records it
        return
    elif action == "reopen":
        if state not in ("locked", "published"):
            raise InputError(Problem(_("Only a locked or published event can be reopened.")))
        if not reason.strip():
            raise InputError(Problem(_("Reopening needs a reason.")))
        event.state = "scoring"
        if event.visibility == "published":
            event.visibility = "live"
    else:
        raise InputError(Problem(_("Unknown action.")))
    audit("event.state", actor, event, user=user, old=state, new=event.state,
          reason=reason.strip() or None)
    bump_results(event)
    db.session.flush()


def rename_scheme(event: Event, scheme: rules.Scheme, actor: str) -> None:
    """Change what cannot change a result once marks exist: names and the spread limit."""
    event.name = scheme.name
    for section, rule in zip(event.sections, scheme.sections):
        section.name = rule.name
    for criterion, criterion_rule in zip(event.criteria, scheme.criteria):
        criterion.name = criterion_rule.name
        criterion.max_spread = criterion_rule.max_spread
    audit("event.rename", actor, event)
    bump_results(event)
    db.session.flush()


def update_contestant(entry: Entry, values: dict[str, str | None], status: str,
                      reason: str | None, time: int | None, actor: str,
                      user: User | None = None) -> None:
    """Change one contestant's details, status (with its reason) and time used."""
    person = entry.contestant
    event = entry.event
    if values.get("id_number"):
        other = db.session.scalar(select(Contestant).where(
            Contestant.competition_id == person.competition_id,
            Contestant.id_number == values["id_number"], Contestant.id != person.id))
        if other is not None:
            raise InputError(Problem(_("this ID number is registered for %(name)s",
                                       name=other.name), field="id_number"))
    scored = (entry.status, entry.time_used) != (status, time)
    if scored and event.state in ("locked", "published"):
        raise InputError(Problem(_(
            "event %(code)s is %(state)s: statuses and times can no longer change",
            code=event.code, state=label("state", event.state)), field="status"))
    before = {"status": entry.status, "time": entry.time_used, "name": person.name}
    for key in ("name", "gender", "id_number", "unit", "phone"):
        setattr(person, key, values.get(key))
    entry.delegation = values.get("delegation")
    entry.status, entry.status_reason, entry.time_used = status, reason, time
    audit("entry.update", actor, event, user=user, entry=entry, bib=entry.bib, before=before,
          status=status, reason=reason, time=time)
    bump_results(event)
    db.session.flush()


def set_assignments(event: Event, user: User, codes: set[str], actor: str,
                    by: User | None = None) -> None:
    """The criteria of `event` that `user` marks, exactly `codes`."""
    criteria = {criterion.code: criterion for criterion in event.criteria}
    current = {assignment.criterion.code: assignment for assignment in db.session.scalars(
        select(Assignment).join(Criterion).where(Assignment.user_id == user.id,
                                                 Criterion.event_id == event.id))}
    for code in codes - set(current):
        db.session.add(Assignment(user=user, criterion=criteria[code]))
    for code in set(current) - codes:
        db.session.delete(current[code])
    if codes != set(current):
        audit("judge.assign", actor, event, user=by, judge=user.username,
              criteria=sorted(codes))
    db.session.flush()
