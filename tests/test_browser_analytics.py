"""The judge analytics page in headless Chromium at 1366x768: the chart is drawn (SVG, with
its title), the highlight follows the threshold typed, the page fits; on DOMAIN.md's
example (e) and on the demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from .conftest import screenshot
from .test_analytics import set_up_panel
from .test_browser_admin import CONSOLE, fits, sign_in
from .test_cli import run

pytestmark = pytest.mark.browser


def test_the_chart_and_the_highlight(browser, live_server: str, runner: FlaskCliRunner,
                                     tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    set_up_panel(runner, tmp_path)
    context = browser.new_context(viewport=CONSOLE)
    page = context.new_page()
    sign_in(page, live_server, "chief")
    page.wait_for_url(live_server + "/chief")
    page.get_by_role("link", name="裁判评分分析").click()
    page.wait_for_url(live_server + "/admin/events/AN/analytics")
    chart = page.locator("svg.analytics-chart")
    assert chart.count() == 1 and chart.is_visible()
    assert chart.get_attribute("role") == "img"
    assert chart.locator("title").first.text_content().startswith("Q 焊缝外观")
    assert chart.locator("g.judge-bar").count() == 3
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("tr.flag-severity").count() == 0  # 10% of 50: 5, nobody beyond
    # 5%: 2.5, A (−3) and C (+3) beyond, in the table and the chart.
    page.fill("#f-threshold", "5")
    page.get_by_role("button", name="显示").click()
    page.wait_for_url("**threshold=5**")
    assert page.locator("tr.flag-severity").count() == 2
    assert page.locator("tr.flag-severity .severity-flag").all_text_contents() == ["偏严", "偏宽"]
    assert chart.locator("g.judge-bar.flagged").count() == 2
    # The severity dots are left of the zero line for A, right for C, on it for B.
    zero = float(chart.locator("line.zero").get_attribute("x1") or 0)
    dots = [float(chart.locator(f'g[data-judge="{name}"] circle').get_attribute("cx") or 0)
            for name in "ABC"]
    assert dots[0] < zero and dots[1] == zero and dots[2] > zero
    fits(page)
    # A bad threshold: said beside the field.
    page.fill("#f-threshold", "200")
    page.get_by_role("button", name="显示").click()
    assert page.locator("#f-threshold[aria-invalid=true]").count() == 1
    assert page.locator(".field-error").text_content() == "请填写 0 到 100 之间的百分比。"
    context.close()


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_demo_reads_sensibly(browser, live_server: str, runner: FlaskCliRunner,
                                 locale: str) -> None:  # type: ignore[no-untyped-def]
    run(runner, "demo")
    context = browser.new_context(viewport=CONSOLE)
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#username", "chief")
    page.fill("#password", "demo-chief")
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/chief")
    if locale == "en":
        page.goto(live_server + "/lang/en?next=/chief")
    page.goto(live_server + "/admin/events/WELD/analytics?threshold=2")
    charts = page.locator("svg.analytics-chart")
    assert charts.count() >= 1
    assert page.locator("table.analytics-table").count() == charts.count()
    for index in range(charts.count()):
        assert charts.nth(index).locator("g.judge-bar").count() >= 3
    fits(page)
    screenshot(page, f"admin-analytics-{locale}")
    context.close()
