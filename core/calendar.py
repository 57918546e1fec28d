"""The firm's business-day calendar: the one place dates that mean business days go through.

Holidays come from python-holidays for the firm's configured country and
subdivision (``CLOSELOOP_HOLIDAY_COUNTRY`` / ``CLOSELOOP_HOLIDAY_SUBDIVISION``).
Functions take the calendar explicitly so pure code (the engine, the planner)
can be handed one without touching settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays

WEEKDAYS_MON_FRI = frozenset({0, 1, 2, 3, 4})


@dataclass(frozen=True)
class BusinessCalendar:
    country: str = "US"
    subdivision: str | None = None
    working_weekdays: frozenset[int] = WEEKDAYS_MON_FRI
    _cache: dict[int, frozenset[date]] = field(default_factory=dict, compare=False, repr=False)

    def holidays_in(self, year: int) -> frozenset[date]:
        if year not in self._cache:
            self._cache[year] = frozenset(
                holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
            )
        return self._cache[year]

    def holiday_name(self, day: date) -> str | None:
        names = holidays.country_holidays(self.country, subdiv=self.subdivision, years=day.year)
        return names.get(day)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.working_weekdays and day not in self.holidays_in(day.year)

    def add_business_days(self, start: date, days: int) -> date:
        """``start`` moved by ``days`` business days (negative goes back); 0 rolls forward
        to the next business day when ``start`` is not one."""
        step = 1 if days >= 0 else -1
        current = start
        if days == 0:
            while not self.is_business_day(current):
                current += timedelta(days=1)
            return current
        remaining = abs(days)
        while remaining:
            current += timedelta(days=step)
            if self.is_business_day(current):
                remaining -= 1
        return current

    def previous_business_day(self, day: date) -> date:
        """``day`` itself when it is a business day, else the business day before it."""
        while not self.is_business_day(day):
            day -= timedelta(days=1)
        return day

    def business_days(self, start: date, end: date) -> Iterator[date]:
        """Business days from ``start`` to ``end``, both included."""
        day = start
        while day <= end:
            if self.is_business_day(day):
                yield day
            day += timedelta(days=1)

    def business_days_between(self, start: date, end: date) -> int:
        """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
        if end <= start:
            return 0
        return sum(1 for _ in self.business_days(start + timedelta(days=1), end))

    def holidays_between(self, start: date, end: date) -> list[date]:
        years: Iterable[int] = range(start.year, end.year + 1)
        return sorted(d for year in years for d in self.holidays_in(year) if start <= d <= end)


@lru_cache(maxsize=8)
def _calendar(country: str, subdivision: str | None) -> BusinessCalendar:
    return BusinessCalendar(country=country, subdivision=subdivision)


def firm_calendar() -> BusinessCalendar:
    """The calendar configured in settings (cached per country/subdivision)."""
    from django.conf import settings

    return _calendar(settings.CLOSELOOP_HOLIDAY_COUNTRY, settings.CLOSELOOP_HOLIDAY_SUBDIVISION)
