"""Fixtures: app -> client -> runner, on SQLite or on the real PostgreSQL server.

SCORING_TEST_DB=postgres runs the suite on PostgreSQL: a fresh database is created on the
server at SCORING_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
and dropped afterwards. Without a reachable server those tests skip, except under CI=true.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from scoring import create_app
from scoring.web import board
from scoring.extensions import db

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "samples"
DATA = Path(__file__).resolve().parent / "data"
POSTGRES_ADMIN = os.environ.get("SCORING_TEST_POSTGRES_URL",
                                "postgresql://postgres@127.0.0.1:5432/postgres")


def backend() -> str:
    return os.environ.get("SCORING_TEST_DB", "sqlite")


def skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, where everything must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this must not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("instance")
    os.environ["SCORING_INSTANCE_PATH"] = str(path)
    return path


@pytest.fixture(scope="session")
def database_url(instance_path: Path) -> Iterator[str]:
    if backend() == "sqlite":
        yield f"sqlite:///{instance_path / 'test.sqlite3'}"
        return
    try:
        import psycopg
    except ImportError:
        skip_or_fail("psycopg is not installed")
    name = f"scoring_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        skip_or_fail(f"no PostgreSQL server at {POSTGRES_ADMIN}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(database_url: str, **config: object) -> Flask:
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test-only",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SCORING_LOCALE": "en",
        "SCORING_PASSWORD_METHOD": "scrypt:1024:8:1",  # fast in tests, same algorithm
        "SCORING_BOARD_RENDER_GAP": 0,  # each change rendered at once (the gap: test_board.py)
        "SCORING_BOARD_COST_FACTOR": 0,
        **config,
    })


@pytest.fixture(scope="session")
def schema(database_url: str) -> str:
    """The schema, made by the migrations (so they are tested on both databases)."""
    from flask_migrate import upgrade

    app = make_app(database_url)
    with app.app_context():
        upgrade(directory=str(Path(app.root_path) / "migrations"))
        db.engine.dispose()
    return database_url


@pytest.fixture
def app(schema: str) -> Iterator[Flask]:
    app = make_app(schema)
    with app.app_context():
        yield app
        db.session.remove()
        board.cache.clear()  # ids and versions start again in the emptied database
        board.stamps.clear()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


# --- browser tests ----------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (the machine cannot download browsers)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app served on a free port in a thread, for the browser."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def screenshot(page: object, name: str) -> None:
    """Keep a screenshot in docs/screenshots when SCORING_SCREENSHOTS=1 (make screenshots)."""
    if os.environ.get("SCORING_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
