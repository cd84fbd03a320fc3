"""The public JSON API of FORMATS.md; it follows each event's visibility and never carries
ID numbers, phone numbers or judges' names."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from .exports import event_summary, results_document, teams_document
from .extensions import db
from .models import Event
from .results import event_results

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
    event = visible_event(code)
    return jsonify(results_document(event_results(event),
                                    with_awards=event.visibility == "published"))


@bp.get("/events/<code>/teams")
def teams(code: str) -> ResponseReturnValue:
    return jsonify(teams_document(event_results(visible_event(code))))


@bp.errorhandler(404)
def not_found(_error: Exception) -> ResponseReturnValue:
    return jsonify({"error": "not found"}), 404
