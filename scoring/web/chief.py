"""The chief judge's pages: the event's whole mark matrix (blind), corrections, lock, history."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError


from .. import audit_words, policy
from ..extensions import db
from ..models import AuditEvent, Entry, Event, Mark, MarkRevision, SpreadConfirmation
from ..operations import marks as marking
from ..operations.events import (
    blind_unfinished, change_state, decode as decode_criteria, decode_refusal,
)
from ..problems import InputError
from ..queries.marks import (
    CriterionProgress, display_names, event_progress, levels_key, matrix, sheets_of,
    spread_levels,
)
from ..rules import parse_whole
from .admin.forms import DecodeForm, LockForm, SpreadForm
from .auth import allowed, role_required

bp = Blueprint("chief", __name__, url_prefix="/chief")
STAFF = ("chief", "organiser")


def event_or_404(code: str) -> Event:
    """The event of a staff page's URL (the console and the exports use it too)."""
    return db.first_or_404(select(Event).where(Event.code == code))


@bp.get("")
@role_required(*STAFF)
def index() -> ResponseReturnValue:
    """The events this person may see here: all for organisers, a chief judge's own."""
    query = select(Event).order_by(Event.id)
    if current_user.role != "organiser":
        query = query.where(Event.id.in_(current_user.chief_of))
    events = db.session.scalars(query).all()
    return render_template("chief/index.html", events=events)


def decoding(event: Event, progress: list[CriterionProgress],
             sheets: dict[int, list[tuple[str, str | None, bool]]],
             form: DecodeForm | None = None) -> list[dict[str, Any]]:
    """Each blind criterion's decoding: done (by whom, when) or its sheets and what stops
    it, with a form for the one just posted (its problems) or a fresh one."""
    rows = []
    open_work = blind_unfinished(event, progress, sheets)
    for criterion in event.criteria:
        if not criterion.blind:
            continue
        posted = form is not None and form.criterion.data == criterion.code
        rows.append({"criterion": criterion, "sheets": sheets[criterion.id],
                     "refusal": None if criterion.decoded_at else decode_refusal(event, criterion,
                                                                                 open_work),
                     "form": form if posted else DecodeForm(formdata=None,
                                                            criterion=criterion.code)})
    return rows


def lock_summary(event: Event, progress: list[CriterionProgress] | None = None,
                 sheets: dict[int, list[tuple[str, str | None, bool]]] | None = None
                 ) -> dict[str, Any]:
    """What a lock leaves behind: the sheets not signed (criterion, judge's name) out of all,
    and the marks still missing per criterion. Locking is allowed all the same."""
    unsigned, count = [], 0
    for criterion in event.criteria:
        for username, name, signed in (sheets[criterion.id] if sheets is not None
                                       else sheets_of(criterion)):
            count += 1
            if not signed:
                unsigned.append((criterion, name or username))
    missing = [(item.criterion, item.expected - item.done)
               for item in (progress if progress is not None else event_progress(event))
               if item.expected > item.done]
    return {"sheets": count, "unsigned": unsigned, "missing": missing}


def spreads(event: Event, entries: list[Entry],
            form: SpreadForm | None = None) -> list[dict[str, Any]]:
    """Each entry's judgement levels further apart than allowed: the levels, and the chief
    judge's confirmation of them as they stand (or a form to confirm them)."""
    by_id = {entry.id: entry for entry in entries}
    found = []
    for criterion in event.criteria:
        flagged = spread_levels(criterion)
        if not flagged:
            continue
        confirmations: dict[tuple[int, str], SpreadConfirmation] = {
            (confirmation.entry_id, confirmation.levels_json): confirmation
            for confirmation in db.session.scalars(select(SpreadConfirmation).where(
                SpreadConfirmation.criterion_id == criterion.id)
                .order_by(SpreadConfirmation.id))}
        for entry_id, levels in sorted(flagged.items(),
                                       key=lambda item: by_id[item[0]].blind_code or ""):
            entry = by_id.get(entry_id)
            if entry is None:
                continue
            posted = form is not None and form.criterion.data == criterion.code \
                and form.code.data == entry.blind_code
            found.append({
                "criterion": criterion, "entry": entry, "levels": sorted(levels.items()),
                "confirmation": confirmations.get((entry_id, levels_key(levels))),
                "form": form if posted else SpreadForm(formdata=None, data={
                    "criterion": criterion.code, "code": entry.blind_code,
                    "levels": levels_key(levels)}),
            })
    return found


def matrix_page(event: Event, lock_form: LockForm | None = None,
                decode_form: DecodeForm | None = None, decode_problem: str | None = None,
                spread_form: SpreadForm | None = None) -> str:
    entries, judges, groups = matrix(event)
    flagged = spreads(event, entries, spread_form)
    # A refused confirmation whose row shows no form (confirmed meanwhile, or gone): above.
    spread_problem = None
    if spread_form is not None and spread_form.reason.errors and not any(
            item["form"] is spread_form and item["confirmation"] is None for item in flagged):
        spread_problem = spread_form.reason.errors[0]
    # Read once for the lock's summary and the decoding section alike.
    progress = event_progress(event)
    sheets = {criterion.id: sheets_of(criterion) for criterion in event.criteria}
    flags = {
        "spread": sum(group.spread for group in groups.values()),
        "missing": sum(cell.missing for group in groups.values() for cell in group.cells),
        "extreme": sum(cell.extreme for group in groups.values() for cell in group.cells),
    }
    return render_template("chief/matrix.html", event=event, entries=entries, judges=judges,
                           judge_names=display_names(), groups=groups, flags=flags,
                           lock_form=lock_form or LockForm(formdata=None),
                           summary=lock_summary(event, progress, sheets) if policy.can(
                               "lock", event, current_user) else None,
                           decoding=decoding(event, progress, sheets, decode_form),
                           decode_problem=decode_problem,
                           spreads=flagged, spread_problem=spread_problem)


@bp.get("/<event_code>")
@role_required(*STAFF)
def event_matrix(event_code: str) -> ResponseReturnValue:
    event = event_or_404(event_code)
    allowed("view", event)
    return matrix_page(event)


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
    allowed("correct", event)
    mark = mark_of_event(event, mark_id)
    outcome = None
    if request.method == "POST":
        try:
            outcome = marking.chief_correct(current_user, event, mark,
                                            request.form.get("value", ""),
                                            request.form.get("reason", "")[:2001],
                                            parse_whole(request.form.get("version")))
            db.session.commit() if outcome.changed else db.session.rollback()
        except StaleDataError:  # changed by someone else between the read and the write
            db.session.rollback()
            outcome = marking.conflict(db.session.get(Mark, mark.id), request.form.get("value", ""))
    return render_template("chief/_correct.html", event=event, mark=mark, outcome=outcome,
                           reason=request.form.get("reason", ""))


@bp.post("/<event_code>/lock")
@role_required(*STAFF)
def lock(event_code: str) -> ResponseReturnValue:
    """Lock scoring, ticked as confirmed and refused when the event is no longer in the state
    the page showed (a second post of the same page): the page again, 4xx, nothing written."""
    event = event_or_404(event_code)
    allowed("lock", event)
    form = LockForm()
    if not form.validate():
        return matrix_page(event, lock_form=form), 422
    try:
        change_state(event, "lock", current_user.username, user=current_user,
                     expected_state=form.from_state.data)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        form.refuse(error, default="confirm")
        return matrix_page(event, lock_form=form), 409
    return redirect(url_for("chief.event_matrix", event_code=event.code), 303)


@bp.post("/<event_code>/decode")
@role_required(*STAFF)
def decode(event_code: str) -> ResponseReturnValue:
    """Decode one blind criterion, ticked as confirmed; a second click finds it decoded."""
    event = event_or_404(event_code)
    allowed("decode", event)
    form = DecodeForm()
    blind = {criterion.code for criterion in event.criteria if criterion.blind}
    if form.criterion.data not in blind:  # not one of the page's (a forged or stale post)
        return matrix_page(event, decode_problem=_("No such blind criterion in this event."),
                           decode_form=form), 422
    if form.validate():
        try:
            decode_criteria(event, [form.criterion.data or ""], current_user.username,
                            user=current_user)
            db.session.commit()
            return redirect(url_for("chief.event_matrix", event_code=event.code,
                                    _anchor="decoding"), 303)
        except InputError as error:
            db.session.rollback()
            form.refuse(error, default="confirm")
    return matrix_page(event, decode_form=form), 422


@bp.post("/<event_code>/spread")
@role_required("chief")
def confirm_spread(event_code: str) -> ResponseReturnValue:
    """Confirm one entry's judgement levels that are too far apart, with a reason: the
    judges' sheets can then be signed with them as they stand."""
    event = event_or_404(event_code)
    allowed("correct", event)
    form = SpreadForm()
    criterion = next((criterion for criterion in event.criteria
                      if criterion.code == form.criterion.data
                      and criterion.kind == "judgement"), None)
    entry = db.session.scalar(select(Entry).where(
        Entry.event_id == event.id, Entry.blind_code == (form.code.data or ""))) \
        if form.code.data else None
    if criterion is None or entry is None:
        form.reason.errors = [_("No such flagged entry in this event: reload the page.")]
        return matrix_page(event, spread_form=form), 422
    if form.validate():
        problem = marking.confirm_spread(current_user, event, entry, criterion,
                                         (form.reason.data or "")[:2001], form.levels.data or "")
        if problem is None:
            db.session.commit()
            return redirect(url_for("chief.event_matrix", event_code=event.code,
                                    _anchor="spreads"), 303)
        db.session.rollback()
        form.reason.errors = [problem]
    return matrix_page(event, spread_form=form), 422


@bp.get("/<event_code>/history")
@role_required(*STAFF)
def history(event_code: str) -> ResponseReturnValue:
    """Every revision of every mark and every audit record of the event, newest first."""
    event = event_or_404(event_code)
    allowed("view", event)
    revisions = db.session.scalars(
        select(MarkRevision).join(Mark).join(Entry).where(Entry.event_id == event.id)
        .options(joinedload(MarkRevision.mark).joinedload(Mark.entry),
                 joinedload(MarkRevision.mark).joinedload(Mark.criterion))
        .order_by(MarkRevision.id.desc()).limit(2000)).all()
    records = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event_id == event.id)
        .order_by(AuditEvent.id.desc()).limit(500)).all()
    # In words, as on the console's audit log: people by their names, actions and details
    # in the reader's language (scoring/audit_words.py); the stored codes stay in the XLSX.
    namer, rows = audit_words.said(records)
    return render_template("chief/history.html", event=event, revisions=revisions,
                           rows=rows, person=namer.person, criterion_name=namer.criterion)
