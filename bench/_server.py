"""Shared by the HTTP benchmarks: a temporary database and a real gunicorn server on it.

    with temporary_site("postgres") as site:   # or "sqlite"
        site.cli("init-db")                      # .venv/bin/scoring with the site's env
        with Gunicorn(site, workers=2) as server:
            server.url                           # http://127.0.0.1:PORT, /healthz answered

A site is an instance directory (SCORING_INSTANCE_PATH) and a fresh database: an SQLite
file in that directory, or a database `scoring_bench_<random>` created on the PostgreSQL
server at SCORING_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
and dropped at the end, even on failure. Only the standard library and the project's venv.
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get("SCORING_TEST_POSTGRES_URL",
                                "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgres")
Outcome = TypeVar("Outcome")


def venv_bin(name: str) -> str:
    """A console script of the interpreter running us (the project's venv), by full path."""
    for folder in (Path(sys.executable).parent, ROOT / ".venv" / "bin"):
        if (folder / name).exists():
            return str(folder / name)
    raise SystemExit(f"cannot find {name!r} next to {sys.executable} or in {ROOT}/.venv/bin: "
                     "run with the project's venv (.venv/bin/python)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_url(admin_url: str, database: str) -> str:
    """The SQLAlchemy URL of `database` on the server of the psycopg URL `admin_url`."""
    parts = urlsplit(admin_url)
    return urlunsplit(("postgresql+psycopg", parts.netloc, f"/{database}", parts.query, ""))


@dataclass
class Site:
    """An instance directory and a database; `env` is what the CLI and gunicorn run with."""

    backend: str
    instance: Path
    database_url: str  # SQLAlchemy URL, as SCORING_DATABASE_URL
    database_name: str
    env: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `scoring ARGS...`; on failure raise with its output."""
        done = subprocess.run([venv_bin("scoring"), *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"scoring {' '.join(args)} exited {done.returncode}:\n"
                               f"{done.stdout}{done.stderr}")
        return done

    def cli_batch(self, commands: list[list[str]]) -> list[str]:
        """Run many `scoring` commands in one Python process (the import of the app, about a
        second, is paid once): their outputs, in order; on the first failure raise with its
        output. Each command runs as `scoring ARGS...` would, with the site's env."""
        import json

        done = subprocess.run([sys.executable, "-c", _CLI_BATCH, json.dumps(commands)],
                              cwd=ROOT, env=self.env, capture_output=True, text=True,
                              check=False)
        outputs = done.stdout.split(_CLI_BATCH_SEPARATOR + "\n")
        if done.returncode != 0:
            failed = commands[len(outputs) - 1] if len(outputs) <= len(commands) else []
            raise RuntimeError(f"scoring {' '.join(failed)} failed (batch exited "
                               f"{done.returncode}):\n{outputs[-1]}{done.stderr[-3000:]}")
        return outputs[:len(commands)]

    def engine(self):  # type: ignore[no-untyped-def]
        """A SQLAlchemy engine on the site's database (dispose() it when done)."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        return create_engine(self.database_url, poolclass=NullPool)


_CLI_BATCH_SEPARATOR = "\x1e-- scoring cli batch --"
_CLI_BATCH = f"""
import json, sys
from scoring.cli import main
for args in json.loads(sys.argv[1]):
    try:
        main.main(args=args, prog_name="scoring", standalone_mode=False)
    except SystemExit as exit:
        if exit.code not in (0, None):
            sys.stdout.flush()
            sys.exit(exit.code if isinstance(exit.code, int) else 1)
    sys.stdout.flush()
    print({_CLI_BATCH_SEPARATOR!r}, flush=True)
"""


def run_backends(choice: str, run: Callable[[str], Outcome]
                 ) -> tuple[list[tuple[str, Outcome]], list[str]]:
    """`run` for each backend of --backend (sqlite, postgres or both), in turn. One that
    raises or exits is reported (with its traceback) and counted as failed, and the next
    still runs. Returns the outcomes by backend, and the failures: those, and each outcome's
    `failed`, named by backend."""
    outcomes: list[tuple[str, Outcome]] = []
    failures: list[str] = []
    for backend in BACKENDS if choice == "both" else (choice,):
        try:
            outcome = run(backend)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - report, go on, exit 1
            sys.stdout.flush()
            if isinstance(error, SystemExit):
                print(f"{backend}: {error}", flush=True)
            else:
                traceback.print_exc()
                sys.stderr.flush()
            failures.append(f"{backend}: did not run ({type(error).__name__})")
            continue
        outcomes.append((backend, outcome))
        failed: Any = getattr(outcome, "failed")
        failures.extend(f"{backend}: {failure}" for failure in failed)
    return outcomes, failures


def postgres_admin():  # type: ignore[no-untyped-def]
    import psycopg

    try:
        return psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        raise SystemExit(f"no PostgreSQL server at {POSTGRES_ADMIN} "
                         f"(set SCORING_TEST_POSTGRES_URL): {error}".strip()) from None


@contextmanager
def temporary_site(backend: str, keep: bool = False) -> Iterator[Site]:
    """A fresh instance directory and database; both are removed at the end."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    instance = Path(tempfile.mkdtemp(prefix=f"scoring-bench-{backend}-"))
    created = False
    try:
        if backend == "sqlite":
            name = str(instance / "scoring.sqlite3")
            url = f"sqlite:///{name}"
        else:
            name = f"scoring_bench_{secrets.token_hex(4)}"
            with postgres_admin() as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
                created = True
            url = app_url(POSTGRES_ADMIN, name)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("SCORING_", "FLASK_", "GUNICORN_"))}
        env.update(SCORING_INSTANCE_PATH=str(instance), SCORING_DATABASE_URL=url,
                   SCORING_LOCALE="en", PYTHONUNBUFFERED="1",
                   # The command line and gunicorn run the code of the tree this bench is
                   # in (a copy of a commit, say), not whatever the venv was installed from.
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                            env.get("PYTHONPATH")])))
        yield Site(backend, instance, url, name, env)
    finally:
        try:
            if created:
                with postgres_admin() as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            if not keep:
                shutil.rmtree(instance, ignore_errors=True)


def http_get(host: str, port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Gunicorn:
    """`gunicorn --workers W --threads T --bind 127.0.0.1:PORT 'scoring:create_app()'` on a
    site, on a free port; its stderr goes to `stderr_path` in the instance directory.

    For fault tests: with new_session=True gunicorn runs in its own session and process
    group, so kill() can SIGKILL the master and every worker at once without touching the
    caller; restart() starts it again on the same port."""

    def __init__(self, site: Site, workers: int = 2, threads: int = 4,
                 extra_args: tuple[str, ...] = (), ready_timeout: float = 30.0,
                 app: str = "scoring:create_app()", new_session: bool = False,
                 env: dict[str, str] | None = None) -> None:
        """`app` is gunicorn's APP_MODULE; a module outside the project (a benchmark's wrapper
        around create_app) can be put on the path with extra_args=("--pythonpath", DIR).
        `env` adds to the site's environment (e.g. SCORING_WORKER_NICE, read by
        scoring/gunicorn_conf.py when extra_args holds its --config)."""
        self.env = {**site.env, **(env or {})}
        self.site = site
        self.app = app
        self.new_session = new_session
        self.workers = workers
        self.threads = threads
        self.extra_args = extra_args
        self.ready_timeout = ready_timeout
        self.host = "127.0.0.1"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr_path = site.instance / "gunicorn.stderr"
        self.command: list[str] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._launch(free_port(), "wb")

    def restart(self) -> None:
        """Start again on the same port, after stop() or kill(); stderr is appended to."""
        if self.process is not None:
            raise RuntimeError("gunicorn is still running: stop() or kill() it first")
        self._launch(self.port, "ab")

    def _launch(self, port: int, stderr_mode: str) -> None:
        self.port = port
        self.command = [venv_bin("gunicorn"), "--workers", str(self.workers),
                        "--threads", str(self.threads), "--bind", f"{self.host}:{self.port}",
                        *self.extra_args, self.app]
        with open(self.stderr_path, stderr_mode) as stderr:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env,
                                            stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=stderr,
                                            start_new_session=self.new_session)
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode} before "
                                   f"answering:\n{self.stderr_text()}")
            try:
                status, _body = http_get(self.host, self.port, "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not answer /healthz within "
                                   f"{self.ready_timeout:.0f} s:\n{self.stderr_text()}")
            time.sleep(0.1)

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate (gunicorn stops gracefully on SIGTERM) and wait; kill if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pids(self) -> list[int]:
        """The master and its workers now (from /proc, Linux); [] when not running."""
        if self.process is None:
            return []
        pids = [self.process.pid]
        try:
            for task in Path(f"/proc/{self.process.pid}/task").iterdir():
                pids += [int(pid) for pid in (task / "children").read_text().split()]
        except (OSError, ValueError):
            pass
        return pids

    def kill(self, timeout: float = 10.0) -> list[int]:
        """SIGKILL, as a crash or the OOM killer would: with new_session, the whole process
        group (`kill -9 -PGID`: the master and every worker at the same instant), else the
        master and the workers it has now. Waits until all of them are dead (a worker,
        reaped by init, may stay a zombie: it holds no socket). Returns the pids killed."""
        process = self.process
        if process is None:
            return []
        pids = self.pids()
        self.process = None
        for pid in [process.pid] if self.new_session else pids:
            try:
                if self.new_session:
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()
        deadline = time.monotonic() + timeout
        for pid in pids[1:]:
            while time.monotonic() < deadline:
                try:
                    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                except (OSError, IndexError):
                    break
                if state in ("Z", "X"):
                    break
                time.sleep(0.01)
        return pids

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its live workers, from
        /proc (Linux); nan elsewhere. A worker that exited takes its time with it."""
        if self.process is None:
            return float("nan")
        try:
            ticks = os.sysconf("SC_CLK_TCK")
            pids = [self.process.pid]
            for task in Path(f"/proc/{self.process.pid}/task").iterdir():
                pids += [int(pid) for pid in (task / "children").read_text().split()]
            total = 0
            for pid in pids:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            return total / ticks
        except (OSError, ValueError, IndexError):
            return float("nan")

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def describe_database(backend: str, site: "Site") -> str:
    """The line each bench prints about the database it runs on."""
    if backend == "postgres":
        with postgres_admin() as admin:
            version = admin.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        return f"database: PostgreSQL {version}, temporary database {site.database_name}"
    return f"database: SQLite {sqlite3.sqlite_version} (WAL), {site.database_name}"
