"""Backups while the competition runs: SQLite's online backup, or pg_dump / pg_restore."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.engine import make_url

from .extensions import db
from .models import Event
from .problems import InputError, Problem


def _sqlite_path() -> str:
    database = make_url(db.engine.url).database
    if not database or database == ":memory:":
        raise InputError(Problem(_("an in-memory database cannot be backed up")))
    return database


def _libpq_url() -> str:
    url = make_url(db.engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise InputError(Problem(_("%(tool)s is not installed (apt-get install "
                                   "postgresql-client)", tool=name)))
    return path


def _run(command: list[str], file: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise InputError(Problem(result.stderr.strip().splitlines()[-1] if result.stderr
                                 else _("failed"), file=file))


def backup(file: str) -> None:
    """Copy the whole database into `file`, consistently, while it is in use."""
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        target = sqlite3.connect(file)
        source = sqlite3.connect(_sqlite_path(), timeout=30)
        try:
            with target:
                source.backup(target)  # a consistent snapshot, page by page
        finally:
            source.close()
            target.close()
    elif db.engine.dialect.name == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", "--file", file, _libpq_url()], file)
    else:
        raise InputError(Problem(_("backups are made of SQLite and PostgreSQL databases")))


# Results versions jump after a restore, past any version the running processes may have
# seen (and cached a board for) since the backup was made.
VERSION_JUMP = 1_000_000


def restore(file: str) -> None:
    """Replace the database's contents with a backup made by `backup`."""
    if not Path(file).is_file():
        raise InputError(Problem(_("no such file"), file=file))
    db.session.remove()
    db.engine.dispose()
    if db.engine.dialect.name == "sqlite":
        try:
            source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
            source.execute("SELECT count(*) FROM events").fetchone()
        except sqlite3.DatabaseError:
            raise InputError(Problem(_("this is not a backup of this system"),
                                     file=file)) from None
        target = sqlite3.connect(_sqlite_path(), timeout=30)
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
    elif db.engine.dialect.name == "postgresql":
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--dbname", _libpq_url(), file], file)
    else:
        raise InputError(Problem(_("backups are made of SQLite and PostgreSQL databases")))
    db.session.execute(update(Event).values(results_version=Event.results_version
                                            + VERSION_JUMP))
    db.session().info["results_changed"] = True
    db.session.commit()
