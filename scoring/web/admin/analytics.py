"""Console: judge analytics of an event, for its chief judge and the organisers (policy's
"analytics"): per criterion a chart of each judge's severity with the spread of their
differences from the panel (server-side SVG), the table of the figures, and the judges whose
|severity| exceeds a threshold highlighted. The threshold is a share of the criterion's
maximum, a GET field (nothing is written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from ...queries.analytics import CriterionAnalytics, JudgeRow, event_analytics
from ...rules import round_half_up
from . import bp, console_event
from .forms import Number

DEFAULT_THRESHOLD = Decimal(10)  # per cent of the criterion's maximum


class ThresholdForm(FlaskForm):
    """The page's one field (a GET form: nothing is written, no token)."""

    class Meta:
        csrf = False

    threshold = Number(_l("Threshold (per cent of each criterion's maximum)"),
                       render_kw={"inputmode": "decimal", "maxlength": 6})

    def validate_threshold(self, field: Number) -> None:
        if field.data is None:
            raise ValidationError(_("Give a share between 0 and 100."))
        if not Decimal(0) <= field.data <= Decimal(100):
            raise ValidationError(_("Give a share between 0 and 100."))
        if -field.data.as_tuple().exponent > 2:  # type: ignore[operator]
            raise ValidationError(_("At most two decimal places."))


# --- the chart's geometry (SVG user units; exact, shown with one place) ---------------------

WIDTH = 720
LABEL_WIDTH = 130  # the judges' names, left of the plot
PLOT_LEFT, PLOT_RIGHT = LABEL_WIDTH + 10, WIDTH - 20
ROW_HEIGHT = 34
TOP = 14
AXIS_HEIGHT = 44


def unit(value: Fraction) -> str:
    """A coordinate as SVG reads it, one decimal place."""
    return str(round_half_up(value, 1))


@dataclass
class Bar:
    row: JudgeRow
    flagged: bool
    y: str
    cap: tuple[str, str]  # the ends' short lines, top and bottom y
    low: str
    high: str
    mark: str  # the severity's x
    direction: str  # "harsh", "lenient" or "" (a flag's word)


@dataclass
class Chart:
    height: int
    zero: str
    band: tuple[str, str]  # the threshold's band: left x and width
    ticks: list[tuple[str, str]]  # (x, label)
    bars: list[Bar] = field(default_factory=list)
    axis_y: int = 0


@dataclass
class CriterionView:
    analytics: CriterionAnalytics
    threshold: Decimal
    threshold_text: str
    flagged: set[str]
    chart: Chart | None
    directions: dict[str, str]


STEPS = [Decimal(base).scaleb(power) for power in range(-4, 5) for base in (1, 2, 5)]


def tick_values(extent: Fraction) -> list[Decimal]:
    """Round values for the axis, 0 among them: multiples of the smallest 1, 2 or 5 × 10^k
    that leaves at most four ticks on either side of zero within ±extent."""
    step = next((step for step in STEPS if extent / Fraction(step) <= 4), STEPS[-1])
    count = int(extent / Fraction(step))
    return [step * index for index in range(-count, count + 1)]


def chart(item: CriterionAnalytics, threshold: Decimal, decimals: int,
          flagged: set[str], directions: dict[str, str]) -> Chart:
    """Each compared judge a row: a line over the spread of d (lowest to highest), a dot at
    the severity; the zero line and the band ±threshold behind. The scale is symmetric, to
    the furthest figure (or the threshold) and a little beyond."""
    rows = item.compared
    furthest = max([abs(row.figures.low or 0) for row in rows]
                   + [abs(row.figures.high or 0) for row in rows] + [threshold])
    extent = Fraction(furthest) * Fraction(11, 10) or Fraction(1)
    middle = Fraction(PLOT_LEFT + PLOT_RIGHT, 2)
    half = Fraction(PLOT_RIGHT - PLOT_LEFT, 2)

    def x(value: Decimal | Fraction) -> str:
        return unit(middle + Fraction(value) / extent * half)

    height = TOP + ROW_HEIGHT * len(rows) + AXIS_HEIGHT
    band_width = Fraction(threshold) / extent * half * 2
    result = Chart(height=height, zero=x(0), band=(x(-threshold), unit(band_width)),
                   ticks=[(x(value), format(value.normalize(), "+f") if value else "0")
                          for value in tick_values(extent)],
                   axis_y=TOP + ROW_HEIGHT * len(rows))
    for index, row in enumerate(rows):
        figures = row.figures
        middle_y = Fraction(TOP + ROW_HEIGHT * index) + Fraction(ROW_HEIGHT, 2)
        result.bars.append(Bar(
            row=row, flagged=row.account in flagged, y=unit(middle_y),
            cap=(unit(middle_y - 7), unit(middle_y + 7)),
            low=x(figures.low or 0), high=x(figures.high or 0), mark=x(figures.severity or 0),
            direction=directions.get(row.account, "")))
    return result


def criterion_view(item: CriterionAnalytics, share: Decimal, decimals: int) -> CriterionView:
    threshold = item.criterion.max_value * share / 100
    flagged, directions = set(), {}
    for row in item.compared:
        severity = row.figures.severity
        if severity is not None and abs(severity) > threshold:
            flagged.add(row.account)
            # On a penalty the marks are deductions: more is harsher.
            harsher = severity < 0 if item.criterion.kind != "penalty" else severity > 0
            directions[row.account] = "harsh" if harsher else "lenient"
    return CriterionView(item, threshold, format(threshold.normalize(), "f"), flagged,
                         chart(item, threshold, decimals, flagged, directions)
                         if item.compared else None, directions)


@bp.get("/events/<code>/analytics")
def analytics(code: str) -> ResponseReturnValue:
    event = console_event(code, "analytics")
    form = ThresholdForm(formdata=request.args if "threshold" in request.args else None,
                         data={"threshold": DEFAULT_THRESHOLD})
    share = DEFAULT_THRESHOLD
    status = 200
    if "threshold" in request.args:
        if form.validate():
            share = form.threshold.data
        else:
            status = 422  # the field says why; the page shows the default meanwhile
    views = [criterion_view(item, share, event.decimals) for item in event_analytics(event)]
    context: dict[str, Any] = {
        "event": event, "form": form, "share": share, "default": DEFAULT_THRESHOLD,
        "compared": [view for view in views if view.chart is not None],
        "uncompared": [view for view in views if view.chart is None],
        "width": WIDTH, "label_width": LABEL_WIDTH, "plot_left": PLOT_LEFT,
        "plot_right": PLOT_RIGHT,
    }
    return render_template("admin/analytics.html", **context), status
