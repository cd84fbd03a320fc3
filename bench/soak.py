"""Soak test: judges saving marks through gunicorn while the server is killed -9 and restarted.

Run: .venv/bin/python bench/soak.py [--backend sqlite|postgres|both] [--judges 100]
                                     [--marks 50] [--kills 3] [--workers 2] [--threads 4]
                                     [--seed N] [--deadline 90] [--timeout 30]
                                     [--offline 0.3] [--real-hash]

For each backend (default both): a temporary instance directory and a fresh database (an
SQLite file, or `scoring_bench_<random>` on the PostgreSQL server at
SCORING_TEST_POSTGRES_URL, dropped at the end), set up through the `scoring` command line
(all commands in one Python process): one event SOAK with --marks contestants, lots drawn,
and as many criteria C1, C2... (0 to 100, step 0.5) as it takes to give each criterion at
most 50 judges; --judges judge accounts, each assigned to one criterion, so each judge has
--marks distinct entries to mark (passwords hashed with the test suite's cheaper scrypt
parameters, set in the instance's config.py: sign-in is not under test; --real-hash keeps
the production ones). Then `gunicorn --workers W --threads T
'scoring:create_app()'` in its own process group (so that the whole group can be killed).

Each judge is one client thread that signs in through the form (the session is a signed
cookie, kept for the whole run), opens its mark sheet and saves as the page does: POST with
the value, the version the page shows, a fresh token per edit, HX-Request and X-CSRFToken.
A save is acknowledged when the answer is 200 and its row says "state-saved". A save that
fails on the network (connection refused or reset, no answer, timeout after --timeout s) or
with a 5xx is retried with the SAME token, value and version, as static/js/app.js does,
after a back-off (0.2 s doubling to 2 s with jitter; the page waits 1 s doubling to 15 s),
until acknowledged or --deadline seconds after its first try; a 401 (session gone) signs in
again and retries the same save, as the page does after signing in again. Any other answer
(a conflict, a refusal, a 4xx) is not retried and counts as not acknowledged.

Tablets that go offline and back (--offline, a share of the judges, 0.3 by default; the
first judges): such a tablet keeps a queue, as static/js/app.js does in IndexedDB. Every
edit goes into the queue first, with its token, value and version; while the tablet is
offline (a spell starts before a mark with a chance of 1 in 8 and lasts 1 to 8 marks) the
edits only wait there; online, the queue is sent in order, each save as above until
acknowledged, and leaves the queue only then. While sending, the network drops at random
(1 save in 10) after a save is sent and before its answer is read: the answer is lost, the
save stays queued (it may or may not be stored), the tablet is offline again for 1 to 8
marks, and later sends the same save again with the same token. At the end of the phase
the network comes back for good and the queue is emptied. Every save also carries the id
of the judge the sheet names (data-judge), as the tablet's queue does.

Phase 1, the load: every judge saves one mark on each of its entries, in its own random
order, no think time. Then verification in the database (raw SQL, integer units).

Phase 2, the load again with faults: every judge reloads its sheet (the page must show the
acknowledged values and versions) and changes every mark to another value, with the version
from the page. Meanwhile the whole gunicorn process group (master and workers) gets SIGKILL
--kills times, each at a random moment (once a random share, 10 to 90 %, of the phase's
saves have been acknowledged, at least 2 % of them between two kills), and is restarted on
the same port with the same database, while the judges keep retrying.

Verification after each phase, per (judge, entry), against the history of that judge's
attempts: the mark's revisions, in order, are exactly the applied saves (each found by its
token, with its value; every acknowledged save is there; a save that was never
acknowledged may or may not be; every save that went through a tablet's queue is there
exactly once, a lost answer and its resending included), so the mark holds its last acknowledged value, or the
value of a later save that was applied but never acknowledged; no revision without a known
token. And over the whole database: no mark whose value differs from its latest revision's
new_value (marks joined with the latest mark_revisions row per mark), no client_token on
two revisions, every mark's version equal to its number of revisions, each revision's
old_value equal to the previous revision's new_value.

Prints the figures (saves, acknowledged, HTTP attempts and retries, errors by kind, split
into those while the server was down or being killed, which are expected and retried, and
those while it was up; latency p50/p99 of the answers and of a save from its first try to
its acknowledgement; the kill times and how long after each kill the restarted server
answered /healthz, queued behind the judges' retries; the verification), and exits 1 on
any lost or wrong mark, any 5xx, any save never acknowledged, any failed verification,
fewer kills than asked for, or a traceback in gunicorn's stderr.
"""

from __future__ import annotations

import argparse
import html
import itertools
import math
import os
import platform
import random
import re
import secrets
import shlex
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (  # noqa: E402
    Gunicorn,
    Site,
    describe_database,
    run_backends,
    temporary_site,
)
from marks import (  # noqa: E402
    LOGIN_CSRF,
    META_CSRF,
    ROW_STATE,
    VALUE_ATTR,
    Client,
    ms,
    nproc,
    percentile,
    server_errors,
)

EVENT = "SOAK"
PASSWORD = "soak-" + secrets.token_hex(8)
JUDGES_PER_CRITERION = 50
FAST_HASH = "scrypt:1024:8:1"  # as tests/conftest.py; --real-hash keeps the default scrypt
MARK_SCALE = 10_000  # marks are stored as integers of 1/10000 (models.ExactDecimal)
ROW = re.compile(r'<form class="mark-form" hx-post="([^"]+)".*?'
                 r'name="version" value="([^"]*)".*?data-saved="([^"]*)"', re.DOTALL)
ENTRY_ID = re.compile(r"/([^/]+)$")  # a row's key: the blind code (or sheet key)
BACKOFF_MAX = 2.0  # seconds: the longest back-off between two tries of a save
OFFLINE_CHANCE = 1 / 8  # before each mark, that an online tablet loses the network
OFFLINE_MARKS = 8  # an offline spell lasts 1 to this many marks typed
LOST_ANSWER = 0.1  # a queued save sent, the network gone before its answer arrives
SHEET_JUDGE = re.compile(r'id="offline-status"[^>]*data-judge="(\d+)"')


# --- the event, set up through the command line -------------------------------------------

def criteria_plan(judges: int) -> list[tuple[str, list[int]]]:
    """[(criterion code, [judge indices])]: at most JUDGES_PER_CRITERION judges each."""
    count = math.ceil(judges / JUDGES_PER_CRITERION)
    size = math.ceil(judges / count)
    return [(f"C{number + 1}", list(range(number * size, min(judges, (number + 1) * size))))
            for number in range(count)]


def utcnow() -> datetime:
    """Naive UTC, as the database holds created_at (models.UTCDateTime)."""
    return datetime.now(UTC).replace(tzinfo=None)


def judge_name(index: int) -> str:
    return f"judge{index + 1:03d}"


def scheme_toml(plan: list[tuple[str, list[int]]]) -> str:
    lines = [f'code = "{EVENT}"', 'name = "Soak: judges saving marks through faults"', ""]
    for code, judges in plan:
        lines += ["[[criteria]]", f'code = "{code}"', f'name = "Criterion {code}"',
                  "max = 100", "step = 0.5", f"judges = {len(judges)}", ""]
    return "\n".join(lines)


def contestants_csv(count: int) -> str:
    lines = ["bib,name,delegation,unit"]
    for number in range(1, count + 1):
        lines.append(f"{number:04d},选手{number:04d},代表队{number % 6 + 1},某机械厂{number}")
    return "\n".join(lines) + "\n"


def set_up(site: Site, judges: int, marks: int, real_hash: bool
           ) -> list[tuple[str, list[int]]]:
    plan = criteria_plan(judges)
    if not real_hash:  # the test suite's setting: the same algorithm, cheaper parameters
        (site.instance / "config.py").write_text(
            f"SCORING_PASSWORD_METHOD = {FAST_HASH!r}\n", encoding="utf-8")
    scheme = site.instance / "scheme.toml"
    scheme.write_text(scheme_toml(plan), encoding="utf-8")
    contestants = site.instance / "contestants.csv"
    contestants.write_text(contestants_csv(marks), encoding="utf-8")
    commands = [["init-db"], ["event", "import", str(scheme)],
                ["contestants", "import", EVENT, str(contestants)],
                ["draw", EVENT, "--seed", "1"]]
    for code, indices in plan:
        for index in indices:
            commands.append(["user", "create", judge_name(index), "--role", "judge",
                             "--password", PASSWORD])
            commands.append(["judge", "assign", EVENT, judge_name(index), code])
    site.cli_batch(commands)  # one Python process: a process per command costs a second
    from sqlalchemy import text

    engine = site.engine()
    try:
        with engine.begin() as connection:  # open scoring, as importing marks would
            changed = connection.execute(text(
                "UPDATE events SET state = 'scoring' WHERE code = :code"), {"code": EVENT})
            if changed.rowcount != 1:
                raise RuntimeError(f"event {EVENT} not found after the import")
    finally:
        engine.dispose()
    return plan


# --- what happened ------------------------------------------------------------------------

@dataclass
class Attempt:
    """One edit of one mark by a judge: a token, a value, the version the page showed."""

    phase: int
    judge: str
    entry_id: str  # the key of the entry's row (never its id: the pages do not show it)
    units: int  # the value in 1/10000
    token: str
    version: str
    acknowledged: bool = False
    tries: int = 0
    outcome: str = ""  # what ended it when not acknowledged
    first_try: datetime | None = None  # naive UTC, as the revisions' created_at
    queued: bool = False  # typed on a tablet that goes offline: sent from its queue
    answers_lost: int = 0  # sent from the queue, the answer lost with the network


@dataclass
class ServerState:
    """Whether the server is being killed or restarted, and how many times it was."""

    generation: int = 0
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> tuple[int, bool]:
        with self.lock:
            return self.generation, self.down


@dataclass
class Figures:
    """What the judges of one phase did; each thread fills its own, then merges it."""

    saves: int = 0
    acknowledged: int = 0
    requests: int = 0  # HTTP requests of saves (first tries and retries)
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # "kind (while ...)"
    not_saved: Counter[str] = field(default_factory=Counter)  # 200 but not "state-saved"
    latencies: list[float] = field(default_factory=list)  # each answer
    save_times: list[float] = field(default_factory=list)  # first try -> acknowledgement
    sign_ins: int = 0
    problems: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    page_mismatches: int = 0  # phase 2: the sheet did not show the acknowledged value
    wall: float = 0.0
    ready: float = 0.0  # signing in and reading the sheets, before the load
    spells: int = 0  # a tablet went offline
    queued_offline: int = 0  # marks typed while offline: they waited in the queue
    answers_lost: int = 0  # queued saves sent whose answer was lost with the network
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sample(self, text: str) -> None:
        if len(self.samples) < 5:
            self.samples.append(text[:500])

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)

    def merge(self, other: Figures) -> None:
        with self.lock:
            for name in ("saves", "acknowledged", "requests", "retries", "sign_ins",
                         "page_mismatches", "spells", "queued_offline", "answers_lost"):
                setattr(self, name, getattr(self, name) + getattr(other, name))
            self.statuses += other.statuses
            self.errors += other.errors
            self.not_saved += other.not_saved
            self.latencies += other.latencies
            self.save_times += other.save_times
            self.problems += other.problems[:max(0, 20 - len(self.problems))]
            self.samples += other.samples[:max(0, 5 - len(self.samples))]


class Progress:
    """Acknowledged saves of the running phase, for the killer to wait on."""

    def __init__(self) -> None:
        self.count = 0
        self.condition = threading.Condition()
        self.finished = False

    def add(self) -> None:
        with self.condition:
            self.count += 1
            self.condition.notify_all()

    def finish(self) -> None:
        with self.condition:
            self.finished = True
            self.condition.notify_all()

    def wait_for(self, count: int) -> bool:
        """Until `count` saves are acknowledged (True) or the phase ends (False)."""
        with self.condition:
            while self.count < count and not self.finished:
                self.condition.wait(0.5)
            return self.count >= count


# --- one judge ------------------------------------------------------------------------------

class Judge:
    """A judge's tablet: its session cookie, the page's CSRF token, what it saved."""

    def __init__(self, index: int, criterion: str, args: argparse.Namespace,
                 server: Gunicorn, state: ServerState) -> None:
        self.index = index
        self.name = judge_name(index)
        self.criterion = criterion
        self.args = args
        self.server = server
        self.state = state
        self.client = Client(server.host, server.port, keep_alive=False)
        self.client.connection.timeout = args.timeout
        self.csrf = ""
        self.rng = random.Random(f"{args.seed}-{index}")
        self.attempts: list[Attempt] = []
        self.last_acknowledged: dict[str, Attempt] = {}  # by the row's key
        self.goes_offline = index < round(args.judges * args.offline)
        self.judge_id = ""  # as the sheet names its judge, sent with every save

    @property
    def sheet_path(self) -> str:
        return f"/judge/{EVENT}/{self.criterion}"

    def backoff(self, tries: int) -> None:
        time.sleep(min(0.2 * 2 ** (tries - 1), BACKOFF_MAX) * self.rng.uniform(0.5, 1))

    def request(self, figures: Figures, method: str, path: str,
                form: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                ) -> tuple[int, str] | None:
        """One request; None on a transport error (counted by kind, and by whether the server
        was down or killed meanwhile)."""
        generation, down = self.state.snapshot()
        try:
            return self.client.request(method, path, form=form, headers=headers)
        except Exception as error:  # noqa: BLE001 - counted, then retried
            now_generation, now_down = self.state.snapshot()
            when = ("server down or killed meanwhile"
                    if down or now_down or now_generation != generation else "server up")
            figures.errors[f"{type(error).__name__} ({when})"] += 1
            return None

    def get_until(self, figures: Figures, path: str, deadline: float) -> tuple[int, str]:
        """GET, retried through transport errors and 5xx until the deadline."""
        tries = 0
        while True:
            tries += 1
            answer = self.request(figures, "GET", path)
            if answer is not None and answer[0] < 500:
                return answer
            if answer is not None:
                figures.statuses[answer[0]] += 1
                figures.sample(f"GET {path} -> {answer[0]}: {answer[1]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"GET {path}: no answer before the deadline")
            self.backoff(tries)

    def sign_in(self, figures: Figures) -> None:
        deadline = time.monotonic() + self.args.deadline
        tries = 0
        while True:
            tries += 1
            status, page = self.get_until(figures, "/login", deadline)
            found = LOGIN_CSRF.search(page)
            value = VALUE_ATTR.search(found.group(0)) if found else None
            if status != 200 or value is None:
                raise RuntimeError(f"GET /login -> {status}, no csrf_token field")
            answer = self.request(figures, "POST", "/login", form={
                "username": self.name, "password": PASSWORD,
                "csrf_token": html.unescape(value.group(1))})
            if answer is not None and answer[0] == 302:
                figures.sign_ins += 1
                return
            if answer is not None and answer[0] < 500:
                raise RuntimeError(f"POST /login -> {answer[0]}: {answer[1][:300]}")
            if answer is not None:
                figures.statuses[answer[0]] += 1
                figures.sample(f"POST /login -> {answer[0]}: {answer[1]}")
            if time.monotonic() > deadline:
                raise RuntimeError("POST /login: no answer before the deadline")
            self.backoff(tries)

    def read_sheet(self, figures: Figures) -> list[tuple[str, str, str, str]]:
        """[(save URL, row key, version, saved value)] of the judge's sheet; the CSRF token."""
        deadline = time.monotonic() + self.args.deadline
        status, page = self.get_until(figures, self.sheet_path, deadline)
        if status in (302, 401):
            self.sign_in(figures)
            status, page = self.get_until(figures, self.sheet_path, deadline)
        token = META_CSRF.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"GET {self.sheet_path} -> {status}: {page[:300]}")
        self.csrf = html.unescape(token.group(1))
        judge = SHEET_JUDGE.search(page)
        if judge is None:
            raise RuntimeError(f"GET {self.sheet_path}: the sheet names no judge")
        self.judge_id = judge.group(1)
        rows = []
        for url, version, saved in ROW.findall(page):
            url = html.unescape(url)
            entry = ENTRY_ID.search(url)
            assert entry, url
            rows.append((url, entry.group(1), version, html.unescape(saved)))
        return rows

    def save(self, figures: Figures, progress: Progress, attempt: Attempt, url: str) -> None:
        """Save as the page does: the same token, value and version on every try, until
        acknowledged or the deadline."""
        self.record(figures, attempt)
        first = time.monotonic()
        deadline = first + self.args.deadline
        while True:
            attempt.tries += 1
            if attempt.tries > 1:
                figures.retries += 1
            figures.requests += 1
            started = time.perf_counter()
            answer = self.request(figures, "POST", url, form=self.fields(attempt),
                                  headers=self.headers())
            if answer is not None:
                status, body = answer
                figures.latencies.append(time.perf_counter() - started)
                figures.statuses[status] += 1
                if status == 200:
                    state = ROW_STATE.search(body)
                    if state and state.group(1) == "saved":
                        attempt.acknowledged = True
                        figures.acknowledged += 1
                        figures.save_times.append(time.monotonic() - first)
                        self.last_acknowledged[attempt.entry_id] = attempt
                        progress.add()
                        return
                    attempt.outcome = f"200 {state.group(1) if state else 'no row'}"
                    figures.not_saved[attempt.outcome] += 1
                    figures.sample(f"{self.name} POST {url} -> {status}: {body}")
                    return  # the page shows the conflict or the refusal: not retried
                if status == 401:  # the session is gone: sign in again, then the same save
                    figures.sample(f"{self.name} POST {url} -> 401: {body}")
                    try:
                        self.sign_in(figures)
                        self.read_sheet(figures)  # the new session's CSRF token
                    except Exception as error:  # noqa: BLE001 - reported
                        attempt.outcome = f"401, then signing in again failed: {error}"
                        return
                elif status < 500:
                    attempt.outcome = f"{status}"
                    figures.sample(f"{self.name} POST {url} -> {status}: {body}")
                    return  # the page shows it as refused: not retried
                else:
                    figures.sample(f"{self.name} POST {url} -> {status}: {body}")
            if time.monotonic() > deadline:
                attempt.outcome = f"no acknowledgement within {self.args.deadline:.0f} s"
                return
            if answer is None or answer[0] >= 500:
                self.backoff(attempt.tries)

    def record(self, figures: Figures, attempt: Attempt) -> None:
        """The first try of a save: counted once, however often it is sent."""
        if attempt.first_try is None:
            attempt.first_try = utcnow()
            figures.saves += 1
            self.attempts.append(attempt)

    def fields(self, attempt: Attempt) -> dict[str, str]:
        return {"value": str(Decimal(attempt.units) / MARK_SCALE), "version": attempt.version,
                "token": attempt.token, "view": "sheet", "judge": self.judge_id}

    def headers(self) -> dict[str, str]:
        return {"HX-Request": "true", "X-CSRFToken": self.csrf,
                "HX-Current-URL": f"{self.server.url}{self.sheet_path}"}

    def run_offline(self, phase: int, rows: list[tuple[str, str, str, str]],
                    figures: Figures, progress: Progress) -> None:
        """A tablet whose network comes and goes: every edit is queued first; offline it
        waits there; online the queue is sent in order (see the module's docstring)."""
        queue: list[tuple[Attempt, str]] = []
        offline_for = 0
        for url, entry_id, version, _saved in rows:
            if not offline_for and self.rng.random() < OFFLINE_CHANCE:
                offline_for = self.rng.randint(1, OFFLINE_MARKS)
                figures.spells += 1
            queue.append((Attempt(phase, self.name, entry_id, self.new_value(entry_id),
                                  secrets.token_hex(16), version, queued=True), url))
            if offline_for:
                offline_for -= 1
                figures.queued_offline += 1
                continue
            offline_for = self.send_queue(queue, figures, progress, drops=True)
        self.send_queue(queue, figures, progress, drops=False)  # back for good

    def send_queue(self, queue: list[tuple[Attempt, str]], figures: Figures,
                   progress: Progress, drops: bool) -> int:
        """Sends the queue in order, each save until acknowledged; a save leaves the queue
        only with its answer. Returns for how many marks the tablet is offline again when
        the network dropped before an answer arrived (0: the queue is empty)."""
        while queue:
            attempt, url = queue[0]
            if drops and self.rng.random() < LOST_ANSWER:
                self.record(figures, attempt)
                attempt.tries += 1
                if attempt.tries > 1:
                    figures.retries += 1
                figures.requests += 1
                self.request(figures, "POST", url, form=self.fields(attempt),
                             headers=self.headers())  # its answer never reaches the tablet
                attempt.answers_lost += 1
                figures.answers_lost += 1
                figures.spells += 1
                return self.rng.randint(1, OFFLINE_MARKS)
            self.save(figures, progress, attempt, url)
            queue.pop(0)
        return 0

    def new_value(self, entry_id: str) -> int:
        """A multiple of 0.5 within 0..100, different from the last acknowledged one."""
        last = self.last_acknowledged.get(entry_id)
        while True:
            units = self.rng.randint(0, 200) * 5_000
            if last is None or units != last.units:
                return units

    def run_phase(self, phase: int, figures: Figures, progress: Progress,
                  barrier: threading.Barrier) -> None:
        mine = Figures()
        rows: list[tuple[str, str, str, str]] = []
        try:
            if phase == 1:
                self.sign_in(mine)
            rows = self.read_sheet(mine)
            if len(rows) != self.args.marks:
                raise RuntimeError(f"the sheet shows {len(rows)} rows, expected "
                                   f"{self.args.marks}")
            if phase > 1:  # the page must show what was acknowledged
                for _url, entry_id, version, saved in rows:
                    last = self.last_acknowledged.get(entry_id)
                    shown = int(Decimal(saved) * MARK_SCALE) if saved else None
                    if last is not None and (shown != last.units or version != str(phase - 1)):
                        mine.page_mismatches += 1
                        mine.problem(f"{self.name} entry {entry_id}: the sheet shows {saved!r} "
                                     f"version {version}, acknowledged {last.units}")
        except Exception as error:  # noqa: BLE001 - reported; this judge then saves nothing
            mine.problem(f"{self.name}: {type(error).__name__}: {error}")
            rows = []
        self.rng.shuffle(rows)  # each judge goes through its entries in its own order
        try:
            barrier.wait()
            if self.goes_offline:
                self.run_offline(phase, rows, mine, progress)
            for url, entry_id, version, _saved in rows if not self.goes_offline else ():
                attempt = Attempt(phase, self.name, entry_id, self.new_value(entry_id),
                                  secrets.token_hex(16), version)
                self.save(mine, progress, attempt, url)
        except Exception as error:  # noqa: BLE001 - reported
            mine.problem(f"{self.name}: {type(error).__name__}: {error}")
            mine.sample(traceback.format_exc())
        finally:
            figures.merge(mine)


# --- the killer -----------------------------------------------------------------------------

@dataclass
class Kill:
    at: float  # seconds since the phase began
    acknowledged: int  # saves acknowledged so far in the phase
    pids: int
    wall: datetime = field(default_factory=utcnow)  # naive UTC
    down: float = float("nan")  # seconds from the kill until /healthz answered again
    error: str = ""  # the server could not be killed or restarted
    restart_failures: list[str] = field(default_factory=list)


def killer(server: Gunicorn, state: ServerState, progress: Progress, total: int,
           kills: int, rng: random.Random, began: float, done: list[Kill]) -> None:
    """Kill -9 the whole process group at `kills` random moments of the phase; restart."""
    low, high = math.ceil(0.10 * total), math.floor(0.90 * total)
    targets = sorted(rng.randint(low, max(low, high)) for _ in range(kills))
    gap = max(1, total // 50)  # some saves between two kills: the server is up and loaded
    floor = 0
    for target in targets:
        target = min(max(target, floor + gap), total - 1)
        if not progress.wait_for(target) or progress.count >= total:
            return  # the load is over: a kill now would not be during it
        with state.lock:
            state.down = True
            state.generation += 1
        kill = Kill(time.monotonic() - began, progress.count, 0)
        try:
            kill.pids = len(server.kill())
            for attempt in range(3):
                try:
                    server.restart()
                    break
                except RuntimeError as error:
                    kill.restart_failures.append(f"restart {attempt + 1} failed: {error}")
            else:
                raise RuntimeError("gunicorn did not start again")
            kill.down = time.monotonic() - began - kill.at
        except Exception as error:  # noqa: BLE001 - reported, the run then fails
            kill.error = f"{type(error).__name__}: {error}"
            done.append(kill)
            return
        finally:
            with state.lock:
                state.down = False
        done.append(kill)
        floor = progress.count


def run_phase(phase: int, judges: list[Judge], server: Gunicorn, state: ServerState,
              kills: int, rng: random.Random) -> tuple[Figures, list[Kill]]:
    figures, progress, done = Figures(), Progress(), []
    barrier = threading.Barrier(len(judges) + 1, timeout=600)
    threads = [threading.Thread(target=judge.run_phase, args=(phase, figures, progress,
                                                              barrier), daemon=True)
               for judge in judges]
    for thread in threads:
        thread.start()
    ready = time.monotonic()
    barrier.wait()  # every judge has signed in and read its sheet
    began = time.monotonic()
    figures.ready = began - ready
    killing = None
    if kills:
        total = sum(judge.args.marks for judge in judges)
        killing = threading.Thread(target=killer, args=(
            server, state, progress, total, kills, rng, began, done), daemon=True)
        killing.start()
    for thread in threads:
        thread.join()
    figures.wall = time.monotonic() - began
    progress.finish()
    if killing is not None:
        killing.join()
    return figures, done


# --- verification -------------------------------------------------------------------------

@dataclass
class Verification:
    acknowledged: int = 0  # (judge, entry) pairs with an acknowledged save
    as_acknowledged: int = 0  # holding the last acknowledged value
    later_unacknowledged: int = 0  # holding a later save, applied but never acknowledged
    lost: int = 0  # an acknowledged save is not in the history, or the mark is gone
    wrong: int = 0  # the value is not the last applied save's
    unknown_revisions: int = 0  # revisions with no known token, or stored but never saved
    marks: int = 0
    revisions: int = 0
    value_not_latest_revision: int = 0
    duplicate_tokens: int = 0
    version_not_revisions: int = 0
    broken_chain: int = 0  # old_value != the previous revision's new_value
    # saves committed before a kill whose answer was lost: the retry was answered from the
    # token, without a second revision
    recognised_retries: int = 0
    # saves that went through a tablet's queue, and those of them stored exactly once (all
    # phases so far); the same for those whose answer was lost and that were sent again
    queued: int = 0
    queued_once: int = 0
    answers_lost: int = 0
    answers_lost_once: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return (self.lost + self.wrong + self.unknown_revisions + self.value_not_latest_revision
                + self.duplicate_tokens + self.version_not_revisions + self.broken_chain
                + self.queued - self.queued_once)

    def note(self, text: str) -> None:
        if len(self.details) < 12:
            self.details.append(text)


def verify(site: Site, judges: list[Judge], kills: list[Kill]) -> Verification:
    from sqlalchemy import DateTime, text

    result = Verification()
    engine = site.engine()
    try:
        with engine.connect() as connection:
            marks = connection.execute(text(
                "SELECT m.id, m.judge, CASE WHEN c.blind THEN n.blind_code ELSE n.sheet_key "
                "END, m.value, m.version FROM marks m JOIN entries n ON n.id = m.entry_id "
                "JOIN criteria c ON c.id = m.criterion_id JOIN events e ON e.id = c.event_id "
                "WHERE e.code = :event"), {"event": EVENT}).all()
            revisions: dict[int, list[tuple[int, int | None, int, str | None, datetime]]] = {}
            for mark_id, revision_id, old, new, token, created in connection.execute(text(
                    "SELECT mark_id, id, old_value, new_value, client_token, created_at "
                    "FROM mark_revisions ORDER BY id").columns(created_at=DateTime())):
                revisions.setdefault(mark_id, []).append((revision_id, old, new, token,
                                                          created))
            # the mark's value against its latest revision, in SQL as the brief states it
            result.value_not_latest_revision = connection.execute(text(
                "SELECT count(*) FROM marks m JOIN mark_revisions r ON r.mark_id = m.id "
                "WHERE r.id = (SELECT max(r2.id) FROM mark_revisions r2 "
                "WHERE r2.mark_id = m.id) AND r.new_value <> m.value")).scalar_one()
            no_revision = connection.execute(text(
                "SELECT count(*) FROM marks m WHERE NOT EXISTS "
                "(SELECT 1 FROM mark_revisions r WHERE r.mark_id = m.id)")).scalar_one()
            result.value_not_latest_revision += no_revision
            result.duplicate_tokens = connection.execute(text(
                "SELECT count(*) FROM (SELECT client_token FROM mark_revisions "
                "WHERE client_token IS NOT NULL GROUP BY client_token "
                "HAVING count(*) > 1) AS duplicates")).scalar_one()
            result.marks = connection.execute(text("SELECT count(*) FROM marks")).scalar_one()
            result.revisions = connection.execute(text(
                "SELECT count(*) FROM mark_revisions")).scalar_one()
    finally:
        engine.dispose()
    if result.value_not_latest_revision:
        result.note(f"{result.value_not_latest_revision} marks differ from their latest "
                    f"revision ({no_revision} have none)")
    if result.duplicate_tokens:
        result.note(f"{result.duplicate_tokens} client tokens on more than one revision")
    if result.marks != len(marks):
        result.unknown_revisions += result.marks - len(marks)
        result.note(f"{result.marks - len(marks)} marks outside the event")

    tokens = Counter(row[3] for rows in revisions.values() for row in rows if row[3])
    for judge in judges:
        for attempt in judge.attempts:
            if not attempt.queued:
                continue
            once = tokens[attempt.token] == 1
            result.queued += 1
            result.queued_once += once
            if attempt.answers_lost:
                result.answers_lost += 1
                result.answers_lost_once += once
            if not once:
                result.note(f"queued save {attempt.judge} {attempt.entry_id} (token "
                            f"{attempt.token[:8]}) stored {tokens[attempt.token]} times")
    stored = {(judge, entry_id): (mark_id, value, version)
              for mark_id, judge, entry_id, value, version in marks}
    history: dict[tuple[str, str], list[Attempt]] = {}
    for judge in judges:
        for attempt in judge.attempts:
            history.setdefault((judge.name, attempt.entry_id), []).append(attempt)
    for key in stored.keys() - history.keys():
        result.unknown_revisions += 1
        result.note(f"stored but never saved: {key} = {stored[key][1]}")
    for key, attempts in history.items():
        acknowledged = [attempt for attempt in attempts if attempt.acknowledged]
        if acknowledged:
            result.acknowledged += 1
        if key not in stored:
            if acknowledged:
                result.lost += 1
                result.note(f"lost: {key}, acknowledged {acknowledged[-1].units}, no mark")
            continue
        mark_id, value, version = stored[key]
        rows = revisions.get(mark_id, [])
        if version != len(rows):
            result.version_not_revisions += 1
            result.note(f"{key}: version {version}, {len(rows)} revisions")
        for before, after in itertools.pairwise(rows):
            if after[1] != before[2]:
                result.broken_chain += 1
                result.note(f"{key}: revision {after[0]} old_value {after[1]}, the one before "
                            f"set {before[2]}")
        if rows and rows[0][1] is not None:
            result.broken_chain += 1
            result.note(f"{key}: the first revision has old_value {rows[0][1]}")
        # The revisions, in order, must be exactly the applied saves: each by its token.
        by_token = {row[3]: (index, row) for index, row in enumerate(rows)}
        applied: list[Attempt] = []
        last_index = -1
        for attempt in attempts:
            found = by_token.pop(attempt.token, None)
            if found is None:
                if attempt.acknowledged:
                    result.lost += 1
                    result.note(f"lost: {key} phase {attempt.phase} acknowledged "
                                f"{attempt.units} (token {attempt.token[:8]}): no revision; "
                                f"revisions {[(r[2], (r[3] or '')[:8]) for r in rows]}")
                continue
            index, row = found
            if row[2] != attempt.units:
                result.wrong += 1
                result.note(f"{key}: the revision of token {attempt.token[:8]} holds "
                            f"{row[2]}, saved {attempt.units}")
            if index < last_index:
                result.wrong += 1
                result.note(f"{key}: the revision of token {attempt.token[:8]} comes before "
                            f"that of an earlier save")
            last_index = max(last_index, index)
            if attempt.acknowledged and attempt.tries > 1 and attempt.first_try:
                # made before the first kill after the first try: by that try, so a retry
                # was answered from the token
                kill = next((k.wall for k in kills if k.wall >= attempt.first_try), None)
                if kill is not None and row[4] < kill:
                    result.recognised_retries += 1
            applied.append(attempt)
        if by_token:
            result.unknown_revisions += len(by_token)
            result.note(f"{key}: {len(by_token)} revisions not from a save of the judge: "
                        f"{[(r[2], (r[3] or '')[:8]) for _i, r in by_token.values()]}")
        if not applied:
            continue
        if value != applied[-1].units:
            result.wrong += 1
            result.note(f"wrong: {key} holds {value}, its last applied save "
                        f"{applied[-1].units}")
        elif acknowledged and applied[-1] is acknowledged[-1]:
            result.as_acknowledged += 1
        elif acknowledged:
            result.later_unacknowledged += 1
    return result


# --- one backend ----------------------------------------------------------------------------

@dataclass
class Outcome:
    backend: str
    failed: list[str] = field(default_factory=list)


def report_phase(phase: int, figures: Figures, kills: list[Kill], checked: Verification,
                 expected_saves: int, outcome: Outcome, wanted_kills: int,
                 offline_judges: int = 0) -> None:
    title = ("phase 1 (load)" if phase == 1 else
             f"phase 2 (load, the server killed -9 {wanted_kills} time(s))")
    statuses = dict(sorted(figures.statuses.items()))
    server_5xx = sum(count for status, count in statuses.items() if status >= 500)
    expected_errors = sum(count for kind, count in figures.errors.items() if "down" in kind)
    unexpected_errors = sum(figures.errors.values()) - expected_errors
    unacknowledged = figures.saves - figures.acknowledged
    print(f"-- {title}: {figures.wall:.1f} s (before it, the judges "
          f"{'signed in and ' if phase == 1 else ''}read their sheets: {figures.ready:.1f} s)")
    print(f"saves {figures.saves} (expected {expected_saves}), acknowledged "
          f"{figures.acknowledged}, not acknowledged {unacknowledged}; HTTP requests "
          f"{figures.requests}, retries {figures.retries}; "
          f"{figures.acknowledged / figures.wall if figures.wall else float('nan'):.0f} "
          f"acknowledged saves/s")
    print(f"answers by status: {statuses or 'none'}; 5xx: {server_5xx}"
          + (f"; 200 but not saved: {dict(figures.not_saved)}" if figures.not_saved else ""))
    print(f"transport errors: {sum(figures.errors.values())} (while the server was down or "
          f"being killed, expected and retried: {expected_errors}; while it was up: "
          f"{unexpected_errors})")
    for kind, count in sorted(figures.errors.items()):
        print(f"  {count:6d}  {kind}")
    print(f"latency ms: answer p50 {ms(percentile(figures.latencies, 50))} p99 "
          f"{ms(percentile(figures.latencies, 99))} max "
          f"{ms(max(figures.latencies, default=float('nan')))}; save, first try to "
          f"acknowledgement: p50 {ms(percentile(figures.save_times, 50))} p99 "
          f"{ms(percentile(figures.save_times, 99))} max "
          f"{ms(max(figures.save_times, default=float('nan')))}")
    for number, kill in enumerate(kills, 1):
        print(f"kill {number}: at {kill.at:.2f} s, after {kill.acknowledged} acknowledged "
              f"saves, SIGKILL to the process group ({kill.pids} processes: master + "
              f"workers); restarted, /healthz answered {kill.down:.2f} s after the kill"
              + (f"; {kill.error}" if kill.error else ""))
        for failure in kill.restart_failures:
            print("  ! " + failure.replace("\n", "\n  | "))
    if phase > 1:
        print(f"the sheets reloaded before phase 2 showed the acknowledged value and version: "
              f"{'yes' if not figures.page_mismatches else f'NO ({figures.page_mismatches})'}")
    ok = not checked.failures
    print(f"phase {phase} verification: {'OK' if ok else 'FAILED'}: {checked.acknowledged} "
          f"marks with an acknowledged save: {checked.as_acknowledged} hold the last "
          f"acknowledged value, {checked.later_unacknowledged} a later applied save; lost "
          f"{checked.lost}, wrong {checked.wrong}; {checked.marks} marks, "
          f"{checked.revisions} revisions: unknown {checked.unknown_revisions}, value not "
          f"the latest revision's {checked.value_not_latest_revision}, duplicate tokens "
          f"{checked.duplicate_tokens}, version not the revision count "
          f"{checked.version_not_revisions}, broken old/new chain {checked.broken_chain}")
    if kills:
        print(f"saves committed just before a kill, their answer lost: {checked.recognised_retries}"
              f" (each retry was recognised by its token: no second revision)")
    if checked.queued:
        print(f"offline tablets: {offline_judges} judges; offline spells {figures.spells}; "
              f"marks typed while offline, queued and sent on return {figures.queued_offline}; "
              f"answers lost with the network, the save sent again from the queue "
              f"{figures.answers_lost}")
        print(f"queued saves stored exactly once: {checked.queued_once} of {checked.queued} "
              f"(phases so far); of them with a lost answer: {checked.answers_lost_once} of "
              f"{checked.answers_lost}")
    for line in checked.details:
        print(f"  ! {line}")
    for line in figures.problems[:10]:
        print(f"  ! {line}")
    for sample in figures.samples:
        print("  ! " + sample.replace("\n", "\n  | "))
    prefix = f"phase {phase}: "
    if checked.lost or checked.wrong:
        outcome.failed.append(f"{prefix}{checked.lost} lost and {checked.wrong} wrong marks")
    if checked.failures - checked.lost - checked.wrong:
        outcome.failed.append(f"{prefix}the database check failed")
    if server_5xx:
        outcome.failed.append(f"{prefix}{server_5xx} answers 5xx")
    if unacknowledged or figures.saves != expected_saves:
        outcome.failed.append(f"{prefix}{unacknowledged} saves never acknowledged, "
                              f"{figures.saves} of {expected_saves} made")
    if figures.problems:
        outcome.failed.append(f"{prefix}{len(figures.problems)} judges' problems")
    if len([kill for kill in kills if not kill.error]) != wanted_kills:
        outcome.failed.append(f"{prefix}{len(kills)} of {wanted_kills} kills done")


def run_backend(backend: str, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(backend)
    began = time.monotonic()
    print(f"\n== {backend} ==", flush=True)
    rng = random.Random(f"{args.seed}-kills-{backend}")
    with temporary_site(backend) as site:
        print(describe_database(backend, site))
        plan = set_up(site, args.judges, args.marks, args.real_hash)
        print(f"set-up through the scoring CLI: {args.judges} judges on "
              f"{len(plan)} criteria ({', '.join(f'{code}: {len(j)}' for code, j in plan)}), "
              f"{args.marks} entries each: {time.monotonic() - began:.1f} s", flush=True)
        server = Gunicorn(site, workers=args.workers, threads=args.threads, new_session=True)
        state = ServerState()
        judges: list[Judge] = []
        all_kills: list[Kill] = []
        try:
            server.start()
            print("server: " + shlex.join([os.path.relpath(server.command[0]),
                                           *server.command[1:]])
                  + " (in its own process group)", flush=True)
            judges = [Judge(index, code, args, server, state)
                      for code, indices in plan for index in indices]
            expected = args.judges * args.marks
            for phase, kills in ((1, 0), (2, args.kills)):
                figures, done = run_phase(phase, judges, server, state, kills, rng)
                all_kills += done
                checked = verify(site, judges, all_kills)
                report_phase(phase, figures, done, checked, expected, outcome, kills,
                             sum(judge.goes_offline for judge in judges))
                sys.stdout.flush()
        finally:
            server.stop()
            for judge in judges:
                judge.client.close()
        stderr = server.stderr_text()
        tracebacks, others = server_errors(stderr)
        restarts = sum(len(kill.restart_failures) + (not kill.error) for kill in all_kills)
        print(f"gunicorn: started {1 + restarts} times; stderr: {len(tracebacks)} tracebacks, "
              f"{stderr.count('IntegrityError')} IntegrityError, "
              f"{stderr.count('database is locked')} 'database is locked', "
              f"{stderr.count('WORKER TIMEOUT')} worker timeouts, {len(others)} other "
              f"records that are not INFO")
        for text in tracebacks[:2] + others[:5]:
            print("  | " + text.replace("\n", "\n  | "))
        if tracebacks:
            outcome.failed.append(f"{len(tracebacks)} tracebacks in gunicorn's stderr")
    print(f"time for {backend}: {time.monotonic() - began:.1f} s (load average now "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())})", flush=True)
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--judges", type=int, default=100, help="judges, one thread each")
    parser.add_argument("--marks", type=int, default=50,
                        help="entries, so marks saved by each judge in each phase")
    parser.add_argument("--kills", type=int, default=3, help="kill -9 of gunicorn in phase 2")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the values, orders and kill moments (default: random, "
                             "printed)")
    parser.add_argument("--deadline", type=float, default=90.0,
                        help="seconds a save is retried before it counts as not acknowledged")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for an answer before retrying")
    parser.add_argument("--offline", type=float, default=0.3,
                        help="share of the judges whose tablets go offline and back at "
                             "random, queueing their marks meanwhile (0 to 1)")
    parser.add_argument("--real-hash", action="store_true",
                        help="hash the judges' passwords with the production scrypt "
                             f"parameters (default: {FAST_HASH}, as the test suite: sign-in "
                             "is not under test here and costs a second of CPU per ten)")
    args = parser.parse_args()
    if args.judges < 1 or args.marks < 1 or args.workers < 1 or args.threads < 1:
        parser.error("--judges, --marks, --workers and --threads must be at least 1")
    if args.kills < 0:
        parser.error("--kills must be 0 or more")
    if not 0 <= args.offline <= 1:
        parser.error("--offline must be between 0 and 1")
    if args.seed is None:
        args.seed = secrets.randbelow(10**6)

    print("command: " + shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])))
    print(f"date: {datetime.now(UTC).astimezone().isoformat(timespec='seconds')}")
    print(f"machine: nproc={nproc()}, python {platform.python_version()}, "
          f"{platform.machine()}, {platform.system()}, load average "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"load: {args.judges} judges x {args.marks} marks per phase, gunicorn "
          f"{args.workers} workers x {args.threads} threads, a new connection per request, "
          f"{args.kills} kill(s) -9 in phase 2, {round(args.judges * args.offline)} tablets "
          f"going offline and back at random, seed {args.seed} (--seed {args.seed} repeats "
          f"the values, orders, offline spells and kill shares)")
    started = time.monotonic()
    outcomes, failures = run_backends(args.backend, lambda backend: run_backend(backend, args))
    print(f"\ntotal time: {time.monotonic() - started:.1f} s")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    names = " and ".join(backend for backend, _ in outcomes)
    print(f"OK: load held, {args.kills} kill(s) -9 survived on {names}: every acknowledged "
          f"mark is stored with its value, nothing lost, no 5xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
