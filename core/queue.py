"""Publishing work to Celery: by task name, after commit, never failing the caller.

Services write the work still to do (an outbox row, a task marked for dispatch)
in their own transaction and then call ``enqueue``; publishing happens after
commit and is best effort. If the broker is away the error is logged and the
saved change stands: a beat job re-queues whatever is still pending. Services
name tasks by string so that they never import ``tasks.py`` (tasks import
services, not the reverse).
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# Enough to ride out a blip, short enough that a page never hangs on a dead broker.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


def publish(task_name: str, *args: object, countdown: float | None = None) -> bool:
    """Send ``task_name`` now; False (and a log line) when the broker refused it."""
    try:
        current_app.send_task(
            task_name,
            args=args,
            countdown=countdown or None,
            retry_policy=PUBLISH_RETRY_POLICY,
        )
    except Exception:  # any broker or connection error: the outbox job re-queues it
        logger.warning(
            "could not publish %s%r; it stays pending and will be re-queued",
            task_name,
            args,
            exc_info=True,
        )
        return False
    return True


def enqueue(task_name: str, *args: object, countdown: float | None = None) -> None:
    """Publish ``task_name`` once the current transaction commits (now, outside one)."""
    transaction.on_commit(lambda: publish(task_name, *args, countdown=countdown), robust=True)
