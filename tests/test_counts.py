"""One count of marks expected: the console's dashboard, its progress page, each judge's count
on their sheet, the chief judge's matrix and the results' `complete` give the same numbers,
in every state of the demo (they used to disagree: dashboard 252/261, progress 0 missing)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import select

from scoring import demo
from scoring.extensions import db
from scoring.models import Assignment, Criterion, Entry, Event, User

from .judging_helpers import close_window, csrf_token, step


@dataclass
class Seen:
    dashboard: tuple[int, int]
    progress: tuple[int, int]
    missing: list[tuple[str, str]]  # (blind code or bib, judge) as the progress page lists
    owed_by_judges: int  # the judges' sheets: expected minus entered, added up
    matrix_missing: int
    incomplete: set[str]  # bibs the results API calls not complete


def sign_in_as(client: FlaskClient, username: str, password: str) -> str:
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return csrf_token(client, response.headers["Location"])


def look(client: FlaskClient) -> Seen:
    db.session.expire_all()
    event = db.session.scalar(select(Event).where(Event.code == "WELD"))
    sign_in_as(client, "organiser", "demo-organiser")
    dashboard = client.get("/admin").get_data(as_text=True)
    row = re.search(r'href="/admin/events/WELD".*?</tr>', dashboard, re.S).group(0)
    counts = tuple(map(int, re.search(r"(\d+) / (\d+)", row).groups()))
    page = client.get("/admin/events/WELD/progress").get_data(as_text=True)
    per_criterion = [tuple(map(int, found)) for found in re.findall(
        r'class="progress-count">(\d+) / (\d+)<', page)]
    progress = (sum(done for done, _ in per_criterion),
                sum(expected for _, expected in per_criterion))
    # Each missing mark: its code in the folded list of the judge who owes it ("" for an
    # import).
    missing = re.findall(r'<li class="code" data-judge="([^"]*)">([^<]+)</li>', page)
    missing = [(code, judge) for judge, code in missing]
    # The results with every mark, as organisers see them (the public's leave out the blind
    # criteria not yet decoded: tests/test_decode.py).
    incomplete = {row["bib"] for row in json.loads(client.get(
        "/admin/events/WELD/export.json").data)["results"] if not row["complete"]}
    owed = 0
    for user in db.session.scalars(select(User).where(User.role == "judge")):
        sign_in_as(client, user.username, f"demo-{user.username}")
        for criterion in db.session.scalars(select(Criterion).join(Assignment).where(
                Assignment.user_id == user.id)):
            done, expected = map(int, client.get(
                f"/judge/WELD/{criterion.code}/progress").get_data(as_text=True).split(" / "))
            owed += expected - done
    sign_in_as(client, "chief", "demo-chief")
    matrix = client.get("/chief/WELD").get_data(as_text=True)
    cells = matrix.count('<span class="flag-missing" title=')
    flagged = int(re.search(r'class="flag-missing legend-swatch">[^<]*?(\d+)<', matrix).group(1))
    assert cells == flagged
    return Seen(counts, progress, missing, owed, cells, incomplete)  # type: ignore[arg-type]


def agree(seen: Seen) -> None:
    done, expected = seen.progress
    assert seen.dashboard == seen.progress
    assert len(seen.missing) == expected - done
    by_judges = [item for item in seen.missing if item[1] != ""]
    assert seen.owed_by_judges == len(by_judges) == seen.matrix_missing
    codes = {entry.blind_code: entry.bib for entry in db.session.scalars(select(Entry))}
    assert seen.incomplete == {codes.get(code, code) for code, _judge in seen.missing}


def test_every_count_agrees_in_every_state_of_the_demo(client: FlaskClient,
                                                       runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["demo"]).exit_code == 0
    halfway = look(client)
    agree(halfway)
    assert halfway.missing and halfway.dashboard[0] < halfway.dashboard[1]

    demo.simulate(rate=1e6, echo=lambda line: None, seed=3)
    done = look(client)
    agree(done)
    assert not done.missing and done.dashboard[0] == done.dashboard[1]
    assert done.dashboard[1] == halfway.dashboard[1]  # the same marks were expected all along

    for action in ("lock", "provisional", "publish"):
        if action == "publish":
            close_window("WELD")
        token = sign_in_as(client, "organiser", "demo-organiser")  # look() signs in anew
        client.post("/admin/events/WELD/state", data={"csrf_token": token, **step(action)})
        assert db.session.scalar(select(Event.state)) == {
            "lock": "locked", "provisional": "provisional", "publish": "published"}[action]
        agree(look(client))
    # An absent contestant and a judge standing aside are expected nowhere.
    assert done.dashboard == look(client).dashboard
