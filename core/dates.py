"""The range of dates a firm can mean, for every date that enters Closeloop.

Ten years back (old periods, late filings) to five years ahead (multi-year
engagements, planned leave). A date outside it is a typo or an attack — the year
3000 made one dispatch loop for 10 s — and is refused where it enters, with a
message next to the field; the capacity ledger never sees it.
"""

from __future__ import annotations

import calendar
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

YEARS_BACK = 10
YEARS_AHEAD = 5


def _shift(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def firm_date_range(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return _shift(today, -YEARS_BACK), _shift(today, YEARS_AHEAD)


def firm_date_problem(value: date, today: date | None = None) -> str | None:
    """What is wrong with ``value`` as a business date, or None when it is in range."""
    earliest, latest = firm_date_range(today)
    if earliest <= value <= latest:
        return None
    return (
        f"Choose a date between {earliest:%b} {earliest.day}, {earliest.year} "
        f"and {latest:%b} {latest.day}, {latest.year}."
    )


def validate_firm_date(value: date) -> None:
    """Field validator (models and forms): refuses dates no firm means."""
    if isinstance(value, date):
        problem = firm_date_problem(value)
        if problem:
            raise ValidationError(problem, code="date_out_of_range")


def month_day_problem(month: int, day: int, *, leap_day: bool = True) -> str | None:
    """What is wrong with a day of the year given as (month, day), in words; None if it
    is a real date (February 29 only where ``leap_day``: a season may end on it, a
    statutory deadline must fall every year)."""
    if not 1 <= month <= 12:
        return "Months run from 1 (January) to 12 (December)."
    name = calendar.month_name[month]
    if month == 2 and day == 29:
        return (
            None
            if leap_day
            else ("February 29 comes only in leap years: choose February 28 or March 1.")
        )
    days = calendar.monthrange(2023, month)[1]  # a common year
    if not 1 <= day <= days:
        return f"{name} has {days} days: there is no {name} {day}."
    return None
