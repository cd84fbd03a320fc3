"""Bad input, reported as problems that name the file, row and column at fault."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Where a scheme's checker says a problem is: "criteria[2] (P1).max" is the second criterion
# (code P1), its key max; a key may go on ("criteria[1] (J1).bands[2].min").
FIELD_PATH = re.compile(r"^(sections|criteria|awards)\[(\d+)\](?: \((.*?)\))?(?:\.(.+))?$")
TABLE_WORDS = {
    "sections": (_l("section %(number)s"), _l("section %(number)s (%(code)s)")),
    "criteria": (_l("criterion %(number)s"), _l("criterion %(number)s (%(code)s)")),
    "awards": (_l("award %(number)s"), _l("award %(number)s (%(code)s)")),
}
# A scheme's keys as the scheme form labels them.
KEY_WORDS = {
    "code": _l("Code"), "name": _l("Title"), "section": _l("Section"), "max": _l("Max"),
    "step": _l("Step"), "weight": _l("Weight"), "judges": _l("Judges"),
    "aggregate": _l("Rule"), "kind": _l("Kind"), "max_spread": _l("Max spread"),
    "blind": _l("Blind"), "share": _l("Share"), "count": _l("Count"),
    "min_total": _l("Minimum total"), "decimals": _l("Decimal places"),
    "rounding": _l("Rounding"), "award_rounding": _l("Award places"),
    "tie_break": _l("Tie-break keys"), "team_best_n": _l("Team: best N members"),
    "competition": _l("Competition"), "sections": _l("Sections"), "criteria": _l("Criteria"),
    "awards": _l("Awards"), "levels": _l("Levels 0|1|2|3"), "unit": _l("Unit"),
    "range": _l("Range (e.g. 0~10)"), "bands": _l("Bands (e.g. 0~2.0: 4, 0~3.0: 2)"),
    "appeal_hours": _l("Appeal window (hours)"),
}


def field_words(path: str) -> str:
    """A scheme key's path as the scheme form's reader says it: "criteria[2] (P1).max" ->
    "criterion 2 (P1), Max" ("评分项 2（P1），满分"); a path it does not know, as it is."""
    match = FIELD_PATH.match(path)
    if not match:
        known = KEY_WORDS.get(path)
        return str(known) if known is not None else path
    table, number, code, key = match.groups()
    plain, coded = TABLE_WORDS[table]
    where = str(coded % {"number": number, "code": code} if code
                else plain % {"number": number})
    if not key:
        return where
    known = KEY_WORDS.get(key)
    return _("%(where)s, %(key)s", where=where, key=str(known) if known is not None else key)


@dataclass(frozen=True)
class Problem:
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None  # a key of a scheme file, or an option of a command

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(_("row %(row)s", row=self.row))
        if self.column:
            where.append(_("column %(column)s", column=self.column))
        if self.field:
            where.append(_("field %(field)s", field=self.field))
        if not where:
            return self.message
        return _("%(where)s: %(message)s", where=_(", ").join(where), message=self.message)


class InputError(Exception):
    """Raised with every problem found; the operation that raised it wrote nothing."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__(str(self.problems[0]))

    def lines(self, limit: int = 20) -> list[str]:
        shown = [str(problem) for problem in self.problems[:limit]]
        if len(self.problems) > limit:
            shown.append(_("… and %(count)s more problems", count=len(self.problems) - limit))
        return shown
