"""The words people see for the states and codes stored in the database."""

from __future__ import annotations

from decimal import Decimal

from typing import Any

from flask import Flask

from . import rules
from flask_babel import lazy_gettext as _l

LABELS = {
    "visibility": {"hidden": _l("hidden"), "live": _l("live (provisional)"),
                   "frozen": _l("frozen"), "published": _l("published")},
    "state": {"setup": _l("setting up"), "registration": _l("registration"),
              "drawn": _l("lots drawn"), "scoring": _l("scoring"), "locked": _l("locked"),
              "provisional": _l("provisional (appeal window)"), "published": _l("published")},
    "status": {"ok": _l("ok"), "absent": _l("absent"), "dq": _l("disqualified")},
    "kind": {"score": _l("score"), "penalty": _l("deduction"), "judgement": _l("judgement"),
             "measurement": _l("measurement")},
    "role": {"organiser": _l("organiser"), "chief": _l("chief judge"), "judge": _l("judge"),
             "arbiter": _l("arbiter")},
    "source": {"import": _l("import"), "judge": _l("judge"), "chief": _l("chief judge"),
               "demo": _l("demo")},
    "appeal": {"received": _l("received"), "dismissed": _l("dismissed"),
               "recheck": _l("re-check ordered"), "changed": _l("re-checked: marks changed"),
               "unchanged": _l("re-checked: marks unchanged")},
}


# WorldSkills' level descriptors, shown when a judgement criterion gives none of its own.
STANDARD_LEVELS = (_l("Below industry standard"), _l("Meets industry standard"),
                   _l("Meets and in some respects exceeds industry standard"),
                   _l("Excellent: well above industry standard"))


def shown_figure(value: Any) -> str:
    """An exact mark as a person reads it: 4, 3.33 (two places at most, half up)."""
    rounded = rules.round_half_up(value, 2)
    text = format(rounded, "f").rstrip("0").rstrip(".")
    return text or "0"


def levels_of(criterion: Any) -> list[tuple[int, str, str]]:
    """A judgement criterion's levels as the sheet shows them: (level, descriptor, mark)."""
    texts = list(criterion.levels) or [str(text) for text in STANDARD_LEVELS]
    return [(level, texts[level], shown_figure(rules.judgement_mark(criterion.max_value, level)))
            for level in rules.LEVELS]


def mark_text(mark: Any) -> str:
    """A mark as staff read it: "2 → 4" (level, mark) on a judgement, "2.4 mm → 2" (value,
    mark) on a measurement, the mark itself on another criterion."""
    return entered_text(mark.criterion, mark.entered, mark.value)


def entered_text(criterion: Any, entered: Any, value: Any) -> str:
    """What was entered and the mark it gives, as mark_text says it (a revision's old or new
    side too: `entered` None is a plain mark)."""
    if value is None:
        return ""
    if entered is None:
        return str(value)
    if criterion.kind == "judgement":
        exact = rules.judgement_mark(criterion.max_value, entered)
        return f"{entered} → {shown_figure(exact)}"
    unit = f" {criterion.unit}" if criterion.unit else ""
    return f"{entered}{unit} → {value}"


def spread_figure(criterion: Any, text: str | None) -> Any:
    """The figure of a mark_text that spreads are measured in: the level on a judgement
    criterion (its max_spread counts levels), the mark otherwise; None for no mark."""
    if not text:
        return None
    entered, arrow, mark = text.partition(" → ")
    figure = entered if arrow and criterion.kind == "judgement" else (mark if arrow else text)
    return Decimal(figure.split()[0])


def label(kind: str, code: str) -> str:
    return str(LABELS[kind].get(code, code))


def init_app(app: Flask) -> None:
    for kind in LABELS:
        app.add_template_global(lambda code, kind=kind: label(kind, code), f"{kind}_label")
    app.add_template_global(levels_of, "levels_of")
    app.add_template_global(shown_figure, "shown_figure")
    app.add_template_global(mark_text, "mark_text")
    app.add_template_global(entered_text, "entered_text")
