"""Signing in and out: passwords with throttling, QR sign-in links, and role checks.

Failed attempts are rows in the database, so every worker process and host throttles alike.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .extensions import db, login_manager
from .models import LoginFailure, SignInLink, User, utcnow
from .operations import audit

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])

# Five wrong passwords for one account, or twenty from one address, within the window.
THROTTLE_WINDOW = timedelta(minutes=10)
ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
HOME = {"judge": "judging.home", "chief": "chief.index", "organiser": "admin.dashboard"}


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


def seconds_until_allowed(username: str, address: str) -> int:
    """0 when this account and address may try again, else the seconds to wait."""
    since = utcnow() - THROTTLE_WINDOW
    waits = []
    for column, value, limit in ((LoginFailure.username, username, ACCOUNT_LIMIT),
                                 (LoginFailure.address, address, ADDRESS_LIMIT)):
        times = db.session.scalars(
            select(LoginFailure.created_at).where(column == value,
                                                  LoginFailure.created_at > since)
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
        wait = seconds_until_allowed(username, address)
        if wait:
            error = _("Too many failed attempts: try again in %(seconds)s s.", seconds=wait)
            status = 429
        else:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is not None and user.active and user.check_password(form.password.data):
                db.session.execute(delete(LoginFailure).where(
                    LoginFailure.username == username))
                login_user(user)
                audit("user.login", user.username, user=user, address=address)
                db.session.commit()
                return redirect(safe_next(request.args.get("next"), user))
            db.session.add(LoginFailure(username=username, address=address))
            db.session.commit()
            error = _("Wrong account or password.")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for("public.index"))


# --- sign-in links (QR cards) -------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_sign_in_link(user: User, hours: int, actor: str) -> str:
    """A new sign-in token for `user`, valid for `hours`; only its hash is kept."""
    token = secrets.token_urlsafe(24)
    db.session.add(SignInLink(user=user, token_hash=token_hash(token),
                              expires_at=utcnow() + timedelta(hours=hours)))
    audit("link.create", actor, user=user, hours=hours)
    return token


def revoke_sign_in_links(user: User, actor: str) -> int:
    links = db.session.scalars(select(SignInLink).where(
        SignInLink.user_id == user.id, SignInLink.revoked_at.is_(None))).all()
    for link in links:
        link.revoked_at = utcnow()
    audit("link.revoke", actor, user=user, count=len(links))
    return len(links)


def valid_link(token: str) -> SignInLink | None:
    link = db.session.scalar(select(SignInLink).where(SignInLink.token_hash == token_hash(token)))
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow() \
            or not link.user.active:
        return None
    return link


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def link_login(token: str) -> ResponseReturnValue:
    # GET only shows a button: link previewers and prefetchers must not sign anyone in.
    link = valid_link(token)
    if link is None:
        return render_template("link_login.html", link=None), 404
    if request.method == "POST":
        login_user(link.user)
        audit("user.login", link.user.username, user=link.user, via="link",
              address=client_address())
        db.session.commit()
        return redirect(url_for(HOME.get(link.user.role, "public.index")))
    return render_template("link_login.html", link=link)


def qr_svg(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(scale=6, border=2)
