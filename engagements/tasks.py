from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from engagements.recurring import recurring_generate
from engagements.reminders import document_reminders_run

RECURRING_LOCK = "engagements:recurring-generate-lock"
# Shorter than the hourly beat interval: a crashed run's lock lapses before the next tick.
RECURRING_LOCK_SECONDS = 55 * 60


@shared_task(
    name="engagements.tasks.recurring_generate_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def recurring_generate_task() -> int | None:
    """Open the engagements recurring plans owe; None when another run holds the lock."""
    # One run at a time: a slow run must not be overlapped by the next beat tick
    # (the unique external id would still keep it from opening anything twice).
    if not cache.add(RECURRING_LOCK, "1", timeout=RECURRING_LOCK_SECONDS):
        return None
    try:
        return recurring_generate()
    finally:
        cache.delete(RECURRING_LOCK)


DOCUMENT_REMINDER_LOCK = "engagements:document-reminder-lock"


@shared_task(name="engagements.tasks.document_reminders_run_task")
def document_reminders_run_task() -> None:
    if not cache.add(DOCUMENT_REMINDER_LOCK, "1", timeout=55 * 60):
        return
    try:
        document_reminders_run()
    finally:
        cache.delete(DOCUMENT_REMINDER_LOCK)
