"""The weekly billing report: partners hear on Monday morning, once per week."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import tasks
from billing.choices import InvoiceOrigin, InvoiceStatus
from billing.models import Invoice
from billing.weekly_report import weekly_report_send
from notifications.choices import Channel, NotificationTemplate
from notifications.models import Notification
from staff.choices import Role
from tests.factories import ClientFactory, StaffMemberFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 12, 7)


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def reports_sent() -> list[Notification]:
    return list(
        Notification.objects.filter(
            template=NotificationTemplate.WEEKLY_BILLING_REPORT, channel=Channel.EMAIL
        ).order_by("recipient")
    )


@pytest.fixture
def two_partners(partner):
    other = StaffMemberFactory(
        user=UserFactory(username="paula", first_name="Paula", email="paula@example.com"),
        role=Role.PARTNER,
    )
    return [partner, other]


def test_each_partner_gets_the_report_once_however_often_the_job_runs(
    two_partners, manager, settings
):
    settings.WEEKLY_REPORT_HOUR = 7
    Invoice.objects.create(
        client=ClientFactory(name="Owes Co"), origin=InvoiceOrigin.MANUAL,
        status=InvoiceStatus.ISSUED, number="W-1", issued_on=MONDAY - timedelta(days=60),
        due_on=MONDAY - timedelta(days=40), total=Decimal("1234.50"),
    )  # fmt: skip

    first = weekly_report_send(now=at(MONDAY, 8))
    again = weekly_report_send(now=at(MONDAY, 9))

    assert (first, again) == (2, 0)
    sent = reports_sent()
    assert [n.recipient for n in sent] == sorted(p.user.email for p in two_partners)
    assert sent[0].subject == "Weekly billing report: Nov 30 – Dec 6"
    assert "Owed: $1,234.50" in sent[0].body
    assert "31–60 days $1,234.50" in sent[0].body
    assert "/billing/reports/leakage/" in sent[0].body
    assert manager.user.email not in {n.recipient for n in sent}


def test_the_report_waits_for_monday_morning(two_partners, settings):
    settings.WEEKLY_REPORT_HOUR = 7
    assert weekly_report_send(now=at(MONDAY, 6)) == 0
    assert weekly_report_send(now=at(MONDAY - timedelta(days=1), 12)) == 0
    assert weekly_report_send(now=at(MONDAY + timedelta(days=1), 8)) == 0
    assert reports_sent() == []
    # The next Monday is a new week: a new report.
    assert weekly_report_send(now=at(MONDAY, 7)) == 2
    assert weekly_report_send(now=at(MONDAY + timedelta(days=7), 7)) == 2


def test_the_beat_task_calls_the_service(two_partners, settings, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.weekly_report, "weekly_report_send", lambda: calls.append(1))
    tasks.weekly_report_send_task()
    assert calls == [1]


def test_the_beat_entry_is_static_and_expires():
    from config.celery import app

    entry = app.conf.beat_schedule["hourly-billing-weekly-report"]
    assert entry["task"] == "billing.tasks.weekly_report_send_task"
    assert 0 < entry["options"]["expires"] < entry["schedule"]
