from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.choices import Channel, NotificationStatus, NotificationTemplate, SubjectType
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def failed(recipient: str = "ghost@example.com") -> Notification:
    return Notification.objects.create(
        subject_type=SubjectType.TASK,
        subject_id=1,
        channel=Channel.EMAIL,
        template=NotificationTemplate.TASK_ASSIGNED,
        recipient=recipient,
        subject="New assignment: Harbor Point Dental",
        body="...",
        status=NotificationStatus.FAILED,
        attempts=5,
        last_error="Mail server: connection refused",
    )


def test_manager_sees_failed_notifications_on_home_and_their_page(client, manager):
    failed()
    client.force_login(manager.user)

    home = client.get(reverse("portal:home")).content.decode()
    page = client.get(reverse("notifications:failed")).content.decode()

    assert "1</strong> failed notification</a>" in home
    assert "ghost@example.com" in page and "connection refused" in page


def test_manager_retries_a_failed_notification(
    client, manager, django_capture_on_commit_callbacks, broker
):
    notification = failed()
    client.force_login(manager.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("notifications:retry", args=[notification.pk]))
    again = client.post(reverse("notifications:retry", args=[notification.pk]))

    assert response.status_code == 302 and again.status_code == 302
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING and notification.attempts == 0
    assert broker.sends == [(notification.pk, None)]


def test_staff_cannot_see_or_retry_failed_notifications(client, alice):
    notification = failed()
    client.force_login(alice.user)

    assert client.get(reverse("notifications:failed")).status_code == 403
    assert client.post(reverse("notifications:retry", args=[notification.pk])).status_code == 403
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED
