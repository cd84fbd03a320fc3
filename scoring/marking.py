"""Who may mark what, and saving a judge's mark so that none is lost or silently overwritten.

A save carries a token made by the page (a retry of the same save is recognised and makes no
second revision) and the version of the mark the page showed (a save over a version the page
never saw is a conflict, shown to the judge with both values, never an overwrite).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db
from .imports import parse_mark
from .models import Assignment, Criterion, Entry, Event, Mark, MarkRevision, SignOff, User
from .operations import audit, bump_results, set_mark


@dataclass
class Outcome:
    """What a save did: `state` is saved, invalid, conflict or refused."""

    state: str
    mark: Mark | None
    message: str | None = None
    typed: str | None = None  # what the judge typed, shown again when it was not saved


def is_assigned(user: User, criterion: Criterion) -> bool:
    return db.session.scalar(select(Assignment.id).where(
        Assignment.user_id == user.id, Assignment.criterion_id == criterion.id)) is not None


def has_conflict(user: User, event: Event, entry: Entry) -> bool:
    return bool(event.conflict_check and user.delegation and entry.delegation
                and user.delegation == entry.delegation)


def is_signed(user: User, criterion: Criterion) -> bool:
    return db.session.scalar(select(SignOff.id).where(
        SignOff.user_id == user.id, SignOff.criterion_id == criterion.id)) is not None


def event_refusal(event: Event) -> str | None:
    if event.state == "scoring":
        return None
    if event.state in ("locked", "published"):
        return _("Scoring of this event is locked: ask the chief judge.")
    return _("Scoring of this event is not open yet.")


def entry_refusal(user: User, event: Event, entry: Entry) -> str | None:
    """Why `user` may not mark this entry at all, or None."""
    if entry.status == "absent":
        return _("Absent")
    if entry.status == "dq":
        return _("Disqualified")
    if has_conflict(user, event, entry):
        return _("Not yours to mark (your own delegation)")
    return None


def markable_entries(event: Event) -> list[Entry]:
    """The entries judges see: those with a blind code, by blind code."""
    return list(db.session.scalars(
        select(Entry).where(Entry.event_id == event.id, Entry.blind_code.is_not(None))
        .order_by(Entry.blind_code)))


def judge_marks(user: User, criterion: Criterion) -> dict[int, Mark]:
    """This judge's marks on a criterion, by entry id."""
    return {mark.entry_id: mark for mark in db.session.scalars(
        select(Mark).where(Mark.criterion_id == criterion.id, Mark.judge == user.username))}


def progress(user: User, event: Event, criterion: Criterion) -> tuple[int, int]:
    """(marks entered, marks expected) of this judge on this criterion: two counts in the
    database (it runs on every save), over the entries `entry_refusal` lets the judge mark."""
    markable = select(Entry.id).where(Entry.event_id == event.id,
                                      Entry.blind_code.is_not(None), Entry.status == "ok")
    if event.conflict_check and user.delegation:
        markable = markable.where(or_(Entry.delegation.is_(None),
                                      Entry.delegation != user.delegation))
    expected = db.session.scalar(select(func.count()).select_from(markable.subquery()))
    done = db.session.scalar(select(func.count(Mark.id)).where(
        Mark.criterion_id == criterion.id, Mark.judge == user.username,
        Mark.entry_id.in_(markable)))
    return done or 0, expected or 0


def save_judge_mark(user: User, event: Event, criterion: Criterion, entry: Entry, typed: str,
                    token: str | None, seen_version: int | None) -> Outcome:
    """Check and save one mark typed by a judge; the caller has checked the assignment."""
    mark = db.session.scalar(select(Mark).where(
        Mark.entry_id == entry.id, Mark.criterion_id == criterion.id,
        Mark.judge == user.username))
    if token and db.session.scalar(
            select(MarkRevision.id).where(MarkRevision.client_token == token)):
        return Outcome("saved", mark)  # a retry of a save that already arrived
    refusal = event_refusal(event) or entry_refusal(user, event, entry)
    if refusal is None and is_signed(user, criterion):
        refusal = _("You have signed this sheet: ask the chief judge to change a mark.")
    if refusal:
        return Outcome("refused", mark, refusal, typed)
    value, reason = parse_mark(typed, criterion.to_rule())
    if reason or value is None:
        return Outcome("invalid", mark, reason, typed)
    current = mark.version if mark else None
    if seen_version != current:
        return conflict(mark, typed)
    if mark is not None and mark.value == value:
        return Outcome("saved", mark)
    mark = set_mark(entry, criterion, user.username, value, source="judge", actor=user.username,
                    user=user, mark=mark, client_token=token)
    bump_results(event)
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError):
        # Another tab or a retry got there between our read and our write.
        db.session.rollback()
        mark = db.session.scalar(select(Mark).where(
            Mark.entry_id == entry.id, Mark.criterion_id == criterion.id,
            Mark.judge == user.username))
        if token and db.session.scalar(
                select(MarkRevision.id).where(MarkRevision.client_token == token)):
            return Outcome("saved", mark)
        return conflict(mark, typed)
    return Outcome("saved", mark)


def conflict(mark: Mark | None, typed: str) -> Outcome:
    if mark is None:  # the mark this page saw is gone: cannot happen, marks are never deleted
        return Outcome("invalid", None, _("Reload the page."), typed)
    return Outcome("conflict", mark, _(
        "Changed elsewhere meanwhile: the saved mark is %(saved)s, you typed %(typed)s.",
        saved=mark.value, typed=typed), typed)


def sign_off(user: User, event: Event, criterion: Criterion) -> str | None:
    """Sign the judge's sheet for a criterion; the reason it cannot be signed, or None."""
    refusal = event_refusal(event)
    if refusal:
        return refusal
    if is_signed(user, criterion):
        return _("This sheet is already signed.")
    done, expected = progress(user, event, criterion)
    if done < expected:
        return _("%(missing)s marks are still missing: a sheet is signed once complete.",
                 missing=expected - done)
    db.session.add(SignOff(user_id=user.id, criterion_id=criterion.id))
    audit("sheet.sign", user.username, event, user=user, criterion=criterion.code,
          marks=done)
    db.session.commit()
    return None


def chief_correct(chief: User, event: Event, mark: Mark, typed: str, reason: str,
                  seen_version: int | None) -> Outcome:
    """The chief judge changes a mark (after sign-off or lock) with a mandatory reason."""
    if event.state == "published":
        return Outcome("refused", mark, _("The results are published: reopen the event "
                                          "first."), typed)
    value, problem = parse_mark(typed, mark.criterion.to_rule())
    if problem or value is None:
        return Outcome("invalid", mark, problem, typed)
    reason = reason.strip()
    if not reason:
        return Outcome("invalid", mark, _("A correction needs a reason."), typed)
    if seen_version != mark.version:
        return conflict(mark, typed)
    if mark.value == value:
        return Outcome("invalid", mark, _("The mark already has this value."), typed)
    old = mark.value
    set_mark(mark.entry, mark.criterion, mark.judge, value, source="chief",
             actor=chief.username, user=chief, mark=mark, reason=reason)
    audit("mark.correct", chief.username, event, user=chief, entry=mark.entry,
          criterion=mark.criterion.code, judge=mark.judge, old=str(old), new=str(value),
          reason=reason)
    bump_results(event)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        return conflict(db.session.get(Mark, mark.id), typed)  # type: ignore[arg-type]
    return Outcome("saved", mark)


def lock_scoring(chief: User, event: Event) -> str | None:
    if event.state != "scoring":
        return _("Only an event in scoring can be locked.")
    event.state = "locked"
    audit("event.lock", chief.username, event, user=chief)
    bump_results(event)
    db.session.commit()
    return None
