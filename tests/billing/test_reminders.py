"""Friday's draft-time reminder and the leakage reminder: each at most once."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import reminders, services
from billing.choices import TimeEntryStatus
from billing.models import LeakageReminder, TimeEntry
from billing.selectors import leakage_list
from core.calendar import firm_calendar
from engagements.models import Task
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from tests.billing.conftest import complete, hold, open_engagement, preparer

pytestmark = pytest.mark.django_db


def at(day, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def this_friday():
    today = timezone.localdate()
    return today + timedelta(days=(4 - today.weekday()) % 7)


def test_friday_reminder_once_per_person_per_week(alice, bob, broker):
    friday = this_friday()
    client = open_engagement("1120").client
    services.time_entry_create(
        staff=alice, client=client, day=friday - timedelta(days=2), hours=Decimal("2")
    )
    approved = services.time_entry_create(staff=bob, client=client, day=friday, hours=Decimal("1"))
    services.time_entry_approve(entry_id=approved.pk, staff=bob)
    assert reminders.time_drafts_remind(now=at(friday - timedelta(days=1), 16)) == 0  # Thursday
    assert reminders.time_drafts_remind(now=at(friday, 9)) == 0  # Friday morning
    assert reminders.time_drafts_remind(now=at(friday, 14)) == 1
    assert reminders.time_drafts_remind(now=at(friday, 15)) == 0  # the hour after: nothing new
    [row] = Notification.objects.filter(
        template=NotificationTemplate.TIME_DRAFTS_REMINDER, channel="email"
    )
    assert row.staff_member == alice and "1 draft time entry" in row.subject
    # Next week is another week.
    services.time_entry_create(
        staff=alice, client=client, day=friday + timedelta(days=7), hours=Decimal("1")
    )
    assert reminders.time_drafts_remind(now=at(friday + timedelta(days=7), 14)) == 1


def _completed_days_ago(member, business_days: int) -> Task:
    task = complete(hold(preparer(open_engagement("1120")), member), member)
    day = firm_calendar().add_business_days(timezone.localdate(), -business_days)
    Task.objects.filter(pk=task.pk).update(completed_at=at(day, 12))
    task.refresh_from_db()
    return task


def test_leakage_reminds_once_after_two_business_days_then_lists(alice, broker):
    recent = _completed_days_ago(alice, 1)
    late = _completed_days_ago(alice, 2)
    assert TimeEntry.objects.filter(
        task=late, status=TimeEntryStatus.DRAFT
    ).exists()  # a draft is not logged time
    assert reminders.leakage_remind() == 1
    assert reminders.leakage_remind() == 0
    assert list(LeakageReminder.objects.values_list("task_id", flat=True)) == [late.pk]
    assert not LeakageReminder.objects.filter(task=recent).exists()
    assert (
        Notification.objects.filter(
            template=NotificationTemplate.TIME_LEAKAGE_REMINDER, subject_id=late.pk, channel="email"
        ).count()
        == 1
    )
    assert [r.task_id for r in leakage_list()] == [late.pk]
    for entry in TimeEntry.objects.filter(task=late):
        services.time_entry_approve(entry_id=entry.pk, staff=alice)
    assert leakage_list() == []
