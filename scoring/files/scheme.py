"""Reading and checking a scheme file (FORMATS.md): TOML in, a rules.Scheme out, or problems."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _

from .. import rules
from ..inputs import SchemeFile, text_problem
from ..problems import InputError, Problem

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_PLACES = 4  # marks are stored with four decimal places

TOP_KEYS = {"code", "name", "competition", "decimals", "rounding", "award_rounding",
            "tie_break", "team_best_n", "appeal_hours", "sections", "criteria", "awards"}
SECTION_KEYS = {"code", "name"}
CRITERION_KEYS = {"code", "name", "section", "max", "step", "weight", "judges", "aggregate",
                  "kind", "max_spread", "blind", "levels", "bands", "range", "unit"}
BAND_KEYS = {"min", "max", "mark"}
LEVEL_COUNT = len(rules.LEVELS)
# A range or band as the scheme form takes it: "0~2.0" (also 0-2.0, 0–2.0, 0..2.0, 0～2.0)
SPAN = re.compile(r"^\s*(-?[0-9.]+)\s*(?:~|～|–|-|\.\.|到)\s*(-?[0-9.]+)\s*$")
# a band in the form: "0~2.0: 4" or "0~2.0 = 4" or "0~2.0 → 4"
BAND_TEXT = re.compile(r"^(.*?)\s*(?::|：|=|→|->)\s*([0-9.]+)\s*$")
AWARD_KEYS = {"name", "share", "count", "min_total"}
# Section and criterion codes become results columns beside these.
RESERVED_CODES = {"rank", "bib", "name", "delegation", "unit", "status", "time", "total",
                  "award", "complete"}


class _Checker:
    def __init__(self, filename: str | None) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def problem(self, field: str, message: str) -> None:
        self.problems.append(Problem(message, file=self.filename, field=field))

    def unknown_keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                self.problem(f"{where}{key}", _("unknown key (allowed: %(keys)s)",
                                                keys=", ".join(sorted(allowed))))

    def text(self, table: dict[str, Any], key: str, where: str, required: bool = True,
             pattern: re.Pattern[str] | None = None, limit: int = 200) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(f"{where}{key}", _("is required"))
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{where}{key}", _("must be a non-empty text"))
            return None
        value = value.strip()
        problem = text_problem(value, limit)
        if problem:
            self.problem(f"{where}{key}", problem)
            return None
        if pattern is not None and not pattern.match(value):
            self.problem(f"{where}{key}", _(
                "“%(value)s” may hold only letters, digits, - and _ (at most 40)", value=value))
            return None
        return value

    def choice(self, table: dict[str, Any], key: str, where: str, choices: tuple[str, ...],
               default: str) -> str:
        value = table.get(key, default)
        if value not in choices:
            self.problem(f"{where}{key}", _("“%(value)s” is not one of %(choices)s",
                                            value=value, choices=", ".join(choices)))
            return default
        return value

    def integer(self, table: dict[str, Any], key: str, where: str, low: int, high: int,
                default: int | None) -> int | None:
        value = table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(f"{where}{key}", _("must be a whole number from %(low)s to %(high)s",
                                            low=low, high=high))
            return default
        return value

    def decimal(self, table: dict[str, Any], key: str, where: str, required: bool = False,
                positive: bool = False) -> Decimal | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(f"{where}{key}", _("is required"))
            return None
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or (
                isinstance(value, Decimal) and not value.is_finite()):
            self.problem(f"{where}{key}", _("must be a number"))
            return None
        number = Decimal(value)
        if number < 0 or (positive and number == 0):
            self.problem(f"{where}{key}", _("must be greater than 0") if positive
                         else _("must not be negative"))
            return None
        if rules.decimal_places(number) > MAX_PLACES:
            self.problem(f"{where}{key}", _("may have at most %(places)s decimal places",
                                            places=MAX_PLACES))
            return None
        if number >= 10**9:
            self.problem(f"{where}{key}", _("is too large"))
            return None
        return number

    def fraction(self, table: dict[str, Any], key: str, where: str,
                 default: str | None) -> tuple[Fraction, str] | None:
        value = table.get(key, default)
        if value is None:
            return None
        try:
            if not isinstance(value, (int, Decimal, str)) or isinstance(value, bool) \
                    or len(str(value)) > 40:
                raise ValueError(value)
            exact = rules.parse_fraction(value)
        except (ValueError, ZeroDivisionError, ArithmeticError):
            self.problem(f"{where}{key}", _(
                "must be a number such as 0.3, a percentage such as \"30%\" or an exact "
                "fraction such as \"7/30\""))
            return None
        if exact <= 0:
            self.problem(f"{where}{key}", _("must be greater than 0"))
            return None
        # Kept as written, but in plain notation: 1e1 is stored as "10".
        written = format(value, "f") if isinstance(value, Decimal) else str(value).strip()
        return exact, written


MAX_SCHEME = 200_000  # characters: a scheme of sixty criteria is a few thousand
MAX_NESTING = 8  # tables and arrays open at once (brackets, braces, dotted keys): 3 suffice


def nesting(text: str) -> int:
    """How deep tables and arrays nest outside strings and comments: brackets, braces and the
    dots of a dotted key (a.b.c is a table in a table). Enough to refuse a file nested a
    thousand deep before the TOML parser recurses into it (out of stack) or builds it (a
    key of 60000 dots takes it a minute). Strings are skipped as TOML reads them: escapes
    in basic strings, multi-line strings, literal strings; a string left open ends with its
    line. A float (2.5) counts as one dot."""
    depth = deepest = dots = 0
    index, end = 0, len(text)
    while index < end:
        char = text[index]
        if char == "#":
            newline = text.find("\n", index)
            index = end if newline < 0 else newline
        elif char in "\"'":
            index = _string_end(text, index)  # a quoted part of a dotted key
        elif char in "[{":
            depth += 1
            dots = 0
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
            dots = 0
        elif char == ".":
            dots += 1
            deepest = max(deepest, depth + dots)
        elif char in "=,\n":
            dots = 0
        index += 1
    return deepest


def _string_end(text: str, start: int) -> int:
    """The index of the last character of the string that opens at `start`."""
    quote = text[start]
    multiline = text.startswith(quote * 3, start)
    index = start + (3 if multiline else 1)
    while index < len(text):
        char = text[index]
        if char == "\\" and quote == '"':
            index += 2
            continue
        if char == "\n" and not multiline:
            return index
        if char == quote and (not multiline or text.startswith(quote * 3, index)):
            if not multiline:
                return index
            last = index + 2  # a multi-line string may end with one or two more quotes
            while last + 1 < len(text) and text[last + 1] == quote and last - index < 4:
                last += 1
            return last
        index += 1
    return index


def parse_scheme(text: str, filename: str = "scheme.toml") -> SchemeFile:
    """Check a scheme file and return it, or raise InputError with every problem found."""
    if len(text) > MAX_SCHEME:
        raise InputError(Problem(_("the file is larger than %(limit)s characters",
                                   limit=MAX_SCHEME), file=filename))
    if nesting(text) > MAX_NESTING:
        raise InputError(Problem(_("arrays or tables nested deeper than %(depth)s: this is "
                                   "not a scheme", depth=MAX_NESTING), file=filename))
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise InputError(Problem(_("not a valid TOML file: %(error)s", error=error),
                                 file=filename)) from None
    except RecursionError:
        raise InputError(Problem(_("arrays or tables nested deeper than %(depth)s: this is "
                                   "not a scheme", depth=MAX_NESTING), file=filename)) from None
    return check_scheme(data, filename)


def check_scheme(data: dict[str, Any], filename: str | None = None) -> SchemeFile:
    """Check a scheme given as the data of a scheme file (from TOML, or from the form)."""
    check = _Checker(filename)
    check.unknown_keys(data, TOP_KEYS, "")
    code = check.text(data, "code", "", pattern=CODE_PATTERN) or ""
    name = check.text(data, "name", "") or ""
    competition = check.text(data, "competition", "", required=False)
    decimals = check.integer(data, "decimals", "", 0, 6, 2)
    rounding = check.choice(data, "rounding", "", rules.ROUNDING_MODES, "stage")
    award_rounding = check.choice(data, "award_rounding", "", rules.AWARD_ROUNDINGS, "half_up")
    team_best_n = check.integer(data, "team_best_n", "", 1, 10_000, None)
    appeal_hours = check.integer(data, "appeal_hours", "", 0, 720, 2)

    sections = []
    for index, table in enumerate(_tables(check, data, "sections")):
        where = f"sections[{index + 1}]."
        check.unknown_keys(table, SECTION_KEYS, where)
        section_code = check.text(table, "code", where, pattern=CODE_PATTERN)
        section_name = check.text(table, "name", where, required=False) or section_code
        if section_code is None:
            continue
        if section_code.lower() in RESERVED_CODES:
            check.problem(f"{where}code", _("“%(code)s” is a results column: choose another "
                                            "code", code=section_code))
            continue
        if any(section.code == section_code for section in sections):
            check.problem(f"{where}code", _("section “%(code)s” is defined twice",
                                            code=section_code))
            continue
        sections.append(rules.SectionRule(section_code, section_name or section_code))
    section_codes = {section.code for section in sections}

    criteria = []
    weights = {}
    blinds: dict[str, bool] = {}
    criterion_tables = _tables(check, data, "criteria")
    if not criterion_tables and isinstance(data.get("criteria", []), list):
        check.problem("criteria", _("a scheme needs at least one criterion"))
    for index, table in enumerate(criterion_tables):
        where = f"criteria[{index + 1}]."
        criterion_code = check.text(table, "code", where, pattern=CODE_PATTERN)
        if criterion_code:
            where = f"criteria[{index + 1}] ({criterion_code})."
        check.unknown_keys(table, CRITERION_KEYS, where)
        criterion_name = check.text(table, "name", where, required=False) or criterion_code
        section = check.text(table, "section", where, required=bool(sections))
        if section is not None and section not in section_codes:
            check.problem(f"{where}section", _("unknown section “%(code)s”", code=section))
        maximum = check.decimal(table, "max", where, required=True, positive=True)
        step = check.decimal(table, "step", where, positive=True)
        if step is not None and maximum is not None and step > maximum \
                and table.get("kind") != "measurement":  # (a measured value's step)
            check.problem(f"{where}step", _("must not be greater than max"))
        weight = check.fraction(table, "weight", where, "1")
        judges = check.integer(table, "judges", where, 1, 99, 1) or 1
        rule = check.choice(table, "aggregate", where, rules.AGGREGATE_RULES, "mean")
        if rule == "trimmed" and judges < 3:
            check.problem(f"{where}aggregate", _(
                "“trimmed” drops the highest and the lowest mark, so it needs judges = 3 or "
                "more (judges = %(judges)s)", judges=judges))
        kind = check.choice(table, "kind", where, rules.KINDS, "score")
        max_spread = check.decimal(table, "max_spread", where)
        levels, bands, value_range, unit = _kind_keys(check, table, where, kind, maximum, step)
        blind = table.get("blind", True)
        if not isinstance(blind, bool):
            check.problem(f"{where}blind", _("must be true or false"))
            blind = True
        if criterion_code is None or maximum is None or weight is None:
            continue
        if criterion_code.lower() in RESERVED_CODES or criterion_code in section_codes:
            check.problem(f"{where}code", _(
                "“%(code)s” is already a section code or a results column: choose another "
                "code", code=criterion_code))
            continue
        if criterion_code in weights:
            check.problem(f"{where}code", _("criterion “%(code)s” is defined twice",
                                            code=criterion_code))
            continue
        weights[criterion_code] = weight[1]
        blinds[criterion_code] = blind
        criteria.append(rules.CriterionRule(
            code=criterion_code, name=criterion_name or criterion_code, section=section or "",
            max=maximum, step=step, weight=weight[0], judges=judges, aggregate=rule,
            kind=kind, max_spread=max_spread, levels=levels, bands=bands, range=value_range,
            unit=unit))

    tie_break = data.get("tie_break", [])
    if not isinstance(tie_break, list) or not all(isinstance(key, str) for key in tie_break):
        check.problem("tie_break", _("must be a list of texts"))
        tie_break = []
    for number, key in enumerate(tie_break):
        if key in tie_break[:number]:
            check.problem("tie_break", _("tie-break key “%(key)s” is given twice", key=key))
            continue
        kind_of_key, _colon, target = key.partition(":")
        known = (key == "time"
                 or (kind_of_key == "section" and target in section_codes)
                 or (kind_of_key == "criterion" and target in weights))
        if not known:
            check.problem("tie_break", _(
                "unknown tie-break key “%(key)s” (use time, section:CODE or criterion:CODE "
                "with a code of this scheme)", key=key))

    awards = []
    shares: list[str | None] = []
    total_share = Fraction(0)
    for index, table in enumerate(_tables(check, data, "awards")):
        where = f"awards[{index + 1}]."
        check.unknown_keys(table, AWARD_KEYS, where)
        award_name = check.text(table, "name", where, limit=100) or ""
        share = check.fraction(table, "share", where, None)
        count = check.integer(table, "count", where, 1, 100_000, None)
        min_total = check.decimal(table, "min_total", where)
        if ("share" in table) == ("count" in table):
            check.problem(f"{where}share", _("give either share or count"))
            continue
        if share is not None:
            if share[0] > 1:
                check.problem(f"{where}share", _("must not be above 1 (100 %)"))
            total_share += share[0]
        awards.append(rules.AwardTier(award_name, share=share[0] if share else None,
                                      count=count, min_total=min_total))
        shares.append(share[1] if share else None)
    if total_share > 1:
        check.problem("awards", _("the award shares add up to %(percent)s %%, above 100 %%",
                                  percent=round(float(min(total_share, 10**6)) * 100, 2)))

    if check.problems:
        raise InputError(check.problems)
    scheme = rules.Scheme(
        code=code, name=name, decimals=decimals if decimals is not None else 2,
        rounding=rounding, award_rounding=award_rounding, tie_break=tuple(tie_break),
        team_best_n=team_best_n, sections=tuple(sections), criteria=tuple(criteria),
        awards=tuple(awards))
    return SchemeFile(scheme, competition, weights, shares, blinds,
                      appeal_hours=2 if appeal_hours is None else appeal_hours)


def _kind_keys(check: _Checker, table: dict[str, Any], where: str, kind: str,
               maximum: Decimal | None, step: Decimal | None,
               ) -> tuple[tuple[str, ...], tuple[rules.Band, ...],
                          tuple[Decimal, Decimal] | None, str]:
    """The keys of a judgement criterion (levels) or a measurement criterion (unit, range,
    bands), checked; a key of the other kind is refused rather than silently ignored."""
    own = {"judgement": {"levels"}, "measurement": {"bands", "range", "unit"}}.get(kind, set())
    for key in ("levels", "bands", "range", "unit"):
        if key in table and key not in own:
            check.problem(f"{where}{key}", _("only a %(kinds)s criterion takes %(key)s",
                                             kinds=_("judgement") if key == "levels"
                                             else _("measurement"), key=key))
    levels: tuple[str, ...] = ()
    bands: tuple[rules.Band, ...] = ()
    value_range: tuple[Decimal, Decimal] | None = None
    unit = ""
    if kind == "judgement":
        if step is not None:
            check.problem(f"{where}step", _("a judgement criterion takes a level 0-3, not a "
                                            "step: leave step out"))
        levels = _levels(check, table.get("levels"), f"{where}levels")
    elif kind == "measurement":
        unit = check.text(table, "unit", where, required=False, limit=20) or ""
        value_range = _range(check, table.get("range"), f"{where}range")
        if step is not None and value_range is not None \
                and (value_range[1] - value_range[0]) % step != 0:
            check.problem(f"{where}step", _("the range %(low)s–%(high)s is not a whole number "
                                            "of steps %(step)s", low=value_range[0],
                                            high=value_range[1], step=step))
        bands = _bands(check, table.get("bands"), f"{where}bands")
        if bands and maximum is not None:
            _check_bands(check, f"{where}bands", maximum, bands, value_range)
    return levels, bands, value_range, unit


def _levels(check: _Checker, value: Any, field: str) -> tuple[str, ...]:
    """Four level descriptors: a list, or in the form one text with | between them."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [part.strip() for part in re.split(r"[|｜\n]", value)]
    if not isinstance(value, list) or not all(isinstance(text, str) and text.strip()
                                              for text in value):
        check.problem(field, _("must be a list of %(count)s texts, one per level 0-3",
                               count=LEVEL_COUNT))
        return ()
    if len(value) != LEVEL_COUNT:
        check.problem(field, _("%(count)s descriptors given: give %(levels)s, one per level "
                               "0, 1, 2 and 3", count=len(value), levels=LEVEL_COUNT))
        return ()
    for text in value:
        problem = text_problem(text.strip(), 200)
        if problem:
            check.problem(field, problem)
            return ()
    return tuple(text.strip() for text in value)


def _number(value: Any) -> Decimal | None:
    """A number of a range or band: from TOML an integer or decimal, from the form a text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = rules.parse_decimal(value)
        except (ValueError, ArithmeticError):
            return None
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= 10**9 \
            or rules.decimal_places(value) > MAX_PLACES:
        return None
    return value


def _range(check: _Checker, value: Any, field: str) -> tuple[Decimal, Decimal] | None:
    """[low, high] (in the form "0~10"); None when absent (any value not below 0)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = SPAN.match(value)
        value = [match.group(1), match.group(2)] if match else None
    pair = [_number(item) for item in value] if isinstance(value, list) else []
    if len(pair) != 2 or None in pair:
        check.problem(field, _("must be two numbers, the lowest and the highest value that may "
                               "be entered, e.g. [0, 10] (in the form 0~10)"))
        return None
    low, high = pair
    if low >= high:  # type: ignore[operator]
        check.problem(field, _("the lowest value must be below the highest"))
        return None
    return low, high  # type: ignore[return-value]


def _bands(check: _Checker, value: Any, field: str) -> tuple[rules.Band, ...]:
    """The bands: a list of {min, max, mark} tables (in the form "0~2.0: 4, 0~3.0: 2")."""
    if value is None or value == "" or value == []:
        check.problem(field, _("a measurement criterion needs at least one band "
                               "{ min, max, mark }"))
        return ()
    if isinstance(value, str):
        tables: list[Any] = []
        for part in re.split(r"[,，;；\n]", value):
            if not part.strip():
                continue
            match = BAND_TEXT.match(part.strip())
            span = SPAN.match(match.group(1)) if match else None
            if not match or not span:
                check.problem(field, _("“%(band)s” is not a band: write min~max: mark, e.g. "
                                       "0~2.0: 4", band=part.strip()))
                return ()
            tables.append({"min": span.group(1), "max": span.group(2), "mark": match.group(2)})
        value = tables
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        check.problem(field, _("must be a list of bands { min, max, mark }"))
        return ()
    if len(value) > MAX_TABLES:
        check.problem(field, _("at most %(count)s bands", count=MAX_TABLES))
        return ()
    bands = []
    for number, table in enumerate(value, start=1):
        unknown = set(table) - BAND_KEYS
        numbers = {key: _number(table.get(key)) for key in BAND_KEYS}
        if unknown or None in numbers.values():
            check.problem(field, _("band %(number)s: give min, max and mark, each a number "
                                   "(at most %(places)s decimal places)", number=number,
                                   places=MAX_PLACES))
            return ()
        if numbers["mark"] < 0:  # type: ignore[operator]
            check.problem(field, _("band %(number)s: the mark must not be negative",
                                   number=number))
            return ()
        low, high, mark = numbers["min"], numbers["max"], numbers["mark"]
        bands.append(rules.Band(low, high, mark))  # type: ignore[arg-type]
    return tuple(bands)


def _check_bands(check: _Checker, field: str, maximum: Decimal, bands: tuple[rules.Band, ...],
                 value_range: tuple[Decimal, Decimal] | None) -> None:
    for number, code in rules.band_problems(maximum, bands, value_range):
        band = bands[number - 1] if number else None
        messages = {
            "no_bands": lambda: _("a measurement criterion needs at least one band"),
            "band_reversed": lambda: _("band %(number)s: min %(min)s is above max %(max)s",
                                       number=number, min=band.min, max=band.max),
            "band_mark_above_max": lambda: _("band %(number)s: the mark %(mark)s is above the "
                                             "criterion's max %(max)s", number=number,
                                             mark=band.mark, max=maximum),
            "band_outside_range": lambda: _("band %(number)s (%(min)s–%(max)s) lies outside the "
                                            "range: no value entered can fall in it",
                                            number=number, min=band.min, max=band.max),
            "band_unreachable": lambda: _("band %(number)s (%(min)s–%(max)s) lies inside the "
                                          "bands before it: the first band that holds a value "
                                          "gives the mark, so it would never count (put the "
                                          "narrower band first)", number=number,
                                          min=band.min, max=band.max),
            "no_full_mark": lambda: _("no band gives the full mark %(max)s", max=maximum),
        }
        check.problem(field, messages[code]())


MAX_TABLES = 60  # sections, criteria or award tiers in one scheme (the form's rows too)


def _tables(check: _Checker, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        check.problem(key, _("must be an array of tables ([[%(key)s]])", key=key))
        return []
    if len(value) > MAX_TABLES:
        check.problem(key, _("at most %(count)s [[%(key)s]] in a scheme", count=MAX_TABLES,
                             key=key))
        return []
    return value
