"""The public JSON API and pages: visibility, contract keys, and no personal data."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import select

from scoring.extensions import db
from scoring.web import board
from scoring.models import Event

from .test_cli import EXAMPLE_B, load_example_b, load_example_b_with_an_award, run

PERSONAL = ("id_number", "phone", "身份证", "手机")


def set_visibility(code: str, visibility: str) -> None:
    event = db.session.scalar(select(Event).where(Event.code == code))
    event.visibility = visibility
    db.session.commit()
    board.stamps.clear()  # written behind the operations' back: as another process would


def test_hidden_events_are_not_public(runner: FlaskCliRunner, client: FlaskClient) -> None:
    load_example_b(runner)
    assert client.get("/api/events").json == {"events": []}
    assert client.get("/api/events/EX-B/results").status_code == 404
    assert client.get("/api/events/EX-B/teams").status_code == 404
    assert "EX-B" not in client.get("/").get_data(as_text=True)


def test_live_event_results(runner: FlaskCliRunner, client: FlaskClient) -> None:
    load_example_b(runner)
    set_visibility("EX-B", "live")
    assert client.get("/api/events").json == {"events": [
        {"code": "EX-B", "name": "示例（b）：并列名次", "state": "scoring",
         "visibility": "live", "provisional": False, "appeal_window_ends_at": None}]}
    document = client.get("/api/events/EX-B/results").json
    assert set(document) == {"event", "generated_at", "results", "decoded"}
    assert document["decoded"] == ["T", "P"]  # neither is blind (tests/test_decode.py)
    assert [(row["rank"], row["bib"], row["total"]) for row in document["results"]] == [
        (1, "03", "89.55"), (2, "12", "87.00"), (2, "18", "87.00"), (4, "07", "87.00"),
        (5, "15", "82.35")]
    assert list(document["results"][0]) == [
        "rank", "bib", "name", "delegation", "unit", "status", "time", "theory", "practical",
        "T", "P", "total", "award", "complete"]
    teams = client.get("/api/events/EX-B/teams").json["teams"]
    assert teams[0] == {"rank": 1, "delegation": "沈阳代表队", "members_counted": 2,
                        "total": "176.55", "complete": True}
    assert client.get("/api/events/NOPE/results").status_code == 404


def test_awards_only_once_published(runner: FlaskCliRunner, client: FlaskClient,
                                    tmp_path: Path) -> None:
    load_example_b_with_an_award(runner, tmp_path)
    set_visibility("EX-B", "live")
    assert {row["award"] for row in client.get("/api/events/EX-B/results").json["results"]} \
        == {""}
    set_visibility("EX-B", "published")
    awards = [row["award"] for row in client.get("/api/events/EX-B/results").json["results"]]
    assert awards == ["一等奖", "", "", "", ""]


def test_no_personal_data_in_public_responses(runner: FlaskCliRunner, client: FlaskClient,
                                              tmp_path: Path) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    people = tmp_path / "people.csv"
    people.write_text("参赛号,姓名,身份证号,手机号,代表队\n"
                      "01,张三,11010519491231002X,13800138000,甲队\n", encoding="utf-8")
    run(runner, "contestants", "import", "EX-B", people)
    set_visibility("EX-B", "live")
    for url in ("/", "/api/events", "/api/events/EX-B/results", "/api/events/EX-B/teams"):
        body = client.get(url).get_data(as_text=True)
        assert "11010519491231002X" not in body and "13800138000" not in body, url
        assert not any(word in body for word in PERSONAL), url


def test_index_lists_visible_events_in_both_languages(runner: FlaskCliRunner,
                                                      client: FlaskClient) -> None:
    load_example_b(runner)
    set_visibility("EX-B", "live")
    page = client.get("/?lang=zh_CN").get_data(as_text=True)
    assert "示例（b）：并列名次" in page and "竞赛" in page
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Competitions" in page and "live (provisional)" in page


def test_language_choice_is_remembered(client: FlaskClient) -> None:
    """Staff pages remember the choice in a cookie; public pages take it from the address
    only (one cached copy per language), and the old switch sends them there."""
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    assert "竞赛" in client.get("/").get_data(as_text=True)  # the cookie is not read here
    response = client.get("/lang/en?next=/")
    assert response.headers["Location"] == "/?lang=en"
    assert "Competitions" in client.get("/?lang=en").get_data(as_text=True)
    assert client.get("/lang/en?next=/e/X?lang=zh").headers["Location"] == "/e/X?lang=en"
    assert client.get("/lang/xx").status_code == 404
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert client.get("/lang/en", query_string={"next": target}).headers["Location"] \
            == "/?lang=en"


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
