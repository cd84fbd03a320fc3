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
from ...files.imports import contestant_rows, read_table
from ...inputs import CONTESTANT_COLUMNS, check_contestant, format_time, parse_time
from ...models import AuditEvent, Entry, Event
from ...operations import entries as entry_operations
from ...problems import InputError, Problem
from . import bp, console_event

MAX_UPLOAD = 5_000_000  # bytes; a delegation's sheet is far smaller
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
    return list(db.session.scalars(
        select(Entry).where(Entry.event_id == event.id).options(joinedload(Entry.contestant))
        .order_by(Entry.bib)))


@bp.get("/events/<code>/contestants")
def contestants(code: str) -> ResponseReturnValue:
    event = console_event(code)
    return render_template("admin/contestants.html", event=event, entries=entries_of(event),
                           done=request.args.get("done"))


def preview(event: Event, filename: str, data: bytes) -> tuple[list[Problem], list, object]:
    """Every problem of the file, checked as the import would (in a transaction rolled back)."""
    table = read_table(filename, CONTESTANT_COLUMNS, ("bib", "name"), data)
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
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("admin/contestants.html", event=event, entries=entries_of(event),
                               file_problems=[_("Choose a .xlsx or .csv file.")]), 422
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return render_template("admin/contestants.html", event=event, entries=entries_of(event),
                               file_problems=[_("The file is larger than 5 MB.")]), 422
    try:
        problems, rows, table = preview(event, upload.filename, data)
    except InputError as error:
        return render_template("admin/contestants.html", event=event, entries=entries_of(event),
                               file_problems=error.lines()), 422
    by_row: dict[int | None, list[Problem]] = {}
    for problem in problems:
        by_row.setdefault(problem.row, []).append(problem)
    payload = signer().dumps({"event": event.id, "nonce": secrets.token_hex(16),
                              "name": upload.filename,
                              "data": base64.b64encode(data).decode("ascii")})
    shown = [(number, cells) for index, (number, cells)
             in enumerate(table.rows) if index < 100 or number in by_row]  # type: ignore[attr-defined]
    return render_template("admin/preview.html", event=event, table=table, by_row=by_row,
                           shown=shown,
                           problems=problems, count=len(table.rows),  # type: ignore[attr-defined]
                           payload=payload, filename=upload.filename), \
        200 if not problems else 422


@bp.post("/events/<code>/contestants/import")
def import_contestants(code: str) -> ResponseReturnValue:
    event = console_event(code)
    try:
        upload = signer().loads(request.form.get("payload", ""),
                                max_age=PREVIEW_HOURS * 3600)
    except BadSignature:  # forged, altered or expired (SignatureExpired is one)
        return render_template("admin/contestants.html", event=event, entries=entries_of(event),
                               file_problems=[_("Upload the file again.")]), 400
    problem = payload_problem(event, upload)
    if problem:
        return render_template("admin/contestants.html", event=event, entries=entries_of(event),
                               file_problems=[problem]), 409
    filename, data = upload["name"], base64.b64decode(upload["data"])
    try:
        rows, problems = contestant_rows(
            read_table(filename, CONTESTANT_COLUMNS, ("bib", "name"), data))
        if problems:
            raise InputError(problems)
        count, created = entry_operations.import_contestants(
            event, rows, current_user.username, filename, user=current_user,
            nonce=upload["nonce"])
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        return render_template("admin/contestants.html", event=event, entries=entries_of(event),
                               file_problems=error.lines()), 422
    return redirect(url_for("admin.contestants", code=code, done=_(
        "Imported %(count)s contestants (%(created)s new).", count=count, created=created)))


@bp.get("/contestants-template.<kind>")
def template(kind: str) -> ResponseReturnValue:
    """An empty contestants sheet with the Chinese headers (and one example row)."""
    headers = list(CONTESTANT_COLUMNS.values())
    example = ["001", "张三", "男", "11010519491231002X", "某某机械厂", "某某代表队", "13800138000"]
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
    for column in ("A", "D", "G"):  # bibs, ID numbers and phones are text, never numbers
        for cell in sheet[column]:
            cell.number_format = "@"
    for column, width in zip("ABCDEFG", (8, 10, 6, 22, 28, 16, 14)):
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
    values = {"bib": entry.bib, "name": person.name, "gender": person.gender or "",
              "id_number": person.id_number or "", "unit": person.unit or "",
              "delegation": entry.delegation or "", "phone": person.phone or "",
              "status": entry.status, "status_reason": entry.status_reason or "",
              "time": format_time(entry.time_used)}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}
        values["bib"] = entry.bib  # the bib is the entry's identity on every sheet
        clean, errors = check_contestant(values)
        time = None
        if values["time"].strip():
            try:
                time = parse_time(values["time"])
            except ValueError:
                errors["time"] = _("“%(value)s” is not a time (seconds, mm:ss or h:mm:ss)",
                                   value=values["time"])
        if values["status"] not in ("ok", "absent", "dq"):
            errors["status"] = _("Choose a status.")
        elif values["status"] != "ok" and not values["status_reason"].strip():
            errors["status_reason"] = _("Absence and disqualification need a reason.")
        if not errors:
            try:
                entry_operations.update_contestant(entry, clean, values["status"],
                                             values["status_reason"].strip() or None, time,
                                             current_user.username, user=current_user)
                db.session.commit()
                return redirect(url_for("admin.contestants", code=code, done=_(
                    "Saved %(name)s.", name=clean["name"])))
            except InputError as error:
                db.session.rollback()
                for problem in error.problems:
                    errors[problem.field or "name"] = problem.message
    return render_template("admin/entry.html", event=event, entry=entry, values=values,
                           errors=errors), 200 if not errors else 422
