"""Engagement events that make work ready -> a dispatch queued on commit."""

from __future__ import annotations

from django.dispatch import receiver

from dispatch.services import queue_dispatch
from engagements.signals import work_ready


@receiver(work_ready, dispatch_uid="dispatch-work-ready")
def dispatch_ready_work(
    sender: object, *, task_ids: list[int], trigger: str, **kwargs: object
) -> None:
    for task_id in task_ids:
        queue_dispatch(task_id=task_id, trigger=trigger)
