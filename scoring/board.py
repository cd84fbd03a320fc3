"""The public boards: the live leaderboard, the team ranking and the big screen.

A poll costs one small query while nothing changed: the ETag is made of the event's
`results_version` (or its freeze), its visibility and the language, all read from the
database, so every worker and host answers alike and a thousand idle phones get 304s. A
changed board is rendered once per process and version, then served from a small cache
keyed by that version (never trusted without it).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from .exports import event_summary, results_document
from .extensions import db
from .i18n import select_locale
from .models import Event, utcnow
from .results import event_results, team_rows

bp = Blueprint("board", __name__)
PUBLIC = ("live", "frozen", "published")
VIEWS = ("board", "teams", "screen")


@dataclass(frozen=True)
class Stamp:
    """What a public board depends on, read in one query."""

    event_id: int
    code: str
    visibility: str
    version: int
    frozen_at: datetime | None

    def etag(self, view: str, partial: bool, locale: str) -> str:
        moment = self.frozen_at.timestamp() if self.visibility == "frozen" and self.frozen_at \
            else self.version
        return (f"{self.event_id}-{self.code}-{moment}-{self.visibility}-{view}-{int(partial)}"
                f"-{locale}")


def stamp(code: str) -> Stamp:
    row = db.session.execute(
        select(Event.id, Event.code, Event.visibility, Event.results_version, Event.frozen_at)
        .where(Event.code == code)).first()
    if row is None or row.visibility not in PUBLIC:
        abort(404)
    return Stamp(row.id, row.code, row.visibility, row.results_version, row.frozen_at)


def board_data(event: Event) -> dict[str, Any]:
    """Rows and teams as the public may see them: a frozen board shows its snapshot."""
    if event.visibility == "frozen" and event.frozen_json:
        return json.loads(event.frozen_json)
    return snapshot(event)


def snapshot(event: Event) -> dict[str, Any]:
    """The public results now: the API's rows and teams plus what the boards show."""
    results = event_results(event)
    return {
        "event": event_summary(event),
        "sections": [[section.code, section.name] for section in results.scheme.sections],
        "results": results_document(results, with_awards=event.visibility == "published")[
            "results"],
        "teams": team_rows(results),
        "complete": results.standings.complete,
        "updated_at": utcnow().isoformat(timespec="seconds"),
    }


def freeze(event: Event) -> None:
    """Keep the public board as it is now; marking goes on behind it."""
    event.frozen_at = utcnow()
    event.frozen_json = json.dumps(snapshot(event), ensure_ascii=False)


class RenderCache:
    """Rendered boards of this process, by ETag (which holds the database's version; a
    restore makes the versions jump, see backup.VERSION_JUMP)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.pages: OrderedDict[str, bytes] = OrderedDict()
        self.lock = Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()

    def put(self, key: str, page: bytes) -> None:
        with self.lock:
            self.pages[key] = page
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


cache = RenderCache()


def serve(code: str, view: str) -> ResponseReturnValue:
    partial = request.headers.get("HX-Request") == "true"
    current = stamp(code)
    locale = select_locale()
    etag = current.etag(view, partial, locale)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache", "Vary": "HX-Request, Cookie"}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    use_cache = current_app.config.get("SCORING_BOARD_CACHE", True)
    page = cache.get(etag) if use_cache else None
    if page is None:
        event = db.session.get(Event, current.event_id)
        assert event is not None
        data = board_data(event)
        template = f"board/_{view}.html" if partial else f"board/{view}.html"
        page = render_template(
            template, event=event, data=data, updated=datetime.fromisoformat(data["updated_at"]),
            panel_etag=current.etag(view, True, locale),  # what the panel's polls will match
            poll=current_app.config.get("SCORING_BOARD_POLL", 3)).encode()
        if use_cache:
            cache.put(etag, page)
    return Response(page, headers=headers, content_type="text/html; charset=utf-8")


@bp.get("/e/<code>")
def board(code: str) -> ResponseReturnValue:
    return serve(code, "board")


@bp.get("/e/<code>/teams")
def teams(code: str) -> ResponseReturnValue:
    return serve(code, "teams")


@bp.get("/e/<code>/screen")
def screen(code: str) -> ResponseReturnValue:
    return serve(code, "screen")
