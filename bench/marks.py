"""Benchmark: judges saving marks concurrently over HTTP to a real gunicorn server.

Run: .venv/bin/python bench/marks.py [--backend sqlite|postgres|both] [--judges 20]
                                      [--marks 50] [--workers 2] [--threads 4] [--seed 1]
                                      [--keep-alive]

For each backend (default both): a temporary instance directory and a fresh database (an
SQLite file, or `scoring_bench_<random>` on the PostgreSQL server at
SCORING_TEST_POSTGRES_URL, dropped at the end), set up through the `scoring` command line:
one event with one criterion (0 to 100, step 0.5, judges = --judges), --marks contestants,
lots drawn, one judge account per judge assigned to the criterion; then the event is put
in scoring. Then `gunicorn --workers W --threads T 'scoring:create_app()'` on a free port:

1. hello world: one thread per judge, each GETs /healthz --marks times (no database, no
   session): the floor of what the server, the network stack and this client cost;
2. judges: one thread per judge signs in through the form, opens its mark sheet, reads the
   CSRF token and each row's save URL and version, and then saves one mark per entry, in
   its own random order, as htmx does (POST with value, version, a fresh token, view=sheet,
   HX-Request and X-CSRFToken), with no think time: throughput under load. A save is
   acknowledged when the answer is 200 and its row says "state-saved"; then, as the sheet
   does on the save's "progress-changed", it GETs the judge's count ("N / M"), which must
   equal the saves this judge has had acknowledged (timed apart from the saves);
3. verification in the database: every acknowledged mark is there with exactly its value,
   there are as many marks as acknowledgements, and each has exactly one revision carrying
   the save's token.

Prints per backend the saves, errors by status, mismatches, latency percentiles, saves per
second, the hello-world baseline and the ratios, and any error in gunicorn's stderr. Exits
1 when an acknowledged mark is missing or differs (or any verification fails), or when a
5xx answer or a transport error occurred.

Each request opens its own connection by default, as nginx does towards gunicorn unless
told otherwise, so that the kernel spreads requests over the workers; with --keep-alive each
thread keeps one connection, which stays with the worker that accepted it (then a few
workers may serve most of the judges while others idle). The client runs in this process
(threads, http.client) on the same machine as the server, so it takes part of the CPU:
compare figures from the same machine.
"""

from __future__ import annotations

import argparse
import html
import http.client
import http.cookies
import os
import platform
import random
import re
import secrets
import shlex
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (  # noqa: E402
    Gunicorn,
    Site,
    describe_database,
    run_backends,
    temporary_site,
)

EVENT = "BENCH"
CRITERION = "Q"
PASSWORD = "bench-" + secrets.token_hex(8)
BARRIER_TIMEOUT = 300.0  # seconds; a thread stuck this long breaks the run instead of hanging
REQUEST_TIMEOUT = 60.0

LOGIN_CSRF = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')
VALUE_ATTR = re.compile(r'\bvalue="([^"]*)"')
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
ROW_FORM = re.compile(r'<form class="mark-form" hx-post="([^"]+)".*?'
                      r'<input type="hidden" name="version" value="([^"]*)">', re.S)
ROW_STATE = re.compile(r'class="mark-row state-(\w+)')
ENTRY_ID = re.compile(r"/([^/]+)$")  # a row's key: the blind code (or sheet key)
PROGRESS_URL = re.compile(r'class="progress-count"\s+hx-get="([^"]+)"')


# --- a small HTTP client: a connection (new per request, or kept) and cookies per thread --

KEEP_ALIVE = False  # set by --keep-alive


class Client:
    def __init__(self, host: str, port: int, keep_alive: bool | None = None) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
        self.cookies: dict[str, str] = {}
        self.keep_alive = KEEP_ALIVE if keep_alive is None else keep_alive

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        """Send one request, read the whole answer; (status, body). Raises on a transport
        error (after closing the connection, so the next request opens a new one)."""
        sent = dict(headers or {})
        if not self.keep_alive:
            sent["Connection"] = "close"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            data = response.read()
        except Exception:
            self.connection.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or ():
            cookie = http.cookies.SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        if response.will_close or not self.keep_alive:
            self.connection.close()  # the next request opens a new one
        return response.status, data.decode("utf-8", errors="replace")

    def close(self) -> None:
        self.connection.close()


# --- figures ----------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}" if b > 0 else "n/a"


def nproc() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else (os.cpu_count() or 1)


# --- setting up the event through the command line ----------------------------------------

def scheme_toml(judges: int) -> str:
    return f'''code = "{EVENT}"
name = "Benchmark: judges saving marks"
[[criteria]]
code = "{CRITERION}"
name = "Visual inspection"
max = 100
step = 0.5
judges = {judges}
'''


def contestants_csv(count: int) -> str:
    lines = ["bib,name,delegation,unit"]
    for number in range(1, count + 1):
        lines.append(f"{number:04d},选手{number:04d},代表队{number % 6 + 1},某机械厂{number}")
    return "\n".join(lines) + "\n"


def judge_name(index: int) -> str:
    return f"judge{index + 1}"


def set_up(site: Site, judges: int, marks: int) -> None:
    scheme = site.instance / "scheme.toml"
    scheme.write_text(scheme_toml(judges), encoding="utf-8")
    contestants = site.instance / "contestants.csv"
    contestants.write_text(contestants_csv(marks), encoding="utf-8")
    site.cli("init-db")
    site.cli("event", "import", str(scheme))
    site.cli("contestants", "import", EVENT, str(contestants))
    site.cli("draw", EVENT, "--seed", "1")

    def account(index: int) -> None:
        name = judge_name(index)
        site.cli("user", "create", name, "--role", "judge", "--password", PASSWORD)
        site.cli("judge", "assign", EVENT, name, CRITERION)

    # Each command is a new process (~0.6 s, mostly start-up): run a few at once.
    with ThreadPoolExecutor(max_workers=max(2, nproc())) as pool:
        for future in [pool.submit(account, index) for index in range(judges)]:
            future.result()

    from sqlalchemy import text

    engine = site.engine()
    try:
        with engine.begin() as connection:
            changed = connection.execute(text(
                "UPDATE events SET state = 'scoring' WHERE code = :code"), {"code": EVENT})
            if changed.rowcount != 1:
                raise RuntimeError(f"event {EVENT} not found after the import")
    finally:
        engine.dispose()


# --- the load ---------------------------------------------------------------------------

@dataclass
class Load:
    """What the threads of one phase did: each thread fills its own, then merges it."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)  # the row's state on a 200 save
    acknowledged: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    sign_in: list[float] = field(default_factory=list)  # POST /login (scrypt), seconds
    counts: list[float] = field(default_factory=list)  # GET of the count after a save
    wrong_counts: int = 0  # a count that was not "acknowledged so far / marks"
    setup_problems: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)  # a few bodies of failed requests
    wall: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.exceptions.values())

    def sample(self, text: str) -> None:
        if len(self.samples) < 3:
            self.samples.append(text[:600])

    def merge(self, other: Load) -> None:
        with self.lock:
            self.latencies += other.latencies
            self.statuses += other.statuses
            self.exceptions += other.exceptions
            self.states += other.states
            self.acknowledged.update(other.acknowledged)
            self.sign_in += other.sign_in
            self.counts += other.counts
            self.wrong_counts += other.wrong_counts
            self.setup_problems += other.setup_problems
            self.samples += other.samples[:max(0, 3 - len(self.samples))]


def run_threads(count: int, target, load: Load) -> None:  # type: ignore[no-untyped-def]
    """Start `count` threads of target(index, barrier); time from the barrier to the end."""
    barrier = threading.Barrier(count + 1, timeout=BARRIER_TIMEOUT)
    threads = [threading.Thread(target=target, args=(index, barrier), daemon=True)
               for index in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    load.wall = time.perf_counter() - start


def hello_world(server: Gunicorn, judges: int, requests: int) -> Load:
    load = Load()

    def worker(index: int, barrier: threading.Barrier) -> None:
        client = Client(server.host, server.port)
        mine = Load()
        try:
            barrier.wait()
            for _ in range(requests):
                start = time.perf_counter()
                try:
                    status, body = client.request("GET", "/healthz")
                except Exception as error:  # noqa: BLE001 - counted and reported
                    mine.exceptions[type(error).__name__] += 1
                    continue
                mine.latencies.append(time.perf_counter() - start)
                mine.statuses[status] += 1
                if status != 200 or body != "ok":
                    mine.sample(f"GET /healthz -> {status}: {body}")
        finally:
            client.close()
            load.merge(mine)

    run_threads(judges, worker, load)
    return load


def sign_in_and_read_sheet(client: Client, index: int,
                           load: Load) -> tuple[str, str, list[tuple[str, str]]]:
    """Sign judge `index` in; (the page's CSRF token, the count's URL, [(save URL, version)]
    of its rows)."""
    status, page = client.request("GET", "/login")
    field_html = LOGIN_CSRF.search(page)
    value = VALUE_ATTR.search(field_html.group(0)) if field_html else None
    if status != 200 or value is None:
        raise RuntimeError(f"GET /login -> {status}, no csrf_token field")
    start = time.perf_counter()
    status, page = client.request("POST", "/login", form={
        "username": judge_name(index), "password": PASSWORD,
        "csrf_token": html.unescape(value.group(1))})
    load.sign_in.append(time.perf_counter() - start)
    if status != 302:
        raise RuntimeError(f"POST /login -> {status}: {page[:300]}")
    status, page = client.request("GET", f"/judge/{EVENT}/{CRITERION}")
    token, count_url = META_CSRF.search(page), PROGRESS_URL.search(page)
    rows = [(html.unescape(url), version) for url, version in ROW_FORM.findall(page)]
    if status != 200 or token is None or count_url is None:
        raise RuntimeError(f"GET /judge/{EVENT}/{CRITERION} -> {status}: {page[:300]}")
    return html.unescape(token.group(1)), html.unescape(count_url.group(1)), rows


def judges_saving(server: Gunicorn, judges: int, marks: int, seed: int) -> Load:
    load = Load()

    def worker(index: int, barrier: threading.Barrier) -> None:
        judge = judge_name(index)
        client = Client(server.host, server.port)
        mine = Load()
        rows: list[tuple[str, str]] = []
        csrf = count_url = ""
        try:
            csrf, count_url, rows = sign_in_and_read_sheet(client, index, mine)
            if len(rows) != marks:
                raise RuntimeError(f"the sheet shows {len(rows)} rows, expected {marks}")
        except Exception as error:  # noqa: BLE001 - reported; this judge then saves nothing
            mine.setup_problems.append(f"{judge}: {type(error).__name__}: {error}")
            rows = []
        rng = random.Random(seed * 1_000_003 + index)
        rng.shuffle(rows)  # each judge goes through the entries in its own order
        headers = {"HX-Request": "true", "X-CSRFToken": csrf,
                   "HX-Current-URL": f"{server.url}/judge/{EVENT}/{CRITERION}"}
        try:
            barrier.wait()
            for url, version in rows:
                steps = rng.randint(0, 200)  # a multiple of 0.5 within 0..100
                typed = f"{steps // 2}.5" if steps % 2 else str(steps // 2)
                token = secrets.token_hex(16)
                start = time.perf_counter()
                try:
                    status, body = client.request("POST", url, form={
                        "value": typed, "version": version, "token": token, "view": "sheet"},
                        headers=headers)
                except Exception as error:  # noqa: BLE001 - counted and reported
                    mine.exceptions[type(error).__name__] += 1
                    continue
                mine.latencies.append(time.perf_counter() - start)
                mine.statuses[status] += 1
                state = ROW_STATE.search(body)
                if status == 200:
                    mine.states[state.group(1) if state else "no row"] += 1
                if status == 200 and "state-saved" in body:
                    entry = ENTRY_ID.search(url)
                    assert entry, url
                    mine.acknowledged[(judge, entry.group(1))] = (steps * 5_000, token)
                else:
                    mine.sample(f"POST {url} -> {status}: {body}")
                if status == 200:
                    read_count(client, count_url, headers, f"{len(mine.acknowledged)} / {marks}",
                               mine)
        finally:
            client.close()
            load.merge(mine)

    run_threads(judges, worker, load)
    return load


def read_count(client: Client, url: str, headers: dict[str, str], expected: str,
               load: Load) -> None:
    """The sheet's GET of the judge's count after a save; a wrong count is a failure."""
    start = time.perf_counter()
    try:
        status, body = client.request("GET", url, headers=headers)
    except Exception as error:  # noqa: BLE001 - counted and reported
        load.wrong_counts += 1
        load.sample(f"GET {url}: {type(error).__name__}: {error}")
        return
    load.counts.append(time.perf_counter() - start)
    if status != 200 or body != expected:
        load.wrong_counts += 1
        load.sample(f"GET {url} -> {status}: {body!r}, expected {expected!r}")


# --- verification -----------------------------------------------------------------------

@dataclass
class Verification:
    marks: int = 0
    missing: int = 0
    differs: int = 0
    unacknowledged: int = 0  # stored, but no save of it was acknowledged
    bad_revisions: int = 0  # not exactly one revision, or not the save's value and token
    details: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        return self.missing + self.differs + self.unacknowledged + self.bad_revisions

    def note(self, text: str) -> None:
        if len(self.details) < 10:
            self.details.append(text)


def verify(site: Site, acknowledged: dict[tuple[str, str], tuple[int, str]]) -> Verification:
    """Compare the acknowledged saves with the marks table, in raw SQL (integers)."""
    from sqlalchemy import text

    result = Verification()
    engine = site.engine()
    try:
        with engine.connect() as connection:
            criterion_id = connection.execute(text(
                "SELECT c.id FROM criteria c JOIN events e ON e.id = c.event_id "
                "WHERE e.code = :event AND c.code = :criterion"),
                {"event": EVENT, "criterion": CRITERION}).scalar_one()
            marks = connection.execute(text(  # by the key of the row the judge saved
                "SELECT m.id, CASE WHEN c.blind THEN n.blind_code ELSE n.sheet_key END, "
                "m.judge, m.value, m.version FROM marks m JOIN entries n ON n.id = m.entry_id "
                "JOIN criteria c ON c.id = m.criterion_id WHERE m.criterion_id = :criterion"),
                {"criterion": criterion_id}).all()
            revisions: dict[int, list[tuple[int, str | None]]] = {}
            for mark_id, new_value, token in connection.execute(text(
                    "SELECT r.mark_id, r.new_value, r.client_token FROM mark_revisions r "
                    "JOIN marks m ON m.id = r.mark_id WHERE m.criterion_id = :criterion"),
                    {"criterion": criterion_id}):
                revisions.setdefault(mark_id, []).append((new_value, token))
            all_marks = connection.execute(text("SELECT count(*) FROM marks")).scalar_one()
    finally:
        engine.dispose()
    result.marks = all_marks
    stored = {(judge, entry_id): (mark_id, value, version)
              for mark_id, entry_id, judge, value, version in marks}
    if all_marks != len(marks):
        result.unacknowledged += all_marks - len(marks)
        result.note(f"{all_marks - len(marks)} marks on another criterion")
    for key, (units, token) in acknowledged.items():
        if key not in stored:
            result.missing += 1
            result.note(f"missing: {key} = {units}")
            continue
        mark_id, value, _version = stored[key]
        if value != units:
            result.differs += 1
            result.note(f"differs: {key} acknowledged {units}, stored {value}")
        if revisions.get(mark_id, []) != [(units, token)]:
            result.bad_revisions += 1
            result.note(f"revisions of {key}: {revisions.get(mark_id)}, expected "
                        f"[({units}, {token!r})]")
    for key in stored.keys() - acknowledged.keys():
        result.unacknowledged += 1
        result.note(f"stored but never acknowledged: {key} = {stored[key][1]}")
    return result


# --- one backend ------------------------------------------------------------------------

@dataclass
class Outcome:
    backend: str
    failed: list[str] = field(default_factory=list)


LOG_RECORD = re.compile(r"^\[\d{4}-\d\d-\d\d[ T]")  # gunicorn's and Flask's log lines


def server_errors(stderr: str) -> tuple[list[str], list[str]]:
    """gunicorn's stderr as log records (a line with a timestamp and the lines that follow
    it): (those with a traceback, the other ones that are not INFO)."""
    records: list[list[str]] = []
    for line in stderr.splitlines():
        if LOG_RECORD.match(line) or not records:
            records.append([line])
        else:
            records[-1].append(line)
    texts = ["\n".join(record).rstrip() for record in records if "".join(record).strip()]
    tracebacks = [text for text in texts if "Traceback (most recent call last)" in text]
    others = [text for text in texts if text not in tracebacks and "[INFO]" not in text]
    return tracebacks, others


def run_backend(backend: str, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(backend)
    began = time.perf_counter()
    print(f"\n== {backend} ==", flush=True)
    with temporary_site(backend) as site:
        print(describe_database(backend, site))
        set_up(site, args.judges, args.marks)
        print(f"set-up through the scoring CLI: {time.perf_counter() - began:.1f} s", flush=True)
        server = Gunicorn(site, workers=args.workers, threads=args.threads)
        with server:
            program = os.path.relpath(server.command[0])
            if program.startswith(".."):
                program = server.command[0]
            print("server: " + shlex.join([program, *server.command[1:]]), flush=True)
            hello = hello_world(server, args.judges, args.marks)
            saves = judges_saving(server, args.judges, args.marks, args.seed)
        checked = verify(site, saves.acknowledged)
        stderr = server.stderr_text()
        report(args, hello, saves, checked, outcome)
        tracebacks, others = server_errors(stderr)
        locked = stderr.count("database is locked")
        print(f"gunicorn stderr: {len(tracebacks)} tracebacks, {locked} 'database is locked', "
              f"{len(others)} other records that are not INFO")
        for text in tracebacks[:2] + others[:5]:
            print("  | " + text.replace("\n", "\n  | "))
        if tracebacks:
            outcome.failed.append(f"{len(tracebacks)} tracebacks in gunicorn's stderr")
    print(f"time for {backend}: {time.perf_counter() - began:.1f} s", flush=True)
    return outcome


def report(args: argparse.Namespace, hello: Load, saves: Load, checked: Verification,
           outcome: Outcome) -> None:
    total = args.judges * args.marks
    errors = {status: count for status, count in sorted(saves.statuses.items())
              if not 200 <= status < 300}
    server_5xx = sum(count for status, count in errors.items() if status >= 500)
    not_saved = {state: count for state, count in saves.states.items() if state != "saved"}
    save_p50, save_p99 = percentile(saves.latencies, 50), percentile(saves.latencies, 99)
    hello_p50, hello_p99 = percentile(hello.latencies, 50), percentile(hello.latencies, 99)
    hello_errors = {s: c for s, c in hello.statuses.items() if s != 200}
    print(f"judges {args.judges}, marks each {args.marks}, saves {saves.requests} "
          f"(expected {total}), acknowledged {len(saves.acknowledged)}")
    print(f"errors: by status {errors or 'none'}; transport {dict(saves.exceptions) or 'none'}"
          + (f"; answered 200 but not saved {not_saved}" if not_saved else ""))
    print(f"verification: {checked.marks} marks stored, {checked.mismatches} mismatches "
          f"(missing {checked.missing}, differs {checked.differs}, stored but not "
          f"acknowledged {checked.unacknowledged}, revision problems {checked.bad_revisions})")
    for line in checked.details:
        print(f"  ! {line}")
    print(f"save latency ms: p50 {ms(save_p50)}  p99 {ms(save_p99)}  "
          f"max {ms(max(saves.latencies, default=float('nan')))}   "
          f"saves/s {saves.requests / saves.wall if saves.wall else float('nan'):.1f} "
          f"({saves.requests} in {saves.wall:.2f} s)")
    print(f"hello world (GET /healthz, {hello.requests} requests): p50 {ms(hello_p50)} ms  "
          f"p99 {ms(hello_p99)} ms   requests/s "
          f"{hello.requests / hello.wall if hello.wall else float('nan'):.0f}"
          + (f"   errors {hello_errors} {dict(hello.exceptions)}"
             if hello_errors or hello.exceptions else ""))
    print(f"ratios: save_p50/hello_p50 {ratio(save_p50, hello_p50)}   "
          f"save_p99/hello_p99 {ratio(save_p99, hello_p99)}")
    if saves.counts:
        print(f"the count after each save (GET, not in the figures above): "
              f"p50 {ms(percentile(saves.counts, 50))} ms, "
              f"p99 {ms(percentile(saves.counts, 99))} ms, {len(saves.counts)} read, "
              f"{saves.wrong_counts} wrong")
    if saves.sign_in:
        print(f"sign-in (POST /login, scrypt), not in the figures above: "
              f"p50 {ms(statistics.median(saves.sign_in))} ms, "
              f"max {ms(max(saves.sign_in))} ms")
    for problem in saves.setup_problems[:5]:
        print(f"  ! {problem}")
    for sample in saves.samples + hello.samples:
        print(f"  ! {sample}")
    if saves.setup_problems:
        outcome.failed.append(f"{len(saves.setup_problems)} judges could not sign in")
    if checked.mismatches or checked.marks != len(saves.acknowledged):
        outcome.failed.append(f"{checked.mismatches} mismatches")
    if server_5xx or any(status >= 500 for status in hello.statuses):
        outcome.failed.append(f"{server_5xx} answers 5xx")
    if saves.wrong_counts:
        outcome.failed.append(f"{saves.wrong_counts} wrong counts")
    if saves.exceptions or hello.exceptions:
        outcome.failed.append("transport errors")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--judges", type=int, default=20, help="judges, one thread each")
    parser.add_argument("--marks", type=int, default=50,
                        help="contestants, so marks saved by each judge")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--seed", type=int, default=1, help="seed of the values and orders")
    parser.add_argument("--keep-alive", action="store_true",
                        help="keep one connection per thread (default: one per request)")
    args = parser.parse_args()
    global KEEP_ALIVE
    KEEP_ALIVE = args.keep_alive
    if not 1 <= args.judges <= 99:
        parser.error("--judges must be 1 to 99 (a scheme allows at most 99 judges)")
    if args.marks < 1 or args.workers < 1 or args.threads < 1:
        parser.error("--marks, --workers and --threads must be at least 1")

    print("command: " + shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])))
    print(f"machine: nproc={nproc()}, python {platform.python_version()} "
          f"({platform.python_implementation()}), {platform.machine()}, {platform.system()}")
    connections = ("one kept-alive connection per thread" if args.keep_alive
                   else "a new connection per request")
    print(f"load: {args.judges} judges x {args.marks} marks, gunicorn {args.workers} workers "
          f"x {args.threads} threads, {connections}, client and server on this machine")
    started = time.perf_counter()
    _outcomes, failures = run_backends(args.backend, lambda backend: run_backend(backend, args))
    print(f"\ntotal time: {time.perf_counter() - started:.1f} s")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: every acknowledged mark is stored exactly, no 5xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
