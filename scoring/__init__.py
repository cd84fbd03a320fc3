"""scoring: marks, results and live boards for vocational skills competitions."""

from __future__ import annotations

import gc
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    instance_path = os.environ.get("SCORING_INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=os.environ.get("SCORING_DATABASE_URL")
        or f"sqlite:///{Path(app.instance_path) / 'scoring.sqlite3'}",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        SCORING_LOCALE=os.environ.get("SCORING_LOCALE"),
        WTF_CSRF_TIME_LIMIT=None,  # a judge's page stays open all day
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Behind a proxy that terminates HTTPS: Secure cookies, and the proxy's headers
        # trusted for the client's address (sign-in throttling) and scheme.
        SESSION_COOKIE_SECURE=os.environ.get("SCORING_HTTPS") == "1",
        REMEMBER_COOKIE_SECURE=os.environ.get("SCORING_HTTPS") == "1",
        SCORING_PROXIES=int(os.environ.get("SCORING_PROXIES", "0")),
        # The public boards (board.py): the phones' poll, in seconds; how long a process
        # trusts the version it read; the least time between two renders of a changed board.
        SCORING_BOARD_POLL=3,
        SCORING_BOARD_STAMP_TTL=0.5,
        SCORING_BOARD_RENDER_GAP=1.0,
        SCORING_BOARD_COST_FACTOR=10.0,  # the gap is at least 10 x the results' cost
        SCORING_BOARD_CACHE=True,
        # Public pages and API for a shared cache (nginx, a CDN): fresh for N seconds, then
        # served stale for M more while the cache asks again (README, deployment).
        # The address the hall's tablets and the public reach the server at, for QR codes
        # (sign-in cards, certificates); else the address the organiser's browser used.
        SCORING_PUBLIC_URL=os.environ.get("SCORING_PUBLIC_URL") or None,
        SCORING_PUBLIC_MAX_AGE=1,
        SCORING_PUBLIC_STALE=5,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["SCORING_PROXIES"]:
        hops = app.config["SCORING_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from . import cli, i18n, labels, web
    from .extensions import csrf, db, login_manager, migrate
    from .web import auth

    @app.before_request
    def refuse_unusable_requests() -> ResponseReturnValue | None:
        """A NUL byte (no database takes it) or a form field without a name is never a
        person's input: refused here, before the CSRF check or any query sees it."""
        texts = [request.path, *request.args.keys(), *request.args.values()]
        if request.method == "POST":
            if any(not isinstance(key, str) for key in request.form.keys()):
                return _("The request is malformed."), 400
            texts += [*request.form.keys(), *request.form.values()]
        if any("\x00" in text for text in texts):
            return _("The request is malformed."), 400
        return None

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    cli.init_app(app)
    web.init_app(app)

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError):  # type: ignore[no-untyped-def]
        if not current_user.is_authenticated:
            # The session (and its token) is gone: ask to sign in again, keeping the page.
            return auth.unauthorized()
        # Said in words, so an htmx save shows it beside the field instead of failing blankly.
        return _("The page is out of date (security token): reload it."), 400

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Access-Control-Allow-Origin", "*")
        return response

    if not app.testing:
        # What start-up made lives as long as the process: out of the collector's sight, a
        # full collection (a board render of 1,000 entries makes a few) no longer walks it
        # all; that halved the render's time.
        gc.collect()
        gc.freeze()
    return app


def _instance_secret(instance: Path) -> str:
    """The signing key, generated into the instance folder on first run, never in code.

    Several workers may start together on a new instance folder: the key file appears
    whole and at once (written aside, then linked into place), and every process reads the
    one that won.
    """
    path = instance / "secret_key"
    if not path.exists():
        draft = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # fails if another process got there first
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


@sa_event.listens_for(Engine, "connect")
def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
