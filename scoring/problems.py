"""Bad input, reported as problems that name the file, row and column at fault."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _


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
