"""Capacity arithmetic over plain data: available, committed, utilization, deadline fit.

Pure Python (no Django, no clock): the dispatch engine and the planner call it
with a snapshot, and the capacity selectors call it with rows they loaded.

Definitions (issue "capacity model"):
- available hours on a day: weekly capacity spread evenly over the person's
  working days, minus time off that day, zero on firm holidays;
- committed hours: each open task's remaining hours x its work type's complexity
  weight, spread evenly over the person's working days from today to its due
  date (overdue work lands on the next working day);
- utilization for a window: committed / available in that window;
- deadline fit: earliest-deadline-first — for every deadline, the hours due by
  then must fit in the hours available until then.

Cost: nothing here walks the days. A calendar answers "working days between" and
"available between" from its weekly pattern plus bisection over its (sorted)
holidays and time off, so a window read is O(log n) and a person's figures are
O(open work). Available hours are counted exactly in integer units of 1/42,000 h
(every weekly capacity in hundredths of an hour splits evenly over 1 to 7
working days), so two runs, or two orders of adding, never differ in a digit.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

EPSILON = 1e-9
UNITS_PER_HOUR = 42_000  # 100 (hundredths) x 420 (divisible by 1..7 working days)
# How far ahead a calendar looks for the next working day: two weeks (longer
# absences keep the work on today, as a manager's problem to see).
NEXT_WORKING_DAY_SEARCH = 14


def _units(hours: float) -> int:
    return round(hours * UNITS_PER_HOUR)


@dataclass(frozen=True)
class OpenWork:
    """One open task on someone's plate, already weighted."""

    task_id: int
    due_date: date
    hours: float  # remaining hours x complexity weight


@dataclass(frozen=True)
class CalendarIndex:
    """A calendar's exceptions, sorted, with running totals for bisection (the dispatch
    engine's candidate columns read them too)."""

    day_units: int  # available units on a plain working day
    holidays: tuple[int, ...]  # ordinals of holidays that fall on working days
    away_days: tuple[int, ...]  # ordinals of working, non-holiday days with time off
    away_lost: tuple[int, ...]  # units lost on each of them
    away_cumulative: tuple[int, ...]  # units lost up to and including each of them


@dataclass(frozen=True)
class StaffCalendar:
    """What decides a person's available hours, day by day."""

    weekly_hours: float
    working_days: frozenset[int]  # 0 = Monday
    holidays: frozenset[date] = frozenset()
    time_off: Mapping[date, float] = field(default_factory=dict)  # hours away per day
    # Answers already computed: a snapshot shares one calendar among everyone with
    # the same hours, days and no time off, so their windows are counted once.
    _memo: dict[tuple[str, int, int], int] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def index(self) -> CalendarIndex:
        days = len(self.working_days)
        day_units = _units(self.weekly_hours) // days if days else 0
        holidays = tuple(
            sorted(d.toordinal() for d in self.holidays if d.weekday() in self.working_days)
        )
        away: list[tuple[int, int]] = []
        for day, hours in self.time_off.items():
            if day.weekday() in self.working_days and day not in self.holidays:
                lost = min(day_units, max(0, _units(hours)))
                if lost:
                    away.append((day.toordinal(), lost))
        away.sort()
        cumulative: list[int] = []
        running = 0
        for _, lost in away:
            running += lost
            cumulative.append(running)
        return CalendarIndex(
            day_units,
            holidays,
            tuple(d for d, _ in away),
            tuple(lost for _, lost in away),
            tuple(cumulative),
        )

    def hours_on(self, day: date) -> float:
        return self.available(day, day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    @cached_property
    def _week_prefix(self) -> tuple[int, ...]:
        """Working weekdays among the first k days (k = 0..7) of a Monday-first week."""
        prefix = [0]
        for weekday in range(7):
            prefix.append(prefix[-1] + (weekday in self.working_days))
        return tuple(prefix)

    def _weekdays_before(self, ordinal: int) -> int:
        """Working weekdays from ordinal 1 (a Monday) up to, not including, ``ordinal``."""
        weeks, rest = divmod(ordinal - 1, 7)
        prefix = self._week_prefix
        return weeks * prefix[7] + prefix[rest]

    def working_days_between(self, start: date, end: date) -> int:
        """Working days from ``start`` to ``end``, both included (holidays excluded)."""
        lo, hi = start.toordinal(), end.toordinal()
        if hi < lo:
            return 0
        key = ("days", lo, hi)
        days = self._memo.get(key)
        if days is None:
            holidays = self.index.holidays
            days = self._memo[key] = (
                self._weekdays_before(hi + 1)
                - self._weekdays_before(lo)
                - (bisect_right(holidays, hi) - bisect_left(holidays, lo))
            )
        return days

    def available_units(self, start: date, end: date) -> int:
        lo, hi = start.toordinal(), end.toordinal()
        if hi < lo:
            return 0
        key = ("units", lo, hi)
        units = self._memo.get(key)
        if units is None:
            index = self.index
            units = self.working_days_between(start, end) * index.day_units
            first, last = bisect_left(index.away_days, lo), bisect_right(index.away_days, hi)
            if last > first:
                before = index.away_cumulative[first - 1] if first else 0
                units -= index.away_cumulative[last - 1] - before
            self._memo[key] = units
        return units

    def available(self, start: date, end: date) -> float:
        """Available hours from ``start`` to ``end``, both included."""
        return self.available_units(start, end) / UNITS_PER_HOUR

    def next_working_day(self, day: date) -> date:
        for offset in range(NEXT_WORKING_DAY_SEARCH):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        return day  # nobody works in the next fortnight: keep it on today


def week_bounds(today: date) -> tuple[date, date]:
    """Monday to Sunday of the week holding ``today``."""
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def utilization_window(calendar: StaffCalendar, today: date) -> tuple[date, date]:
    """The days "this week" means for utilization: today through Sunday, or, when
    nothing of this week is left to work (a weekend, a week off), the next week in
    which the person works — so a Saturday never reads as 0 % for everyone."""
    start = today
    for _ in range(8):
        _, end = week_bounds(start)
        if calendar.available_units(start, end) > 0:
            return start, end
        start = end + timedelta(days=1)
    return today, week_bounds(today)[1]  # away for two months: keep this week


def committed_between(
    calendar: StaffCalendar, work: Iterable[OpenWork], today: date, start: date, end: date
) -> float:
    """Hours of ``work`` falling from ``start`` to ``end``: each task's hours spread
    evenly over its working days from today to its due date; work with no working
    day left (overdue, or due before the next one) lands on the next working day."""
    total = 0.0
    landing: date | None = None
    for item in work:
        days = calendar.working_days_between(today, item.due_date)
        if days == 0:
            landing = landing or calendar.next_working_day(today)
            if start <= landing <= end:
                total += item.hours
            continue
        inside = calendar.working_days_between(max(start, today), min(end, item.due_date))
        if inside:
            total += item.hours * inside / days
    return total


def utilization(committed: float, available: float) -> float:
    """Committed over available; no availability with work committed counts as overloaded."""
    if available <= EPSILON:
        return 0.0 if committed <= EPSILON else float("inf")
    return committed / available


@dataclass(frozen=True)
class DeadlineFit:
    fits: bool
    # The first deadline that breaks, with the hours due by then and available until then.
    broken_deadline: date | None = None
    hours_due: float = 0.0
    hours_available: float = 0.0

    @property
    def shortfall(self) -> float:
        return max(0.0, self.hours_due - self.hours_available)


def deadline_fit(
    calendar: StaffCalendar, work: Iterable[OpenWork], today: date, extra: OpenWork | None = None
) -> DeadlineFit:
    """Earliest-deadline-first check that every task (plus ``extra``) can finish on time.

    1. Sort the work by due date (overdue work is due today).
    2. Walk the deadlines in order, adding the hours due by each one.
    3. Compare with the hours available from today through that deadline; the
       first deadline where the hours due exceed the hours available breaks.
    """
    return LoadProfile.build(calendar, work, today).deadline_fit(extra)


class LoadProfile:
    """One person's load as of ``today``, computed once from their open work; each
    task placed against it is then answered in O(log open work).

    The dispatch engine asks a profile per candidate and per task: utilization this
    week with the task added, free hours before its due date, and deadline fit
    with it. The same figures as ``committed_between`` and ``deadline_fit``
    (summed in another order, so equal to within float rounding). Its arrays are
    public: the dispatch engine's candidate pool reads them as columns.
    """

    calendar: StaffCalendar
    today: date
    window: tuple[date, date]  # the utilization window ("this week")
    available_week: float
    committed_week: float
    landing: int  # ordinal of the day work with no working day left lands on
    landing_hours: float
    spread_dues: tuple[int, ...]  # due ordinals of the work spread over working days
    full_prefix: tuple[float, ...]  # hours of the first k of them
    rate_suffix: tuple[float, ...]  # hours per working day of them from k on
    deadlines: tuple[int, ...]  # earliest-deadline-first: each deadline's ordinal,
    due_by: tuple[float, ...]  # the hours due by it,
    available_to: tuple[float, ...]  # the hours available until it,
    slack_suffix_min: tuple[float, ...]  # and the least slack from it on
    breaks: int  # the first deadline that already breaks (len: none)

    @classmethod
    def build(cls, calendar: StaffCalendar, work: Iterable[OpenWork], today: date) -> LoadProfile:
        self = cls()
        self.calendar = calendar
        self.today = today
        lo = today.toordinal()
        # Spread: work with working days left spreads evenly over them; the rest
        # lands on the next working day.
        landing_hours = 0.0
        spread: list[tuple[int, float, int]] = []  # (due ordinal, hours, working days)
        buckets: dict[int, float] = {}
        for item in work:
            due = item.due_date.toordinal()
            days = calendar.working_days_between(today, item.due_date)
            if days == 0:
                landing_hours += item.hours
            else:
                spread.append((due, item.hours, days))
            key = max(due, lo)
            buckets[key] = buckets.get(key, 0.0) + item.hours
        spread.sort()
        full = [0.0]
        for _, hours, _ in spread:
            full.append(full[-1] + hours)
        rate = [0.0] * (len(spread) + 1)
        for k in range(len(spread) - 1, -1, -1):
            _, hours, days = spread[k]
            rate[k] = rate[k + 1] + hours / days
        self.spread_dues = tuple(due for due, _, _ in spread)
        self.full_prefix = tuple(full)
        self.rate_suffix = tuple(rate)
        self.landing_hours = landing_hours
        self.landing = calendar.next_working_day(today).toordinal() if landing_hours else lo
        # Earliest-deadline-first: hours due by each deadline against hours available.
        deadlines = sorted(buckets)
        due_by: list[float] = []
        available_to: list[float] = []
        running = 0.0
        for deadline in deadlines:
            running += buckets[deadline]
            due_by.append(running)
            available_to.append(calendar.available(today, date.fromordinal(deadline)))
        slack_min = [float("inf")] * (len(deadlines) + 1)
        for k in range(len(deadlines) - 1, -1, -1):
            slack_min[k] = min(slack_min[k + 1], available_to[k] - due_by[k])
        self.deadlines = tuple(deadlines)
        self.due_by = tuple(due_by)
        self.available_to = tuple(available_to)
        self.slack_suffix_min = tuple(slack_min)
        # Work already due today or overdue is late whatever we do now: only later
        # deadlines can break.
        self.breaks = next(
            (
                k
                for k, deadline in enumerate(deadlines)
                if deadline > lo and due_by[k] > available_to[k] + EPSILON
            ),
            len(deadlines),
        )
        self.window = utilization_window(calendar, today)
        self.available_week = calendar.available(*self.window)
        start, end = self.window
        self.committed_week = self.committed_through(end) - self.committed_through(
            start - timedelta(days=1)
        )
        return self

    def committed_through(self, day: date) -> float:
        """Hours of the open work falling from today through ``day``."""
        if day < self.today:
            return 0.0
        ordinal = day.toordinal()
        k = bisect_right(self.spread_dues, ordinal)
        total = self.full_prefix[k]
        if k < len(self.spread_dues):
            total += self.rate_suffix[k] * self.calendar.working_days_between(self.today, day)
        if self.landing_hours and self.landing <= ordinal:
            total += self.landing_hours
        return total

    def free_through(self, day: date) -> float:
        """Available minus committed hours from today through ``day``."""
        return self.calendar.available(self.today, day) - self.committed_through(day)

    def deadline_fit(self, extra: OpenWork | None = None) -> DeadlineFit:
        """``deadline_fit`` over the open work plus ``extra``."""
        deadlines, due_by, available_to = self.deadlines, self.due_by, self.available_to
        count = len(deadlines)
        if extra is None:
            if not count:
                return DeadlineFit(fits=True)
            k = self.breaks
            if k < count:
                return DeadlineFit(
                    False, date.fromordinal(deadlines[k]), due_by[k], available_to[k]
                )
            return DeadlineFit(True, None, due_by[-1], available_to[-1])
        hours = extra.hours
        due = max(extra.due_date, self.today)
        ordinal = due.toordinal()
        at = bisect_left(deadlines, ordinal)
        if self.breaks < at:  # an earlier deadline already breaks
            k = self.breaks
            return DeadlineFit(False, date.fromordinal(deadlines[k]), due_by[k], available_to[k])
        shared = at < count and deadlines[at] == ordinal
        before = due_by[at - 1] if at else 0.0
        own_due = (due_by[at] if shared else before) + hours
        own_available = available_to[at] if shared else self.calendar.available(self.today, due)
        if own_due > own_available + EPSILON:
            return DeadlineFit(False, due, own_due, own_available)
        later = at + 1 if shared else at
        if later < count and self.slack_suffix_min[later] < hours + EPSILON:
            for k in range(later, count):
                if due_by[k] + hours > available_to[k] + EPSILON:
                    return DeadlineFit(
                        False, date.fromordinal(deadlines[k]), due_by[k] + hours, available_to[k]
                    )
        if later < count:
            return DeadlineFit(True, None, due_by[-1] + hours, available_to[-1])
        return DeadlineFit(True, None, own_due, own_available)

    def room_from(self, day: date) -> float:
        """Hours of new work due on ``day`` that would still pass ``deadline_fit``: the
        least slack (available minus due) at ``day`` and at every deadline after it.
        Negative when nothing fits (an earlier deadline already breaks counts too).
        The planner's deadline windows read it."""
        due = max(day, self.today)
        ordinal = due.toordinal()
        deadlines = self.deadlines
        at = bisect_left(deadlines, ordinal)
        before = self.due_by[at - 1] if at else 0.0
        room = min(self.calendar.available(self.today, due) - before, self.slack_suffix_min[at])
        if self.breaks < at:
            k = self.breaks
            room = min(room, self.available_to[k] - self.due_by[k])
        return room
