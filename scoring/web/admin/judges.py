"""Console: accounts (create, disable, reset), judges' criteria, the event's chief judge,
and printable QR sign-in cards."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Assignment, Criterion, EventStaff, User
from ...operations import accounts
from ...operations.events import STAFF_ROLES, appoint_staff
from ...problems import InputError
from .. import auth
from . import bp, console_event, organisers_only, sent_back
from .forms import (
    ACCOUNT_FIELDS, AccountForm, AccountsForm, ActiveForm, ArbiterForm, AssignmentsForm,
    ChiefForm, EmptyForm,
)

CARD_HOURS = 36  # a card made the day before still works all the competition day


@bp.route("/judges", methods=["GET", "POST"])
def judges() -> ResponseReturnValue:
    organisers_only()
    form = AccountForm() if request.method == "POST" else new_account()
    created = None
    if form.validate_on_submit():
        try:
            user, password = accounts.create_user(
                form.username.data or "", form.role.data or "", form.password.data or None,
                current_user.username, form.display_name.data or None,
                form.delegation.data or None)
            db.session.commit()
            created = (user, password if not form.password.data else None)
            form = new_account()
        except InputError as error:
            db.session.rollback()
            form.refuse(error, fields=ACCOUNT_FIELDS, default="username")
    return accounts_page(form, created=created)


@bp.post("/judges/several")
def several_accounts() -> ResponseReturnValue:
    """Accounts pasted from a spreadsheet, all or none; their passwords shown once."""
    organisers_only()
    form = AccountsForm()
    made: list[tuple[User, str]] = []
    for attempt in range(2) if form.validate_on_submit() else ():
        try:
            made = accounts.create_users(form.accounts.data or "", form.role.data or "",
                                         current_user.username)
            db.session.commit()
            form = AccountsForm(formdata=None)
        except InputError as error:
            db.session.rollback()
            form.accounts.errors = [*form.accounts.errors, *error.lines()]
        except IntegrityError:
            # The same list posted twice at once (a double click): the other post made
            # these accounts first; read again, the list is refused naming them.
            db.session.rollback()
            made = []
            if attempt == 0:
                continue
            raise
        break
    return accounts_page(several=form, made=made)


def new_account() -> AccountForm:
    return AccountForm(formdata=None, data={"role": "judge"})


def accounts_page(form: AccountForm | None = None, problem: str | None = None,
                  created: tuple[User, str | None] | None = None,
                  reset: tuple[User, str] | None = None, several: AccountsForm | None = None,
                  made: list[tuple[User, str]] | None = None) -> ResponseReturnValue:
    """The accounts page; 422 when `form` or another of its forms (`problem`) was refused."""
    form = form or new_account()
    several = several or AccountsForm(formdata=None)
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    refused = problem is not None or any(field.errors for field in (*form, *several))
    return render_template("admin/judges.html", users=users, form=form, problem=problem,
                           button=EmptyForm(formdata=None), active=ActiveForm(formdata=None),
                           created=created, reset=reset, several=several, made=made or []), \
        422 if refused else 200


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
    form = ActiveForm()
    if not form.validate_on_submit():
        return accounts_page(problem=form.first_problem()[1])
    try:
        accounts.set_active(user, form.active.data == "1", current_user.username,
                            by=current_user)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        return accounts_page(problem=error.problems[0].message)
    return redirect(url_for("admin.judges"))


@bp.post("/judges/<int(max=2147483647):user_id>/reset")
def reset(user_id: int) -> ResponseReturnValue:
    """A new generated password, shown once; every session of the account ends."""
    user = account_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
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
    form = AssignmentsForm()
    if form.validate_on_submit():
        codes = {criterion.code for criterion in event.criteria}
        try:
            for judge in judges:
                accounts.set_assignments(event, judge, form.codes_of(judge, codes),
                                         current_user.username, by=current_user)
            db.session.commit()
            return redirect(url_for("admin.assignments", code=code, saved=1))
        except InputError as error:
            db.session.rollback()
            form.refuse(error)
    assigned = {(user_id, criterion_id) for user_id, criterion_id in db.session.execute(
        select(Assignment.user_id, Assignment.criterion_id).join(Criterion)
        .where(Criterion.event_id == event.id))}
    chiefs = db.session.scalars(select(User).join(EventStaff).where(
        EventStaff.event_id == event.id, EventStaff.role == "chief")
        .order_by(User.username)).all()
    appoint_form = ChiefForm(formdata=None).offer(
        [judge for judge in judges if judge.role == "chief" and judge not in chiefs])
    arbiters = db.session.scalars(select(User).join(EventStaff).where(
        EventStaff.event_id == event.id, EventStaff.role == "arbiter")
        .order_by(User.username)).all()
    arbiter_form = ArbiterForm(formdata=None).offer([
        user for user in db.session.scalars(select(User).where(
            User.role == "arbiter", User.active).order_by(User.username))
        if user not in arbiters])
    problem, field = request.args.get("problem"), request.args.get("field")
    if appoint_form.show(field, problem) or arbiter_form.show(field, problem):
        problem = None
    return render_template("admin/assignments.html", event=event, judges=judges,
                           assigned=assigned, saved=request.args.get("saved"), chiefs=chiefs,
                           form=form, appoint_form=appoint_form, button=EmptyForm(formdata=None),
                           arbiters=arbiters, arbiter_form=arbiter_form,
                           problem=problem), 409 if form.problems else 200


@bp.post("/events/<code>/chief")
def appoint(code: str) -> ResponseReturnValue:
    """Appoint a chief judge's account as this event's chief judge (before scoring opens)."""
    return appoint_to(code, "chief", ChiefForm)


@bp.post("/events/<code>/arbiter")
def appoint_arbiter(code: str) -> ResponseReturnValue:
    """Put an arbiter's account in this event's arbitration group (仲裁组)."""
    return appoint_to(code, "arbiter", ArbiterForm)


def appoint_to(code: str, role: str, form_class: type[ChiefForm] | type[ArbiterForm]
               ) -> ResponseReturnValue:
    """The event's staff of `role` gains the account chosen (operations.events.appoint_staff);
    back to the judges page, with the problem beside the field when refused."""
    event = console_event(code, STAFF_ROLES[role][0])
    form = form_class()
    if not form.validate_on_submit():
        return sent_back("admin.assignments", form, code=code)
    try:
        appoint_staff(event, form.account, role, current_user.username, user=current_user)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        form.refuse(error)
        return sent_back("admin.assignments", form, code=code)
    return redirect(url_for("admin.assignments", code=code, saved=1))


@bp.post("/events/<code>/cards")
def cards(code: str) -> ResponseReturnValue:
    """Printable QR sign-in cards for the event's judges (each makes a new link): the
    organisers', and for judges' accounts only (a card opens nothing more than a sheet)."""
    event = console_event(code, "cards")
    if not EmptyForm().validate_on_submit():
        abort(400)
    judges = db.session.scalars(
        select(User).join(Assignment).join(Criterion).where(
            Criterion.event_id == event.id, User.role == "judge", User.active)
        .distinct().order_by(User.username)).all()
    configured = current_app.config.get("SCORING_PUBLIC_URL")
    base = (configured or request.host_url).rstrip("/")
    printed = []
    for judge in judges:
        token = accounts.create_sign_in_link(judge, CARD_HOURS, current_user.username)
        url = base + url_for("auth.link_login", token=token)
        criteria = [a.criterion for a in db.session.scalars(
            select(Assignment).join(Criterion).where(Assignment.user_id == judge.id,
                                                     Criterion.event_id == event.id))]
        printed.append((judge, criteria, url, Markup(auth.qr_svg(url))))
    db.session.commit()
    return render_template("admin/cards.html", event=event, printed=printed, hours=CARD_HOURS,
                           base=base, unreachable=auth.is_loopback(base))


@bp.post("/judges/<int(max=2147483647):user_id>/revoke")
def revoke(user_id: int) -> ResponseReturnValue:
    user = account_or_404(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    accounts.revoke_sign_in_links(user, current_user.username)
    db.session.commit()
    return redirect(url_for("admin.judges"))
