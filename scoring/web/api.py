"""The public JSON API of FORMATS.md; it follows each event's visibility and never carries
ID numbers, phone numbers or judges' names. The results and teams share the boards' stamps
and cache: one computation per process and version, an ETag, and 304 to If-None-Match."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..extensions import db
from ..models import Event
from ..queries.results import event_summary
from .board import serve

bp = Blueprint("api", __name__, url_prefix="/api")


def visible_event(code: str) -> Event:
    event = db.session.scalar(select(Event).where(Event.code == code,
                                                  Event.visibility != "hidden"))
    if event is None:
        abort(404)
    return event


@bp.get("/events")
def events() -> ResponseReturnValue:
    visible = db.session.scalars(
        select(Event).where(Event.visibility != "hidden").order_by(Event.id))
    return jsonify({"events": [event_summary(event) for event in visible]})


@bp.get("/events/<code>/results")
def results(code: str) -> ResponseReturnValue:
    return serve(code, "api-results")


@bp.get("/events/<code>/teams")
def teams(code: str) -> ResponseReturnValue:
    return serve(code, "api-teams")


@bp.errorhandler(404)
def not_found(_error: Exception) -> ResponseReturnValue:
    return jsonify({"error": "not found"}), 404
