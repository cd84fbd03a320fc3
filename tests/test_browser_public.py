"""The public index in a real browser, at phone, tablet and big-screen sizes."""

from __future__ import annotations

import pytest
from flask.testing import FlaskCliRunner

from .conftest import screenshot
from .test_api import set_visibility
from .test_cli import load_example_b

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "tablet": (1024, 768), "screen": (1920, 1080)}


@pytest.mark.parametrize("size", SIZES)
def test_index_in_both_languages(browser, live_server: str,  # type: ignore[no-untyped-def]
                                 runner: FlaskCliRunner, size: str) -> None:
    load_example_b(runner)
    set_visibility("EX-B", "live")
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text() == "竞赛"
    assert page.get_by_text("示例（b）：并列名次").is_visible()
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"index-{size}-zh")
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "Competitions"
    assert page.get_by_text("live (provisional)").is_visible()
    screenshot(page, f"index-{size}-en")
    page.get_by_role("link", name="中文").click()
    assert page.locator("h1").inner_text() == "竞赛"
    context.close()
