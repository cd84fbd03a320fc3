"""Console: judges' accounts, their criteria, and printable QR sign-in cards."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from .. import auth, operations
from ..extensions import db
from ..models import Assignment, Criterion, User
from ..problems import InputError
from . import bp, event_or_404

CARD_HOURS = 36  # a card made the day before still works all the competition day


@bp.route("/judges", methods=["GET", "POST"])
def judges() -> ResponseReturnValue:
    values = {"username": "", "display_name": "", "role": "judge", "delegation": "",
              "password": ""}
    errors: dict[str, str] = {}
    created = None
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in values}
        try:
            user, password = operations.create_user(
                values["username"], values["role"], values["password"] or None,
                current_user.username, values["display_name"] or None,
                values["delegation"] or None)
            db.session.commit()
            created = (user, password if not values["password"] else None)
            values = {key: "" for key in values} | {"role": "judge"}
        except InputError as error:
            db.session.rollback()
            names = {"NAME": "username", "--role": "role", "--password": "password",
                     "--display-name": "display_name", "--delegation": "delegation"}
            for problem in error.problems:
                errors[names.get(problem.field or "", "username")] = problem.message
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/judges.html", users=users, values=values, errors=errors,
                           created=created), 200 if not errors else 422


@bp.route("/events/<code>/judges", methods=["GET", "POST"])
def assignments(code: str) -> ResponseReturnValue:
    """Which judge marks which criteria of the event: a grid of checkboxes."""
    event = event_or_404(code)
    judges = db.session.scalars(select(User).where(User.role.in_(("judge", "chief")),
                                                   User.active).order_by(User.username)).all()
    if request.method == "POST":
        chosen = set(request.form.getlist("assign"))
        codes = {criterion.code for criterion in event.criteria}
        for judge in judges:
            operations.set_assignments(
                event, judge, {c for c in codes if f"{judge.id}:{c}" in chosen},
                current_user.username, by=current_user)
        db.session.commit()
        return redirect(url_for("admin.assignments", code=code, saved=1))
    assigned = {(user_id, criterion_id) for user_id, criterion_id in db.session.execute(
        select(Assignment.user_id, Assignment.criterion_id).join(Criterion)
        .where(Criterion.event_id == event.id))}
    return render_template("admin/assignments.html", event=event, judges=judges,
                           assigned=assigned, saved=request.args.get("saved"))


@bp.post("/events/<code>/cards")
def cards(code: str) -> ResponseReturnValue:
    """Printable QR sign-in cards for the event's judges (each makes a new link)."""
    event = event_or_404(code)
    judges = db.session.scalars(
        select(User).join(Assignment).join(Criterion).where(Criterion.event_id == event.id)
        .distinct().order_by(User.username)).all()
    base = request.host_url.rstrip("/")
    printed = []
    for judge in judges:
        token = auth.create_sign_in_link(judge, CARD_HOURS, current_user.username)
        url = base + url_for("auth.link_login", token=token)
        criteria = [a.criterion for a in db.session.scalars(
            select(Assignment).join(Criterion).where(Assignment.user_id == judge.id,
                                                     Criterion.event_id == event.id))]
        printed.append((judge, criteria, url, Markup(auth.qr_svg(url))))
    db.session.commit()
    return render_template("admin/cards.html", event=event, printed=printed, hours=CARD_HOURS)


@bp.post("/judges/<int(max=2147483647):user_id>/revoke")
def revoke(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id)
    if user is None:
        return _("Not found."), 404
    auth.revoke_sign_in_links(user, current_user.username)
    db.session.commit()
    return redirect(url_for("admin.judges"))
