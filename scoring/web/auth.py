"""Signing in and out: passwords with throttling, QR sign-in links, server-side sessions,
and the checks every view makes (`role_required`, `allowed`).

Failed attempts are rows in the database, so every worker process and host throttles alike;
an attempt is written before the password is checked, so requests sent at once are counted
together. The cookie carries a session token checked against the database on every request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint, Flask, Response, abort, g, redirect, render_template, request, session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import policy
from ..extensions import db, login_manager
from ..models import Event, LoginFailure, User, utcnow
from ..operations import audit
from ..operations.accounts import end_session, session_user, start_session, valid_link

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])

# Five wrong passwords for one account, or twenty from one address, within the window.
THROTTLE_WINDOW = timedelta(minutes=10)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
HOME = {"judge": "judging.home", "chief": "chief.index", "organiser": "admin.dashboard",
        "arbiter": "appeals.index"}


class LoginForm(FlaskForm):
    username = StringField(_l("Account"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def role_required(*roles: str) -> Callable[[F], F]:
    """Only signed-in users with one of `roles`; others are sent to sign in, or refused."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The account of the cookie's session, if the session is live and the account active."""
    return session_user(token)


def allowed(action: str, event: Event) -> None:
    """403 unless the signed-in person holds a role that may take `action` on `event`
    (whether the event's state allows it now is the operation's to say, in words)."""
    if not policy.holds(action, event, current_user):
        abort(403)


def sign_in(user: User, link: object = None) -> None:
    """A new server-side session, in a fresh cookie session (a new CSRF token too: nothing
    of the signed-out visitor's cookie carries over)."""
    session.clear()
    user.__dict__["_session_token"] = start_session(user, link)  # type: ignore[arg-type]
    login_user(user)


@login_manager.unauthorized_handler
def unauthorized() -> ResponseReturnValue:
    # An htmx save from a page whose session expired: the page keeps the typed value and
    # asks the person to sign in again (static/js/app.js), so answer 401, not a redirect.
    if request.headers.get("HX-Request") == "true":
        return Response(_("Your session has expired: sign in again."), 401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def local_target(target: str | None) -> str | None:
    """`target` if it is a path of this site (no other host, no line break), else None."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in target) or urlsplit(target).netloc:
        return None
    return target


def safe_next(target: str | None, user: User) -> str:
    if local_target(target):
        return target  # type: ignore[return-value]
    return url_for(HOME.get(user.role, "public.index"))


def client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


def seconds_until_allowed(username: str, address: str, attempt: LoginFailure) -> int:
    """0 when this attempt (already written) may check its password, else the seconds to
    wait: the attempts of the window, this one and those sent at the same moment included,
    may not exceed the limits."""
    since = utcnow() - THROTTLE_WINDOW
    waits = []
    for column, value, limit in ((LoginFailure.username, username, ACCOUNT_LIMIT),
                                 (LoginFailure.address, address, ADDRESS_LIMIT)):
        times = db.session.scalars(
            select(LoginFailure.created_at).where(column == value,
                                                  LoginFailure.created_at > since,
                                                  LoginFailure.id != attempt.id)
            .order_by(LoginFailure.created_at.desc()).limit(limit)).all()
        if len(times) >= limit:
            waits.append(times[-1] + THROTTLE_WINDOW - utcnow())
    if not waits:
        return 0
    return max(1, int(max(waits).total_seconds()) + 1)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = client_address()
        # Written and committed before anything is counted or checked: of many attempts
        # sent at once, each counts the others, and at most the limit check a password.
        attempt = LoginFailure(username=username, address=address)
        db.session.add(attempt)
        db.session.commit()
        wait = seconds_until_allowed(username, address, attempt)
        if wait:
            db.session.delete(attempt)  # a refused attempt checked nothing
            db.session.commit()
            error = _("Too many failed attempts: try again in %(seconds)s s.", seconds=wait)
            status = 429
        else:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is not None and user.active and user.check_password(form.password.data):
                db.session.execute(delete(LoginFailure).where(
                    LoginFailure.username == username))
                sign_in(user)
                audit("user.login", user.username, user=user, address=address)
                db.session.commit()
                return redirect(safe_next(request.args.get("next"), user))
            if user is not None and not user.active \
                    and user.check_password(form.password.data):
                # Only who knows the password learns the account is disabled.
                error = _("This account is disabled: ask the organisers.")
            else:
                error = _("Wrong account or password.")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End this session on the server too: a copy of the cookie opens nothing after it."""
    if current_user.is_authenticated:
        end_session(current_user.get_id())
        audit("user.logout", current_user.username, user=current_user)
        db.session.commit()
    logout_user()
    return redirect(url_for("public.index"))


# --- sign-in links (QR cards) -------------------------------------------------------------

@bp.route("/login/link/<token>", methods=["GET", "POST"])
def link_login(token: str) -> ResponseReturnValue:
    # GET only shows a button: link previewers and prefetchers must not sign anyone in.
    link = valid_link(token)
    if link is None:
        return render_template("link_login.html", link=None), 404
    if request.method == "POST":
        sign_in(link.user, link)
        audit("user.login", link.user.username, user=link.user, via="link",
              address=client_address())
        db.session.commit()
        return redirect(url_for(HOME.get(link.user.role, "public.index")))
    return render_template("link_login.html", link=link)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["can"] = lambda action, event: policy.can(action, event, current_user)

    @app.before_request
    def check_the_session_afresh() -> None:
        # Flask-Login keeps the user, Flask-WTF the CSRF token, on `g`, which lives as long
        # as the app context: a request that shares one (tests with two browsers) must still
        # check its own session.
        g.pop("_login_user", None)
        g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def qr_svg(url: str) -> str:
    """The QR code as inline SVG that scales to its box (a viewBox, no fixed size), with the
    quiet zone of four modules around it that readers need."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=6, border=4, omitsize=True)


def qr_svg_file(url: str) -> str:
    """The QR code as an SVG file of its own (XML declaration, xmlns): a browser or a
    printer shows it as a picture."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=10, border=4, title=url)
    return out.getvalue().decode("utf-8")


LOOPBACK = ("127.", "localhost", "[::1]", "::1", "0.0.0.0")


def is_loopback(base_url: str) -> bool:
    """Whether an address only this machine reaches (a tablet's QR code would not work)."""
    from urllib.parse import urlsplit

    host = urlsplit(base_url).hostname or ""
    return host.startswith(LOOPBACK) or host in LOOPBACK
