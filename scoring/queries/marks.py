"""Reads about marks for the screens: a judge's sheet and count, the chief judge's matrix,
the console's progress and dashboard. Every count of "marks expected" is made here, from
policy's `needed` and `owes`, so the dashboard, the progress page, a judge's count, the
chief's matrix and the results' `complete` agree."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from .. import rules
from ..models import Assignment, Criterion, Entry, Event, Mark, SignOff, SpreadConfirmation, User


def markable_entries(event: Event) -> list[Entry]:
    """The entries judges see: those with a blind code, by blind code."""
    return list(db.session.scalars(
        select(Entry).where(Entry.event_id == event.id, Entry.blind_code.is_not(None))
        .order_by(Entry.blind_code)))


def sheet_key(criterion: Criterion, entry: Entry) -> str:
    """What names the entry on this criterion's sheet, its row's address and ids: the blind
    code on a blind criterion, the random `sheet_key` on another (never both, so a judge
    with sheets of both kinds cannot link a blind code to a station); never the entry's id,
    bib or order."""
    return entry.blind_code if criterion.blind and entry.blind_code else entry.sheet_key


def on_blind_sheet(user: User, event: Event, entry: Entry) -> bool:
    """Whether a blind sheet shows this entry to this judge: only those who compete and
    whom the judge does not stand aside from (policy.stands_aside). Saying "absent" or "your
    own delegation" next to a code would tell whose it is (the public board shows who is
    absent); neither is expected of the judge anyway (judge_progress)."""
    return entry.status == "ok" and not policy.stands_aside(
        user.delegation, entry.delegation, event.conflict_check)


def sheet_entries(user: User, event: Event, criterion: Criterion) -> list[Entry]:
    """The rows of this judge's sheet of a criterion: the markable entries, by blind code on
    a blind sheet (those on_blind_sheet), by station on another."""
    entries = markable_entries(event)
    if not criterion.blind:
        return sorted(entries, key=lambda entry: (entry.station is None, entry.station or 0,
                                                  entry.blind_code))
    return [entry for entry in entries if on_blind_sheet(user, event, entry)]


def entry_by_key(event: Event, criterion: Criterion, key: str) -> Entry | None:
    """The markable entry a sheet names by `key` (see sheet_key), or None."""
    column = Entry.blind_code if criterion.blind else Entry.sheet_key
    return db.session.scalar(select(Entry).where(
        Entry.event_id == event.id, Entry.blind_code.is_not(None), column == key))


def judge_marks(user: User, criterion: Criterion) -> dict[int, Mark]:
    """This judge's marks on a criterion, by entry id."""
    return {mark.entry_id: mark for mark in db.session.scalars(
        select(Mark).where(Mark.criterion_id == criterion.id, Mark.judge == user.username))}


def is_assigned(user: User, criterion: Criterion) -> bool:
    return db.session.scalar(select(Assignment.id).where(
        Assignment.user_id == user.id, Assignment.criterion_id == criterion.id)) is not None


def assigned_criteria(user: User, event: Event) -> list[Criterion]:
    ids = set(db.session.scalars(select(Assignment.criterion_id).where(
        Assignment.user_id == user.id)))
    return [criterion for criterion in event.criteria if criterion.id in ids]


def is_signed(user: User, criterion: Criterion) -> bool:
    return db.session.scalar(select(SignOff.id).where(
        SignOff.user_id == user.id, SignOff.criterion_id == criterion.id)) is not None


def sheets_of(criterion: Criterion) -> list[tuple[str, str | None, bool]]:
    """The sheets of a criterion: (account, display name, signed) of every judge assigned."""
    signed = set(db.session.scalars(select(SignOff.user_id).where(
        SignOff.criterion_id == criterion.id)))
    return [(user.username, user.display_name, user.id in signed) for user in db.session.scalars(
        select(User).join(Assignment, Assignment.user_id == User.id)
        .where(Assignment.criterion_id == criterion.id).order_by(User.username))]


def display_names() -> dict[str, str]:
    """Every account's name as staff read it: the display name, else the account name."""
    return {username: display_name or username for username, display_name
            in db.session.execute(select(User.username, User.display_name))}


def panels(event: Event) -> dict[int, policy.Panel]:
    """Each criterion's panel (marks needed, judges assigned with their delegations), by id."""
    assigned: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for criterion_id, username, delegation in db.session.execute(
            select(Assignment.criterion_id, User.username, User.delegation)
            .join(User, Assignment.user_id == User.id)
            .join(Criterion, Assignment.criterion_id == Criterion.id)
            .where(Criterion.event_id == event.id).order_by(User.username)):
        assigned[criterion_id].append((username, delegation))
    return {criterion.id: policy.Panel(criterion.judges, tuple(assigned.get(criterion.id, ())))
            for criterion in event.criteria}


def panel(criterion: Criterion) -> policy.Panel:
    assigned = db.session.execute(
        select(User.username, User.delegation).join(Assignment, Assignment.user_id == User.id)
        .where(Assignment.criterion_id == criterion.id).order_by(User.username)).all()
    return policy.Panel(criterion.judges, tuple((name, delegation)
                                                for name, delegation in assigned))


def marked_by(entry: Entry, criterion: Criterion) -> set[str]:
    """Who has marked this entry on this criterion (account names or import labels)."""
    return set(db.session.scalars(select(Mark.judge).where(
        Mark.entry_id == entry.id, Mark.criterion_id == criterion.id)))


def marked_by_entry(criterion: Criterion) -> dict[int, set[str]]:
    """Who has marked each entry on this criterion, by entry id."""
    marks: dict[int, set[str]] = defaultdict(set)
    for entry_id, judge in db.session.execute(
            select(Mark.entry_id, Mark.judge).where(Mark.criterion_id == criterion.id)):
        marks[entry_id].add(judge)
    return marks


def judge_progress(user: User, event: Event, criterion: Criterion) -> tuple[int, int]:
    """(marks entered, marks expected) of this judge on this criterion's sheet: the entries
    with a blind code the judge may mark, counting as expected those the judge has marked
    and those still owed (policy.owes). Asked for after every save: three queries."""
    the_panel = panel(criterion)
    marks = marked_by_entry(criterion)
    done = expected = 0
    for entry_id, status, delegation in db.session.execute(
            select(Entry.id, Entry.status, Entry.delegation).where(
                Entry.event_id == event.id, Entry.blind_code.is_not(None))):
        if status != "ok" or policy.stands_aside(user.delegation, delegation,
                                                 event.conflict_check):
            continue
        by = marks.get(entry_id, set())
        if user.username in by:
            done += 1
            expected += 1
        elif policy.owes(user.username, user.delegation, the_panel, status, delegation, by,
                         event.conflict_check):
            expected += 1
    return done, expected


# --- judgement levels too far apart ------------------------------------------------------------

def levels_key(levels: dict[str, Decimal]) -> str:
    """Levels by judge as one text, the same for the same levels (what a confirmation holds)."""
    return json.dumps({judge: str(level) for judge, level in sorted(levels.items())})


def spread_levels(criterion: Criterion) -> dict[int, dict[str, Decimal]]:
    """On a judgement criterion, the levels of each entry whose levels are further apart
    than the criterion allows (max_spread, default 1), confirmed or not, by entry id."""
    if criterion.kind != "judgement":
        return {}
    limit = criterion.max_spread if criterion.max_spread is not None else rules.JUDGEMENT_SPREAD
    levels: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for entry_id, judge, entered in db.session.execute(
            select(Mark.entry_id, Mark.judge, Mark.entered)
            .where(Mark.criterion_id == criterion.id, Mark.entered.is_not(None))):
        levels[entry_id][judge] = entered
    return {entry_id: by_judge for entry_id, by_judge in levels.items()
            if len(by_judge) >= 2 and max(by_judge.values()) - min(by_judge.values()) > limit}


def confirmed_levels(criterion: Criterion) -> dict[int, set[str]]:
    """The levels the chief judge confirmed (levels_key texts), by entry id."""
    found: dict[int, set[str]] = defaultdict(set)
    for entry_id, key in db.session.execute(
            select(SpreadConfirmation.entry_id, SpreadConfirmation.levels_json)
            .where(SpreadConfirmation.criterion_id == criterion.id)):
        found[entry_id].add(key)
    return found


def unresolved_spreads(criterion: Criterion) -> dict[int, dict[str, Decimal]]:
    """The flagged levels (spread_levels) the chief judge has not confirmed as they stand:
    they block the signing of the sheets of the judges who gave them."""
    flagged = spread_levels(criterion)
    if not flagged:
        return {}
    confirmed = confirmed_levels(criterion)
    return {entry_id: levels for entry_id, levels in flagged.items()
            if levels_key(levels) not in confirmed.get(entry_id, set())}


# --- the event's progress -------------------------------------------------------------------

@dataclass
class CriterionProgress:
    criterion: Criterion
    done: int = 0  # marks counted towards what is needed (at most `needed` per entry)
    expected: int = 0  # marks needed, over the contestants who compete
    judges: dict[str, list[int]] = field(default_factory=dict)  # judge -> [done, expected]
    missing: list[tuple[str, str | None]] = field(default_factory=list)  # (bib/code, judge)


def event_progress(event: Event) -> list[CriterionProgress]:
    """Per criterion, marks done and needed (policy.needed) over the entries that compete,
    per judge as on their sheet, and each missing mark with the judge who owes it (None: an
    import must bring it)."""
    the_panels = panels(event)
    entries = db.session.execute(
        select(Entry.id, Entry.bib, Entry.blind_code, Entry.status, Entry.delegation)
        .where(Entry.event_id == event.id).order_by(Entry.blind_code, Entry.bib)).all()
    marks: dict[tuple[int, int], set[str]] = defaultdict(set)
    for entry_id, criterion_id, judge in db.session.execute(
            select(Mark.entry_id, Mark.criterion_id, Mark.judge).join(Entry)
            .where(Entry.event_id == event.id)):
        marks[(entry_id, criterion_id)].add(judge)
    result = []
    for criterion in event.criteria:
        the_panel = the_panels[criterion.id]
        progress = CriterionProgress(criterion)
        for name, _delegation in the_panel.assigned:
            progress.judges[name] = [0, 0]
        for entry in entries:
            if entry.status != "ok":
                continue
            by = marks.get((entry.id, criterion.id), set())
            count = policy.needed(the_panel, entry.delegation, event.conflict_check)
            progress.expected += count
            progress.done += min(len(by), count)
            owed = False
            for name, delegation in the_panel.assigned:
                if entry.blind_code is None or policy.stands_aside(
                        delegation, entry.delegation, event.conflict_check):
                    continue
                if name in by:
                    progress.judges[name][0] += 1
                    progress.judges[name][1] += 1
                elif policy.owes(name, delegation, the_panel, entry.status, entry.delegation,
                                 by, event.conflict_check):
                    progress.judges[name][1] += 1
                    progress.missing.append((entry.blind_code, name))
                    owed = True
            if len(by) < count and not owed:
                # Nobody assigned can give it: an import must (or the criterion is
                # understaffed, or the entry has no blind code yet).
                progress.missing.append((entry.blind_code or entry.bib or "—", None))
        result.append(progress)
    return result


def progress_totals(event: Event) -> tuple[int, int]:
    """(marks done, marks needed) of the whole event, as the progress page adds them."""
    progress = event_progress(event)
    return sum(p.done for p in progress), sum(p.expected for p in progress)


# --- the chief judge's matrix ---------------------------------------------------------------

@dataclass
class Cell:
    judge: str
    mark: Mark | None = None
    missing: bool = False
    extreme: bool = False  # 0 or full marks: worth a second look


@dataclass
class Group:
    """One entry's marks on one criterion, one cell per judge."""

    cells: list[Cell] = field(default_factory=list)
    spread: bool = False
    confirmed: bool = False  # judgement levels too far apart, confirmed by the chief judge


def matrix(event: Event) -> tuple[list[Entry], dict[int, list[str]], dict[tuple[int, int], Group]]:
    """Entries by blind code, each criterion's judges, and the cell groups with flags; a cell
    is missing when its judge owes the mark (policy.owes, as everywhere)."""
    entries = markable_entries(event)
    marks: dict[tuple[int, int], dict[str, Mark]] = {}
    for mark in db.session.scalars(select(Mark).join(Entry).where(Entry.event_id == event.id)
                                   .options(joinedload(Mark.criterion))):
        marks.setdefault((mark.entry_id, mark.criterion_id), {})[mark.judge] = mark
    the_panels = panels(event)
    judges = {}
    for criterion in event.criteria:
        names = {name for name, _delegation in the_panels[criterion.id].assigned}
        names.update(judge for (_entry_id, criterion_id), by_judge in marks.items()
                     if criterion_id == criterion.id for judge in by_judge)
        judges[criterion.id] = sorted(names)
    flagged = {criterion.id: spread_levels(criterion) for criterion in event.criteria}
    confirmed = {criterion.id: confirmed_levels(criterion) if flagged[criterion.id] else {}
                 for criterion in event.criteria}
    groups = {}
    for entry in entries:
        for criterion in event.criteria:
            the_panel = the_panels[criterion.id]
            delegations = dict(the_panel.assigned)
            by_judge = marks.get((entry.id, criterion.id), {})
            group = Group()
            for judge in judges[criterion.id]:
                mark = by_judge.get(judge)
                owed = judge in delegations and policy.owes(
                    judge, delegations[judge], the_panel, entry.status, entry.delegation,
                    by_judge, event.conflict_check)
                group.cells.append(Cell(
                    judge, mark, missing=owed,
                    extreme=mark is not None and mark.value in (Decimal(0), criterion.max_value)))
            if criterion.kind == "judgement":
                levels = flagged[criterion.id].get(entry.id)
                group.spread = levels is not None
                group.confirmed = levels is not None and levels_key(levels) in \
                    confirmed[criterion.id].get(entry.id, set())
            else:
                values = [mark.value for mark in by_judge.values()]
                group.spread = (criterion.max_spread is not None and len(values) >= 2
                                and max(values) - min(values) > criterion.max_spread)
            groups[(entry.id, criterion.id)] = group
    return entries, judges, groups
