"""The printable results sheet in headless Chromium (1366x768, and printed to A4), and the
images of the PDF exports in docs/screenshots (with SCORING_SCREENSHOTS=1)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from pypdf import PdfReader
from sqlalchemy import select

from scoring.extensions import db
from scoring.models import Event

from .conftest import SCREENSHOTS, make_app, screenshot
from .test_cli import run

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def demo(runner: FlaskCliRunner) -> Event:
    run(runner, "demo")
    return db.session.scalar(select(Event).where(Event.code == "WELD"))


def test_the_results_sheet_on_screen_and_on_paper(browser, live_server: str,  # type: ignore[no-untyped-def]
                                                  demo: Event) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(live_server + "/login")
    page.fill("#username", "organiser")
    page.fill("#password", "demo-organiser")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(live_server + "/admin/events/WELD/sheet")
    assert page.locator("h1").inner_text() == "焊工决赛成绩公示表"
    assert page.locator(".results-table tbody tr").count() == 30
    assert page.locator(".results-table th").first.inner_text() == "名次"
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    screenshot(page, "results-sheet-html")

    page.emulate_media(media="print")
    assert not page.locator(".bar").is_visible()
    assert not page.locator(".sheet-tools").is_visible()
    pdf = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    box = pdf.pages[0].mediabox
    assert float(box.width) > float(box.height)  # the wide sheet prints on A4 landscape
    assert round(float(box.width) / 72 * 25.4) == 297
    text = "\n".join(p.extract_text() for p in pdf.pages)
    # (Chromium's PDF writes some characters as CJK radicals: 长 comes out as ⻓.)
    assert text.count("（签字）") == 2 and "监督（签字）" in text
    assert f"1 / {len(pdf.pages)}" in text  # page numbers from the @page margin box
    assert not blocked, blocked
    context.close()


def test_images_of_the_pdf_exports(schema: str, demo: Event, tmp_path: Path) -> None:
    """The PDFs as the command line makes them; their images only for `make screenshots`."""
    demo.state = "locked"
    db.session.commit()
    chinese = make_app(schema, SCORING_LOCALE=None)
    sheet, certificates = tmp_path / "sheet.pdf", tmp_path / "certificates.pdf"
    with chinese.app_context():
        runner = chinese.test_cli_runner()
        run(runner, "results", "export", "WELD", "--format", "pdf", "-o", sheet)
        run(runner, "certificates", "WELD", "-o", certificates,
            "--base-url", "https://jineng.example.cn")
        db.engine.dispose()
    assert sheet.read_bytes().startswith(b"%PDF") and certificates.read_bytes().startswith(b"%PDF")
    if os.environ.get("SCORING_SCREENSHOTS") != "1":
        return
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing (apt-get install poppler-utils)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for source, name in ((sheet, "results-sheet-pdf"), (certificates, "certificate-pdf")):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                        str(source), str(SCREENSHOTS / name)], check=True)
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
