"""QR sign-in cards that a reader scans: printed from the console (Chromium's PDF, rendered
at 200 dpi, read by zbarimg) and written by `scoring user link -o`; they lead to
SCORING_PUBLIC_URL, and a card made for this machine's own address says so."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from .conftest import screenshot, skip_or_fail
from .judging_helpers import PASSWORD, set_up_event
from .test_cli import run

pytestmark = pytest.mark.browser
HALL = "http://hall-server.example:8080"


def scan(image: Path) -> list[str]:
    """Every QR code zbarimg reads in a picture."""
    if shutil.which("zbarimg") is None:
        skip_or_fail("no zbarimg (apt-get install zbar-tools)")
    done = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable",
                           str(image)], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if line]


def test_printed_cards_scan_to_the_public_address(
        browser, app: Flask, live_server: str, runner: FlaskCliRunner,  # type: ignore[no-untyped-def]
        tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        skip_or_fail("no pdftoppm (apt-get install poppler-utils)")
    set_up_event(runner, tmp_path)
    app.config["SCORING_PUBLIC_URL"] = HALL
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(live_server + "/login")
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin**")
    page.goto(live_server + "/admin/events/J/judges")
    page.get_by_role("button", name="打印登录卡").click()
    page.wait_for_selector(".sign-in-card")
    assert page.locator(".sign-in-card").count() == 2  # judge1 and judge2
    assert page.get_by_role("button", name="打印").is_visible()
    assert "这台机器自己的地址" not in page.content()
    screenshot(page, "admin-cards-zh")
    pdf = tmp_path / "cards.pdf"
    page.pdf(path=str(pdf), format="A4")
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "card")],
                   check=True)
    found = [url for image in sorted(tmp_path.glob("card*.png")) for url in scan(image)]
    assert len(found) == 2, found
    assert all(url.startswith(HALL + "/login/link/") for url in found), found
    # A scanned card signs a tablet in as its judge (here through the test server).
    tablet = browser.new_context().new_page()
    tablet.goto(live_server + found[0].removeprefix(HALL))
    tablet.locator("form button[type=submit].primary").click()  # "sign in as 张裁判"
    tablet.wait_for_url("**/judge**")
    assert "/judge" in tablet.url and tablet.locator(".who-am-i").inner_text() in (
        "judge1", "judge2")

    # Without SCORING_PUBLIC_URL the cards lead to the address the browser used, here this
    # machine's own: the page says a tablet cannot reach it.
    app.config["SCORING_PUBLIC_URL"] = None
    page.goto(live_server + "/admin/events/J/judges")
    page.get_by_role("button", name="打印登录卡").click()
    page.wait_for_selector(".sign-in-card")
    assert "这台机器自己的地址" in page.content()


def test_a_card_from_the_command_line_is_a_picture_that_scans(
        browser, runner: FlaskCliRunner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    set_up_event(runner, tmp_path)
    card = tmp_path / "card.svg"
    output = run(runner, "user", "link", "judge1", "--base-url", HALL, "-o", card)
    url = output.strip().splitlines()[-1]
    assert url.startswith(HALL + "/login/link/") and "Warning" not in output
    text = card.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and 'xmlns="http://www.w3.org/2000/svg"' in text
    page = browser.new_context(viewport={"width": 600, "height": 600}).new_page()
    page.goto(card.as_uri())
    assert page.locator("svg").count() == 1  # a picture, not text
    page.screenshot(path=str(tmp_path / "card.png"))
    assert scan(tmp_path / "card.png") == [url]
    warned = run(runner, "user", "link", "judge2")
    assert "http://127.0.0.1:5000/login/link/" in warned and "Warning" in warned
