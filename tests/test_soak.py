"""bench/soak.py, small: 10 judges x 10 marks through gunicorn, then the same again while
the whole gunicorn process group is killed -9 once and restarted; three of the tablets go
offline and back at random, queueing their marks meanwhile; nothing acknowledged or queued
may be lost or stored twice. Runs on this suite's database: SQLite, or PostgreSQL with SCORING_TEST_DB=postgres
(on the server at SCORING_TEST_POSTGRES_URL). The full run and its figures: RELIABILITY.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import POSTGRES_ADMIN, backend, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
SOAK = ROOT / "bench" / "soak.py"


def require_postgres() -> None:
    try:
        import psycopg
    except ImportError:
        skip_or_fail("psycopg is not installed")
    try:
        psycopg.connect(POSTGRES_ADMIN, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        skip_or_fail(f"no PostgreSQL server at {POSTGRES_ADMIN}: {error}".strip())


def test_judges_saving_through_a_kill_lose_nothing() -> None:
    if backend() == "postgres":
        require_postgres()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SCORING_", "FLASK_"))}
    env["SCORING_TEST_POSTGRES_URL"] = POSTGRES_ADMIN
    done = subprocess.run(
        [sys.executable, str(SOAK), "--backend", backend(), "--judges", "10", "--marks", "10",
         "--kills", "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
        check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for phase in (1, 2):
        assert f"phase {phase} verification: OK: 100 marks with an acknowledged save: 100 " \
               "hold the last acknowledged value" in done.stdout, output
    assert re.search(r"lost 0, wrong 0; 100 marks, 100 revisions: unknown 0, value not the "
                     r"latest revision's 0, duplicate tokens 0", done.stdout), output
    assert re.search(r"lost 0, wrong 0; 100 marks, 200 revisions: unknown 0, value not the "
                     r"latest revision's 0, duplicate tokens 0", done.stdout), output
    assert done.stdout.count("saves 100 (expected 100), acknowledged 100, not "
                             "acknowledged 0") == 2, output
    assert done.stdout.count("; 5xx: 0") == 2, output
    assert re.search(r"^kill 1: at [\d.]+ s, after \d+ acknowledged saves, SIGKILL to the "
                     r"process group \([2-9] processes", done.stdout, re.MULTILINE), output
    assert "the sheets reloaded before phase 2 showed the acknowledged value and " \
           "version: yes" in done.stdout, output
    assert "stderr: 0 tracebacks, 0 IntegrityError" in done.stdout, output
    # The three tablets that go offline: every save of their queues stored exactly once.
    assert done.stdout.count("offline tablets: 3 judges;") == 2, output
    assert "queued saves stored exactly once: 30 of 30 (phases so far)" in done.stdout, output
    assert "queued saves stored exactly once: 60 of 60 (phases so far)" in done.stdout, output
    lost = re.findall(r"of them with a lost answer: (\d+) of (\d+)", done.stdout)
    assert len(lost) == 2 and all(once == sent for once, sent in lost), output
    assert done.stdout.rstrip().splitlines()[-1].startswith("OK: load held, 1 kill(s) -9 "
                                                            "survived"), output
