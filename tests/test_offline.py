"""What the server does for tablets that go offline (issue 14): the service worker's script
and scope, the header naming whose page it keeps, and a queued mark sent only as the judge
who typed it. The browser's side: tests/test_browser_offline.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import MarkRevision, User

from .judging_helpers import Judged, marks_of, row_key, set_up_event, sign_in


@pytest.fixture
def judged(runner: FlaskCliRunner, tmp_path: Path) -> Judged:
    return set_up_event(runner, tmp_path)


def user_id(name: str) -> str:
    return str(db.session.scalar(select(User.id).where(User.username == name)))


def post(client: FlaskClient, token: str, judged: Judged, value: str, judge: str | None,
         request_token: str = "q1"):  # type: ignore[no-untyped-def]
    fields = {"value": value, "version": "", "token": request_token, "view": "sheet"}
    if judge is not None:
        fields["judge"] = judge
    return client.post(f"/judge/J/V/{row_key(judged.entries[0])}", data=fields,
                       headers={"HX-Request": "true", "X-CSRFToken": token})


def test_the_service_worker_is_served_for_the_judges_pages_only(client: FlaskClient) -> None:
    response = client.get("/judge/sw.js")  # no sign-in: code, the same for everyone
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/judge"
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    assert "X-Scoring-Judge" in script and 'request.method !== "GET"' in script


def test_judge_pages_name_their_judge_and_public_pages_nobody(client: FlaskClient,
                                                               judged: Judged) -> None:
    assert "X-Scoring-Judge" not in client.get("/judge").headers  # a redirect to sign in
    sign_in(client, "judge1")
    for path in ("/judge", "/judge/J/V"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["X-Scoring-Judge"] == user_id("judge1")
        assert response.headers["Cache-Control"] == "private, no-store"
        page = response.get_data(as_text=True)
        assert f'data-judge="{user_id("judge1")}"' in page
        assert 'data-worker="/judge/sw.js"' in page and 'data-scope="/judge"' in page
    assert "X-Scoring-Judge" not in client.get("/").headers
    assert "X-Scoring-Judge" not in client.get("/e/J").headers


def test_a_queued_mark_is_saved_only_as_the_judge_who_typed_it(client: FlaskClient,
                                                                judged: Judged) -> None:
    token = sign_in(client, "judge2")
    response = post(client, token, judged, "31", judge=user_id("judge1"))
    assert response.status_code == 409
    assert "另一账号" in response.get_data(as_text=True)
    assert marks_of(judged.entries[0]) == {}
    response = post(client, token, judged, "31", judge=user_id("judge2"))
    assert response.status_code == 200 and "state-saved" in response.get_data(as_text=True)
    assert marks_of(judged.entries[0]) == {"judge2": "31"}


def test_a_queue_sent_twice_stores_each_mark_once(client: FlaskClient, judged: Judged) -> None:
    """The tablet may send an edit whose answer it never got: same token, one revision."""
    token = sign_in(client, "judge1")
    for _attempt in range(3):
        response = post(client, token, judged, "31", judge=user_id("judge1"))
        assert response.status_code == 200 and "state-saved" in response.get_data(as_text=True)
    assert marks_of(judged.entries[0]) == {"judge1": "31"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(MarkRevision.id))) == 1


def test_sign_in_and_out_pages_tell_the_browser_to_forget_kept_pages(
        client: FlaskClient, judged: Judged) -> None:
    assert 'data-forget-offline="on-load"' in client.get("/login").get_data(as_text=True)
    sign_in(client, "judge1")
    assert 'data-forget-offline="on-submit"' in client.get("/judge").get_data(as_text=True)
