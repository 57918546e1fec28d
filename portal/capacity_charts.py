"""The capacity pages' charts as plain data; the templates draw them as SVG.

Server-rendered, so they read without JavaScript and need no inline style or script
(the strict Content-Security-Policy): geometry goes in SVG attributes, colours in
``static/css/app.css`` classes (``series-0`` … ``series-7``, ``series-other``,
``series-none``). Each chart has a sentence and a table beside it as its text
alternative.

1. Deadline distribution: one horizontal bar per deadline date, a segment per
   person (the eight people with the most tasks in their own colour), the work
   nobody holds yet hatched at the end.
2. Weekly series (engine metrics): bars per week, optionally with a band behind
   each (the spread from the idlest to the busiest; the median to the 90th
   percentile) and a reference line (the 20 % that flags a work type).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from capacity.distribution import CHART_SERIES, Distribution
from dispatch.metrics import REASSIGNED_FLAG_SHARE, EngineMetrics

# SVG user units; the SVG scales to its container's width.
WIDTH = 900
LABEL_WIDTH = 64
ROW_HEIGHT = 22
BAR_HEIGHT = 14
TOP = 6
RIGHT_TEXT = 230  # room after the longest bar for "12 tasks · 83 % two people"


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    series: str  # CSS class
    title: str  # tooltip and accessible name of the segment


@dataclass(frozen=True)
class BarRow:
    y: float
    text_y: float
    label: str
    segments: tuple[Segment, ...]
    end_x: float
    note: str
    concentrated: bool


@dataclass(frozen=True)
class LegendEntry:
    series: str
    label: str


@dataclass(frozen=True)
class StackedBars:
    width: int
    height: int
    label_width: int
    rows: tuple[BarRow, ...]
    legend: tuple[LegendEntry, ...]
    bar_height: int = BAR_HEIGHT


def distribution_chart(distribution: Distribution) -> StackedBars:
    """One bar per deadline date, scaled to the date with the most tasks."""
    series = {
        staff_id: f"series-{k}"
        for k, (staff_id, _name, _n) in enumerate(distribution.ranking[:CHART_SERIES])
    }
    most = max((d.tasks for d in distribution.days), default=1) or 1
    scale = (WIDTH - LABEL_WIDTH - RIGHT_TEXT) / most
    rows = []
    for k, day in enumerate(distribution.days):
        y = TOP + k * ROW_HEIGHT
        x = float(LABEL_WIDTH)
        segments = []
        for holding in day.holdings:
            width = holding.tasks * scale
            if holding.staff_id is None:
                css = "series-none"
            else:
                css = series.get(holding.staff_id, "series-other")
            tasks = f"{holding.tasks} task{'s' if holding.tasks != 1 else ''}"
            segments.append(Segment(round(x, 1), round(width, 1), css, f"{holding.name}: {tasks}"))
            x += width
        note = f"{day.tasks} task{'s' if day.tasks != 1 else ''}"
        if day.top_two and day.tasks - day.unassigned:
            who = "one person" if day.people == 1 else "two people"
            note += f" · {day.top_two_percent} % {who}"
        rows.append(
            BarRow(
                y=y,
                text_y=y + BAR_HEIGHT - 3,
                label=f"{day.day:%b} {day.day.day}",
                segments=tuple(segments),
                end_x=round(x + 6, 1),
                note=note,
                concentrated=day.concentrated,
            )
        )
    legend = [
        LegendEntry(series[staff_id], name)
        for staff_id, name, _n in distribution.ranking[:CHART_SERIES]
    ]
    if len(distribution.ranking) > CHART_SERIES:
        legend.append(LegendEntry("series-other", "Everyone else"))
    if any(d.unassigned for d in distribution.days):
        legend.append(LegendEntry("series-none", "Not yet assigned"))
    return StackedBars(
        width=WIDTH,
        height=TOP * 2 + max(1, len(rows)) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        rows=tuple(rows),
        legend=tuple(legend),
    )


# Weekly series ------------------------------------------------------------------

SERIES_WIDTH, SERIES_HEIGHT = 320, 140
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 8, 10, 22


@dataclass(frozen=True)
class Column:
    x: float
    width: float
    y: float
    height: float
    label: str
    label_x: float
    title: str
    band_y: float | None = None  # the spread band's top and height, when drawn
    band_height: float | None = None


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class WeeklyChart:
    title: str
    columns: tuple[Column, ...]
    ticks: tuple[Tick, ...]
    reference_y: float | None
    reference_label: str
    width: int = SERIES_WIDTH
    height: int = SERIES_HEIGHT
    plot_left: int = PAD_LEFT
    plot_right: int = SERIES_WIDTH - PAD_RIGHT
    baseline: int = SERIES_HEIGHT - PAD_BOTTOM
    empty: bool = False


def weekly_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    unit: str,
    top: float | None = None,
    spreads: Sequence[tuple[float, float] | None] | None = None,
    reference: float | None = None,
    reference_label: str = "",
    week_titles: Sequence[str] = (),
) -> WeeklyChart:
    """Bars per week (None: no figure that week), scaled to ``top`` or the largest value
    (or spread); ``spreads`` draws each week's (low, high) as a band behind its bar."""
    candidates = [v for v in values if v is not None]
    candidates += [high for s in spreads or () if s is not None for _low, high in (s,)]
    if reference is not None:
        candidates.append(reference)
    ceiling = top if top is not None else max(candidates, default=0.0)
    ceiling = ceiling or 1.0
    plot_height = SERIES_HEIGHT - PAD_TOP - PAD_BOTTOM
    step = (SERIES_WIDTH - PAD_LEFT - PAD_RIGHT) / max(1, len(labels))
    width = step * 0.6

    def y_of(value: float) -> float:
        return round(PAD_TOP + plot_height * (1 - min(value, ceiling) / ceiling), 1)

    columns = []
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = PAD_LEFT + k * step + (step - width) / 2
        spread = spreads[k] if spreads else None
        band_y = band_height = None
        if spread is not None:
            band_y = y_of(spread[1])
            band_height = round(y_of(spread[0]) - band_y, 1)
        shown = "no figure" if value is None else f"{_fmt(value)}{unit}"
        tooltip = f"{week_titles[k] if week_titles else label}: {shown}"
        if spread is not None:
            tooltip += f" (from {_fmt(spread[0])}{unit} to {_fmt(spread[1])}{unit})"
        top_y = y_of(value or 0.0)
        columns.append(
            Column(
                x=round(x, 1),
                width=round(width, 1),
                y=top_y,
                height=round(SERIES_HEIGHT - PAD_BOTTOM - top_y, 1),
                label=label,
                label_x=round(x + width / 2, 1),
                title=tooltip,
                band_y=band_y,
                band_height=band_height,
            )
        )
    ticks = tuple(Tick(y_of(ceiling * f), f"{_fmt(ceiling * f)}{unit}") for f in (0, 0.5, 1))
    return WeeklyChart(
        title=title,
        columns=tuple(columns),
        ticks=ticks,
        reference_y=y_of(reference) if reference is not None else None,
        reference_label=reference_label,
        empty=not any(v is not None for v in values),
    )


def _fmt(value: float) -> str:
    rounded = round(value, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


def _percent(value: float | None) -> float | None:
    return None if value is None else value * 100


def metrics_charts(metrics: EngineMetrics) -> dict[str, WeeklyChart]:
    """Small multiples for the engine metrics page, one per weekly figure."""
    weeks = metrics.weeks
    every = 1 if len(weeks) <= 5 else 2 if len(weeks) <= 13 else 4
    titles = [f"Week of {w.week:%b} {w.week.day}" for w in weeks]
    labels = [
        f"{w.week:%b} {w.week.day}" if (len(weeks) - 1 - k) % every == 0 else ""
        for k, w in enumerate(weeks)
    ]
    utilization = [_percent(w.utilization_mean) for w in weeks]
    spreads: list[tuple[float, float] | None] = [
        (w.utilization_low * 100, w.utilization_high * 100)
        if w.utilization_low is not None and w.utilization_high is not None
        else None
        for w in weeks
    ]
    receipt = [w.receipt_to_assignment for w in weeks]
    return {
        "utilization": weekly_chart(
            title="Utilization: mean, and idlest to busiest",
            labels=labels,
            week_titles=titles,
            values=utilization,
            unit=" %",
            top=max([100.0, *(s[1] for s in spreads if s is not None)]),
            spreads=spreads,
        ),
        "on_time": weekly_chart(
            title="On-time completion",
            labels=labels,
            week_titles=titles,
            values=[_percent(w.on_time.share) for w in weeks],
            unit=" %",
            top=100.0,
        ),
        "escalations": weekly_chart(
            title="Escalations opened",
            labels=labels,
            week_titles=titles,
            values=[float(w.escalations) for w in weeks],
            unit="",
        ),
        "receipt": weekly_chart(
            title="Document receipt to assignment: median, to the 90th percentile",
            labels=labels,
            week_titles=titles,
            values=[d.median for d in receipt],
            unit=" h",
            spreads=[
                (d.median, d.p90) if d.median is not None and d.p90 is not None else None
                for d in receipt
            ],
        ),
        "reassigned": weekly_chart(
            title="Auto-assignments reassigned",
            labels=labels,
            week_titles=titles,
            values=[_percent(w.reassigned.share) for w in weeks],
            unit=" %",
            reference=REASSIGNED_FLAG_SHARE * 100,
            reference_label="20 %: tune tags or thresholds",
        ),
    }
