"""The capacity ledger as it was first written: day by day. Kept as the reference the
O(open work) ledger in ``capacity.ledger`` is checked against (property tests).

Slow by design (every open task is walked day by day to its due date); never
import it from the application.

Definitions (issue "capacity model"):
- hours on a day: the working pattern covering it (the latest-starting one) for
  that weekday, else weekly capacity spread evenly over the working days;
- available hours on a day: its hours minus time off that day, zero on firm holidays;
- committed hours: each open task's remaining hours x its work type's complexity
  weight, spread over the person's working days (days with hours, not holidays)
  from today to its due date in proportion to their hours (overdue work lands on
  the next working day);
- utilization for a window: committed / available in that window;
- deadline fit: earliest-deadline-first — for every deadline, the hours due by
  then must fit in the hours available until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

EPSILON = 1e-9


@dataclass(frozen=True)
class OpenWork:
    """One open task on someone's plate, already weighted."""

    task_id: int
    due_date: date
    hours: float  # remaining hours x complexity weight


@dataclass(frozen=True)
class WorkingPattern:
    day_hours: tuple[float, ...]  # Monday first
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class StaffCalendar:
    """What decides a person's available hours, day by day."""

    weekly_hours: float
    working_days: frozenset[int]  # 0 = Monday
    holidays: frozenset[date] = frozenset()
    time_off: Mapping[date, float] = field(default_factory=dict)  # hours away per day
    patterns: tuple[WorkingPattern, ...] = ()

    def pattern_hours(self, day: date) -> float:
        """The day's hours before holidays and time off."""
        covering = [
            (p.start or date.min, k, p)
            for k, p in enumerate(self.patterns)
            if (p.start or date.min) <= day <= (p.end or date.max)
        ]
        if covering:
            return max(covering, key=lambda c: (c[0], c[1]))[2].day_hours[day.weekday()]
        if day.weekday() not in self.working_days:
            return 0.0
        return self.weekly_hours / len(self.working_days)

    def hours_on(self, day: date) -> float:
        if day in self.holidays:
            return 0.0
        return max(0.0, self.pattern_hours(day) - self.time_off.get(day, 0.0))

    def is_working_day(self, day: date) -> bool:
        return self.pattern_hours(day) > 0 and day not in self.holidays

    def available(self, start: date, end: date) -> float:
        """Available hours from ``start`` to ``end``, both included."""
        total = 0.0
        day = start
        while day <= end:
            total += self.hours_on(day)
            day += timedelta(days=1)
        return total


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
        if calendar.available(start, end) > EPSILON:
            return start, end
        start = end + timedelta(days=1)
    return today, week_bounds(today)[1]  # away for two months: keep this week


def spread(calendar: StaffCalendar, work: OpenWork, today: date) -> dict[date, float]:
    """Where ``work``'s hours fall: over working days from today to its due date, in
    proportion to each day's hours.

    Work that is overdue, or due before the next working day, lands on the next
    working day (today when today is one).
    """
    days = []
    day = today
    while day <= work.due_date:
        if calendar.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    if not days:
        return {_next_working_day(calendar, today): work.hours}
    total = sum(calendar.pattern_hours(day) for day in days)
    return {day: work.hours * calendar.pattern_hours(day) / total for day in days}


def _next_working_day(calendar: StaffCalendar, day: date) -> date:
    for offset in range(14):
        candidate = day + timedelta(days=offset)
        if calendar.is_working_day(candidate):
            return candidate
    return day  # nobody works in the next fortnight: keep it on today


def committed_between(
    calendar: StaffCalendar, work: Iterable[OpenWork], today: date, start: date, end: date
) -> float:
    total = 0.0
    for item in work:
        for day, hours in spread(calendar, item, today).items():
            if start <= day <= end:
                total += hours
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
    items = list(work) + ([extra] if extra is not None else [])
    if not items:
        return DeadlineFit(fits=True)
    by_deadline: dict[date, float] = {}
    for item in items:
        due = max(item.due_date, today)
        by_deadline[due] = by_deadline.get(due, 0.0) + item.hours
    extra_due = max(extra.due_date, today) if extra is not None else None
    hours_due = 0.0
    available = 0.0
    day = today
    for deadline in sorted(by_deadline):
        while day <= deadline:
            available += calendar.hours_on(day)
            day += timedelta(days=1)
        hours_due += by_deadline[deadline]
        # Work already due today or overdue is late whatever we do now; its hours
        # still push every later deadline, which the later checks see.
        if deadline <= today and deadline != extra_due:
            continue
        if hours_due > available + EPSILON:
            return DeadlineFit(False, deadline, hours_due, available)
    return DeadlineFit(True, None, hours_due, available)
