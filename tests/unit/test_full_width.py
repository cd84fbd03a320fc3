"""A Chinese keyboard types full-width digits and stops (全角): they are read as numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from scoring import rules
from scoring.inputs import half_width, parse_mark

RULE = rules.CriterionRule(code="P", name="P", section="", max=Decimal(40), step=Decimal("0.5"))


@pytest.mark.parametrize("typed", ["３２．５", "32。5", "３２。５", "　32.5　", "＋32.5"])
def test_full_width_marks_are_read(typed: str) -> None:
    assert parse_mark(typed, RULE) == (Decimal("32.5"), None)


@pytest.mark.parametrize("typed", ["３２，５", "٣٢", "3²", "32..5", "－1"])
def test_other_characters_stay_refused(typed: str) -> None:
    value, problem = parse_mark(typed, RULE)
    assert value is None and problem


@given(st.decimals(min_value=0, max_value=40, places=1, allow_nan=False))
def test_full_width_reads_as_its_ascii(value: Decimal) -> None:
    ascii_text = str(value)
    full = "".join(chr(0xFF10 + int(c)) if c.isdigit() else "．" if c == "." else c
                   for c in ascii_text)
    assert half_width(full) == ascii_text
    assert parse_mark(full, RULE) == parse_mark(ascii_text, RULE)
