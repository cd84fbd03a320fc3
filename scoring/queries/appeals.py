"""Reads about appeals (申诉): the appeal window, what still holds up the final publication,
and everything the arbitration group (仲裁组) looks at to rule on one appeal: the marks of its
criteria by judge (blind code, judge's name), their spread, every revision, the conflict of
interest checks, and the entry's result when the appeal was received and now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy, rules
from ..extensions import db
from ..labels import mark_text, spread_figure
from ..models import Appeal, Assignment, Criterion, Entry, Event, Mark, MarkRevision, User, utcnow
from .results import event_results


def window_open(event: Event, now: datetime | None = None) -> bool:
    """Is the appeal window open now (the event provisional, its end not reached)?"""
    ends = event.appeal_window_ends_at
    return event.state == "provisional" and ends is not None and (now or utcnow()) < ends


def time_left(event: Event, now: datetime | None = None) -> timedelta | None:
    """What is left of the appeal window (None: not provisional; zero once closed)."""
    ends = event.appeal_window_ends_at
    if event.state != "provisional" or ends is None:
        return None
    return max(ends - (now or utcnow()), timedelta(0))


def when(moment: datetime | None) -> str:
    """A moment as people read it here (the event's time zone)."""
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else "—"


def duration(left: timedelta) -> str:
    """"1 h 05 min" of what is left of a window."""
    minutes = int(left.total_seconds() // 60)
    padded = str(minutes % 60).zfill(2)
    return _("%(hours)s h %(minutes)s min", hours=minutes // 60, minutes=padded)


def event_appeals(event: Event) -> list[Appeal]:
    return list(db.session.scalars(
        select(Appeal).where(Appeal.event_id == event.id)
        .options(joinedload(Appeal.entry).joinedload(Entry.contestant))
        .order_by(Appeal.id)))


def open_appeals(event: Event) -> list[Appeal]:
    """Appeals not yet finally ruled on (received, or re-check ordered)."""
    return [appeal for appeal in event_appeals(event) if appeal.open]


def publish_refusal(event: Event, now: datetime | None = None) -> str | None:
    """Why the final publication is refused now, in words, or None: the results are final
    only once the appeal window has closed and every appeal is ruled on."""
    if event.state != "provisional":
        return None  # policy says why (the state)
    reasons = []
    if window_open(event, now):
        left = time_left(event, now)
        assert left is not None
        reasons.append(_("The appeal window is open until %(time)s (%(left)s left).",
                         time=when(event.appeal_window_ends_at), left=duration(left)))
    waiting = open_appeals(event)
    if waiting:
        reasons.append(_("Appeals not ruled on yet: %(appeals)s.",
                         appeals=", ".join(f"#{appeal.id}" for appeal in waiting)))
    if not reasons:
        return None
    return " ".join([_("The results cannot be published as final yet."), *reasons])


def entry_result(event: Event, entry: Entry) -> dict[str, str]:
    """The entry's rank, total and award in the results now (every mark: by the provisional
    publication every criterion is decoded)."""
    results = event_results(event)
    for result in results.standings.results:
        if result.bib == entry.bib:
            return {"rank": "" if result.rank is None else str(result.rank),
                    "total": "" if result.total is None
                    else f"{result.total:.{results.scheme.decimals}f}",
                    "award": result.award or ""}
    return {"rank": "", "total": "", "award": ""}


def marks_now(event: Event, entry: Entry, codes: list[str]) -> dict[str, dict[str, str]]:
    """criterion code -> judge -> value, of the named criteria of one entry."""
    criteria = {criterion.id: criterion.code for criterion in event.criteria
                if criterion.code in codes}
    found: dict[str, dict[str, str]] = {code: {} for code in codes}
    for mark in db.session.scalars(select(Mark).where(
            Mark.entry_id == entry.id, Mark.criterion_id.in_(criteria))
            .execution_options(populate_existing=True)):
        found[criteria[mark.criterion_id]][mark.judge] = mark_text(mark)
    return found


@dataclass
class JudgeMark:
    mark: Mark | None
    judge: str  # account name (or an import's label)
    name: str  # the judge's display name
    delegation: str | None
    conflict: bool  # the judge's delegation is the entry's: stood aside, or (a mark) should have
    before: str | None  # when the appeal was received
    now: str | None
    revisions: list[MarkRevision] = field(default_factory=list)


@dataclass
class CriterionFile:
    criterion: Criterion
    marks: list[JudgeMark]
    spread_before: Decimal | None
    spread_now: Decimal | None

    @property
    def history(self) -> list[tuple[JudgeMark, MarkRevision]]:
        """Every revision of these marks with its judge's line, oldest first."""
        return sorted(((line, revision) for line in self.marks for revision in line.revisions),
                      key=lambda pair: pair[1].id)

    @property
    def over_limit(self) -> bool:
        limit = self.criterion.max_spread
        if limit is None and self.criterion.kind == "judgement":
            limit = rules.JUDGEMENT_SPREAD  # levels, as the judges' sheets count them
        return limit is not None and self.spread_now is not None and self.spread_now > limit


def spread(criterion: Criterion, values: list[str | None]) -> Decimal | None:
    """How far apart the marks are (the levels, on a judgement criterion)."""
    numbers = [number for number in (spread_figure(criterion, value) for value in values)
               if number is not None]
    return max(numbers) - min(numbers) if len(numbers) >= 2 else None


@dataclass
class AppealFile:
    """Everything about one appeal, for its page, its PDF and the arbiters."""

    appeal: Appeal
    event: Event
    entry: Entry
    criteria: list[CriterionFile]
    result_before: dict[str, str]
    result_now: dict[str, str]
    recheck_revisions: list[MarkRevision]  # the changes made in its re-check
    names: dict[str, str]
    window_ends: datetime | None
    conflict_check: bool

    @property
    def rank_changed(self) -> bool:
        return self.result_before != self.result_now


def appeal_file(appeal: Appeal) -> AppealFile:
    event, entry = appeal.event, appeal.entry
    before = appeal.before
    users = {user.username: user for user in db.session.scalars(select(User))}
    names = {name: (user.display_name or name) for name, user in users.items()}
    assigned: dict[int, list[str]] = {criterion.id: [] for criterion in event.criteria}
    for criterion_id, username in db.session.execute(
            select(Assignment.criterion_id, User.username).join(User)
            .where(Assignment.criterion_id.in_(assigned)).order_by(User.username)):
        assigned[criterion_id].append(username)
    codes = appeal.criteria
    files = []
    for criterion in event.criteria:
        if criterion.code not in codes:
            continue
        marks = {mark.judge: mark for mark in db.session.scalars(
            select(Mark).where(Mark.entry_id == entry.id, Mark.criterion_id == criterion.id)
            .options(joinedload(Mark.revisions))
            .execution_options(populate_existing=True)).unique()}
        old = before.get("marks", {}).get(criterion.code, {})
        judges = list(dict.fromkeys([*old, *marks, *assigned[criterion.id]]))
        lines = []
        for judge in judges:
            user = users.get(judge)
            delegation = user.delegation if user else None
            mark = marks.get(judge)
            lines.append(JudgeMark(
                mark=mark, judge=judge, name=names.get(judge, judge), delegation=delegation,
                conflict=policy.stands_aside(delegation, entry.delegation, True),
                before=old.get(judge), now=mark_text(mark) if mark else None,
                revisions=list(mark.revisions) if mark else []))
        files.append(CriterionFile(criterion, lines,
                                   spread(criterion, [line.before for line in lines]),
                                   spread(criterion, [line.now for line in lines])))
    rechecked = list(db.session.scalars(
        select(MarkRevision).where(MarkRevision.appeal_id == appeal.id)
        .options(joinedload(MarkRevision.mark)).order_by(MarkRevision.id)))
    return AppealFile(appeal=appeal, event=event, entry=entry, criteria=files,
                      result_before=before.get("result", {}),
                      result_now=entry_result(event, entry), recheck_revisions=rechecked,
                      names=names, window_ends=event.appeal_window_ends_at,
                      conflict_check=event.conflict_check)


def rulings(appeal: Appeal) -> list[str]:
    """The rulings an arbiter may record on the appeal now: dismissed or recheck while
    received; the final ruling once a re-check was ordered; none after."""
    if appeal.status == "received":
        return ["dismissed", "recheck"]
    if appeal.status == "recheck":
        return ["final"]
    return []


def summary(appeal: Appeal) -> dict[str, Any]:
    """An appeal as a row (the XLSX sheet, the console)."""
    return {"id": appeal.id, "bib": appeal.entry.bib or "", "name": appeal.entry.contestant.name,
            "delegation": appeal.delegation or "", "criteria": ", ".join(appeal.criteria),
            "text": appeal.text, "received_at": appeal.received_at,
            "received_by": appeal.received_by, "status": appeal.status,
            "ruling_reason": appeal.ruling_reason or "", "ruled_by": appeal.ruled_by or "",
            "ruled_at": appeal.ruled_at, "final_reason": appeal.final_reason or "",
            "final_by": appeal.final_by or "", "final_at": appeal.final_at}
