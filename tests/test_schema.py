"""The migrations build exactly the schema the models describe, and the schema enforces
the rules that keep marks honest."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from scoring.extensions import db
from scoring.models import Criterion, Entry, Mark, MarkRevision

from .test_cli import load_example_b


def test_migrations_match_the_models(app: Flask) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_init_db_is_idempotent(runner: FlaskCliRunner) -> None:
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output


def test_a_mark_is_unique_per_entry_criterion_and_judge(runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    mark = db.session.scalars(select(Mark)).first()
    db.session.add(Mark(entry_id=mark.entry_id, criterion_id=mark.criterion_id,
                        judge=mark.judge, value=Decimal(1)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_mark_is_never_negative(runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    entry = db.session.scalars(select(Entry)).first()
    criterion = db.session.scalars(select(Criterion)).first()
    db.session.add(Mark(entry_id=entry.id, criterion_id=criterion.id, judge="x",
                        value=Decimal(-1)))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_marks_are_stored_exactly(runner: FlaskCliRunner) -> None:
    load_example_b(runner)
    values = sorted(str(value) for value in db.session.scalars(select(Mark.value)))
    assert "88.5" in values and "85.5" in values and "92" in values
    assert all(revision.new_value is not None
               for revision in db.session.scalars(select(MarkRevision)))


def test_the_appeals_migration_goes_down_and_up_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """0011 (provisional publication, appeals, arbiters) undone and done again on a fresh
    SQLite database; refused down while an event is provisional."""
    from pathlib import Path

    import pytest
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text

    from .conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'round.sqlite3'}")
    directory = str(Path(app.root_path) / "migrations")
    with app.app_context():
        upgrade(directory=directory)
        downgrade(directory=directory, revision="0009")
        assert "appeals" not in inspect(db.engine).get_table_names()
        upgrade(directory=directory)
        assert "appeals" in inspect(db.engine).get_table_names()
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO competitions (name, created_at) VALUES ('c', CURRENT_TIMESTAMP)"))
            connection.execute(text(
                "INSERT INTO events (competition_id, code, name, state, visibility, decimals, "
                "rounding, award_rounding, tie_break_json, results_version, created_at) "
                "VALUES (1, 'E', 'e', 'provisional', 'live', 2, 'stage', 'half_up', '[]', 1, "
                "CURRENT_TIMESTAMP)"))
        with pytest.raises(SystemExit):  # flask_migrate logs the RuntimeError and exits 1
            downgrade(directory=directory, revision="0009")
        assert "appeals" in inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()
