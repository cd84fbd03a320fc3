"""Error pages speak the visitor's language: a page with a way back, one line for htmx,
JSON on the API (werkzeug's own pages are English only)."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_errors_are_said_in_words(client: FlaskClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "找不到这个页面" in text and 'href="/"' in text and "Not Found" not in text
    english = client.get("/no-such-page?lang=en")
    assert "There is no such page" in english.get_data(as_text=True)
    htmx = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert htmx.status_code == 404 and "<html" not in htmx.get_data(as_text=True)
    api = client.get("/api/events/NOPE/results")
    assert api.status_code == 404 and api.json == {"error": "not found"}
    wrong_method = client.put("/login")
    assert wrong_method.status_code == 405 and "不能这样使用" in wrong_method.get_data(as_text=True)
