"""Console: competitions, events and their schemes (form or TOML), the draw, the lifecycle,
progress and the audit log."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from flask import abort, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ... import audit_words, operations, policy, rules
from ...extensions import db
from ...files.pdf import DrawLine, codes_pdf, draw_record_pdf
from ...inputs import SchemeFile
from ...models import AuditEvent, Competition, Contestant, Entry, Event, User
from ...operations import events as event_operations
from ...problems import InputError
from ...queries import appeals as appeal_queries
from ...queries.marks import event_progress
from ..chief import lock_summary
from ..exports import download, file_name
from . import bp, console_event, organisers_only, sent_back
from .forms import (
    POSTED, AuditFilterForm, CompetitionForm, DrawForm, NewEventForm, NewEventUploadForm,
    CONFIRMED_STEPS, RecodeForm, SchemeForm, SchemeUploadForm, StateForm, VisibilityForm,
)


# --- competitions -------------------------------------------------------------------------

@bp.post("/competitions")
def create_competition() -> ResponseReturnValue:
    organisers_only()
    form = CompetitionForm()
    if not form.validate_on_submit():
        return sent_back("admin.dashboard", form)
    name = form.name.data
    if db.session.scalar(select(Competition).where(Competition.name == name)) is None:
        db.session.add(Competition(name=name))
        operations.audit("competition.create", current_user.username, user=current_user,
                         name=name)
        db.session.commit()
    return redirect(url_for("admin.dashboard"))


# --- the scheme: the form, or a file --------------------------------------------------------

def scheme_form(event: Event | None, formdata: Any = POSTED) -> SchemeForm:
    """The scheme editor's fields (a new event's, with its competition)."""
    return NewEventForm(formdata) if event is None else SchemeForm(formdata, event=event)


def upload_form(event: Event | None, formdata: Any = POSTED) -> SchemeUploadForm:
    """The editor's other form: a scheme file instead of the fields."""
    return NewEventUploadForm(formdata) if event is None \
        else SchemeUploadForm(formdata, event=event)


def editor(event: Event | None, form: SchemeForm, upload: SchemeUploadForm,
           status: int = 200) -> ResponseReturnValue:
    form.add_blank_rows()
    return render_template("admin/scheme.html", event=event, form=form, upload=upload,
                           locked=event is not None and operations.event_has_marks(event)
                           ), status


@bp.route("/events/new", methods=["GET", "POST"])
def new_event() -> ResponseReturnValue:
    organisers_only()
    if "scheme_file" in request.files:
        return upload_scheme(None)
    form, upload = scheme_form(None), upload_form(None)
    if not form.validate_on_submit():
        return editor(None, form, upload, 422 if form.is_submitted() else 200)
    assert isinstance(form, NewEventForm) and form.checked is not None
    checked = dataclasses.replace(form.checked, competition=form.competition_name())
    return save_scheme(None, checked, form, upload)


def upload_scheme(event: Event | None) -> ResponseReturnValue:
    form, upload = scheme_form(event, formdata=None), upload_form(event)
    if not upload.validate_on_submit():
        return editor(event, form, upload, 422)
    checked = upload.checked
    assert checked is not None
    if isinstance(upload, NewEventUploadForm):
        checked = dataclasses.replace(
            checked, competition=checked.competition or upload.competition_name())
    return save_scheme(event, checked, form, upload, upload.filename)


def save_scheme(event: Event | None, checked: SchemeFile, form: SchemeForm,
                upload: SchemeUploadForm, source: str = "form") -> ResponseReturnValue:
    """Create the event of a checked scheme, or replace its scheme; if the operation refuses,
    the page again with its problems above the form."""
    try:
        saved, _created = event_operations.import_scheme(checked, current_user.username,
                                                         source, user=current_user)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        form.problems.extend(error.lines())
        return editor(event, form, upload, 422)
    return redirect(url_for("admin.event_page", code=saved.code))


def result_neutral(scheme: rules.Scheme) -> rules.Scheme:
    """The scheme without what cannot change a result (names, the spread limit)."""
    return dataclasses.replace(
        scheme, name="",
        sections=tuple(dataclasses.replace(section, name="") for section in scheme.sections),
        criteria=tuple(dataclasses.replace(criterion, name="", max_spread=None)
                       for criterion in scheme.criteria))


@bp.route("/events/<code>/scheme", methods=["GET", "POST"])
def edit_scheme(code: str) -> ResponseReturnValue:
    event = console_event(code, "edit_scheme")
    if "scheme_file" in request.files:
        return upload_scheme(event)
    form, upload = scheme_form(event), upload_form(event, formdata=None)
    if not form.validate_on_submit():
        return editor(event, form, upload, 422 if form.is_submitted() else 200)
    assert form.checked is not None
    if not operations.event_has_marks(event):
        return save_scheme(event, form.checked, form, upload)
    if result_neutral(form.checked.scheme) != result_neutral(event.to_scheme()):
        form.problems.append(_(
            "This event has marks: only names and the spread limit may still change."))
        return editor(event, form, upload, 409)
    try:
        event_operations.rename_scheme(event, form.checked.scheme, current_user.username,
                                       user=current_user)
    except InputError as error:
        db.session.rollback()
        form.problems.extend(error.lines())
        return editor(event, form, upload, 409)
    db.session.commit()
    return redirect(url_for("admin.event_page", code=event.code))


# --- the event page and its lifecycle -----------------------------------------------------

def event_view(event: Event, state: StateForm | None = None,
               status: int = 200) -> ResponseReturnValue:
    """The event page; `state`: a refused post of its lifecycle form, whose problems are
    shown beside the tick (or the reason) of the step the page offers now."""
    entries = db.session.scalars(select(Entry).where(Entry.event_id == event.id)).all()
    state = state or StateForm(formdata=None)
    visibility = VisibilityForm(formdata=None, data={"visibility": event.visibility}).offer(event)
    problem, field = request.args.get("problem"), request.args.get("field")
    if state.show(field, problem) or visibility.show(field, problem):
        problem = None
    step = next((action for action in CONFIRMED_STEPS if policy.can(action, event,
                                                                       current_user)), None)
    return render_template("admin/event.html", event=event, entries=entries, problem=problem,
                           state=state, visibility_form=visibility, step=step,
                           summary=lock_summary(event) if step == "lock" else None,
                           open_appeals=appeal_queries.open_appeals(event),
                           appeals=len(appeal_queries.event_appeals(event)),
                           left=appeal_queries.time_left(event),
                           publish_refusal=appeal_queries.publish_refusal(event)), status


@bp.get("/events/<code>")
def event_page(code: str) -> ResponseReturnValue:
    return event_view(console_event(code))


@bp.post("/events/<code>/state")
def change_state(code: str) -> ResponseReturnValue:
    """Open, lock, publish (each ticked, and refused when the event is no longer in the
    state the page showed) or reopen (with a reason). A refused post: the page again, 4xx,
    the problem beside the tick, nothing written."""
    event = console_event(code)
    form = StateForm()
    if not form.validate_on_submit():
        return event_view(event, form, 422)
    try:
        event_operations.change_state(event, form.action.data or "", current_user.username,
                                      user=current_user, reason=form.reason.data or "",
                                      expected_state=form.expected_state())
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        form.refuse(error, default="reason" if form.action.data == "reopen" else "confirm")
        return event_view(event, form, 409)
    return redirect(url_for("admin.event_page", code=code))


@bp.post("/events/<code>/visibility")
def set_visibility(code: str) -> ResponseReturnValue:
    event = console_event(code, "visibility")
    form = VisibilityForm()
    if not form.validate_on_submit():
        return sent_back("admin.event_page", form, code=code)
    if form.visibility.data == "published" and event.state != "published":
        # Publishing is the lifecycle's step, which asks for a tick first: not a menu choice.
        form.visibility.errors = [_("Results are published with the step “Publish” above, "
                                    "which asks you to confirm first.")]
        return sent_back("admin.event_page", form, code=code)
    try:
        event_operations.set_visibility(event, form.visibility.data or "",
                                        current_user.username, user=current_user)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        form.refuse(error, fields={"VISIBILITY": "visibility"})
        return sent_back("admin.event_page", form, code=code)
    return redirect(url_for("admin.event_page", code=code))


@bp.app_template_global()
def visibility_form_for(event: Event) -> VisibilityForm:
    """The public board's form on a page that did not make one (the chief's matrix)."""
    return VisibilityForm(formdata=None, data={"visibility": event.visibility}).offer(event)


# --- the draw and the sealed code list -------------------------------------------------------

def draw_record(event: Event) -> AuditEvent | None:
    """The event's latest draw, as the audit log holds it."""
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.event_id == event.id, AuditEvent.action == "draw")
        .order_by(AuditEvent.id.desc())).first()


def draw_page(event: Event, form: DrawForm, recode_form: RecodeForm,
              status: int = 200) -> ResponseReturnValue:
    """The draw: its form, the public draw record (no blind code), and for organisers when
    the codes were made, the link to the sealed code list and the form to make new ones."""
    record = draw_record(event)
    entries = sorted(event.entries, key=lambda entry: (entry.draw_order or 0,
                                                        rules.natural_key(entry.bib)))
    codes = event_operations.codes_record(event)
    coded = sum(1 for entry in event.entries if entry.blind_code)
    if not recode_form.generation.data:
        recode_form.generation.data = str(codes.id if codes else 0)
    form.drawn.data = str(record.id if record else 0)  # the draw the page shows, now
    return render_template(
        "admin/draw.html", event=event, record=record, entries=entries, form=form,
        recode_form=recode_form, codes=codes, coded=coded,
        recode_refusal=policy.refusal("recode", event, current_user),
        sees_codes=policy.holds("codes", event, current_user)), status


@bp.route("/events/<code>/draw", methods=["GET", "POST"])
def draw(code: str) -> ResponseReturnValue:
    """The draw page, and drawing lots. Once lots are drawn, drawing again replaces the draw
    and every blind code: it needs the tick, and the page's draw must still be the latest
    (a second post of the same page is refused, nothing written)."""
    event = console_event(code)
    form = DrawForm()
    status = 200
    if form.validate_on_submit():
        operations.lock_event(event)  # the draw seen and the draw made: one at a time
        record = draw_record(event)
        refusal = policy.refusal("draw", event, current_user)
        if refusal:
            form.problems.append(refusal)
            status = 409
        elif form.seen() != (record.id if record else 0):
            form.confirm.errors = [_("Nothing was done: the lots were drawn again meanwhile. "
                                     "Look at the draw below.")]
            status = 409
        elif record is not None and not form.confirm.data:
            form.confirm.errors = [_("Tick the box to confirm: drawing again replaces the draw "
                                     "and every blind code.")]
            status = 422
        else:
            try:
                event_operations.draw_lots(event, current_user.username, form.seed.data,
                                           user=current_user)
                db.session.commit()
                return redirect(url_for("admin.draw", code=code))
            except InputError as error:
                db.session.rollback()
                form.refuse(error)
                status = 409
        db.session.rollback()
    elif form.is_submitted():
        status = 422
    return draw_page(event, form, RecodeForm(formdata=None), status)


@bp.post("/events/<code>/recode")
def recode(code: str) -> ResponseReturnValue:
    """New blind codes (two-stage coding), ticked as confirmed. A second post of the same
    page (a double click) is refused: the codes it saw were already replaced."""
    event = console_event(code, "recode")
    form = RecodeForm()
    status = 422
    if form.validate():
        try:
            event_operations.recode(event, current_user.username, user=current_user,
                                    seen=form.seen())
            db.session.commit()
            return redirect(url_for("admin.draw", code=code, _anchor="codes"), 303)
        except InputError as error:
            db.session.rollback()
            form.refuse(error, default="confirm")
            status = 409
    form.generation.data = ""  # the page shows the codes' record as it is now
    return draw_page(event, DrawForm(formdata=None), form, status)


@bp.get("/events/<code>/draw.pdf")
def draw_pdf(code: str) -> ResponseReturnValue:
    """The public draw record as PDF: bib, name, delegation, station, order; no blind code."""
    event = console_event(code)
    record = draw_record(event)
    if record is None:
        abort(404)
    lines = [DrawLine(order=entry.draw_order, bib=entry.bib, name=entry.contestant.name,
                      delegation=entry.delegation or "", station=entry.station)
             for entry in sorted(event.entries, key=lambda entry: (
                 entry.draw_order or 0, rules.natural_key(entry.bib)))
             if entry.draw_order]
    data = draw_record_pdf(event, lines, record.actor, record.created_at,
                           record.details.get("seed"))
    return download(data, "pdf", file_name(event, "draw", "pdf"))


def sealed_list(event: Event) -> Any:
    try:
        return event_operations.code_list(event)
    except InputError:
        abort(404)


@bp.get("/events/<code>/codes")
def codes(code: str) -> ResponseReturnValue:
    """The sealed code list (organisers only): bib and blind code, nothing else about anyone.
    Every look at it is in the audit log."""
    event = console_event(code, "codes")
    listing = sealed_list(event)
    operations.audit("codes.export", current_user.username, event, user=current_user,
                     format="html", via="web", count=listing.count,
                     address=request.remote_addr)
    db.session.commit()
    response = make_response(render_template(
        "admin/codes.html", event=event, listing=listing,
        printed_at=datetime.now().astimezone()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/events/<code>/codes.pdf")
def codes_pdf_download(code: str) -> ResponseReturnValue:
    event = console_event(code, "codes")
    listing = sealed_list(event)
    data = codes_pdf(listing)
    operations.audit("codes.export", current_user.username, event, user=current_user,
                     format="pdf", via="web", count=listing.count,
                     address=request.remote_addr)
    db.session.commit()
    return download(data, "pdf", file_name(event, "codes", "pdf"))


# --- progress -------------------------------------------------------------------------------

@dataclasses.dataclass
class JudgeLine:
    username: str | None  # None: the marks an import must bring
    name: str  # the display name (the account name when it has none)
    done: int
    expected: int
    owed: list[str]  # the blind codes (or bibs) whose mark is missing


def progress_lines(event: Event) -> list[tuple[Any, list[JudgeLine]]]:
    """event_progress (the one count) per criterion, with a line per judge: their count and
    the codes they still owe; a last line without a judge for what an import must bring."""
    names = dict(db.session.execute(select(User.username, User.display_name)).all())
    result = []
    for item in event_progress(event):
        owed: dict[str | None, list[str]] = {}
        for code_, judge in item.missing:
            owed.setdefault(judge, []).append(code_)
        lines = [JudgeLine(judge, names.get(judge) or judge, done, expected, owed.get(judge, []))
                 for judge, (done, expected) in item.judges.items()]
        if None in owed:
            lines.append(JudgeLine(None, _("(import)"), 0, 0, owed[None]))
        result.append((item, lines))
    return result


def progress_context(event: Event) -> dict[str, Any]:
    lines = progress_lines(event)
    return {"event": event, "by_criterion": lines,
            "total": (sum(item.done for item, _lines in lines),
                      sum(item.expected for item, _lines in lines)),
            # The figures refresh by themselves while judges can enter marks; a locked event's
            # partial comes back without the trigger, which ends the polling.
            "live": event.state == "scoring", "poll": PROGRESS_POLL_SECONDS}


PROGRESS_POLL_SECONDS = 10


@bp.get("/events/<code>/progress")
def progress(code: str) -> ResponseReturnValue:
    event = console_event(code)
    return render_template("admin/progress.html", **progress_context(event))


@bp.get("/events/<code>/progress/figures")
def progress_figures(code: str) -> ResponseReturnValue:
    """The progress page's figures alone, for its polling (htmx)."""
    event = console_event(code)
    return render_template("admin/_progress.html", **progress_context(event))


# --- the audit log -------------------------------------------------------------------------

@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    organisers_only()
    form = AuditFilterForm(
        events=db.session.scalars(select(Event).order_by(Event.code)).all(),
        users=db.session.scalars(select(User.username).order_by(User.username)).all(),
        actions=db.session.scalars(select(AuditEvent.action).distinct()
                                   .order_by(AuditEvent.action)).all())
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(500)
    if form.event.data:
        query = query.join(Event, AuditEvent.event_id == Event.id).where(
            Event.code == form.event.data)
    if form.user.data:
        query = query.where(AuditEvent.actor == form.user.data)
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    if form.contestant.data:
        entry_ids = select(Entry.id).join(Entry.contestant).where(
            (Entry.bib == form.contestant.data) | (Contestant.name == form.contestant.data))
        query = query.where(AuditEvent.entry_id.in_(entry_ids))
    records = db.session.scalars(query).all()
    # In words (scoring/audit_words.py): the action's label, the details as pairs, people by
    # their display names; the raw code stays in the filter's values and the XLSX.
    namer, rows = audit_words.said(records)
    form.user.offer([("", "—"), *((choice.value, namer.person(choice.value))
                                  for choice in form.user.choices[1:])])
    form.action.offer([("", "—"), *sorted(
        ((choice.value, audit_words.action_label(choice.value))
         for choice in form.action.choices[1:]), key=lambda choice: choice[1])])
    return render_template("admin/audit.html", rows=rows, form=form)
