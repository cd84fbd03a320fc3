"""The public boards over HTTP: 304 while unchanged, visibility, and no personal data."""

from __future__ import annotations

import gzip
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from scoring.web import board
from scoring.extensions import db
from scoring.models import Contestant, Entry, Event, User, utcnow

from .test_cli import EXAMPLE_B, load_example_b, load_example_b_with_an_award, run

PUBLIC_URLS = ("/", "/e/{code}", "/e/{code}/teams", "/e/{code}/screen", "/api/events",
               "/api/events/{code}/results", "/api/events/{code}/teams")


def visibility(runner: FlaskCliRunner, code: str, value: str, ok: bool = True) -> str:
    return run(runner, "board", code, value, ok=ok)


def opaque(etag: str) -> str:
    """The tag inside a weak ETag header, W/"tag", as the page's data-etag holds it."""
    assert etag.startswith('W/"') and etag.endswith('"'), etag
    return etag[3:-1]


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
    assert f'data-etag="{opaque(partial.headers["ETag"])}"'.encode() in full.data


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


class Clock:
    """time.monotonic for board.py, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_board_changing_fast_is_rendered_once_per_gap(
        app: Flask, client: FlaskClient, live: FlaskCliRunner, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(board.time, "monotonic", clock)
    app.config["SCORING_BOARD_RENDER_GAP"] = 1.0
    poll = {"HX-Request": "true"}
    first = client.get("/e/EX-B", headers=poll)
    add_mark(live, tmp_path, "15,P,e,100")
    clock.now += 0.5  # within the gap: the last page still, under its own ETag
    within = client.get("/e/EX-B", headers=poll)
    assert within.headers["ETag"] == first.headers["ETag"] and within.data == first.data
    assert client.get("/e/EX-B", headers={**poll, "If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    # A page nobody asked for before (the full page here) is rendered at once, gap or not.
    assert "92.50" in client.get("/e/EX-B").get_data(as_text=True)
    clock.now += 0.6  # past it: the new version
    after = client.get("/e/EX-B", headers={**poll, "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]
    assert "92.50" in after.get_data(as_text=True)


def test_one_thread_renders_a_new_version_the_others_serve_the_last(
        app: Flask, live: FlaskCliRunner, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    poll = {"HX-Request": "true"}
    first = app.test_client().get("/e/EX-B", headers=poll)
    add_mark(live, tmp_path, "15,P,e,100")
    renders: list[str] = []
    started, finish = threading.Event(), threading.Event()
    real_render = board.render

    def slow_render(*args: object) -> bytes:
        renders.append(threading.current_thread().name)
        started.set()
        assert finish.wait(10)
        return real_render(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(board, "render", slow_render)
    answers: dict[str, TestResponse] = {}

    def get(name: str) -> None:
        with app.app_context():
            answers[name] = app.test_client().get("/e/EX-B", headers=poll)

    renderer = threading.Thread(target=get, args=("renderer",), name="renderer")
    renderer.start()
    assert started.wait(10)
    others = [threading.Thread(target=get, args=(f"poll{n}",)) for n in range(6)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(10)
    finish.set()
    renderer.join(10)
    assert renders == ["renderer"]
    assert all(answers[f"poll{n}"].headers["ETag"] == first.headers["ETag"] for n in range(6))
    assert answers["renderer"].headers["ETag"] != first.headers["ETag"]
    assert "92.50" in answers["renderer"].get_data(as_text=True)


def test_a_phone_never_sees_its_board_step_back(
        app: Flask, client: FlaskClient, live: FlaskCliRunner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers follow the database each a little behind: one that has not seen a version
    yet leaves a phone holding it alone."""
    clock = Clock()
    monkeypatch.setattr(board.time, "monotonic", clock)
    poll = {"HX-Request": "true"}
    first = client.get("/e/EX-B", headers=poll)
    series, moment = opaque(first.headers["ETag"]).rsplit(":", 1)
    # Another worker saw the next version and sent it; this one still trusts its stamp.
    db.session.execute(update(Event).values(results_version=Event.results_version + 1))
    db.session.commit()
    newer = f"{series}:{int(moment) + 1}"
    answer = client.get("/e/EX-B", headers={**poll, "If-None-Match": f'W/"{newer}"'})
    assert answer.status_code == 304 and answer.headers["ETag"] == f'W/"{newer}"'
    listed = client.get("/e/EX-B", headers={
        **poll, "If-None-Match": f'"x", W/"{series}:{int(moment) - 1}", "{newer}"'})
    assert listed.status_code == 304 and listed.headers["ETag"] == f'W/"{newer}"'
    # An older page, or one of another series (the other language), is answered in full.
    older = client.get("/e/EX-B", headers={**poll, "If-None-Match": f'"{series}:0"'})
    assert older.status_code == 200 and older.headers["ETag"] == first.headers["ETag"]
    other = series.replace("zh_CN", "en")
    assert client.get("/e/EX-B", headers={**poll, "If-None-Match": f'"{other}:{moment}"'}
                      ).status_code == 200
    assert client.get("/e/EX-B", headers={**poll, "If-None-Match": f'"{series}:x"'}
                      ).status_code == 200
    clock.now += 1  # once this worker reads the database, the newer version is served
    assert client.get("/e/EX-B", headers={**poll, "If-None-Match": f'"{series}:{moment}"'}
                      ).headers["ETag"] == f'W/"{newer}"'


def test_updated_is_when_the_results_last_changed(client: FlaskClient, live: FlaskCliRunner,
                                                  tmp_path: Path) -> None:
    before = utcnow()
    add_mark(live, tmp_path, "15,P,e,100")
    event = db.session.scalar(select(Event))
    assert event.results_changed_at is not None and event.results_changed_at >= before
    # Every worker, drawing the page whenever it does, shows the time of the change.
    changed = datetime(2026, 11, 25, 2, 3, 4, tzinfo=timezone.utc)  # 10:03:04 in Beijing
    db.session.execute(update(Event).values(results_changed_at=changed,
                                            results_version=Event.results_version + 1))
    db.session.commit()
    board.stamps.clear()
    for url in ("/e/EX-B", "/e/EX-B/screen"):
        assert "10:03:04" in client.get(url).get_data(as_text=True)
        board.cache.clear()
        assert "10:03:04" in client.get(url).get_data(as_text=True)


def test_the_pages_of_one_version_share_one_computation(
        client: FlaskClient, live: FlaskCliRunner, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[int] = []
    real = board.board_data
    monkeypatch.setattr(board, "board_data", lambda event: computed.append(1) or real(event))
    urls = ("/e/EX-B", "/e/EX-B/teams", "/e/EX-B/screen", "/e/EX-B?lang=en")
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            assert client.get(url, headers=headers).status_code == 200
    assert len(computed) == 1
    add_mark(live, tmp_path, "15,P,e,100")
    pages = [client.get(url).get_data(as_text=True) for url in urls]
    assert len(computed) == 2 and all("92.50" in page for page in pages)


def test_the_board_is_sent_gzipped_to_those_who_ask(client: FlaskClient,
                                                    live: FlaskCliRunner) -> None:
    for url in ("/e/EX-B", "/e/EX-B/teams", "/e/EX-B/screen"):
        plain = client.get(url)
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert "Content-Encoding" not in plain.headers
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.data) == plain.data
        assert packed.headers["ETag"] == plain.headers["ETag"]  # a weak ETag for both
        assert client.get(url, headers={"Accept-Encoding": "gzip",
                                        "If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_another_process_change_is_seen_within_the_stamp_ttl(
        app: Flask, client: FlaskClient, live: FlaskCliRunner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(board.time, "monotonic", clock)
    app.config["SCORING_BOARD_STAMP_TTL"] = 0.5
    first = client.get("/e/EX-B")
    # Another worker commits a change: this process has not seen it, its stamp is trusted...
    db.session.execute(update(Event).values(results_version=Event.results_version + 1))
    db.session.commit()
    clock.now += 0.4
    assert client.get("/e/EX-B", headers={"If-None-Match": first.headers["ETag"]}
                      ).status_code == 304
    clock.now += 0.2  # ...until the ttl is over
    after = client.get("/e/EX-B", headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]
    # Hiding a board takes effect the same way.
    db.session.execute(update(Event).values(visibility="hidden"))
    db.session.commit()
    clock.now += 0.6
    assert client.get("/e/EX-B").status_code == 404


def test_missing_marks_are_marked_provisional_on_the_board_and_the_teams(
        client: FlaskClient, runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Bib 18 (沈阳代表队) lacks its P mark: its row and its delegation are provisional,
    on the pages and in the API, until the mark arrives."""
    scores = tmp_path / "scores.csv"
    scores.write_text("".join(line for line in (EXAMPLE_B / "scores.csv").read_text(
        encoding="utf-8").splitlines(keepends=True) if not line.startswith("18,P,")),
        encoding="utf-8")
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", scores)
    visibility(runner, "EX-B", "live")

    def starred(page: str, row_id: str) -> bool:
        row = page[page.index(f'id="{row_id}"'):]
        return "provisional-mark" in row[:row.index("</tr>")]

    board_page = client.get("/e/EX-B").get_data(as_text=True)
    assert [bib for bib in ("03", "07", "12", "15", "18") if starred(board_page, f"bib-{bib}")] \
        == ["18"]
    teams = client.get("/api/events/EX-B/teams").json["teams"]
    assert {team["delegation"]: team["complete"] for team in teams} == {
        "沈阳代表队": False, "大连代表队": True, "鞍钢代表队": True, "抚顺代表队": True}
    teams_page = client.get("/e/EX-B/teams").get_data(as_text=True)
    starred_teams = [team["delegation"] for index, team in enumerate(teams, start=1)
                     if starred(teams_page, f"team-{index}")]
    assert starred_teams == ["沈阳代表队"] and "队内有选手仍有评分未录入" in teams_page

    add_mark(runner, tmp_path, "18,P,e,87")
    for url in ("/e/EX-B", "/e/EX-B/teams"):
        page = client.get(url).get_data(as_text=True)
        assert "provisional-mark" not in page and "仍有评分未录入" not in page
    assert all(team["complete"] for team in client.get("/api/events/EX-B/teams").json["teams"])


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
    load_example_b_with_an_award(runner, tmp_path)
    visibility(runner, "EX-B", "live")
    assert "一等奖" not in client.get("/e/EX-B").get_data(as_text=True)
    error = visibility(runner, "EX-B", "published", ok=False)
    assert "publish the results of EX-B provisionally" in error
    event = db.session.scalar(select(Event))
    event.state = "locked"
    db.session.commit()
    from .judging_helpers import close_window

    run(runner, "event", "state", "EX-B", "provisional")
    page = client.get("/e/EX-B?lang=en").get_data(as_text=True)  # awards, marked provisional
    assert "一等奖" in page and "Award (provisional)" in page
    assert "appeal window is open" in visibility(runner, "EX-B", "published", ok=False)
    close_window("EX-B")
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


def test_one_computation_per_version_whoever_asks_at_once(
        app: Flask, live: FlaskCliRunner, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The board, the teams, the big screen and both API documents asking for a new version
    at the same moment wait for one computation of the results instead of each making one
    (a 10,000-entry event takes about 0.4 s of a core for each)."""
    add_mark(live, tmp_path, "15,P,e,100")
    computed: list[int] = []
    real = board.board_data

    def slow(event: object) -> dict:
        computed.append(1)
        threading.Event().wait(0.3)
        return real(event)  # type: ignore[arg-type]

    monkeypatch.setattr(board, "board_data", slow)
    urls = ["/e/EX-B", "/e/EX-B/teams", "/e/EX-B/screen", "/api/events/EX-B/results",
            "/api/events/EX-B/teams"]
    statuses: list[int] = []

    def get(url: str) -> None:
        with app.app_context():
            statuses.append(app.test_client().get(url).status_code)

    threads = [threading.Thread(target=get, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert statuses == [200] * len(urls) and len(computed) == 1


def test_the_render_gap_grows_with_the_cost_of_the_results() -> None:
    cache = board.RenderCache()
    assert cache.gap(1.0, 10) == 1.0
    cache.data("state", lambda: threading.Event().wait(0.05) and {} or {})
    assert cache.cost >= 0.05
    assert cache.gap(0.1, 10) == pytest.approx(10 * cache.cost) and cache.gap(1.0, 0) == 1.0
