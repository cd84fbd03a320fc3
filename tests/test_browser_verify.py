"""The certificate verification page as someone scanning a certificate sees it on a phone:
valid while the published results give that award, then "not valid now" when the event is
reopened, and "withdrawn" once a correction changed the award, without any reprint."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import Certificate, Event, Mark
from scoring.web import board

from .conftest import screenshot
from .judging_helpers import publish_now
from .test_cli import run

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_a_certificate_on_a_phone_follows_the_published_results(
        browser, live_server: str, runner: FlaskCliRunner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(runner, "demo")
    from scoring import demo

    demo.simulate(rate=1e6, echo=lambda line: None, seed=5)
    event = db.session.scalar(select(Event).where(Event.code == "WELD"))
    from scoring.operations.events import change_state

    change_state(event, "lock", "test")
    db.session.commit()
    publish_now(event)
    run(runner, "certificates", "WELD", "-o", tmp_path / "c.pdf")
    first = db.session.scalars(select(Certificate).order_by(Certificate.id)).first()
    url = f"{live_server}/verify/{first.token}"
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    for language in ("zh", "en"):
        # A new visit (a browser keeps a public page for SCORING_PUBLIC_MAX_AGE plus the
        # stale-while-revalidate seconds, as a shared cache does).
        page = browser.new_context(viewport=PHONE).new_page()
        page.goto(f"{url}?lang={language}")
        assert page.locator("h1.ok").is_visible()
        assert first.award in page.locator(".facts-award").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, f"verify-valid-{language}")

    change_state(db.session.get(Event, event.id), "reopen", "test", reason="复核")
    db.session.commit()
    board.stamps.clear()
    for language in ("zh", "en"):
        # A new visit (a browser keeps a public page for SCORING_PUBLIC_MAX_AGE plus the
        # stale-while-revalidate seconds, as a shared cache does).
        page = browser.new_context(viewport=PHONE).new_page()
        page.goto(f"{url}?lang={language}")
        assert page.locator("h1.error").is_visible()
        assert first.award not in page.content()
        screenshot(page, f"verify-reopened-{language}")

    # The winner's marks drop to nothing: the award goes elsewhere, republished.
    winner = first.entry_id
    for mark in db.session.scalars(select(Mark).where(Mark.entry_id == winner)):
        if mark.criterion.kind == "score":
            mark.value = mark.criterion.max_value * 0
    event = db.session.get(Event, event.id)
    event.results_version += 1
    db.session.commit()
    change_state(db.session.get(Event, event.id), "lock", "test")
    db.session.commit()
    publish_now(db.session.get(Event, event.id))
    board.stamps.clear()
    for language in ("zh", "en"):
        page = browser.new_context(viewport=PHONE).new_page()  # a new visit (see above)
        response = page.goto(f"{url}?lang={language}")
        assert response.status == 404
        text = page.locator("h1").inner_text()
        assert text in ("此证书已被撤销", "This certificate was withdrawn")
        screenshot(page, f"verify-withdrawn-{language}")
    context.close()
