"""Judge analytics (scoring/analytics.py): DOMAIN.md's example (e), and properties over random
panels (hypothesis) checked against the definitions, with an independent float model for
the correlation's rounding where it is not near a half."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scoring.analytics import (
    compare, compare_judges, correlation, judge_figures, rounded_root,
)
from scoring.rules import round_half_up

pytestmark = pytest.mark.pure

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# DOMAIN.md (e): entries X, Y, Z; judges A, B, C.
EXAMPLE_E = {
    "X": {"A": Decimal(30), "B": Decimal(32), "C": Decimal(34)},
    "Y": {"A": Decimal(28), "B": Decimal(31), "C": Decimal(31)},
    "Z": {"A": Decimal(35), "B": Decimal(36), "C": Decimal(40)},
}


def test_example_e() -> None:
    figures = {row.judge: row for row in judge_figures(EXAMPLE_E, decimals=2)}
    assert list(figures) == ["A", "B", "C"]
    a, b, c = figures["A"], figures["B"], figures["C"]
    assert (a.n, a.severity, a.deviation, a.consistency) == (
        3, Decimal("-3.00"), Decimal("3.00"), Decimal("1.00"))
    assert (b.n, b.severity, b.deviation) == (3, Decimal("0.00"), Decimal("1.00"))
    assert (c.n, c.severity, c.deviation) == (3, Decimal("3.00"), Decimal("3.00"))
    # The spread of d: A −3 each time; B 0, 1.5, −1.5; C 3, 1.5, 4.5.
    assert (a.low, a.high) == (Decimal("-3.00"), Decimal("-3.00"))
    assert (b.low, b.high) == (Decimal("-1.50"), Decimal("1.50"))
    assert (c.low, c.high) == (Decimal("1.50"), Decimal("4.50"))
    # B: marks 32, 31, 36 against the others' means 32, 29.5, 37.5: Sxy 21.5, Sxx 14,
    # Syy 33.5, r = 21.5 / sqrt(469) = 0.9928 -> 0.99. C: 34, 31, 40 against 31, 29.5, 35.5:
    # r = 28.5 / sqrt(819) = 0.9959 -> 1.00.
    assert b.consistency == Decimal("0.99")
    assert c.consistency == Decimal("1.00")
    exact = {row.judge: row for row in compare_judges(EXAMPLE_E)}
    assert exact["B"].correlation_squared == Fraction(Fraction(43, 2) ** 2, 14 * Fraction(67, 2))
    assert exact["A"].correlation_squared == 1 and exact["A"].correlation_sign == 1


def test_the_event_decimals_round_half_up() -> None:
    figures = {row.judge: row for row in judge_figures(EXAMPLE_E, decimals=0)}
    # B's d: 0, 1.5, −1.5: deviation exactly 1; the spread −1.5 and 1.5 round away from 0.
    assert (figures["B"].low, figures["B"].high) == (Decimal(-2), Decimal(2))
    assert figures["A"].severity == Decimal(-3)


def test_undefined_figures_are_none() -> None:
    # Two entries only: severity and deviation, no consistency.
    two = {key: EXAMPLE_E[key] for key in ("X", "Y")}
    a = judge_figures(two, 2)[0]
    assert a.n == 2 and a.severity == Decimal("-3.00") and a.consistency is None
    # A judge whose marks do not vary has no consistency; nor one compared with a panel
    # whose means do not vary.
    flat = {"X": {"A": 5, "B": 1, "C": 3}, "Y": {"A": 5, "B": 2, "C": 4},
            "Z": {"A": 5, "B": 3, "C": 5}}
    assert judge_figures(flat, 2)[0].consistency is None
    assert judge_figures(flat, 2)[0].severity == Decimal("2.00")
    # Entries with one other judge only do not count: n = 0, nothing else.
    pairs = {"X": {"A": 5, "B": 1}, "Y": {"A": 4, "B": 2}}
    for row in judge_figures(pairs, 2):
        assert (row.n, row.severity, row.deviation, row.consistency, row.low) == (
            0, None, None, None, None)
    assert judge_figures({}, 2) == []


def test_entries_without_enough_others_are_left_out_of_one_judge_only() -> None:
    # D marked X only, alongside A, B, C: D has n = 1; for A the entry X has three others.
    marks = {key: dict(value) for key, value in EXAMPLE_E.items()}
    marks["X"]["D"] = Decimal(40)
    marks["W"] = {"A": Decimal(1), "D": Decimal(2)}  # one other judge only: nobody's
    figures = {row.judge: row for row in judge_figures(marks, 2)}
    assert figures["D"].n == 1
    assert figures["D"].severity == Decimal(40) - Decimal(32)
    assert figures["A"].n == 3
    # On X, A is compared with the mean of B, C and D: (32 + 34 + 40) / 3.
    exact = compare("A", {key: {j: Fraction(v) for j, v in given.items()}
                          for key, given in marks.items()})
    assert exact.low == Fraction(30) - Fraction(106, 3)


@pytest.mark.parametrize(("square", "sign", "shown"), [
    (Fraction(0), 0, "0.00"), (Fraction(1), 1, "1.00"), (Fraction(1), -1, "-1.00"),
    (Fraction(995, 1000) ** 2, 1, "1.00"),  # exactly half: up
    (Fraction(9949, 10000) ** 2, 1, "0.99"),
    (Fraction(5, 1000) ** 2, -1, "-0.01"),  # half: away from zero
    (Fraction(4999, 1000000) ** 2, 1, "0.00"),
    (Fraction(1, 2), 1, "0.71"),  # sqrt(0.5) = 0.7071
])
def test_a_root_is_rounded_half_up_exactly(square: Fraction, sign: int, shown: str) -> None:
    assert rounded_root(square, sign, 2) == Decimal(shown)


# --- properties ---------------------------------------------------------------------------

marks_strategy = st.builds(lambda units: Decimal(units) / 2, st.integers(0, 200))


@st.composite
def panels(draw: st.DrawFn, full: bool = False) -> dict[str, dict[str, Decimal]]:
    """Entries E1.. marked by some of the judges J1..Jm (every judge, when `full`)."""
    judges = [f"J{number}" for number in range(1, draw(st.integers(3, 6)) + 1)]
    entries = {}
    for number in range(1, draw(st.integers(1, 8)) + 1):
        who = judges if full else draw(st.lists(st.sampled_from(judges), unique=True,
                                                max_size=len(judges)))
        entries[f"E{number}"] = {judge: draw(marks_strategy) for judge in who}
    return entries


def definition(judge: str, marks: dict[str, dict[str, Decimal]]) -> list[Fraction]:
    """d over the entries that count, straight from DOMAIN.md's words."""
    return [Fraction(given[judge]) - sum(Fraction(v) for j, v in given.items() if j != judge)
            / (len(given) - 1) for given in marks.values()
            if judge in given and len(given) >= 3]


@SETTINGS
@given(panels())
def test_figures_follow_the_definitions(marks: dict[str, dict[str, Decimal]]) -> None:
    for row in compare_judges(marks):
        d = definition(row.judge, marks)
        assert row.n == len(d)
        if not d:
            assert row.severity is row.deviation is row.correlation_squared is None
            continue
        assert row.severity == sum(d) / len(d)
        assert row.deviation == sum(abs(x) for x in d) / len(d)
        assert (row.low, row.high) == (min(d), max(d))
        # deviation >= |severity|, and the spread holds the mean.
        assert row.deviation >= abs(row.severity)
        assert row.low <= row.severity <= row.high


@SETTINGS
@given(panels())
def test_consistency_is_a_correlation(marks: dict[str, dict[str, Decimal]]) -> None:
    for comparison in compare_judges(marks):
        row = comparison.rounded(2)
        if comparison.n < 3:
            assert row.consistency is None
            continue
        if comparison.correlation_squared is None:
            continue  # no variance
        assert 0 <= comparison.correlation_squared <= 1
        assert Decimal(-1) <= row.consistency <= Decimal(1)
        # Against a float model where the figure is not within 1e-9 of a rounding half.
        own = [float(given[comparison.judge]) for given in marks.values()
               if comparison.judge in given and len(given) >= 3]
        others = [sum(float(v) for j, v in given.items() if j != comparison.judge)
                  / (len(given) - 1) for given in marks.values()
                  if comparison.judge in given and len(given) >= 3]
        mx, my = sum(own) / len(own), sum(others) / len(others)
        sxy = sum((x - mx) * (y - my) for x, y in zip(own, others))
        sxx = sum((x - mx) ** 2 for x in own)
        syy = sum((y - my) ** 2 for y in others)
        r = sxy / math.sqrt(sxx * syy)
        scaled = abs(r) * 100
        assume(abs(scaled - math.floor(scaled) - 0.5) > 1e-6)
        assert float(row.consistency) == pytest.approx(math.copysign(
            math.floor(scaled + 0.5), r) / 100, abs=1e-9)


@SETTINGS
@given(panels(full=True))
def test_a_full_panels_severities_sum_to_zero(marks: dict[str, dict[str, Decimal]]) -> None:
    """Every judge marking every entry: d_j = (m x_j − S) / (m − 1), which sum to 0."""
    comparisons = compare_judges(marks)
    assert sum(row.severity for row in comparisons) == 0


@SETTINGS
@given(panels(full=True), st.integers(1, 20), st.data())
def test_a_judge_adding_a_constant(marks: dict[str, dict[str, Decimal]], k: int,
                                   data: st.DataObject) -> None:
    """One judge adding k to every mark: their severity moves by k, every other judge's by
    −k/(m − 1) on a full panel of m, deviations change by at most that, and the judge's own
    consistency stays (a correlation ignores a shift)."""
    judges = sorted(next(iter(marks.values())))
    m = len(judges)
    lenient = data.draw(st.sampled_from(judges))
    shifted = {key: {judge: value + k if judge == lenient else value
                     for judge, value in given.items()} for key, given in marks.items()}
    before = {row.judge: row for row in compare_judges(marks)}
    after = {row.judge: row for row in compare_judges(shifted)}
    for judge in judges:
        move = Fraction(k) if judge == lenient else Fraction(-k, m - 1)
        assert after[judge].severity == before[judge].severity + move
        assert abs(after[judge].deviation - before[judge].deviation) <= abs(move)
    assert after[lenient].correlation_squared == before[lenient].correlation_squared
    assert after[lenient].correlation_sign == before[lenient].correlation_sign


@SETTINGS
@given(panels())
def test_the_names_of_entries_and_the_order_of_judges_change_nothing(
        marks: dict[str, dict[str, Decimal]]) -> None:
    renamed = {index: dict(reversed(list(given.items())))
               for index, given in enumerate(reversed(list(marks.values())))}
    assert compare_judges(renamed) == compare_judges(marks)


@SETTINGS
@given(st.lists(st.fractions(min_value=-100, max_value=100, max_denominator=8),
                min_size=3, max_size=8), st.fractions(min_value=1, max_value=9,
                                                      max_denominator=4))
def test_a_correlation_with_itself_and_its_mirror(xs: list[Fraction], scale: Fraction) -> None:
    assume(len(set(xs)) > 1)
    assert correlation(xs, [scale * x + 3 for x in xs]) == (1, 1)
    assert correlation(xs, [-scale * x for x in xs]) == (1, -1)


@SETTINGS
@given(panels(), st.integers(0, 4))
def test_published_figures_are_the_exact_ones_rounded(
        marks: dict[str, dict[str, Decimal]], decimals: int) -> None:
    for exact, shown in zip(compare_judges(marks), judge_figures(marks, decimals)):
        if exact.severity is None:
            assert shown.severity is None
            continue
        assert shown.severity == round_half_up(exact.severity, decimals)
        assert shown.deviation == round_half_up(exact.deviation, decimals)
