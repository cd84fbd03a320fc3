"""Console: marks and statuses from files (a theory exam's computer marks, times used,
absences), as `scoring scores import` and `scoring entries update` take them: every row is
checked first and nothing is written while any row has a problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ... import policy
from ...extensions import db
from ...files import imports
from ...models import Event
from ...operations import entries as entry_operations, marks
from ...problems import InputError
from . import bp, console_event, done_message, done_token
from .forms import FileImportForm


def page(event: Event, scores: FileImportForm | None = None,
         statuses: FileImportForm | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "admin/scores.html", event=event,
        scores=scores or FileImportForm(formdata=None),
        statuses=statuses or FileImportForm(formdata=None),
        done=done_message(),
        may_import=policy.can("import_scores", event, current_user),
        may_update=policy.can("change_entry", event, current_user)), status


@bp.get("/events/<code>/scores")
def scores(code: str) -> ResponseReturnValue:
    return page(console_event(code))


def take_file(event: Event, which: str, read: Callable[[str, bytes], list[Any]],
              apply: Callable[[list[Any], str], object],
              done: Callable[[list[Any], str, object], str]) -> ResponseReturnValue:
    """One of the page's uploads (`which`: "scores" or "statuses"): read every row, apply
    them all or none, and come back to the page with what was done or, beside the field,
    every problem with its file, row and column."""
    form = FileImportForm()
    if not form.validate_on_submit():
        return page(event, **{which: form}, status=422)
    filename = form.file.data.filename or which
    try:
        rows = read(filename, form.content)
        outcome = apply(rows, filename)
    except InputError as error:
        db.session.rollback()
        form.file.errors.extend(error.lines())
        return page(event, **{which: form}, status=422)
    db.session.commit()
    return redirect(url_for("admin.scores", code=event.code,
                            done=done_token(done(rows, filename, outcome))), 303)


@bp.post("/events/<code>/scores")
def import_scores(code: str) -> ResponseReturnValue:
    event = console_event(code, "import_scores")
    return take_file(
        event, "scores",
        lambda name, data: imports.read_scores(
            name, {c.code: c.to_rule() for c in event.criteria},
            {entry.bib for entry in event.entries if entry.bib}, data),
        lambda rows, name: marks.import_scores(event, rows, current_user.username, name,
                                               user=current_user),
        lambda rows, name, changed: _(
            "Imported %(count)s marks from %(file)s (%(changed)s new or changed).",
            count=len(rows), file=name, changed=changed))


@bp.post("/events/<code>/statuses")
def update_statuses(code: str) -> ResponseReturnValue:
    event = console_event(code, "change_entry")
    return take_file(
        event, "statuses",
        lambda name, data: imports.read_entries(
            name, {entry.bib for entry in event.entries if entry.bib}, data),
        lambda rows, name: entry_operations.update_entries(
            event, rows, current_user.username, name, user=current_user),
        lambda rows, name, _outcome: _("Updated %(count)s contestants from %(file)s.",
                                       count=len(rows), file=name))
