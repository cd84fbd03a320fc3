"""The public JSON API of FORMATS.md; it follows each event's visibility and never carries
ID numbers, phone numbers or judges' names. The results and teams share the boards' stamps
and cache: one computation per process and version, an ETag, and 304 to If-None-Match."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..extensions import db
from ..models import Event
from ..queries.results import event_summary
from .board import PUBLIC, Stamp, cache, public_data, stamps

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


def document(code: str, key: str) -> ResponseReturnValue:
    """The event's public `key` ("results" or "teams") as JSON, for the stamp of now."""
    stamp = stamps.get(code, current_app.config["SCORING_BOARD_STAMP_TTL"])
    if stamp is None or stamp.visibility not in PUBLIC:
        abort(404)
    etag = f"api-{key}-{stamp.state}-{stamp.lifecycle}"
    headers = {"ETag": f'W/"{etag}"', "Cache-Control": "no-cache"}
    sent = request.headers.get("If-None-Match", "")
    if f'"{etag}"' in sent or sent.strip() == "*":
        return Response(status=304, headers=headers)
    body = cache.document(etag, lambda: serialise(stamp, key))
    return Response(body, headers=headers, content_type="application/json; charset=utf-8")


def serialise(stamp: Stamp, key: str) -> bytes:
    data = public_data(stamp)
    event = db.session.get(Event, stamp.event_id)
    return json.dumps({"event": event_summary(event) if event else data["event"],
                       "generated_at": data["updated_at"], key: data[key]},
                      ensure_ascii=False).encode()


@bp.get("/events/<code>/results")
def results(code: str) -> ResponseReturnValue:
    return document(code, "results")


@bp.get("/events/<code>/teams")
def teams(code: str) -> ResponseReturnValue:
    return document(code, "teams")


@bp.errorhandler(404)
def not_found(_error: Exception) -> ResponseReturnValue:
    return jsonify({"error": "not found"}), 404
