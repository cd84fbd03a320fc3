"""Judgement and measurement criteria in the rules (DOMAIN.md, example (d)), with properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import rules
from scoring.rules import Band, CriterionRule, EntryInput, Scheme, SectionRule

pytestmark = pytest.mark.pure

D = Decimal
J1 = CriterionRule("J1", "practical", D(6), kind="judgement", judges=3)
M1 = CriterionRule("M1", "practical", D(4), kind="measurement", step=D("0.1"),
                   range=(D(0), D(10)), unit="mm",
                   bands=(Band(D(0), D("2.0"), D(4)), Band(D(0), D("3.0"), D(2))))
EXAMPLE_D = Scheme("EX-D", (J1, M1), (SectionRule("practical"),), decimals=2, rounding="stage")


def entry(levels: list[int], measured: str) -> EntryInput:
    return EntryInput("01", marks={
        "J1": [rules.mark_for(J1, D(level)) for level in levels],
        "M1": [rules.mark_for(M1, D(measured))]})


def test_example_d_judgement_marks_and_mean() -> None:
    assert [rules.mark_for(J1, D(level)) for level in (2, 3, 2)] == [4, 6, 4]
    result = rules.score_entry(EXAMPLE_D, entry([2, 3, 2], "2.4"))
    assert result.aggregates["J1"] == D("4.67")  # 14/3 = 4.666...


def test_example_d_measurement_bands() -> None:
    assert [rules.mark_for(M1, D(value)) for value in ("2.4", "2.0", "3.0", "3.1")] == [
        D(2), D(4), D(2), D(0)]


def test_example_d_total() -> None:
    result = rules.score_entry(EXAMPLE_D, entry([2, 3, 2], "2.4"))
    assert result.aggregates["M1"] == D("2.00")
    assert result.total == D("6.67")
    assert result.sections["practical"] == D("6.67")
    assert result.spread == ()


def test_example_d_levels_two_apart_are_flagged() -> None:
    assert rules.score_entry(EXAMPLE_D, entry([1, 3, 2], "2.4")).spread == ("J1",)
    assert rules.score_entry(EXAMPLE_D, entry([1, 2, 2], "2.4")).spread == ()
    wider = CriterionRule("J1", "practical", D(6), kind="judgement", max_spread=D(2))
    scheme = Scheme("X", (wider, M1), (SectionRule("practical"),))
    assert rules.score_entry(scheme, entry([1, 3, 2], "2.4")).spread == ()


def test_a_third_of_a_mark_stays_exact() -> None:
    """max 10, level 1 is 10/3: stored as 3.3333 but used exactly."""
    ten = CriterionRule("J", "p", D(10), kind="judgement")
    assert rules.mark_for(ten, D(1)) == Fraction(10, 3)
    assert rules.stored_mark(ten, D(1)) == D("3.3333")
    assert rules.exact_mark(ten, D("3.3333"), D(1)) == Fraction(10, 3)
    marks = [rules.exact_mark(ten, D("3.3333"), D(level)) for level in (1, 1, 2)]
    # (10/3 + 10/3 + 20/3) / 3 = 40/9 = 4.444444...; the stored 3.3333, 3.3333, 6.6667
    # would give 4.444433... and, at six places, a wrong figure
    six = Scheme("X", (ten,), decimals=6)
    assert rules.score_entry(six, EntryInput("1", {"J": marks})).total == D("4.444444")


@pytest.mark.parametrize(("typed", "problem"), [
    ("4", "not_a_level"), ("1.5", "not_a_level"), ("-1", "not_a_level"), ("3", None),
    ("0", None), ("2.0", None)])
def test_levels_are_whole_numbers_0_to_3(typed: str, problem: str | None) -> None:
    assert rules.check_entered(J1, D(typed)) == problem


@pytest.mark.parametrize(("typed", "problem"), [
    ("10.1", "above_range"), ("-0.1", "below_range"), ("2.45", "off_step"), ("10", None),
    ("0", None), ("2.4", None)])
def test_measured_values_within_range_and_on_step(typed: str, problem: str | None) -> None:
    assert rules.check_entered(M1, D(typed)) == problem


def test_band_problems() -> None:
    assert rules.band_problems(D(4), M1.bands, M1.range) == []
    assert rules.band_problems(D(4), (), None) == [(None, "no_bands")]
    # the wider band first: the narrower one never counts
    shadowed = (Band(D(0), D(3), D(2)), Band(D(0), D(2), D(4)))
    assert rules.band_problems(D(4), shadowed, None) == [(2, "band_unreachable")]
    assert (1, "band_reversed") in rules.band_problems(D(4), (Band(D(3), D(2), D(4)),), None)
    assert rules.band_problems(D(4), (Band(D(0), D(2), D(5)),), None) == [
        (1, "band_mark_above_max")]
    assert rules.band_problems(D(4), (Band(D(0), D(2), D(4)), Band(D(20), D(30), D(1))),
                               (D(0), D(10))) == [(2, "band_outside_range")]
    assert rules.band_problems(D(4), (Band(D(0), D(2), D(3)),), None) == [
        (None, "no_full_mark")]
    # bands that together cover a later one (0-1 and 1-2, then 0.5-1.5) also shadow it
    pieces = (Band(D(0), D(1), D(4)), Band(D(1), D(2), D(3)), Band(D("0.5"), D("1.5"), D(1)))
    assert rules.band_problems(D(4), pieces, None) == [(3, "band_unreachable")]


@settings(max_examples=200, deadline=None)
@given(maximum=st.decimals(min_value=D("0.0001"), max_value=D(1000), places=4),
       level=st.sampled_from(rules.LEVELS))
def test_a_judgement_mark_is_max_times_level_over_3_exactly(maximum: Decimal,
                                                            level: int) -> None:
    rule = CriterionRule("J", "p", maximum, kind="judgement")
    mark = rules.mark_for(rule, D(level))
    assert isinstance(mark, Fraction) and mark * 3 == Fraction(maximum) * level
    assert 0 <= mark <= maximum
    # stored to four places, rebuilt exactly from the level
    assert abs(Fraction(rules.stored_mark(rule, D(level))) - mark) <= Fraction(1, 20000)
    assert rules.exact_mark(rule, rules.stored_mark(rule, D(level)), D(level)) == mark


band = st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 10)).map(
    lambda t: Band(D(min(t[0], t[1])) / 10, D(max(t[0], t[1])) / 10, D(t[2])))


@settings(max_examples=300, deadline=None)
@given(bands=st.lists(band, min_size=1, max_size=6), value=st.integers(-5, 105))
def test_the_first_matching_band_wins(bands: list[Band], value: int) -> None:
    measured = D(value) / 10
    holding = [b for b in bands if b.min <= measured <= b.max]
    expected = holding[0].mark if holding else D(0)
    assert rules.band_mark(bands, measured) == expected
    # bands after the first that holds the value change nothing
    if holding:
        first = bands.index(holding[0])
        assert rules.band_mark(bands[: first + 1] + [Band(D(-1), D(20), D(9))], measured) \
            == expected
