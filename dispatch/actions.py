"""What a staff member does with their own work: accept, start, complete, or hand it back.

Each action checks the task is theirs and in the right state with a conditional
update, so a double click or a replayed email link changes nothing twice.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dispatch.choices import DecisionOutcome, Trigger
from dispatch.models import DispatchDecision, ReassignmentRequest
from dispatch.services import DispatchError, task_dispatch
from engagements import services as engagement_services
from engagements.choices import TaskStatus
from engagements.models import Task
from staff.models import StaffMember


class NotYourTask(DispatchError):
    """The task is not assigned to the person acting on it."""


def _own_task(task_id: int, staff: StaffMember) -> Task:
    task = Task.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise DispatchError("That task does not exist.")
    if task.assignee_id != staff.pk:
        raise NotYourTask("This task is not assigned to you.")
    return task


@transaction.atomic
def task_accept(*, task_id: int, staff: StaffMember) -> Task:
    task = _own_task(task_id, staff)
    if task.status == TaskStatus.ACCEPTED:
        return task
    if task.status != TaskStatus.ASSIGNED:
        raise DispatchError(
            f"This task is {task.get_status_display().lower()}; there is nothing to accept."
        )
    task.status = TaskStatus.ACCEPTED
    task.accepted_at = timezone.now()
    task.save(update_fields=["status", "accepted_at", "updated_at"])
    return task


@transaction.atomic
def task_start(*, task_id: int, staff: StaffMember) -> Task:
    task = _own_task(task_id, staff)
    if task.status == TaskStatus.IN_PROGRESS:
        return task
    if task.status not in (TaskStatus.ASSIGNED, TaskStatus.ACCEPTED):
        raise DispatchError(
            f"This task is {task.get_status_display().lower()}; it cannot be started."
        )
    now = timezone.now()
    task.status = TaskStatus.IN_PROGRESS
    task.accepted_at = task.accepted_at or now
    task.started_at = now
    task.save(update_fields=["status", "accepted_at", "started_at", "updated_at"])
    engagement_services.task_started(task=task, at=now)
    return task


@transaction.atomic
def task_finish(*, task_id: int, staff: StaffMember) -> Task:
    task = _own_task(task_id, staff)
    if task.status == TaskStatus.COMPLETED:
        return task
    if task.status not in (TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS):
        raise DispatchError("Accept or start the task before completing it.")
    return engagement_services.task_complete(task_id=task.pk)


@transaction.atomic
def task_request_reassignment(
    *, task_id: int, staff: StaffMember, reason: str
) -> DispatchDecision | None:
    """Hand a task back: logged as feedback on the decision, then re-dispatched without them.

    Everyone who has asked off this task stays excluded (task_dispatch reads the
    requests), so it never bounces back.
    """
    reason = reason.strip()
    if not reason:
        raise DispatchError("Say why you need the task reassigned.")
    task = _own_task(task_id, staff)
    if task.status not in (TaskStatus.ASSIGNED, TaskStatus.ACCEPTED):
        raise DispatchError("Only work you have not started can be handed back; ask your manager.")
    decision = (
        DispatchDecision.objects.filter(task=task, outcome=DecisionOutcome.ASSIGNED, assignee=staff)
        .order_by("-created_at", "-pk")
        .first()
    )
    ReassignmentRequest.objects.create(
        task=task, staff_member=staff, decision=decision, reason=reason
    )
    task.assignee = None
    task.status = TaskStatus.UNASSIGNED
    task.assigned_at = None
    task.accepted_at = None
    task.save(update_fields=["assignee", "status", "assigned_at", "accepted_at", "updated_at"])
    return task_dispatch(task_id=task.pk, trigger=Trigger.REASSIGNMENT)
