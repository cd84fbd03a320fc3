"""Accessibility: axe-core runs on every page a person uses, in Chinese and in English, in
headless Chromium, and finds no serious or critical violation.

axe-core is pinned in the Makefile and fetched from the npm registry by `make setup` into
tests/vendor/ (git-ignored, never served by the app). The pages keep their real
Content-Security-Policy (default-src 'self', no inline script): the browser loads axe from
a same-origin URL that Playwright answers from tests/vendor/, so nothing is bypassed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from scoring.operations import accounts as auth
from scoring.operations.certificates import issue_certificates
from scoring.extensions import db
from scoring.models import Entry, Event, User

from .conftest import skip_or_fail

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_PATH = "/__axe__/axe.min.js"  # answered by Playwright, never by the app
FAILING = ("serious", "critical")
LANGUAGES = ["zh", "en"]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}
CONSOLE = {"width": 1366, "height": 768}
SCREEN = {"width": 1920, "height": 1080}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}));
}"""


class Audit:
    """Opens contexts for one language and checks pages, collecting every violation."""

    def __init__(self, browser, base: str, language: str) -> None:  # type: ignore[no-untyped-def]
        if not AXE.exists():
            skip_or_fail(f"no {AXE.relative_to(AXE.parent.parent.parent)} (run `make setup`)")
        self.browser, self.base, self.language = browser, base, language
        self.failures: list[str] = []
        self.checked: list[str] = []
        self.contexts: list[object] = []

    def context(self, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
        context = self.browser.new_context(viewport=viewport)
        context.route(self.base + AXE_PATH, lambda route: route.fulfill(
            path=str(AXE), content_type="text/javascript; charset=utf-8"))
        if self.language == "en":
            context.add_cookies([{"name": "lang", "value": "en", "url": self.base}])
        self.contexts.append(context)
        return context

    def page(self, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
        return self.context(viewport).new_page()

    def goto(self, page, path: str, name: str | None = None) -> None:  # type: ignore[no-untyped-def]
        if self.language == "en" and (path == "/" or path.startswith(("/e/", "/verify/"))):
            # Public pages take the language from the address only (one cached copy each).
            path += ("&" if "?" in path else "?") + "lang=en"
        response = page.goto(self.base + path)
        assert response is not None and response.status < 500, (path, response and response.status)
        self.check(page, name or path)

    def check(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        page.wait_for_load_state()
        expected = "zh-CN" if self.language == "zh" else "en"
        assert page.evaluate("document.documentElement.lang") == expected, name
        if not page.evaluate("typeof window.axe === 'object'"):
            page.add_script_tag(url=AXE_PATH)
        violations = page.evaluate(RUN_AXE)
        self.checked.append(name)
        for violation in violations:
            if violation["impact"] in FAILING:
                targets = "\n".join(f"      {node['target']}  ({node['summary']})".replace(
                    "\n", " ") for node in violation["nodes"][:8])
                more = len(violation["nodes"]) - 8
                self.failures.append(
                    f"[{self.language}] {name}: {violation['id']} ({violation['impact']}): "
                    f"{violation['help']}\n{targets}" + (f"\n      … and {more} more" if more > 0
                                                         else ""))

    def sign_in(self, page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
        page.goto(self.base + "/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{username} could not sign in"

    def finish(self) -> None:
        for context in self.contexts:
            context.close()  # type: ignore[attr-defined]
        assert len(self.checked) > 0
        assert not self.failures, (
            f"{len(self.failures)} serious or critical accessibility violations on "
            f"{len(self.checked)} pages:\n" + "\n".join(self.failures))


@pytest.fixture
def demo(app: Flask, runner: FlaskCliRunner) -> Event:
    # The boards' render cache lives as long as the process and is keyed by event id and
    # results version, which a later test's fresh database reuses: keep it out of it.
    app.config["SCORING_BOARD_CACHE"] = False
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return db.session.scalar(select(Event).where(Event.code == "WELD"))


def entries_of(event: Event) -> list[Entry]:
    return list(db.session.scalars(select(Entry).where(Entry.event_id == event.id)
                                   .order_by(Entry.blind_code)))


@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages(browser, live_server: str, demo: Event, language: str) -> None:  # type: ignore[no-untyped-def]
    audit = Audit(browser, live_server, language)
    judge = db.session.scalar(select(User).where(User.username == "judge1"))
    link = auth.create_sign_in_link(judge, 24, "test")
    demo.state = "locked"  # certificates are issued once scoring is locked
    token = issue_certificates(demo, "test").certificates[0].token
    db.session.commit()

    for viewport in (PHONE, CONSOLE):
        page = audit.page(viewport)
        audit.goto(page, "/")
        audit.goto(page, "/e/WELD")
        page.fill("#find-bib", "999")  # the "no such bib" message
        page.locator(".find-bib button").click()
        audit.check(page, "/e/WELD (bib not found)")
        audit.goto(page, "/e/WELD/teams")
    audit.goto(audit.page(SCREEN), "/e/WELD/screen")
    page = audit.page(PHONE)
    audit.goto(page, f"/verify/{token}")
    audit.goto(page, "/verify/forged-token-0123456789ab", "/verify/FORGED")
    audit.goto(page, "/login")
    page.fill("#username", "judge1")
    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    audit.check(page, "/login (wrong password)")
    audit.goto(page, f"/login/link/{link}", "/login/link/VALID")
    audit.goto(page, "/login/link/revoked-or-made-up", "/login/link/INVALID")
    audit.finish()


@pytest.mark.parametrize("language", LANGUAGES)
def test_judge_pages(browser, live_server: str, demo: Event, language: str) -> None:  # type: ignore[no-untyped-def]
    audit = Audit(browser, live_server, language)
    blind_code = entries_of(demo)[0].blind_code
    page = audit.page(TABLET)
    audit.sign_in(page, "judge1", "demo-judge1")
    audit.goto(page, "/judge")
    audit.goto(page, f"/judge/WELD/code/{blind_code}", "/judge/WELD/code/BLIND")

    # The sheet, with a row refused and a row in conflict with another tab.
    stale = page.context.new_page()
    stale.goto(live_server + "/judge/WELD/P1")
    audit.goto(page, "/judge/WELD/P1")
    fields = page.locator(".mark-row:not(.state-disabled) .mark-input:enabled")
    stale_fields = stale.locator(".mark-row:not(.state-disabled) .mark-input:enabled")
    fields.nth(0).fill("999")
    fields.nth(0).press("Enter")
    page.wait_for_selector(".mark-row.state-invalid")
    fields.nth(1).fill("20")
    fields.nth(1).press("Enter")
    page.wait_for_selector(".mark-row.state-saved")
    stale_fields.nth(1).fill("21")
    stale_fields.nth(1).press("Enter")
    stale.wait_for_selector(".mark-row.state-conflict")
    audit.check(page, "/judge/WELD/P1 (refused value)")
    audit.check(stale, "/judge/WELD/P1 (conflict)")

    # Offline: a row waiting to be saved.
    page.context.set_offline(True)
    fields.nth(2).fill("22")
    fields.nth(2).press("Enter")
    page.wait_for_selector(".mark-row.state-unsaved")
    audit.check(page, "/judge/WELD/P1 (unsaved, offline)")
    page.context.set_offline(False)

    # A judgement sheet (level buttons; signing refused: marks missing, levels apart) and
    # a measurement sheet (a value, its unit and the mark it gives).
    audit.goto(page, "/judge/WELD/J1")
    page.check("#confirm-sign")
    page.locator(".sign-off button[type=submit]").click()
    page.wait_for_selector(".sign-off .field-error")
    audit.check(page, "/judge/WELD/J1 (sign-off refused)")
    measurer = audit.page(TABLET)
    audit.sign_in(measurer, "judge4", "demo-judge4")
    audit.goto(measurer, "/judge/WELD/M1")
    measurer.locator(".mark-row:not(.state-disabled) .mark-input:enabled").last.fill("2.4")
    audit.check(measurer, "/judge/WELD/M1 (a value typed)")

    # A judge with a conflict of interest: that delegation's rows are left out (blind).
    other = audit.page(TABLET)
    audit.sign_in(other, "judge2", "demo-judge2")
    audit.goto(other, "/judge/WELD/P1", "/judge/WELD/P1 (judge2)")
    audit.finish()


@pytest.mark.parametrize("language", LANGUAGES)
def test_chief_pages(browser, live_server: str, demo: Event, language: str) -> None:  # type: ignore[no-untyped-def]
    audit = Audit(browser, live_server, language)
    page = audit.page(TABLET)
    audit.sign_in(page, "chief", "demo-chief")
    audit.goto(page, "/chief")
    audit.goto(page, "/chief/WELD")
    page.locator(".cell-button").first.click()
    page.wait_for_selector("#correct-value")
    audit.check(page, "/chief/WELD (correction panel)")
    page.fill("#correct-value", "abc")
    page.fill("#correct-reason", "复核")
    page.locator("#correction button[type=submit]").click()
    page.wait_for_selector("#correct-value[aria-invalid=true]")
    audit.check(page, "/chief/WELD (correction refused)")
    audit.goto(page, "/chief/WELD/history")
    # Judge analytics at 1366x768, with a judge highlighted and with a refused threshold.
    console = audit.page(CONSOLE)
    audit.sign_in(console, "chief", "demo-chief")
    audit.goto(console, "/admin/events/WELD/analytics?threshold=2")
    assert console.locator("tr.flag-severity").count() >= 1
    audit.goto(console, "/admin/events/WELD/analytics?threshold=abc",
               "/admin/events/WELD/analytics (threshold refused)")
    audit.finish()


def bad_registration(path: Path) -> Path:
    path.write_text("参赛号,姓名,身份证号,代表队\n01,王强,11010519491231002X,沈阳代表队\n"
                    "02,李娜,110105194912310021,大连代表队\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("language", LANGUAGES)
def test_console_pages(browser, live_server: str, demo: Event, language: str,  # type: ignore[no-untyped-def]
                       tmp_path: Path) -> None:
    audit = Audit(browser, live_server, language)
    entry = entries_of(demo)[0]
    page = audit.page(CONSOLE)
    audit.sign_in(page, "organiser", "demo-organiser")
    for path in ("/admin", "/admin/events/new", "/admin/events/WELD", "/admin/events/WELD/scheme",
                 "/admin/events/WELD/contestants", f"/admin/events/WELD/entries/{entry.id}",
                 "/admin/events/WELD/draw", "/admin/events/WELD/codes", "/admin/judges",
                 "/admin/events/WELD/judges",
                 "/admin/events/WELD/progress", "/admin/events/WELD/scores", "/admin/audit", "/admin/audit?event=WELD",
                 "/admin/events/WELD/sheet", "/admin/events/WELD/certificates.pdf"):
        audit.goto(page, path)

    # The forms with their errors.
    page.goto(live_server + "/admin/events/new")
    page.locator("form.scheme-form button[type=submit]").click()
    page.wait_for_selector("[aria-invalid=true]")
    audit.check(page, "/admin/events/new (errors)")
    page.goto(f"{live_server}/admin/events/WELD/entries/{entry.id}")
    page.fill("#f-id_number", "110105194912310021")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_selector("[aria-invalid=true]")
    audit.check(page, "/admin/events/WELD/entries/ID (errors)")
    page.goto(live_server + "/admin/judges")
    page.locator("form.card button[type=submit]").first.click()
    page.wait_for_selector("[aria-invalid=true]")
    audit.check(page, "/admin/judges (errors)")
    page.goto(live_server + "/admin/events/WELD/contestants")
    page.set_input_files("#contestants-file", str(bad_registration(tmp_path / "bad.csv")))
    page.locator("#contestants-file + button").click()
    page.wait_for_selector("tr.row-bad")
    audit.check(page, "contestants preview (a bad row)")

    # A lock posted without its tick is refused beside the tick (the browser would ask
    # first: `required` is taken off, as a forged post would); the QR cards.
    page.goto(live_server + "/admin/events/WELD")
    page.evaluate("document.getElementById('confirm-lock').removeAttribute('required')")
    page.locator("form.state-form button[type=submit]").click()
    page.wait_for_selector("#confirm-lock[aria-invalid=true]")
    audit.check(page, "/admin/events/WELD (lock refused)")
    page.goto(live_server + "/admin/events/WELD/judges")
    page.locator("form[action$='/cards'] button").click()
    page.wait_for_selector(".sign-in-card")
    audit.check(page, "POST /admin/events/WELD/cards")
    audit.finish()


def test_console_pages_once_locked(browser, live_server: str,  # type: ignore[no-untyped-def]
                                   demo: Event) -> None:
    """The console's pages that change once scoring is locked (reopen form, downloads)."""
    demo.state = "locked"
    db.session.commit()
    audit = Audit(browser, live_server, "zh")
    page = audit.page(CONSOLE)
    audit.sign_in(page, "organiser", "demo-organiser")
    for path in ("/admin/events/WELD", "/admin/events/WELD/sheet", "/admin/events/WELD/draw"):
        audit.goto(page, path, f"{path} (locked)")
    audit.finish()


@pytest.mark.parametrize("language", LANGUAGES)
def test_appeal_pages(browser, live_server: str, app: Flask, runner: FlaskCliRunner,  # type: ignore[no-untyped-def]
                      language: str) -> None:
    """The demo at its provisional moment (one appeal waiting): the appeals' pages for the
    organiser, the arbiter and the chief judge, and the provisional board."""
    app.config["SCORING_BOARD_CACHE"] = False
    result = runner.invoke(args=["demo", "--provisional"])
    assert result.exit_code == 0, result.output
    audit = Audit(browser, live_server, language)
    audit.goto(audit.page(PHONE), "/e/WELD")
    for username, password in (("organiser", "demo-organiser"), ("arbiter", "demo-arbiter"),
                               ("chief", "demo-chief")):
        page = audit.page(CONSOLE)
        audit.sign_in(page, username, password)
        for path in ("/appeals", "/appeals/WELD", "/appeals/WELD/1"):
            audit.goto(page, path, f"{path} ({username})")
    audit.finish()
