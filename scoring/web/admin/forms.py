"""The console's forms: what each field accepts (required, lengths, whole numbers, choices),
checked by WTForms. The competition's rules stay where they live (scoring.inputs, the scheme
checker, the operations): a form calls them and puts each problem beside its field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from werkzeug.datastructures import CombinedMultiDict
from wtforms import (
    BooleanField, FieldList, Form, FormField, SelectChoice, SelectField, SelectMultipleField,
    StringField, TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, ValidationError
from wtforms.utils import unset_value
from wtforms.widgets import HiddenInput

from ... import rules
from ...extensions import db
from ...files.scheme import check_scheme, parse_scheme
from ...inputs import SchemeFile, check_contestant, format_time, parse_time, text_problem
from ...labels import LABELS
from ...models import Competition, Event, User
from ...operations.accounts import check_password_text
from ...operations.events import MAX_SEED
from ...problems import FIELD_PATH, InputError, Problem, field_words

POSTED = object()  # a form reads what was posted unless told otherwise
MAX_UPLOAD = 5_000_000  # bytes of a registration sheet; a delegation's is far smaller
MAX_SCHEME_FILE = 1_000_000  # bytes of a scheme file read; a scheme is a few thousand
REASON_LIMIT = 500  # characters of a reason (a reopening, an absence)


# --- fields and validators ------------------------------------------------------------------

def first_text(valuelist: list[Any]) -> str:
    """The first value posted under a field's name that is text (a file posted under a text
    field's name is not a value), as request.form.get reads it."""
    return next((value for value in valuelist if isinstance(value, str)), "")


class Text(StringField):
    """A line of typed text, without the spaces around it."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = first_text(valuelist).strip()


class Typed(Text):
    """Text that the field reads as something else (a number, a time): the page shows it as
    typed, or the value the form was given as its data."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return  # not posted: the form's data (or the field's default) stands
        text, self.data = first_text(valuelist).strip(), None
        if text:
            self.data = self.parse(text)

    def parse(self, text: str) -> Any:
        raise NotImplementedError

    def show(self, value: Any) -> str:
        return str(value)

    def _value(self) -> str:
        if self.raw_data:
            return first_text(self.raw_data)
        return "" if self.data is None else self.show(self.data)


class HiddenText(Text):
    widget = HiddenInput()


class Select(SelectField):
    """A select whose options are only what the page offers: whether a value is allowed is
    said by a validator in its own words, or by the rule that owns it."""

    def __init__(self, *args: Any, choices: Iterable[tuple[str, Any]] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, validate_choice=False, **kwargs)
        self.offer(choices)

    def offer(self, choices: Iterable[tuple[str, Any]]) -> None:
        """The options: (value, the label people see)."""
        self.choices = [SelectChoice(value, label) for value, label in choices]

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = first_text(valuelist)


class Number(Typed):
    """A number typed as a plain decimal numeral ("40", "0.5"; never "1e3", "NaN" or "４０"),
    or nothing: a Decimal (an int when `whole`) or None."""

    def __init__(self, *args: Any, whole: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.whole = whole

    def parse(self, text: str) -> Decimal | int:
        try:
            value = rules.parse_decimal(text)
        except ValueError:
            raise ValueError(_("“%(value)s” is not a number", value=text)) from None
        if not self.whole:
            return value
        if value != value.to_integral_value():
            raise ValueError(_("must be a whole number"))
        return int(value)


class Seed(Typed):
    """A draw's seed: a whole number 0..MAX_SEED in ASCII digits, or nothing (random)."""

    def parse(self, text: str) -> int:
        seed = rules.parse_whole(text, MAX_SEED)
        if seed is None:
            raise ValueError(_("The seed is a whole number (or empty: random)."))
        return seed


class TimeUsed(Typed):
    """Time used, typed as seconds, mm:ss or h:mm:ss (inputs.parse_time): seconds or None."""

    def parse(self, text: str) -> int:
        try:
            return parse_time(text)
        except ValueError:
            raise ValueError(_("“%(value)s” is not a time (seconds, mm:ss or h:mm:ss)",
                               value=text)) from None

    def show(self, value: Any) -> str:
        return format_time(value)


class Plain:
    """Text a person typed, as scoring.inputs.text_problem allows it: at most `limit`
    characters, no control, bidirectional or zero-width characters (a reason may keep its
    line breaks)."""

    def __init__(self, limit: int, lines: bool = False) -> None:
        self.limit, self.lines = limit, lines

    def __call__(self, form: Form, field: Text) -> None:
        problem = text_problem(field.data or "", self.limit, lines=self.lines)
        if problem:
            raise ValidationError(problem)


# --- the forms' common ground -----------------------------------------------------------------

def posted() -> Any:
    """What a console form reads: the posted fields (and files), never a JSON body."""
    if request.method != "POST":
        return None
    return CombinedMultiDict((request.form, request.files)) if request.files else request.form


class ConsoleForm(FlaskForm):
    """A console form. Its CSRF token is checked by Flask-WTF (for every post of the app);
    `problems` are those that concern no one field, shown above the form."""

    def __init__(self, formdata: Any = POSTED, **kwargs: Any) -> None:
        super().__init__(formdata=posted() if formdata is POSTED else formdata, **kwargs)
        self.problems: list[str] = []

    def refuse(self, error: InputError, fields: dict[str, str] | None = None,
               default: str | None = None) -> None:
        """Put the problems of a refused operation beside their fields: `fields` maps the
        operation's names (NAME, --role) to the form's; the others go to `default`, or above
        the form."""
        for problem in error.problems:
            name = (fields or {}).get(problem.field or "", problem.field) or default
            if name in self and self.visible(name):
                self[name].errors = [*self[name].errors, problem.message]
            elif default:
                self[default].errors = [*self[default].errors, problem.message]
            else:
                self.problems.append(str(Problem(problem.message, problem.file, problem.row,
                                                 problem.column)))

    def visible(self, name: str | None) -> bool:
        return name in self and not isinstance(self[name].widget, HiddenInput)

    def first_problem(self) -> tuple[str | None, str]:
        """(the field, the message) of the first problem: what a page that was sent back
        to after a refused post shows (?problem=...&field=...)."""
        for field in self:
            if field.errors and self.visible(field.name):
                return field.name, str(field.errors[0])
        problems = [*self.problems, *(str(message) for field in self for message in field.errors)]
        return None, problems[0] if problems else ""

    def show(self, field: str | None, problem: str | None) -> bool:
        """Show the problem a refused post was sent back with beside its field, if it is one
        of this form's; whether it is."""
        if not problem or not self.visible(field):
            return False
        self[field].errors = [problem]  # type: ignore[index]
        return True


class EmptyForm(ConsoleForm):
    """A button: nothing to type, the CSRF token only (reset a password, revoke cards,
    print cards)."""


# --- competitions and events ---------------------------------------------------------------

class CompetitionForm(ConsoleForm):
    name = Text(_l("New competition"), render_kw={"maxlength": 200}, validators=[
        DataRequired(_l("A competition needs a name.")), Plain(200)])


STALE_PAGE = _l("Nothing was done: this page is out of date. Look at it again.")
CONFIRMED_STEPS = ("open", "lock", "provisional", "publish")  # each asks for a tick first


class StateForm(ConsoleForm):
    """Open, lock, publish or reopen: the operation says which may be done now, and that a
    reopening needs its reason. Open, lock and publish cannot be taken back by a click, and
    their buttons take each other's place: each asks for a tick, and carries the state the
    page showed (`from_state`), so that a second post of the same page (a double click) is
    refused rather than taking the next step."""
    action = HiddenText()
    from_state = HiddenText()
    confirm = BooleanField(_l("I confirm"))
    reason = Text(_l("Reopen scoring (reason, kept in the audit log)"),
                  render_kw={"maxlength": REASON_LIMIT},
                  validators=[Plain(REASON_LIMIT, lines=True)])

    def validate_confirm(self, field: BooleanField) -> None:
        if self.action.data in CONFIRMED_STEPS:
            DataRequired(_l("Tick the box to confirm: this step cannot be undone by a click."))(
                self, field)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.action.data in CONFIRMED_STEPS and not self.from_state.data:
            self.confirm.errors = [*self.confirm.errors, STALE_PAGE]  # no page's post
            return False
        return valid

    def expected_state(self) -> str | None:
        """The state the page showed (a reopening's form may leave it out)."""
        return self.from_state.data or None


class AppealForm(ConsoleForm):
    """A written appeal as received by the organisers (申诉): who lodged it, about which
    contestant and criteria, what it says."""
    bib = Text(_l("Contestant (bib)"), render_kw={"maxlength": 20, "autocomplete": "off"},
               validators=[DataRequired(_l("Which contestant is the appeal about?"))])
    criteria = SelectMultipleField(_l("Criteria appealed"), validate_choice=False)
    delegation = Text(_l("Lodged by (delegation; empty: the contestant's)"),
                      render_kw={"maxlength": 100}, validators=[Plain(100)])
    text = Text(_l("What the appeal says"), render_kw={"maxlength": 4000, "rows": 4},
                validators=[DataRequired(_l("Write what the appeal says.")),
                            Plain(4000, lines=True)])


RULING_CHOICES = (("dismissed", _l("Dismiss the appeal")), ("recheck", _l("Order a re-check")),
                  ("final", _l("Record the final ruling after the re-check")))


class RulingForm(ConsoleForm):
    """The arbiters' ruling on an appeal, with its reason; carries the appeal's status the
    page showed, so that a second post is refused rather than ruling twice."""
    ruling = Select(_l("Ruling"), choices=RULING_CHOICES,
        validators=[AnyOf(("dismissed", "recheck", "final"), message=_l("Choose a ruling."))])
    reason = Text(_l("Reason (kept in the appeal's file)"), render_kw={"maxlength": 2000},
                  validators=[DataRequired(_l("A ruling needs a reason.")),
                              Plain(2000, lines=True)])
    seen = HiddenText(validators=[DataRequired(STALE_PAGE)])


class LockForm(ConsoleForm):
    """The chief judge's lock: a tick, and the state the page showed (see StateForm)."""
    from_state = HiddenText(validators=[DataRequired(STALE_PAGE)])
    confirm = BooleanField(_l("Lock scoring: judges can no longer change a mark"),
                           validators=[DataRequired(_l(
                               "Tick the box to confirm: this step cannot be undone by a click."))])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.from_state.errors:  # shown beside the tick: a hidden field has no place
            self.confirm.errors = [*self.confirm.errors, *self.from_state.errors]
        return valid


class SignForm(ConsoleForm):
    """A judge's sign-off: after it only the chief judge changes a mark, so a tick first."""
    confirm = BooleanField(_l("I have checked every mark; after signing only the chief judge "
                              "can change one"),
                           validators=[DataRequired(_l(
                               "Tick the box to confirm that you have checked every mark."))])


class VisibilityForm(ConsoleForm):
    visibility = Select(_l("Public board"), choices=list(LABELS["visibility"].items()))

    def offer(self, event: Event) -> VisibilityForm:
        """The choices for this event: "published" only once it is (publishing is the
        lifecycle's step, with its tick)."""
        self.visibility.choices = [(value, text) for value, text in LABELS["visibility"].items()
                                   if value != "published" or event.state == "published"]
        return self


class DrawForm(ConsoleForm):
    """The draw. Drawing again replaces the draw and every blind code, so once lots are
    drawn it asks for a tick, and carries the draw the page showed (`drawn`: its record's
    id, 0 for none): a second post of the same page is refused."""
    seed = Seed(_l("Seed (empty: random)"))
    drawn = HiddenText()
    confirm = BooleanField(_l("Draw again: this replaces the draw and every blind code"))

    def seen(self) -> int:
        text = (self.drawn.data or "").strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else -1


# --- the scheme ---------------------------------------------------------------------------------

SECTION_ROWS, CRITERION_ROWS, AWARD_ROWS = 4, 10, 4  # rows shown of each table, at least
TIE_BREAKS = 3  # the tie-break keys the form offers to choose, in order
MAX_ROWS = 60  # rows of a table in the scheme form; more is not a scheme but an attack
TOP_FIELDS = ("code", "name", "decimals", "rounding", "award_rounding", "tie_break",
              "team_best_n", "appeal_hours")
TABLES = {"sections": "section", "criteria": "criterion", "awards": "award"}


class Row(Form):
    """One row of a table of the scheme form (criterion-0-code, criterion-0-max...)."""

    def blank(self) -> bool:
        """An empty row of the form (its selects always hold a value): ignored."""
        return not any(field._value().strip() for name, field in self._fields.items()
                       if not isinstance(field, Select))

    def values(self) -> dict[str, Any]:
        """The row as a table of a scheme file: what was typed, numbers as numbers."""
        return {name: field.data for name, field in self._fields.items()
                if field.data is not None and field.data != ""}


class SectionRow(Row):
    code = Text(_l("Code"))
    name = Text(_l("Title"))


class CriterionRow(Row):
    code = Text(_l("Code"))
    name = Text(_l("Title"))
    section = Select(_l("Section"))  # offered: the sections above (SchemeForm.offer_choices)
    max = Number(_l("Max"), render_kw={"inputmode": "decimal"})
    step = Number(_l("Step"), render_kw={"inputmode": "decimal"})
    weight = Text(_l("Weight"))  # "0.3" or an exact fraction "7/30": the checker reads it
    judges = Number(_l("Judges"), whole=True, render_kw={"inputmode": "decimal"})
    aggregate = Select(_l("Rule"), choices=[
        ("mean", _l("mean")), ("trimmed", _l("trimmed mean")), ("median", _l("median"))])
    kind = Select(_l("Kind"), choices=[("score", _l("score")), ("penalty", _l("deduction")),
                                        ("judgement", _l("judgement (level 0-3)")),
                                        ("measurement", _l("measurement"))])
    max_spread = Number(_l("Max spread"), render_kw={"inputmode": "decimal"})
    blind = Select(_l("Blind"), choices=[("yes", _l("blind (decoded later)")),
                                         ("no", _l("open (shown at once)"))])
    # judgement: the four descriptors; measurement: unit, range and bands (files.scheme
    # reads these texts as it reads the lists of a scheme file)
    levels = Text(_l("Levels 0|1|2|3"))
    unit = Text(_l("Unit"))
    range = Text(_l("Range (e.g. 0~10)"))
    bands = Text(_l("Bands (e.g. 0~2.0: 4, 0~3.0: 2)"))

    def values(self) -> dict[str, Any]:
        found = super().values()
        found["blind"] = found.get("blind") != "no"
        return found


class AwardRow(Row):
    name = Text(_l("Title"))
    share = Text(_l("Share (e.g. 0.1)"))  # exact, like a weight
    count = Number(_l("or count"), whole=True, render_kw={"inputmode": "numeric"})
    min_total = Number(_l("Minimum total"), render_kw={"inputmode": "decimal"})


class Rows(FieldList):
    """The rows of one table: those posted, at most MAX_ROWS, renumbered from 0; the page
    adds empty ones to fill in (`add_blank`)."""

    def __init__(self, row: type[Row], minimum: int, **kwargs: Any) -> None:
        super().__init__(FormField(row), max_entries=MAX_ROWS + 1, **kwargs)
        self.minimum = minimum
        self.problems: list[str] = []  # about the whole table ("the shares add up to 110 %")

    def _extract_indices(self, prefix: str, formdata: Any) -> Any:
        return row_indices(prefix, formdata)

    def add_blank(self) -> None:
        while len(self.entries) < self.minimum:
            self.append_entry()
        if len(self.entries) <= MAX_ROWS:
            self.append_entry()


def row_indices(prefix: str, formdata: Any) -> Iterable[int]:
    """The row numbers posted under `prefix` ("criterion-3-max"): only those written in one
    to three ASCII digits and below MAX_ROWS (WTForms would int() "criterion-²-code", a
    crash, or a thousand-digit index)."""
    pattern = re.compile(re.escape(prefix) + r"-([0-9]{1,3})(?:-|$)")
    for key in formdata:
        match = pattern.match(key)
        if match and int(match.group(1)) < MAX_ROWS:
            yield int(match.group(1))


class Choices(FieldList):
    """A fixed number of selects in order (the tie-break keys). Not posted at all (shown
    disabled), they keep the form's data, as the other fields do."""

    def __init__(self, select: Select, count: int, **kwargs: Any) -> None:
        super().__init__(select, min_entries=count, max_entries=count, **kwargs)

    def _extract_indices(self, prefix: str, formdata: Any) -> Any:
        return row_indices(prefix, formdata)

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        if formdata is not None and next(iter(row_indices(self.name, formdata)), None) is None:
            formdata = None
        super().process(formdata, data, extra_filters)


class SchemeForm(ConsoleForm):
    """The scheme editor: a scheme file's fields as a form, checked by files.scheme's
    check_scheme, whose problems go back to the field they are about."""

    code = Text(_l("Code (letters, digits, - and _)"))
    name = Text(_l("Title"))
    decimals = Number(_l("Decimal places"), whole=True, default=2,
                      render_kw={"inputmode": "decimal"})
    rounding = Select(_l("Rounding"), default="stage", choices=[
        ("stage", _l("each criterion, then the total")), ("end", _l("the total only"))])
    award_rounding = Select(_l("Award places"), default="half_up", choices=[
        ("half_up", _l("rounded half up")), ("floor", _l("rounded down"))])
    # Up to three keys, chosen by name from what the scheme has (SchemeForm.offer_choices).
    tie_break = Choices(Select(_l("Tie-break keys")), TIE_BREAKS)
    team_best_n = Number(_l("Team: best N members (empty: all)"), whole=True,
                         render_kw={"inputmode": "decimal"})
    appeal_hours = Number(_l("Appeal window (hours after the provisional publication)"),
                          whole=True, default=2, render_kw={"inputmode": "decimal"})
    section = Rows(SectionRow, SECTION_ROWS)
    criterion = Rows(CriterionRow, CRITERION_ROWS)
    award = Rows(AwardRow, AWARD_ROWS)

    def __init__(self, formdata: Any = POSTED, event: Event | None = None,
                 **kwargs: Any) -> None:
        # An event's fields that the page shows disabled are not posted: they keep the
        # event's values (the form's data); an event keeps its code (URLs and QR codes).
        if event is not None:
            kwargs.setdefault("data", scheme_data(event))
        super().__init__(formdata, **kwargs)
        self.event = event
        if event is not None:
            self.code.data = event.code
        self.checked: SchemeFile | None = None

    def add_blank_rows(self) -> None:
        for rows in (self.section, self.criterion, self.award):
            rows.add_blank()
        self.offer_choices()

    def offer_choices(self) -> None:
        """The criteria's section and the tie-break keys are chosen by name from the sections
        and criteria the form holds (static/js/scheme.js offers rows typed since, at once); a
        value not among them (a section since deleted) stays offered, so nothing is lost."""
        sections = [(row.form.code.data, row.form.name.data) for row in self.section
                    if row.form.code.data]
        criteria = [(row.form.code.data, row.form.name.data) for row in self.criterion
                    if row.form.code.data]
        section_choices = [("", "—"), *((code, f"{name} ({code})" if name and name != code
                                         else code) for code, name in sections)]
        for row in self.criterion:
            row.form.section.offer(kept(section_choices, row.form.section.data))
        keys = [("", "—"), ("time", _("time used (less first)")),
                *((f"section:{code}", _("section: %(name)s", name=name or code))
                  for code, name in sections),
                *((f"criterion:{code}", _("criterion: %(code)s %(name)s", code=code,
                                           name=name or "")) for code, name in criteria)]
        for select_ in self.tie_break:
            select_.offer(kept(keys, select_.data))

    def marked(self) -> bool:
        """Whether a field or a table has a problem to show."""
        return any(field.errors for field in self.fields()) \
            or any(rows.problems for rows in (self.section, self.criterion, self.award))

    def marked_places(self) -> list[str]:
        """Where the tables' marked fields are, in words ("criterion 3 (M1), bands"): the
        criteria table is wider than the screen, so a mark may be out of sight."""
        places = []
        for prefix, table in (("section", "sections"), ("criterion", "criteria"),
                              ("award", "awards")):
            for number, row in enumerate(self[prefix], 1):
                code = row.form.code.data if "code" in row.form._fields else None
                where = f"{table}[{number}]" + (f" ({code})" if code else "")
                places.extend(field_words(f"{where}.{sub.short_name}")
                              for sub in row.form if sub.errors)
        return places

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        typed_wrong = {id(field) for field in self.fields() if field.errors}
        rows = {table: [row for row in self[prefix] if not row.form.blank()]
                for table, prefix in TABLES.items()}
        data: dict[str, Any] = {
            "code": self.code.data or None, "name": self.name.data or None,
            "decimals": self.decimals.data, "team_best_n": self.team_best_n.data,
            "appeal_hours": self.appeal_hours.data,
            "rounding": self.rounding.data, "award_rounding": self.award_rounding.data,
            "tie_break": [key for key in self.tie_break.data if key],
            **{table: [row.form.values() for row in rows[table]] for table in TABLES}}
        try:
            self.checked = check_scheme({key: value for key, value in data.items()
                                         if value is not None})
        except InputError as error:
            for problem in error.problems:
                self.place(problem, rows, typed_wrong)
            return False
        return valid

    def fields(self) -> list[Any]:
        """Every field of the form, those of the tables' rows included."""
        found = []
        for field in self:
            if isinstance(field, Rows):
                found.extend(sub for row in field for sub in row.form)
            else:
                found.append(field)
        return found

    def place(self, problem: Problem, rows: dict[str, list[Any]], typed_wrong: set[int]) -> None:
        """A problem of check_scheme, beside the field it is about ("criteria[2] (P1).max" ->
        criterion-5-max when the second filled row is the sixth), or above the form."""
        path = problem.field or ""
        target = None
        match = FIELD_PATH.match(path)
        if match and match.group(4):
            table, number, key = match.group(1), int(match.group(2)), match.group(4)
            if 0 < number <= len(rows[table]) and key in rows[table][number - 1].form:
                target = rows[table][number - 1].form[key]
        elif path in TABLES:
            self[TABLES[path]].problems.append(problem.message)
            return
        elif path == "tie_break":
            target = self.tie_break[0]
        elif path in TOP_FIELDS:
            target = self[path]
        if target is None:  # above the form, the place said in words, never as a path
            self.problems.append(_("%(where)s: %(message)s", where=field_words(path),
                                   message=problem.message) if path else problem.message)
        elif id(target) not in typed_wrong:  # "is required" after "is not a number": once
            target.errors = [*target.errors, problem.message]


def scheme_data(event: Event) -> dict[str, Any]:
    """An event's scheme as the scheme form's data."""
    return {
        "code": event.code, "name": event.name, "decimals": event.decimals,
        "rounding": event.rounding, "award_rounding": event.award_rounding,
        "tie_break": [*event.tie_break, *[""] * (TIE_BREAKS - len(event.tie_break))],
        "team_best_n": event.team_best_n, "appeal_hours": event.appeal_hours,
        "section": [{"code": section.code, "name": section.name}
                    for section in event.sections],
        "criterion": [{"code": criterion.code, "name": criterion.name,
                       "section": criterion.section.code if criterion.section else "",
                       "max": criterion.max_value, "step": criterion.step,
                       "weight": criterion.weight, "judges": criterion.judges,
                       "aggregate": criterion.aggregate, "kind": criterion.kind,
                       "max_spread": criterion.max_spread,
                       "blind": "yes" if criterion.blind else "no",
                       "levels": " | ".join(criterion.levels), "unit": criterion.unit or "",
                       "range": "" if criterion.range_min is None
                       else f"{criterion.range_min}~{criterion.range_max}",
                       "bands": ", ".join(f"{band.min}~{band.max}: {band.mark}"
                                          for band in criterion.bands)}
                      for criterion in event.criteria],
        "award": [{"name": tier.name, "share": tier.share, "count": tier.count,
                   "min_total": tier.min_total} for tier in event.awards],
    }


def kept(choices: list[tuple[str, str]], value: str | None) -> list[tuple[str, str]]:
    """The choices, and the value chosen when it is not among them (shown as it is)."""
    if value and value not in {choice for choice, _label in choices}:
        return [*choices, (value, value)]
    return choices


class CompetitionChoice:
    """The competition of a new event: one there is already, or a new one by name."""

    competition = Select(_l("Competition"))
    new_competition = Text(_l("New competition name"), validators=[Plain(200)])

    def offer_competitions(self) -> None:
        self.known = {str(competition.id): competition.name for competition in
                      db.session.scalars(select(Competition).order_by(Competition.id))}
        self.competition.offer([("", "—"), *self.known.items(),  # type: ignore[attr-defined]
                                ("new", _l("New competition…"))])
        if len(self.known) == 1 and not self.competition.data:  # type: ignore[attr-defined]
            # One competition: the new event is most likely its; chosen already.
            self.competition.data = next(iter(self.known))  # type: ignore[attr-defined]

    def competition_problem(self) -> str | None:
        chosen = self.competition.data or ""  # type: ignore[attr-defined]
        if chosen in ("", "new"):
            return None if self.new_competition.data else _(  # type: ignore[attr-defined]
                "Choose a competition or name a new one.")
        return None if chosen in self.known else _("Unknown competition.")

    def competition_name(self) -> str | None:
        return self.known.get(self.competition.data or "") \
            or self.new_competition.data or None  # type: ignore[attr-defined]


def code_taken(code: str) -> bool:
    return db.session.scalar(select(Event.id).where(Event.code == code)) is not None


class NewEventForm(CompetitionChoice, SchemeForm):
    """The scheme editor of a new event: its competition, and a code not taken."""

    def __init__(self, formdata: Any = POSTED, **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.offer_competitions()

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        problem = self.competition_problem()
        if problem:
            self.competition.errors = [*self.competition.errors, problem]
        if self.checked is not None and code_taken(self.checked.scheme.code):
            self.code.errors = [*self.code.errors, _("An event with this code already exists.")]
            valid = False
        return valid and not problem


class SchemeUploadForm(ConsoleForm):
    """A scheme file (TOML) instead of the form, checked by files.scheme's parse_scheme."""

    scheme_file = FileField(_l("Or upload a scheme file (TOML)"),
                            validators=[FileRequired(_l("Choose a scheme file (TOML)."))])

    def __init__(self, formdata: Any = POSTED, event: Event | None = None,
                 **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.event = event
        self.checked: SchemeFile | None = None
        self.filename = "scheme.toml"

    def validate_scheme_file(self, field: FileField) -> None:
        self.filename = field.data.filename or "scheme.toml"
        try:
            text = field.data.read(MAX_SCHEME_FILE).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("%(file)s is not UTF-8 text", file=self.filename)) from None
        try:
            self.checked = parse_scheme(text, self.filename)
        except InputError as error:
            field.errors.extend(error.lines())
            return
        if self.event is not None and self.checked.scheme.code != self.event.code:
            raise ValidationError(_("%(file)s is the scheme of %(code)s, not of this event",
                                    file=self.filename, code=self.checked.scheme.code))

    def validate(self, extra_validators: Any = None) -> bool:
        return super().validate(extra_validators) and self.checked is not None


class NewEventUploadForm(CompetitionChoice, SchemeUploadForm):
    """A new event's scheme file: its competition is the file's, or the one chosen here."""

    competition = Select(_l("Competition (if the file names none)"))

    def __init__(self, formdata: Any = POSTED, **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.offer_competitions()

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        assert self.checked is not None
        problem = None if self.checked.competition else self.competition_problem()
        if problem:
            self.competition.errors = [*self.competition.errors, problem]
        if code_taken(self.checked.scheme.code):
            self.scheme_file.errors = [*self.scheme_file.errors,
                                       _("An event with this code already exists.")]
        return not problem and not self.scheme_file.errors


# --- contestants -------------------------------------------------------------------------------

class ContestantsUploadForm(ConsoleForm):
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a .xlsx or .csv file."))])

    def validate_file(self, field: FileField) -> None:
        self.content = field.data.read(MAX_UPLOAD + 1)
        if len(self.content) > MAX_UPLOAD:
            raise ValidationError(_("The file is larger than 5 MB."))


class FileImportForm(ConsoleForm):
    """A marks or statuses file, imported at once (all rows or none), with a tick: marks
    already there are replaced (their history is kept)."""
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a .xlsx or .csv file."))])
    confirm = BooleanField(_l("Marks or statuses already there are replaced (the old values "
                              "stay in the history)"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])

    def validate_file(self, field: FileField) -> None:
        self.content = field.data.read(MAX_UPLOAD + 1)
        if len(self.content) > MAX_UPLOAD:
            raise ValidationError(_("The file is larger than 5 MB."))


class ImportForm(ConsoleForm):
    """The previewed file, handed back signed (see contestants.signer)."""
    payload = HiddenText(validators=[DataRequired()])


CONTESTANT_FIELDS = ("name", "gender", "id_number", "unit", "delegation", "phone")


class EntryForm(ConsoleForm):
    """One contestant's details (inputs.check_contestant), status and time used."""

    name = Text(_l("Name"))
    gender = Select(_l("Gender"), choices=[("", "—"), ("M", "男"), ("F", "女")])
    id_number = Text(_l("ID number"))
    phone = Text(_l("Mobile number"))
    unit = Text(_l("Work unit"))
    delegation = Text(_l("Delegation"))
    status = Select(_l("Status"), choices=list(LABELS["status"].items()),
                    validators=[AnyOf(rules.STATUSES, message=_l("Choose a status."))])
    status_reason = Text(_l("Reason (for absence or disqualification)"),
                         validators=[Plain(REASON_LIMIT, lines=True)])
    time = TimeUsed(_l("Time used (h:mm:ss)"))

    def __init__(self, formdata: Any = POSTED, bib: str = "", **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.bib = bib  # the entry's identity on every sheet: not edited here
        self.clean: dict[str, str | None] = {}

    def validate_status_reason(self, field: Text) -> None:
        if self.status.data in ("absent", "dq") and not field.data:
            raise ValidationError(_("Absence and disqualification need a reason."))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        self.clean, problems = check_contestant(
            {"bib": self.bib, **{key: self[key].data or "" for key in CONTESTANT_FIELDS}})
        for key, message in problems.items():
            if key in CONTESTANT_FIELDS:
                self[key].errors = [*self[key].errors, message]
            else:
                self.problems.append(message)
        return valid and not problems


# --- accounts, judges' criteria, the chief judge --------------------------------------------

# The names accounts.create_user gives its problems (those of the command line's options).
ACCOUNT_FIELDS = {"NAME": "username", "--role": "role", "--password": "password",
                  "--display-name": "display_name", "--delegation": "delegation"}


ROLE_ORDER = ("judge", "chief", "organiser", "arbiter")  # as offered: most made first


class AccountForm(ConsoleForm):
    """A new account: accounts.create_user checks the name, the role, the texts and that a
    password has 8 characters, and says every problem at once."""

    username = Text(_l("Account"))
    display_name = Text(_l("Name people see"))
    role = Select(_l("Role"), choices=[(code, LABELS["role"][code]) for code in ROLE_ORDER])
    delegation = Text(_l("Own delegation (conflict of interest)"))
    password = Text(_l("Password (empty: generated)"))

    def validate_password(self, field: Text) -> None:
        # What create_user does not check: the most a password may be. (Too short, it says
        # itself, with the account's other problems.)
        if len(field.data or "") >= 8:
            try:
                check_password_text(field.data)
            except InputError as error:
                raise ValidationError(error.problems[0].message) from None


class AccountsForm(ConsoleForm):
    """Several accounts at once, pasted from a spreadsheet (accounts.create_users reads and
    checks the lines, and names the line of each problem)."""

    accounts = TextAreaField(_l("Several accounts at once: one per line"), description=_l(
        "account, name, own delegation (name and delegation may be left out); cells copied "
        "from Excel or WPS, or separated by commas. Passwords are generated."),
        render_kw={"rows": 6, "spellcheck": "false", "autocomplete": "off",
                   "placeholder": "j1\t张建国\t山东代表队"})
    role = Select(_l("Role"), choices=[(code, LABELS["role"][code]) for code in ROLE_ORDER],
                  default="judge")

    def validate_accounts(self, field: TextAreaField) -> None:
        text = first_text(field.raw_data or [])
        if len(text) > 20_000:
            raise ValidationError(_("longer than %(limit)s characters", limit=20_000))
        field.data = text


class ActiveForm(ConsoleForm):
    """Disable an account ("0") or enable it again ("1")."""
    active = HiddenText(validators=[AnyOf(("0", "1"), message=_l("Unknown action."))])


class AssignmentsForm(ConsoleForm):
    """The grid of checkboxes: "{judge id}:{criterion code}" for each criterion a judge
    marks. A pair of a judge or criterion no longer there is ignored."""
    assign = SelectMultipleField(validate_choice=False)

    def codes_of(self, judge: User, codes: set[str]) -> set[str]:
        chosen = {value for value in self.assign.data or () if isinstance(value, str)}
        return {code for code in codes if f"{judge.id}:{code}" in chosen}


class DecodeForm(ConsoleForm):
    """Decode one blind criterion (解密): cannot be undone, so it asks for a tick first."""
    criterion = HiddenText()
    confirm = BooleanField(_l("I have checked the marks: decode, which cannot be undone"),
                           validators=[DataRequired(_l(
                               "Tick the box to confirm: decoding cannot be undone."))])


class SpreadForm(ConsoleForm):
    """The chief judge confirms one entry's judgement levels that are further apart than the
    criterion allows (the entry named by its blind code), with a reason."""
    criterion = HiddenText()
    code = HiddenText()
    levels = HiddenText()  # the levels the page showed: others (changed since) are refused
    reason = Text(_l("Reason (kept in the audit log)"))


class RecodeForm(ConsoleForm):
    """New blind codes (two-stage coding): the printed code list becomes void, so it asks for a
    tick first. `generation` is the codes' record the page showed: a second click of the same
    page is refused rather than making a second list."""
    generation = HiddenText()
    confirm = BooleanField(_l("The printed code list becomes void: make new blind codes"),
                           validators=[DataRequired(_l(
                               "Tick the box to confirm: the printed code list becomes void."))])

    def seen(self) -> int:
        """The record the page showed; a post without one (forged, or from no page) can
        match no record, so it is refused like a second click (-1)."""
        text = (self.generation.data or "").strip()
        return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else -1


class ChiefForm(ConsoleForm):
    chief = Select(_l("Appoint (before scoring opens)"))

    def offer(self, candidates: list[User]) -> ChiefForm:
        self.chief.offer((user.username, f"{user.display_name or user.username} ({user.username})")
                         for user in candidates)
        return self

    def validate_chief(self, field: Select) -> None:
        name = field.data or ""
        self.account = None if not name or text_problem(name, 80) else db.session.scalar(
            select(User).where(User.username == name))
        if self.account is None:
            raise ValidationError(_("Choose a chief judge's account."))


class ArbiterForm(ConsoleForm):
    arbiter = Select(_l("Add to the arbitration group"))

    def offer(self, candidates: list[User]) -> ArbiterForm:
        self.arbiter.offer((user.username,
                            f"{user.display_name or user.username} ({user.username})")
                           for user in candidates)
        return self

    def validate_arbiter(self, field: Select) -> None:
        name = field.data or ""
        self.account = None if not name or text_problem(name, 80) else db.session.scalar(
            select(User).where(User.username == name))
        if self.account is None:
            raise ValidationError(_("Choose an arbiter's account."))


# --- the audit log's filters (a GET form: nothing is written, no token) ------------------------

class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    event = Select(_l("Event"))
    user = Select(_l("By"))
    contestant = Text(_l("Contestant (bib or name)"))
    action = Select(_l("Action"))

    def __init__(self, events: list[Event], users: list[str], actions: list[str]) -> None:
        super().__init__(formdata=request.args)
        self.event.offer([("", "—"), *((event.code, f"{event.code} {event.name}")
                                        for event in events)])
        self.user.offer([("", "—"), *((user, user) for user in users)])
        self.action.offer([("", "—"), *((action, action) for action in actions)])
