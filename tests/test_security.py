"""Headers, cookies, keys and passwords: the promises a committee checks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner, FlaskClient
from sqlalchemy import select

from scoring import create_app
from scoring.extensions import db
from scoring.models import User

from .judging_helpers import PASSWORD, csrf_token
from .test_cli import run


def test_security_headers_on_every_kind_of_page(client: FlaskClient) -> None:
    for url in ("/", "/login", "/api/events", "/healthz", "/no-such-page"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient,
                                                 runner: FlaskCliRunner) -> None:
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    response = client.post("/login", data={"username": "boss", "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_and_proxy_headers_behind_https(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SCORING_HTTPS", "1")
    monkeypatch.setenv("SCORING_PROXIES", "1")
    monkeypatch.setenv("SCORING_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = app.test_client()
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["Set-Cookie"]


def test_secret_key_is_generated_into_the_instance_folder(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SCORING_INSTANCE_PATH", str(tmp_path))
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key = (tmp_path / "secret_key").read_text().strip()
    assert len(key) >= 64 and first.secret_key == second.secret_key == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("SCORING_INSTANCE_PATH", str(tmp_path / "other"))
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).secret_key != key


def test_passwords_are_hashed_with_scrypt(app: Flask, runner: FlaskCliRunner) -> None:
    app.config["SCORING_PASSWORD_METHOD"] = "scrypt"  # what production uses
    run(runner, "user", "create", "judge9", "--role", "judge", "--password", PASSWORD)
    user = db.session.scalar(select(User).where(User.username == "judge9"))
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert PASSWORD not in user.password_hash and user.check_password(PASSWORD)
