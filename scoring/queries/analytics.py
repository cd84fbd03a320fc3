"""Judge analytics of one event (DOMAIN.md; the arithmetic is scoring/analytics.py): how each
judge marks each criterion compared with the others of its panel, for the chief judge and the
organisers (the console's page, `scoring analytics`, the XLSX export). Never public.

Which marks count: those of judges, that is every mark whose judge is an account (marked on
a tablet, corrected by the chief judge, or imported under the judge's account name). An
imported objective result under another label (a computer-marked exam) is nobody's judgement
and is left out. The marks count whatever the contestant's status: they say how the judge
marks, not what the contestant gets.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..analytics import Figures, judge_figures
from ..extensions import db
from ..models import Criterion, Entry, Event, Mark, User
from ..rules import Number, judgement_mark

COLUMNS = ("judge", "criterion", "n", "severity", "deviation", "consistency")


@dataclass
class JudgeRow:
    """One judge on one criterion: the account, the name people read, the figures."""

    account: str
    name: str
    figures: Figures


@dataclass
class CriterionAnalytics:
    criterion: Criterion
    rows: list[JudgeRow] = field(default_factory=list)

    @property
    def compared(self) -> list[JudgeRow]:
        """The judges with at least one entry to compare (n > 0)."""
        return [row for row in self.rows if row.figures.n]


def event_analytics(event: Event) -> list[CriterionAnalytics]:
    """Per criterion of the event (in the scheme's order), each judge who marked it, by
    account name; the marks are read once."""
    marks: dict[int, dict[int, dict[str, Number]]] = defaultdict(lambda: defaultdict(dict))
    names: dict[str, str] = {}
    judged = {criterion.id: criterion.max_value for criterion in event.criteria
              if criterion.kind == "judgement"}
    for criterion_id, entry_id, judge, value, entered, display_name in db.session.execute(
            select(Mark.criterion_id, Mark.entry_id, Mark.judge, Mark.value, Mark.entered,
                   User.display_name)
            .join(Entry, Mark.entry_id == Entry.id)
            .join(User, User.username == Mark.judge)
            .where(Entry.event_id == event.id)):
        # A judgement's mark exactly, from its level (the stored value is rounded: 10/3).
        marks[criterion_id][entry_id][judge] = judgement_mark(judged[criterion_id], entered) \
            if criterion_id in judged and entered is not None else value
        names[judge] = display_name or judge
    return [CriterionAnalytics(criterion, [
        JudgeRow(figures.judge, names[figures.judge], figures)
        for figures in judge_figures(marks.get(criterion.id, {}), event.decimals)])
        for criterion in event.criteria]


def figure_text(value: Decimal | None, decimals: int) -> str:
    """A figure as exact text with its places ("-3.00"), empty when undefined."""
    return "" if value is None else f"{value:.{decimals}f}"


def analytics_rows(event: Event, analytics: list[CriterionAnalytics]) -> list[dict[str, Any]]:
    """One row per (judge, criterion) with FORMATS.md's stable keys, criteria in the
    scheme's order and judges by account name: figures as text with the event's decimals,
    consistency with 2, empty when undefined; `n` a whole number."""
    rows = []
    for item in analytics:
        for row in item.rows:
            figures = row.figures
            rows.append({
                "judge": row.account,
                "criterion": item.criterion.code,
                "n": figures.n,
                "severity": figure_text(figures.severity, event.decimals),
                "deviation": figure_text(figures.deviation, event.decimals),
                "consistency": figure_text(figures.consistency, 2),
            })
    return rows
