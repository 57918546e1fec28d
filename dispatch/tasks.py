"""Celery tasks for dispatch: ids in, one service call each (names are what services enqueue)."""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from dispatch.checkpoints import checkpoints_run
from dispatch.digests import STRAGGLER_AGE, escalation_digest_send
from dispatch.services import dispatch_requeue_pending, task_dispatch
from dispatch.sweeps import dispatch_sweep

SWEEP_LOCK = "dispatch:sweep-lock"
CHECKPOINT_LOCK = "dispatch:checkpoint-lock"
REQUEUE_LOCK = "dispatch:requeue-lock"


@shared_task(
    name="dispatch.tasks.task_dispatch_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def task_dispatch_task(task_id: int, trigger: str) -> None:
    # Only while the task is still owed a dispatch: a duplicate message decides nothing.
    task_dispatch(task_id=task_id, trigger=trigger, only_if_requested=True)


def locked(key: str, timeout: int, job: Callable[[], object]) -> None:
    """Run ``job`` unless another run holds ``key``: a slow run is never overlapped."""
    if not cache.add(key, "1", timeout=timeout):
        return
    try:
        job()
    finally:
        cache.delete(key)


@shared_task(name="dispatch.tasks.dispatch_sweep_task")
def dispatch_sweep_task() -> None:
    locked(SWEEP_LOCK, 14 * 60, dispatch_sweep)


@shared_task(name="dispatch.tasks.checkpoints_run_task")
def checkpoints_run_task() -> None:
    locked(CHECKPOINT_LOCK, 9 * 60, checkpoints_run)


@shared_task(name="dispatch.tasks.dispatch_requeue_pending_task")
def dispatch_requeue_pending_task() -> None:
    locked(REQUEUE_LOCK, 5 * 60, dispatch_requeue_pending)


@shared_task(name="dispatch.tasks.escalation_digest_task")
def escalation_digest_task() -> None:
    escalation_digest_send(older_than=STRAGGLER_AGE)


REBALANCE_LOCK = "dispatch:rebalance-lock"


@shared_task(name="dispatch.tasks.rebalance_run_task")
def rebalance_run_task() -> None:
    # Imported here: the planner (OR-Tools) loads only in the process that plans.
    from dispatch.plan_services import rebalance_run

    locked(REBALANCE_LOCK, 30 * 60, rebalance_run)
