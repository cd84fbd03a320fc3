"""The chief judge's pages: the event's whole mark matrix (blind), corrections, lock, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import marking
from .auth import role_required
from .extensions import db
from .models import Assignment, AuditEvent, Criterion, Entry, Event, Mark, MarkRevision, User
from .rules import parse_whole

bp = Blueprint("chief", __name__, url_prefix="/chief")
STAFF = ("chief", "organiser")


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


def event_or_404(code: str) -> Event:
    """The event of a staff page's URL (the console and the exports use it too)."""
    return db.first_or_404(select(Event).where(Event.code == code))


def matrix(event: Event) -> tuple[list[Entry], dict[int, list[str]], dict[tuple[int, int], Group]]:
    """Entries by blind code, each criterion's judges, and the cell groups with flags."""
    entries = marking.markable_entries(event)
    marks: dict[tuple[int, int], dict[str, Mark]] = {}
    for mark in db.session.scalars(select(Mark).join(Entry).where(Entry.event_id == event.id)):
        marks.setdefault((mark.entry_id, mark.criterion_id), {})[mark.judge] = mark
    assigned: dict[int, list[User]] = {}
    for assignment in db.session.scalars(
            select(Assignment).join(Criterion).where(Criterion.event_id == event.id)
            .options(joinedload(Assignment.user))):
        assigned.setdefault(assignment.criterion_id, []).append(assignment.user)
    judges = {}
    for criterion in event.criteria:
        names = {user.username for user in assigned.get(criterion.id, [])}
        names.update(judge for (entry_id, criterion_id), by_judge in marks.items()
                     if criterion_id == criterion.id for judge in by_judge)
        judges[criterion.id] = sorted(names)
    groups = {}
    for entry in entries:
        for criterion in event.criteria:
            by_judge = marks.get((entry.id, criterion.id), {})
            users = {user.username: user for user in assigned.get(criterion.id, [])}
            group = Group()
            for judge in judges[criterion.id]:
                mark = by_judge.get(judge)
                user = users.get(judge)
                expected = (entry.status == "ok" and user is not None
                            and not marking.has_conflict(user, event, entry))
                group.cells.append(Cell(
                    judge, mark, missing=mark is None and expected,
                    extreme=mark is not None and mark.value in (Decimal(0), criterion.max_value)))
            values = [mark.value for mark in by_judge.values()]
            group.spread = (criterion.max_spread is not None and len(values) >= 2
                            and max(values) - min(values) > criterion.max_spread)
            groups[(entry.id, criterion.id)] = group
    return entries, judges, groups


@bp.get("")
@role_required(*STAFF)
def index() -> ResponseReturnValue:
    events = db.session.scalars(select(Event).order_by(Event.id)).all()
    return render_template("chief/index.html", events=events)


def matrix_page(event: Event, lock_problem: str | None = None) -> str:
    entries, judges, groups = matrix(event)
    flags = {
        "spread": sum(group.spread for group in groups.values()),
        "missing": sum(cell.missing for group in groups.values() for cell in group.cells),
        "extreme": sum(cell.extreme for group in groups.values() for cell in group.cells),
    }
    return render_template("chief/matrix.html", event=event, entries=entries, judges=judges,
                           groups=groups, flags=flags, lock_problem=lock_problem)


@bp.get("/<event_code>")
@role_required(*STAFF)
def event_matrix(event_code: str) -> ResponseReturnValue:
    return matrix_page(event_or_404(event_code))


def mark_of_event(event: Event, mark_id: int) -> Mark:
    mark = db.session.get(Mark, mark_id)
    if mark is None or mark.entry.event_id != event.id:
        abort(404)
    return mark


@bp.route("/<event_code>/marks/<int(max=2147483647):mark_id>", methods=["GET", "POST"])
@role_required("chief")
def correct(event_code: str, mark_id: int) -> ResponseReturnValue:
    """The correction form (GET) and the correction itself (POST, a reason required)."""
    event = event_or_404(event_code)
    mark = mark_of_event(event, mark_id)
    outcome = None
    if request.method == "POST":
        outcome = marking.chief_correct(current_user, event, mark, request.form.get("value", ""),
                                        request.form.get("reason", "")[:2000],
                                        parse_whole(request.form.get("version")))
    return render_template("chief/_correct.html", event=event, mark=mark, outcome=outcome,
                           reason=request.form.get("reason", ""))


@bp.post("/<event_code>/lock")
@role_required("chief")
def lock(event_code: str) -> ResponseReturnValue:
    event = event_or_404(event_code)
    problem = marking.lock_scoring(current_user, event)
    return matrix_page(event, problem), (200 if problem is None else 409)


@bp.get("/<event_code>/history")
@role_required(*STAFF)
def history(event_code: str) -> ResponseReturnValue:
    """Every revision of every mark and every audit record of the event, newest first."""
    event = event_or_404(event_code)
    revisions = db.session.scalars(
        select(MarkRevision).join(Mark).join(Entry).where(Entry.event_id == event.id)
        .options(joinedload(MarkRevision.mark).joinedload(Mark.entry),
                 joinedload(MarkRevision.mark).joinedload(Mark.criterion))
        .order_by(MarkRevision.id.desc()).limit(2000)).all()
    records = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event_id == event.id)
        .order_by(AuditEvent.id.desc()).limit(500)).all()
    return render_template("chief/history.html", event=event, revisions=revisions,
                           records=records)
