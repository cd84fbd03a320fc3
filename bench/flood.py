"""Flood: two attacks on a real gunicorn. (a) an .xlsx bomb uploaded to the organiser's
contestants preview, measuring the workers' peak memory; (b) anonymous clients hammering the
public API while a judge saves marks, measuring the judge's save latency.

Run: .venv/bin/python bench/flood.py [--backend sqlite|postgres|both] [--workers 2]
         [--threads 4] [--skip-bomb] [--uploads 10] [--parallel 8] [--skip-api]
         [--entries 10000] [--clients 16] [--saves 200] [--turns 4] [--pause 0.1]
         [--public-pool] [--public-nice 10] [--seed 1]

For each backend (default both): a temporary instance directory and a fresh database (an
SQLite file, or `scoring_bench_<random>` on the PostgreSQL server at
SCORING_TEST_POSTGRES_URL, dropped at the end), set up through the `scoring` command line
(all commands in one process, see _server.Site.cli_batch), then `gunicorn --workers W
--threads T 'scoring:create_app()'` on a free port, started afresh for each part. The
client runs on the same (2-core) machine.

(a) The .xlsx bomb. An organiser signs in through the form and opens the contestants page of
    an event (its CSRF token), then uploads, as the browser does (multipart, csrf_token and
    file), to POST /admin/events/BOMB/contestants/preview: first a small valid workbook
    (warm-up: openpyxl imported, a preview rendered), then one bomb --uploads times one
    after another and --parallel times at once (as many as the server has threads); a fresh
    server for each bomb. Each bomb is a few KB of hand-written zip and XML whose sheet
    declares <dimension ref="A1:XFD1048576"/>:
      "dimension": the declaration, a header row and one contestant;
      "far cell":  the same and one cell at XFD1048576 (the last row and column Excel has);
      "wide rows": the declaration, the header, and 100 rows of 16,384 empty cells each
                   (<c/>, which takes the next column: A to XFD).
    After each round: every worker's peak resident memory (VmHWM in /proc/PID/status, the
    high-water mark since the worker started) and its current one (VmRSS), the answers'
    statuses and what the page said, the workers' CPU per upload, and whether a worker was
    replaced (killed by the OOM killer or a timeout). Goal: every worker stays under 300 MB.

(b) The API flood. An event FLOOD with --entries contestants in 50 delegations, loaded
    through the command line: a scheme (two criteria, teams of the best 3), a contestants
    file, a draw, one judge account assigned to criterion B, a scores file (A for every
    entry, B for all but the first 2,000, which are the judge's to mark), the board live.
    The judge signs in through the form and opens its mark sheet (the save URLs, the CSRF
    token), then saves marks one after another, each a new mark with a fresh token, as the
    sheet does (POST with value, version, token, view=sheet, HX-Request and X-CSRFToken),
    --pause seconds after each answer. In --turns turns: saves with the server idle, then
    as many while --clients anonymous clients (asyncio, in a separate process, a new
    connection per request, Accept-Encoding: gzip) GET /api/events/FLOOD/results and
    /teams in turn as fast as the server answers, half of them with If-None-Match (the ETag
    they last got for the path, as a phone polls), half never; --saves saves of each kind
    in all. Every save changes the results, so the clients' ETags go stale. Reports the
    save latency p50/p99/max idle and under the flood (all turns pooled), the flood's
    requests by kind and status, and the CPU used; checks every acknowledged save against
    the database. Goal: the save p99 under the flood within 3x the idle p99. With
    --public-pool the flood goes to a second gunicorn on the same database (--workers split
    between the two), as a proxy sending /api/ and /e/ to their own pool would: the judge's
    saves then never share a process with the public's computations; that pool runs at
    --public-nice (10) through scoring/gunicorn_conf.py's SCORING_WORKER_NICE, as the
    README's deployment runs it.

Exits 1 on a 5xx, a worker replaced during (a), a save not acknowledged or not stored, a
transport error, or a traceback in gunicorn's stderr. Goals not met are printed (they say
how much memory and how fast; they do not change the exit status).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import http.client
import http.cookies
import io
import multiprocessing
import os
import platform
import random
import re
import secrets
import shlex
import sys
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (  # noqa: E402
    Gunicorn,
    Site,
    describe_database,
    run_backends,
    temporary_site,
)
from board import CpuMeter, fetch, request_bytes  # noqa: E402
from marks import (  # noqa: E402
    LOGIN_CSRF,
    META_CSRF,
    VALUE_ATTR,
    ms,
    nproc,
    percentile,
    server_errors,
)

PASSWORD = "flood-" + secrets.token_hex(8)
FAST_HASH = "scrypt:1024:8:1"  # as the test suite: sign-in is not under test
BOMB_EVENT = "BOMB"
EVENT = "FLOOD"
ORGANISER = "boss"
JUDGE = "judge1"
JUDGE_CRITERION = "B"
DELEGATIONS = 50
LEFT_TO_JUDGE = 2000  # entries without a B mark: the judge's to save
MEMORY_GOAL_MB = 300
LATENCY_GOAL = 3.0  # save p99 under the flood / idle p99
GZIP = "gzip, deflate, br"
ROW_FORM = re.compile(r'<form class="mark-form" hx-post="([^"]+)".*?'
                      r'<input type="hidden" name="version" value="([^"]*)">', re.DOTALL)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- a browser: cookies, forms and multipart uploads, a new connection per request ----------

class Browser:
    def __init__(self, server: Gunicorn, timeout: float = 120.0) -> None:
        self.host, self.port, self.timeout = server.host, server.port, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        sent = {"Connection": "close", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            cookie = http.cookies.SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response.status, data.decode("utf-8", errors="replace")

    def post_form(self, path: str, form: dict[str, str],
                  headers: dict[str, str] | None = None) -> tuple[int, str]:
        return self.request("POST", path, urlencode(form).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def post_file(self, path: str, fields: dict[str, str], name: str, filename: str,
                  data: bytes, content_type: str) -> tuple[int, str]:
        boundary = "----flood" + secrets.token_hex(12)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                 f'{value}\r\n'.encode() for key, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                     + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts), {
            "Content-Type": f"multipart/form-data; boundary={boundary}"})

    def sign_in(self, username: str) -> None:
        status, page = self.request("GET", "/login")
        found = LOGIN_CSRF.search(page)
        value = VALUE_ATTR.search(found.group(0)) if found else None
        if status != 200 or value is None:
            raise RuntimeError(f"GET /login -> {status}, no csrf_token field")
        status, page = self.post_form("/login", {"username": username, "password": PASSWORD,
                                                 "csrf_token": html.unescape(value.group(1))})
        if status != 302:
            raise RuntimeError(f"POST /login as {username} -> {status}: {page[:300]}")


def page_csrf(page: str) -> str:
    found = META_CSRF.search(page)
    if found is None:
        raise RuntimeError("no csrf-token in the page")
    return html.unescape(found.group(1))


ALERT = re.compile(r'<(div|p)\b[^>]*class="[^"]*\berror[^"]*"[^>]*>(.*?)</\1>', re.DOTALL)


def visible_text(page: str, limit: int = 240) -> str:
    """What a refusal says: the page's error boxes and field errors as text (else its start)."""
    found = [match.group(2) for match in ALERT.finditer(page)] or [page]
    text = " | ".join(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", part)).split())
                      for part in found)
    return text[:limit]


# --- (a) hand-written workbooks -----------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
LAST = "XFD1048576"  # the last cell of an Excel sheet
WIDE_ROWS = 100


def column_name(number: int) -> str:
    name = ""
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{html.escape(text)}</t></is></c>'


def workbook(dimension: str, rows_xml: str) -> bytes:
    """An .xlsx file, zip and XML written by hand (no styles, no shared strings)."""
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData></worksheet>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


HEADER_ROWS = ('<row r="1">' + text_cell("A1", "bib") + text_cell("B1", "name") + "</row>"
               '<row r="2">' + text_cell("A2", "0001") + text_cell("B2", "王强") + "</row>")


def workbooks() -> dict[str, bytes]:
    """The warm-up workbook and the bombs, by name."""
    # Cells without a reference take the next column: 16,384 of them fill a row to XFD.
    wide = "".join(f'<row r="{row}">' + "<c/>" * 16_384 + "</row>"
                   for row in range(3, 3 + WIDE_ROWS))
    return {
        "valid": workbook("A1:B2", HEADER_ROWS),
        "dimension": workbook(f"A1:{LAST}", HEADER_ROWS),
        "far cell": workbook(f"A1:{LAST}", HEADER_ROWS + '<row r="1048576">'
                             + text_cell(LAST, "x") + "</row>"),
        "wide rows": workbook(f"A1:{LAST}", HEADER_ROWS + wide),
    }


def unzipped_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(part.file_size for part in archive.infolist())


# --- worker memory ------------------------------------------------------------------------

def memory(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of a process in kB; (0, 0) when it is gone."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                found[key] = int(value.split()[0])
    except (OSError, ValueError):
        return 0, 0
    return found.get("VmHWM", 0), found.get("VmRSS", 0)


def workers(server: Gunicorn) -> list[int]:
    return sorted(server.pids()[1:])


def memory_line(server: Gunicorn) -> tuple[str, int]:
    parts, peak = [], 0
    for pid in workers(server):
        hwm, rss = memory(pid)
        peak = max(peak, hwm)
        parts.append(f"worker {pid}: peak {hwm / 1024:.0f} MB, now {rss / 1024:.0f} MB")
    return "; ".join(parts), peak


@dataclass
class Outcome:
    backend: str
    failed: list[str] = field(default_factory=list)
    goals: dict[str, tuple[str, bool]] = field(default_factory=dict)


def bomb_part(site: Site, args: argparse.Namespace, outcome: Outcome) -> None:
    books = workbooks()
    print(f"(a) the .xlsx bomb: POST /admin/events/{BOMB_EVENT}/contestants/preview as the "
          f"organiser, a fresh server for each workbook")
    for name, data in books.items():
        print(f"  workbook {name!r}: {len(data):,} bytes, {unzipped_size(data):,} bytes "
              f"unzipped")
    worst = 0
    for name in ("dimension", "far cell", "wide rows"):
        with Gunicorn(site, workers=args.workers, threads=args.threads) as server:
            if name == "dimension":
                print("  server: " + shlex.join([os.path.relpath(server.command[0]),
                                                 *server.command[1:]]), flush=True)
            started = workers(server)
            browser = Browser(server)
            browser.sign_in(ORGANISER)
            path = f"/admin/events/{BOMB_EVENT}/contestants"
            status, page = browser.request("GET", path)
            if status != 200:
                raise RuntimeError(f"GET {path} -> {status}: {page[:300]}")
            token = page_csrf(page)

            def upload(book: str) -> tuple[int, float, str]:
                client = Browser(server)
                client.cookies = dict(browser.cookies)
                began = time.perf_counter()
                status, body = client.post_file(
                    f"{path}/preview", {"csrf_token": token}, "file",
                    f"{book.replace(' ', '-')}.xlsx", books[book], XLSX_TYPE)
                return status, time.perf_counter() - began, body

            # Warm-up: every worker imports openpyxl and renders a preview.
            for _ in range(2 * args.workers):
                status, _seconds, body = upload("valid")
                if status != 200:
                    raise RuntimeError(f"the valid workbook -> {status}: {visible_text(body)}")
            line, _peak = memory_line(server)
            print(f"  {name!r}: after {2 * args.workers} uploads of the valid workbook "
                  f"(warm-up): {line}")
            for label, count, parallel in (("one after another", args.uploads, 1),
                                           ("at once", args.parallel, args.parallel)):
                cpu = server.cpu_seconds()
                began = time.perf_counter()
                with ThreadPoolExecutor(parallel) as pool:
                    answers = list(pool.map(upload, [name] * count))
                wall = time.perf_counter() - began
                cpu = server.cpu_seconds() - cpu
                statuses = Counter(status for status, _s, _b in answers)
                seconds = [s for _status, s, _b in answers]
                said = Counter(visible_text(body) if status != 200 else "a preview"
                               for status, _s, body in answers)
                line, peak = memory_line(server)
                worst = max(worst, peak)
                print(f"  {name!r} x{count} {label}: {wall:.1f} s, statuses {dict(statuses)}, "
                      f"answer p50 {ms(percentile(seconds, 50))} ms, max "
                      f"{ms(max(seconds))} ms, server CPU {cpu / count:.2f} s per upload; "
                      f"{line}", flush=True)
                for text, times in said.items():
                    print(f"      {times} x: {text}")
                failed = sum(count for status, count in statuses.items() if status >= 500)
                if failed:
                    outcome.failed.append(f"(a) {name}: {failed} answers 5xx")
            replaced = sorted(set(started) - set(workers(server)))
            if replaced:
                outcome.failed.append(f"(a) {name}: workers {replaced} were replaced "
                                      f"(killed or timed out)")
                print(f"  ! workers replaced during the uploads: {replaced}")
        report_stderr(server, outcome, f"(a) {name}")
    met = worst < MEMORY_GOAL_MB * 1024
    outcome.goals["memory"] = (f"{worst / 1024:.0f} MB", met)
    print(f"  (a) the highest worker peak (VmHWM): {worst / 1024:.0f} MB; goal under "
          f"{MEMORY_GOAL_MB} MB: {'met' if met else 'NOT MET'}", flush=True)


# --- (b) the event, set up through the command line -------------------------------------------

SCHEME = f'''code = "{EVENT}"
name = "Flood: a 10,000-entry event"
decimals = 2
team_best_n = 3

[[criteria]]
code = "A"
name = "Practical"
max = 100
step = 0.5
weight = 0.6
judges = 1

[[criteria]]
code = "{JUDGE_CRITERION}"
name = "Inspection"
max = 100
step = 0.5
weight = 0.4
judges = 1
blind = false  # every save changes the public board: its worst case (a blind criterion's
               # saves change nothing public until it is decoded)

[[awards]]
name = "First prize"
share = 0.10
[[awards]]
name = "Second prize"
share = 0.20
'''

BOMB_SCHEME = f'''code = "{BOMB_EVENT}"
name = "Flood: the contestants preview"
[[criteria]]
code = "A"
name = "Practical"
max = 100
step = 0.5
judges = 1
'''


def bib(number: int) -> str:
    return f"{number:05d}"


def half_steps(rng: random.Random, low: int, high: int) -> str:
    steps = rng.randint(low * 2, high * 2)
    return f"{steps // 2}.5" if steps % 2 else str(steps // 2)


def set_up(site: Site, args: argparse.Namespace) -> dict[str, int]:
    (site.instance / "config.py").write_text(f"SCORING_PASSWORD_METHOD = {FAST_HASH!r}\n",
                                             encoding="utf-8")
    rng = random.Random(args.seed)
    folder = site.instance
    (folder / "bomb.toml").write_text(BOMB_SCHEME, encoding="utf-8")
    commands = [["init-db"], ["event", "import", str(folder / "bomb.toml")],
                ["user", "create", ORGANISER, "--role", "organiser", "--password", PASSWORD]]
    counts = {"entries": 0, "marks": 0}
    if not args.skip_api:
        (folder / "flood.toml").write_text(SCHEME, encoding="utf-8")
        family, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
        lines = ["bib,name,gender,unit,delegation"]
        for n in range(1, args.entries + 1):
            lines.append(f"{bib(n)},{family[n % 20]}{given[(n * 7) % 20]}{given[(n * 13) % 20]},"
                         f"{'男' if n % 5 else '女'},某机械厂第{n % 37 + 1}车间,"
                         f"代表队{n % DELEGATIONS + 1:02d}")
        (folder / "contestants.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        rows = ["bib,criterion,judge,score"]
        for n in range(1, args.entries + 1):
            rows.append(f"{bib(n)},A,practical,{half_steps(rng, 40, 100)}")
            if n > LEFT_TO_JUDGE:
                rows.append(f"{bib(n)},{JUDGE_CRITERION},inspection,{half_steps(rng, 40, 100)}")
        (folder / "scores.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        commands += [["event", "import", str(folder / "flood.toml")],
                     ["contestants", "import", EVENT, str(folder / "contestants.csv")],
                     ["draw", EVENT, "--seed", str(args.seed)],
                     ["user", "create", JUDGE, "--role", "judge", "--password", PASSWORD],
                     ["judge", "assign", EVENT, JUDGE, JUDGE_CRITERION],
                     ["scores", "import", EVENT, str(folder / "scores.csv")],
                     ["board", EVENT, "live"]]
        counts = {"entries": args.entries, "marks": len(rows) - 1}
    site.cli_batch(commands)
    return counts


# --- (b) the flood: a separate process of asyncio clients ------------------------------------

def flood_process(host: str, port: int, clients: int, event: str, stop: Any, ready: Any,
                  results: Any) -> None:
    asyncio.run(_flood(host, port, clients, event, stop, ready, results))


async def _flood(host: str, port: int, clients: int, event: str, stop: Any, ready: Any,
                 results: Any) -> None:
    paths = [f"/api/events/{event}/results", f"/api/events/{event}/teams"]
    kinds: dict[str, dict] = {}  # type: ignore[type-arg]
    running = True
    began = time.perf_counter()
    cpu = time.process_time()

    async def watch() -> None:
        nonlocal running
        while not stop.is_set():
            await asyncio.sleep(0.05)
        running = False

    async def client(number: int) -> None:
        conditional = number % 2 == 0
        etags: dict[str, str] = {}
        turn = number
        while running:
            path = paths[turn % len(paths)]
            turn += 1
            headers = {"Accept-Encoding": GZIP, "Accept": "application/json"}
            if conditional and path in etags:
                headers["If-None-Match"] = etags[path]
            kind = f"{path.rsplit('/', 1)[1]} {'with' if conditional else 'without'} " \
                   f"If-None-Match"
            figures = kinds.setdefault(kind, {"statuses": Counter(), "errors": Counter(),
                                              "latencies": [], "bytes": 0})
            start = time.perf_counter()
            try:
                answer = await fetch(host, port, request_bytes(
                    "GET", path, f"{host}:{port}", headers), 60.0)
            except Exception as error:  # noqa: BLE001 - counted
                figures["errors"][type(error).__name__] += 1
                await asyncio.sleep(0.01)
                continue
            figures["latencies"].append(time.perf_counter() - start)
            figures["statuses"][answer.status] += 1
            figures["bytes"] += answer.received
            if answer.headers.get("etag"):
                etags[path] = answer.headers["etag"]
            if not ready.is_set():
                ready.set()

    await asyncio.gather(watch(), *(client(number) for number in range(clients)))
    results.put({"kinds": kinds, "seconds": time.perf_counter() - began,
                 "cpu": time.process_time() - cpu})


@dataclass
class Flood:
    kinds: dict = field(default_factory=dict)  # type: ignore[type-arg]
    seconds: float = 0.0
    cpu: float = 0.0

    def lines(self) -> list[str]:
        out = []
        for kind, figures in sorted(self.kinds.items()):
            count = sum(figures["statuses"].values())
            out.append(f"{kind}: {count} ({count / self.seconds:.0f}/s), statuses "
                       f"{dict(sorted(figures['statuses'].items()))}, p50 "
                       f"{ms(percentile(figures['latencies'], 50))} ms, p99 "
                       f"{ms(percentile(figures['latencies'], 99))} ms, avg "
                       f"{figures['bytes'] / max(1, count) / 1024:.1f} KiB"
                       + (f", ERRORS {dict(figures['errors'])}" if figures["errors"] else ""))
        return out

    @property
    def requests(self) -> int:
        return sum(sum(f["statuses"].values()) for f in self.kinds.values())

    def merge(self, other: Flood) -> None:
        self.seconds += other.seconds
        self.cpu += other.cpu
        for kind, figures in other.kinds.items():
            mine = self.kinds.setdefault(kind, {"statuses": Counter(), "errors": Counter(),
                                                "latencies": [], "bytes": 0})
            for key in ("statuses", "errors", "latencies", "bytes"):
                mine[key] += figures[key]


class FloodRunner:
    """The flood in its own process (spawned: a clean interpreter), started and stopped."""

    def __init__(self, server: Gunicorn, clients: int, event: str = EVENT) -> None:
        context = multiprocessing.get_context("spawn")
        self.stop, self.ready = context.Event(), context.Event()
        self.results = context.Queue()
        self.process = context.Process(target=flood_process, daemon=True, args=(
            server.host, server.port, clients, event, self.stop, self.ready, self.results))

    def __enter__(self) -> FloodRunner:
        self.process.start()
        if not self.ready.wait(60):
            raise RuntimeError("the flood got no answer within 60 s")
        return self

    def finish(self) -> Flood:
        self.stop.set()
        data = self.results.get(timeout=120)
        self.process.join(30)
        return Flood(data["kinds"], data["seconds"], data["cpu"])

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.process.is_alive():
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


# --- (b) the judge ------------------------------------------------------------------------------

@dataclass
class Saves:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    # the row's key (blind code or sheet key) -> (value in 1/10000, token)
    acknowledged: dict[str, tuple[int, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def merge(self, other: Saves) -> None:
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.errors += other.errors
        self.acknowledged.update(other.acknowledged)
        self.problems += other.problems
        self.seconds += other.seconds

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)

    def line(self) -> str:
        return (f"{len(self.latencies)} saves, {len(self.acknowledged)} acknowledged, "
                f"statuses {dict(self.statuses)}"
                + (f", ERRORS {dict(self.errors)}" if self.errors else "")
                + f"; latency p50 {ms(percentile(self.latencies, 50))} ms, p99 "
                f"{ms(percentile(self.latencies, 99))} ms, max "
                f"{ms(max(self.latencies, default=float('nan')))} ms")


class Judge:
    def __init__(self, server: Gunicorn, seed: int) -> None:
        self.server = server
        self.browser = Browser(server, timeout=60)
        self.rng = random.Random(seed)
        self.browser.sign_in(JUDGE)
        sheet = f"/judge/{EVENT}/{JUDGE_CRITERION}"
        began = time.perf_counter()
        status, page = self.browser.request("GET", sheet)
        self.sheet_seconds = time.perf_counter() - began
        if status != 200:
            raise RuntimeError(f"GET {sheet} -> {status}: {page[:300]}")
        self.csrf = page_csrf(page)
        self.rows = len(ROW_FORM.findall(page))
        self.todo = [html.unescape(url) for url, version in ROW_FORM.findall(page)
                     if version == ""]
        self.headers = {"HX-Request": "true", "X-CSRFToken": self.csrf,
                        "HX-Current-URL": f"{server.url}{sheet}"}

    def save(self, count: int, pause: float) -> Saves:
        saves = Saves()
        began = time.perf_counter()
        for _ in range(count):
            if not self.todo:
                saves.problems.append("no entry left to mark")
                break
            url = self.todo.pop(0)
            typed = half_steps(self.rng, 40, 100)
            token = secrets.token_hex(16)
            start = time.perf_counter()
            try:
                status, body = self.browser.post_form(url, {
                    "value": typed, "version": "", "token": token, "view": "sheet"},
                    self.headers)
            except Exception as error:  # noqa: BLE001 - counted
                saves.errors[type(error).__name__] += 1
                continue
            saves.latencies.append(time.perf_counter() - start)
            saves.statuses[status] += 1
            if status == 200 and 'class="mark-row state-saved' in body:
                entry = url.rsplit("/", 1)[1]  # the row's key: blind code or sheet key
                saves.acknowledged[entry] = (int(Decimal(typed) * 10_000), token)
            elif len(saves.problems) < 5:
                saves.problems.append(f"POST {url} -> {status}: {' '.join(body.split())[:300]}")
            time.sleep(pause)
        saves.seconds = time.perf_counter() - began
        return saves


def verify(site: Site, acknowledged: dict[str, tuple[int, str]]) -> tuple[int, int]:
    """(stored as acknowledged, missing or different) among the judge's acknowledged saves."""
    from sqlalchemy import text

    engine = site.engine()
    try:
        with engine.connect() as connection:
            found = {row[0]: (row[1], row[2]) for row in connection.execute(text(
                "SELECT CASE WHEN c.blind THEN n.blind_code ELSE n.sheet_key END, m.value, "
                "r.client_token FROM marks m JOIN entries n ON n.id = m.entry_id "
                "JOIN mark_revisions r ON r.mark_id = m.id "
                "JOIN criteria c ON c.id = m.criterion_id JOIN events e ON e.id = c.event_id "
                "WHERE e.code = :event AND c.code = :criterion AND r.client_token IS NOT NULL"),
                {"event": EVENT, "criterion": JUDGE_CRITERION})}
    finally:
        engine.dispose()
    good = sum(found.get(entry) == expected for entry, expected in acknowledged.items())
    return good, len(acknowledged) - good


def zero() -> float:
    return 0.0


def api_part(site: Site, args: argparse.Namespace, outcome: Outcome) -> None:
    print(f"(b) the API flood: {args.clients} clients on /api/events/{EVENT}/results and "
          f"/teams while the judge saves {args.saves} marks, {args.pause:g} s after each answer")
    workers = max(1, args.workers // 2) if args.public_pool else args.workers
    with ExitStack() as stack:
        server = stack.enter_context(Gunicorn(site, workers=workers, threads=args.threads))
        public = server
        if args.public_pool:
            public = stack.enter_context(Gunicorn(
                site, workers=workers, threads=args.threads,
                extra_args=("--config", "scoring/gunicorn_conf.py"),
                env={"SCORING_WORKER_NICE": str(args.public_nice)}))
            print(f"  --public-pool: the judge on one gunicorn, the flood on another at nice "
                  f"{args.public_nice} (scoring/gunicorn_conf.py, SCORING_WORKER_NICE), "
                  f"{workers} worker(s) each, one database")
        print("  server: " + shlex.join([os.path.relpath(server.command[0]),
                                         *server.command[1:]]), flush=True)
        judge = Judge(server, args.seed)
        print(f"  the judge's sheet: {judge.rows} rows, {len(judge.todo)} to mark, opened in "
              f"{judge.sheet_seconds:.2f} s")
        warm = Browser(public)
        for path in ("results", "teams"):
            began = time.perf_counter()
            status, body = warm.request("GET", f"/api/events/{EVENT}/{path}")
            print(f"  GET /api/events/{EVENT}/{path} (warm-up): {status}, {len(body) / 1024:.0f} "
                  f"KiB of JSON, {ms(time.perf_counter() - began)} ms")
            if status != 200:
                raise RuntimeError(f"GET /api/events/{EVENT}/{path} -> {status}")
        idle, flooded, flood = Saves(), Saves(), Flood()

        def show(name: str, saves: Saves, meter: CpuMeter, more: str = "") -> None:
            print(f"  {name}: {saves.line()}{more} [{meter.cpu.line()}]", flush=True)
            for problem in saves.problems:
                print(f"    ! {problem}")

        per_turn = [args.saves // args.turns + (turn < args.saves % args.turns)
                    for turn in range(args.turns)]
        for turn, count in enumerate(per_turn, 1):
            with CpuMeter(server, zero) as meter:
                saves = judge.save(count, args.pause)
            idle.merge(saves)
            show(f"turn {turn}, idle", saves, meter)
            with FloodRunner(public, args.clients) as runner:
                time.sleep(2.0)  # the flood at full speed before the first save
                used = public.cpu_seconds()
                with CpuMeter(server, zero) as meter:
                    saves = judge.save(count, args.pause)
                used = public.cpu_seconds() - used
                this = runner.finish()
            flooded.merge(saves)
            flood.merge(this)
            show(f"turn {turn}, under the flood", saves, meter,
                 f"; the flood {this.requests / this.seconds:.0f} requests/s, its process "
                 f"{this.cpu / this.seconds:.2f} cores"
                 + (f", the public pool {used / meter.cpu.seconds:.2f} cores (the server "
                    f"below is the judge's)" if public is not server else ""))
    report_stderr(server, outcome, "(b)")
    if public is not server:
        report_stderr(public, outcome, "(b), the public pool")
    print(f"  all idle saves: {idle.line()}")
    print(f"  all saves under the flood: {flooded.line()}")
    print(f"  the flood: {flood.requests} requests in {flood.seconds:.1f} s "
          f"({flood.requests / flood.seconds:.0f}/s)")
    for line in flood.lines():
        print(f"    {line}")
    acknowledged = {**idle.acknowledged, **flooded.acknowledged}
    stored, wrong = verify(site, acknowledged)
    print(f"  verification: {stored} of {len(acknowledged)} acknowledged saves stored "
          f"with their value and token, {wrong} missing or different")
    for name, saves in (("idle", idle), ("under the flood", flooded)):
        if len(saves.acknowledged) != args.saves:
            outcome.failed.append(f"(b) {name}: {len(saves.acknowledged)} of {args.saves} "
                                  f"saves acknowledged")
        if saves.errors:
            outcome.failed.append(f"(b) {name}: transport errors {dict(saves.errors)}")
    if wrong:
        outcome.failed.append(f"(b) {wrong} acknowledged saves not stored as acknowledged")
    for kind, figures in flood.kinds.items():
        if any(status >= 500 for status in figures["statuses"]):
            outcome.failed.append(f"(b) the flood's {kind}: 5xx answers")
        if figures["errors"]:
            outcome.failed.append(f"(b) the flood's {kind}: transport errors")
    ratio = flooded.p99 / idle.p99
    met = ratio <= LATENCY_GOAL
    outcome.goals["latency"] = (f"{ratio:.2f} (p99 {ms(flooded.p99)} / {ms(idle.p99)} ms)",
                                met)
    print(f"  (b) save p99 under the flood / idle: {ms(flooded.p99)} / {ms(idle.p99)} ms = "
          f"{ratio:.2f}; p50 {ms(percentile(flooded.latencies, 50))} / "
          f"{ms(percentile(idle.latencies, 50))} ms; goal within {LATENCY_GOAL:g}x: "
          f"{'met' if met else 'NOT MET'}", flush=True)


# --- each backend -------------------------------------------------------------------------------

def report_stderr(server: Gunicorn, outcome: Outcome, part: str) -> None:
    stderr = server.stderr_text()
    tracebacks, others = server_errors(stderr)
    print(f"  gunicorn's stderr {part}: {len(tracebacks)} tracebacks, "
          f"{stderr.count('WORKER TIMEOUT')} worker timeouts, {len(others)} other records "
          f"that are not INFO")
    for record in tracebacks[:2] + others[:5]:
        print("  | " + record.replace("\n", "\n  | "))
    if tracebacks:
        outcome.failed.append(f"{part}: {len(tracebacks)} tracebacks in gunicorn's stderr")


def run_backend(backend: str, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(backend)
    began = time.monotonic()
    print(f"\n== {backend} ==", flush=True)
    with temporary_site(backend) as site:
        print(describe_database(backend, site))
        counts = set_up(site, args)
        print(f"set-up through the scoring CLI: {counts['entries']} entries, {counts['marks']} "
              f"marks imported: {time.monotonic() - began:.1f} s", flush=True)
        if not args.skip_bomb:
            bomb_part(site, args, outcome)
        if not args.skip_api:
            api_part(site, args, outcome)
    print(f"time for {backend}: {time.monotonic() - began:.1f} s (load average now "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())})", flush=True)
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--skip-bomb", action="store_true", help="leave out (a)")
    parser.add_argument("--uploads", type=int, default=10,
                        help="(a) uploads of each bomb one after another")
    parser.add_argument("--parallel", type=int, default=8,
                        help="(a) uploads of each bomb at once")
    parser.add_argument("--skip-api", action="store_true", help="leave out (b)")
    parser.add_argument("--entries", type=int, default=10_000, help="(b) the event's entries")
    parser.add_argument("--clients", type=int, default=16, help="(b) flooding clients")
    parser.add_argument("--saves", type=int, default=200, help="(b) saves in each phase")
    parser.add_argument("--pause", type=float, default=0.1,
                        help="(b) seconds the judge waits after each answer")
    parser.add_argument("--turns", type=int, default=4,
                        help="(b) idle and flooded phases taken in turns, the saves split "
                             "between them")
    parser.add_argument("--public-nice", type=int, default=10,
                        help="with --public-pool: the public pool's SCORING_WORKER_NICE")
    parser.add_argument("--public-pool", action="store_true",
                        help="(b) the flood on a second gunicorn (a public pool, as a proxy "
                             "routing /api/ and /e/ apart would make), the judge on the first; "
                             "--workers is split between them")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.entries < LEFT_TO_JUDGE or args.saves * 2 > LEFT_TO_JUDGE or args.turns < 1 \
            or args.saves < args.turns:
        parser.error(f"--entries must be at least {LEFT_TO_JUDGE}, --saves at most "
                     f"{LEFT_TO_JUDGE // 2} and at least --turns (at least 1)")
    print("command: " + shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv])))
    print(f"date: {datetime.now(UTC).astimezone().isoformat(timespec='seconds')}")
    print(f"machine: nproc={nproc()}, python {platform.python_version()}, "
          f"{platform.machine()}, {platform.system()}, load average "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    started = time.monotonic()
    outcomes, failures = run_backends(args.backend, lambda backend: run_backend(backend, args))
    print(f"\ntotal time: {time.monotonic() - started:.1f} s")
    for backend, outcome in outcomes:
        for goal, (value, met) in outcome.goals.items():
            print(f"goal {backend} {goal}: {value} {'met' if met else 'NOT MET'}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("OK: no 5xx, every save acknowledged and stored, no traceback")
    return 0


if __name__ == "__main__":
    sys.exit(main())
