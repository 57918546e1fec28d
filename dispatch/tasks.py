from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from dispatch.services import task_dispatch
from dispatch.sweeps import dispatch_sweep


@shared_task(
    name="dispatch.tasks.task_dispatch_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def task_dispatch_task(task_id: int, trigger: str) -> None:
    task_dispatch(task_id=task_id, trigger=trigger)


SWEEP_LOCK = "dispatch:sweep-lock"


@shared_task(name="dispatch.tasks.dispatch_sweep_task")
def dispatch_sweep_task() -> None:
    # One sweep at a time: a slow sweep must not be overlapped by the next tick.
    if not cache.add(SWEEP_LOCK, "1", timeout=14 * 60):
        return
    try:
        dispatch_sweep()
    finally:
        cache.delete(SWEEP_LOCK)
