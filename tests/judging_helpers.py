"""Set-up shared by the judging tests: a small drawn event with two judges and a chief."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import Criterion, Entry, Event, Mark

from .test_cli import EXAMPLE_B, run

PASSWORD = "correct-horse"

SCHEME = """code = "J"
name = "焊工评分"
[[sections]]
code = "p"
name = "实操"
[[criteria]]
code = "V"
name = "外观检验"
section = "p"
max = 40
step = 0.5
judges = 2
max_spread = 5
[[criteria]]
code = "R"
name = "射线探伤"
section = "p"
max = 30
judges = 1
"""


@dataclass
class Judged:
    event: Event
    entries: list[Entry]  # by blind code

    def criterion(self, code: str) -> Criterion:
        return next(c for c in self.event.criteria if c.code == code)


def set_up_event(runner: FlaskCliRunner, tmp_path, text: str = SCHEME) -> Judged:  # type: ignore[no-untyped-def]
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(text, encoding="utf-8")
    run(runner, "event", "import", scheme)
    run(runner, "contestants", "import", "J", EXAMPLE_B / "contestants.csv")
    run(runner, "draw", "J", "--seed", "1")
    run(runner, "user", "create", "judge1", "--role", "judge", "--password", PASSWORD)
    run(runner, "user", "create", "judge2", "--role", "judge", "--password", PASSWORD)
    run(runner, "user", "create", "chief", "--role", "chief", "--password", PASSWORD,
        "--event", "J")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    run(runner, "judge", "assign", "J", "judge1", "V")
    run(runner, "judge", "assign", "J", "judge2", "V", "R")
    event = db.session.scalar(select(Event).where(Event.code == "J"))
    event.state = "scoring"
    db.session.commit()
    entries = list(db.session.scalars(select(Entry).where(Entry.event_id == event.id)
                                      .order_by(Entry.blind_code)))
    return Judged(event, entries)


def csrf_token(client: FlaskClient, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the page's CSRF token for later posts."""
    token = csrf_token(client)
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_token(client, response.headers["Location"])


def row_key(entry: Entry, criterion: str | Criterion = "V") -> str:
    """What names an entry's row on a judge's sheet of the criterion (a code, or a Criterion
    of the entry's event): its blind code on a blind criterion, its sheet key on another."""
    if isinstance(criterion, str):
        criterion = db.session.scalar(select(Criterion).where(
            Criterion.event_id == entry.event_id, Criterion.code == criterion))
    if criterion is not None and not criterion.blind:
        return entry.sheet_key
    return entry.blind_code or entry.sheet_key


def save(client: FlaskClient, token: str, entry: Entry, value: str, criterion: str = "V",
         version: str = "", request_token: str | None = None, event: str = "J"):  # type: ignore[no-untyped-def]
    return client.post(f"/judge/{event}/{criterion}/{row_key(entry, criterion)}", data={
        "value": value, "version": version, "token": request_token or "", "view": "sheet"},
        headers={"HX-Request": "true", "X-CSRFToken": token})


def marks_of(entry: Entry, criterion: str = "V") -> dict[str, str]:
    db.session.expire_all()
    return {mark.judge: str(mark.value) for mark in db.session.scalars(
        select(Mark).join(Criterion).where(Mark.entry_id == entry.id,
                                           Criterion.code == criterion))}


# The state each ticked step of the lifecycle leaves (the console's page carries it).
STEP_FROM = {"open": "drawn", "lock": "scoring", "provisional": "locked",
             "publish": "provisional"}


def close_window(code: str) -> None:
    """Move an event's provisional publication back past its appeal window (the window's
    end is the stored start plus `appeal_hours`), as if the hours had gone by."""
    from datetime import timedelta

    event = db.session.scalar(select(Event).where(Event.code == code))
    assert event is not None and event.provisional_at is not None
    event.provisional_at -= timedelta(hours=event.appeal_hours, minutes=1)
    db.session.commit()


def publish_now(event: Event, actor: str = "test") -> None:
    """Publish a locked event through the operations: provisionally, the appeal window let
    pass (its start moved back), then finally; committed."""
    from datetime import timedelta

    from scoring.operations.events import change_state

    change_state(event, "provisional", actor)
    db.session.commit()
    event.provisional_at -= timedelta(hours=event.appeal_hours, minutes=1)
    db.session.commit()
    change_state(event, "publish", actor)
    db.session.commit()


def publish_cli(runner: FlaskCliRunner, code: str) -> None:
    """Publish a locked event from the command line: provisionally, the window let pass,
    then finally (`scoring board CODE published`)."""
    run(runner, "event", "state", code, "provisional")
    close_window(code)
    run(runner, "board", code, "published")


def publish_steps(client: FlaskClient, token: str, code: str) -> None:
    """Lock (if in scoring), publish provisionally, let the appeal window pass, publish:
    through the console's event page, each step ticked."""
    db.session.expire_all()
    state = db.session.scalar(select(Event.state).where(Event.code == code))
    steps = {"scoring": ["lock", "provisional"], "locked": ["provisional"]}.get(state, [])
    for action in steps:
        response = client.post(f"/admin/events/{code}/state",
                               data={"csrf_token": token, **step(action)})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    close_window(code)
    response = client.post(f"/admin/events/{code}/state",
                           data={"csrf_token": token, **step("publish")})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def step(action: str, **fields: str) -> dict[str, str]:
    """The fields the console's event page posts for a step: the action, its tick and the
    state the page showed (a reopening: its reason, no tick)."""
    if action in STEP_FROM:
        fields = {"confirm": "y", "from_state": STEP_FROM[action], **fields}
    return {"action": action, **fields}


def settle_spreads(event) -> None:  # type: ignore[no-untyped-def]
    """The chief judge confirms the judgement levels too far apart that the demo leaves (for
    the chief judge to see), as its simulation does: scoring is not locked without."""
    from scoring import demo
    for criterion in event.criteria:
        demo.confirm_spreads(event, criterion, lambda _line: None)
