"""The scoring rules of DOMAIN.md as pure functions over plain data: no Flask, no database.

Everything that a person sees (aggregates, subtotals, totals, ranks, awards, team scores) is
computed here, by one function, `compute_standings`, so the leaderboard, the exports and the
API can never disagree.

Arithmetic is exact: marks are `Decimal`, weights and means are `Fraction`, and a figure is
rounded once, half up (四舍五入, away from zero), to the event's `decimals` by `round_half_up`.

The order of the standings (documented here because the rest of the code relies on it):

1. `ok` contestants by total, highest first; equal totals are compared by the scheme's
   `tie_break` keys in order, on published (rounded) figures:
   - `section:X`: the section subtotal, higher first;
   - `criterion:X`: the criterion's published aggregate r(A), higher first (the same as the
     weighted aggregate, the weight being the same for everyone); for a penalty, the smaller
     deduction first;
   - `time`: time used, less first; an unknown time comes after every known one.
   Contestants still equal share the rank and the next rank skips (1, 2, 2, 4); among
   themselves they are listed by bib.
2. then `absent` contestants, then `dq` contestants, each by bib, with no rank and no award.

Choices where DOMAIN.md is silent (also in the README):

- Missing marks: an aggregate is computed from the marks present (the board is provisional
  until `complete`); a criterion with no mark at all contributes nothing. `trimmed` with fewer
  than three marks present falls back to the mean of those marks. Extra marks beyond
  `judges` are all used. Marks a contestant cannot get (the judges assigned stand aside for
  their own delegation, and too few others are assigned) are not missing: the caller says
  so in `EntryInput.needed`, and the aggregate is taken over the marks given.
- `absent` and `dq` contestants get no figures at all (their aggregates, subtotals and total
  are `None`): an absent contestant has nothing to score and disqualification cancels all
  scores. Nothing is missing for them.
- Half up on a negative figure (a section of penalties only) rounds away from zero.
- Awards: a tier given by `count` adds its count to the cut-off; a tier given by `share`
  adds its share, rounded together with the shares before it:
  `K_t = rounding(N x (shares up to t)) + (counts up to t)`, capped at N. `min_total` is
  compared with the published total.
- Team ranking: only `ok` members count, best first in the order of the individual ranking;
  a delegation with fewer than `team_best_n` ranked members sums the ones it has. A team's
  time is the sum of its counted members' times; an unknown time puts the team after the
  others it ties with. The team total is the sum of the members' published totals.
  Entries with no delegation are not in the team ranking, nor is a delegation none of whose
  members is ranked. Members tied on total across the `team_best_n` cut are taken in
  ranking order (tie-breaks, then bib). A team is provisional (`complete` false) while any
  of its ranked members is, counted or not: a member with marks missing could still climb.
- The spread flag is raised when the highest and lowest marks of a criterion differ by more
  than `max_spread` (strictly more); on a judgement criterion `max_spread` counts levels
  (default 1), so marks more than max_spread x max / 3 apart.
- Judgement marks (max x level / 3) are exact fractions: the database keeps the level with
  the mark, and `exact_mark` rebuilds the exact mark from it (10 x 1/3 is not 3.3333).
- Measurement bands: a band that the bands before it cover entirely would never give its
  mark, so a scheme with one is refused (a later, wider band is the usual fallback and fine).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

STATUSES = ("ok", "absent", "dq")
AGGREGATE_RULES = ("mean", "trimmed", "median")
ROUNDING_MODES = ("stage", "end")
AWARD_ROUNDINGS = ("half_up", "floor")
KINDS = ("score", "penalty", "judgement", "measurement")
LEVELS = (0, 1, 2, 3)  # a judgement's levels: 0 below industry standard .. 3 excellent
JUDGEMENT_SPREAD = Decimal(1)  # levels further apart than this are flagged, unless the scheme says

Number = Decimal | Fraction | int


# --- rounding ---------------------------------------------------------------------------

def round_half_up(value: Number, decimals: int) -> Decimal:
    """`value` rounded half up (away from zero) to `decimals` places, exactly.

    Integer arithmetic on the exact fraction, so no intermediate figure is ever rounded:
    82.285 becomes 82.29, where float `round` or banker's rounding give 82.28.
    """
    fraction = Fraction(value)
    scaled = abs(fraction.numerator) * 10**decimals
    units = (2 * scaled + fraction.denominator) // (2 * fraction.denominator)
    if fraction < 0:
        units = -units
    return Decimal(units).scaleb(-decimals)


def parse_fraction(text: str | int | Decimal) -> Fraction:
    """A weight or share as an exact fraction: 0.3, "0.3", "7/30", 1, or a percentage as
    spreadsheets write it, "30%" (also with the full-width ％).

    Raises ValueError for anything else (floats included: they are not exact).
    """
    if isinstance(text, bool) or isinstance(text, float):
        raise ValueError(text)
    if isinstance(text, (int, Decimal)):
        if isinstance(text, Decimal) and not text.is_finite():
            raise ValueError(text)
        return Fraction(text)
    text = text.strip()
    if text.endswith(("%", "％")):
        return Fraction(parse_decimal(text[:-1])) / 100
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        return Fraction(int(_strict_int(numerator)), int(_strict_int(denominator)))
    return Fraction(parse_decimal(text))


def parse_whole(text: str | None, maximum: int = 2**31 - 1) -> int | None:
    """A whole number 0..maximum typed as ASCII digits ("²" and "٣" are digits to Python
    but not numbers here), or None."""
    text = (text or "").strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= maximum else None


def _strict_int(text: str) -> str:
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        raise ValueError(text)
    return text


def parse_decimal(text: str) -> Decimal:
    """A plain decimal numeral ("12", "88.5", "-3.25"): no exponent, NaN or infinity."""
    text = text.strip()
    body = text[1:] if text[:1] in "+-" else text
    whole, dot, decimals = body.partition(".")
    if not (whole or decimals) or not (whole + decimals).isdigit() or not body.isascii():
        raise ValueError(text)
    if dot and not decimals:
        raise ValueError(text)
    return Decimal(text)


# --- the scheme -------------------------------------------------------------------------

@dataclass(frozen=True)
class SectionRule:
    code: str
    name: str = ""


@dataclass(frozen=True)
class Band:
    """A measurement band: a measured value with `min <= value <= max` gets `mark`."""

    min: Decimal
    max: Decimal
    mark: Decimal


@dataclass(frozen=True)
class CriterionRule:
    code: str
    section: str
    max: Decimal
    name: str = ""
    step: Decimal | None = None
    weight: Fraction = Fraction(1)
    judges: int = 1
    aggregate: str = "mean"
    kind: str = "score"
    max_spread: Decimal | None = None
    # judgement: the four level descriptors shown on the sheet (empty: the standard ones)
    levels: tuple[str, ...] = ()
    # measurement: what may be entered, its unit, and the bands that give the mark
    bands: tuple[Band, ...] = ()
    range: tuple[Decimal, Decimal] | None = None
    unit: str = ""

    @property
    def sign(self) -> int:
        return -1 if self.kind == "penalty" else 1

    @property
    def entered(self) -> bool:
        """Whether judges enter something other than the mark (a level, a measured value)."""
        return self.kind in ("judgement", "measurement")

    @property
    def spread_limit(self) -> Fraction | None:
        """How far apart two marks may be before they are flagged, in marks: for a
        judgement, `max_spread` counts levels (default 1), a level being max/3 marks."""
        if self.kind == "judgement":
            levels = self.max_spread if self.max_spread is not None else JUDGEMENT_SPREAD
            return Fraction(levels) * Fraction(self.max) / 3
        return None if self.max_spread is None else Fraction(self.max_spread)


@dataclass(frozen=True)
class AwardTier:
    name: str
    share: Fraction | None = None
    count: int | None = None
    min_total: Decimal | None = None


@dataclass(frozen=True)
class Scheme:
    code: str
    criteria: tuple[CriterionRule, ...]
    sections: tuple[SectionRule, ...] = ()
    name: str = ""
    decimals: int = 2
    rounding: str = "stage"
    award_rounding: str = "half_up"
    tie_break: tuple[str, ...] = ()
    team_best_n: int | None = None
    awards: tuple[AwardTier, ...] = ()


# --- marks ------------------------------------------------------------------------------

def decimal_places(value: Decimal) -> int:
    """Places after the point, trailing zeros aside, exactly (normalize() would round to
    the context's 28 digits first and turn 29.99999999999999999999999999999 into 30)."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return 0
    places = -exponent
    for digit in reversed(digits):
        if digit or not places:
            break
        places -= 1
    return places


def check_mark(criterion: CriterionRule, value: Decimal) -> str | None:
    """Why `value` cannot be a mark on `criterion`, as a problem code, or None if it can.

    Codes: "not_a_number", "below_zero", "above_max", "off_step", "too_precise"
    (more than 4 decimal places, the precision marks are stored with).
    """
    if not isinstance(value, Decimal) or not value.is_finite():
        return "not_a_number"
    if value < 0:
        return "below_zero"
    if value > criterion.max:
        return "above_max"
    if criterion.step is not None and value % criterion.step != 0:
        return "off_step"
    if decimal_places(value) > 4:
        return "too_precise"
    return None


# --- judgement and measurement (DOMAIN.md, WorldSkills style) -----------------------------

def judgement_mark(maximum: Number, level: Number) -> Fraction:
    """A judge's mark for a judgement level: max x level / 3, exactly (max 10, level 1 is
    10/3, which no decimal holds: hence a Fraction)."""
    return Fraction(maximum) * Fraction(level) / 3


def band_mark(bands: Sequence[Band], value: Number) -> Decimal:
    """The mark of a measured value: that of the first band with min <= value <= max, else 0."""
    for band in bands:
        if band.min <= value <= band.max:
            return band.mark
    return Decimal(0)


def mark_for(criterion: CriterionRule, entered: Decimal) -> Fraction | Decimal:
    """The exact mark of what a judge entered: the level or measured value of a judgement or
    measurement criterion, the mark itself on another."""
    if criterion.kind == "judgement":
        return judgement_mark(criterion.max, entered)
    if criterion.kind == "measurement":
        return band_mark(criterion.bands, entered)
    return entered


STORED_PLACES = 4  # marks are stored with four places; an exact mark is rebuilt from its level


def stored_mark(criterion: CriterionRule, entered: Decimal) -> Decimal:
    """The mark as the database keeps it: exact, except a judgement mark such as 10/3 that
    no four places hold, kept rounded half up (3.3333); the results rebuild the exact mark
    from the level the mark row keeps too (`exact_mark`)."""
    mark = mark_for(criterion, entered)
    if isinstance(mark, Fraction):
        if mark.denominator == 1:
            return Decimal(mark.numerator)
        rounded = round_half_up(mark, STORED_PLACES)
        return rounded.normalize() if rounded != rounded.to_integral_value() else rounded
    return mark


def exact_mark(criterion: CriterionRule, value: Decimal, entered: Decimal | None) -> Number:
    """The exact mark of a stored mark row: for a judgement, max x level / 3 from the level
    entered; otherwise the stored value, which is exact."""
    if criterion.kind == "judgement" and entered is not None:
        return judgement_mark(criterion.max, entered)
    return value


MEASURED_LIMIT = Decimal(10) ** 9  # a measured value without a range stays below it


def check_entered(criterion: CriterionRule, value: Decimal) -> str | None:
    """Why `value` cannot be what a judge enters on a judgement or measurement criterion, as
    a problem code, or None. Codes: "not_a_number", "not_a_level" (a whole 0-3),
    "below_range", "above_range", "below_zero" (no range: not negative), "too_large" (no
    range: 10^9 or more, which no measurement is and no column holds), "off_step",
    "too_precise"."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return "not_a_number"
    if criterion.kind == "judgement":
        return None if value in LEVELS and value == value.to_integral_value() \
            else "not_a_level"
    if criterion.range is not None:
        if value < criterion.range[0]:
            return "below_range"
        if value > criterion.range[1]:
            return "above_range"
    elif value < 0:
        return "below_zero"
    elif value >= MEASURED_LIMIT:
        return "too_large"
    if criterion.step is not None and (value - (criterion.range[0] if criterion.range
                                                else 0)) % criterion.step != 0:
        return "off_step"
    if decimal_places(value) > STORED_PLACES:
        return "too_precise"
    return None


def band_problems(maximum: Decimal, bands: Sequence[Band],
                  value_range: tuple[Decimal, Decimal] | None) -> list[tuple[int | None, str]]:
    """What is wrong with a measurement criterion's bands, as (band number from 1, or None
    for the whole list; problem code). Codes: "no_bands", "band_reversed" (min > max),
    "band_mark_above_max", "band_outside_range" (no value that may be entered falls in it),
    "band_unreachable" (the bands before it already hold every value it holds: it would
    never give its mark), "no_full_mark" (no band gives max)."""
    problems: list[tuple[int | None, str]] = []
    if not bands:
        return [(None, "no_bands")]
    covered: list[tuple[Decimal, Decimal]] = []  # the union of the bands so far, merged
    for number, band in enumerate(bands, start=1):
        if band.min > band.max:
            problems.append((number, "band_reversed"))
            continue
        if band.mark > maximum:
            problems.append((number, "band_mark_above_max"))
        if value_range is not None and (band.max < value_range[0] or band.min > value_range[1]):
            problems.append((number, "band_outside_range"))
        elif any(low <= band.min and band.max <= high for low, high in covered):
            problems.append((number, "band_unreachable"))
        covered = _merge([*covered, (band.min, band.max)])
    if not problems and all(band.mark != maximum for band in bands):
        problems.append((None, "no_full_mark"))
    return problems


def _merge(intervals: Sequence[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    """Closed intervals merged where they overlap or touch."""
    merged: list[tuple[Decimal, Decimal]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _mean(marks: Sequence[Fraction]) -> Fraction:
    return sum(marks, Fraction(0)) / len(marks)


def _trimmed(marks: Sequence[Fraction]) -> Fraction:
    # One highest and one lowest instance are dropped, even when several judges gave it.
    if len(marks) < 3:
        return _mean(marks)
    ordered = sorted(marks)
    return _mean(ordered[1:-1])


def _median(marks: Sequence[Fraction]) -> Fraction:
    ordered = sorted(marks)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


AGGREGATES: dict[str, Callable[[Sequence[Fraction]], Fraction]] = {
    "mean": _mean,
    "trimmed": _trimmed,
    "median": _median,
}


def aggregate(rule: str, marks: Iterable[Number]) -> Fraction:
    """The exact aggregate of one criterion's marks by `rule` (mean, trimmed or median)."""
    return AGGREGATES[rule]([Fraction(mark) for mark in marks])


# --- results ----------------------------------------------------------------------------

@dataclass
class EntryInput:
    """One contestant's data for the rules: marks per criterion code, one per judge."""

    bib: str
    marks: Mapping[str, Sequence[Number]] = field(default_factory=dict)
    status: str = "ok"
    time: int | None = None  # seconds used
    delegation: str | None = None
    # Marks needed, by criterion code, where fewer than the criterion's `judges` can be
    # given (judges standing aside for their own delegation); absent: `judges`.
    needed: Mapping[str, int] = field(default_factory=dict)


@dataclass
class EntryResult:
    bib: str
    status: str
    time: int | None
    delegation: str | None
    aggregates: dict[str, Decimal | None]  # r(A) per criterion, as on the mark sheet
    terms: dict[str, tuple[int, int]]  # the contributions as (numerator, denominator)
    sections: dict[str, Decimal | None]  # r(subtotal) per section
    total: Decimal | None
    missing: dict[str, int]  # marks still expected per criterion
    spread: tuple[str, ...]  # criteria whose marks are further apart than max_spread
    rank: int | None = None
    award: str | None = None

    @property
    def complete(self) -> bool:
        return not any(self.missing.values())

    @property
    def contributions(self) -> dict[str, Fraction]:
        """The exact signed weight x A per criterion (0 without marks), made when asked."""
        return {code: Fraction(*term) for code, term in self.terms.items()}


@dataclass
class TeamResult:
    delegation: str
    members_counted: int
    total: Decimal
    time: int | None
    rank: int = 0
    complete: bool = True  # no ranked member has marks missing (any could still climb)


@dataclass
class Standings:
    results: list[EntryResult]
    teams: list[TeamResult]
    cutoffs: list[int]  # K_t per award tier

    @property
    def complete(self) -> bool:
        return all(result.complete for result in self.results)


def _half_up_units(numerator: int, denominator: int, decimals: int) -> int:
    """numerator / denominator (denominator > 0) rounded half up, away from zero, in units
    of 10**-decimals: the integer core of `round_half_up`, for figures kept as integers."""
    units = (2 * abs(numerator) * 10**decimals + denominator) // (2 * denominator)
    return -units if numerator < 0 else units


def _add_ratios(terms: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The exact sum of numerator/denominator pairs, as one pair (not reduced)."""
    if not terms:
        return 0, 1
    common = math.lcm(*(denominator for _, denominator in terms))
    return sum(numerator * (common // denominator) for numerator, denominator in terms), common


class _Plan:
    """What `score_entry` needs of a scheme, worked out once for all its contestants.

    Speed only: the figures are exactly those of DOMAIN.md's decimal arithmetic. Marks become
    integers over a common denominator (through a cache, as the same marks recur), aggregates
    and contributions are numerator/denominator pairs of integers; a `Fraction` is made only
    when a result's contributions are asked for.
    """

    def __init__(self, scheme: Scheme) -> None:
        self.decimals = scheme.decimals
        self.stage = scheme.rounding == "stage"
        self.section_codes = [section.code for section in scheme.sections]
        known = set(self.section_codes)
        # Per criterion: code, judges, rule, max_spread, signed weight as numerator and
        # denominator, and the section it adds to (None when not among the scheme's sections).
        self.criteria: list[tuple[str, int, str, Fraction | None, int, int, str | None]] = []
        for criterion in scheme.criteria:
            weight = criterion.sign * Fraction(criterion.weight)
            self.criteria.append((
                criterion.code, criterion.judges, criterion.aggregate,
                criterion.spread_limit, weight.numerator, weight.denominator,
                criterion.section if criterion.section in known else None,
            ))
        self.ratios: dict[object, tuple[int, int]] = {}

    def ratio(self, mark: Number) -> tuple[int, int]:
        """A mark as an exact (numerator, denominator) pair, as `Fraction(mark)` gives it."""
        try:
            return self.ratios[mark]
        except KeyError:
            fraction = Fraction(mark)
            ratio = self.ratios[mark] = (fraction.numerator, fraction.denominator)
            return ratio
        except TypeError:  # unhashable (a signalling NaN): fail or convert as Fraction does
            fraction = Fraction(mark)
            return fraction.numerator, fraction.denominator

    def aggregate(self, rule: str, marks: Sequence[Number]) -> tuple[int, int]:
        """The exact aggregate, as `aggregate(rule, marks)`, as a (numerator, denominator)."""
        if rule not in _INTEGER_RULES:  # another rule, or an unknown one (KeyError)
            exact = aggregate(rule, marks)
            return exact.numerator, exact.denominator
        try:
            ratios = [self.ratios[mark] for mark in marks]
        except (KeyError, TypeError):  # a mark not seen yet
            ratios = [self.ratio(mark) for mark in marks]
        denominators = {denominator for _, denominator in ratios}
        if len(denominators) == 1:
            (common,) = denominators
            values = [numerator for numerator, _ in ratios]
        else:
            common = math.lcm(*denominators)
            values = [numerator * (common // denominator) for numerator, denominator in ratios]
        count = len(values)
        if rule == "median":
            values.sort()
            middle = count // 2
            if count % 2:
                return values[middle], common
            return values[middle - 1] + values[middle], 2 * common
        if rule == "trimmed" and count >= 3:
            values.sort()
            return sum(values) - values[0] - values[-1], common * (count - 2)
        return sum(values), common * count

    def score(self, entry: EntryInput) -> EntryResult:
        d = self.decimals
        scored = entry.status == "ok"
        aggregates: dict[str, Decimal | None] = {}
        contributions: dict[str, tuple[int, int]] = {}
        missing: dict[str, int] = {}
        spread: list[str] = []
        terms: list[tuple[int, int]] = []
        by_section: dict[str, list[tuple[int, int]]] = {code: [] for code in self.section_codes}
        for code, judges, rule, max_spread, numerator, denominator, section in self.criteria:
            marks = entry.marks.get(code, ())
            missing[code] = max(0, entry.needed.get(code, judges) - len(marks)) if scored else 0
            if max_spread is not None and len(marks) >= 2:
                if Fraction(max(marks)) - Fraction(min(marks)) > max_spread:
                    spread.append(code)
            if not marks or not scored:
                aggregates[code] = None
                contributions[code] = (0, 1)
                continue
            exact_numerator, exact_denominator = self.aggregate(rule, marks)
            units = _half_up_units(exact_numerator, exact_denominator, d)
            aggregates[code] = Decimal(units).scaleb(-d)
            if self.stage:
                term = (numerator * units, denominator * 10**d)
            else:
                term = (numerator * exact_numerator, denominator * exact_denominator)
            contributions[code] = term
            terms.append(term)
            if section is not None:
                by_section[section].append(term)
        if scored:
            sections: dict[str, Decimal | None] = {
                code: Decimal(_half_up_units(*_add_ratios(section_terms), d)).scaleb(-d)
                for code, section_terms in by_section.items()
            }
            total: Decimal | None = Decimal(_half_up_units(*_add_ratios(terms), d)).scaleb(-d)
        else:
            sections = {code: None for code in by_section}
            total = None
        return EntryResult(
            bib=entry.bib, status=entry.status, time=entry.time, delegation=entry.delegation,
            aggregates=aggregates, terms=contributions, sections=sections, total=total,
            missing=missing, spread=tuple(spread),
        )


_INTEGER_RULES = ("mean", "trimmed", "median")  # the rules `_Plan.aggregate` does on integers


def score_entry(scheme: Scheme, entry: EntryInput) -> EntryResult:
    """Aggregates, contributions, section subtotals and total of one contestant.

    With `rounding = "stage"` an aggregate is used as shown, r(A); a contribution is the exact
    signed weight x A; each section and the total are r(sum of exact contributions), rounded
    once (compute_standings does the same for every contestant, sharing the work).
    """
    return _Plan(scheme).score(entry)


def natural_key(text: str | None) -> tuple:
    """Sort "2" before "10" and "A2" before "A10"; used for bibs and names."""
    text = text or ""
    parts: list[tuple[int, int | str]] = []
    number = ""
    word = ""
    for char in text:
        if char.isdigit() and char.isascii():
            if word:
                parts.append((1, word))
                word = ""
            number += char
        else:
            if number:
                parts.append((0, int(number)))
                number = ""
            word += char
    if number:
        parts.append((0, int(number)))
    if word:
        parts.append((1, word))
    return (tuple(parts), text)


_UNKNOWN_TIME = math.inf


def _tie_break_value(scheme: Scheme, key: str, result: EntryResult) -> Decimal | float:
    """A value where smaller ranks better, for one tie-break key."""
    kind, _, code = key.partition(":")
    if kind == "time":
        return _UNKNOWN_TIME if result.time is None else result.time
    if kind == "section":
        return -(result.sections.get(code) or Decimal(0))
    if kind == "criterion":
        # The published aggregate: with the same positive weight for everyone, a higher
        # aggregate is a higher weighted aggregate, without the false ties that rounding
        # weight x aggregate would make. A penalty's smaller deduction ranks better.
        sign = next(criterion.sign for criterion in scheme.criteria if criterion.code == code)
        return -sign * (result.aggregates.get(code) or Decimal(0))
    raise ValueError(f"unknown tie-break key {key!r}")


def rank_key(scheme: Scheme, result: EntryResult) -> tuple:
    """Smaller is better: the total, then each tie-break key in the scheme's order."""
    total = result.total if result.total is not None else Decimal(0)
    return (-total, *(_tie_break_value(scheme, key, result) for key in scheme.tie_break))


def award_cutoffs(scheme: Scheme, ranked: int) -> list[int]:
    """K_t, the cumulative rank cut-off of each award tier for `ranked` contestants."""
    cutoffs = []
    shares = Fraction(0)
    counts = 0
    for tier in scheme.awards:
        if tier.share is not None:
            shares += tier.share
        else:
            counts += tier.count or 0
        exact = ranked * shares
        if scheme.award_rounding == "floor":
            by_share = math.floor(exact)
        else:
            by_share = math.floor(exact + Fraction(1, 2))
        cutoffs.append(min(ranked, by_share + counts))
    return cutoffs


def award_for(scheme: Scheme, cutoffs: Sequence[int], rank: int, total: Decimal) -> str | None:
    """The best tier whose cut-off the rank reaches and whose minimum the total meets."""
    for tier, cutoff in zip(scheme.awards, cutoffs):
        if rank <= cutoff and (tier.min_total is None or total >= tier.min_total):
            return tier.name
    return None


def rank_teams(scheme: Scheme, ranked: Sequence[EntryResult],
               others: Sequence[EntryResult] = ()) -> list[TeamResult]:
    """Delegations by the sum of their best `team_best_n` members' totals; ties by time."""
    members: dict[str, list[EntryResult]] = {}
    for result in [*ranked, *others]:
        if result.delegation:
            members.setdefault(result.delegation, [])
            if result.status == "ok":
                members[result.delegation].append(result)
    teams = []
    for delegation, results in members.items():
        if not results:
            continue  # nobody of this delegation is ranked (all absent or disqualified)
        counted = results if scheme.team_best_n is None else results[: scheme.team_best_n]
        times = [result.time for result in counted]
        teams.append(TeamResult(
            delegation=delegation,
            members_counted=len(counted),
            total=sum((result.total or Decimal(0) for result in counted),
                      Decimal(0)).quantize(Decimal(1).scaleb(-scheme.decimals)),
            time=None if None in times else sum(times),  # type: ignore[arg-type]
            complete=all(result.complete for result in results),
        ))

    def team_key(team: TeamResult) -> tuple:
        return (-team.total, _UNKNOWN_TIME if team.time is None else team.time)

    teams.sort(key=lambda team: (team_key(team), natural_key(team.delegation)))
    for position, team in enumerate(teams):
        previous = teams[position - 1] if position else None
        if previous is not None and team_key(previous) == team_key(team):
            team.rank = previous.rank
        else:
            team.rank = position + 1
    return teams


def compute_standings(scheme: Scheme, entries: Iterable[EntryInput]) -> Standings:
    """The whole results table of an event: see the module docstring for the order."""
    plan = _Plan(scheme)
    results = [plan.score(entry) for entry in entries]
    ranked = [result for result in results if result.status == "ok"]
    keyed = sorted(((rank_key(scheme, result), natural_key(result.bib), result)
                    for result in ranked), key=lambda item: (item[0], item[1]))
    cutoffs = award_cutoffs(scheme, len(keyed))
    previous_key = None
    rank = 0
    for position, (key, _, result) in enumerate(keyed, start=1):
        if key != previous_key:
            rank = position
            previous_key = key
        result.rank = rank
        result.award = award_for(scheme, cutoffs, rank, result.total or Decimal(0))
    ranked = [result for _, _, result in keyed]
    unranked = sorted((result for result in results if result.status != "ok"),
                      key=lambda result: (STATUSES.index(result.status), natural_key(result.bib)))
    return Standings(
        results=ranked + unranked,
        teams=rank_teams(scheme, ranked, unranked),
        cutoffs=cutoffs,
    )
