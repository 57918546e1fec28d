"""The range of dates a firm can mean, for every date that enters Closeloop.

Ten years back (old periods, late filings) to five years ahead (multi-year
engagements, planned leave). A date outside it is a typo or an attack — the year
3000 made one dispatch loop for 10 s — and is refused where it enters, with a
message next to the field; the capacity ledger never sees it.
"""

from __future__ import annotations

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
