"""The judges' tablet pages: home with progress, blind mark sheets, instant saves, sign-off.

Nothing on these pages, in their addresses or ids leads from a blind code to a person: a row
of a blind criterion is named by the entry's blind code and shows nothing else, a row of
another criterion by the entry's random sheet key (queries.marks.sheet_key); never an entry's
id, bib, order, name or delegation."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, redirect, render_template, \
    request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import policy
from ..extensions import db
from ..models import Assignment, Criterion, Entry, Event, Mark
from ..operations import marks as marking
from ..queries import marks as sheets
from ..rules import parse_whole
from .admin.forms import SignForm
from .auth import role_required

bp = Blueprint("judging", __name__, url_prefix="/judge")
JUDGES = ("judge", "chief")
# A blind code (letters and digits) or a sheet key (url-safe base64): anything else names
# no entry, and is not even looked for.
KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker that keeps the judge's pages for a tablet gone offline
    (static/js/sw.js). Served here, not from /static/, so that it may control /judge and the
    pages below it and nothing else: public, console and chief pages never pass through it.
    Its scope "/judge" (the home has no trailing slash) is above the script's own folder,
    hence Service-Worker-Allowed. Code only, the same for everyone: no sign-in needed."""
    script = Path(current_app.static_folder or "static", "js", "sw.js")
    response = Response(script.read_text(encoding="utf-8"), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("judging.home")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_request
def name_the_judge(response: Response) -> Response:
    """Says whose page this is: the service worker keeps a page only in the cache of the
    judge it names, and drops another judge's cache when a page of a new one arrives."""
    if current_user.is_authenticated:
        response.headers["X-Scoring-Judge"] = str(current_user.id)
    return response


def assigned_criterion(event_code: str, criterion_code: str) -> tuple[Event, Criterion]:
    """The event and criterion, if this judge is assigned to it: 404 or 403 otherwise."""
    event = db.session.scalar(select(Event).where(Event.code == event_code))
    criterion = next((c for c in event.criteria if c.code == criterion_code),
                     None) if event else None
    if event is None or criterion is None:
        abort(404)
    if not sheets.is_assigned(current_user, criterion):
        abort(403)
    return event, criterion


def assigned_criteria(event: Event) -> list[Criterion]:
    return sheets.assigned_criteria(current_user, event)


@bp.get("")
@role_required(*JUDGES)
def home() -> ResponseReturnValue:
    events = db.session.scalars(
        select(Event).join(Criterion).join(Assignment)
        .where(Assignment.user_id == current_user.id).distinct().order_by(Event.id)).all()
    cards = []
    for event in events:
        entries = sheets.markable_entries(event)
        cards.append((event, entries, [
            (criterion, sheets.judge_progress(current_user, event, criterion),
             sheets.is_signed(current_user, criterion))
            for criterion in assigned_criteria(event)]))
    return render_template("judge/home.html", cards=cards)


def sheet_context(event: Event, criterion: Criterion) -> dict[str, object]:
    entries = sheets.sheet_entries(current_user, event, criterion)
    marks = sheets.judge_marks(current_user, criterion)
    panel, marked = sheets.panel(criterion), sheets.marked_by_entry(criterion)
    return {
        "event": event, "criterion": criterion,
        "rows": [row(event, criterion, entry, marks.get(entry.id), panel=panel,
                     marked=marked.get(entry.id, set())) for entry in entries],
        "progress": sheets.judge_progress(current_user, event, criterion),
        "signed": sheets.is_signed(current_user, criterion),
        "locked": policy.refusal("mark", event, current_user),
        "spread": marking.spread_refusal(current_user, criterion)
        if criterion.kind == "judgement" else None,
    }


def row(event: Event, criterion: Criterion, entry: Entry, mark: Mark | None,
        outcome: marking.Outcome | None = None, panel: policy.Panel | None = None,
        marked: set[str] | None = None) -> dict[str, object]:
    """One row of a sheet; `refusal` says why this judge may not mark it (policy). A save
    that was just stored passed that check under the event's lock: not asked again. `key`
    names the row (queries.marks.sheet_key): its address and ids."""
    key = sheets.sheet_key(criterion, entry)
    if outcome is not None and outcome.changed:
        return {"entry": entry, "criterion": criterion, "mark": mark, "outcome": outcome,
                "refusal": None, "key": key}
    return {"entry": entry, "criterion": criterion, "mark": mark, "outcome": outcome,
            "key": key,
            "refusal": policy.mark_refusal(
                current_user.username, current_user.delegation,
                panel if panel is not None else sheets.panel(criterion), entry.status,
                entry.delegation, marked if marked is not None
                else sheets.marked_by(entry, criterion), event.conflict_check)}


@bp.get("/<event_code>/<criterion_code>")
@role_required(*JUDGES)
def sheet(event_code: str, criterion_code: str) -> ResponseReturnValue:
    event, criterion = assigned_criterion(event_code, criterion_code)
    return render_template("judge/sheet.html", sign_form=SignForm(formdata=None),
                           **sheet_context(event, criterion))


@bp.get("/<event_code>/code/<blind_code>")
@role_required(*JUDGES)
def entry_sheet(event_code: str, blind_code: str) -> ResponseReturnValue:
    """All of this judge's blind criteria for one blind code. A code the blind sheets leave
    out (absent, withdrawn, or the judge's own delegation) is not found."""
    event = db.session.scalar(select(Event).where(Event.code == event_code))
    if event is None or not KEY.fullmatch(blind_code):
        abort(404)
    entry = db.session.scalar(select(Entry).where(Entry.event_id == event.id,
                                                  Entry.blind_code == blind_code))
    criteria = [criterion for criterion in assigned_criteria(event) if criterion.blind]
    if entry is None or not criteria or not sheets.on_blind_sheet(current_user, event, entry):
        abort(404)
    rows = [row(event, criterion, entry, sheets.judge_marks(current_user, criterion).get(
        entry.id)) for criterion in criteria]
    return render_template("judge/entry.html", event=event, entry=entry, rows=rows,
                           locked=policy.refusal("mark", event, current_user), signed={
                               criterion.id: sheets.is_signed(current_user, criterion)
                               for criterion in criteria})


@bp.get("/<event_code>/code")
@role_required(*JUDGES)
def find_code(event_code: str) -> ResponseReturnValue:
    code = request.args.get("code", "").strip().upper()
    return redirect(url_for("judging.entry_sheet", event_code=event_code, blind_code=code))


def marked_entry(event: Event, criterion: Criterion, key: str) -> Entry:
    """The entry a row's address names (its blind code, or its sheet key on a criterion
    that is not blind): 404 for anything else, an entry's id above all."""
    entry = sheets.entry_by_key(event, criterion, key) if KEY.fullmatch(key) else None
    if entry is None or criterion.blind and not sheets.on_blind_sheet(current_user, event,
                                                                      entry):
        abort(404)  # as the blind sheet leaves it out: a code answers as if there were none
    return entry


@bp.get("/<event_code>/<criterion_code>/<key>")
@role_required(*JUDGES)
def row_view(event_code: str, criterion_code: str, key: str) -> ResponseReturnValue:
    """One row as saved, for "keep the saved value" after a conflict."""
    event, criterion = assigned_criterion(event_code, criterion_code)
    entry = marked_entry(event, criterion, key)
    mark = sheets.judge_marks(current_user, criterion).get(entry.id)
    return render_template("judge/_row.html", row=row(event, criterion, entry, mark),
                           view="entry" if request.args.get("view") == "entry" else "sheet",
                           event=event, disabled=False)


def seen_version(text: str) -> int | None:
    """The version of the mark the page showed: none (empty), or a number; anything else
    can match no version, so the save becomes a conflict instead of a blind write."""
    if not text.strip():
        return None
    version = parse_whole(text)
    return -1 if version is None else version


@bp.post("/<event_code>/<criterion_code>/<key>")
@role_required(*JUDGES)
def save(event_code: str, criterion_code: str, key: str) -> ResponseReturnValue:
    event, criterion = assigned_criterion(event_code, criterion_code)
    entry = marked_entry(event, criterion, key)
    typed_by = request.form.get("judge")
    if typed_by is not None and typed_by != str(current_user.id):
        # A tablet's queue (static/js/app.js) sends a mark only as the judge who typed it;
        # should one arrive under another account, it is refused, never saved as this one's.
        return _("This mark was typed by another account on this tablet: sign in as that "
                 "judge to send it."), 409
    typed, token = request.form.get("value", ""), request.form.get("token") or None
    try:
        outcome = marking.save_judge_mark(
            current_user, event, criterion, entry, typed, token=token,
            seen_version=seen_version(request.form.get("version", "")))
        db.session.commit() if outcome.changed else db.session.rollback()
    except (IntegrityError, StaleDataError):  # another tab or a retry wrote it first
        db.session.rollback()
        outcome = marking.lost_race(current_user, entry, criterion, token, typed)
    view = "entry" if request.form.get("view") == "entry" else "sheet"
    page = render_template("judge/_row.html", view=view, event=event, disabled=False,
                           row=row(event, criterion, entry, outcome.mark, outcome))
    return page, {"HX-Trigger": "progress-changed"} if view == "sheet" else {}


@bp.get("/<event_code>/<criterion_code>/progress")
@role_required(*JUDGES)
def progress_view(event_code: str, criterion_code: str) -> ResponseReturnValue:
    """The judge's count on a sheet, "entered / expected", asked for after saves (see the
    count in judge/sheet.html)."""
    event, criterion = assigned_criterion(event_code, criterion_code)
    done, expected = sheets.judge_progress(current_user, event, criterion)
    return f"{done} / {expected}", {"Content-Type": "text/plain; charset=utf-8"}


@bp.post("/<event_code>/<criterion_code>/sign")
@role_required(*JUDGES)
def sign(event_code: str, criterion_code: str) -> ResponseReturnValue:
    """Sign the sheet, ticked as checked: after it only the chief judge changes a mark. A
    refused post: the sheet again, 4xx, the problem beside the tick, nothing written."""
    event, criterion = assigned_criterion(event_code, criterion_code)
    form = SignForm()
    if not form.validate():
        return render_template("judge/sheet.html", sign_form=form,
                               **sheet_context(event, criterion)), 422
    problem = marking.sign_off(current_user, event, criterion)
    db.session.commit() if problem is None else db.session.rollback()
    if problem:
        form.confirm.errors = [problem]
    context = sheet_context(event, criterion)
    return render_template("judge/sheet.html", sign_form=form, **context), \
        (200 if problem is None else 409)
