"""The weekly capacity ledger the demo's assignment replay books hours into (pure)."""

from __future__ import annotations

from datetime import date, timedelta

from core.calendar import BusinessCalendar
from demo.specs import StaffSpec


class WeeklyLedger:
    """Hours booked per person per week, each booking spread evenly over its business days.

    Week ``w`` starts on a Monday; a week's capacity is the person's weekly hours
    scaled by its business days (a holiday week holds four days of work, not five).
    """

    def __init__(
        self, calendar: BusinessCalendar, first_day: date, last_day: date, staff: list[StaffSpec]
    ) -> None:
        self.day0 = first_day - timedelta(days=first_day.weekday())
        days = (last_day - self.day0).days + 14
        self.cumulative = [0]
        for offset in range(days):
            is_business = calendar.is_business_day(self.day0 + timedelta(days=offset))
            self.cumulative.append(self.cumulative[-1] + int(is_business))
        weeks = days // 7 + 1
        self.week_days = [self._count(w * 7, w * 7 + 6) for w in range(weeks)]
        self.weekly = {s.username: float(s.weekly_capacity_hours) or 0.1 for s in staff}
        self.load = {s.username: [0.0] * weeks for s in staff}

    def _count(self, first: int, last: int) -> int:
        last = min(last, len(self.cumulative) - 2)
        return self.cumulative[last + 1] - self.cumulative[first] if last >= first else 0

    def spread(self, start: date, end: date) -> list[tuple[int, float]]:
        """(week, share of the hours) for work done on the business days from start to end."""
        first, last = (start - self.day0).days, (end - self.day0).days
        total = self._count(first, last)
        if not total:
            return [(first // 7, 1.0)]
        shares = []
        for week in range(first // 7, last // 7 + 1):
            days = self._count(max(first, week * 7), min(last, week * 7 + 6))
            if days:
                shares.append((week, days / total))
        return shares

    def _capacity(self, username: str, week: int) -> float:
        return self.weekly[username] * max(self.week_days[week], 1) / 5

    def peak_after(self, username: str, shares: list[tuple[int, float]], hours: float) -> float:
        """Utilization of the fullest week touched, once ``hours`` are added."""
        row = self.load[username]
        return max((row[w] + hours * share) / self._capacity(username, w) for w, share in shares)

    def free_weeks(self, username: str, shares: list[tuple[int, float]]) -> float:
        """Unbooked hours in the weeks touched, in weeks of this person's capacity."""
        row = self.load[username]
        free = sum(self._capacity(username, w) - row[w] for w, _ in shares)
        return free / self.weekly[username]

    def book(self, username: str, shares: list[tuple[int, float]], hours: float) -> None:
        row = self.load[username]
        for week, share in shares:
            row[week] += hours * share
