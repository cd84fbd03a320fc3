"""The organiser console (/admin): events and schemes, contestants, the draw, judges,
progress, the lifecycle and the audit log. Organisers and chief judges only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from ... import policy
from ...extensions import db, login_manager
from ...models import Competition, Entry, Event
from ...queries.marks import progress_totals
from ..auth import allowed
from ..chief import event_or_404
from .forms import CompetitionForm, ConsoleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
STAFF = ("organiser", "chief")
DONE_SALT = "scoring.done"  # what a page says was done, carried signed in its address


def done_token(message: str) -> str:
    """What was done, for the address of the page it redirects to (`?done=`): signed, so
    that a link someone sends cannot make the console say what was never done."""
    return URLSafeSerializer(current_app.secret_key, salt=DONE_SALT).dumps(message)


def done_message() -> str | None:
    """The page's `?done=` in words, or None when absent or not signed by this server."""
    token = request.args.get("done")
    if not token or len(token) > 2000:
        return None
    try:
        message = URLSafeSerializer(current_app.secret_key, salt=DONE_SALT).loads(token)
    except BadSignature:
        return None
    return message if isinstance(message, str) else None


@bp.before_request
def staff_only() -> ResponseReturnValue | None:
    """Every console route: signed in, and an organiser or a chief judge."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in STAFF:
        abort(403)
    return None


def organisers_only() -> None:
    """The console's pages that concern no one event (accounts, competitions, new events,
    the whole audit log) are the organisers'."""
    if current_user.role != "organiser":
        abort(403)


def console_event(code: str, action: str = "view") -> Event:
    """The event of a console URL, if this person may take `action` on it: 404 or 403."""
    event = event_or_404(code)
    allowed(action, event)
    return event


def sent_back(endpoint: str, form: ConsoleForm, **values: object) -> ResponseReturnValue:
    """After a refused post of one of a page's small forms (a state change, the board, a
    chief judge, a competition): back to the page, which shows the problem beside its field
    (a redirect, so that reloading the page posts nothing again)."""
    field, problem = form.first_problem()
    return redirect(url_for(endpoint, problem=problem, field=field, **values))


@bp.get("")
def dashboard() -> ResponseReturnValue:
    competitions = db.session.scalars(select(Competition).order_by(Competition.id)).all()
    registered = dict(db.session.execute(
        select(Entry.event_id, func.count(Entry.id)).group_by(Entry.event_id)).all())
    shown = [event for competition in competitions for event in competition.events
             if policy.holds("view", event, current_user)]
    form = CompetitionForm(formdata=None)
    problem, field = request.args.get("problem"), request.args.get("field")
    if form.show(field, problem):
        problem = None
    return render_template("admin/dashboard.html", competitions=competitions,
                           contestants=registered, form=form, problem=problem,
                           marks={event.id: progress_totals(event) for event in shown})


from . import analytics, contestants, events, judges, scores  # noqa: E402,F401  (the console's routes)
