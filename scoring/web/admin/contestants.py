"""Console: the contestants of an event: upload with a preview, templates, edit one, status."""

from __future__ import annotations

import base64
import csv
import io
import secrets

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ... import rules
from ...files.imports import (
    CONTESTANT_FILE_COLUMNS, SAMPLE_DELEGATION, SAMPLE_ID_NUMBER, SAMPLE_MARK, SAMPLE_NAME,
    SAMPLE_UNIT, contestant_rows, contestant_table,
)
from ...models import AuditEvent, Entry, Event
from ...operations import entries as entry_operations
from ...problems import InputError, Problem
from . import bp, console_event, done_message, done_token
from .forms import ContestantsUploadForm, EntryForm, ImportForm

PREVIEW_HOURS = 2  # a previewed file is imported within this, or uploaded again


def signer() -> URLSafeTimedSerializer:
    # The preview hands the file back to the browser, signed, so that the import that
    # follows needs no server-side state (any worker or host can take it). The payload
    # names its event and a nonce, and expires: it imports into that event, once.
    return URLSafeTimedSerializer(current_app.secret_key, salt="contestants-upload")


def payload_problem(event: Event, upload: object) -> str | None:
    """Why a signed preview payload cannot be imported into `event`, or None."""
    if not isinstance(upload, dict) or upload.get("event") != event.id \
            or not isinstance(upload.get("nonce"), str):
        return _("This preview was made for another event: upload the file again.")
    used = db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.event_id == event.id, AuditEvent.action == "contestants.import",
        AuditEvent.details_json.contains(upload["nonce"])).limit(1))
    if used is not None:
        return _("This preview has already been imported.")
    return None


def entries_of(event: Event) -> list[Entry]:
    """By bib; those registered without one (until the draw gives it) after them, in the
    order they were registered."""
    return sorted(db.session.scalars(
        select(Entry).where(Entry.event_id == event.id).options(joinedload(Entry.contestant))),
        key=lambda entry: (entry.bib is None, rules.natural_key(entry.bib), entry.id))


def listing(event: Event, form: ContestantsUploadForm | None = None,
            status: int = 200) -> ResponseReturnValue:
    """The contestants page: the list, and the upload form (with its problems)."""
    return render_template("admin/contestants.html", event=event, entries=entries_of(event),
                           form=form or ContestantsUploadForm(formdata=None),
                           done=done_message()), status


@bp.get("/events/<code>/contestants")
def contestants(code: str) -> ResponseReturnValue:
    return listing(console_event(code))


def preview(event: Event, filename: str, data: bytes) -> tuple[list[Problem], list, object]:
    """Every problem of the file, checked as the import would (in a transaction rolled back)."""
    table = contestant_table(filename, data)
    rows, problems = contestant_rows(table)
    if not problems:
        savepoint = db.session.begin_nested()
        try:
            entry_operations.import_contestants(event, rows, current_user.username, filename,
                                                user=current_user)
        except InputError as error:
            problems = error.problems
        finally:
            savepoint.rollback()
    return problems, rows, table


@bp.post("/events/<code>/contestants/preview")
def upload_contestants(code: str) -> ResponseReturnValue:
    event = console_event(code)
    form = ContestantsUploadForm()
    if not form.validate_on_submit():
        return listing(event, form, 422)
    filename, data = form.file.data.filename, form.content
    try:
        problems, rows, table = preview(event, filename, data)
    except InputError as error:
        form.file.errors.extend(error.lines())
        return listing(event, form, 422)
    by_row: dict[int | None, list[Problem]] = {}
    for problem in problems:
        by_row.setdefault(problem.row, []).append(problem)
    payload = signer().dumps({"event": event.id, "nonce": secrets.token_hex(16),
                              "name": filename,
                              "data": base64.b64encode(data).decode("ascii")})
    shown = [(number, cells) for index, (number, cells)
             in enumerate(table.rows) if index < 100 or number in by_row]  # type: ignore[attr-defined]
    return render_template("admin/preview.html", event=event, table=table, by_row=by_row,
                           shown=shown,
                           problems=problems, count=len(table.rows),  # type: ignore[attr-defined]
                           form=ContestantsUploadForm(formdata=None),
                           importing=ImportForm(formdata=None, data={"payload": payload}),
                           filename=filename), 200 if not problems else 422


@bp.post("/events/<code>/contestants/import")
def import_contestants(code: str) -> ResponseReturnValue:
    event = console_event(code)
    form, again = ImportForm(), ContestantsUploadForm(formdata=None)  # again: on a problem
    upload = None
    if form.validate_on_submit():
        try:
            upload = signer().loads(form.payload.data, max_age=PREVIEW_HOURS * 3600)
        except BadSignature:  # forged, altered or expired (SignatureExpired is one)
            pass
    if upload is None:
        again.file.errors = [_("Upload the file again.")]
        return listing(event, again, 400)
    problem = payload_problem(event, upload)
    if problem:
        again.file.errors = [problem]
        return listing(event, again, 409)
    filename, data = upload["name"], base64.b64decode(upload["data"])
    try:
        rows, problems = contestant_rows(contestant_table(filename, data))
        if problems:
            raise InputError(problems)
        count, created = entry_operations.import_contestants(
            event, rows, current_user.username, filename, user=current_user,
            nonce=upload["nonce"])
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        again.file.errors = error.lines()
        return listing(event, again, 422)
    return redirect(url_for("admin.contestants", code=code, done=done_token(_(
        "Imported %(count)s contestants (%(created)s new).", count=count, created=created))))


@bp.get("/contestants-template.<kind>")
def template(kind: str) -> ResponseReturnValue:
    """A contestants sheet with the headers delegations use (no bib: the draw gives them)
    and one example row, marked 示例 in 序号: the import refuses it if it is left in."""
    columns = CONTESTANT_FILE_COLUMNS
    headers = [columns[key] for key in ("seq", "name", "gender", "id_number", "delegation",
                                        "unit", "phone")]
    example = [SAMPLE_MARK, SAMPLE_NAME, "男", SAMPLE_ID_NUMBER, SAMPLE_DELEGATION, SAMPLE_UNIT,
               "13800138000"]
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([headers, example])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), 200, {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": "attachment; filename=contestants-template.csv"}
    if kind != "xlsx":
        return _("Unknown format."), 404
    book = Workbook()
    sheet = book.active
    sheet.title = "报名表"
    sheet.append(headers)
    sheet.append(example)
    for column in ("D", "G"):  # ID numbers and phones are text, never numbers
        for cell in sheet[column]:
            cell.number_format = "@"
    for column, width in zip("ABCDEFG", (6, 10, 6, 22, 16, 28, 14)):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), 200, {
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": "attachment; filename=contestants-template.xlsx"}


@bp.route("/events/<code>/entries/<int(max=2147483647):entry_id>", methods=["GET", "POST"])
def edit_entry(code: str, entry_id: int) -> ResponseReturnValue:
    event = console_event(code)
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.event_id != event.id:
        return _("Not found."), 404
    person = entry.contestant
    form = EntryForm(bib=entry.bib, data={
        "name": person.name, "gender": person.gender or "", "id_number": person.id_number,
        "unit": person.unit, "delegation": entry.delegation, "phone": person.phone,
        "status": entry.status, "status_reason": entry.status_reason,
        "time": entry.time_used} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            entry_operations.update_contestant(
                entry, form.clean, form.status.data or "", form.status_reason.data or None,
                form.time.data, current_user.username, user=current_user)
            db.session.commit()
            return redirect(url_for("admin.contestants", code=code, done=done_token(_(
                "Saved %(name)s.", name=form.clean["name"]))))
        except InputError as error:
            db.session.rollback()
            form.refuse(error, default="name")
    return render_template("admin/entry.html", event=event, entry=entry, form=form), \
        422 if form.is_submitted() else 200
