"""The public boards: the live leaderboard, the team ranking and the big screen.

A poll costs next to nothing while nothing changed. The ETag is made of the event's
`results_version` (or its freeze), its visibility and the language, all kept in the
database, so every worker and host answers alike. Each process reads that stamp at most
every `SCORING_BOARD_STAMP_TTL` seconds per event (0.5 by default; at once after a change it
committed itself), so a thousand idle phones cost a few queries a second, not a thousand.

A changed board is rendered once per process and version, by one thread while the others
go on serving the page before it, and at most once every `SCORING_BOARD_RENDER_GAP` seconds
(1 by default): while judges save several marks a second, the public board follows a second
behind instead of spending the server on renders. The page is kept with its gzip form
(phones and browsers all ask for it), under a weak ETag that both forms share. Workers and
hosts each follow a little behind, differently: a client holding the version a worker would
send, or a newer one, gets 304, so no board steps back.
"""

from __future__ import annotations

import gzip
import json
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any, Callable

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import format_datetime
from flask.typing import ResponseReturnValue
from sqlalchemy import event as sa_event, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..i18n import select_locale
from ..models import Event
from ..queries.results import board_data, event_summary
from .public_paths import public_cache_control

bp = Blueprint("board", __name__)
PUBLIC = ("live", "frozen", "published")
VIEWS = ("board", "teams", "screen")
API_VIEWS = {"api-results": "results", "api-teams": "teams"}  # JSON, for web/api.py
# A page differs with HX-Request (the panel alone, or the whole page) and its encoding; the
# language is in the URL (?lang=en), and no cookie is read (web/public_paths.py).
VARY = {"page": "HX-Request, Accept-Encoding", "api": "Accept-Encoding"}


@bp.app_template_filter("window_end")
def window_end(moment: str | None) -> str:
    """An appeal window's end as the API gives it (ISO 8601), in the board's time zone."""
    if not moment:
        return "—"
    return format_datetime(datetime.fromisoformat(moment), "MM-dd HH:mm")


def public_headers(view: str) -> dict[str, str]:
    return {"Cache-Control": public_cache_control(),
            "Vary": VARY["api" if view in API_VIEWS else "page"]}


@dataclass(frozen=True)
class Stamp:
    """What a public board depends on, read in one query."""

    event_id: int
    code: str
    visibility: str
    version: int
    frozen_at: datetime | None
    lifecycle: str = ""  # the event's state (setup ... published), for the API's summary

    @property
    def moment(self) -> int | float:
        """The version the public sees: the results' version, or the time of the freeze.
        Both only grow (a restore makes the versions jump forward)."""
        if self.visibility == "frozen" and self.frozen_at:
            return self.frozen_at.timestamp()
        return self.version

    @property
    def state(self) -> str:
        """What the public sees of the event, whatever the page."""
        return f"{self.event_id}-{self.code}-{self.moment}-{self.visibility}"

    def series(self, view: str, partial: bool, locale: str) -> str:
        """The pages that follow one another as the version changes."""
        return f"{self.event_id}-{self.code}-{self.visibility}-{view}-{int(partial)}-{locale}"

    def etag(self, view: str, partial: bool, locale: str) -> str:
        """The series and the moment: "3-WELD-live-board-1-zh_CN:57" (codes hold no colon)."""
        return f"{self.series(view, partial, locale)}:{self.moment}"


def read_stamp(code: str) -> Stamp | None:
    row = db.session.execute(
        select(Event.id, Event.code, Event.visibility, Event.results_version, Event.frozen_at,
               Event.state).where(Event.code == code)).first()
    if row is None:
        return None
    return Stamp(row.id, row.code, row.visibility, row.results_version, row.frozen_at,
                 row.state)


class Stamps:
    """The stamps this process read lately, by event code, each trusted for `ttl` seconds.

    Forgotten at once when this process commits a change to a board (`changed`), and a
    stamp read while that happened is not kept; another process's change is seen within
    the ttl. Unknown codes are not kept (anyone may ask for any code), and at most `size`
    events are.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.known: dict[str, tuple[float, Stamp]] = {}
        self.generation = 0  # how many times this process forgot them all

    def get(self, code: str, ttl: float) -> Stamp | None:
        now = time.monotonic()
        held = self.known.get(code)
        if held is not None and now - held[0] < ttl:
            return held[1]
        generation = self.generation
        found = read_stamp(code)
        if found is not None and ttl > 0 and generation == self.generation:
            if len(self.known) >= self.size:
                self.known.clear()
            self.known[code] = (now, found)
        return found

    def clear(self) -> None:
        self.generation += 1
        self.known.clear()


stamps = Stamps()


@sa_event.listens_for(Session, "after_commit")
def _forget_stamps(session: Session) -> None:
    """A commit that changed results (operations.bump_results marks the session) makes this
    process forget its stamps: the writes never import the boards, the boards listen."""
    if session.info.pop("results_changed", False):
        stamps.clear()


@sa_event.listens_for(Session, "after_rollback")
def _nothing_changed(session: Session) -> None:
    session.info.pop("results_changed", None)


@dataclass(frozen=True)
class Page:
    etag: str
    moment: int | float  # Stamp.moment
    body: bytes
    gzipped: bytes | None  # None: too small to be worth it
    rendered: float  # time.monotonic()


def make_page(etag: str, moment: int | float, body: bytes) -> Page:
    gzipped = gzip.compress(body, compresslevel=5, mtime=0) if len(body) > 1400 else None
    return Page(etag, moment, body, gzipped, time.monotonic())


class RenderCache:
    """The latest rendered page of each series in this process (its moment holds the
    database's version; a restore makes the versions jump, see backup.VERSION_JUMP), with a
    lock, so one thread renders a new version while the others serve the last page. The
    results behind the pages are kept too, by Stamp.state: the board, the big screen and
    the team ranking, in either language, whole or as a panel, share one computation."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.latest: dict[str, Page] = {}
        self.rendering: dict[str, Lock] = {}
        self.results: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.computing: dict[str, Lock] = {}
        self.cost = 0.0  # seconds the last computation of results took
        self.lock = Lock()

    def data(self, state: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The results of this state, computed once in this process: threads asking for
        the same state meanwhile (the board, the teams and the API at one version) wait for
        the one computing it instead of computing it again side by side."""
        with self.lock:
            known = self.results.get(state)
            if known is not None:
                return known
            computing = self.computing.setdefault(state, Lock())
        with computing:
            with self.lock:
                known = self.results.get(state)
            if known is not None:
                return known
            started = time.monotonic()
            data = compute()
            with self.lock:
                self.cost = time.monotonic() - started
                self.results[state] = data
                while len(self.results) > 2:  # this version and the one before
                    self.results.popitem(last=False)
                self.computing.pop(state, None)
        return data

    def gap(self, least: float, factor: float) -> float:
        """Seconds between two renders of a series: `least` (SCORING_BOARD_RENDER_GAP), or
        `factor` times what computing the results last took (SCORING_BOARD_COST_FACTOR) when
        that is longer: 10,000 entries take about 0.4 s, so while judges save and a crowd
        polls, a process spends about a tenth of a core on them instead of most of it."""
        return max(least, factor * self.cost)

    def last(self, series: str) -> tuple[Page | None, Lock]:
        with self.lock:
            return self.latest.get(series), self.rendering.setdefault(series, Lock())

    def put(self, series: str, page: Page) -> None:
        with self.lock:
            self.latest[series] = page
            if len(self.latest) > self.size:
                self.latest.clear()
                self.rendering.clear()

    def clear(self) -> None:
        with self.lock:
            self.latest.clear()
            self.rendering.clear()
            self.results.clear()
            self.computing.clear()
            self.cost = 0.0


cache = RenderCache()


def public_data(stamp: Stamp) -> dict[str, Any]:
    """The public results of the stamp's moment, computed once per process and moment for
    the boards, the API and /verify alike."""
    event = db.session.get(Event, stamp.event_id)
    if event is None:  # deleted since the stamp was read
        abort(404)
    if current_app.config["SCORING_BOARD_CACHE"]:
        return cache.data(stamp.state, lambda: board_data(event))
    return board_data(event)


def current_award(event: Event, bib: str) -> str | None:
    """The award `bib` holds on the public results this moment (the stamp read afresh, the
    results shared with the boards' cache)."""
    stamp = read_stamp(event.code)
    if stamp is None:
        return None
    data = public_data(stamp)
    row = next((row for row in data["results"] if row["bib"] == bib), None)
    return (row["award"] or None) if row else None


def render(stamp: Stamp, view: str, partial: bool, locale: str) -> bytes:
    event = db.session.get(Event, stamp.event_id)
    if event is None:  # deleted since the stamp was read
        abort(404)
    data = public_data(stamp)
    if view in API_VIEWS:  # the public API's JSON document: the results or the teams
        key = API_VIEWS[view]
        document = {"event": event_summary(event), "generated_at": data["updated_at"],
                    key: data[key]}
        if "decoded" in data:  # (a board frozen before blind criteria existed has none)
            document["decoded"] = data["decoded"]
        return json.dumps(document, ensure_ascii=False).encode()
    template = f"board/_{view}.html" if partial else f"board/{view}.html"
    return render_template(
        template, event=event, data=data, updated=datetime.fromisoformat(data["updated_at"]),
        panel_etag=stamp.etag(view, True, locale),  # what the panel's polls will match
        poll=current_app.config["SCORING_BOARD_POLL"]).encode()


def page_for(stamp: Stamp, view: str, partial: bool, locale: str) -> Page:
    """This version's page, or a newer one; or, while another thread renders it or within
    the render gap after the last render, the last page of the series (with its own ETag)."""
    if not current_app.config["SCORING_BOARD_CACHE"]:
        return make_page(stamp.etag(view, partial, locale), stamp.moment,
                         render(stamp, view, partial, locale))
    series = stamp.series(view, partial, locale)
    last, rendering = cache.last(series)
    if last is not None:
        gap = cache.gap(current_app.config["SCORING_BOARD_RENDER_GAP"],
                        current_app.config["SCORING_BOARD_COST_FACTOR"])
        if last.moment >= stamp.moment or time.monotonic() - last.rendered < gap \
                or not rendering.acquire(blocking=False):
            return last
    else:
        rendering.acquire()  # nothing to show meanwhile: wait for the thread rendering it
    try:
        last, _ = cache.last(series)
        if last is not None and last.moment >= stamp.moment:
            return last  # rendered meanwhile
        page = make_page(stamp.etag(view, partial, locale), stamp.moment,
                         render(stamp, view, partial, locale))
        cache.put(series, page)
        return page
    finally:
        rendering.release()


def held(series: str) -> tuple[str, float] | None:
    """The newest page of this series that the request's If-None-Match names, as its tag
    and moment. A quick search instead of parsing the header, on the path that answers most
    requests: the tags made here hold no quote, so a quoted tag of the series found in the
    header is one of its list, weak (W/"x") or not, as If-None-Match compares them."""
    sent = request.headers.get("If-None-Match")
    if not sent:
        return None
    prefix = f'"{series}:'
    newest: tuple[str, float] | None = None
    start = sent.find(prefix)
    while start != -1:
        end = sent.find('"', start + len(prefix))
        if end == -1:
            break
        try:
            moment = float(sent[start + len(prefix):end])
        except ValueError:
            moment = math.nan
        if moment >= (newest[1] if newest else -math.inf):  # never true of nan
            newest = (sent[start + 1:end], moment)
        start = sent.find(prefix, end)
    return newest


def serve(code: str, view: str) -> ResponseReturnValue:
    """A public page or API document of an event: 304 while the client holds it, else the
    page of this version (or, while it is being rendered, the last one)."""
    current = stamps.get(code, current_app.config["SCORING_BOARD_STAMP_TTL"])
    if current is None or current.visibility not in PUBLIC:
        abort(404)
    if view in API_VIEWS:
        # One language; the event's state is in the document, so it names the series.
        partial, locale, content_type = False, current.lifecycle, "application/json"
    else:
        partial = request.headers.get("HX-Request") == "true"
        locale, content_type = select_locale(), "text/html; charset=utf-8"
    # 304 when the client holds this version or a newer one: with several workers and
    # hosts, each following a little behind (the stamp's ttl, the render gap), a phone whose
    # polls meet them in turn must not see its board step back.
    has = held(current.series(view, partial, locale))
    if has is not None and has[1] >= current.moment \
            or request.headers.get("If-None-Match", "").strip() == "*":
        return not_modified(has[0] if has else current.etag(view, partial, locale), view)
    page = page_for(current, view, partial, locale)
    if has is not None and has[1] >= page.moment:
        return not_modified(has[0], view)  # this worker's last page is no newer than the client's
    headers = {**public_headers(view), "ETag": f'W/"{page.etag}"'}
    body = page.body
    if page.gzipped is not None and "gzip" in request.accept_encodings:
        body = page.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, headers=headers, content_type=content_type)


def not_modified(etag: str, view: str) -> Response:
    return Response(status=304, headers={**public_headers(view), "ETag": f'W/"{etag}"'})


@bp.get("/e/<code>")
def board(code: str) -> ResponseReturnValue:
    return serve(code, "board")


@bp.get("/e/<code>/teams")
def teams(code: str) -> ResponseReturnValue:
    return serve(code, "teams")


@bp.get("/e/<code>/screen")
def screen(code: str) -> ResponseReturnValue:
    return serve(code, "screen")
