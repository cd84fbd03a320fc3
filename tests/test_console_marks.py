"""The console takes marks and statuses from files (a theory exam's computer marks, times
used), as the command line does: all rows or none, problems beside the field with their
row and column, a tick first; organisers only."""

from __future__ import annotations

import io

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from scoring.extensions import db
from scoring.models import AuditEvent, Entry, Mark

from .judging_helpers import PASSWORD, sign_in
from .test_cli import EXAMPLE_B, run


def upload(client: FlaskClient, token: str, url: str, name: str, data: bytes,
           confirm: bool = True):  # type: ignore[no-untyped-def]
    form = {"csrf_token": token, "file": (io.BytesIO(data), name)}
    if confirm:
        form["confirm"] = "y"
    return client.post(url, data=form, content_type="multipart/form-data")


def marks() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Mark.id))) or 0


def test_marks_and_statuses_from_the_console(client: FlaskClient,
                                             runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "user", "create", "boss", "--role", "organiser", "--password", PASSWORD)
    token = sign_in(client, "boss")
    page = client.get("/admin/events/EX-B/scores").get_data(as_text=True)
    assert "评分文件" in page or "Marks from files" in page
    scores = (EXAMPLE_B / "scores.csv").read_bytes()

    unticked = upload(client, token, "/admin/events/EX-B/scores", "scores.csv", scores,
                      confirm=False)
    assert unticked.status_code == 422 and marks() == 0
    bad = scores.replace(b"03,T,e,92", b"03,T,e,920")
    refused = upload(client, token, "/admin/events/EX-B/scores", "scores.csv", bad)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and marks() == 0
    assert "scores.csv，第 2 行，“score”列：超过满分 100" in text  # beside the file field
    done = upload(client, token, "/admin/events/EX-B/scores", "scores.csv", scores)
    assert done.status_code == 303 and marks() == 10
    assert "10" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scores.import"))

    entries = (EXAMPLE_B / "entries.csv").read_bytes()
    assert upload(client, token, "/admin/events/EX-B/statuses", "entries.csv",
                  entries).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Entry.time_used).where(Entry.bib == "03")) == 2 * 3600 + 51 * 60


def test_only_organisers_import_marks(client: FlaskClient, runner: FlaskCliRunner) -> None:
    run(runner, "event", "import", EXAMPLE_B / "scheme.toml")
    run(runner, "contestants", "import", "EX-B", EXAMPLE_B / "contestants.csv")
    run(runner, "user", "create", "chiefb", "--role", "chief", "--password", PASSWORD,
        "--event", "EX-B")
    token = sign_in(client, "chiefb")
    response = upload(client, token, "/admin/events/EX-B/scores", "scores.csv",
                      (EXAMPLE_B / "scores.csv").read_bytes())
    assert response.status_code == 403 and marks() == 0
