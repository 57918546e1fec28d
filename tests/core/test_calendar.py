from __future__ import annotations

from datetime import date

import pytest

from core.calendar import BusinessCalendar
from engagements.deadlines import DeadlineRuleError, internal_due_date
from engagements.models import WorkType

US = BusinessCalendar(country="US")


def test_weekends_and_holidays_are_not_business_days():
    assert US.is_business_day(date(2026, 11, 25))  # Wednesday
    assert not US.is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert not US.is_business_day(date(2026, 11, 28))  # Saturday


def test_add_business_days_skips_thanksgiving_and_weekend():
    assert US.add_business_days(date(2026, 11, 25), 1) == date(2026, 11, 27)
    assert US.add_business_days(date(2026, 11, 27), 1) == date(2026, 11, 30)
    assert US.add_business_days(date(2026, 11, 30), -2) == date(2026, 11, 25)


def test_add_zero_business_days_rolls_to_next_business_day():
    assert US.add_business_days(date(2026, 12, 25), 0) == date(2026, 12, 28)


def test_business_days_between_counts_after_start_through_end():
    assert US.business_days_between(date(2026, 11, 20), date(2026, 11, 27)) == 4
    assert US.business_days_between(date(2026, 11, 27), date(2026, 11, 20)) == 0


def test_state_subdivision_adds_state_holidays():
    massachusetts = BusinessCalendar(country="US", subdivision="MA")

    assert US.is_business_day(date(2027, 4, 19))
    assert not massachusetts.is_business_day(date(2027, 4, 19))  # Patriots' Day


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "period_end", "event_date", "expected"),
    [
        # 21 calendar days before April 15, 2027.
        ("1040", date(2026, 12, 31), None, date(2027, 3, 25)),
        # 30 days before March 15, 2027 is Saturday Feb 13 -> Friday Feb 12.
        ("1120", date(2026, 12, 31), None, date(2027, 2, 12)),
        # 5 business days after Nov 30, 2026.
        ("monthly_bookkeeping", date(2026, 11, 30), None, date(2026, 12, 7)),
        # January 25.
        ("1099", date(2026, 12, 31), None, date(2027, 1, 25)),
        # 3 business days before a Friday Dec 4 payroll run.
        ("payroll", None, date(2026, 12, 4), date(2026, 12, 1)),
        # 48 hours before a Tuesday Dec 15 session: two business days.
        ("cfo_advisory", None, date(2026, 12, 15), date(2026, 12, 11)),
    ],
)
def test_internal_due_date_follows_seed_rules(code, period_end, event_date, expected):
    work_type = WorkType.objects.get(code=code)

    due = internal_due_date(work_type, calendar=US, period_end=period_end, event_date=event_date)

    assert due == expected


@pytest.mark.django_db
def test_internal_due_date_refuses_per_engagement_rule():
    with pytest.raises(DeadlineRuleError, match="set per engagement"):
        internal_due_date(
            WorkType.objects.get(code="audit"), calendar=US, period_end=date(2026, 12, 31)
        )
