"""The public pages anyone may open: for now the list of competitions and their events."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from .auth import local_target
from .public_paths import is_public
from ..extensions import db
from ..i18n import LOCALES
from ..models import Competition

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    competitions = db.session.scalars(select(Competition).order_by(Competition.id)).all()
    visible = {
        competition.id: [event for event in competition.events if event.visibility != "hidden"]
        for competition in competitions
    }
    return render_template("index.html", competitions=[
        (competition, visible[competition.id]) for competition in competitions
        if visible[competition.id]])


@bp.get("/lang/<code>")
def language(code: str) -> ResponseReturnValue:
    """Remember the chosen interface language in a cookie (staff pages read it) and go
    back; back to a public page with the language in its address (public pages read no
    cookie, so that a shared cache can keep them)."""
    if code not in LOCALES:
        abort(404)
    target = local_target(request.args.get("next")) or "/"  # only a page of this site
    target = target.rstrip("?") or "/"
    parts = urlsplit(target)
    if is_public(parts.path):
        query = [(key, value) for key, value in parse_qsl(parts.query) if key != "lang"]
        query.append(("lang", "en" if code == "en" else "zh"))
        target = urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))
    response = redirect(target)
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.get("/healthz")
def health() -> ResponseReturnValue:
    """For load balancers and the benchmarks' hello-world baseline: no database, no session."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
