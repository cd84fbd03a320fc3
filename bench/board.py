"""Benchmark: the public live board (/e/EVENT) polled by phones, against a real gunicorn.

Run: .venv/bin/python bench/board.py [--backend sqlite|postgres|both] [--workers 2]
         [--threads 4] [--duration 8] [--connections 16] [--per-change 100]
         [--phones 1000] [--judges 30] [--hall-seconds 60] [--client wrk|python]
         [--keep-alive] [--profile] [--skip-hall] [--seed 1]

For each backend (default sqlite): a temporary instance directory and a fresh database (an
SQLite file, or `scoring_bench_<random>` on the PostgreSQL server at
SCORING_TEST_POSTGRES_URL, dropped at the end), set up through the `scoring` command line
(many commands in one process, see _server.Site.cli_batch): one event BOARD with 1,000
contestants in 20 delegations, two sections, four criteria (a theory exam with one mark,
two practical criteria with five judges each and the trimmed mean, a safety penalty), lots
drawn, 30 judge accounts (three panels of five on each practical criterion, each panel
marking a third of the entries), about 11,000 marks imported with `scoring scores import`
(each panel's last few entries are left unmarked for the judges of part c), 12 entries
absent or disqualified, and the board made live with `scoring board BOARD live`.

gunicorn then serves a small wrapper module written into the instance directory
(`benchapp.py`, on --pythonpath): it calls scoring.create_app() unchanged and adds two
benchmark-only routes, GET /bench/hello (a fixed 10 KB HTML page: hello world) and
POST /bench/bump/EVENT (`UPDATE events SET results_version = results_version + 1`: one
change of the board); and it counts the board's renders per worker (by wrapping
scoring.board.render) in files of the instance directory. `benchapp:make(cache=False)` sets
SCORING_BOARD_CACHE = False, `benchapp:make(gap=0)` SCORING_BOARD_RENDER_GAP = 0.

Every request says `Accept-Encoding: gzip, deflate, br`, as browsers do (the board is sent
gzipped; hello world is not compressed by the app, so it is sent whole either way).

(a) the unchanged poll: GET /e/BOARD with HX-Request: true and If-None-Match: the panel's
    ETag (answered 304), requests/s as a ratio to GET /bench/hello; three runs of each,
    in turns, the best against the best. Goal >= 0.9.
(b) full-board GETs right after changes: GET /e/BOARD with HX-Request: true and no
    If-None-Match (answered 200 with the 1,000-row panel), with one change (POST
    /bench/bump/BOARD) every --per-change requests; requests/s of the GETs as a ratio to
    the best hello world. Goal >= 0.68. Each worker renders a changed board at most once
    per SCORING_BOARD_RENDER_GAP (1 s), serving the page before it meanwhile; for
    comparison, the same GETs with no change at all, and with the gap at 0 (every change
    rendered at once, by one thread per worker). Then the GETs with changes on a server
    with the render cache off (every GET renders the board). Goal >= 0.1. When a goal of (a) or (b)
    is not met, a profile follows (cProfile in a separate process, Flask's test client): the
    poll against hello world, and the steps of one uncached render.
(c) the hall: --phones simulated phones (one asyncio process, a new connection per request
    as nginx opens towards gunicorn) each load the full page, then poll the panel every
    3 s with its current ETag (updated on each 200): a poll starts 3 s after the previous
    one started, or at once when that one took longer (never two at once; a poll times out
    after 10 s, as htmx's timeout on the public pages). Meanwhile --judges judges, each
    signed in through the form with its 1,000-row mark sheet open, save marks on their
    panel's unmarked entries through the judges' htmx route, waiting 2-5 s (uniform) after
    each answer, for --hall-seconds. A save that fails on the network or
    with a 5xx is retried with the same token, as the page does. Reports the phones' poll
    intervals against 3 s, poll latency, 200 vs 304, and checks every acknowledged save
    against the database.

The load generator runs on the same machine as the server: wrk (Debian's `wrk`, one
thread) for (a) and (b) when it is installed, else a Python asyncio client (--client
python; its own CPU cost is higher, so the ratios come out closer to 1 than wrk's); and
Python (asyncio for the phones in a separate process, one thread per judge) for (c). The
CPU time each part of the client and the server used is printed next to the figures.

Prints the command line, the machine, the figures and the goals, and any error in
gunicorn's stderr. Exits 1 when a save was not acknowledged or not stored exactly, when any
5xx (or another unexpected status) was answered, or when gunicorn logged a traceback. Poll
timeouts and transport errors are printed as warnings (the goals say how fast; these say
the server fell behind), as are the goals not met: they do not change the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import html
import json
import math
import multiprocessing
import os
import platform
import random
import re
import resource
import secrets
import shlex
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import ROOT, Gunicorn, Site, describe_database, run_backends, temporary_site
from marks import Client, ms, nproc, percentile, server_errors

EVENT = "BOARD"
CONTESTANTS = 1000
DELEGATIONS = 20
PANELS = 3  # each practical criterion has PANELS panels of SEATS judges
SEATS = 5
PANEL_CRITERIA = ("P1", "P2")
PASSWORD = "bench-" + secrets.token_hex(8)
POLL_SECONDS = 3.0
PHONE_TIMEOUT = 10.0  # htmx's timeout on the public pages (public_base.html)
SAVE_TIMEOUT = 30.0
HELLO_BYTES = 10 * 1024
GOALS = {"poll": 0.9, "board_cached": 0.68, "board_uncached": 0.1}
NOISY = 0.25  # cores used by other processes during a run above which it is marked NOISY

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
LOGIN_CSRF = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')
VALUE_ATTR = re.compile(r'\bvalue="([^"]*)"')
ROW_FORM = re.compile(r'<form class="mark-form" hx-post="([^"]+)".*?'
                      r'<input type="hidden" name="version" value="([^"]*)">', re.DOTALL)
DATA_ETAG = re.compile(rb'data-etag="([^"]+)"')
GZIP = "gzip, deflate, br"  # what browsers send as Accept-Encoding
PAIRS = 3  # (a): runs of hello world and of the poll, in turns


# --- the event ----------------------------------------------------------------------------

SCHEME = f'''code = "{EVENT}"
name = "Benchmark: a 1,000-entry board"
decimals = 2
rounding = "stage"
tie_break = ["section:practical", "criterion:P1"]
team_best_n = 3

[[sections]]
code = "theory"
name = "Theory"

[[sections]]
code = "practical"
name = "Practical"

[[criteria]]
code = "T1"
name = "Theory exam"
section = "theory"
max = 100
step = 0.5
weight = 0.3
judges = 1

[[criteria]]
code = "P1"
name = "Visual inspection"
section = "practical"
max = 100
step = 0.5
weight = "7/30"
judges = {SEATS}
aggregate = "trimmed"
max_spread = 15
blind = false  # every save changes the public board: its worst case (a blind criterion's
               # saves change nothing public until it is decoded)

[[criteria]]
code = "P2"
name = "Bend test"
section = "practical"
max = 100
step = 0.5
weight = "7/15"
judges = {SEATS}
aggregate = "trimmed"
blind = false  # every save changes the public board: its worst case (a blind criterion's
               # saves change nothing public until it is decoded)

[[criteria]]
code = "S1"
name = "Safety deductions"
section = "practical"
kind = "penalty"
max = 10
step = 0.5
judges = 1

[[awards]]
name = "First prize"
share = 0.10
[[awards]]
name = "Second prize"
share = 0.20
[[awards]]
name = "Third prize"
share = 0.30
min_total = 60
'''


def judge_name(index: int) -> str:
    return f"j{index + 1:02d}"


@dataclass(frozen=True)
class Seat:
    """Judge `index` marks `criterion` for the entries of panel `panel`."""

    index: int
    criterion: str
    panel: int

    @property
    def name(self) -> str:
        return judge_name(self.index)


def seats(judges: int) -> list[Seat]:
    """Judges 0.. fill P1's panels seat by seat, then P2's (30 judges: all seats)."""
    result = []
    for index in range(judges):
        slot = index % (len(PANEL_CRITERIA) * PANELS * SEATS)
        criterion = PANEL_CRITERIA[slot // (PANELS * SEATS)]
        result.append(Seat(index, criterion, (slot % (PANELS * SEATS)) // SEATS))
    return result


def bib(number: int) -> str:
    return f"{number:04d}"


def panel_of(number: int) -> int:
    return (number - 1) * PANELS // CONTESTANTS


def gap_bibs(panel: int, gap: int) -> list[str]:
    """The last `gap` entries of a panel: no practical marks imported, left to part (c)."""
    numbers = [n for n in range(1, CONTESTANTS + 1) if panel_of(n) == panel]
    return [bib(n) for n in numbers[-gap:]]


def half_steps(rng: random.Random, low: int, high: int) -> str:
    steps = rng.randint(low * 2, high * 2)
    return f"{steps // 2}.5" if steps % 2 else str(steps // 2)


def write_inputs(folder: Path, judges: int, gap: int, seed: int) -> tuple[dict[str, Path], int]:
    """The scheme, contestants, scores and entries files; and the number of marks."""
    rng = random.Random(seed)
    gaps = {bib_ for panel in range(PANELS) for bib_ in gap_bibs(panel, gap)}
    absent = [bib(n) for n in rng.sample(range(1, CONTESTANTS + 1), 40)
              if bib(n) not in gaps][:12]
    lines = ["bib,name,gender,unit,delegation"]
    family = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
    for n in range(1, CONTESTANTS + 1):
        name = family[n % 20] + given[(n * 7) % 20] + given[(n * 13) % 20]
        lines.append(f"{bib(n)},{name},{'男' if n % 5 else '女'},"
                     f"某机械厂第{n % 37 + 1}车间,代表队{n % DELEGATIONS + 1:02d}")
    contestants = folder / "contestants.csv"
    contestants.write_text("\n".join(lines) + "\n", encoding="utf-8")

    panel_judges: dict[tuple[str, int], list[str]] = {}
    for seat in seats(judges):
        panel_judges.setdefault((seat.criterion, seat.panel), []).append(seat.name)
    rows = ["bib,criterion,judge,score"]
    for n in range(1, CONTESTANTS + 1):
        code = bib(n)
        if code in absent:
            continue
        rows.append(f"{code},T1,theory-exam,{half_steps(rng, 40, 100)}")
        rows.append(f"{code},S1,safety,{half_steps(rng, 0, 3) if rng.random() < 0.2 else 0}")
        if code in gaps:
            continue
        for criterion in PANEL_CRITERIA:
            names = panel_judges.get((criterion, panel_of(n)), [])
            # Labels stand in for seats no bench judge holds, so every entry has 5 marks.
            names = names + [f"{criterion}-{panel_of(n)}-{k}" for k in range(SEATS - len(names))]
            base = rng.randint(110, 190)
            for name in names:
                steps = max(0, min(200, base + rng.randint(-12, 12)))
                value = f"{steps // 2}.5" if steps % 2 else str(steps // 2)
                rows.append(f"{code},{criterion},{name},{value}")
    scores = folder / "scores.csv"
    scores.write_text("\n".join(rows) + "\n", encoding="utf-8")
    entries = folder / "entries.csv"
    entries.write_text("bib,status\n" + "".join(
        f"{code},{'dq' if k < 2 else 'absent'}\n" for k, code in enumerate(absent)),
        encoding="utf-8")
    scheme = folder / "scheme.toml"
    scheme.write_text(SCHEME, encoding="utf-8")
    return {"scheme": scheme, "contestants": contestants, "scores": scores,
            "entries": entries}, len(rows) - 1


def set_up(site: Site, judges: int, gap: int, seed: int) -> int:
    """The event, accounts and marks through the scoring CLI; the number of marks imported."""
    files, marks = write_inputs(site.instance, judges, gap, seed)
    commands = [["init-db"], ["event", "import", str(files["scheme"])],
                ["contestants", "import", EVENT, str(files["contestants"])],
                ["draw", EVENT, "--seed", str(seed)]]
    for seat in seats(judges):
        commands.append(["user", "create", seat.name, "--role", "judge",
                         "--password", PASSWORD])
        commands.append(["judge", "assign", EVENT, seat.name, seat.criterion])
    commands += [["scores", "import", EVENT, str(files["scores"])],
                 ["entries", "update", EVENT, str(files["entries"])],
                 ["board", EVENT, "live"]]
    site.cli_batch(commands)
    return marks


# --- the wrapper module gunicorn serves ---------------------------------------------------

WRAPPER = '''"""Written by bench/board.py: scoring.create_app() unchanged, plus benchmark-only routes."""

import os
from pathlib import Path

from flask import Response
from sqlalchemy import text

from scoring import create_app
from scoring.web import board
from scoring.extensions import csrf, db

_line = "<p>Hello, world! This is a fixed page of ten kilobytes for the baseline.</p>\\n"
_head = "<!doctype html><html><head><title>hello</title></head><body>\\n"
_tail = "</body></html>\\n"
_body = _line * ((HELLO_BYTES - len(_head) - len(_tail)) // len(_line))
HELLO = (_head + _body + " " * (HELLO_BYTES - len(_head) - len(_body) - len(_tail))
         + _tail).encode()
assert len(HELLO) == HELLO_BYTES
RENDERS = Path(os.environ["BENCH_RENDERS_DIR"])


def _count_renders() -> None:
    """Each call of board.render is one render of a board: note its ETag per worker."""
    if getattr(board.render, "bench_counting", False):
        return
    render = board.render

    def counting_render(stamp, view, partial, locale):
        with open(RENDERS / f"renders.{os.getpid()}", "a", encoding="utf-8") as log:
            log.write(stamp.etag(view, partial, locale) + "\\n")
        return render(stamp, view, partial, locale)

    counting_render.bench_counting = True
    board.render = counting_render


def make(cache=True, gap=None):
    app = create_app()
    app.config["SCORING_BOARD_CACHE"] = bool(cache)
    if gap is not None:
        app.config["SCORING_BOARD_RENDER_GAP"] = float(gap)
    _count_renders()

    @app.get("/bench/hello")
    def bench_hello():
        return Response(HELLO, content_type="text/html; charset=utf-8")

    @app.post("/bench/bump/<code>")
    def bench_bump(code):
        db.session.execute(text("UPDATE events SET results_version = results_version + 1 "
                                "WHERE code = :code"), {"code": code})
        db.session.commit()
        return Response(status=204)

    csrf.exempt(bench_bump)
    return app
'''.replace("HELLO_BYTES", str(HELLO_BYTES))


def write_wrapper(site: Site) -> Path:
    folder = site.instance / "benchapp"
    folder.mkdir(exist_ok=True)
    (folder / "benchapp.py").write_text(WRAPPER, encoding="utf-8")
    renders = site.instance / "renders"
    renders.mkdir(exist_ok=True)
    site.env["BENCH_RENDERS_DIR"] = str(renders)
    return folder


def serve(site: Site, args: argparse.Namespace, cache: bool,
          gap: float | None = None) -> Gunicorn:
    folder = site.instance / "benchapp"
    settings = [] if cache else ["cache=False"]
    if gap is not None:
        settings.append(f"gap={gap!r}")
    return Gunicorn(site, workers=args.workers, threads=args.threads,
                    extra_args=("--pythonpath", str(folder)),
                    app=f"benchapp:make({', '.join(settings)})")


def renders_so_far(site: Site) -> Counter[str]:
    """Renders (cache puts) so far, by ETag, over all workers; and per (pid, ETag) below."""
    counts: Counter[str] = Counter()
    for path in (site.instance / "renders").glob("renders.*"):
        counts.update(path.read_text(encoding="utf-8").split())
    return counts


def renders_by_worker(site: Site) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for path in (site.instance / "renders").glob("renders.*"):
        pid = path.suffix[1:]
        counts.update((pid, key) for key in path.read_text(encoding="utf-8").split())
    return counts


# --- a small asyncio HTTP/1.1 client: one request per connection ----------------------------

class Fetch(asyncio.Protocol):
    """Send one request on a new connection, read the answer: status, headers, body length,
    and the body's first `keep` bytes. The server closes (Connection: close)."""

    def __init__(self, request: bytes, keep: int, done: asyncio.Future) -> None:
        self.request = request
        self.keep = keep
        self.done = done
        self.head = b""
        self.status = 0
        self.headers: dict[str, str] = {}
        self.length: int | None = None
        self.received = 0
        self.body = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if not self.status:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.head[:end].decode("latin-1").split("\r\n")
            self.status = int(lines[0].split(" ", 2)[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
            if "content-length" in self.headers:
                self.length = int(self.headers["content-length"])
            elif self.status in (204, 304):
                self.length = 0
            data = self.head[end + 4:]
        self.received += len(data)
        if len(self.body) < self.keep:
            self.body += data[:self.keep - len(self.body)]
        if self.length is not None and self.received >= self.length:
            self.finish(None)

    def finish(self, error: BaseException | None) -> None:
        if not self.done.done():
            if error is None:
                self.done.set_result(self)
            else:
                self.done.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.status and self.length is None:
            self.finish(None)  # no length: the body ends with the connection
        else:
            self.finish(exc or ConnectionResetError("closed before the whole answer"))


def request_bytes(method: str, path: str, host: str, headers: dict[str, str] | None = None,
                  body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close",
             "User-Agent: bench-board"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def fetch(host: str, port: int, request: bytes, timeout: float, keep: int = 0) -> Fetch:
    loop = asyncio.get_running_loop()
    done: asyncio.Future = loop.create_future()
    transport, _protocol = await asyncio.wait_for(
        loop.create_connection(lambda: Fetch(request, keep, done), host, port), timeout)
    try:
        return await asyncio.wait_for(done, timeout)
    finally:
        transport.close()


# --- (a) and (b): closed-loop load with wrk or Python -------------------------------------

WRK_SCRIPT = r'''-- Written by bench/board.py: GETs of one path; every N-th request is a change instead.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  every = tonumber(args[1])
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  if args[3] ~= "" then headers["HX-Request"] = args[3] end
  if args[4] ~= "" then headers["If-None-Match"] = args[4] end
  get = wrk.format("GET", wrk.path, headers)
  bump = wrk.format("POST", args[2], nil, "")
  n = 0
  bumps = 0
  statuses = {}
end

function request()
  n = n + 1
  if every > 0 and n % every == 0 then
    bumps = bumps + 1
    return bump
  end
  return get
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total, changes = {}, 0
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do
      total[key] = (total[key] or 0) + count
    end
    changes = changes + thread:get("bumps")
  end
  local parts = {}
  for key, count in pairs(total) do table.insert(parts, string.format('"%s": %d', key, count)) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "bytes": %d, "changes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes, changes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max,
    table.concat(parts, ", ")))
end
'''


@dataclass
class Run:
    """One closed-loop run: what the client saw and what the server and client spent."""

    label: str
    client: str
    requests: int = 0  # every request, changes included
    changes: int = 0
    seconds: float = 0.0
    bytes: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    p50: float = float("nan")
    p99: float = float("nan")
    max: float = float("nan")
    cpu: Cpu | None = None
    renders: int = 0
    versions: int = 0

    @property
    def gets(self) -> int:
        return self.requests - self.changes

    @property
    def rate(self) -> float:
        """GETs per second (changes excluded from the count, their time included)."""
        return self.gets / self.seconds if self.seconds else float("nan")

    def line(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(
            self.statuses.items()))
        errors = {k: v for k, v in self.errors.items() if v}
        return (f"{self.rate:8.1f} req/s  ({self.gets} GETs"
                + (f" + {self.changes} changes" if self.changes else "")
                + f" in {self.seconds:.1f} s)  latency p50 {ms(self.p50)} ms  p99 "
                f"{ms(self.p99)} ms  max {ms(self.max)} ms  avg body "
                f"{self.bytes / max(1, self.requests) / 1024:.1f} KiB  statuses {{{statuses}}}"
                + (f"  ERRORS {errors}" if errors else "")
                + (f"  [{self.cpu.line()}]" if self.cpu else ""))


@dataclass
class Cpu:
    """CPU seconds spent over a stretch of wall time, by whom (from /proc)."""

    seconds: float
    server: float  # gunicorn's master and workers
    client: float  # the load generator
    database: float  # PostgreSQL's processes serving the temporary database (0 on SQLite)
    machine: float  # every process of the machine

    def line(self) -> str:
        others = self.machine - self.server - self.client - self.database
        return (f"CPU in cores: server {self.server / self.seconds:.2f}"
                + (f", PostgreSQL {self.database / self.seconds:.2f}" if self.database else "")
                + f", client {self.client / self.seconds:.2f}, other processes "
                f"{max(0.0, others) / self.seconds:.2f}"
                + (" NOISY" if others / self.seconds > NOISY else ""))


class CpuMeter:
    """Measures a stretch: gunicorn (server.cpu_seconds), a client (a function giving its CPU
    seconds so far), the PostgreSQL backends whose title names the site's database, and the
    whole machine (/proc/stat)."""

    def __init__(self, server: Gunicorn, client: Callable[[], float]) -> None:
        self.server = server
        self.client = client
        self.database = server.site.database_name if server.site.backend == "postgres" \
            else None

    def backends(self) -> dict[int, float]:
        if self.database is None:
            return {}
        ticks = os.sysconf("SC_CLK_TCK")
        found = {}
        wanted = f" {self.database} ".encode()
        for folder in Path("/proc").iterdir():
            if not folder.name.isdigit():
                continue
            try:
                if wanted not in (folder / "cmdline").read_bytes():
                    continue
                fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
                found[int(folder.name)] = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, ValueError, IndexError):
                continue
        return found

    def __enter__(self) -> Self:
        self.began = time.perf_counter()
        self.start = (self.server.cpu_seconds(), self.client(), self.backends(),
                      machine_cpu())
        return self

    def __exit__(self, *exc: object) -> None:
        server, client, backends, machine = self.start
        after = self.backends()
        self.cpu = Cpu(time.perf_counter() - self.began,
                       self.server.cpu_seconds() - server, self.client() - client,
                       sum(cpu - backends.get(pid, 0.0) for pid, cpu in after.items()),
                       machine_cpu() - machine)


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (all cores), from /proc/stat."""
    try:
        fields = [int(value) for value in
                  Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def idle_check(seconds: float = 2.0) -> float:
    """Cores busy on this machine while the benchmark does nothing."""
    before = machine_cpu()
    time.sleep(seconds)
    return (machine_cpu() - before) / seconds


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_run(server: Gunicorn, label: str, path: str, seconds: float, connections: int,
            every: int = 0, partial: bool = False, etag: str = "",
            keep_alive: bool = False) -> Run:
    script = server.site.instance / "board.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s",
               "--timeout", "30s", "--latency", "-s", str(script)]
    command += ["-H", f"Accept-Encoding: {GZIP}"]  # as every browser asks
    if not keep_alive:
        command += ["-H", "Connection: close"]
    command += [server.url + path, "--", str(every), f"/bench/bump/{EVENT}",
                "true" if partial else "", f'"{etag}"' if etag else ""]
    with CpuMeter(server, child_cpu) as meter:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60,
                              check=False)
    run = Run(label, "wrk", cpu=meter.cpu)
    found = re.search(r"^BENCHJSON (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk exited {done.returncode}:\n{done.stdout}{done.stderr}")
    data = json.loads(found.group(1))
    run.requests, run.changes, run.bytes = data["requests"], data["changes"], data["bytes"]
    run.seconds = data["duration_us"] / 1e6
    run.statuses = Counter({int(k): v for k, v in data["statuses"].items()})
    run.errors = Counter(data["errors"])
    run.p50, run.p99, run.max = (data[k] / 1e6 for k in ("p50_us", "p99_us", "max_us"))
    run.command = shlex.join(command)  # type: ignore[attr-defined]
    return run


async def python_load(host: str, port: int, path: str, seconds: float, connections: int,
                      every: int, partial: bool, etag: str) -> dict[str, Any]:
    headers = {"Accept-Encoding": GZIP}  # as every browser asks
    if partial:
        headers["HX-Request"] = "true"
    if etag:
        headers["If-None-Match"] = f'"{etag}"'
    get = request_bytes("GET", path, f"{host}:{port}", headers)
    bump = request_bytes("POST", f"/bench/bump/{EVENT}", f"{host}:{port}")
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    totals = {"requests": 0, "changes": 0, "bytes": 0}
    end = time.perf_counter() + seconds

    async def user() -> None:
        while time.perf_counter() < end:
            totals["requests"] += 1
            change = every > 0 and totals["requests"] % every == 0
            totals["changes"] += change
            start = time.perf_counter()
            try:
                answer = await fetch(host, port, bump if change else get, 30.0)
            except Exception as error:  # noqa: BLE001 - counted
                errors[type(error).__name__] += 1
                continue
            latencies.append(time.perf_counter() - start)
            statuses[answer.status] += 1
            totals["bytes"] += answer.received

    began = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(connections)))
    return {**totals, "seconds": time.perf_counter() - began, "latencies": latencies,
            "statuses": statuses, "errors": errors}


def python_run(server: Gunicorn, label: str, path: str, seconds: float, connections: int,
               every: int = 0, partial: bool = False, etag: str = "") -> Run:
    with CpuMeter(server, time.process_time) as meter:
        data = asyncio.run(python_load(server.host, server.port, path, seconds, connections,
                                       every, partial, etag))
    run = Run(label, "python", requests=data["requests"], changes=data["changes"],
              seconds=data["seconds"], bytes=data["bytes"], statuses=data["statuses"],
              errors=data["errors"], cpu=meter.cpu)
    run.p50, run.p99 = percentile(data["latencies"], 50), percentile(data["latencies"], 99)
    run.max = max(data["latencies"], default=float("nan"))
    return run


def closed_loop(server: Gunicorn, args: argparse.Namespace, label: str, path: str,
                seconds: float, every: int = 0, partial: bool = False, etag: str = "") -> Run:
    site = server.site
    before = renders_so_far(site)
    if args.client == "wrk":
        run = wrk_run(server, label, path, seconds, args.connections, every, partial, etag,
                      args.keep_alive)
    else:
        run = python_run(server, label, path, seconds, args.connections, every, partial, etag)
    after = renders_so_far(site)
    run.renders = sum(after.values()) - sum(before.values())
    run.versions = len(set(after) - set(before))
    return run


def panel_etag(server: Gunicorn) -> tuple[str, int, int, int]:
    """The panel's current ETag (unquoted), the size of the panel and of the full page, and
    the panel's size gzipped as the server does it."""
    client = Client(server.host, server.port)
    status, page = client.request("GET", f"/e/{EVENT}")
    found = DATA_ETAG.search(page.encode())
    if status != 200 or found is None:
        raise RuntimeError(f"GET /e/{EVENT} -> {status}, no data-etag: {page[:300]}")
    etag = found.group(1).decode()
    status, panel = client.request("GET", f"/e/{EVENT}", headers={"HX-Request": "true"})
    if status != 200:
        raise RuntimeError(f"GET /e/{EVENT} (partial) -> {status}")
    status, again = client.request("GET", f"/e/{EVENT}", headers={
        "HX-Request": "true", "If-None-Match": f'"{etag}"'})
    if status != 304 or again:
        raise RuntimeError(f"GET /e/{EVENT} with If-None-Match: the panel's ETag -> {status} "
                           f"(expected 304 with no body)")
    return (etag, len(panel.encode()), len(page.encode()),
            len(gzip.compress(panel.encode(), compresslevel=5, mtime=0)))


# --- (c) the hall: phones polling while judges save -------------------------------------

@dataclass
class Phones:
    intervals: list[float] = field(default_factory=list)  # between poll starts, in window
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    loads: list[float] = field(default_factory=list)  # the first full page
    load_errors: Counter[str] = field(default_factory=Counter)
    worst_phone_p99: float = float("nan")
    phones_late: int = 0  # phones with an interval over 1.5 x POLL_SECONDS
    bytes: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    samples: list[str] = field(default_factory=list)


async def phones_main(host: str, port: int, count: int, window: tuple[float, float],
                      stop: float, path: str = f"/e/{EVENT}", seed: int = 7,
                      conditional: bool = True) -> Phones:
    """Each phone: load the page at a random moment of the first poll interval, then poll
    the panel every POLL_SECONDS (the next poll starts 3 s after the previous one started,
    or as soon as its answer arrives if that took longer; never two at once). `path` may
    be a static file (bench/crowd.py's baseline): its ETag then comes from the header;
    with `conditional` False the polls send no ETag (every answer is the whole file)."""
    out = Phones()
    per_phone: list[list[float]] = []
    full = request_bytes("GET", path, f"{host}:{port}", {"Accept-Encoding": GZIP})
    rng = random.Random(seed)

    async def phone(index: int) -> None:
        mine: list[float] = []
        per_phone.append(mine)
        await asyncio.sleep(max(0.0, window[0] - POLL_SECONDS + rng.random() * POLL_SECONDS
                                - time.time()))
        start = time.time()
        try:
            page = await fetch(host, port, full, PHONE_TIMEOUT, keep=8192)
            body = bytes(page.body)
            if page.headers.get("content-encoding") == "gzip":  # the first 8 KiB of it
                body = zlib.decompressobj(wbits=31).decompress(body)
            found = DATA_ETAG.search(body)
            if page.status != 200 or (found is None and "etag" not in page.headers):
                raise RuntimeError(f"status {page.status}")
            etag = '"' + found.group(1).decode() + '"' if found else page.headers["etag"]
            out.loads.append(time.time() - start)
        except Exception as error:  # noqa: BLE001 - counted; this phone then stays away
            out.load_errors[type(error).__name__] += 1
            return
        due = time.time() + POLL_SECONDS
        last = None
        while True:
            await asyncio.sleep(max(0.0, due - time.time()))
            start = time.time()
            if start >= stop:
                return
            if last is not None and window[0] <= start < window[1]:
                out.intervals.append(start - last)
                mine.append(start - last)
            last = start
            request = request_bytes("GET", path, f"{host}:{port}", {
                "HX-Request": "true", "Accept-Encoding": GZIP,
                **({"If-None-Match": etag} if conditional else {})})
            try:
                answer = await fetch(host, port, request, PHONE_TIMEOUT)
            except Exception as error:  # noqa: BLE001 - counted
                if window[0] <= start < window[1]:
                    out.errors[type(error).__name__] += 1
                due = max(due + POLL_SECONDS, time.time())
                continue
            if window[0] <= start < window[1]:
                out.latencies.append(time.time() - start)
                out.statuses[answer.status] += 1
                out.bytes += answer.received
            if answer.status == 200 and answer.headers.get("etag"):
                etag = answer.headers["etag"]
            elif answer.status not in (200, 304) and len(out.samples) < 3:
                out.samples.append(f"poll -> {answer.status}")
            due = max(due + POLL_SECONDS, time.time())

    began, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(phone(index) for index in range(count)))
    out.wall, out.cpu = time.perf_counter() - began, time.process_time() - cpu
    p99s = [percentile(values, 99) for values in per_phone if values]
    out.worst_phone_p99 = max(p99s, default=float("nan"))
    out.phones_late = sum(1 for values in per_phone
                          if values and max(values) > 1.5 * POLL_SECONDS)
    return out


def phones_process(host: str, port: int, count: int, window: tuple[float, float],
                   stop: float, connection: Any, path: str = f"/e/{EVENT}",
                   seed: int = 7, conditional: bool = True) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count * 2 + 256)), hard))
    try:
        connection.send(asyncio.run(phones_main(host, port, count, window, stop, path, seed,
                                                conditional)))
    except BaseException as error:  # noqa: BLE001 - passed to the parent
        connection.send(RuntimeError(f"phones: {type(error).__name__}: {error}\n"
                                     + traceback.format_exc()))


@dataclass
class Judges:
    saves: int = 0
    acknowledged: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    not_acknowledged: list[str] = field(default_factory=list)
    sign_in: list[float] = field(default_factory=list)  # sign in + open the 1,000-row sheet
    setup_problems: list[str] = field(default_factory=list)
    cpu: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def sign_in(server: Gunicorn, seat: Seat) -> tuple[Client, str, dict[str, str]]:
    """Sign in through the form, open the mark sheet: (client, CSRF token, versions by entry
    id)."""
    client = Client(server.host, server.port, keep_alive=False)
    client.connection.timeout = SAVE_TIMEOUT
    status, page = client.request("GET", "/login")
    field_html = LOGIN_CSRF.search(page)
    value = VALUE_ATTR.search(field_html.group(0)) if field_html else None
    if status != 200 or value is None:
        raise RuntimeError(f"GET /login -> {status}, no csrf_token field")
    status, page = client.request("POST", "/login", form={
        "username": seat.name, "password": PASSWORD,
        "csrf_token": html.unescape(value.group(1))})
    if status != 302:
        raise RuntimeError(f"POST /login -> {status}: {page[:300]}")
    status, page = client.request("GET", f"/judge/{EVENT}/{seat.criterion}")
    token = META_CSRF.search(page)
    if status != 200 or token is None:
        raise RuntimeError(f"GET /judge/{EVENT}/{seat.criterion} -> {status}: {page[:300]}")
    # by the row's key (the blind code, or the sheet key on a criterion that is not blind)
    versions = {url.rsplit("/", 1)[1]: version for url, version in ROW_FORM.findall(page)}
    return client, html.unescape(token.group(1)), versions


def judge_thread(server: Gunicorn, seat: Seat, session: tuple[Client, str, dict[str, str]],
                 entries: list[str], start: float, stop: float, seed: int,
                 out: Judges) -> None:
    client, csrf, versions = session
    rng = random.Random(seed * 1_000_003 + seat.index)
    todo = [entry for entry in entries if versions.get(entry) == ""]
    rng.shuffle(todo)
    headers = {"HX-Request": "true", "X-CSRFToken": csrf,
               "HX-Current-URL": f"{server.url}/judge/{EVENT}/{seat.criterion}"}
    mine = Judges()
    time.sleep(max(0.0, start + rng.uniform(0, 5.0) - time.time()))
    try:
        for entry in todo:
            if time.time() >= stop:
                break
            typed = half_steps(rng, 55, 100)
            token = secrets.token_hex(16)
            url = f"/judge/{EVENT}/{seat.criterion}/{entry}"
            mine.saves += 1
            acknowledged = False
            for attempt in range(6):  # as app.js: retried with the same token until it arrives
                if attempt:
                    mine.retries += 1
                    time.sleep(min(2 ** (attempt - 1), 15))
                began = time.perf_counter()
                try:
                    status, body = client.request("POST", url, form={
                        "value": typed, "version": "", "token": token, "view": "sheet"},
                        headers=headers)
                except Exception as error:  # noqa: BLE001 - counted, retried
                    mine.exceptions[type(error).__name__] += 1
                    continue
                mine.latencies.append(time.perf_counter() - began)
                mine.statuses[status] += 1
                if status >= 500:
                    continue
                if status == 200 and 'class="mark-row state-saved' in body:
                    acknowledged = True
                    units = int(Decimal(typed) * 10_000)
                    mine.acknowledged[(seat.name, seat.criterion, entry)] = (units, token)
                else:
                    mine.not_acknowledged.append(f"{seat.name} {url} -> {status}: "
                                                 f"{' '.join(body.split())[:300]}")
                break
            if not acknowledged and not mine.not_acknowledged[-1:]:
                mine.not_acknowledged.append(f"{seat.name} {url}: no answer after 6 tries")
            time.sleep(rng.uniform(2.0, 5.0))
    finally:
        client.close()
        with out.lock:
            out.saves += mine.saves
            out.acknowledged.update(mine.acknowledged)
            out.latencies += mine.latencies
            out.statuses += mine.statuses
            out.exceptions += mine.exceptions
            out.retries += mine.retries
            out.not_acknowledged += mine.not_acknowledged


@dataclass
class Verification:
    stored: int = 0
    missing: int = 0
    differs: int = 0
    unacknowledged: int = 0
    bad_revisions: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        return self.missing + self.differs + self.unacknowledged + self.bad_revisions


def verify(site: Site, judges: list[Seat],
           acknowledged: dict[tuple[str, str, str], tuple[int, str]]) -> Verification:
    """Every acknowledged save is stored with exactly its value and one revision carrying
    its token; no mark of a bench judge on a gap entry is stored without acknowledgement."""
    from sqlalchemy import text

    result = Verification()
    engine = site.engine()
    names = sorted(seat.name for seat in judges)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT m.id, m.judge, c.code, CASE WHEN c.blind THEN n.blind_code "
                "ELSE n.sheet_key END, m.value FROM marks m JOIN entries n ON n.id = m.entry_id "
                "JOIN criteria c ON c.id = m.criterion_id JOIN events e ON e.id = c.event_id "
                "WHERE e.code = :event AND m.judge IN (" + ", ".join(
                    f":j{k}" for k in range(len(names))) + ")"),
                {"event": EVENT, **{f"j{k}": name for k, name in enumerate(names)}}).all()
            revisions: dict[int, list[tuple[int, str | None]]] = {}
            for mark_id, value, token in connection.execute(text(
                    "SELECT r.mark_id, r.new_value, r.client_token FROM mark_revisions r "
                    "WHERE r.source = 'judge'")):
                revisions.setdefault(mark_id, []).append((value, token))
    finally:
        engine.dispose()
    stored = {(judge, code, entry): (mark_id, value)
              for mark_id, judge, code, entry, value in rows}
    judged = {key: value for key, value in stored.items() if key[0] in names}
    result.stored = sum(1 for key in judged if revisions.get(judged[key][0]))
    for key, (units, token) in acknowledged.items():
        if key not in stored:
            result.missing += 1
            result.details.append(f"missing: {key}")
            continue
        mark_id, value = stored[key]
        if value != units:
            result.differs += 1
            result.details.append(f"differs: {key} acknowledged {units}, stored {value}")
        if revisions.get(mark_id) != [(units, token)]:
            result.bad_revisions += 1
            result.details.append(f"revisions of {key}: {revisions.get(mark_id)}")
    for key, (mark_id, value) in judged.items():
        if revisions.get(mark_id) and key not in acknowledged:
            result.unacknowledged += 1
            result.details.append(f"stored but never acknowledged: {key} = {value}")
    return result


def entry_keys(site: Site) -> dict[tuple[str, str], str]:
    """(criterion, bib) -> the key naming the entry's row on that criterion's sheets: the
    blind code, or the sheet key on a criterion that is not blind."""
    from sqlalchemy import text

    engine = site.engine()
    try:
        with engine.connect() as connection:
            return {(code, bib_): key for code, bib_, key in connection.execute(text(
                "SELECT c.code, n.bib, CASE WHEN c.blind THEN n.blind_code ELSE n.sheet_key "
                "END FROM entries n JOIN events e ON e.id = n.event_id "
                "JOIN criteria c ON c.event_id = e.id WHERE e.code = :event"),
                {"event": EVENT})}
    finally:
        engine.dispose()


@dataclass
class Hall:
    phones: Phones
    judges: Judges
    checked: Verification
    seconds: float
    cpu: Cpu
    renders: int
    versions: int
    duplicate_renders: int


def hall(server: Gunicorn, args: argparse.Namespace, gap: int) -> Hall:
    site = server.site
    keys = entry_keys(site)
    judges = seats(args.judges)
    out = Judges()

    def timed_sign_in(seat: Seat) -> tuple[Client, str, dict[str, str]]:
        began = time.perf_counter()
        session = sign_in(server, seat)
        out.sign_in.append(time.perf_counter() - began)
        return session

    with ThreadPoolExecutor(max_workers=min(8, len(judges))) as pool:
        sessions = list(pool.map(timed_sign_in, judges))
    # Phones load the page during the first poll interval, then judges start saving; only
    # polls that start while the judges save are counted.
    t0 = time.time() + 1.0
    window = (t0 + POLL_SECONDS, t0 + POLL_SECONDS + args.hall_seconds)
    stop = window[1] + 0.5
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=phones_process, args=(
        server.host, server.port, args.phones, window, stop, sender), daemon=True)
    renders_before = renders_by_worker(site)
    mine = time.process_time()
    # The client: this process (judges) and, once it has been waited for, the phones'.
    with CpuMeter(server, lambda: time.process_time() + child_cpu()) as meter:
        child.start()
        threads = [threading.Thread(target=judge_thread, args=(
            server, seat, session, [keys[(seat.criterion, b)] for b in gap_bibs(seat.panel, gap)],
            window[0], window[1] - 1.0, args.seed, out), daemon=True)
            for seat, session in zip(judges, sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.hall_seconds + 300)
        if not receiver.poll(stop - time.time() + 120):
            child.kill()
            raise RuntimeError("the phones' process did not answer")
        phones = receiver.recv()
        child.join(10)
    if isinstance(phones, BaseException):
        raise phones
    seconds = window[1] - window[0]
    out.cpu = time.process_time() - mine
    renders = renders_by_worker(site) - renders_before
    by_version: Counter[str] = Counter()
    for (_pid, key), count in renders.items():
        by_version[key] += count
    duplicates = sum(count - 1 for count in renders.values() if count > 1)
    checked = verify(site, judges, out.acknowledged)
    return Hall(phones, out, checked, seconds, meter.cpu, sum(renders.values()),
                len(by_version), duplicates)


# --- the profile of one uncached render ---------------------------------------------------

PROFILE = r'''
import cProfile, io, json, pstats, statistics, sys, time
from benchapp import make

event, rounds, parts = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
app = make(cache=False)
client = app.test_client()
path, headers = f"/e/{event}", {"HX-Request": "true", "Accept-Encoding": "gzip"}


TEST_CLIENT = r"^(?!.*(werkzeug/test\.py|flask/testing\.py))"  # not the test client's own


def print_profile(profiler, title, limits=(("cumulative", 28), ("tottime", 18)),
                  only=TEST_CLIENT):
    for key, limit in limits:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats(key).print_stats(only, limit)
        body = text.getvalue()
        start = body.find("   ncalls")
        print(f"cProfile of {title}, by {key} (top {limit}"
              + (", the test client's frames left out" if only else "") + "):")
        print(body[start:].rstrip())


if "poll" in parts:
    # The unchanged poll against hello world, in-process (the test client's own cost is in
    # both): what a 304 costs beyond Flask, and where.
    etag = client.get(path, headers=headers).headers["ETag"]
    poll = dict(headers, **{"If-None-Match": etag})
    assert client.get(path, headers=poll).status_code == 304
    n = 2000
    costs = {}
    for name, url, sent in (("hello", "/bench/hello", {}), ("poll", path, poll)) * 2:
        start = time.perf_counter()
        for _ in range(n):
            client.get(url, headers=sent)
        costs[name] = (time.perf_counter() - start) / n
    print(f"in-process (Flask test client), per request: hello world "
          f"{costs['hello'] * 1e6:.0f} us, unchanged poll (304) {costs['poll'] * 1e6:.0f} us: "
          f"the poll costs {(costs['poll'] - costs['hello']) * 1e6:.0f} us more "
          f"(ratio {costs['hello'] / costs['poll']:.2f})")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(500):
        client.get(path, headers=poll)
    profiler.disable()
    print_profile(profiler, "500 unchanged polls (304)", (("cumulative", 22), ("tottime", 15)),
                  TEST_CLIENT + r".*(scoring/|sqlalchemy/|flask|werkzeug|jinja2|babel|"
                  r"sqlite3|psycopg|\{)")
if "render" not in parts:
    sys.exit(0)
for _ in range(2):
    assert client.get(path, headers=headers).status_code == 200
times = []
for _ in range(rounds):
    start = time.perf_counter()
    answer = client.get(path, headers=headers)
    times.append(time.perf_counter() - start)
print(f"one uncached render of the panel in-process (Flask test client, {len(answer.data)} "
      f"bytes): median {statistics.median(times) * 1000:.1f} ms, best "
      f"{min(times) * 1000:.1f} ms of {rounds}")

# Where the time goes: the steps of scoring.board.serve, timed one by one in a fresh
# session each round (as a request has), by wrapping the functions it calls.
from datetime import datetime
from flask import render_template
from scoring import rules
from scoring.files import exports
from scoring.queries import results
from scoring.web import board
from scoring.extensions import db
steps = {}
def timing(name, function):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            steps[name] = steps.get(name, 0.0) + time.perf_counter() - start
    return timed
rules.compute_standings = timing("  rules.compute_standings", rules.compute_standings)
results.event_results = timing("event_results (queries, rules)", results.event_results)
results.results_document = timing("results_document (rows as text)", results.results_document)
results.team_rows = timing("team_rows", results.team_rows)
board.read_stamp = timing("read_stamp (the ETag query)", board.read_stamp)
board.make_page = timing("make_page (gzip)", board.make_page)
board.board_data = timing("board_data (all of the above but stamp)", board.board_data)
board.render_template = timing("render_template (Jinja, 1,000 rows)", board.render_template)
board.Response = timing("Response", board.Response)
import gc
collections = {"seconds": 0.0, "count": 0, "oldest": 0, "began": 0.0}
def on_gc(phase, info):
    if phase == "start":
        collections["began"] = time.perf_counter()
    else:
        collections["seconds"] += time.perf_counter() - collections["began"]
        collections["count"] += 1
        collections["oldest"] += info["generation"] == 2
gc.callbacks.append(on_gc)
for _ in range(rounds):
    start = time.perf_counter()
    client.get(path, headers=headers)
    steps["the whole request"] = steps.get("the whole request", 0.0) + (
        time.perf_counter() - start)
gc.callbacks.remove(on_gc)
print("steps of one uncached render of the panel, mean ms:")
for name in ("read_stamp (the ETag query)", "event_results (queries, rules)",
             "  rules.compute_standings", "results_document (rows as text)", "team_rows",
             "board_data (all of the above but stamp)", "render_template (Jinja, 1,000 rows)",
             "make_page (gzip)", "Response", "the whole request"):
    print(f"  {steps.get(name, float('nan')) / rounds * 1000:8.1f}  {name}")
print("  (event_results without the rules = loading entries, contestants and marks)")
print(f"  {collections['seconds'] / rounds * 1000:8.1f}  of which Python's cyclic garbage "
      f"collector, inside the steps above ({collections['count'] / rounds:.1f} collections "
      f"per render, {collections['oldest'] / rounds:.1f} of the oldest generation; "
      f"{len(gc.get_objects())} objects tracked in this process)")

profiler = cProfile.Profile()
profiler.enable()
client.get(path, headers=headers)
profiler.disable()
print_profile(profiler, "one uncached render")
'''


def profile(site: Site, parts: list[str], rounds: int = 5) -> str:
    """Profiles in a separate process (the app in-process, Flask's test client): "poll" the
    unchanged poll against hello world, "render" one uncached render of the panel."""
    folder = site.instance / "benchapp"
    env = dict(site.env, PYTHONPATH=str(folder))
    done = subprocess.run([sys.executable, "-c", PROFILE, EVENT, str(rounds), ",".join(parts)],
                          cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        return f"(the profile failed, exit {done.returncode}):\n{done.stdout}{done.stderr[-3000:]}"
    return done.stdout.rstrip()


# --- one backend --------------------------------------------------------------------------

@dataclass
class Outcome:
    backend: str
    failed: list[str] = field(default_factory=list)  # exit 1
    warnings: list[str] = field(default_factory=list)  # reported, exit 0
    goals: dict[str, tuple[float, bool]] = field(default_factory=dict)


def goal_line(name: str, value: float, goal: float, outcome: Outcome) -> str:
    met = value >= goal
    outcome.goals[name] = (value, met)
    return f"{value:.3f} (goal >= {goal}: {'met' if met else 'NOT MET'})"


def check_run(run: Run, expected: set[int], outcome: Outcome) -> None:
    bad = {status: count for status, count in run.statuses.items() if status not in expected}
    if any(status >= 500 for status in bad):
        outcome.failed.append(f"{run.label}: 5xx answers {bad}")
    elif bad:
        outcome.failed.append(f"{run.label}: unexpected statuses {bad}")
    if sum(run.errors.values()):
        outcome.warnings.append(f"{run.label}: transport errors or timeouts "
                                f"{ {k: v for k, v in run.errors.items() if v} }")


def report_stderr(server: Gunicorn, outcome: Outcome, label: str) -> None:
    stderr = server.stderr_text()
    tracebacks, others = server_errors(stderr)
    locked = stderr.count("database is locked")
    print(f"gunicorn stderr ({label}): {len(tracebacks)} tracebacks, {locked} 'database is "
          f"locked', {len(others)} other records that are not INFO")
    for text in tracebacks[:2] + others[:5]:
        print("  | " + text[:2000].replace("\n", "\n  | "))
    if tracebacks:
        outcome.failed.append(f"{label}: {len(tracebacks)} tracebacks in gunicorn's stderr")


def server_line(server: Gunicorn) -> str:
    program = os.path.relpath(server.command[0])
    if program.startswith(".."):
        program = server.command[0]
    return shlex.join([program, *server.command[1:]])


def run_backend(backend: str, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(backend)
    began = time.perf_counter()
    print(f"\n== {backend} ==", flush=True)
    gap = math.ceil(args.hall_seconds / 2) + 3  # more than a judge can enter at 1 mark / 2 s
    with temporary_site(backend) as site:
        print(describe_database(backend, site))
        marks = set_up(site, args.judges, gap, args.seed)
        write_wrapper(site)
        print(f"set-up through the scoring CLI (one process): {CONTESTANTS} contestants, "
              f"{marks} marks imported, {args.judges} judges, board live: "
              f"{time.perf_counter() - began:.1f} s", flush=True)

        # (a) and (b) with the render cache on, then (b) with the render gap at 0 and with
        # the cache off. The baseline of (a) and of (b) cached is the best of the hello-world
        # runs taken in turn with them; of the others, the best of all (the same route on
        # every server).
        warm = min(2.0, args.duration)
        hellos: list[Run] = []

        def show(name: str, run: Run) -> Run:
            print(f"  {name:<52} {run.line()}", flush=True)
            return run

        with serve(site, args, cache=True) as server:
            print("server: " + server_line(server), flush=True)
            etag, panel_bytes, page_bytes, packed_bytes = panel_etag(server)
            print(f"board: panel {panel_bytes / 1024:.0f} KiB ({packed_bytes / 1024:.0f} KiB "
                  f"gzipped, as sent to browsers), full page {page_bytes / 1024:.0f} KiB, "
                  f"panel ETag {etag}")
            closed_loop(server, args, "warm-up", "/bench/hello", warm)
            closed_loop(server, args, "warm-up", f"/e/{EVENT}", warm, partial=True, etag=etag)
            # (a) and (b) in turns with hello world, so that both meet the same moments of a
            # noisy machine; the best of each is compared.

            def in_turns(name: str, label: str, **load: Any) -> tuple[Run, Run, list[Run]]:
                runs, baseline = [], []
                for _turn in range(PAIRS):
                    baseline.append(show("hello world: GET /bench/hello (10 KiB)", closed_loop(
                        server, args, "hello", "/bench/hello", args.duration)))
                    if len(hellos) + len(baseline) == 1 and args.client == "wrk":
                        print(f"load: {baseline[0].command}  (and alike for the other runs)")  # type: ignore[attr-defined]
                    runs.append(show(name, closed_loop(server, args, label, f"/e/{EVENT}",
                                                       args.duration, **load)))
                hellos.extend(baseline)
                return (max(runs, key=lambda run: run.rate),
                        max(baseline, key=lambda run: run.rate), runs)

            poll, poll_hello, polls = in_turns(
                f"(a) poll: GET /e/{EVENT} partial, If-None-Match", "poll", partial=True,
                etag=etag)
            steady = show(f"board, no change: GET /e/{EVENT} partial (cached)", closed_loop(
                server, args, "board unchanged", f"/e/{EVENT}", args.duration, partial=True))
            closed_loop(server, args, "warm-up", f"/e/{EVENT}", warm, every=args.per_change,
                        partial=True)
            cached, cached_hello, changed = in_turns(
                f"(b) board, a change every {args.per_change}: GET partial",
                "board after changes", every=args.per_change, partial=True)
            for run in changed:
                print(f"      renders of the board in that run: {run.renders} for "
                      f"{run.versions} versions ({run.changes} changes; each worker renders "
                      f"a changed board at most once per SCORING_BOARD_RENDER_GAP, 1 s)")
            for run in polls:
                check_run(run, {304}, outcome)
            for run in changed:
                check_run(run, {200, 204}, outcome)
            check_run(steady, {200}, outcome)
        report_stderr(server, outcome, "cache on, a and b")

        with serve(site, args, cache=True, gap=0) as server:
            print("server: " + server_line(server), flush=True)
            closed_loop(server, args, "warm-up", f"/e/{EVENT}", warm, every=args.per_change,
                        partial=True)
            at_once = show(f"(b) render gap 0, a change every {args.per_change}: GET partial",
                           closed_loop(server, args, "board after changes, gap 0",
                                       f"/e/{EVENT}", args.duration, every=args.per_change,
                                       partial=True))
            print(f"      renders of the board: {at_once.renders} for {at_once.versions} "
                  f"versions ({at_once.changes} changes)")
            check_run(at_once, {200, 204}, outcome)
        report_stderr(server, outcome, "cache on, render gap 0, b")

        with serve(site, args, cache=False) as server:
            print("server: " + server_line(server), flush=True)
            closed_loop(server, args, "warm-up", "/bench/hello", warm)
            hellos.append(show("hello world", closed_loop(
                server, args, "hello", "/bench/hello", args.duration)))
            closed_loop(server, args, "warm-up", f"/e/{EVENT}", warm, partial=True)
            uncached = show(f"(b) uncached, a change every {args.per_change}: GET partial",
                            closed_loop(server, args, "board uncached", f"/e/{EVENT}",
                                        args.duration, every=args.per_change, partial=True))
            check_run(uncached, {200, 204}, outcome)
        for run in hellos:
            check_run(run, {200}, outcome)
        hello = max(hellos, key=lambda run: run.rate)
        print(f"baseline: hello world {hello.rate:.1f} req/s (the best of "
              f"{', '.join(f'{run.rate:.0f}' for run in hellos)})")
        print("(a) poll / hello:                         "
              + goal_line("poll", poll.rate / poll_hello.rate, GOALS["poll"], outcome)
              + f" (the best of {PAIRS} polls against the best of the {PAIRS} hello runs "
              f"taken in turn with them; against the best hello of all: "
              f"{poll.rate / hello.rate:.3f})")
        print("(b) board after changes / hello (cached): "
              + goal_line("board_cached", cached.rate / cached_hello.rate,
                          GOALS["board_cached"], outcome)
              + f" (in turns, as (a); against the best hello of all: "
              f"{cached.rate / hello.rate:.3f})"
              + f"; with no change at all: {steady.rate / hello.rate:.3f}; with the render "
              f"gap at 0 (each change rendered at once): {at_once.rate / hello.rate:.3f}")
        print("(b) board uncached / hello:               "
              + goal_line("board_uncached", uncached.rate / hello.rate,
                          GOALS["board_uncached"], outcome))
        report_stderr(server, outcome, "cache off, b")

        parts = [part for part, goals in (("poll", ("poll",)),
                                          ("render", ("board_cached", "board_uncached")))
                 if args.profile or not all(outcome.goals[goal][1] for goal in goals)]
        if parts:
            print(f"profile of {' and '.join(parts)} (a goal is not met, or --profile):",
                  flush=True)
            print(textwrap.indent(profile(site, parts), "  "), flush=True)

        # (c) the hall
        if not args.skip_hall:
            with serve(site, args, cache=True) as server:
                print("server: " + server_line(server), flush=True)
                print(f"(c) {args.phones} phones polling every {POLL_SECONDS:g} s, {args.judges} "
                      f"judges saving one mark every 2-5 s, for {args.hall_seconds:g} s ...",
                      flush=True)
                result = hall(server, args, gap)
            report_hall(result, args, outcome)
            report_stderr(server, outcome, "the hall")
    print(f"time for {backend}: {time.perf_counter() - began:.1f} s", flush=True)
    return outcome


def report_hall(result: Hall, args: argparse.Namespace, outcome: Outcome) -> None:
    phones, judges, checked = result.phones, result.judges, result.checked
    polls = sum(phones.statuses.values())
    print(f"  phones: first page load p50 {ms(percentile(phones.loads, 50))} ms, p99 "
          f"{ms(percentile(phones.loads, 99))} ms"
          + (f", FAILED loads {dict(phones.load_errors)}" if phones.load_errors else ""))
    print(f"  polls in the {result.seconds:g} s window: {polls} answered "
          f"({polls / result.seconds:.0f}/s; {args.phones / POLL_SECONDS:.0f}/s if every phone "
          f"kept {POLL_SECONDS:g} s), statuses "
          f"{dict(sorted(phones.statuses.items()))}"
          + (f", transport errors/timeouts {dict(phones.errors)}" if phones.errors else ""))
    print(f"  poll interval (target {POLL_SECONDS:g} s): p50 "
          f"{percentile(phones.intervals, 50):.3f} s, p99 {percentile(phones.intervals, 99):.3f}"
          f" s, max {max(phones.intervals, default=float('nan')):.3f} s; worst phone's p99 "
          f"{phones.worst_phone_p99:.3f} s; phones with an interval over "
          f"{1.5 * POLL_SECONDS:g} s: {phones.phones_late} of {args.phones}")
    print(f"  poll latency: p50 {ms(percentile(phones.latencies, 50))} ms, p99 "
          f"{ms(percentile(phones.latencies, 99))} ms, max "
          f"{ms(max(phones.latencies, default=float('nan')))} ms; "
          f"{phones.bytes / result.seconds / 1e6:.1f} MB/s of board sent")
    kept = percentile(phones.intervals, 99) <= POLL_SECONDS * 1.1 and not phones.errors
    print(f"  the board {'KEPT' if kept else 'did NOT keep'} its interval "
          f"(p99 within 10 % of {POLL_SECONDS:g} s, no poll failed)")
    print(f"  renders: {result.renders} for {result.versions} versions of the board "
          f"({result.versions / result.seconds:.1f} changes/s; {result.duplicate_renders} "
          f"renders of a version the same worker was rendering or had rendered already)")
    print(f"  judges signed in through the form and opened their 1,000-row sheet (8 at "
          f"a time, before the window): p50 {ms(percentile(judges.sign_in, 50))} ms, max "
          f"{ms(max(judges.sign_in, default=float('nan')))} ms")
    errors = {s: c for s, c in judges.statuses.items() if s != 200}
    print(f"  judges: {judges.saves} saves ({judges.saves / result.seconds:.1f}/s), "
          f"{len(judges.acknowledged)} acknowledged, retries {judges.retries}, "
          f"answers not 200 {errors or 'none'}, transport {dict(judges.exceptions) or 'none'};"
          f" save latency p50 {ms(percentile(judges.latencies, 50))} ms, p99 "
          f"{ms(percentile(judges.latencies, 99))} ms, max "
          f"{ms(max(judges.latencies, default=float('nan')))} ms (at their pace with instant "
          f"answers: {args.judges / 3.5:.1f} saves/s)")
    for line in judges.not_acknowledged[:5]:
        print(f"  ! not acknowledged: {line}")
    print(f"  verification: {checked.stored} judge marks stored, {checked.mismatches} "
          f"mismatches (missing {checked.missing}, differs {checked.differs}, stored but "
          f"not acknowledged {checked.unacknowledged}, revision problems "
          f"{checked.bad_revisions})")
    for line in checked.details[:10]:
        print(f"  ! {line}")
    cpu = result.cpu
    print(f"  {cpu.line()} (of {nproc()}; over {cpu.seconds:.0f} s from the phones' start "
          f"to their end; client: phones {phones.cpu / cpu.seconds:.2f}, judges "
          f"{judges.cpu / cpu.seconds:.2f})")
    for sample in phones.samples:
        print(f"  ! {sample}")
    if judges.not_acknowledged or len(judges.acknowledged) != judges.saves:
        outcome.failed.append(f"hall: {judges.saves - len(judges.acknowledged)} saves not "
                              f"acknowledged")
    if checked.mismatches or checked.stored != len(judges.acknowledged):
        outcome.failed.append(f"hall: {checked.mismatches} mismatches in the database "
                              f"({checked.stored} stored, {len(judges.acknowledged)} "
                              f"acknowledged)")
    fivexx = sum(c for s, c in phones.statuses.items() if s >= 500) + sum(
        c for s, c in judges.statuses.items() if s >= 500)
    if fivexx:
        outcome.failed.append(f"hall: {fivexx} answers 5xx")
    if phones.errors or phones.load_errors:
        outcome.warnings.append(f"hall: {sum(phones.errors.values())} polls and "
                                f"{sum(phones.load_errors.values())} page loads failed "
                                f"(timeouts after {PHONE_TIMEOUT:g} s or transport errors)")
    if judges.exceptions:
        outcome.warnings.append(f"hall: {sum(judges.exceptions.values())} save attempts "
                                f"failed on the network or timed out after {SAVE_TIMEOUT:g} "
                                f"s (retried with the same token)")
    other = {s: c for s, c in phones.statuses.items() if s not in (200, 304) and s < 500}
    if other:
        outcome.failed.append(f"hall: unexpected poll statuses {other}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--duration", type=float, default=8.0,
                        help="seconds of each closed-loop run of (a) and (b)")
    parser.add_argument("--connections", type=int, default=16,
                        help="concurrent connections of the closed-loop runs")
    parser.add_argument("--per-change", type=int, default=100,
                        help="(b): one change of the board every N requests")
    parser.add_argument("--keep-alive", action="store_true",
                        help="(a), (b) with wrk: keep connections (default: one per request)")
    parser.add_argument("--client", choices=("wrk", "python"), default=None,
                        help="load generator of (a) and (b) (default: wrk when installed)")
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--judges", type=int, default=30, help="at most 30")
    parser.add_argument("--hall-seconds", type=float, default=60.0,
                        help="(c): how long the judges save while the phones poll")
    parser.add_argument("--skip-hall", action="store_true", help="only (a) and (b)")
    parser.add_argument("--profile", action="store_true",
                        help="profile one uncached render even when the goals are met")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not 1 <= args.judges <= len(PANEL_CRITERIA) * PANELS * SEATS:
        parser.error("--judges must be 1 to 30")
    if args.per_change < 2 or args.phones < 1 or args.duration <= 0:
        parser.error("--per-change must be at least 2, --phones 1, --duration > 0")
    if args.client is None:
        args.client = "wrk" if shutil.which("wrk") else "python"
    elif args.client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk), or use --client python")
    if args.keep_alive and args.client != "wrk":
        parser.error("--keep-alive is for --client wrk")

    print("command: " + shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text(
        errors="replace").splitlines() if line.startswith("model name")), "?") \
        if Path("/proc/cpuinfo").exists() else platform.processor()
    print(f"machine: nproc={nproc()} ({cpu}), python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}, {platform.machine()}")
    client = ("wrk " + subprocess.run(["wrk", "--version"], capture_output=True, text=True,
                                      check=False).stdout.split()[1:2][0] + ", 1 thread"
              if args.client == "wrk" else "Python asyncio (this process)")
    print(f"load generator on this machine: (a)/(b) {client}, {args.connections} connections, "
          f"{'kept alive' if args.keep_alive else 'a new connection per request'}, "
          f"{args.duration:g} s per run; (c) Python: {args.phones} phones (asyncio, one "
          f"process), {args.judges} judges (threads); gunicorn {args.workers} workers x "
          f"{args.threads} threads")
    busy = idle_check()
    print(f"machine load before the run: {busy:.2f} cores busy over 2 s while idle"
          + (" -- WARNING: other processes are using the CPU, the figures will be low and "
             "noisy" if busy > NOISY else ""), flush=True)
    started = time.perf_counter()
    outcomes, failures = run_backends(args.backend, lambda backend: run_backend(backend, args))
    warnings: list[str] = []
    summary: list[str] = []
    for backend, outcome in outcomes:
        warnings.extend(f"{backend}: {warning}" for warning in outcome.warnings)
        summary.append(f"{backend}: " + ", ".join(
            f"{name} {value:.2f} {'met' if met else 'NOT met'}"
            for name, (value, met) in outcome.goals.items()))
    print(f"\ntotal time: {time.perf_counter() - started:.1f} s")
    for line in summary:
        print("goals: " + line)
    for warning in warnings:
        print("WARNING: " + warning)
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: every save acknowledged and stored exactly, no 5xx, no traceback")
    return 0


if __name__ == "__main__":
    sys.exit(main())
