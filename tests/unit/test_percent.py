"""Weights and shares as spreadsheets write them: "30%" is exactly 3/10."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, strategies as st

from scoring import rules
from scoring.files.scheme import check_scheme
from scoring.problems import InputError


@pytest.mark.parametrize(("text", "exact"), [("30%", Fraction(3, 10)), ("12.5%", Fraction(1, 8)),
                                             ("100%", Fraction(1)), ("30％", Fraction(3, 10)),
                                             (" 70% ", Fraction(7, 10))])
def test_percentages_are_exact(text: str, exact: Fraction) -> None:
    assert rules.parse_fraction(text) == exact


@pytest.mark.parametrize("text", ["%", "30%%", "1/3%", "３０%", "30 %x", "-%"])
def test_other_percent_texts_are_refused(text: str) -> None:
    with pytest.raises((ValueError, ArithmeticError)):
        rules.parse_fraction(text)


@given(st.integers(min_value=1, max_value=10_000))
def test_a_percentage_is_its_hundredth(tenths: int) -> None:
    text = f"{tenths / 10:.1f}%"
    assert rules.parse_fraction(text) == Fraction(tenths, 1000)


def test_a_scheme_takes_percent_weights_and_shares() -> None:
    checked = check_scheme({
        "code": "PCT", "name": "百分比",
        "criteria": [{"code": "T", "name": "理论", "max": 100, "weight": "30%"},
                     {"code": "P", "name": "实操", "max": 100, "weight": "70%"}],
        "awards": [{"name": "一等奖", "share": "10%"}]})
    assert [criterion.weight for criterion in checked.scheme.criteria] == [
        Fraction(3, 10), Fraction(7, 10)]
    assert checked.weights == {"T": "30%", "P": "70%"}
    with pytest.raises(InputError) as refused:
        check_scheme({"code": "PCT", "name": "x",
                      "criteria": [{"code": "T", "name": "t", "max": 10, "weight": "30%%"}]})
    message = str(refused.value.problems[0])
    assert '"30%"' in message and "30%%" not in message
