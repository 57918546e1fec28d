"""A task becomes ready when its trigger fires; a ready, unassigned task is owed a dispatch.

The dispatch owed is written on the task row (``dispatch_requested_at``) in the
same transaction as the change that made it due, then published to the worker
after commit. The broker may be away; the row is not lost: dispatch's beat job
re-queues every request older than a minute, and the dispatch that decides the
task clears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from core.queue import enqueue
from engagements.choices import TaskStatus
from engagements.models import Task

DISPATCH_TASK = "dispatch.tasks.task_dispatch_task"


def dispatch_request(*, task_ids: Iterable[int], trigger: str, at: datetime | None = None) -> int:
    """Owe a dispatch to each unassigned task in ``task_ids``; returns how many.

    Call inside the transaction that makes the dispatch due.
    """
    at = at or timezone.now()
    ids = list(
        Task.objects.filter(pk__in=list(task_ids), status=TaskStatus.UNASSIGNED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    Task.objects.filter(pk__in=ids).update(dispatch_requested_at=at, dispatch_trigger=trigger)
    for task_id in ids:
        enqueue(DISPATCH_TASK, task_id, trigger)
    return len(ids)


def tasks_mark_ready(*, task_ids: Iterable[int], trigger: str, at: datetime | None = None) -> int:
    """The tasks' trigger fired: record when, and owe each unassigned one a dispatch."""
    at = at or timezone.now()
    ids = list(task_ids)
    Task.objects.filter(pk__in=ids, ready_at__isnull=True).update(ready_at=at)
    return dispatch_request(task_ids=ids, trigger=trigger, at=at)
