"""Crowd: phones polling the live board through nginx's micro-cache while judges save.

Run: .venv/bin/python bench/crowd.py [--backend sqlite|postgres] [--phones 10000]
         [--phone-processes 2] [--judges 30] [--seconds 30] [--workers 1] [--threads 4]
         [--seed 1]

The site of bench/board.py (a 1,000-entry event BOARD, 30 judge accounts, about 11,000
marks imported, the board live; its practical criteria are not blind, so every save changes
the public board), served as the README's deployment serves it: a staff gunicorn, a public
gunicorn at nice 10 (SCORING_WORKER_NICE), and nginx with deploy/nginx-scoring.conf and
deploy/scoring-public-cache.conf (the ports and folders replaced, plus one location for the
baseline's static file), all on this 2-core machine with the client.

Two phases, each --seconds long after the phones have loaded their page:
  (1) the baseline: --phones phones poll a static file served by nginx from disk, the board
      panel as a phone receives it (the same bytes, gzipped alongside for gzip_static),
      every 3 s, without ETag (each answer the whole file: the board's polls mostly meet a
      new version, as judges save several marks a second);
  (2) the board: --phones phones poll /e/BOARD (HX-Request, If-None-Match, gzip) through
      nginx every 3 s, while --judges judges, signed in through nginx, save marks through
      the judges' htmx route (2-5 s between saves), each save changing the board.
The phones are asyncio coroutines (a new connection per request) in --phone-processes
processes; a poll starts 3 s after the previous one started, or at once when that one took
longer. Reports per phase the poll interval p50/p99 (goal: p99 within 10 % of 3 s), poll
latency, statuses, and the CPU of nginx, the two pools, PostgreSQL and the client; the
board's figures as a ratio to the static file's; and checks every acknowledged save against
the database. Exits 1 on a save not stored, a 5xx or a traceback; a goal not met is printed.
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import ROOT, Gunicorn, describe_database, free_port, temporary_site  # noqa: E402
from board import (  # noqa: E402
    EVENT, GZIP, POLL_SECONDS, Judges, Phones, entry_keys, fetch, gap_bibs, judge_thread,
    percentile, phones_process, request_bytes, seats, set_up, sign_in, verify,
)

DEPLOY = ROOT / "deploy"


class Front:
    """nginx in front of the two pools: what bench/board.py's judges need of a server."""

    def __init__(self, site, port: int) -> None:  # type: ignore[no-untyped-def]
        self.site, self.host, self.port = site, "127.0.0.1", port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def start_nginx(folder: Path, staff: Gunicorn, public: Gunicorn, static: Path) -> tuple[
        subprocess.Popen[bytes], int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    config = (DEPLOY / "nginx-scoring.conf").read_text(encoding="utf-8")
    for example, real in (("/var/cache/nginx/scoring", str(folder / "cache")),
                          ("127.0.0.1:8000", f"127.0.0.1:{staff.port}"),
                          ("127.0.0.1:8001", f"127.0.0.1:{public.port}"),
                          ("listen 80;", f"listen 127.0.0.1:{port} backlog=4096;"),
                          ("/srv/scoring/static/", f"{ROOT / 'static'}/")):
        config = config.replace(example, real)
    # The baseline: a static file of the board panel's bytes, from disk.
    config = config.replace("    location /static/ {", f"""    location /baseline/ {{
        alias {static}/;
        gzip_static on;
        etag on;
    }}

    location /static/ {{""")
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "scoring-public-cache.conf", folder)
    (folder / "scoring.conf").write_text(config, encoding="utf-8")
    (folder / "nginx.conf").write_text(f"""
daemon off;
user root;  # the bench's folders are the bench user's
worker_processes auto;
worker_rlimit_nofile 65536;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log error;
events {{ worker_connections 30000; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    include scoring.conf;
}}
""", encoding="utf-8")
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            import urllib.request
            urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css", timeout=1)
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("nginx did not start: " + (folder / "logs" / "error.log").read_text())


def pids_cpu(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, ValueError, IndexError):
            pass
    return total


def nginx_pids(master: int) -> list[int]:
    found = [master]
    for task in Path(f"/proc/{master}/task").iterdir():
        try:
            found += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def run_phones(port: int, path: str, args: argparse.Namespace, window: tuple[float, float],
               stop: float, conditional: bool) -> tuple[Phones, float]:
    """The phones in --phone-processes processes; their results merged, and their CPU."""
    context = multiprocessing.get_context("fork")
    children, pipes = [], []
    per = [args.phones // args.phone_processes
           + (index < args.phones % args.phone_processes)
           for index in range(args.phone_processes)]
    for index, count in enumerate(per):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=phones_process, args=(
            "127.0.0.1", port, count, window, stop, sender, path, 7 + index, conditional),
            daemon=True)
        child.start()
        children.append(child)
        pipes.append(receiver)
    merged = Phones()
    merged.worst_phone_p99 = 0.0
    for child, receiver in zip(children, pipes):
        if not receiver.poll(stop - time.time() + 120):
            child.kill()
            raise RuntimeError("a phones' process did not answer")
        part = receiver.recv()
        child.join(10)
        if isinstance(part, BaseException):
            raise part
        merged.intervals += part.intervals
        merged.latencies += part.latencies
        merged.statuses += part.statuses
        merged.errors += part.errors
        merged.loads += part.loads
        merged.load_errors += part.load_errors
        merged.worst_phone_p99 = max(merged.worst_phone_p99, part.worst_phone_p99)
        merged.phones_late += part.phones_late
        merged.bytes += part.bytes
        merged.cpu += part.cpu
    return merged, merged.cpu


def phase_line(name: str, phones: Phones, seconds: float, args: argparse.Namespace) -> str:
    polls = sum(phones.statuses.values())
    return (f"{name}: {polls} polls ({polls / seconds:.0f}/s; {args.phones / POLL_SECONDS:.0f}"
            f"/s if every phone kept 3 s), statuses {dict(sorted(phones.statuses.items()))}"
            + (f", FAILED {dict(phones.errors)}" if phones.errors else "")
            + (f", page loads failed {dict(phones.load_errors)}" if phones.load_errors else "")
            + f"; interval p50 {percentile(phones.intervals, 50):.3f} s, p99 "
            f"{percentile(phones.intervals, 99):.3f} s, max "
            f"{max(phones.intervals, default=float('nan')):.3f} s; phones with an interval "
            f"over 4.5 s: {phones.phones_late}; latency p50 "
            f"{percentile(phones.latencies, 50) * 1000:.1f} ms, p99 "
            f"{percentile(phones.latencies, 99) * 1000:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--phones", type=int, default=10_000)
    parser.add_argument("--phone-processes", type=int, default=2)
    parser.add_argument("--judges", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("command: .venv/bin/python bench/crowd.py " + " ".join(sys.argv[1:]))
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"machine: nproc={os.cpu_count()}, python {platform.python_version()}, "
          f"{platform.machine()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    failed: list[str] = []
    gap = int(args.seconds / 2) + 3
    with temporary_site(args.backend) as site, ExitStack() as stack:
        print(describe_database(args.backend, site))
        began = time.perf_counter()
        marks = set_up(site, args.judges, gap, args.seed)
        print(f"set-up: {marks} marks imported, {args.judges} judges, board live "
              f"({time.perf_counter() - began:.1f} s)", flush=True)
        config = ("--config", str(ROOT / "scoring" / "gunicorn_conf.py"))
        staff = stack.enter_context(Gunicorn(site, workers=args.workers,
                                             threads=args.threads, extra_args=config))
        public = stack.enter_context(Gunicorn(site, workers=args.workers,
                                              threads=args.threads, extra_args=config,
                                              env={"SCORING_WORKER_NICE": "10"}))
        public.stderr_path = site.instance / "gunicorn-public.stderr"
        # The baseline file: the panel as the board sends it to a phone (gzipped).
        panel = fetch_panel(public.port)
        static = site.instance / "baseline"
        static.mkdir()
        (static / "board.html").write_bytes(panel)
        (static / "board.html.gz").write_bytes(gzip.compress(panel, 6))
        nginx, port = start_nginx(site.instance / "nginx", staff, public, static)
        stack.callback(lambda: (nginx.terminate(), nginx.wait(10)))
        front = Front(site, port)
        print(f"nginx {port} -> staff gunicorn {staff.port}, public gunicorn {public.port} "
              f"(nice 10), {args.workers} worker(s) x {args.threads} threads each; the panel "
              f"{len(panel) / 1024:.0f} KiB, {len(gzip.compress(panel, 6)) / 1024:.0f} KiB "
              f"gzipped", flush=True)

        for path in ("/baseline/board.html", f"/e/{EVENT}"):  # what a phone's first load gets
            import asyncio
            answer = asyncio.run(fetch("127.0.0.1", port, request_bytes(
                "GET", path, f"127.0.0.1:{port}", {"Accept-Encoding": GZIP}), 30, keep=0))
            if answer.status != 200 or "etag" not in answer.headers:
                raise RuntimeError(f"GET {path} through nginx: {answer.status} "
                                   f"{answer.headers}")

        def cpu_now() -> dict[str, float]:
            return {"nginx": pids_cpu(nginx_pids(nginx.pid)),
                    "staff": staff.cpu_seconds(), "public": public.cpu_seconds()}

        results = {}
        for phase, path in (("static file", "/baseline/board.html"), ("board", f"/e/{EVENT}")):
            t0 = time.time() + 1.0
            window = (t0 + POLL_SECONDS + 2.0, t0 + POLL_SECONDS + 2.0 + args.seconds)
            stop = window[1] + 0.5
            judges = Judges()
            threads: list[threading.Thread] = []
            if phase == "board":
                keys = entry_keys(site)
                chairs = seats(args.judges)
                with ThreadPoolExecutor(max_workers=8) as pool:
                    sessions = list(pool.map(lambda seat: sign_in(front, seat), chairs))  # type: ignore[arg-type]
                threads = [threading.Thread(target=judge_thread, args=(
                    front, seat, session,
                    [keys[(seat.criterion, b)] for b in gap_bibs(seat.panel, gap)],
                    window[0], window[1] - 1.0, args.seed, judges), daemon=True)
                    for seat, session in zip(chairs, sessions)]
            before, wall = cpu_now(), time.perf_counter()
            for thread in threads:
                thread.start()
            # The baseline's phones ask without ETag: every answer is the whole file, at
            # least the work of the board's, where most polls meet a new version.
            phones, client_cpu = run_phones(port, path, args, window, stop,
                                            conditional=phase == "board")
            for thread in threads:
                thread.join(120)
            after, wall = cpu_now(), time.perf_counter() - wall
            cores = {key: (after[key] - before[key]) / wall for key in after}
            results[phase] = phones
            print("  " + phase_line(phase, phones, args.seconds, args))
            print(f"    CPU in cores over {wall:.0f} s: nginx {cores['nginx']:.2f}, staff pool "
                  f"{cores['staff']:.2f}, public pool {cores['public']:.2f}, phones "
                  f"{client_cpu / wall:.2f}", flush=True)
            fivexx = sum(c for s, c in phones.statuses.items() if s >= 500)
            if fivexx:
                failed.append(f"{phase}: {fivexx} polls answered 5xx")
            if phase == "board":
                checked = verify(site, chairs, judges.acknowledged)
                print(f"    judges: {judges.saves} saves ({judges.saves / args.seconds:.1f}/s),"
                      f" {len(judges.acknowledged)} acknowledged, statuses "
                      f"{dict(judges.statuses)}, save p50 "
                      f"{percentile(judges.latencies, 50) * 1000:.0f} ms, p99 "
                      f"{percentile(judges.latencies, 99) * 1000:.0f} ms; {checked.stored} "
                      f"stored, {checked.mismatches} mismatches")
                if checked.mismatches or len(judges.acknowledged) != judges.saves:
                    failed.append("board: a save not acknowledged or not stored")
        for server in (staff, public):
            text = server.stderr_text() if hasattr(server, "stderr_text") else ""
            if "Traceback" in text:
                failed.append(f"a traceback in {server.stderr_path.name}")
        base, board = results["static file"], results["board"]
        ratio = percentile(board.intervals, 99) / percentile(base.intervals, 99)
        kept = percentile(board.intervals, 99) <= POLL_SECONDS * 1.1 and not board.errors
        print(f"\nthe board's poll interval p99 / the static file's: {ratio:.3f}; polls per "
              f"second {sum(board.statuses.values()) / args.seconds:.0f} against "
              f"{sum(base.statuses.values()) / args.seconds:.0f}")
        print(f"goal (p99 within 10 % of 3 s for {args.phones} phones): "
              f"{'met' if kept else 'NOT met'}")
    for problem in failed:
        print(f"FAILED: {problem}")
    return 1 if failed else 0


def fetch_panel(port: int) -> bytes:
    import asyncio
    import zlib

    request = request_bytes("GET", f"/e/{EVENT}", f"127.0.0.1:{port}",
                            {"HX-Request": "true", "Accept-Encoding": GZIP})
    answer = asyncio.run(fetch("127.0.0.1", port, request, 30, keep=10_000_000))
    body = bytes(answer.body)
    if answer.headers.get("content-encoding") == "gzip":
        body = zlib.decompressobj(wbits=31).decompress(body)
    if answer.status != 200:
        raise RuntimeError(f"the panel: {answer.status}")
    return body


if __name__ == "__main__":
    sys.exit(main())
