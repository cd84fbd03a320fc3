"""The boards behind a shared cache: deploy/nginx-scoring.conf itself, run by a real nginx on
a loopback port in front of two gunicorn processes (staff and public) on the test database.

Skips without nginx on a laptop; fails under CI=true (.ci/run installs Debian's nginx)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from scoring.extensions import db

from .conftest import skip_or_fail
from .judging_helpers import PASSWORD, Judged, set_up_event
from .test_decode import open_criteria
from .test_cli import run
from .test_two_processes import Browser, free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
MAX_AGE = 1  # SCORING_PUBLIC_MAX_AGE, the default
POLL = 3  # the phones' poll, the default


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "scoring" / "gunicorn_conf.py"),
         "--workers", "1", "--bind", f"127.0.0.1:{port}", "scoring:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(url: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer")


@pytest.fixture
def site(schema: str, instance_path: Path, tmp_path: Path) -> Iterator[str]:
    """nginx (the project's configuration, ports and folders replaced) in front of a staff
    and a public gunicorn; yields nginx's address."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if nginx is None:
        skip_or_fail("no nginx (apt-get install nginx)")
    env = {**os.environ, "SCORING_DATABASE_URL": schema,
           "SCORING_INSTANCE_PATH": str(instance_path)}
    staff_port, public_port, nginx_port = free_port(), free_port(), free_port()
    processes = [start_gunicorn(env, staff_port),
                 start_gunicorn({**env, "SCORING_WORKER_NICE": "10"}, public_port)]
    config = (DEPLOY / "nginx-scoring.conf").read_text(encoding="utf-8")
    for example, real in (("/var/cache/nginx/scoring", str(tmp_path / "cache")),
                          ("127.0.0.1:8000", f"127.0.0.1:{staff_port}"),
                          ("127.0.0.1:8001", f"127.0.0.1:{public_port}"),
                          ("listen 80;", f"listen 127.0.0.1:{nginx_port};"),
                          ("/srv/scoring/static/", f"{ROOT / 'static'}/")):
        assert example in config, example
        config = config.replace(example, real)
    conf = tmp_path / "nginx"
    (conf / "logs").mkdir(parents=True)
    shutil.copy(DEPLOY / "scoring-public-cache.conf", conf)
    (conf / "scoring.conf").write_text(config, encoding="utf-8")
    (conf / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {conf}/nginx.pid;
error_log {conf}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {conf}/body; proxy_temp_path {conf}/proxy;
    fastcgi_temp_path {conf}/fastcgi; uwsgi_temp_path {conf}/uwsgi; scgi_temp_path {conf}/scgi;
    include scoring.conf;
}}
""", encoding="utf-8")
    server = subprocess.Popen([nginx, "-p", str(conf), "-c", str(conf / "nginx.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    processes.append(server)
    try:
        for port in (staff_port, public_port):
            wait_for(f"http://127.0.0.1:{port}/healthz")
        base = f"http://127.0.0.1:{nginx_port}"
        wait_for(base + "/static/css/app.css")
        yield base
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        if server.stderr:
            server.stderr.close()


def save_through(base: str, judged: Judged, value: str, row: int = 0) -> None:
    judge = Browser()
    login = judge.get(base + "/login")[1]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    judge.post(base + "/login", {"username": "judge2", "password": PASSWORD,
                                 "csrf_token": token})
    sheet = judge.get(base + "/judge/J/R")[1]
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', sheet).group(1)
    save_url = re.findall(r'hx-post="(/judge/J/R/[^"]+)"', sheet)[row]
    saved = judge.post(base + save_url, {"value": value, "version": "", "token": "",
                                         "view": "sheet"},
                       {"HX-Request": "true", "X-CSRFToken": csrf})
    assert "state-saved" in saved


def test_the_public_is_cached_briefly_and_staff_pages_never(
        runner: FlaskCliRunner, tmp_path: Path, site: str) -> None:
    judged = set_up_event(runner, tmp_path)
    open_criteria(runner, tmp_path, "R")  # public at once
    run(runner, "board", "J", "live")
    db.session.remove()
    phone = Browser()

    # Public responses: shared-cacheable, no cookie, one copy per language.
    status, page, headers = phone.get(site + "/e/J", {"HX-Request": "true"})
    assert status == 200 and "Set-Cookie" not in headers
    assert headers["Cache-Control"] == f"public, max-age={MAX_AGE}, stale-while-revalidate=5"
    assert "Cookie" not in headers.get("Vary", "")
    again = phone.get(site + "/e/J", {"HX-Request": "true"})
    assert again[2]["X-Cache-Status"] == "HIT" and again[1] == page
    english = phone.get(site + "/e/J?lang=en")[1]
    assert "Live (provisional)" in english and "Live (provisional)" not in phone.get(
        site + "/e/J")[1]
    api = phone.get(site + "/api/events/J/results")
    assert api[0] == 200 and api[2]["Cache-Control"].startswith("public")

    # Staff pages: never stored (each visitor gets its own sign-in token).
    first, second = Browser().get(site + "/login"), Browser().get(site + "/login")
    assert first[2]["Cache-Control"] == "private, no-store"
    assert first[2].get("X-Cache-Status") is None and second[2].get("X-Cache-Status") is None
    token = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
    assert token.search(first[1]).group(1) != token.search(second[1]).group(1)

    # A save shows within a poll, the cache's max-age and a second, polled like a phone.
    etag = phone.get(site + "/e/J", {"HX-Request": "true"})[2]["ETag"]
    save_through(site, judged, "27")
    saved_at = time.monotonic()
    while True:
        time.sleep(POLL)
        status, page, headers = phone.get(site + "/e/J", {"HX-Request": "true",
                                                            "If-None-Match": etag})
        if status == 200 or time.monotonic() - saved_at > POLL + MAX_AGE + 1:
            break
    assert status == 200 and "27.00" in page
    assert time.monotonic() - saved_at <= POLL + MAX_AGE + 1

    # Hidden: gone from the cache too within the max-age (and the app's 0.5 s stamp).
    for url in ("/e/J", "/api/events/J/results"):
        assert phone.get(site + url)[0] == 200  # in the cache now
    run(runner, "board", "J", "hidden")
    db.session.remove()
    hidden_at = time.monotonic()
    seen: list[tuple[str, float, int]] = []
    while time.monotonic() - hidden_at < MAX_AGE + 3:
        for url in ("/e/J", "/api/events/J/results"):
            seen.append((url, time.monotonic() - hidden_at, phone.get(site + url)[0]))
        time.sleep(0.1)
    # Within the max-age plus the app's half-second stamp (and slack for a loaded machine);
    # once gone, never back from the cache.
    for url in ("/e/J", "/api/events/J/results"):
        mine = [(moment, status) for path, moment, status in seen if path == url]
        first_gone = min(moment for moment, status in mine if status == 404)
        assert first_gone <= MAX_AGE + 1.5, mine
        assert all(status == 404 for moment, status in mine if moment >= first_gone), mine
