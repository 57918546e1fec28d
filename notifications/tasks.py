from __future__ import annotations

from celery import shared_task

from notifications import services, webhooks
from notifications.choices import NotificationStatus


@shared_task(bind=True, name="notifications.tasks.notification_send_task", max_retries=None)
def notification_send_task(self, notification_id: int) -> None:  # type: ignore[no-untyped-def]
    status = services.notification_send(notification_id=notification_id)
    if status == NotificationStatus.RETRYING:
        # The row holds the schedule (send_after) and counts attempts; it gives up by itself.
        attempts = services.Notification.objects.filter(pk=notification_id).values_list(
            "attempts", flat=True
        )
        raise self.retry(countdown=services.retry_delay(attempts.first() or 1))


@shared_task(name="notifications.tasks.notifications_send_task")
def notifications_send_task(notification_ids: list[int]) -> None:
    services.notifications_send(notification_ids=notification_ids)


@shared_task(name="notifications.tasks.notifications_reap_stuck_task")
def notifications_reap_stuck_task() -> None:
    services.notifications_reap_stuck()


@shared_task(name="notifications.tasks.notifications_requeue_pending_task")
def notifications_requeue_pending_task() -> None:
    services.notifications_requeue_pending()


@shared_task(name="notifications.tasks.webhook_delivery_send_task")
def webhook_delivery_send_task(delivery_id: int) -> None:
    # Retries are scheduled on the row (next_attempt_at) and published again by
    # webhook_delivery_send itself (short waits) or the beat job (long ones).
    webhooks.webhook_delivery_send(delivery_id=delivery_id)


@shared_task(name="notifications.tasks.webhook_deliveries_requeue_task")
def webhook_deliveries_requeue_task() -> None:
    webhooks.webhook_deliveries_requeue()
