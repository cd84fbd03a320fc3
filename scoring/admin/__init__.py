"""The organiser console (/admin): events and schemes, contestants, the draw, judges,
progress, the lifecycle and the audit log. Organisers and chief judges only."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from ..chief import event_or_404  # noqa: F401  (used by the console's modules)
from ..extensions import db, login_manager
from ..models import Competition, Criterion, Entry, Mark

bp = Blueprint("admin", __name__, url_prefix="/admin")
STAFF = ("organiser", "chief")


@bp.before_request
def staff_only() -> ResponseReturnValue | None:
    """Every console route: signed in, and an organiser or a chief judge."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in STAFF:
        abort(403)
    return None


def mark_counts() -> dict[int, tuple[int, int]]:
    """Per event: (marks entered, marks expected by the scheme for the ok entries)."""
    entered = dict(db.session.execute(
        select(Entry.event_id, func.count(Mark.id)).join(Mark).group_by(Entry.event_id)).all())
    entries = dict(db.session.execute(
        select(Entry.event_id, func.count(Entry.id)).where(Entry.status == "ok")
        .group_by(Entry.event_id)).all())
    per_entry = dict(db.session.execute(
        select(Criterion.event_id, func.sum(Criterion.judges)).group_by(Criterion.event_id)).all())
    return {event_id: (entered.get(event_id, 0), entries.get(event_id, 0) * (per or 0))
            for event_id, per in per_entry.items()}


@bp.get("")
def dashboard() -> ResponseReturnValue:
    competitions = db.session.scalars(select(Competition).order_by(Competition.id)).all()
    registered = dict(db.session.execute(
        select(Entry.event_id, func.count(Entry.id)).group_by(Entry.event_id)).all())
    return render_template("admin/dashboard.html", competitions=competitions,
                           contestants=registered, marks=mark_counts())


from . import contestants, events, judges  # noqa: E402,F401  (the console's routes)
