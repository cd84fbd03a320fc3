"""The command line closes what it opens: many `scoring` commands run in one Python process
(as bench/_server.py's cli_batch runs a bench's set-up) leave no database connection behind.

FlaskGroup makes an app, with its own engine and pool, for every command; before the fix each
command left its pooled connection open until the process ended (the app, frozen by
create_app's gc.freeze(), was never collected), and about the 97th command of a batch met
PostgreSQL's "too many clients already". Run on the suite's database: on PostgreSQL
(SCORING_TEST_DB=postgres) the connections are counted in pg_stat_activity; on SQLite, as the
process's open file descriptors on the database file (Linux /proc).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flask import Flask

from .conftest import DATA, backend

ROOT = Path(__file__).resolve().parent.parent
JUDGES = 30

# Runs the commands of argv[1] (JSON) one after another in this one process, as
# bench/_server.py's cli_batch does, and prints, as JSON, the connections open on the
# database before the first command and after each one, with each command's exit code.
BATCH = r"""
import json, os, sys, time
from pathlib import Path
from scoring.cli import main

commands, database = json.loads(sys.argv[1]), sys.argv[2]
report = {}
if database.startswith("postgresql"):
    import psycopg
    watcher = psycopg.connect(database.replace("+psycopg", ""), autocommit=True)
    def connections():
        # Client backends only (an autovacuum worker may visit the database at any time).
        # A backend whose client has just closed its connection takes a moment to exit and
        # leave pg_stat_activity: asked again for up to 2 s while above the count before the
        # commands; a connection left open stays there.
        deadline = time.monotonic() + 2
        while True:
            count = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if count <= report.get("before", count) or time.monotonic() > deadline:
                return count
            time.sleep(0.05)
else:
    path = os.path.realpath(database.removeprefix("sqlite:///"))
    def connections():
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                count += os.readlink(f"/proc/self/fd/{fd}") == path
            except OSError:
                pass
        return count

report["before"] = connections()
report["after"] = []
for args in commands:
    try:
        main.main(args=args, prog_name="scoring", standalone_mode=False)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    report["after"].append([" ".join(args[:2]), code, connections()])
    if report["after"][-1][2] > report["before"] + 3:
        break  # piling up: no need to wait on the rest
print("\nCONNECTIONS " + json.dumps(report))
"""


def commands(folder: Path) -> list[tuple[list[str], int]]:
    """A bench's set-up in small (scheme, contestants, a draw, judges created and assigned),
    with commands that fail (exit 1) and one that opens a request context (user link)."""
    config = DATA / "example-b"
    batch: list[tuple[list[str], int]] = [
        (["init-db"], 0),
        (["event", "import", str(config / "scheme.toml")], 0),
        (["contestants", "import", "EX-B", str(config / "contestants.csv")], 0),
        (["draw", "EX-B", "--seed", "7"], 0),
    ]
    for number in range(JUDGES):
        name = f"judge{number:02d}"
        batch.append((["user", "create", name, "--role", "judge", "--password",
                       "long-enough"], 0))
        batch.append((["judge", "assign", "EX-B", name, "T", "P"], 0))
    batch += [
        (["user", "create", "judge00", "--role", "judge"], 1),  # exists: refused
        (["judge", "assign", "NOPE", "judge00", "T"], 1),  # no such event
        (["user", "link", "judge01", "-o", str(folder / "judge01.svg")], 0),
        (["board", "EX-B", "live"], 0),
        (["results", "export", "EX-B", "--format", "json"], 0),
    ]
    return batch


def test_many_commands_in_one_process_leave_no_connection_open(
        app: Flask, schema: str, tmp_path: Path) -> None:
    # `app` empties the suite's database afterwards; the commands run in another process
    # (their own apps, as the `scoring` command line makes them), on the same database.
    (tmp_path / "config.py").write_text('SCORING_PASSWORD_METHOD = "scrypt:1024:8:1"\n',
                                        encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SCORING_", "FLASK_"))}
    env.update(SCORING_INSTANCE_PATH=str(tmp_path), SCORING_DATABASE_URL=schema,
               SCORING_LOCALE="en")
    batch = commands(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", BATCH, json.dumps([args for args, _code in batch]), schema],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.rsplit("\nCONNECTIONS ", 1)[1])
    before = report["before"]
    if backend() == "sqlite":
        assert before == 0  # nothing is opened by importing the package
    grown = [(number, name, count) for number, (name, _code, count)
             in enumerate(report["after"], 1) if count != before]
    assert not grown, (f"{len(batch)} commands on {backend()}: connections open before "
                       f"them {before}; after these commands (number, command, open): "
                       f"{grown[:10]}")
    assert [code for _name, code, _count in report["after"]] == \
        [code for _args, code in batch], done.stdout + done.stderr
