"""Writes on marks: a judge's save, the sign-off, the chief judge's correction, imports.

A save carries a token made by the page (a retry of the same save is recognised and makes no
second revision; the token counts only for the same judge, entry and criterion) and the
version of the mark the page showed (a save over a version the page never saw is a conflict,
shown to the judge with both values, never an overwrite). Every save first takes the event's
lock (operations.lock_event), so it cannot land after the chief judge locks the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from .. import policy, rules
from ..extensions import db
from ..inputs import ScoreRow, parse_mark, text_problem
from ..models import (
    Appeal, Criterion, Entry, Event, Mark, MarkRevision, SignOff, SpreadConfirmation, User,
    utcnow,
)
from ..problems import InputError, Problem
from ..queries.marks import (
    is_signed, judge_progress, levels_key, marked_by, panel, sheet_key, unresolved_spreads,
)
from . import audit, bump_results, lock_event, move_state, require


@dataclass
class Outcome:
    """What a save did: `state` is saved, invalid, conflict or refused."""

    state: str
    mark: Mark | None
    message: str | None = None
    typed: str | None = None  # what the judge typed, shown again when it was not saved
    changed: bool = False  # a new revision was flushed: the caller commits it


def import_scores(event: Event, rows: list[ScoreRow], actor: str, filename: str,
                  user: User | None = None) -> int:
    """Enter marks from a file; an existing (bib, criterion, judge) mark is replaced and its
    old value kept in the mark's revisions. Opens scoring if it was not open yet."""
    lock_event(event)
    require("import_scores", event, user, file=filename)
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
    changed, public = 0, False
    rules_by_code = {code: criterion.to_rule() for code, criterion in criteria.items()}
    for row in rows:
        entry, criterion = entries[row.bib], criteria[row.criterion]
        mark = existing.get((entry.id, criterion.id, row.judge))
        if mark is not None and mark.typed == row.score:
            continue
        set_mark(entry, criterion, row.judge, row.score, source="import", actor=actor,
                 user=users.get(row.judge), mark=mark, reason=filename,
                 rule=rules_by_code[row.criterion])
        changed += 1
        public = public or criterion.public
    move_state(event, "scoring", "import_scores", actor, user, via=filename)
    audit("scores.import", actor, event, file=filename, rows=len(rows), changed=changed)
    if public:  # (a change of state has bumped them already)
        bump_results(event)
    db.session.flush()
    return changed


def set_mark(entry: Entry, criterion: Criterion, judge: str, value: Decimal, *, source: str,
             actor: str, user: User | None = None, mark: Mark | None = None,
             reason: str | None = None, client_token: str | None = None,
             rule: rules.CriterionRule | None = None, appeal: Appeal | None = None) -> Mark:
    """Create or change one mark, with its revision. The caller has checked the value: what
    the judge entered, the mark itself, or on a judgement or measurement criterion the level
    or the measured value, from which the rules give the mark (both are kept)."""
    rule = rule or criterion.to_rule()
    entered = value if rule.entered else None
    stored = rules.stored_mark(rule, value) if rule.entered else value
    if mark is None:
        mark = Mark(entry=entry, criterion=criterion, judge=judge, value=stored,
                    entered=entered, user_id=user.id if user else None)
        db.session.add(mark)
        old, old_entered = None, None
    else:
        old, old_entered = mark.value, mark.entered
        mark.value = stored
        mark.entered = entered
        mark.updated_at = utcnow()
    db.session.add(MarkRevision(mark=mark, old_value=old, new_value=stored,
                                old_entered=old_entered, new_entered=entered,
                                user_id=user.id if user else None, actor=actor, source=source,
                                reason=reason, client_token=client_token,
                                appeal_id=appeal.id if appeal is not None else None))
    return mark


def current_mark(entry: Entry, criterion: Criterion, judge: str) -> Mark | None:
    """The mark as the database holds it now (read afresh, not from the session's map)."""
    return db.session.scalar(select(Mark).where(
        Mark.entry_id == entry.id, Mark.criterion_id == criterion.id, Mark.judge == judge)
        .execution_options(populate_existing=True))


MAX_TOKEN = 64  # the page makes 32 hex digits


def token_owner(token: str | None) -> tuple[int, int, str, Decimal] | None:
    """The (entry, criterion, judge, value) of the save that already used this token, if
    any: a token counts as a retry only for the same judge, entry, criterion and value."""
    if not token:
        return None
    found = db.session.execute(
        select(Mark.entry_id, Mark.criterion_id, Mark.judge, MarkRevision.new_value,
               MarkRevision.new_entered)
        .join(MarkRevision).where(MarkRevision.client_token == token)).first()
    if not found:
        return None
    entry_id, criterion_id, judge, value, entered = found
    return entry_id, criterion_id, judge, value if entered is None else entered


def retried(owner: tuple[int, int, str, Decimal] | None, entry: Entry, criterion: Criterion,
            judge: str, typed: str) -> bool | None:
    """True: this very save already arrived; False: the token belongs to another save
    (another row, judge or value: never shown as saved); None: the token is new."""
    if owner is None:
        return None
    value, _problem = parse_mark(typed, criterion.to_rule())
    return owner == (entry.id, criterion.id, judge, value)


def save_judge_mark(user: User, event: Event, criterion: Criterion, entry: Entry, typed: str,
                    token: str | None, seen_version: int | None) -> Outcome:
    """Check one mark typed by a judge and, when it is to be saved, add it and flush; the
    caller commits when the outcome is `saved` with `changed`, and rolls back otherwise. The
    caller has checked the assignment. Serialised with the chief's lock and other saves on
    the event (operations.lock_event), so the state and the marks read here hold until the
    caller's commit."""
    lock_event(event)
    mark = current_mark(entry, criterion, user.username)
    again = retried(token_owner(token), entry, criterion, user.username, typed)
    if again:
        return Outcome("saved", mark)  # a retry of a save that already arrived
    if again is False or (token is not None and len(token) > MAX_TOKEN):
        return Outcome("invalid", mark, _("Reload the page."), typed)
    refusal = policy.refusal("mark", event, user)
    if refusal is None and is_signed(user, criterion):
        refusal = _("You have signed this sheet: ask the chief judge to change a mark.")
    if refusal is None:
        refusal = policy.mark_refusal(user.username, user.delegation, panel(criterion),
                                      entry.status, entry.delegation,
                                      marked_by(entry, criterion), event.conflict_check)
    if refusal:
        return Outcome("refused", mark, refusal, typed)
    value, reason = parse_mark(typed, criterion.to_rule())
    if reason or value is None:
        return Outcome("invalid", mark, reason, typed)
    if mark is not None and mark.typed == value:
        return Outcome("saved", mark)  # already so, whatever the page saw: nothing to lose
    current = mark.version if mark else None
    if seen_version != current:
        return conflict(mark, typed)
    mark = set_mark(entry, criterion, user.username, value, source="judge", actor=user.username,
                    user=user, mark=mark, client_token=token)
    if criterion.public:  # a blind mark moves nothing public before decoding
        bump_results(event)
    db.session.flush()
    return Outcome("saved", mark, changed=True)


def lost_race(user: User, entry: Entry, criterion: Criterion, token: str | None,
              typed: str) -> Outcome:
    """What a save became when its commit failed because another tab or a retry wrote the
    mark first (the caller has rolled back): saved, if that was this very save; else a
    conflict showing both values."""
    mark = current_mark(entry, criterion, user.username)
    again = retried(token_owner(token), entry, criterion, user.username, typed)
    if again:
        return Outcome("saved", mark)
    if again is False:
        return Outcome("invalid", mark, _("Reload the page."), typed)
    return conflict(mark, typed)


def conflict(mark: Mark | None, typed: str) -> Outcome:
    if mark is None:  # the mark this page saw is gone: cannot happen, marks are never deleted
        return Outcome("invalid", None, _("Reload the page."), typed)
    return Outcome("conflict", mark, _(
        "Changed elsewhere meanwhile: the saved mark is %(saved)s, you typed %(typed)s.",
        saved=mark.typed, typed=typed), typed)


def sign_off(user: User, event: Event, criterion: Criterion) -> str | None:
    """Sign the judge's sheet for a criterion (added and flushed: the caller commits); the
    reason it cannot be signed, or None."""
    lock_event(event)
    refusal = policy.refusal("sign", event, user)
    if refusal is None and is_signed(user, criterion):
        refusal = _("This sheet is already signed.")
    if refusal is None:
        done, expected = judge_progress(user, event, criterion)
        if done < expected:
            refusal = _("%(missing)s marks are still missing: a sheet is signed once complete.",
                        missing=expected - done)
    if refusal is None:
        refusal = spread_refusal(user, criterion)
    if refusal:
        return refusal
    db.session.add(SignOff(user_id=user.id, criterion_id=criterion.id))
    audit("sheet.sign", user.username, event, user=user, criterion=criterion.code,
          marks=done)
    db.session.flush()
    return None


def spread_refusal(user: User, criterion: Criterion) -> str | None:
    """Why this judge's sheet of a judgement criterion cannot be signed as it stands: levels
    further apart than the criterion allows on rows the judge marked, not confirmed by the
    chief judge (DOMAIN.md); None when there are none."""
    flagged = unresolved_spreads(criterion)
    mine = [entry for entry in flagged if user.username in flagged[entry]]
    if not mine:
        return None
    entries = db.session.scalars(select(Entry).where(Entry.id.in_(mine))).all()
    return _("The judges’ levels are more than %(spread)s apart on %(rows)s: change a level, "
             "or ask the chief judge to confirm them, before signing.",
             spread=criterion.max_spread if criterion.max_spread is not None
             else rules.JUDGEMENT_SPREAD,
             rows=", ".join(sorted(sheet_key(criterion, entry) for entry in entries)))


def confirm_spread(chief: User, event: Event, entry: Entry, criterion: Criterion,
                   reason: str, seen: str | None = None) -> str | None:
    """The event's chief judge confirms an entry's judgement levels that are further apart
    than allowed, with a reason (added and flushed; the caller commits); the reason it
    cannot be done, or None. A later change of a level raises the flag again. `seen`: the
    levels the chief judge's page showed (levels_key); levels changed since are refused."""
    lock_event(event)
    refusal = policy.refusal("correct", event, chief)
    if refusal:
        return refusal
    reason = reason.strip()
    if not reason or text_problem(reason, 2000, lines=True):
        return text_problem(reason, 2000, lines=True) or _("A confirmation needs a reason.")
    levels = unresolved_spreads(criterion).get(entry.id)
    if levels is None:
        return _("These levels are not flagged (any more): nothing to confirm.")
    if seen is not None and seen != levels_key(levels):
        return _("A judge changed a level meanwhile: look at the levels again before "
                 "confirming them.")
    db.session.add(SpreadConfirmation(
        entry_id=entry.id, criterion_id=criterion.id, user_id=chief.id, actor=chief.username,
        levels_json=levels_key(levels), reason=reason))
    audit("spread.confirm", chief.username, event, user=chief, entry=entry,
          criterion=criterion.code, levels=", ".join(f"{judge} {level}" for judge, level
                                                     in sorted(levels.items())),
          reason=reason)
    db.session.flush()
    return None


def chief_correct(chief: User, event: Event, mark: Mark, typed: str, reason: str,
                  seen_version: int | None, appeal: Appeal | None = None) -> Outcome:
    """The event's chief judge changes a mark (after sign-off or lock) with a mandatory
    reason; flushed when `saved`, and the caller commits. With `appeal`: the re-check its
    ruling ordered, while the results are provisional: only while the appeal's status is
    `recheck`, and only the marks of the criteria it names for its contestant; the revision
    is linked to the appeal."""
    lock_event(event)
    refusal = policy.refusal("correct" if appeal is None else "recheck", event, chief)
    if refusal is None and appeal is not None:
        db.session.refresh(appeal)
        if appeal.event_id != event.id or appeal.status != "recheck":
            refusal = _("Appeal #%(id)s has no re-check open: marks change in a re-check "
                        "only while its ruling orders one.", id=appeal.id)
        elif mark.entry_id != appeal.entry_id or mark.criterion.code not in appeal.criteria:
            refusal = _("Appeal #%(id)s is about other marks: its re-check changes only the "
                        "criteria it names, of its contestant.", id=appeal.id)
    if refusal:
        return Outcome("refused", mark, refusal, typed)
    value, problem = parse_mark(typed, mark.criterion.to_rule())
    reason = reason.strip()
    db.session.refresh(mark)
    if problem or value is None:
        return Outcome("invalid", mark, problem, typed)
    if not reason or text_problem(reason, 2000, lines=True):
        return Outcome("invalid", mark, text_problem(reason, 2000, lines=True)
                       or _("A correction needs a reason."), typed)
    if seen_version != mark.version:
        return conflict(mark, typed)
    if mark.typed == value:
        return Outcome("invalid", mark, _("The mark already has this value."), typed)
    old = mark.typed
    set_mark(mark.entry, mark.criterion, mark.judge, value, source="chief",
             actor=chief.username, user=chief, mark=mark, reason=reason, appeal=appeal)
    if appeal is None:
        audit("mark.correct", chief.username, event, user=chief, entry=mark.entry,
              criterion=mark.criterion.code, judge=mark.judge, old=str(old), new=str(value),
              reason=reason)
    else:
        audit("mark.recheck", chief.username, event, user=chief, entry=mark.entry,
              appeal=appeal.id, criterion=mark.criterion.code, judge=mark.judge,
              old=str(old), new=str(value), reason=reason)
    if mark.criterion.public:
        bump_results(event)
    db.session.flush()
    return Outcome("saved", mark, changed=True)
