"""Capacity arithmetic over plain data: available, committed, utilization, deadline fit.

Pure Python (no Django, no clock): the dispatch engine and the planner call it
with a snapshot, and the capacity selectors call it with rows they loaded.

Definitions (issue "capacity model"):
- hours on a day: the person's working pattern for that weekday (hours per
  weekday: part time, 4 x 10 h, seasonal overtime), or, where no pattern covers
  the day, weekly capacity spread evenly over their working days; a working day
  is a day with hours, and not a firm holiday;
- available hours on a day: its hours minus time off that day, zero on holidays;
- committed hours: each open task's remaining hours x its work type's complexity
  weight, spread over the person's working days from today to its due date in
  proportion to their hours on each (evenly when every day has the same hours;
  overdue work lands on the next working day);
- utilization for a window: committed / available in that window;
- deadline fit: earliest-deadline-first — for every deadline, the hours due by
  then must fit in the hours available until then.

Cost: nothing here walks the days. A calendar is a few periods, each with one
weekly pattern (hours per weekday, with running totals over the week), and a
running total at the start of each period; "working hours between" is two
bisections over the periods plus bisection over its (sorted) holidays and time
off, so a window read is O(log n) and a person's figures are O(open work). Hours
are counted exactly in integer units of 1/42,000 h (every weekly capacity in
hundredths of an hour splits evenly over 1 to 7 working days), so two runs, or
two orders of adding, never differ in a digit.
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
class WorkingPattern:
    """Hours per weekday (Monday first) from ``start`` through ``end`` (None: without
    bound). Where patterns overlap, the one starting later wins (busy-season overtime
    over a part-time week)."""

    day_hours: tuple[float, float, float, float, float, float, float]
    start: date | None = None
    end: date | None = None

    @property
    def weekly_hours(self) -> float:
        return sum(self.day_hours)


Week = tuple[int, int, int, int, int, int, int]  # units per weekday, Monday first


def week_prefix(week: Iterable[int]) -> tuple[int, ...]:
    """Units among the first k days (k = 0..7) of a Monday-first week."""
    prefix = [0]
    for units in week:
        prefix.append(prefix[-1] + units)
    return tuple(prefix)


def week_units_before(prefix: tuple[int, ...], ordinal: int) -> int:
    """Units of a weekly pattern from ordinal 1 (a Monday) up to, not including, ``ordinal``."""
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * prefix[7] + prefix[rest]


@dataclass(frozen=True)
class CalendarIndex:
    """A calendar as periods of one weekly pattern each, and its exceptions, sorted,
    with running totals for bisection (the dispatch engine's candidate columns read
    them too)."""

    period_starts: tuple[int, ...]  # ordinals; the first is 1 (date.min)
    period_weeks: tuple[Week, ...]  # each period's units per weekday
    period_prefix: tuple[tuple[int, ...], ...]  # and their running totals over the week
    period_base: tuple[int, ...]  # working units before each period's start (no holidays)
    holidays: tuple[int, ...]  # ordinals of holidays that fall on days with hours
    holiday_lost: tuple[int, ...]  # units lost on each of them
    holiday_cumulative: tuple[int, ...]  # units lost up to and including each of them
    away_days: tuple[int, ...]  # ordinals of working, non-holiday days with time off
    away_lost: tuple[int, ...]  # units lost on each of them
    away_cumulative: tuple[int, ...]  # units lost up to and including each of them

    def units_before(self, ordinal: int) -> int:
        """Pattern units from ordinal 1 up to, not including, ``ordinal`` (holidays and
        time off not taken off)."""
        k = bisect_right(self.period_starts, ordinal) - 1
        prefix = self.period_prefix[k]
        return (
            self.period_base[k]
            + week_units_before(prefix, ordinal)
            - week_units_before(prefix, self.period_starts[k])
        )

    def units_on(self, ordinal: int) -> int:
        """Pattern units on one day (a holiday or time off not taken off)."""
        k = bisect_right(self.period_starts, ordinal) - 1
        return self.period_weeks[k][(ordinal - 1) % 7]


def _running(values: list[int]) -> tuple[int, ...]:
    cumulative: list[int] = []
    running = 0
    for value in values:
        running += value
        cumulative.append(running)
    return tuple(cumulative)


@dataclass(frozen=True)
class StaffCalendar:
    """What decides a person's available hours, day by day."""

    weekly_hours: float
    working_days: frozenset[int]  # 0 = Monday
    holidays: frozenset[date] = frozenset()
    time_off: Mapping[date, float] = field(default_factory=dict)  # hours away per day
    # Hours per weekday over some dates (or always); weekly hours spread evenly over
    # the working days where none applies.
    patterns: tuple[WorkingPattern, ...] = ()
    # Answers already computed: a snapshot shares one calendar among everyone with
    # the same hours, days and no time off, so their windows are counted once.
    _memo: dict[tuple[str, int, int], int] = field(default_factory=dict, compare=False, repr=False)

    def _even_week(self) -> Week:
        days = len(self.working_days)
        per_day = _units(self.weekly_hours) // days if days else 0
        return tuple(per_day if d in self.working_days else 0 for d in range(7))  # type: ignore[return-value]

    def _periods(self) -> list[tuple[int, Week]]:
        """(first ordinal, week) for each period, in order; later-starting patterns win."""
        even = self._even_week()
        if not self.patterns:
            return [(1, even)]
        ranked = sorted(
            enumerate(self.patterns),
            key=lambda p: ((p[1].start or date.min).toordinal(), p[0]),
        )
        cuts = {1}
        for _, pattern in ranked:
            if pattern.start is not None:
                cuts.add(pattern.start.toordinal())
            if pattern.end is not None and pattern.end < date.max:
                cuts.add(pattern.end.toordinal() + 1)
        periods: list[tuple[int, Week]] = []
        for cut in sorted(cuts):
            week = even
            for _, pattern in reversed(ranked):
                lo = (pattern.start or date.min).toordinal()
                hi = (pattern.end or date.max).toordinal()
                if lo <= cut <= hi:
                    week = tuple(_units(h) for h in pattern.day_hours)  # type: ignore[assignment]
                    break
            if not periods or periods[-1][1] != week:
                periods.append((cut, week))
        return periods

    @cached_property
    def index(self) -> CalendarIndex:
        periods = self._periods()
        starts = tuple(start for start, _ in periods)
        weeks = tuple(week for _, week in periods)
        prefixes = tuple(week_prefix(week) for week in weeks)
        base = [0]
        for k in range(1, len(periods)):
            prefix = prefixes[k - 1]
            base.append(
                base[-1]
                + week_units_before(prefix, starts[k])
                - week_units_before(prefix, starts[k - 1])
            )
        partial = CalendarIndex(starts, weeks, prefixes, tuple(base), (), (), (), (), (), ())
        holidays = sorted(
            (d.toordinal(), units)
            for d in self.holidays
            if (units := partial.units_on(d.toordinal())) > 0
        )
        away: list[tuple[int, int]] = []
        for day, hours in self.time_off.items():
            if day not in self.holidays:
                lost = min(partial.units_on(day.toordinal()), max(0, _units(hours)))
                if lost:
                    away.append((day.toordinal(), lost))
        away.sort()
        return CalendarIndex(
            starts,
            weeks,
            prefixes,
            tuple(base),
            tuple(d for d, _ in holidays),
            tuple(lost for _, lost in holidays),
            _running([lost for _, lost in holidays]),
            tuple(d for d, _ in away),
            tuple(lost for _, lost in away),
            _running([lost for _, lost in away]),
        )

    def hours_on(self, day: date) -> float:
        return self.available(day, day)

    def works_on(self, day: date) -> bool:
        """The person's pattern has hours on this day (a holiday or not)."""
        return self.index.units_on(day.toordinal()) > 0

    def is_working_day(self, day: date) -> bool:
        return self.works_on(day) and day not in self.holidays

    def working_units_between(self, start: date, end: date) -> int:
        """Working units from ``start`` to ``end``, both included (holidays excluded,
        time off not): the weights work is spread by."""
        lo, hi = start.toordinal(), end.toordinal()
        if hi < lo:
            return 0
        key = ("working", lo, hi)
        units = self._memo.get(key)
        if units is None:
            index = self.index
            units = index.units_before(hi + 1) - index.units_before(lo)
            first, last = bisect_left(index.holidays, lo), bisect_right(index.holidays, hi)
            if last > first:
                before = index.holiday_cumulative[first - 1] if first else 0
                units -= index.holiday_cumulative[last - 1] - before
            self._memo[key] = units
        return units

    def available_units(self, start: date, end: date) -> int:
        lo, hi = start.toordinal(), end.toordinal()
        if hi < lo:
            return 0
        key = ("units", lo, hi)
        units = self._memo.get(key)
        if units is None:
            index = self.index
            units = self.working_units_between(start, end)
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
    over its working days from today to its due date in proportion to the hours of
    each; work with no working day left (overdue, or due before the next one) lands
    on the next working day."""
    total = 0.0
    landing: date | None = None
    for item in work:
        units = calendar.working_units_between(today, item.due_date)
        if units == 0:
            landing = landing or calendar.next_working_day(today)
            if start <= landing <= end:
                total += item.hours
            continue
        inside = calendar.working_units_between(max(start, today), min(end, item.due_date))
        if inside:
            total += item.hours * inside / units
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
    rate_suffix: tuple[float, ...]  # hours per working unit of them from k on
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
        # Spread: work with working hours left spreads over them; the rest
        # lands on the next working day.
        landing_hours = 0.0
        spread: list[tuple[int, float, int]] = []  # (due ordinal, hours, working units)
        buckets: dict[int, float] = {}
        for item in work:
            due = item.due_date.toordinal()
            units = calendar.working_units_between(today, item.due_date)
            if units == 0:
                landing_hours += item.hours
            else:
                spread.append((due, item.hours, units))
            key = max(due, lo)
            buckets[key] = buckets.get(key, 0.0) + item.hours
        spread.sort()
        full = [0.0]
        for _, hours, _ in spread:
            full.append(full[-1] + hours)
        rate = [0.0] * (len(spread) + 1)
        for k in range(len(spread) - 1, -1, -1):
            _, hours, units = spread[k]
            rate[k] = rate[k + 1] + hours / units
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
            total += self.rate_suffix[k] * self.calendar.working_units_between(self.today, day)
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
