"""Public responses a shared cache can keep: the same for everyone (no cookie read or set),
the language in the address, `Cache-Control: public` from the settings; staff responses
private and never stored (README, "The crowd behind a shared cache")."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from .judging_helpers import PASSWORD
from .test_board import visibility
from .test_cli import load_example_b, run

PUBLIC = ("/", "/e/EX-B", "/e/EX-B/teams", "/e/EX-B/screen", "/api/events",
          "/api/events/EX-B/results", "/api/events/EX-B/teams", "/verify/nothing-here")


def sign_in(client: FlaskClient, username: str) -> None:
    from .judging_helpers import sign_in as form_sign_in

    form_sign_in(client, username)


def test_public_responses_are_the_same_for_everyone_and_say_so(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    app.config.update(SCORING_PUBLIC_MAX_AGE=7, SCORING_PUBLIC_STALE=11)
    load_example_b(runner)
    visibility(runner, "EX-B", "live")
    anonymous = {url: client.get(url) for url in PUBLIC}
    for url, response in anonymous.items():
        assert "Set-Cookie" not in response.headers, url
        assert "Cookie" not in response.headers.get("Vary", ""), url
        if response.status_code == 200:
            assert response.headers["Cache-Control"] == \
                "public, max-age=7, stale-while-revalidate=11", url
    assert anonymous["/e/EX-B"].headers["Vary"] == "HX-Request, Accept-Encoding"
    assert anonymous["/api/events/EX-B/results"].headers["Vary"] == "Accept-Encoding"

    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    sign_in(client, "boss")
    client.set_cookie("lang", "en")
    for url in ("/", "/e/EX-B", "/e/EX-B/teams", "/e/EX-B/screen"):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url
        assert response.data == anonymous[url].data, url  # no name, no token, no cookie's language
    english = client.get("/e/EX-B?lang=en").get_data(as_text=True)
    assert "Team ranking" in english and 'href="/e/EX-B/teams?lang=en"' in english
    assert 'hx-get="/e/EX-B?lang=en"' in english  # the polls keep the language
    assert "?lang=zh" in english  # the way back to Chinese is an address too


def test_staff_responses_are_never_stored(client: FlaskClient, runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    assert client.get("/login").headers["Cache-Control"] == "private, no-store"
    sign_in(client, "boss")
    for url in ("/admin", "/admin/events/EX-B", "/chief/EX-B"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
    client.set_cookie("lang", "en")
    assert "Sign out" in client.get("/admin").get_data(as_text=True)  # staff: the cookie counts
