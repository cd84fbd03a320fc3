"""A tablet that loses the network (issue 14): marks typed offline are kept in the browser's
IndexedDB, the sheet opens from the service worker, and everything arrives once the network
returns, across a reload and a closed browser (a persistent Chromium profile); the queue is
sent only as the judge who typed it; signing out clears the kept pages, not the queue."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from werkzeug.serving import make_server

from scoring.extensions import db
from scoring.models import Criterion, Mark, MarkRevision, User
from scoring.operations import marks as marking

from .conftest import CHROMIUM, screenshot
from .judging_helpers import PASSWORD, Judged, row_key, set_up_event

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def judged(runner: FlaskCliRunner, tmp_path: Path) -> Judged:
    return set_up_event(runner, tmp_path)


class Server:
    """The test app on a free port, that can be unplugged and plugged in again on the same
    address (the hall's Wi-Fi gone: nothing answers), and the list of the requests that
    reached it (so a test tells a page the service worker gave from one the server sent)."""

    def __init__(self, app: Flask) -> None:
        self.app, self.seen, self.port = app, [], 0
        self.start()

    def recording(self, environ, start_response):  # type: ignore[no-untyped-def]
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.app(environ, start_response)

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.recording, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def served(app: Flask) -> Iterator[Server]:
    server = Server(app)
    try:
        yield server
    finally:
        server.stop()


def open_profile(browser, profile: Path, offline: bool = False):  # type: ignore[no-untyped-def]
    """The tablet's browser: a persistent profile, as a real browser keeps between runs."""
    return browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, viewport=TABLET, offline=offline,
        service_workers="allow")


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/judge")
    page.wait_for_function(KEPT)  # the home page, and the sheets it lists, kept


def enter(page, index: int, value: str) -> None:  # type: ignore[no-untyped-def]
    field = page.locator(".mark-row").nth(index).locator(".mark-input")
    field.fill(value)
    field.press("Enter")


KEPT = """async () => {
  for (const name of await caches.keys()) {
    if (!name.startsWith('scoring-judge-')) continue;
    if (await (await caches.open(name)).match(location.href)) return true;
  }
  return false;
}"""

QUEUE = """() => new Promise((resolve, reject) => {
  const request = indexedDB.open('scoring-offline', 2);
  request.onupgradeneeded = () => { request.result.createObjectStore('marks', {keyPath: 'id', autoIncrement: true}); request.result.createObjectStore('rows', {keyPath: 'id'}); };
  request.onsuccess = () => {
    const all = request.result.transaction('marks').objectStore('marks').getAll();
    all.onsuccess = () => resolve(all.result.map(e => [e.judge, e.fields.value, e.fields.token]));
  };
  request.onerror = () => reject(request.error);
})"""


def keys_on(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The row keys of the sheet, top to bottom (from each row's save address)."""
    return [url.rsplit("/", 1)[1] for url in page.eval_on_selector_all(
        "form.mark-form", "forms => forms.map(f => f.getAttribute('hx-post'))")]


def reached(seen: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The requests that reached the server, but for the browser's own check for a new
    service worker script (Chromium's offline emulation does not cover it)."""
    return [(method, path) for method, path in seen if path != "/judge/sw.js"]


def judge_marks(judge: str) -> dict[int, str]:
    db.session.expire_all()
    return {mark.entry_id: str(mark.value) for mark in db.session.scalars(
        select(Mark).join(Criterion).where(Mark.judge == judge, Criterion.code == "V"))}


CACHES = """async () => {
  const out = [];
  for (const name of await caches.keys()) {
    out.push([name, (await (await caches.open(name)).keys()).map(r => r.url)]);
  }
  return out;
}"""


def waiting(page, count: int) -> None:  # type: ignore[no-untyped-def]
    """Until the page says `count` marks wait; else what the page and its caches hold."""
    try:
        page.wait_for_selector(f"#offline-status[data-waiting='{count}']", timeout=20_000)
    except Exception as error:
        status = page.locator("#offline-status")
        raise AssertionError(
            f"{page.url}: {page.title()!r}, "
            f"{status.evaluate('e => e.outerHTML') if status.count() else 'no status'}, "
            f"caches {page.evaluate(CACHES)}") from error


def test_five_marks_typed_offline_survive_a_reload_and_a_closed_browser(  # type: ignore[no-untyped-def]
        browser, served, judged: Judged, tmp_path: Path) -> None:
    base, seen = served.base, served.seen
    profile = tmp_path / "tablet"
    context = open_profile(browser, profile)
    page = context.new_page()
    sign_in(page, base, "judge1")
    page.goto(base + "/judge/J/V")
    page.wait_for_function(KEPT)  # the service worker keeps the sheet
    enter(page, 0, "30")  # online: saved at once
    page.wait_for_selector(".mark-row.state-saved")
    by_key = {row_key(entry): entry for entry in judged.entries}
    keys = keys_on(page)
    first = by_key[keys[0]]
    assert judge_marks("judge1") == {first.id: "30"}

    context.set_offline(True)
    seen.clear()
    typed = ["31", "38", "33", "29.5", "40"]
    for index, value in enumerate(typed):
        enter(page, index, value)
    waiting(page, 5)
    assert page.locator(".mark-row.state-unsaved").count() == 5
    assert "离线" in page.locator("#offline-status").inner_text()
    assert "待发送：5" in page.locator("#offline-status").inner_text()
    assert page.locator(".sign-off button[type=submit]").is_disabled()
    assert page.locator("#sign-waiting").is_visible()

    page.reload()  # offline: the sheet comes from the service worker, the marks from the queue
    waiting(page, 5)
    assert page.locator(".mark-row.state-unsaved").count() == 5
    assert [page.locator(".mark-row").nth(i).locator(".mark-input").input_value()
            for i in range(5)] == typed
    # Nothing of the sheet reached the server while offline (the browser's own check for a
    # new service worker script is not under Chromium's offline emulation).
    assert reached(seen) == [], seen
    context.close()  # the browser is closed, the tablet's battery goes flat
    # Chromium's offline emulation reaches a service worker only once it is attached to the
    # page: while the browser is reopened the server is unplugged as well, so that nothing
    # of the sheet can come from it.
    served.stop()

    # Meanwhile the chief judge corrects the first mark (30 -> 28).
    chief = db.session.scalar(select(User).where(User.username == "chief"))
    mark = db.session.scalar(select(Mark).where(Mark.entry_id == first.id,
                                                Mark.judge == "judge1"))
    outcome = marking.chief_correct(chief, judged.event, mark, "28", "复核", mark.version)
    assert outcome.state == "saved"
    db.session.commit()

    context = open_profile(browser, profile, offline=True)
    page = context.new_page()
    page.goto(base + "/judge/J/V")
    waiting(page, 5)
    assert reached(seen) == [], seen
    assert [page.locator(".mark-row").nth(i).locator(".mark-input").input_value()
            for i in range(5)] == typed

    served.start()
    context.set_offline(False)  # the network returns
    # The session ended with the browser (its cookie lives as long as the browser): the
    # judge signs in again, as the banner asks, and the queue is sent from the sheet.
    page.wait_for_selector("#session-banner:not([hidden])")
    assert judge_marks("judge1") == {first.id: "28"}
    page.locator("#session-banner a").click()
    page.fill("#username", "judge1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/judge/J/V")
    waiting(page, 0)
    page.wait_for_selector(".mark-row.state-conflict")
    conflict = page.locator(".mark-row").nth(0)
    assert "28" in conflict.inner_text() and "31" in conflict.inner_text()
    assert conflict.get_by_role("button", name="保存 31").is_visible()
    assert conflict.get_by_role("button", name="保留 28").is_visible()
    assert page.locator(".mark-row.state-saved").count() == 4
    assert "在线" in page.locator("#offline-status").inner_text()
    expected = {by_key[key].id: value for key, value in zip(keys, typed)}
    assert judge_marks("judge1") == {**expected, first.id: "28"}
    tokens = page.evaluate(QUEUE)
    assert tokens == []
    revisions = db.session.scalars(select(MarkRevision).join(Mark).where(
        Mark.judge == "judge1")).all()
    # One revision for each of the four new marks; the first: the judge's 30, the chief's 28.
    per_mark: dict[int, int] = {}
    for revision in revisions:
        per_mark[revision.mark.entry_id] = per_mark.get(revision.mark.entry_id, 0) + 1
    assert per_mark == {**{by_key[key].id: 1 for key in keys[1:]}, first.id: 2}
    assert [str(r.new_value) for r in revisions if r.mark.entry_id == first.id] == ["30", "28"]

    # The judge keeps what was typed: saved over the chief's value, knowingly.
    conflict.get_by_role("button", name="保存 31").click()
    page.wait_for_selector(".mark-row.state-saved >> nth=4")
    assert judge_marks("judge1") == expected
    assert not page.locator(".sign-off button[type=submit]").is_disabled()
    context.close()


def test_another_judge_on_the_tablet_sends_nothing_of_the_first(  # type: ignore[no-untyped-def]
        browser, served, judged: Judged, tmp_path: Path) -> None:
    base, seen = served.base, served.seen
    profile = tmp_path / "tablet"
    context = open_profile(browser, profile)
    page = context.new_page()
    sign_in(page, base, "judge1")
    page.goto(base + "/judge/J/V")
    page.wait_for_function(KEPT)
    judge1 = page.locator("#offline-status").get_attribute("data-judge")
    context.set_offline(True)
    enter(page, 0, "35")
    enter(page, 1, "36.5")
    waiting(page, 2)
    context.close()

    # The tablet passes to judge2: judge1's session has ended (the cookies are gone).
    context = open_profile(browser, profile)
    context.clear_cookies()
    page = context.new_page()
    sign_in(page, base, "judge2")
    page.goto(base + "/judge/J/V")
    page.wait_for_function(KEPT)
    others = page.locator("#offline-status .queue-others")
    assert others.is_visible() and "2" in others.inner_text()
    waiting(page, 0)  # judge2 has nothing waiting
    page.wait_for_timeout(2000)  # time to send, were anything sent
    assert judge_marks("judge1") == {} and judge_marks("judge2") == {}
    assert [judge for judge, _value, _token in page.evaluate(QUEUE)] == [judge1, judge1]
    names = page.evaluate("caches.keys()")
    judge2 = page.locator("#offline-status").get_attribute("data-judge")
    assert f"scoring-judge-{judge2}" in names and f"scoring-judge-{judge1}" not in names

    # judge2 signs out: the kept pages go, judge1's queue stays.
    posts_before = [path for method, path in seen if method == "POST"]
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(base + "/")
    assert [name for name in page.evaluate("caches.keys()") if name.startswith("scoring-")] == []
    assert [judge for judge, _value, _token in page.evaluate(QUEUE)] == [judge1, judge1]
    context.set_offline(True)
    page.goto(base + "/judge/J/V")  # nothing kept: no sheet of anyone's opens offline
    assert page.locator(".mark-row").count() == 0
    assert "离线" in page.content()
    context.set_offline(False)
    assert all("/judge/J/V/" not in path for path in posts_before)

    # judge1 signs in again on the tablet: the two marks are sent, once each.
    sign_in(page, base, "judge1")
    waiting(page, 0)
    page.wait_for_function("document.querySelector('#offline-status .queue-others').hidden")
    entries = {row_key(entry): entry for entry in judged.entries}
    marks = judge_marks("judge1")
    assert sorted(marks.values()) == ["35", "36.5"]
    assert set(marks) <= {entry.id for entry in entries.values()}
    assert page.evaluate(QUEUE) == []
    assert len(db.session.scalars(select(MarkRevision)).all()) == 2
    context.close()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_offline_sheet_shows_what_waits(browser, served, judged: Judged,  # type: ignore[no-untyped-def]
                                            language: str) -> None:
    base = served.base
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, base, "judge1")
    if language == "en":
        page.get_by_role("link", name="English").click()
        page.wait_for_url(base + "/judge")
    page.goto(base + "/judge/J/V")
    page.wait_for_function(KEPT)
    enter(page, 0, "35.5")
    page.wait_for_selector(".mark-row.state-saved")
    context.set_offline(True)
    for index, value in ((1, "38"), (2, "33"), (3, "29.5")):
        enter(page, index, value)
    page.reload()
    waiting(page, 3)
    status = page.locator("#offline-status").inner_text()
    sign = page.locator(".sign-off")
    # The kept page is from before the first mark was saved: it shows it saved, counted.
    assert page.locator(".mark-row").nth(0).locator(".mark-input").input_value() == "35.5"
    assert page.locator(".progress-count").inner_text() == "1 / 5"
    if language == "zh":
        assert "离线" in status and "待发送：3 条" in status
        assert "尚未保存" in page.locator(".mark-row").nth(1).inner_text()
    else:
        assert "Offline" in status and "Waiting to be sent: 3" in status
        assert "Not saved yet" in page.locator(".mark-row").nth(1).inner_text()
        assert "still wait to be sent" in sign.inner_text()
    assert sign.locator("button[type=submit]").is_disabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    screenshot(page, f"judge-sheet-offline-queue-{language}")
    context.set_offline(False)
    waiting(page, 0)
    assert page.locator(".mark-row.state-saved").count() == 4
    assert not sign.locator("button[type=submit]").is_disabled()
    context.close()


def test_a_conflict_answered_on_another_page_shows_on_its_sheet(  # type: ignore[no-untyped-def]
        browser, served, judged: Judged) -> None:
    base = served.base
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, base, "judge1")
    page.goto(base + "/judge/J/V")
    page.wait_for_function(KEPT)
    enter(page, 0, "30")
    page.wait_for_selector(".mark-row.state-saved")
    first = {row_key(entry): entry for entry in judged.entries}[keys_on(page)[0]]
    context.set_offline(True)
    enter(page, 0, "31")
    waiting(page, 1)
    page.goto(base + "/judge")  # the home page, kept at sign-in: the row is not on it
    waiting(page, 1)
    chief = db.session.scalar(select(User).where(User.username == "chief"))
    mark = db.session.scalar(select(Mark).where(Mark.entry_id == first.id,
                                                Mark.judge == "judge1"))
    assert marking.chief_correct(chief, judged.event, mark, "28", "复核",
                                 mark.version).state == "saved"
    db.session.commit()
    context.set_offline(False)
    waiting(page, 0)
    answers = page.locator("#offline-status .queue-answers")
    answers.wait_for()
    assert "1" in answers.inner_text()  # a conflict waits to be seen on its sheet
    page.locator("a.sheet-link").first.click()
    page.wait_for_url(base + "/judge/J/V")
    row = page.locator(".mark-row").nth(0)
    page.wait_for_selector(".mark-row.state-conflict")
    assert "28" in row.inner_text() and "31" in row.inner_text()
    assert page.locator("#offline-status .queue-answers").is_hidden()
    assert judge_marks("judge1") == {first.id: "28"}
    context.close()


def test_a_mark_refused_on_its_way_back_is_not_lost_from_sight(  # type: ignore[no-untyped-def]
        browser, served, judged: Judged) -> None:
    """Typed offline, 45 on a criterion out of 40 waits like any mark; once the network is
    back the server refuses it: its row says why, and the box always in sight counts it and
    leads to it (it no longer says only "nothing waiting")."""
    base = served.base
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, base, "judge1")
    page.goto(base + "/judge/J/V")
    page.wait_for_function(KEPT)
    context.set_offline(True)
    enter(page, 0, "33")
    enter(page, 1, "45")
    waiting(page, 2)
    problems = page.locator("#offline-status .page-problems")
    assert problems.is_hidden()
    context.set_offline(False)
    waiting(page, 0)
    page.wait_for_selector(".mark-row.state-invalid")
    problems.wait_for(state="visible")
    assert "1" in problems.inner_text() and "未保存" in problems.inner_text()
    row = page.locator(".mark-row.state-invalid")
    assert problems.get_attribute("href") == "#" + row.get_attribute("id")
    assert judge_marks("judge1") and sorted(judge_marks("judge1").values()) == ["33"]
    context.close()
