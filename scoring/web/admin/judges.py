"""Console: accounts (create, disable, reset), judges' criteria, the event's chief judge,
and printable QR sign-in cards."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from ...extensions import db
from ...models import Assignment, Criterion, EventStaff, User
from ...operations import accounts
from ...operations.events import appoint_chief
from ...problems import InputError, Problem
from .. import auth
from . import bp, console_event, organisers_only

CARD_HOURS = 36  # a card made the day before still works all the competition day


@bp.route("/judges", methods=["GET", "POST"])
def judges() -> ResponseReturnValue:
    organisers_only()
    values = {"username": "", "display_name": "", "role": "judge", "delegation": "",
              "password": ""}
    errors: dict[str, str] = {}
    created = None
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in values}
        try:
            user, password = accounts.create_user(
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
    return accounts_page(values, errors, created=created)


def accounts_page(values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                  created: tuple[User, str | None] | None = None,
                  reset: tuple[User, str] | None = None) -> ResponseReturnValue:
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    values = values or {"username": "", "display_name": "", "role": "judge", "delegation": "",
                        "password": ""}
    return render_template("admin/judges.html", users=users, values=values,
                           errors=errors or {}, created=created, reset=reset), \
        200 if not errors else 422


def account_or_404(user_id: int) -> User:
    organisers_only()
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/judges/<int(max=2147483647):user_id>/active")
def set_active(user_id: int) -> ResponseReturnValue:
    """Disable an account (its sessions end at once) or enable it again."""
    user = account_or_404(user_id)
    try:
        accounts.set_active(user, request.form.get("active") == "1", current_user.username,
                            by=current_user)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        return accounts_page(errors={"username": error.problems[0].message})
    return redirect(url_for("admin.judges"))


@bp.post("/judges/<int(max=2147483647):user_id>/reset")
def reset(user_id: int) -> ResponseReturnValue:
    """A new generated password, shown once; every session of the account ends."""
    user = account_or_404(user_id)
    password = accounts.reset_password(user, None, current_user.username)
    db.session.commit()
    return accounts_page(reset=(user, password))


@bp.route("/events/<code>/judges", methods=["GET", "POST"])
def assignments(code: str) -> ResponseReturnValue:
    """Which judge marks which criteria of the event (a grid of checkboxes), and who is the
    event's chief judge."""
    event = console_event(code)
    judges = db.session.scalars(select(User).where(User.role.in_(("judge", "chief")),
                                                   User.active).order_by(User.username)).all()
    problem = None
    if request.method == "POST":
        chosen = set(request.form.getlist("assign"))
        codes = {criterion.code for criterion in event.criteria}
        try:
            for judge in judges:
                accounts.set_assignments(
                    event, judge, {c for c in codes if f"{judge.id}:{c}" in chosen},
                    current_user.username, by=current_user)
            db.session.commit()
            return redirect(url_for("admin.assignments", code=code, saved=1))
        except InputError as error:
            db.session.rollback()
            problem = error.problems[0].message
    assigned = {(user_id, criterion_id) for user_id, criterion_id in db.session.execute(
        select(Assignment.user_id, Assignment.criterion_id).join(Criterion)
        .where(Criterion.event_id == event.id))}
    chiefs = db.session.scalars(select(User).join(EventStaff).where(
        EventStaff.event_id == event.id, EventStaff.role == "chief")
        .order_by(User.username)).all()
    return render_template("admin/assignments.html", event=event, judges=judges,
                           assigned=assigned, saved=request.args.get("saved"), chiefs=chiefs,
                           candidates=[judge for judge in judges if judge.role == "chief"
                                       and judge not in chiefs],
                           problem=problem or request.args.get("problem")), \
        200 if problem is None else 409


@bp.post("/events/<code>/chief")
def appoint(code: str) -> ResponseReturnValue:
    """Appoint a chief judge's account as this event's chief judge (before scoring opens)."""
    event = console_event(code, "appoint")
    chief = db.session.scalar(select(User).where(User.username == request.form.get("chief",
                                                                                   "")))
    try:
        if chief is None:
            raise InputError(Problem(_("Choose a chief judge's account."), field="chief"))
        appoint_chief(event, chief, current_user.username, user=current_user)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        return redirect(url_for("admin.assignments", code=code,
                                problem=error.problems[0].message))
    return redirect(url_for("admin.assignments", code=code, saved=1))


@bp.post("/events/<code>/cards")
def cards(code: str) -> ResponseReturnValue:
    """Printable QR sign-in cards for the event's judges (each makes a new link)."""
    event = console_event(code)
    judges = db.session.scalars(
        select(User).join(Assignment).join(Criterion).where(Criterion.event_id == event.id)
        .distinct().order_by(User.username)).all()
    base = request.host_url.rstrip("/")
    printed = []
    for judge in judges:
        token = accounts.create_sign_in_link(judge, CARD_HOURS, current_user.username)
        url = base + url_for("auth.link_login", token=token)
        criteria = [a.criterion for a in db.session.scalars(
            select(Assignment).join(Criterion).where(Assignment.user_id == judge.id,
                                                     Criterion.event_id == event.id))]
        printed.append((judge, criteria, url, Markup(auth.qr_svg(url))))
    db.session.commit()
    return render_template("admin/cards.html", event=event, printed=printed, hours=CARD_HOURS)


@bp.post("/judges/<int(max=2147483647):user_id>/revoke")
def revoke(user_id: int) -> ResponseReturnValue:
    user = account_or_404(user_id)
    accounts.revoke_sign_in_links(user, current_user.username)
    db.session.commit()
    return redirect(url_for("admin.judges"))
