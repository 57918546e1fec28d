"""Signal wiring: engagement events queue dispatches; dispatch events queue notifications.

Dispatch signals are sent after commit, so the receivers only enqueue work.
"""

from __future__ import annotations

from django.dispatch import receiver

from dispatch import signals
from dispatch.services import queue_dispatch
from engagements.choices import Milestone
from engagements.signals import milestone_changed, review_exception_raised, work_ready


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


# The two engagement signals below are sent after commit, so these only enqueue.
@receiver(milestone_changed, dispatch_uid="notify-document-request")
def on_milestone_changed(
    sender: object, *, engagement_id: int, milestone: str, **kwargs: object
) -> None:
    if milestone != Milestone.DOCUMENTS_REQUESTED:
        return
    from dispatch.tasks import notify_document_request_task

    notify_document_request_task.delay(engagement_id)


@receiver(review_exception_raised, dispatch_uid="notify-clarification-request")
def on_review_exception_raised(sender: object, *, exception_id: int, **kwargs: object) -> None:
    from dispatch.tasks import notify_clarification_request_task

    notify_clarification_request_task.delay(exception_id)
