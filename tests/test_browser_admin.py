"""An organiser takes an empty database to a published event, in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from openpyxl import Workbook

from .conftest import screenshot
from .judging_helpers import PASSWORD, close_window
from .test_cli import run

pytestmark = pytest.mark.browser

CONSOLE = {"width": 1366, "height": 768}
PEOPLE = [("01", "王强", "11010519491231002X", "沈阳代表队"), ("02", "李娜", "", "大连代表队"),
          ("03", "张伟", "", "沈阳代表队")]


def registration_sheet(path: Path, id_of_second: str) -> Path:
    book = Workbook()
    book.active.append(["参赛号", "姓名", "身份证号", "代表队"])
    for bib, name, id_number, delegation in PEOPLE:
        book.active.append([bib, name, id_of_second if bib == "02" else id_number, delegation])
    book.save(path)
    return path


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def fits(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= CONSOLE["width"]


def test_from_an_empty_database_to_published_results(
        browser, live_server: str, runner: FlaskCliRunner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    context = browser.new_context(viewport=CONSOLE)
    page = context.new_page()
    sign_in(page, live_server, "boss")
    page.wait_for_url(live_server + "/admin")
    screenshot(page, "admin-dashboard-empty-zh")

    # The event, in the form.
    page.get_by_role("link", name="新建赛项").click()
    page.select_option("#f-competition", "new")
    page.fill("#f-new_competition", "第六届全国职工职业技能大赛")
    page.fill("#f-code", "WELD")
    page.fill("#f-name", "焊工决赛")
    page.fill("input[name=section-0-code]", "t")
    page.fill("input[name=section-0-name]", "理论知识")
    page.fill("input[name=section-1-code]", "p")
    page.fill("input[name=section-1-name]", "实际操作")
    for index, (code, name, section, weight) in enumerate(
            (("T", "理论考试", "t", "0.3"), ("P", "实操", "p", "0.7"))):
        page.fill(f"input[name=criterion-{index}-code]", code)
        page.fill(f"input[name=criterion-{index}-name]", name)
        # The section is chosen by name among those typed above (static/js/scheme.js).
        page.select_option(f"select[name=criterion-{index}-section]", label=f"{dict(t='理论知识', p='实际操作')[section]} ({section})")
        page.fill(f"input[name=criterion-{index}-max]", "100")
        page.fill(f"input[name=criterion-{index}-step]", "0.5")
        page.fill(f"input[name=criterion-{index}-weight]", weight)
        page.fill(f"input[name=criterion-{index}-judges]", "1")
    # Tie-breaks too, by name: the practical's subtotal first.
    page.select_option("#f-tie_break-0", label="模块：实际操作")
    page.fill("input[name=award-0-name]", "一等奖")
    page.fill("input[name=award-0-count]", "1")
    page.fill("input[name=award-1-name]", "二等奖")
    page.fill("input[name=award-1-share]", "2")  # a share above 100 %: refused beside the field
    page.get_by_role("button", name="创建赛项").click()
    assert page.locator("input[name=award-1-share][aria-invalid=true]").count() == 1
    fits(page)
    screenshot(page, "admin-scheme-error-zh")
    page.fill("input[name=award-1-share]", "")
    page.fill("input[name=award-1-name]", "")
    page.get_by_role("button", name="创建赛项").click()
    page.wait_for_url(live_server + "/admin/events/WELD")

    # Contestants: one bad row is refused and shown; fixed, the file imports.
    page.get_by_role("link", name="选手").first.click()
    page.set_input_files("#contestants-file", str(registration_sheet(
        tmp_path / "报名表.xlsx", "110105194912310021")))
    page.get_by_role("button", name="检查文件").click()
    assert page.locator("tr.row-bad").count() == 1
    assert "校验码" in page.locator("tr.row-bad").inner_text()
    assert page.get_by_role("button", name="导入 3 名选手").count() == 0
    fits(page)
    screenshot(page, "admin-contestants-preview-zh")
    page.goto(live_server + "/admin/events/WELD/contestants")
    page.set_input_files("#contestants-file", str(registration_sheet(tmp_path / "fixed.xlsx", "")))
    page.get_by_role("button", name="检查文件").click()
    page.get_by_role("button", name="导入 3 名选手").click()
    assert page.get_by_text("已导入 3 名选手").is_visible()

    # The draw.
    page.goto(live_server + "/admin/events/WELD/draw")
    page.fill("#seed", "2026")
    page.get_by_role("button", name="抽签", exact=True).click()
    assert page.get_by_text("随机种子 2026").is_visible()
    screenshot(page, "admin-draw-zh")

    # Two judges, each on one criterion.
    for username, name in (("judge1", "张裁判"), ("judge2", "李裁判")):
        page.goto(live_server + "/admin/judges")
        page.fill("#f-username", username)
        page.fill("#f-display_name", name)
        page.fill("#f-password", PASSWORD)
        page.get_by_role("button", name="创建", exact=True).click()
        assert page.get_by_text(f"已创建 {username}").is_visible()
    page.goto(live_server + "/admin/events/WELD/judges")
    page.get_by_label("张裁判 T").check()
    page.get_by_label("李裁判 P").check()
    page.get_by_role("button", name="保存").click()
    assert page.get_by_text("已保存").first.is_visible()
    page.goto(live_server + "/admin/events/WELD")
    page.check("#confirm-open")
    page.get_by_role("button", name="开始评分").click()
    page.select_option("#visibility", "live")
    page.get_by_role("button", name="应用").click()

    # The judges mark on their tablets.
    for username, code, values in (("judge1", "T", ("92", "80", "87")),
                                   ("judge2", "P", ("88.5", "90", "87"))):
        tablet = browser.new_context(viewport={"width": 1024, "height": 768})
        sheet = tablet.new_page()
        sign_in(sheet, live_server, username)
        sheet.goto(f"{live_server}/judge/WELD/{code}")
        inputs = sheet.locator(".mark-input")
        for index, value in enumerate(values):
            inputs.nth(index).fill(value)
            inputs.nth(index).press("Enter")
        sheet.wait_for_selector(".progress-count:has-text('3 / 3')")
        tablet.close()

    page.goto(live_server + "/admin/events/WELD/progress")
    assert page.locator(".progress-count").first.inner_text() == "3 / 3"
    screenshot(page, "admin-progress-zh")
    page.goto(live_server + "/admin/events/WELD")
    page.check("#confirm-lock")
    page.get_by_role("button", name="锁定评分").click()
    page.check("#confirm-provisional")
    page.get_by_role("button", name="公示成绩").click()
    assert page.locator(".badge-state").inner_text() == "公示中（申诉期）"
    assert page.locator(".appeals-card .window-open").count() == 1
    close_window("WELD")  # the appeal window's hours go by
    page.goto(live_server + "/admin/events/WELD")
    page.check("#confirm-publish")
    page.get_by_role("button", name="正式公布成绩").click()
    assert page.locator(".badge-state").inner_text() == "已公布"
    screenshot(page, "admin-event-zh")

    # The public board shows the awards.
    public = browser.new_context(viewport={"width": 390, "height": 844})
    board = public.new_page()
    board.goto(live_server + "/e/WELD")
    assert board.get_by_text("最终成绩").is_visible()
    assert board.locator("td.award", has_text="一等奖").count() == 1
    public.close()

    # The same console in English.
    page.get_by_role("link", name="English").click()
    for path, name in (("/admin", "admin-dashboard"), ("/admin/events/WELD", "admin-event"),
                       ("/admin/events/WELD/scheme", "admin-scheme"),
                       ("/admin/events/WELD/contestants", "admin-contestants"),
                       ("/admin/events/WELD/progress", "admin-progress"),
                       ("/admin/audit?event=WELD", "admin-audit")):
        page.goto(live_server + path)
        fits(page)
        screenshot(page, f"{name}-en")
    assert "Organiser console" in page.content() or "Audit log" in page.content()
    context.close()
