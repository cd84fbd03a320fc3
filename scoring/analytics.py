"""Judge analytics of DOMAIN.md, as pure functions over plain data: how each judge marks a
criterion compared with the rest of its panel. No Flask, no database.

For judge j on a criterion, over the entries that j marked and at least two other judges
marked too, `d = j's mark − the mean of the other judges' marks on that entry`:

- **severity** = the mean of d (negative: harsher than the panel, positive: more lenient);
- **deviation** = the mean of |d| (how far j is from the panel, whichever way);
- **consistency** = the Pearson correlation of j's marks with the others' means over those
  entries (does j put the entries in the panel's order?); none with fewer than 3 entries, or
  when j's marks or the others' means do not vary;
- **n** = the number of such entries.

Arithmetic is exact (Fraction): severity, deviation and the spread of d (its lowest and
highest value) are rounded once, half up (away from zero), to the event's decimals.
The correlation is r = Sxy / sqrt(Sxx × Syy): its square is an exact fraction, and r rounded
half up to 2 places is found from it with integer square roots, so no float is ever used and
the rounding is exact too (0.995 exactly is 1.00, never 0.99 through a float's error).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .rules import Number, natural_key, round_half_up

CONSISTENCY_DECIMALS = 2
MIN_OTHERS = 2  # an entry counts for j when at least this many other judges marked it
MIN_ENTRIES = 3  # entries needed for a correlation


@dataclass(frozen=True)
class Comparison:
    """One judge on one criterion compared with the others, exactly (None: undefined)."""

    judge: str
    n: int
    severity: Fraction | None
    deviation: Fraction | None
    low: Fraction | None  # the smallest d
    high: Fraction | None  # the largest d
    correlation_squared: Fraction | None  # r², exact (with `correlation_sign`)
    correlation_sign: int = 0

    def rounded(self, decimals: int) -> Figures:
        """The figures as published: severity, deviation and the spread of d to the event's
        `decimals`, consistency to 2 places, each half up."""
        def figure(value: Fraction | None) -> Decimal | None:
            return None if value is None else round_half_up(value, decimals)

        return Figures(
            judge=self.judge, n=self.n, severity=figure(self.severity),
            deviation=figure(self.deviation), low=figure(self.low), high=figure(self.high),
            consistency=None if self.correlation_squared is None else rounded_root(
                self.correlation_squared, self.correlation_sign, CONSISTENCY_DECIMALS))


@dataclass(frozen=True)
class Figures:
    """A judge's published figures on one criterion (None: undefined, shown empty)."""

    judge: str
    n: int
    severity: Decimal | None
    deviation: Decimal | None
    low: Decimal | None
    high: Decimal | None
    consistency: Decimal | None


def rounded_root(square: Fraction, sign: int, decimals: int) -> Decimal:
    """sign × sqrt(square) rounded half up (away from zero) to `decimals` places, exactly.

    With s = sqrt(square) × 10^decimals, the result's units u are the largest whole number
    with u − 1/2 <= s, that is (2u − 1)² <= 4s², that is 2u − 1 <= isqrt(floor(4s²))
    ((2u − 1)² being a whole number): u = (isqrt(floor(4s²)) + 1) // 2.
    """
    if square < 0:
        raise ValueError(square)
    four_s_squared = 4 * square * 10 ** (2 * decimals)
    units = (math.isqrt(four_s_squared.numerator // four_s_squared.denominator) + 1) // 2
    return Decimal(-units if sign < 0 else units).scaleb(-decimals)


def compare_judges(marks: Mapping[Hashable, Mapping[str, Number]]) -> list[Comparison]:
    """Every judge who gave a mark on the criterion, compared with the others, by name.

    `marks`: per entry (any key), each judge's mark. A judge who never marked an entry
    alongside two others has n = 0 and no figures.
    """
    by_entry = {key: {judge: Fraction(value) for judge, value in given.items()}
                for key, given in marks.items()}
    judges = sorted({judge for given in by_entry.values() for judge in given}, key=natural_key)
    return [compare(judge, by_entry) for judge in judges]


def compare(judge: str, by_entry: Mapping[Hashable, Mapping[str, Fraction]]) -> Comparison:
    """One judge's comparison (see the module's docstring)."""
    own: list[Fraction] = []
    others: list[Fraction] = []
    for given in by_entry.values():
        if judge not in given or len(given) - 1 < MIN_OTHERS:
            continue
        rest = [value for name, value in given.items() if name != judge]
        own.append(given[judge])
        others.append(sum(rest, Fraction(0)) / len(rest))
    n = len(own)
    if not n:
        return Comparison(judge, 0, None, None, None, None, None)
    d = [mine - theirs for mine, theirs in zip(own, others)]
    severity = sum(d, Fraction(0)) / n
    deviation = sum((abs(value) for value in d), Fraction(0)) / n
    square, sign = correlation(own, others)
    return Comparison(judge, n, severity, deviation, min(d), max(d), square, sign)


def correlation(xs: Iterable[Fraction], ys: Iterable[Fraction]) -> tuple[Fraction | None, int]:
    """Pearson's r of two equally long series as (r², the sign of r), exactly; (None, 0)
    with fewer than MIN_ENTRIES pairs or when either series does not vary."""
    xs, ys = list(xs), list(ys)
    n = len(xs)
    if n < MIN_ENTRIES:
        return None, 0
    mean_x = sum(xs, Fraction(0)) / n
    mean_y = sum(ys, Fraction(0)) / n
    sxy = sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)), Fraction(0))
    sxx = sum(((x - mean_x) ** 2 for x in xs), Fraction(0))
    syy = sum(((y - mean_y) ** 2 for y in ys), Fraction(0))
    if not sxx or not syy:
        return None, 0
    return sxy * sxy / (sxx * syy), (sxy > 0) - (sxy < 0)


def judge_figures(marks: Mapping[Hashable, Mapping[str, Number]],
                  decimals: int) -> list[Figures]:
    """`compare_judges`, rounded as published."""
    return [comparison.rounded(decimals) for comparison in compare_judges(marks)]
