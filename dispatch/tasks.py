from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError

from dispatch import notifications
from dispatch.checkpoints import checkpoints_run
from dispatch.choices import NotificationStatus
from dispatch.reminders import document_reminders_run
from dispatch.services import task_dispatch
from dispatch.sweeps import dispatch_sweep

SWEEP_LOCK = "dispatch:sweep-lock"
CHECKPOINT_LOCK = "dispatch:checkpoint-lock"
DOCUMENT_REMINDER_LOCK = "dispatch:document-reminder-lock"


@shared_task(
    name="dispatch.tasks.task_dispatch_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def task_dispatch_task(task_id: int, trigger: str) -> None:
    task_dispatch(task_id=task_id, trigger=trigger)


def _locked(key: str, timeout: int, job) -> None:  # type: ignore[no-untyped-def]
    # One run at a time: a slow run must not be overlapped by the next beat tick.
    if not cache.add(key, "1", timeout=timeout):
        return
    try:
        job()
    finally:
        cache.delete(key)


@shared_task(name="dispatch.tasks.dispatch_sweep_task")
def dispatch_sweep_task() -> None:
    _locked(SWEEP_LOCK, 14 * 60, dispatch_sweep)


@shared_task(name="dispatch.tasks.checkpoints_run_task")
def checkpoints_run_task() -> None:
    _locked(CHECKPOINT_LOCK, 9 * 60, checkpoints_run)


@shared_task(name="dispatch.tasks.notifications_reap_stuck_task")
def notifications_reap_stuck_task() -> None:
    notifications.notifications_reap_stuck()


@shared_task(bind=True, name="dispatch.tasks.notification_send_task", max_retries=None)
def notification_send_task(self, notification_id: int) -> None:  # type: ignore[no-untyped-def]
    status = notifications.notification_send(notification_id=notification_id)
    if status == NotificationStatus.RETRYING:
        # 30 s, 60 s, 120 s, ... capped at an hour; the row counts attempts and gives up.
        countdown = min(3600, settings.NOTIFICATION_RETRY_BASE_SECONDS * 2**self.request.retries)
        raise self.retry(countdown=countdown)


@shared_task(name="dispatch.tasks.notify_task_assigned_task")
def notify_task_assigned_task(decision_id: int) -> None:
    notifications.notify_task_assigned(decision_id=decision_id)


@shared_task(name="dispatch.tasks.notify_confirmation_needed_task")
def notify_confirmation_needed_task(decision_id: int) -> None:
    notifications.notify_confirmation_needed(decision_id=decision_id)


@shared_task(name="dispatch.tasks.notify_escalation_opened_task")
def notify_escalation_opened_task(escalation_id: int) -> None:
    notifications.notify_escalation_opened(escalation_id=escalation_id)


@shared_task(name="dispatch.tasks.document_reminders_run_task")
def document_reminders_run_task() -> None:
    _locked(DOCUMENT_REMINDER_LOCK, 55 * 60, document_reminders_run)


@shared_task(name="dispatch.tasks.notify_document_request_task")
def notify_document_request_task(engagement_id: int) -> None:
    notifications.notify_document_request(engagement_id=engagement_id)


@shared_task(name="dispatch.tasks.notify_clarification_request_task")
def notify_clarification_request_task(exception_id: int) -> None:
    notifications.notify_clarification_request(exception_id=exception_id)
