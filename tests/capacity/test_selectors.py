"""Capacity figures read from the database see every absence they cover."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from capacity.selectors import staff_loads
from engagements.choices import TaskStatus
from staff.models import StaffMember
from tests.factories import StaffMemberFactory, TaskFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)
WEDNESDAY, FRIDAY = MONDAY + dt.timedelta(days=2), MONDAY + dt.timedelta(days=4)


def test_time_off_after_the_horizon_still_counts_in_this_weeks_utilization():
    """Dispatch asks up to a task's due date; Friday off must still shrink the week.

    The bug: a person with Friday off got a task due Wednesday at a computed 64 %
    when the week really stood at 96 %.
    """
    person = StaffMemberFactory(weekly_capacity_hours=Decimal("40"))
    TimeOffFactory(staff_member=person, start_date=FRIDAY, end_date=FRIDAY)
    TaskFactory(assignee=person, status=TaskStatus.ACCEPTED, due_date=FRIDAY)

    load = staff_loads(
        staff=StaffMember.objects.filter(pk=person.pk), today=MONDAY, horizon=WEDNESDAY
    )[person.pk]

    assert load.available_week == pytest.approx(32.0)
    assert load.calendar.hours_on(FRIDAY) == 0.0


def test_time_off_before_a_far_due_date_is_loaded_for_deadline_fit():
    person = StaffMemberFactory(weekly_capacity_hours=Decimal("40"))
    far = MONDAY + dt.timedelta(weeks=40)
    away = far - dt.timedelta(days=3)
    TimeOffFactory(staff_member=person, start_date=away, end_date=away)
    TaskFactory(assignee=person, status=TaskStatus.ASSIGNED, due_date=far)

    load = staff_loads(
        staff=StaffMember.objects.filter(pk=person.pk), today=MONDAY, horizon=MONDAY
    )[person.pk]

    assert load.calendar.hours_on(away) == 0.0


@pytest.mark.django_db
def test_the_capacity_policy_is_cached_and_forgotten_when_a_rule_changes(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    from capacity.models import CapacityRule
    from capacity.selectors import capacity_policy

    day = dt.date(2027, 3, 1)
    assert capacity_policy(day=day).thresholds_for([]).preparer == pytest.approx(0.80)
    with django_assert_num_queries(0):
        capacity_policy(day=day)

    with django_capture_on_commit_callbacks(execute=True):
        rule = CapacityRule.objects.create(
            name="Busy season",
            start_month=2,
            start_day=1,
            end_month=4,
            end_day=15,
            threshold_percent=95,
        )
    assert capacity_policy(day=day).thresholds_for([]).preparer == pytest.approx(0.95)

    with django_capture_on_commit_callbacks(execute=True):
        rule.threshold_percent = 90
        rule.save()
    assert capacity_policy(day=day).thresholds_for([]).preparer == pytest.approx(0.90)

    with django_capture_on_commit_callbacks(execute=True):
        rule.delete()
    assert capacity_policy(day=day).thresholds_for([]).preparer == pytest.approx(0.80)
