"""Signal wiring: engagement events queue dispatches; dispatch events queue notifications.

Dispatch signals are sent after commit, so the receivers only enqueue work.
"""

from __future__ import annotations

from django.dispatch import receiver

from dispatch import signals
from dispatch.services import queue_dispatch
from engagements.signals import work_ready


@receiver(work_ready, dispatch_uid="dispatch-work-ready")
def dispatch_ready_work(
    sender: object, *, task_ids: list[int], trigger: str, **kwargs: object
) -> None:
    for task_id in task_ids:
        queue_dispatch(task_id=task_id, trigger=trigger)


@receiver(signals.task_assigned, dispatch_uid="notify-task-assigned")
def on_task_assigned(sender: object, *, decision_id: int, **kwargs: object) -> None:
    from dispatch.tasks import notify_task_assigned_task

    notify_task_assigned_task.delay(decision_id)


@receiver(signals.confirmation_needed, dispatch_uid="notify-confirmation-needed")
def on_confirmation_needed(sender: object, *, decision_id: int, **kwargs: object) -> None:
    from dispatch.tasks import notify_confirmation_needed_task

    notify_confirmation_needed_task.delay(decision_id)


@receiver(signals.escalation_opened, dispatch_uid="notify-escalation-opened")
def on_escalation_opened(sender: object, *, escalation_id: int, **kwargs: object) -> None:
    from dispatch.tasks import notify_escalation_opened_task

    notify_escalation_opened_task.delay(escalation_id)
