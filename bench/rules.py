"""Benchmark of rules.compute_standings on a large, deterministic event.

Run: .venv/bin/python bench/rules.py [runs]

2,000 contestants x 8 criteria x 5 judges (mean, trimmed and median aggregates, a penalty,
weights such as 7/30 and 7/90), tie-breaks on a section, a criterion and time, three award
tiers (one with a minimum total), team_best_n = 3 over 10 delegations, a few absent and
disqualified contestants. Prints the median and best time of one computation for
rounding "stage" and "end", and a digest of the results (the same digest before and after
an optimisation of scoring/rules.py means the figures did not change).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring import rules  # noqa: E402

CONTESTANTS = 2000
JUDGES = 5
DELEGATIONS = 10
GOAL = 0.2  # seconds per computation


def make_scheme(rounding: str) -> rules.Scheme:
    def criterion(code: str, section: str, weight: Fraction, aggregate: str,
                  max_: str = "100", step: str = "0.5", kind: str = "score") -> rules.CriterionRule:
        return rules.CriterionRule(
            code=code, section=section, max=Decimal(max_), step=Decimal(step),
            weight=weight, judges=JUDGES, aggregate=aggregate, kind=kind,
            max_spread=Decimal(15),
        )

    criteria = (
        criterion("T1", "theory", Fraction(1, 5), "mean", step="1"),
        criterion("T2", "theory", Fraction(1, 10), "median", step="1"),
        criterion("P1", "practical", Fraction(7, 30), "trimmed"),
        criterion("P2", "practical", Fraction(7, 30), "trimmed", step="0.1"),
        criterion("P3", "practical", Fraction(7, 90), "median", step="0.25"),
        criterion("P4", "practical", Fraction(7, 90), "trimmed"),
        criterion("P5", "practical", Fraction(7, 90), "mean", max_="50"),
        criterion("D1", "safety", Fraction(1), "mean", max_="10", kind="penalty"),
    )
    return rules.Scheme(
        code="bench", criteria=criteria,
        sections=(rules.SectionRule("theory"), rules.SectionRule("practical"),
                  rules.SectionRule("safety")),
        decimals=2, rounding=rounding, award_rounding="half_up",
        tie_break=("section:practical", "criterion:P1", "time"),
        team_best_n=3,
        awards=(
            rules.AwardTier("first", share=Fraction(1, 10)),
            rules.AwardTier("second", share=Fraction(2, 10)),
            rules.AwardTier("third", share=Fraction(3, 10), min_total=Decimal(60)),
        ),
    )


def make_entries(scheme: rules.Scheme, seed: int = 2024) -> list[rules.EntryInput]:
    rng = random.Random(seed)
    entries = []
    for number in range(1, CONTESTANTS + 1):
        roll = rng.random()
        status = "absent" if roll < 0.01 else "dq" if roll < 0.015 else "ok"
        marks: dict[str, list[Decimal]] = {}
        if status != "absent":
            skill = rng.uniform(0.55, 0.95)
            for criterion in scheme.criteria:
                steps = int(criterion.max / criterion.step)
                centre = (1 - skill) / 3 if criterion.kind == "penalty" else skill
                marks[criterion.code] = [
                    criterion.step * min(steps, max(0, round(rng.gauss(centre, 0.06) * steps)))
                    for _ in range(criterion.judges)
                ]
        entries.append(rules.EntryInput(
            bib=f"{number:04d}", marks=marks, status=status,
            time=rng.randrange(120 * 60, 180 * 60, 30),
            delegation=f"D{number % DELEGATIONS + 1:02d}",
        ))
    return entries


def digest(standings: rules.Standings) -> str:
    text = repr([dataclasses.astuple(result) for result in standings.results])
    text += repr([dataclasses.astuple(team) for team in standings.teams])
    text += repr(standings.cutoffs)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: nproc={nproc}, python {platform.python_version()} "
          f"({platform.python_implementation()}), {platform.machine()}")
    print(f"event: {CONTESTANTS} contestants x 8 criteria x {JUDGES} judges, "
          f"{DELEGATIONS} delegations; {runs} runs each; goal < {GOAL} s")
    for rounding in rules.ROUNDING_MODES:
        scheme = make_scheme(rounding)
        entries = make_entries(scheme)
        times = []
        standings = None
        for _ in range(runs):
            start = time.perf_counter()
            standings = rules.compute_standings(scheme, entries)
            times.append(time.perf_counter() - start)
        assert standings is not None
        median = statistics.median(times)
        ranked = sum(1 for result in standings.results if result.rank is not None)
        print(f"rounding={rounding:5s}  median {median:.3f} s  best {min(times):.3f} s  "
              f"{'ok' if median < GOAL else 'SLOW'}  "
              f"(ranked {ranked}, cutoffs {standings.cutoffs}, digest {digest(standings)})")


if __name__ == "__main__":
    main()
