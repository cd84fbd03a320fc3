"""The public boards over HTTP: 304 while unchanged, visibility, and no personal data."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import Contestant, Entry, Event, User

from .test_cli import EXAMPLE_B, load_example_b, run

PUBLIC_URLS = ("/", "/e/{code}", "/e/{code}/teams", "/e/{code}/screen", "/api/events",
               "/api/events/{code}/results", "/api/events/{code}/teams")


def visibility(runner: FlaskCliRunner, code: str, value: str, ok: bool = True) -> str:
    return run(runner, "board", code, value, ok=ok)


def add_mark(runner: FlaskCliRunner, tmp_path: Path, row: str) -> None:
    path = tmp_path / "more.csv"
    path.write_text("bib,criterion,judge,score\n" + row + "\n", encoding="utf-8")
    run(runner, "scores", "import", "EX-B", path)


@pytest.fixture
def live(runner: FlaskCliRunner) -> FlaskCliRunner:
    load_example_b(runner)
    visibility(runner, "EX-B", "live")
    return runner


def test_unchanged_poll_gets_304(client: FlaskClient, live: FlaskCliRunner,
                                 tmp_path: Path) -> None:
    for url in ("/e/EX-B", "/e/EX-B/teams", "/e/EX-B/screen"):
        for headers in ({}, {"HX-Request": "true"}):
            first = client.get(url, headers=headers)
            assert first.status_code == 200 and first.headers["ETag"]
            assert "Set-Cookie" not in first.headers
            again = client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
            assert again.status_code == 304 and again.data == b""
    partial = client.get("/e/EX-B", headers={"HX-Request": "true"})
    full = client.get("/e/EX-B")
    assert partial.headers["ETag"] != full.headers["ETag"]
    assert b"<html" in full.data and b"<html" not in partial.data
    assert f'data-etag="{partial.headers["ETag"].strip(chr(34))}"'.encode() in full.data


def test_a_mark_changes_the_etag_and_the_board(client: FlaskClient, live: FlaskCliRunner,
                                              tmp_path: Path) -> None:
    first = client.get("/e/EX-B", headers={"HX-Request": "true"})
    assert "87.00" in first.get_data(as_text=True)
    add_mark(live, tmp_path, "15,P,e,100")  # 75*0.3 + 100*0.7 = 92.50: 15 goes first
    response = client.get("/e/EX-B", headers={"HX-Request": "true",
                                              "If-None-Match": first.headers["ETag"]})
    assert response.status_code == 200 and response.headers["ETag"] != first.headers["ETag"]
    page = response.get_data(as_text=True)
    assert page.index('id="bib-15"') < page.index('id="bib-03"')
    assert "92.50" in page


def test_hidden_boards_are_not_there(client: FlaskClient, runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    for url in PUBLIC_URLS[1:]:
        response = client.get(url.format(code="EX-B"))
        if url == "/api/events":
            assert response.json == {"events": []}
        else:
            assert response.status_code == 404, url


def test_live_board_has_no_awards_until_published(client: FlaskClient, runner: FlaskCliRunner,
                                                  tmp_path: Path) -> None:
    scheme = tmp_path / "scheme.toml"
    scheme.write_text((EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8")
                      + '\n[[awards]]\nname = "一等奖"\ncount = 1\n', encoding="utf-8")
    run(runner, "event", "import", scheme)
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")
    visibility(runner, "EX-B", "live")
    assert "一等奖" not in client.get("/e/EX-B").get_data(as_text=True)
    error = visibility(runner, "EX-B", "published", ok=False)
    assert "lock the scoring of EX-B" in error
    event = db.session.scalar(select(Event))
    event.state = "locked"
    db.session.commit()
    visibility(runner, "EX-B", "published")
    page = client.get("/e/EX-B").get_data(as_text=True)
    assert "一等奖" in page and "最终成绩" in page
    db.session.expire_all()
    assert db.session.scalar(select(Event.state)) == "published"
    assert client.get("/api/events/EX-B/results").json["results"][0]["award"] == "一等奖"


def test_a_frozen_board_stops_changing(client: FlaskClient, live: FlaskCliRunner,
                                       tmp_path: Path) -> None:
    visibility(live, "EX-B", "frozen")
    before = client.get("/e/EX-B")
    api_before = client.get("/api/events/EX-B/results").json["results"]
    add_mark(live, tmp_path, "15,P,e,100")
    after = client.get("/e/EX-B", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 304
    assert client.get("/api/events/EX-B/results").json["results"] == api_before
    assert "已冻结" in client.get("/e/EX-B").get_data(as_text=True)
    # Behind the frozen board the results moved on; going live again shows them.
    output = run(live, "results", "export", "EX-B", "--format", "csv")
    assert output.splitlines()[1].startswith("1,15,")
    visibility(live, "EX-B", "live")
    assert "92.50" in client.get("/e/EX-B").get_data(as_text=True)


def test_language_of_the_board(client: FlaskClient, live: FlaskCliRunner) -> None:
    chinese = client.get("/e/EX-B")
    assert "名次" in chinese.get_data(as_text=True)
    english = client.get("/e/EX-B?lang=en")
    assert "Rank" in english.get_data(as_text=True)
    assert english.headers["ETag"] != chinese.headers["ETag"]


def test_no_personal_data_on_any_public_page(client: FlaskClient, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    secrets = set()
    for person in db.session.scalars(select(Contestant)):
        secrets.update(filter(None, (person.id_number, person.phone)))
    for user in db.session.scalars(select(User)):
        secrets.add(user.display_name)
    blind_codes = {code for code in db.session.scalars(select(Entry.blind_code)) if code}
    assert len(secrets) > 60 and len(blind_codes) == 30
    for value in ("live", "frozen"):
        visibility(runner, "WELD", value)
        for url in PUBLIC_URLS:
            body = client.get(url.format(code="WELD")).get_data(as_text=True)
            assert client.get(url.format(code="WELD")).status_code == 200, url
            leaked = [secret for secret in secrets | blind_codes if secret in body]
            assert leaked == [], (url, leaked)


def test_the_index_links_the_boards(client: FlaskClient, live: FlaskCliRunner) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'href="/e/EX-B"' in page and 'href="/e/EX-B/teams"' in page


def test_organisers_set_the_visibility_in_the_browser_pages(
        client: FlaskClient, live: FlaskCliRunner) -> None:
    from .judging_helpers import sign_in

    run(live, "user", "create", "boss", "--role", "organiser", "--password", "correct-horse")
    token = sign_in(client, "boss")
    assert 'action="/admin/events/EX-B/visibility"' in client.get("/chief/EX-B").get_data(
        as_text=True)
    response = client.post("/admin/events/EX-B/visibility", data={"visibility": "frozen",
                                                                 "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Event.visibility)) == "frozen"
    response = client.post("/admin/events/EX-B/visibility", data={"visibility": "published",
                                                                 "csrf_token": token})
    assert "锁定" in client.get(response.headers["Location"]).get_data(as_text=True)
