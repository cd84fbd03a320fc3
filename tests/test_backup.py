"""`scoring backup` and `scoring restore`, while judges are saving marks."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from scoring.operations import marks as marking
from scoring.queries import marks as sheets
from scoring.extensions import db
from scoring.models import Criterion, Entry, Event, Mark, MarkRevision, User

from .conftest import make_app
from .judging_helpers import set_up_event
from .test_cli import run


def state() -> tuple[list[tuple[int, str, str, int]], int]:
    """Every mark (entry, judge, value, version) and the number of revisions."""
    db.session.expire_all()
    marks = sorted((mark.entry_id, mark.judge, str(mark.value), mark.version)
                   for mark in db.session.scalars(select(Mark)))
    return marks, db.session.scalar(select(func.count(MarkRevision.id))) or 0


def consistent() -> bool:
    """Every mark's value is its last revision's, and it has as many revisions as changes."""
    db.session.expire_all()
    for mark in db.session.scalars(select(Mark)):
        if mark.revisions[-1].new_value != mark.value or len(mark.revisions) != mark.version:
            return False
    return True


def judge_saving(schema: str, stop: threading.Event, saved: list[str]) -> None:
    """A judge on another connection, changing marks as fast as it can."""
    app = make_app(schema)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "judge2"))
        event = db.session.scalar(select(Event).where(Event.code == "J"))
        criterion = db.session.scalar(select(Criterion).where(Criterion.code == "R"))
        entries = list(db.session.scalars(select(Entry).where(Entry.event_id == event.id)))
        number = 0
        while not stop.is_set() and number < 400:
            entry = entries[number % len(entries)]
            mark = sheets.judge_marks(user, criterion).get(entry.id)
            value = str(Decimal(number % 30))
            outcome = marking.save_judge_mark(user, event, criterion, entry, value,
                                              token=f"t{number}",
                                              seen_version=mark.version if mark else None)
            db.session.commit() if outcome.changed else db.session.rollback()
            if outcome.state == "saved":
                saved.append(value)
            number += 1
        db.session.remove()
        db.engine.dispose()


def test_backup_while_marking_then_restore(app: Flask, runner: FlaskCliRunner, schema: str,
                                          tmp_path: Path) -> None:
    set_up_event(runner, tmp_path)
    stop, saved = threading.Event(), []
    judge = threading.Thread(target=judge_saving, args=(schema, stop, saved))
    judge.start()
    while len(saved) < 20 and judge.is_alive():
        threading.Event().wait(0.01)
    copy = tmp_path / "during.backup"
    run(runner, "backup", copy)  # while the judge goes on saving
    stop.set()
    judge.join()
    assert len(saved) >= 20
    after = state()

    run(runner, "restore", copy)
    db.session.remove()
    restored = state()
    assert consistent()  # a snapshot of one moment: no half-saved mark
    assert 0 < restored[1] <= after[1]

    # A quiet round trip gives back exactly what was there.
    quiet = tmp_path / "quiet.backup"
    run(runner, "backup", quiet)
    run(runner, "scores", "import", "J", write_scores(tmp_path))
    assert state() != restored
    run(runner, "restore", quiet)
    db.session.remove()
    assert state() == restored and consistent()


def write_scores(tmp_path: Path) -> Path:
    path = tmp_path / "more.csv"
    path.write_text("bib,criterion,judge,score\n03,V,外请裁判,30\n", encoding="utf-8")
    return path


def test_restore_refuses_what_is_not_a_backup(runner: FlaskCliRunner, tmp_path: Path) -> None:
    run(runner, "event", "import", Path(__file__).parent / "data/example-b/scheme.toml")
    before = state()
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all")
    result = runner.invoke(args=["restore", str(junk)])
    assert result.exit_code == 1 and "junk.backup" in result.stderr
    missing = runner.invoke(args=["restore", str(tmp_path / "missing.backup")])
    assert missing.exit_code == 1
    assert state() == before


def test_a_restore_makes_board_versions_jump(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """A board cached for a version seen after the backup must never match again."""
    run(runner, "event", "import", Path(__file__).parent / "data/example-b/scheme.toml")
    version = db.session.scalar(select(Event.results_version))
    copy = tmp_path / "copy.backup"
    run(runner, "backup", copy)
    run(runner, "restore", copy)
    db.session.remove()
    assert db.session.scalar(select(Event.results_version)) >= version + 1_000_000
