"""DOMAIN.md's worked examples (a), (b) and (c), and the rules around them."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import pytest

from scoring import rules
from scoring.rules import AwardTier, CriterionRule, EntryInput, Scheme, SectionRule

pytestmark = pytest.mark.pure


def marks(*values: str) -> list[D]:
    return [D(value) for value in values]


# --- (a) trimmed mean, five judges, weights 0.40 / 0.35 / 0.25 ----------------------------

def example_a(rounding: str) -> Scheme:
    return Scheme(
        code="A", rounding=rounding, sections=(SectionRule("all"),),
        criteria=tuple(
            CriterionRule(code, "all", D(100), weight=weight, judges=5, aggregate="trimmed")
            for code, weight in (("C1", Fraction("0.40")), ("C2", Fraction("0.35")),
                                 ("C3", Fraction("0.25")))))


EXAMPLE_A_MARKS = {
    "C1": marks("84", "92", "86", "80", "87"),
    "C2": marks("73", "65", "71", "74", "79"),
    "C3": marks("90", "95", "88", "91", "90"),
}


def test_example_a_trimmed_aggregates_as_on_the_mark_sheet() -> None:
    result = rules.score_entry(example_a("stage"), EntryInput("01", EXAMPLE_A_MARKS))
    assert result.aggregates == {"C1": D("85.67"), "C2": D("72.67"), "C3": D("90.33")}


def test_example_a_stage_rounding_gives_82_29_not_82_28() -> None:
    result = rules.score_entry(example_a("stage"), EntryInput("01", EXAMPLE_A_MARKS))
    assert sum(result.contributions.values()) == Fraction("82.285")
    assert result.total == D("82.29")
    assert str(result.total) == "82.29"


def test_example_a_end_rounding_gives_82_28() -> None:
    result = rules.score_entry(example_a("end"), EntryInput("01", EXAMPLE_A_MARKS))
    assert sum(result.contributions.values()) == Fraction(24685, 300)  # 246.85 / 3
    assert result.total == D("82.28")


def test_example_a_plain_mean_would_give_82_36() -> None:
    scheme = example_a("stage")
    plain = Scheme(code="A", sections=scheme.sections, criteria=tuple(
        CriterionRule(c.code, "all", c.max, weight=c.weight, judges=5, aggregate="mean")
        for c in scheme.criteria))
    assert rules.score_entry(plain, EntryInput("01", EXAMPLE_A_MARKS)).total == D("82.36")


def test_trimmed_drops_one_instance_of_a_repeated_extreme() -> None:
    assert rules.aggregate("trimmed", marks("90", "90", "90", "80", "80")) == Fraction(260, 3)
    assert rules.aggregate("median", marks("1", "4", "2", "3")) == Fraction(5, 2)
    assert rules.aggregate("median", marks("7", "1", "5")) == 5


# --- (b) ties ---------------------------------------------------------------------------

def example_b(tie_break: tuple[str, ...]) -> Scheme:
    return Scheme(
        code="EX-B", tie_break=tie_break,
        sections=(SectionRule("theory"), SectionRule("practical")),
        criteria=(
            CriterionRule("T", "theory", D(100), step=D("0.5"), weight=Fraction("0.3")),
            CriterionRule("P", "practical", D(100), step=D("0.5"), weight=Fraction("0.7")),
        ))


EXAMPLE_B = [  # bib, theory, practical, minutes
    ("03", "92", "88.5", 171),
    ("12", "87", "87", 145),
    ("18", "87", "87", 145),
    ("07", "80", "90", 152),
    ("15", "75", "85.5", 160),
]


def example_b_entries() -> list[EntryInput]:
    return [EntryInput(bib, {"T": marks(theory), "P": marks(practical)}, time=minutes * 60)
            for bib, theory, practical, minutes in reversed(EXAMPLE_B)]


def standings_table(standings: rules.Standings) -> list[tuple[int | None, str, str]]:
    return [(result.rank, result.bib, str(result.total)) for result in standings.results]


def test_example_b_time_then_practical_then_theory() -> None:
    standings = rules.compute_standings(
        example_b(("time", "section:practical", "section:theory")), example_b_entries())
    assert standings_table(standings) == [
        (1, "03", "89.55"), (2, "12", "87.00"), (2, "18", "87.00"), (4, "07", "87.00"),
        (5, "15", "82.35")]


def test_example_b_practical_first() -> None:
    standings = rules.compute_standings(example_b(("section:practical",)),
                                        example_b_entries())
    assert standings_table(standings) == [
        (1, "03", "89.55"), (2, "07", "87.00"), (3, "12", "87.00"), (3, "18", "87.00"),
        (5, "15", "82.35")]


def test_example_b_would_differ_in_binary_floating_point() -> None:
    # Why the rules use decimals: DOMAIN.md's pair is equal exactly but not as floats.
    assert 0.3 * 70 + 0.7 * 84.5 != 0.3 * 77 + 0.7 * 81.5
    scheme = example_b(())
    pair = [EntryInput("1", {"T": marks("70"), "P": marks("84.5")}),
            EntryInput("2", {"T": marks("77"), "P": marks("81.5")})]
    assert [r.rank for r in rules.compute_standings(scheme, pair).results] == [1, 1]
    standings = rules.compute_standings(example_b(()), example_b_entries())
    assert [result.rank for result in standings.results] == [1, 2, 2, 2, 5]


def test_example_b_sections_are_weighted_subtotals() -> None:
    standings = rules.compute_standings(example_b(()), example_b_entries())
    first = standings.results[0]
    assert first.sections == {"theory": D("27.60"), "practical": D("61.95")}
    assert first.aggregates == {"T": D("92.00"), "P": D("88.50")}


def test_absent_and_dq_are_listed_after_the_ranked() -> None:
    entries = example_b_entries()
    entries[0].status = "dq"  # 15
    entries[4].status = "absent"  # 03
    standings = rules.compute_standings(example_b(("time",)), entries)
    assert [(r.rank, r.bib, r.status) for r in standings.results] == [
        (1, "12", "ok"), (1, "18", "ok"), (3, "07", "ok"), (None, "03", "absent"),
        (None, "15", "dq")]
    assert standings.results[-1].total is None and standings.results[-1].award is None


def test_criterion_tie_break_prefers_the_smaller_penalty() -> None:
    scheme = Scheme(code="P", tie_break=("criterion:S",), criteria=(
        CriterionRule("W", "", D(100)),
        CriterionRule("S", "", D(10), kind="penalty")))
    entries = [EntryInput("1", {"W": marks("90"), "S": marks("5")}),
               EntryInput("2", {"W": marks("87"), "S": marks("2")})]
    standings = rules.compute_standings(scheme, entries)
    assert [(r.bib, r.rank, r.total) for r in standings.results] == [
        ("2", 1, D("85.00")), ("1", 2, D("85.00"))]


# --- (c) awards for N = 23 --------------------------------------------------------------

def award_scheme(rounding: str, tiers: tuple[AwardTier, ...] | None = None) -> Scheme:
    return Scheme(code="C", award_rounding=rounding, criteria=(CriterionRule("X", "", D(100)),),
                  awards=tiers or (AwardTier("一等奖", share=Fraction("0.10")),
                                   AwardTier("二等奖", share=Fraction("0.20")),
                                   AwardTier("三等奖", share=Fraction("0.30"))))


def entries_with_totals(totals: list[int]) -> list[EntryInput]:
    return [EntryInput(f"{index + 1:02d}", {"X": [D(total)]})
            for index, total in enumerate(totals)]


def test_example_c_half_up_cutoffs() -> None:
    assert rules.award_cutoffs(award_scheme("half_up"), 23) == [2, 7, 14]


def test_example_c_floor_cutoffs() -> None:
    assert rules.award_cutoffs(award_scheme("floor"), 23) == [2, 6, 13]


def test_example_c_awards_by_rank() -> None:
    standings = rules.compute_standings(award_scheme("half_up"),
                                        entries_with_totals(list(range(99, 76, -1))))
    awards = [result.award for result in standings.results]
    assert awards == ["一等奖"] * 2 + ["二等奖"] * 5 + ["三等奖"] * 7 + [None] * 9


def test_example_c_tie_on_the_first_prize_boundary() -> None:
    totals = [99, 98, 98] + list(range(90, 70, -1))
    standings = rules.compute_standings(award_scheme("half_up"), entries_with_totals(totals))
    table = [(result.rank, result.award) for result in standings.results]
    assert table[:3] == [(1, "一等奖"), (2, "一等奖"), (2, "一等奖")]
    assert table[3] == (4, "二等奖")
    # Second prize still ends at K2 = 7: the tie made it one place shorter.
    assert [award for _, award in table].count("二等奖") == 4
    assert table[6] == (7, "二等奖") and table[7] == (8, "三等奖")


def test_min_total_leaves_places_empty() -> None:
    tiers = (AwardTier("一等奖", count=1), AwardTier("二等奖", count=2, min_total=D("90")))
    standings = rules.compute_standings(award_scheme("half_up", tiers),
                                        entries_with_totals([95, 91, 89, 88]))
    assert [result.award for result in standings.results] == ["一等奖", "二等奖", None, None]


def test_count_tiers_are_cumulative() -> None:
    tiers = (AwardTier("金", count=1), AwardTier("银", count=1), AwardTier("铜", count=2))
    assert rules.award_cutoffs(award_scheme("half_up", tiers), 10) == [1, 2, 4]
    assert rules.award_cutoffs(award_scheme("half_up", tiers), 3) == [1, 2, 3]


# --- rounding, teams, completeness, spread ------------------------------------------------

@pytest.mark.parametrize(("value", "places", "expected"), [
    ("82.285", 2, "82.29"), ("0.125", 2, "0.13"), ("2.5", 0, "3"), ("-2.5", 0, "-3"),
    ("1.0049999", 2, "1.00"), ("0", 2, "0.00"), ("99.995", 2, "100.00"),
])
def test_round_half_up(value: str, places: int, expected: str) -> None:
    assert str(rules.round_half_up(D(value), places)) == expected


def test_round_half_up_of_a_third_is_exact() -> None:
    assert rules.round_half_up(Fraction(1, 3), 2) == D("0.33")
    assert rules.round_half_up(Fraction(2, 3), 2) == D("0.67")


def test_weights_as_exact_fractions() -> None:
    assert rules.parse_fraction("7/30") == Fraction(7, 30)
    assert rules.parse_fraction(D("0.3")) == Fraction(3, 10)
    for bad in ("0.3.1", "1e3", "NaN", "x/3", "", "1/ 0x"):
        with pytest.raises((ValueError, ZeroDivisionError)):
            rules.parse_fraction(bad)
    scheme = Scheme(code="F", criteria=(CriterionRule("X", "", D(300), weight=Fraction(7, 30)),))
    # 7/30 of 257 is 59.9666..., which the decimal 0.2333 would not give.
    assert rules.score_entry(scheme, EntryInput("1", {"X": [D(257)]})).total == D("59.97")


def test_team_ranking_best_n_and_time() -> None:
    scheme = Scheme(code="T", team_best_n=2, criteria=(CriterionRule("X", "", D(100)),))
    entries = [
        EntryInput("1", {"X": [D(90)]}, delegation="甲", time=100),
        EntryInput("2", {"X": [D(80)]}, delegation="甲", time=100),
        EntryInput("3", {"X": [D(10)]}, delegation="甲", time=100),
        EntryInput("4", {"X": [D(85)]}, delegation="乙", time=90),
        EntryInput("5", {"X": [D(85)]}, delegation="乙", time=90),
        EntryInput("6", {"X": [D(170)]}, delegation="丙", time=300, status="dq"),
        EntryInput("7", {"X": [D(100)]}, delegation="丙", time=300),
    ]
    teams = rules.compute_standings(scheme, entries).teams
    assert [(t.rank, t.delegation, t.members_counted, str(t.total)) for t in teams] == [
        (1, "乙", 2, "170.00"), (2, "甲", 2, "170.00"), (3, "丙", 1, "100.00")]


def test_missing_marks_and_spread() -> None:
    scheme = Scheme(code="M", criteria=(
        CriterionRule("P", "", D(40), judges=5, aggregate="trimmed", max_spread=D(8)),
        CriterionRule("Q", "", D(10))))
    result = rules.score_entry(scheme, EntryInput("1", {"P": marks("30", "39", "31")}))
    assert result.missing == {"P": 2, "Q": 1}
    assert not result.complete
    assert result.spread == ("P",)
    assert result.aggregates["Q"] is None
    assert result.total == D("31.00")  # the provisional trimmed mean of three marks
    # Two of the five judges stand aside for this contestant's delegation: three are all
    # it can get, so nothing is missing on P, and the figures are the same.
    standing_aside = rules.score_entry(scheme, EntryInput(
        "1", {"P": marks("30", "39", "31")}, needed={"P": 3}))
    assert standing_aside.missing == {"P": 0, "Q": 1}
    assert standing_aside.total == result.total


@pytest.mark.parametrize(("value", "problem"), [
    ("10", None), ("0", None), ("9.5", None), ("-0.5", "below_zero"), ("10.5", "above_max"),
    ("9.25", "off_step"), ("NaN", "not_a_number"),
])
def test_check_mark(value: str, problem: str | None) -> None:
    criterion = CriterionRule("X", "", D(10), step=D("0.5"))
    assert rules.check_mark(criterion, D(value)) == problem


def test_check_mark_precision_without_step() -> None:
    criterion = CriterionRule("X", "", D(10))
    assert rules.check_mark(criterion, D("1.2345")) is None
    assert rules.check_mark(criterion, D("1.23456")) == "too_precise"
    assert rules.check_mark(criterion, D("1.50000")) is None


@pytest.mark.parametrize("text", ["", "abc", "1e3", "NaN", "inf", "12,5", "1.", ".", "+", "１２"])
def test_parse_decimal_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        rules.parse_decimal(text)


def test_criterion_tie_break_has_no_false_ties_from_rounding() -> None:
    # 0.3 x 85.67 = 25.701 and 0.3 x 85.66 = 25.698 both round to 25.70: the published
    # aggregates 85.67 > 85.66 still separate them.
    scheme = Scheme(code="R", tie_break=("criterion:A",), criteria=(
        CriterionRule("A", "", D(100), weight=Fraction("0.3")),
        CriterionRule("B", "", D(100))))
    entries = [EntryInput("1", {"A": marks("85.66"), "B": marks("10.003")}),
               EntryInput("2", {"A": marks("85.67"), "B": marks("10")})]
    standings = rules.compute_standings(scheme, entries)
    assert [(r.bib, r.rank, str(r.total)) for r in standings.results] == [
        ("2", 1, "35.70"), ("1", 2, "35.70")]
