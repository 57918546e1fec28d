from __future__ import annotations

from django.db.models import QuerySet

from notifications.choices import NotificationStatus
from notifications.models import Notification


def failed_notification_list(*, limit: int = 200) -> list[Notification]:
    return list(
        Notification.objects.filter(status=NotificationStatus.FAILED)
        .select_related("task")
        .order_by("-created_at")[:limit]
    )


def failed_notification_count() -> int:
    return Notification.objects.filter(status=NotificationStatus.FAILED).count()


def notifications_for_task(*, task_id: int) -> QuerySet[Notification]:
    return Notification.objects.filter(task_id=task_id)
