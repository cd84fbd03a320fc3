"""Appeals (申诉): the organisers record them while the results are provisional, the event's
arbiters (仲裁组) see everything about one and rule, the chief judge re-checks the marks a
ruling names. Judges never see an appeal. Each appeal's page is its printable file; its PDF
is the same file for signing."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import policy
from ..extensions import db
from ..files.pdf import appeal_pdf
from ..models import Appeal, Event, Mark
from ..operations import appeals as appeal_operations
from ..operations import audit
from ..operations import marks as marking
from ..problems import InputError
from ..queries import appeals as appeal_queries
from ..rules import parse_whole
from .admin.forms import RULING_CHOICES, AppealForm, RulingForm
from .auth import allowed, role_required
from .chief import event_or_404
from .exports import download, file_name

bp = Blueprint("appeals", __name__, url_prefix="/appeals")
SEE = ("organiser", "chief", "arbiter")  # judges never see an appeal


@bp.app_template_global("duration")
def duration(left: object) -> str:
    """What is left of an appeal window, in words (for the templates)."""
    return appeal_queries.duration(left)  # type: ignore[arg-type]


@bp.get("")
@role_required(*SEE)
def index() -> ResponseReturnValue:
    """The events whose appeals this person may see, with what is open in each."""
    events = [event for event in db.session.scalars(select(Event).order_by(Event.id))
              if policy.holds("appeals", event, current_user)]
    rows = [(event, appeal_queries.open_appeals(event), appeal_queries.time_left(event))
            for event in events]
    return render_template("appeals/index.html", rows=rows)


def appeal_form(event: Event, formdata: object = None) -> AppealForm:
    form = AppealForm() if formdata is None else AppealForm(formdata=formdata)
    form.criteria.choices = [(criterion.code, f"{criterion.code} {criterion.name}")
                             for criterion in event.criteria]
    return form


def event_appeals_page(event: Event, form: AppealForm | None = None,
                       status: int = 200) -> ResponseReturnValue:
    return render_template(
        "appeals/event.html", event=event, appeals=appeal_queries.event_appeals(event),
        form=form or appeal_form(event, formdata={}),
        left=appeal_queries.time_left(event), window_open=appeal_queries.window_open(event),
        ends=event.appeal_window_ends_at,
        publish_refusal=appeal_queries.publish_refusal(event),
        file_refusal=policy.refusal("file_appeal", event, current_user)), status


@bp.route("/<event_code>", methods=["GET", "POST"])
@role_required(*SEE)
def event_appeals(event_code: str) -> ResponseReturnValue:
    """An event's appeals and the appeal window; organisers record an appeal here."""
    event = event_or_404(event_code)
    allowed("appeals", event)
    if request.method == "GET":
        return event_appeals_page(event)
    allowed("file_appeal", event)
    form = appeal_form(event)
    if not form.validate():
        return event_appeals_page(event, form, 422)
    try:
        appeal = appeal_operations.file_appeal(
            event, form.bib.data or "", form.criteria.data or [], form.text.data or "",
            current_user.username, user=current_user, delegation=form.delegation.data)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        form.refuse(error, default="text")
        return event_appeals_page(event, form, 409)
    return redirect(url_for("appeals.appeal_page", event_code=event.code,
                            appeal_id=appeal.id), 303)


def find(event: Event, appeal_id: int) -> Appeal:
    try:
        return appeal_operations.find_appeal(appeal_id, event)
    except InputError:
        abort(404)


def appeal_view(event: Event, appeal_id: int, ruling: RulingForm | None = None,
                recheck: dict[int, object] | None = None, status: int = 200
                ) -> ResponseReturnValue:
    appeal = find(event, appeal_id)
    record = appeal_queries.appeal_file(appeal)
    choices = appeal_queries.rulings(appeal)
    form = ruling or RulingForm(formdata=None, data={"seen": appeal.status})
    form.ruling.offer([(value, label) for value, label in RULING_CHOICES if value in choices])
    form.seen.data = appeal.status if ruling is None else form.seen.data
    return render_template(
        "appeals/appeal.html", event=event, appeal=appeal, record=record, form=form,
        may_rule=bool(choices) and policy.can("rule", event, current_user),
        may_recheck=appeal.status == "recheck" and policy.can("recheck", event, current_user),
        recheck=recheck or {}, printed_at=datetime.now().astimezone()), status


@bp.get("/<event_code>/<int(max=2147483647):appeal_id>")
@role_required(*SEE)
def appeal_page(event_code: str, appeal_id: int) -> ResponseReturnValue:
    """One appeal: its file (the appeal, the marks before and now by judge, their history,
    the conflict checks, the rulings), printable; the ruling's form for arbiters, the
    re-check's for the chief judge."""
    event = event_or_404(event_code)
    allowed("appeals", event)
    return appeal_view(event, appeal_id)


@bp.post("/<event_code>/<int(max=2147483647):appeal_id>/rule")
@role_required("arbiter")
def rule(event_code: str, appeal_id: int) -> ResponseReturnValue:
    event = event_or_404(event_code)
    allowed("rule", event)
    appeal = find(event, appeal_id)
    form = RulingForm()
    if not form.validate():
        if form.seen.errors:
            form.reason.errors = [*form.reason.errors, *form.seen.errors]
        return appeal_view(event, appeal_id, ruling=form, status=422)
    try:
        appeal_operations.rule(appeal, form.ruling.data or "", form.reason.data or "",
                               current_user.username, user=current_user,
                               seen_status=form.seen.data)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        form.refuse(error, default="reason")
        return appeal_view(event, appeal_id, ruling=form, status=409)
    return redirect(url_for("appeals.appeal_page", event_code=event.code,
                            appeal_id=appeal_id), 303)


@bp.post("/<event_code>/<int(max=2147483647):appeal_id>/marks/<int(max=2147483647):mark_id>")
@role_required("chief")
def recheck(event_code: str, appeal_id: int, mark_id: int) -> ResponseReturnValue:
    """The chief judge changes one mark in the re-check the ruling ordered (a reason
    required); the page again with the outcome beside the mark."""
    event = event_or_404(event_code)
    allowed("recheck", event)
    appeal = find(event, appeal_id)
    mark = db.session.get(Mark, mark_id)
    if mark is None or mark.entry.event_id != event.id:
        abort(404)
    typed = request.form.get("value", "")[:40]
    try:
        outcome = marking.chief_correct(current_user, event, mark, typed,
                                        request.form.get("reason", "")[:2001],
                                        parse_whole(request.form.get("version")), appeal=appeal)
        db.session.commit() if outcome.changed else db.session.rollback()
    except StaleDataError:
        db.session.rollback()
        outcome = marking.conflict(db.session.get(Mark, mark_id), typed)
    if outcome.state == "saved":
        return redirect(url_for("appeals.appeal_page", event_code=event.code,
                                appeal_id=appeal_id, _anchor=f"mark-{mark_id}"), 303)
    return appeal_view(event, appeal_id, recheck={mark_id: outcome},
                       status=409 if outcome.state in ("refused", "conflict") else 422)


@bp.get("/<event_code>/<int(max=2147483647):appeal_id>.pdf")
@role_required(*SEE)
def appeal_file_pdf(event_code: str, appeal_id: int) -> ResponseReturnValue:
    """The appeal's file as PDF, with lines for the signatures."""
    event = event_or_404(event_code)
    allowed("appeals", event)
    appeal = find(event, appeal_id)
    data = appeal_pdf(appeal_queries.appeal_file(appeal))
    audit("appeal.export", current_user.username, event, user=current_user,
          entry=appeal.entry, appeal=appeal.id, format="pdf", via="web")
    db.session.commit()
    return download(data, "pdf", file_name(event, f"appeal-{appeal.id}", "pdf"))
