"""The writes: every change to events, entries, marks and accounts, each with its audit record.

Operations check what policy allows, add to the session and flush; they never commit. The
caller (a request or a command) commits once, so a failure anywhere leaves nothing written.
Boards learn of changed results from the session (`results_changed`), never from here.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import policy
from ..extensions import db
from ..models import AuditEvent, Entry, Event, Mark, User, utcnow
from ..problems import InputError, Problem


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
    """Tell every worker's board that the event's public results may have changed: the
    version lives in the database; this process's boards hear of it when the session
    commits. Not called for marks of a blind criterion not yet decoded: nothing public
    moves then, not even the boards' "updated" time or ETag, so that no judge learns from
    a board whose workpiece a blind code is."""
    event.results_version = Event.results_version + 1
    event.results_changed_at = utcnow()
    db.session().info["results_changed"] = True


def lock_event(event: Event) -> Event:
    """Serialise every write on this event behind this transaction, then read its state
    afresh: a judge's save and the chief's lock take this first, so a save either commits
    before the lock or sees the event locked. A no-op UPDATE is the one statement that
    does it on both databases: a row lock on PostgreSQL (waiting for the other writer,
    then reading what it committed), the database's write lock on SQLite."""
    db.session.execute(update(Event).where(Event.id == event.id)
                       .values(results_version=Event.results_version))
    db.session.refresh(event)
    return event


def move_state(event: Event, new: str, step: str, actor: str, user: User | None = None,
               **details: Any) -> None:
    """The one place an event's state changes, recorded as `event.state` with the step that
    moved it (open, lock, publish, reopen; draw, register, import_scores). The caller has
    taken the event's lock and asked policy."""
    old = event.state
    if old == new:
        return
    event.state = new
    audit("event.state", actor, event, user=user, step=step, old=old, new=new,
          **{key: value for key, value in details.items() if value is not None})
    bump_results(event)


def require(action: str, event: Event, user: User | None, field: str | None = None,
            file: str | None = None) -> None:
    """Raise InputError with policy's reason unless `user` may take `action` on `event`
    now (user None: the command line's operator)."""
    reason = policy.refusal(action, event, user)
    if reason:
        raise InputError(Problem(reason, field=field, file=file))
