"""Sends that break in unexpected ways, and escalations acted on with the wrong person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import channels
from notifications.choices import Channel, NotificationStatus, NotificationTemplate
from notifications.models import Notification
from notifications.services import notification_send, notifications_reap_stuck

pytestmark = pytest.mark.django_db


def notification(**kwargs) -> Notification:
    defaults = {
        "subject_type": "task",
        "subject_id": 1,
        "channel": Channel.EMAIL,
        "template": NotificationTemplate.ESCALATION_OPENED,
        "recipient": "alice@example.com",
        "subject": "New assignment",
        "body": "...",
    }
    return Notification.objects.create(**{**defaults, **kwargs})


def test_unexpected_send_error_retries_instead_of_sticking(monkeypatch):
    row = notification()

    def explode(_):
        raise KeyError("template field")

    monkeypatch.setitem(channels.SENDERS, Channel.EMAIL, explode)
    status = notification_send(notification_id=row.pk)

    row.refresh_from_db()
    assert status == NotificationStatus.RETRYING
    assert "KeyError" in row.last_error


def test_stuck_sends_are_marked_failed_for_a_manager_not_resent():
    now = timezone.now()
    stuck = notification(status=NotificationStatus.SENDING, claimed_at=now - timedelta(minutes=20))
    fresh = notification(
        subject_id=2,
        status=NotificationStatus.SENDING,
        claimed_at=now - timedelta(minutes=2),
    )

    reaped = notifications_reap_stuck(now=now)

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert reaped == 1
    assert stuck.status == NotificationStatus.FAILED and "Not resent" in stuck.last_error
    assert fresh.status == NotificationStatus.SENDING
