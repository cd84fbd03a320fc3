"""Writes on appeals (申诉): recording one as received within the appeal window, the arbiters'
rulings, and appointing an event's arbiters (仲裁组). The re-check's changes of marks are the
chief judge's (operations.marks.chief_correct with the appeal).

An appeal's states: received -> dismissed (final), or received -> recheck (the chief judge
re-checks the named criteria of that entry) -> changed / unchanged (the arbiters' final
ruling after the re-check: changed when the re-check changed a mark). Every step takes the
event's lock first, so two posts of the same form at once are answered once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..inputs import bib_finder, text_problem
from ..models import Appeal, Entry, Event, MarkRevision, User, utcnow
from ..problems import InputError, Problem
from ..queries.appeals import entry_result, marks_now, when
from . import audit, lock_event, require
from .events import appoint_staff

MAX_TEXT = 4000
RULINGS = ("dismissed", "recheck", "final")


def file_appeal(event: Event, bib: str, criteria: Iterable[str], text: str, actor: str,
                user: User | None = None, delegation: str | None = None) -> Appeal:
    """Record a written appeal as received now: about the contestant `bib` and the named
    criteria; `delegation`: who lodged it (default the contestant's). Refused outside the
    appeal window (with its end), and when the same appeal is already recorded (a second
    post of the form)."""
    lock_event(event)
    require("file_appeal", event, user)
    now = utcnow()
    ends = event.appeal_window_ends_at
    if ends is not None and now >= ends:
        raise InputError(Problem(_(
            "The appeal window of %(code)s closed at %(time)s (%(hours)s hours after the "
            "provisional publication at %(start)s): the appeal is refused.",
            code=event.code, time=when(ends), hours=event.appeal_hours,
            start=when(event.provisional_at))))
    problems = []
    bib = (bib or "").strip()
    # "2" finds 02, as the files and the board's search do (bib_finder)
    found = bib_finder(db.session.scalars(select(Entry.bib).where(
        Entry.event_id == event.id, Entry.bib.is_not(None))))(bib) if bib else None
    entry = db.session.scalar(select(Entry).where(Entry.event_id == event.id,
                                                  Entry.bib == found)) if found else None
    if entry is None:
        problems.append(Problem(_("event %(code)s has no contestant with the bib “%(bib)s”",
                                  code=event.code, bib=bib[:40]), field="bib"))
    known = [criterion.code for criterion in event.criteria]
    codes = list(dict.fromkeys(code.strip() for code in criteria if code.strip()))
    if not codes:
        problems.append(Problem(_("Name the criteria the appeal is about."), field="criteria"))
    for code in codes:
        if code not in known:
            problems.append(Problem(_(
                "unknown criterion “%(code)s” (this event has %(codes)s)",
                code=code[:40], codes=", ".join(known)), field="criteria"))
    text = (text or "").strip()
    if not text:
        problems.append(Problem(_("Write what the appeal says."), field="text"))
    else:
        problem = text_problem(text, MAX_TEXT, lines=True)
        if problem:
            problems.append(Problem(problem, field="text"))
    delegation = (delegation or "").strip() or None
    if delegation is not None:
        problem = text_problem(delegation, 100)
        if problem:
            problems.append(Problem(problem, field="delegation"))
    if problems:
        raise InputError(problems)
    assert entry is not None
    codes = [code for code in known if code in codes]  # in the scheme's order
    delegation = delegation or entry.delegation
    twin = db.session.scalar(select(Appeal).where(
        Appeal.event_id == event.id, Appeal.entry_id == entry.id, Appeal.text == text,
        Appeal.criteria_json == json.dumps(codes)))
    if twin is not None:
        raise InputError(Problem(_(
            "Nothing was done: this appeal is already recorded (#%(id)s, received at "
            "%(time)s by %(who)s).", id=twin.id, time=when(twin.received_at),
            who=twin.received_by), field="text"))
    appeal = Appeal(event_id=event.id, entry_id=entry.id, delegation=delegation,
                    criteria_json=json.dumps(codes), text=text, status="received",
                    received_at=now, received_by=actor,
                    before_json=json.dumps({"marks": marks_now(event, entry, codes),
                                            "result": entry_result(event, entry)},
                                           ensure_ascii=False))
    db.session.add(appeal)
    db.session.flush()
    audit("appeal.file", actor, event, user=user, entry=entry, appeal=appeal.id,
          bib=entry.bib, criteria=codes, delegation=delegation, text=text,
          window_ends=when(ends))
    return appeal


def find_appeal(appeal_id: int | str, event: Event | None = None) -> Appeal:
    try:
        number = int(str(appeal_id).lstrip("#"))
    except ValueError:
        number = 0
    appeal = db.session.get(Appeal, number) if 0 < number < 2**31 else None
    if appeal is None or (event is not None and appeal.event_id != event.id):
        raise InputError(Problem(_("no appeal #%(id)s", id=str(appeal_id)[:20]),
                                 field="APPEAL_ID"))
    return appeal


def rule(appeal: Appeal, ruling: str, reason: str, actor: str, user: User | None = None,
         seen_status: str | None = None) -> str:
    """The arbiters' ruling: `dismissed` or `recheck` on a received appeal; after the
    re-check `final`, recorded as `changed` (the re-check changed a mark) or `unchanged`.
    `seen_status`: the appeal's status the page showed; if it has moved since (a second
    post, another arbiter), nothing is done. Returns the appeal's new status."""
    event = appeal.event
    lock_event(event)
    db.session.refresh(appeal)
    require("rule", event, user, field="ruling")
    if seen_status is not None and appeal.status != seen_status:
        from ..labels import label
        raise InputError(Problem(_(
            "Nothing was done: appeal #%(id)s was ruled on meanwhile (now “%(status)s”). "
            "Look at the page again.", id=appeal.id, status=label("appeal", appeal.status)),
            field="ruling"))
    reason = (reason or "").strip()
    problems = []
    if ruling not in RULINGS:
        problems.append(Problem(_("the ruling is dismissed, recheck or final"), field="ruling"))
    elif appeal.status == "received" and ruling == "final":
        problems.append(Problem(_(
            "Appeal #%(id)s has no re-check to rule on: dismiss it or order a re-check.",
            id=appeal.id), field="ruling"))
    elif appeal.status == "recheck" and ruling != "final":
        problems.append(Problem(_(
            "A re-check of appeal #%(id)s was ordered: record the final ruling after it.",
            id=appeal.id), field="ruling"))
    elif appeal.status not in ("received", "recheck"):
        problems.append(Problem(_("Appeal #%(id)s is ruled on already.", id=appeal.id),
                                field="ruling"))
    if not reason:
        problems.append(Problem(_("A ruling needs a reason."), field="reason"))
    else:
        problem = text_problem(reason, 2000, lines=True)
        if problem:
            problems.append(Problem(problem, field="reason"))
    if problems:
        raise InputError(problems)
    now = utcnow()
    if ruling == "final":
        # Changed: a re-check revision changed a mark (a re-measurement that gives the same
        # mark, 1.8 mm -> 1.9 mm both 4, is kept in the history but changed no mark).
        changed = any(old != new for old, new in db.session.execute(
            select(MarkRevision.old_value, MarkRevision.new_value)
            .where(MarkRevision.appeal_id == appeal.id)))
        appeal.status = "changed" if changed else "unchanged"
        appeal.final_reason, appeal.final_at, appeal.final_by = reason, now, actor
    else:
        appeal.status = ruling
        appeal.ruling_reason, appeal.ruled_at, appeal.ruled_by = reason, now, actor
    audit("appeal.rule", actor, event, user=user, entry=appeal.entry, appeal=appeal.id,
          ruling=appeal.status, reason=reason)
    db.session.flush()
    return appeal.status


def appoint_arbiter(event: Event, arbiter: User, actor: str, user: User | None = None) -> bool:
    """Put an arbiter's account in the event's arbitration group. Returns whether anything
    changed."""
    return appoint_staff(event, arbiter, "arbiter", actor, user)
