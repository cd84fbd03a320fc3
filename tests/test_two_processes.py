"""Two server processes on one database: nothing one needs lives in the other's memory."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from scoring.extensions import db

from .test_decode import open_criteria
from .judging_helpers import PASSWORD, Judged, set_up_event
from .test_cli import run


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def servers(schema: str, instance_path: Path) -> Iterator[list[str]]:
    """Two gunicorn processes (one worker each) on the test database."""
    env = {**os.environ, "SCORING_DATABASE_URL": schema,
           "SCORING_INSTANCE_PATH": str(instance_path)}
    processes, bases = [], []
    for _ in range(2):
        port = free_port()
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
             f"127.0.0.1:{port}", "scoring:create_app()"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:  # not listening yet
                    time.sleep(0.1)
            else:
                pytest.fail(f"{base} did not start")
        yield bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            process.stderr.close()  # type: ignore[union-attr]


class Browser:
    """Just enough of a browser: cookies, forms and headers."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict]:
        request = urllib.request.Request(url, headers=headers or {})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def post(self, url: str, data: dict[str, str], headers: dict[str, str] | None = None) -> str:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(url, data=body, headers=headers or {})
        with self.opener.open(request, timeout=10) as response:
            return response.read().decode()


def test_a_mark_saved_through_one_process_is_on_the_others_board(
        runner: FlaskCliRunner, tmp_path: Path, servers: list[str]) -> None:
    judged: Judged = set_up_event(runner, tmp_path)
    open_criteria(runner, tmp_path, "R")  # observed at the station: public at once
    run(runner, "board", "J", "live")
    sheet_key, bib = judged.entries[0].sheet_key, judged.entries[0].bib  # R is not blind
    db.session.remove()  # the servers, not this process, touch the database from here on
    first, second = servers

    public = Browser()
    status, _board, headers = public.get(second + "/e/J", {"HX-Request": "true"})
    etag = headers["ETag"]
    assert status == 200
    assert public.get(second + "/e/J", {"HX-Request": "true", "If-None-Match": etag})[0] == 304

    judge = Browser()
    login = judge.get(first + "/login")[1]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    judge.post(first + "/login", {"username": "judge2", "password": PASSWORD,
                                  "csrf_token": token})
    sheet = judge.get(first + "/judge/J/R")[1]
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', sheet).group(1)
    saved = judge.post(f"{first}/judge/J/R/{sheet_key}",
                       {"value": "27", "version": "", "token": "two-processes", "view": "sheet"},
                       {"HX-Request": "true", "X-CSRFToken": csrf})
    assert "state-saved" in saved

    # The other process trusts the version it read for SCORING_BOARD_STAMP_TTL (0.5 s) and
    # renders a board at most once per SCORING_BOARD_RENDER_GAP (1 s): polled like a phone,
    # it shows the mark within those 1.5 s.
    saved_at = time.monotonic()
    while True:
        status, board, headers = public.get(second + "/e/J",
                                            {"HX-Request": "true", "If-None-Match": etag})
        if status != 304 or time.monotonic() - saved_at > 5:
            break
        time.sleep(0.1)
    assert status == 200 and headers["ETag"] != etag
    assert time.monotonic() - saved_at < 0.5 + 1.0 + 0.5  # ttl + gap + the requests
    row = re.search(rf'id="bib-{bib}".*?</tr>', board, re.S).group(0)
    assert "27.00" in row
    # The session made by the first process is good on the second (the key is shared).
    assert judge.get(second + "/judge")[0] == 200
