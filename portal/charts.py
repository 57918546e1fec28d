"""The close dashboard's charts as plain data: the template draws them as SVG.

Server-rendered, so they read without JavaScript, update with the board's live
poll, and need no inline style or script (the strict Content-Security-Policy):
geometry goes in SVG attributes, colours in ``static/css/app.css`` classes. Each
chart carries its text alternative (a sentence and a table).

1. Burn-down: the period's engagements still open at the end of each business day
   after the period ends, against the best-in-class line (all delivered by business
   day 8), with the engagements delivered on each day as bars.
2. Risk distribution: how many engagements are red, amber, green and done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from core.calendar import BusinessCalendar
from core.formatting import counted
from portal.engagement_rows import AMBER, GREEN, RED, Row

# The drawing area (SVG user units; the SVG scales to the card's width).
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 40
# Business days shown after the period ends, at least: the 8-day line and a little more.
MIN_DAYS_SHOWN = 10
MAX_DAYS_SHOWN = 23  # about a month of business days


@dataclass(frozen=True)
class BurnDownDay:
    day: int  # business days after the period ended (0: the period's last day)
    on: date
    delivered: int  # delivered that day (day 0: by the period's end)
    remaining: int | None  # still open at the end of the day; None for days to come
    ideal: float  # what the best-in-class line expects to be still open
    # SVG coordinates, as the attribute text (the template prints them as they are).
    x: str
    bar_x: str
    bar_y: str
    bar_height: str


@dataclass(frozen=True)
class Tick:
    value: int
    y: str


@dataclass(frozen=True)
class BurnDown:
    total: int
    delivered: int
    period_end: date
    best_in_class_days: int
    today_day: int | None  # today's business day after the period end, when shown
    days: list[BurnDownDay]
    actual_points: str  # SVG polyline points
    ideal_points: str
    ticks: list[Tick]
    bar_width: str
    today_x: str | None
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def summary(self) -> str:
        """The chart in one sentence (its text alternative, with the table)."""
        if not self.total:
            return "No engagements in this period."
        head = f"{self.delivered} of {counted(self.total, 'engagement')} delivered"
        if self.today_day is None:
            return f"{head}; the period has not ended yet."
        shown = min(self.today_day, self.days[-1].day)
        expected = next(d for d in self.days if d.day == shown).ideal
        behind = round(self.total - expected) - (self.total - self.delivered)
        if self.today_day > self.best_in_class_days:
            pace = f"the best-in-class line had everything delivered by business day {self.best_in_class_days}"
        elif behind < 0:
            pace = f"{counted(-behind, 'engagement')} behind the {self.best_in_class_days}-day line"
        else:
            pace = f"on or ahead of the {self.best_in_class_days}-day line"
        return f"{head} by business day {shown} after the period ended; {pace}."


def burn_down(
    rows: Sequence[Row],
    *,
    period_end: date,
    today: date,
    calendar: BusinessCalendar,
    best_in_class_days: int,
) -> BurnDown:
    total = len(rows)
    if today > period_end:
        today_day: int | None = calendar.business_days_between(period_end, today)
    else:
        today_day = None
    finished = [
        0
        if row.finished_on <= period_end
        else calendar.business_days_between(period_end, row.finished_on)
        for row in rows
        if row.finished_on is not None
    ]
    last = max(
        [MIN_DAYS_SHOWN, best_in_class_days + 2, *(f for f in finished if f <= MAX_DAYS_SHOWN)]
        + ([min(today_day, MAX_DAYS_SHOWN)] if today_day is not None else [])
    )
    per_day = [0] * (last + 1)
    for day in finished:
        per_day[min(day, last)] += 1
    top = max(total, 1)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    step = plot_width / last

    def x_of(day: float) -> float:
        return round(LEFT + day * step, 1)

    def y_of(count: float) -> float:
        return round(TOP + plot_height * (1 - count / top), 1)

    days: list[BurnDownDay] = []
    running = 0
    bar_width = round(min(step * 0.6, 24), 1)
    for day in range(last + 1):
        running += per_day[day]
        known = today_day is not None and day <= today_day
        ideal = max(0.0, total * (1 - day / best_in_class_days)) if best_in_class_days else 0.0
        bar_y = y_of(per_day[day])
        days.append(
            BurnDownDay(
                day=day,
                on=calendar.add_business_days(period_end, day) if day else period_end,
                delivered=per_day[day],
                remaining=total - running if known else None,
                ideal=round(ideal, 1),
                x=_n(x_of(day)),
                bar_x=_n(x_of(day) - bar_width / 2),
                bar_y=_n(bar_y),
                bar_height=_n(HEIGHT - BOTTOM - bar_y),
            )
        )
    actual = " ".join(f"{d.x},{_n(y_of(d.remaining))}" for d in days if d.remaining is not None)
    ideal_points = (
        f"{_n(x_of(0))},{_n(y_of(total))} {_n(x_of(min(best_in_class_days, last)))},{_n(y_of(0))}"
    )
    return BurnDown(
        total=total,
        delivered=len(finished),
        period_end=period_end,
        best_in_class_days=best_in_class_days,
        today_day=today_day,
        days=days,
        actual_points=actual,
        ideal_points=ideal_points,
        ticks=[Tick(value=v, y=_n(y_of(v))) for v in _ticks(total)],
        bar_width=_n(bar_width),
        today_x=_n(x_of(today_day)) if today_day is not None and today_day <= last else None,
    )


def _n(value: float) -> str:
    """A coordinate as SVG attribute text: one decimal at most (and no localization
    pass in the template, which costs more than the drawing)."""
    return f"{value:.1f}".removesuffix(".0")


def _ticks(total: int) -> list[int]:
    """Up to five round values from 0 to the total for the y axis."""
    if total <= 0:
        return [0]
    for size in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if total / size <= 5:
            break
    else:
        size = max(1, total // 5)
    values = list(range(0, total + 1, size))
    return values if values[-1] == total else [*values, total]


@dataclass(frozen=True)
class RiskBar:
    key: str
    label: str
    count: int
    y: str
    text_y: str
    width: str
    text_x: str


RISK_WIDTH, RISK_LABEL_WIDTH = 400, 130


@dataclass(frozen=True)
class RiskChart:
    bars: list[RiskBar]
    total: int
    width: int = RISK_WIDTH
    height: int = 0
    label_width: int = RISK_LABEL_WIDTH

    @property
    def summary(self) -> str:
        if not self.total:
            return "No engagements in this period."
        return "; ".join(f"{bar.count} {bar.label.lower()}" for bar in self.bars) + "."


RISK_ORDER = (
    (RED, "Red: at risk"),
    (AMBER, "Amber: watch"),
    (GREEN, "Green: on track"),
    ("done", "Delivered or closed"),
)
BAR_HEIGHT, BAR_GAP = 26, 10


def risk_distribution(rows: Sequence[Row]) -> RiskChart:
    counts = dict.fromkeys((key for key, _ in RISK_ORDER), 0)
    for row in rows:
        counts["done" if row.done else row.risk] += 1
    total = sum(counts.values())
    label_width = RISK_LABEL_WIDTH
    plot = RISK_WIDTH - label_width - 40
    top = max(counts.values()) or 1
    bars = []
    for index, (key, label) in enumerate(RISK_ORDER):
        width = plot * counts[key] / top
        y = index * (BAR_HEIGHT + BAR_GAP)
        bars.append(
            RiskBar(
                key=key,
                label=label,
                count=counts[key],
                y=_n(y),
                text_y=_n(y + 17),
                width=_n(width),
                text_x=_n(label_width + width + 6),
            )
        )
    return RiskChart(
        bars=bars,
        total=total,
        height=len(RISK_ORDER) * (BAR_HEIGHT + BAR_GAP),
        label_width=label_width,
    )
