"""Console: competitions, events and their schemes (form or TOML), the draw, the lifecycle,
progress and the audit log."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ... import operations, rules
from ...extensions import db
from ...files.scheme import check_scheme, parse_scheme
from ...inputs import SchemeFile, text_problem
from ...models import AuditEvent, Competition, Contestant, Entry, Event, User
from ...operations import events as event_operations
from ...problems import InputError, Problem
from ...queries.marks import event_progress
from ...rules import parse_whole
from . import bp, console_event, organisers_only

SECTION_ROWS, CRITERION_ROWS, AWARD_ROWS = 4, 10, 4
CRITERION_FIELDS = ("code", "name", "section", "max", "step", "weight", "judges", "aggregate",
                    "kind", "max_spread")
AWARD_FIELDS = ("name", "share", "count", "min_total")
INTEGERS = {"decimals", "team_best_n", "judges", "count"}
DECIMALS = {"max", "step", "max_spread", "min_total"}
FIELD_PATH = re.compile(r"^(sections|criteria|awards)\[(\d+)\](?: \(.*?\))?\.(\w+)$")
TABLE_PREFIX = {"sections": "section", "criteria": "criterion", "awards": "award"}


# --- competitions -------------------------------------------------------------------------

@bp.post("/competitions")
def create_competition() -> ResponseReturnValue:
    organisers_only()
    name = request.form.get("name", "").strip()
    if not name or text_problem(name, 200):
        return redirect(url_for("admin.dashboard", problem=_("A competition needs a name.")))
    if db.session.scalar(select(Competition).where(Competition.name == name)) is None:
        db.session.add(Competition(name=name))
        operations.audit("competition.create", current_user.username, user=current_user,
                         name=name)
        db.session.commit()
    return redirect(url_for("admin.dashboard"))


# --- the scheme form ----------------------------------------------------------------------

def form_from_scheme(event: Event | None) -> dict[str, str]:
    """The scheme editor's fields, filled from an event (or the defaults for a new one)."""
    values = {"decimals": "2", "rounding": "stage", "award_rounding": "half_up"}
    if event is None:
        return values
    values.update(code=event.code, name=event.name, decimals=str(event.decimals),
                  rounding=event.rounding, award_rounding=event.award_rounding,
                  tie_break=", ".join(event.tie_break),
                  team_best_n="" if event.team_best_n is None else str(event.team_best_n),
                  competition=str(event.competition_id))
    for index, section in enumerate(event.sections):
        values[f"section-{index}-code"], values[f"section-{index}-name"] = section.code, section.name
    for index, criterion in enumerate(event.criteria):
        for key, value in (("code", criterion.code), ("name", criterion.name),
                           ("section", criterion.section.code if criterion.section else ""),
                           ("max", criterion.max_value), ("step", criterion.step),
                           ("weight", criterion.weight), ("judges", criterion.judges),
                           ("aggregate", criterion.aggregate), ("kind", criterion.kind),
                           ("max_spread", criterion.max_spread)):
            values[f"criterion-{index}-{key}"] = "" if value is None else str(value)
    for index, tier in enumerate(event.awards):
        for key, value in (("name", tier.name), ("share", tier.share), ("count", tier.count),
                           ("min_total", tier.min_total)):
            values[f"award-{index}-{key}"] = "" if value is None else str(value)
    return values


def scheme_from_form(form: dict[str, str]) -> tuple[SchemeFile | None, dict[str, str], list[str]]:
    """The form as a checked scheme, or the problems by form field (and the general ones)."""
    errors: dict[str, str] = {}
    rows: dict[str, list[int]] = {"sections": [], "criteria": [], "awards": []}

    def number(name: str, key: str) -> Any:
        text = form.get(name, "").strip()
        if not text:
            return None
        try:
            value = rules.parse_decimal(text)
        except ValueError:
            errors[name] = _("“%(value)s” is not a number", value=text)
            return None
        if key in INTEGERS:
            if value != value.to_integral_value():
                errors[name] = _("must be a whole number")
                return None
            return int(value)
        return value

    data: dict[str, Any] = {}
    for key in ("code", "name"):
        data[key] = form.get(key, "").strip() or None
    for key in ("decimals", "team_best_n"):
        data[key] = number(key, key)
    data["rounding"] = form.get("rounding", "stage")
    data["award_rounding"] = form.get("award_rounding", "half_up")
    data["tie_break"] = [key for key in re.split(r"[\s,，]+", form.get("tie_break", "")) if key]
    for table, prefix, fields, count in (
            ("sections", "section", ("code", "name"), SECTION_ROWS),
            ("criteria", "criterion", CRITERION_FIELDS, CRITERION_ROWS),
            ("awards", "award", AWARD_FIELDS, AWARD_ROWS)):
        data[table] = []
        for index in range(form_rows(form, prefix, count)):
            if not any(form.get(f"{prefix}-{index}-{field}", "").strip() for field in fields
                       if field not in ("aggregate", "kind")):
                continue  # an empty row of the form
            row: dict[str, Any] = {}
            for field in fields:
                name = f"{prefix}-{index}-{field}"
                if field in INTEGERS or field in DECIMALS:
                    row[field] = number(name, field)
                else:
                    row[field] = form.get(name, "").strip() or None
            data[table].append({key: value for key, value in row.items() if value is not None})
            rows[table].append(index)
    data = {key: value for key, value in data.items() if value is not None}
    try:
        checked = check_scheme(data)
    except InputError as error:
        general = []
        for problem in error.problems:
            name = form_field(problem.field or "", rows)
            if name and name not in errors:
                errors[name] = problem.message
            else:
                general.append(str(problem))
        return None, errors, general
    if errors:
        return None, errors, []
    return checked, {}, []


MAX_ROWS = 60  # rows of a table in the scheme form; more is not a scheme but an attack


def form_rows(form: dict[str, str], prefix: str, minimum: int) -> int:
    indexes = [int(match.group(1)) for key in form
               if (match := re.match(rf"^{prefix}-([0-9]{{1,3}})-", key))]
    return min(MAX_ROWS, max([minimum, *(index + 1 for index in indexes)]))


def form_field(path: str, rows: dict[str, list[int]]) -> str | None:
    """The form field a scheme problem is about ("criteria[2] (P1).max" -> criterion-5-max)."""
    match = FIELD_PATH.match(path)
    if match:
        table, number, key = match.group(1), int(match.group(2)), match.group(3)
        if 0 < number <= len(rows[table]):
            return f"{TABLE_PREFIX[table]}-{rows[table][number - 1]}-{key}"
        return None
    return path if path in ("code", "name", "decimals", "rounding", "award_rounding",
                            "tie_break", "team_best_n") else None


def editor(event: Event | None, values: dict[str, str], errors: dict[str, str] | None = None,
           general: list[str] | None = None, status: int = 200) -> ResponseReturnValue:
    competitions = db.session.scalars(select(Competition).order_by(Competition.id)).all()
    locked = event is not None and operations.event_has_marks(event)
    options = [("", "—"), *((str(c.id), c.name) for c in competitions),
               ("new", _("New competition…"))]
    return render_template(
        "admin/scheme.html", event=event, values=values, errors=errors or {},
        general=general or [], competition_options=options, locked=locked,
        rows={"section": form_rows(values, "section", SECTION_ROWS) + 1,
              "criterion": form_rows(values, "criterion", CRITERION_ROWS) + 1,
              "award": form_rows(values, "award", AWARD_ROWS) + 1}), status


def competition_for(values: dict[str, str]) -> tuple[str | None, str | None]:
    """The competition chosen (by id) or named anew in the form: (name, problem)."""
    chosen = values.get("competition", "")
    if chosen == "new" or not chosen:
        name = values.get("new_competition", "").strip()
        if len(name) > 200:
            return None, _("longer than %(limit)s characters", limit=200)
        return (name, None) if name else (None, _("Choose a competition or name a new one."))
    number = parse_whole(chosen)
    competition = db.session.get(Competition, number) if number is not None else None
    return (competition.name, None) if competition else (None, _("Unknown competition."))


@bp.route("/events/new", methods=["GET", "POST"])
def new_event() -> ResponseReturnValue:
    organisers_only()
    if request.method == "GET":
        return editor(None, form_from_scheme(None))
    values = request.form.to_dict()
    if request.files.get("scheme_file"):
        return upload_scheme(None, values)
    competition, problem = competition_for(values)
    checked, errors, general = scheme_from_form(values)
    if problem:
        errors["competition"] = problem
    if checked is None or problem:
        return editor(None, values, errors, general, 422)
    return save_scheme(None, dataclasses.replace(checked, competition=competition), values)


def upload_scheme(event: Event | None, values: dict[str, str]) -> ResponseReturnValue:
    upload = request.files["scheme_file"]
    filename = upload.filename or "scheme.toml"
    try:
        text = upload.read(1_000_000).decode("utf-8-sig")
        checked = parse_scheme(text, filename)
    except UnicodeDecodeError:
        return editor(event, values, {}, [_("%(file)s is not UTF-8 text", file=filename)], 422)
    except InputError as error:
        return editor(event, values, {}, error.lines(), 422)
    if event is not None and checked.scheme.code != event.code:
        return editor(event, values, {}, [_(
            "%(file)s is the scheme of %(code)s, not of this event", file=filename,
            code=checked.scheme.code)], 422)
    if event is None:
        competition, problem = competition_for(values)
        if problem and not checked.competition:
            return editor(None, values, {"competition": problem}, [], 422)
        checked = dataclasses.replace(checked, competition=checked.competition or competition)
    return save_scheme(event, checked, values, filename)


def save_scheme(event: Event | None, checked: SchemeFile, values: dict[str, str],
                source: str = "form") -> ResponseReturnValue:
    existing = db.session.scalar(select(Event).where(Event.code == checked.scheme.code))
    if event is None and existing is not None:
        return editor(None, values, {"code": _("An event with this code already exists.")},
                      [], 422)
    try:
        saved, _created = event_operations.import_scheme(checked, current_user.username,
                                                         source, user=current_user)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        return editor(event, values, {}, error.lines(), 422)
    return redirect(url_for("admin.event_page", code=saved.code))


def result_neutral(scheme: rules.Scheme) -> rules.Scheme:
    """The scheme without what cannot change a result (names, the spread limit)."""
    return dataclasses.replace(
        scheme, name="",
        sections=tuple(dataclasses.replace(section, name="") for section in scheme.sections),
        criteria=tuple(dataclasses.replace(criterion, name="", max_spread=None)
                       for criterion in scheme.criteria))


@bp.route("/events/<code>/scheme", methods=["GET", "POST"])
def edit_scheme(code: str) -> ResponseReturnValue:
    event = console_event(code, "edit_scheme")
    if request.method == "GET":
        return editor(event, form_from_scheme(event))
    values = request.form.to_dict()
    if request.files.get("scheme_file"):
        return upload_scheme(event, values)
    values["code"] = event.code  # an event keeps its code (URLs and QR codes use it)
    values["competition"] = str(event.competition_id)
    checked, errors, general = scheme_from_form(values)
    if checked is None:
        return editor(event, values, errors, general, 422)
    if not operations.event_has_marks(event):
        return save_scheme(event, checked, values)
    if result_neutral(checked.scheme) != result_neutral(event.to_scheme()):
        return editor(event, values, {}, [_(
            "This event has marks: only names and the spread limit may still change.")], 409)
    try:
        event_operations.rename_scheme(event, checked.scheme, current_user.username,
                                       user=current_user)
    except InputError as error:
        db.session.rollback()
        return editor(event, values, {}, error.lines(), 409)
    db.session.commit()
    return redirect(url_for("admin.event_page", code=event.code))


# --- the event page and its lifecycle -----------------------------------------------------

@bp.get("/events/<code>")
def event_page(code: str) -> ResponseReturnValue:
    event = console_event(code)
    entries = db.session.scalars(select(Entry).where(Entry.event_id == event.id)).all()
    return render_template("admin/event.html", event=event, entries=entries,
                           problem=request.args.get("problem"))


@bp.post("/events/<code>/state")
def change_state(code: str) -> ResponseReturnValue:
    event = console_event(code)
    try:
        event_operations.change_state(event, request.form.get("action", ""),
                                current_user.username, user=current_user,
                                reason=request.form.get("reason", ""))
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        return redirect(url_for("admin.event_page", code=code, problem=error.problems[0].message))
    return redirect(url_for("admin.event_page", code=code))


@bp.post("/events/<code>/visibility")
def set_visibility(code: str) -> ResponseReturnValue:
    event = console_event(code, "visibility")
    try:
        event_operations.set_visibility(event, request.form.get("visibility", ""),
                                  current_user.username, user=current_user)
        db.session.commit()
    except InputError as error:
        db.session.rollback()
        return redirect(url_for("admin.event_page", code=code, problem=error.problems[0].message))
    return redirect(url_for("admin.event_page", code=code))


# --- the draw -----------------------------------------------------------------------------

@bp.route("/events/<code>/draw", methods=["GET", "POST"])
def draw(code: str) -> ResponseReturnValue:
    event = console_event(code)
    problem = None
    if request.method == "POST":
        seed_text = request.form.get("seed", "").strip()
        seed = parse_whole(seed_text, event_operations.MAX_SEED)
        try:
            if seed_text and seed is None:
                raise InputError(Problem(_("The seed is a whole number (or empty: random).")))
            event_operations.draw_lots(event, current_user.username, seed, user=current_user)
            db.session.commit()
            return redirect(url_for("admin.draw", code=code))
        except InputError as error:
            db.session.rollback()
            problem = error.problems[0].message
    record = db.session.scalars(select(AuditEvent).where(
        AuditEvent.event_id == event.id, AuditEvent.action == "draw")
        .order_by(AuditEvent.id.desc())).first()
    entries = sorted(event.entries, key=lambda entry: (entry.draw_order or 0, entry.bib))
    return render_template("admin/draw.html", event=event, record=record, entries=entries,
                           problem=problem), 200 if problem is None else 409


# --- progress -------------------------------------------------------------------------------

@bp.get("/events/<code>/progress")
def progress(code: str) -> ResponseReturnValue:
    event = console_event(code)
    by_criterion = event_progress(event)
    missing = [(code_, item.criterion, judge) for item in by_criterion
               for code_, judge in item.missing]
    return render_template("admin/progress.html", event=event, by_criterion=by_criterion,
                           missing=missing)


# --- the audit log -------------------------------------------------------------------------

@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    organisers_only()
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(500)
    event_code = request.args.get("event", "")
    username = request.args.get("user", "")
    contestant = request.args.get("contestant", "").strip()
    action = request.args.get("action", "")
    if event_code:
        query = query.join(Event, AuditEvent.event_id == Event.id).where(Event.code == event_code)
    if username:
        query = query.where(AuditEvent.actor == username)
    if action:
        query = query.where(AuditEvent.action == action)
    if contestant:
        entry_ids = select(Entry.id).join(Entry.contestant).where(
            (Entry.bib == contestant) | (Contestant.name == contestant))
        query = query.where(AuditEvent.entry_id.in_(entry_ids))
    return render_template(
        "admin/audit.html", records=db.session.scalars(query).all(),
        events=db.session.scalars(select(Event).order_by(Event.code)).all(),
        users=db.session.scalars(select(User.username).order_by(User.username)).all(),
        actions=db.session.scalars(select(AuditEvent.action).distinct()
                                   .order_by(AuditEvent.action)).all(),
        chosen={"event": event_code, "user": username, "contestant": contestant,
                "action": action})
