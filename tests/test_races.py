"""Races, tried with real parallel requests on a real server (a threaded server on the test
database, SQLite or PostgreSQL): judges saving while the chief locks, and a burst of wrong
passwords sent at once."""

from __future__ import annotations

import random
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import AuditEvent, Entry, Event, LoginFailure, MarkRevision, User

from .judging_helpers import PASSWORD, step
from .test_cli import run
from .test_two_processes import Browser

SCHEME = """code = "RACE"
name = "并发"
[[criteria]]
code = "P"
name = "外观"
max = 40
judges = 5
aggregate = "trimmed"
"""
JUDGES = [f"j{number}" for number in range(1, 6)]
ROUNDS = 8
ENTRIES = 8 * ROUNDS  # each judge saves at most ENTRIES marks in all


def post_status(browser: Browser, url: str, data: dict[str, str]) -> int:
    """POST and return the status (urllib raises on 4xx: caught and closed here)."""
    try:
        browser.post(url, data)
        return 200
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1)


def signed_in(base: str, username: str) -> tuple[Browser, str]:
    browser = Browser()
    token = csrf_of(browser.get(base + "/login")[1])
    browser.post(base + "/login", {"username": username, "password": PASSWORD,
                                   "csrf_token": token})
    status, page, _headers = browser.get(base + "/admin" if username == "boss" else
                                         base + "/judge/RACE/P")
    assert status == 200, page[:300]
    return browser, csrf_of(page)


@pytest.fixture
def race_event(runner: FlaskCliRunner, tmp_path: Path) -> list[str]:
    (tmp_path / "scheme.toml").write_text(SCHEME, encoding="utf-8")
    run(runner, "event", "import", tmp_path / "scheme.toml")
    people = "参赛号,姓名\n" + "".join(f"{number:03d},选手{number}\n"
                                        for number in range(1, ENTRIES + 1))
    (tmp_path / "people.csv").write_text(people, encoding="utf-8")
    run(runner, "contestants", "import", "RACE", tmp_path / "people.csv")
    run(runner, "draw", "RACE", "--seed", "7")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    for judge in JUDGES:
        run(runner, "user", "create", judge, "--role", "judge", "--password", PASSWORD)
        run(runner, "judge", "assign", "RACE", judge, "P")
    event = db.session.scalar(select(Event).where(Event.code == "RACE"))
    event.state = "scoring"
    db.session.commit()
    ids = list(db.session.scalars(select(Entry.blind_code).where(Entry.event_id == event.id)
                                  .order_by(Entry.id)))  # what names a row of the blind sheet
    db.session.remove()  # from here on the server touches the database
    return ids


def test_no_save_lands_after_the_lock(race_event: list[str], live_server: str) -> None:
    """Five judges save as fast as they can while the organiser locks, eight times over.
    Every save either commits before the lock or is refused as locked; none is stored after
    it, and every answer says truly what became of the mark."""
    base = live_server
    judges = [signed_in(base, judge) for judge in JUDGES]
    boss, boss_token = signed_in(base, "boss")
    answers: list[tuple[str, str, str]] = []  # (judge, blind code, "saved" | "refused")
    queues = {judge: list(race_event) for judge in JUDGES}
    rng = random.Random(11)
    for _round in range(ROUNDS):
        barrier = threading.Barrier(len(JUDGES) + 1)

        def judge_saves(name: str, browser: Browser, token: str) -> None:
            barrier.wait()
            while queues[name]:
                code = queues[name].pop(0)
                page = browser.post(f"{base}/judge/RACE/P/{code}", {
                    "value": "30", "version": "", "token": f"{name}-{code}",
                    "view": "sheet"}, {"HX-Request": "true", "X-CSRFToken": token})
                state = "saved" if "state-saved" in page else (
                    "refused" if "state-refused" in page else page)
                answers.append((name, code, state))
                if state == "refused":
                    queues[name].insert(0, code)  # marked in the next round
                    return

        threads = [threading.Thread(target=judge_saves, args=(name, *judges[index]))
                   for index, name in enumerate(JUDGES)]
        for thread in threads:
            thread.start()
        barrier.wait()
        threading.Event().wait(rng.uniform(0.02, 0.15))
        boss.post(f"{base}/admin/events/RACE/state", {"csrf_token": boss_token,
                                                      **step("lock")})
        for thread in threads:
            thread.join(timeout=60)
        boss.post(f"{base}/admin/events/RACE/state", {"csrf_token": boss_token,
                                                      "action": "reopen", "reason": "下一轮"})

    assert {state for _name, _entry, state in answers} <= {"saved", "refused"}
    db.session.expire_all()
    locks = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "event.state")
                               .order_by(AuditEvent.id)).all()
    steps = [(record.details["step"], record.created_at) for record in locks
             if record.details["step"] in ("lock", "reopen")]
    assert [step for step, _at in steps] == ["lock", "reopen"] * ROUNDS
    revisions = db.session.execute(select(MarkRevision.client_token, MarkRevision.created_at)
                                   .order_by(MarkRevision.created_at)).all()
    # No revision was written while the event was locked (between a lock and its reopen).
    for (_lock, locked_at), (_reopen, reopened_at) in zip(steps[::2], steps[1::2]):
        inside = [token for token, at in revisions if locked_at < at < reopened_at]
        assert not inside, f"saved while locked: {inside}"
    # Each answer is the truth: "saved" has its revision, "refused" has none.
    stored = {token for token, _at in revisions}
    said = {f"{name}-{entry}" for name, entry, state in answers if state == "saved"}
    assert said == stored
    assert sum(state == "refused" for _name, _entry, state in answers) >= 1


def test_a_burst_of_wrong_passwords_gets_at_most_the_limit_checked(
        race_event: list[str], live_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """40 wrong passwords sent at once used to get 11 password checks (limit 5)."""
    checks: list[int] = []
    real = User.check_password
    monkeypatch.setattr(User, "check_password",
                        lambda self, password: checks.append(1) or real(self, password))
    browsers = []
    for _ in range(40):
        browser = Browser()
        browsers.append((browser, csrf_of(browser.get(live_server + "/login")[1])))
    barrier = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def attempt(browser: Browser, token: str) -> None:
        barrier.wait()
        statuses.append(post_status(browser, live_server + "/login", {
            "username": "j1", "password": "wrong!!!", "csrf_token": token}))

    threads = [threading.Thread(target=attempt, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(checks) <= 5
    assert sorted(set(statuses)) == [401, 429] and statuses.count(401) == len(checks)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(LoginFailure.id))) == len(checks)
    # One by one, wrong passwords are checked until the limit, then refused unchecked.
    browser = browsers[0][0]
    for _ in range(6):
        token = csrf_of(browser.get(live_server + "/login")[1])
        assert post_status(browser, live_server + "/login", {
            "username": "j1", "password": "wrong!!!", "csrf_token": token}) in (401, 429)
    assert len(checks) == 5
    # The right password is refused too while the account is throttled.
    token = csrf_of(browser.get(live_server + "/login")[1])
    assert post_status(browser, live_server + "/login", {
        "username": "j1", "password": PASSWORD, "csrf_token": token}) == 429


def at_once(count: int, work) -> list:  # type: ignore[no-untyped-def]
    """Run `work()` in `count` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list = []

    def run_one() -> None:
        barrier.wait()
        results.append(work())

    threads = [threading.Thread(target=run_one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_certificates_printed_twice_at_once_are_one_set(
        runner: FlaskCliRunner, live_server: str, tmp_path: Path) -> None:
    from scoring.models import Certificate

    from .test_cli import EXAMPLE_B

    scheme = (EXAMPLE_B / "scheme.toml").read_text(encoding="utf-8")
    (tmp_path / "scheme.toml").write_text(scheme + '\n[[awards]]\nname = "一等奖"\ncount = 2\n',
                                          encoding="utf-8")
    run(runner, "event", "import", tmp_path / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "scores", "import", "EX-B", EXAMPLE_B / "scores.csv")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    db.session.scalar(select(Event)).state = "locked"
    db.session.commit()
    db.session.remove()
    boss, _token = signed_in(live_server, "boss")
    def print_them() -> int:
        url = live_server + "/admin/events/EX-B/certificates.pdf"
        with boss.opener.open(url, timeout=30) as response:
            response.read()
            return response.status

    statuses = at_once(6, print_them)
    assert set(statuses) == {200}
    db.session.expire_all()
    valid = db.session.execute(select(Certificate.entry_id, func.count()).where(
        Certificate.revoked_at.is_(None)).group_by(Certificate.entry_id)).all()
    assert valid and all(count == 1 for _entry, count in valid)


def test_a_preview_sent_twice_at_once_imports_once(
        runner: FlaskCliRunner, live_server: str) -> None:
    import io  # noqa: F401  (multipart by hand below)

    from .test_cli import EXAMPLE_B

    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    db.session.remove()
    boss, token = signed_in(live_server, "boss")
    boundary = "----scoring-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            "参赛号,姓名\r\n01,张三\r\n02,李四\r\n"
            f"\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(
        live_server + "/admin/events/EX-B/contestants/preview", data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with boss.opener.open(request, timeout=10) as response:
        page = response.read().decode()
    payload = re.search(r'name="payload" value="([^"]+)"', page).group(1)
    statuses = at_once(6, lambda: post_status(
        boss, live_server + "/admin/events/EX-B/contestants/import",
        {"csrf_token": token, "payload": payload}))
    assert sorted(statuses).count(200) == 1, statuses  # one import; the others refused
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "contestants.import")) == 1
