"""The due date in words: the same computation as the one saved, each step said."""

from __future__ import annotations

from datetime import date

import pytest

from core.calendar import BusinessCalendar
from engagements.deadlines import due_date_explained, internal_due_date
from engagements.models import WorkType

pytestmark = pytest.mark.django_db

US = BusinessCalendar(country="US")


def statutory(month: int, day: int, buffer: int = 0) -> WorkType:
    """The 1040's rule with another statutory date (kept in memory, never saved)."""
    work_type = WorkType.objects.get(code="1040")
    work_type.statutory_month, work_type.statutory_day = month, day
    work_type.deadline_buffer = buffer
    return work_type


def test_a_weekend_date_moves_to_the_friday_before_and_says_why():
    work_type = statutory(3, 31)  # March 31, 2024 was a Sunday

    explained = due_date_explained(work_type, calendar=US, period_end=date(2023, 12, 31))

    assert explained.due == date(2024, 3, 29)
    assert explained.adjustment == "moved to Friday Mar 29: Mar 31 is a Sunday"
    assert (
        explained.steps[-1] == "Not a business day, so moved to Friday Mar 29: Mar 31 is a Sunday."
    )


def test_a_holiday_is_named():
    work_type = statutory(1, 1)  # New Year's Day 2027 is a Friday

    explained = due_date_explained(work_type, calendar=US, period_end=date(2026, 6, 30))

    assert explained.due == date(2026, 12, 31)
    assert explained.adjustment == "moved to Thursday Dec 31: Jan 1 is New Year's Day"


def test_each_step_of_the_rule_is_said():
    explained = due_date_explained(
        WorkType.objects.get(code="1120"), calendar=US, period_end=date(2026, 12, 31)
    )

    assert explained.steps == [
        "Statutory deadline Mon Mar 15, 2027: the first Mar 15 after the period ends on Thu Dec 31, 2026.",
        "The firm's buffer of 30 calendar days before it: Sat Feb 13, 2027.",
        "Not a business day, so moved to Friday Feb 12: Feb 13 is a Saturday.",
    ]


def test_period_end_rule_says_the_business_days_after_the_period():
    explained = due_date_explained(
        WorkType.objects.get(code="monthly_bookkeeping"), calendar=US, period_end=date(2026, 11, 30)
    )

    assert explained.due == date(2026, 12, 7)
    assert (
        explained.steps[0]
        == "5 business days after the period ends on Mon Nov 30, 2026: Mon Dec 7, 2026."
    )
    assert explained.adjustment == ""


@pytest.mark.parametrize(
    ("code", "period_end", "event_date"),
    [
        ("1040", date(2026, 12, 31), None),
        ("1120", date(2026, 12, 31), None),
        ("monthly_bookkeeping", date(2026, 11, 30), None),
        ("month_end_close", date(2026, 10, 31), None),
        ("1099", date(2026, 12, 31), None),
        ("payroll", None, date(2026, 12, 4)),
        ("cfo_advisory", None, date(2026, 12, 15)),
    ],
)
def test_the_explanation_gives_the_date_that_is_saved(code, period_end, event_date):
    work_type = WorkType.objects.get(code=code)

    explained = due_date_explained(
        work_type, calendar=US, period_end=period_end, event_date=event_date
    )

    assert explained.due == internal_due_date(
        work_type, calendar=US, period_end=period_end, event_date=event_date
    )
    assert explained.steps
