"""The task actions, one service each, for every caller: the queue, the task page,
the email link and (later) the API. The table in ``engagements.lifecycle`` says
what is allowed; these enforce it under a row lock, so a double click or a
replayed link changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError, Conflict, NotFound, NotPermitted
from core.services import change_stamp_bump
from dispatch.choices import DecisionOutcome, Trigger
from dispatch.messages import webhook_task_event
from dispatch.models import DispatchDecision, ReassignmentRequest
from dispatch.services import task_dispatch
from engagements import services as engagement_services
from engagements.choices import CLOSE_STAMP, TaskStatus
from engagements.lifecycle import (
    MAX_ESTIMATE_HOURS,
    Actor,
    TaskAction,
    actors_for,
    already_done,
    refusal,
)
from engagements.models import Task
from engagements.readiness import dispatch_request
from notifications.choices import WebhookEventType
from staff.models import StaffMember


def _locked(task_id: int) -> Task:
    task = Task.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise NotFound("That task does not exist.")
    return task


def _check(task: Task, action: TaskAction, actors: frozenset[Actor]) -> bool:
    """Raise with the table's reason when refused; True when the result already holds."""
    refused = refusal(action, status=task.status, actors=actors)
    if refused is not None:
        # The task's status refuses it: a conflict with where it stands (409 in the API).
        raise (NotPermitted if refused.not_permitted else Conflict)(refused.message)
    return already_done(action, task.status)


def _as_assignee(task: Task, staff: StaffMember) -> frozenset[Actor]:
    if task.assignee_id != staff.pk:
        raise NotPermitted("This task is not assigned to you.")
    return actors_for(is_assignee=True, is_manager=False)


def _save(task: Task, *fields: str) -> None:
    task.save(update_fields=[*fields, "updated_at"])
    change_stamp_bump(CLOSE_STAMP)


@transaction.atomic
def task_accept(*, task_id: int, staff: StaffMember) -> Task:
    task = _locked(task_id)
    if _check(task, TaskAction.ACCEPT, _as_assignee(task, staff)):
        return task
    task.status = TaskStatus.ACCEPTED
    task.accepted_at = timezone.now()
    _save(task, "status", "accepted_at")
    webhook_task_event(WebhookEventType.TASK_ACCEPTED, task)
    return task


@transaction.atomic
def task_start(*, task_id: int, staff: StaffMember) -> Task:
    task = _locked(task_id)
    if _check(task, TaskAction.START, _as_assignee(task, staff)):
        return task
    now = timezone.now()
    task.status = TaskStatus.IN_PROGRESS
    task.accepted_at = task.accepted_at or now
    task.started_at = now
    _save(task, "status", "accepted_at", "started_at")
    engagement_services.engagement_task_started(task=task, at=now)
    return task


@transaction.atomic
def task_complete(
    *,
    task_id: int,
    staff: StaffMember | None,
    is_manager: bool = False,
    completed_at: datetime | None = None,
) -> Task:
    """Finish a task (its assignee, or a manager); a finished preparation readies the review."""
    task = _locked(task_id)
    actors = actors_for(
        is_assignee=staff is not None and task.assignee_id == staff.pk, is_manager=is_manager
    )
    if _check(task, TaskAction.COMPLETE, actors):
        return task
    completed_at = completed_at or timezone.now()
    task.status = TaskStatus.COMPLETED
    task.completed_at = completed_at
    task.started_at = task.started_at or completed_at
    _save(task, "status", "completed_at", "started_at")
    engagement_services.engagement_task_completed(task=task, at=completed_at)
    return task


@transaction.atomic
def task_hand_back(*, task_id: int, staff: StaffMember, reason: str) -> DispatchDecision | None:
    """Hand a task back: logged as feedback on the decision, then re-dispatched without them.

    Everyone who has asked off this task stays excluded (task_dispatch reads the
    requests), so it never bounces back.
    """
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why you need the task reassigned.")
    task = _locked(task_id)
    if _check(task, TaskAction.HAND_BACK, _as_assignee(task, staff)):
        return None
    decision = (
        DispatchDecision.objects.filter(task=task, outcome=DecisionOutcome.ASSIGNED, assignee=staff)
        .order_by("-created_at", "-pk")
        .first()
    )
    # Asking off again (a manager gave it back to them) restates the one request
    # this person has on this task, with the reason they give now.
    ReassignmentRequest.objects.update_or_create(
        task=task, staff_member=staff, defaults={"decision": decision, "reason": reason}
    )
    task.assignee = None
    task.status = TaskStatus.UNASSIGNED
    task.assigned_at = None
    task.accepted_at = None
    _save(task, "assignee", "status", "assigned_at", "accepted_at")
    webhook_task_event(
        WebhookEventType.REASSIGNMENT_REQUESTED, task, requested_by=staff.pk, reason=reason
    )
    return task_dispatch(task_id=task.pk, trigger=Trigger.REASSIGNMENT)


@transaction.atomic
def task_estimate_set(*, task_id: int, hours: Decimal) -> Task:
    """A manager gives (or corrects) a task's estimate.

    A ready, unassigned task (its trigger fired, or dispatch held it for want of
    an estimate) is owed a dispatch now; one still waiting for its trigger (the
    client's documents, the prior task) keeps the estimate and is dispatched when
    that trigger fires. Finished work keeps its estimate.
    """
    if hours is None or not (Decimal("0") < hours <= MAX_ESTIMATE_HOURS):
        raise ApplicationError(
            f"An estimate must be more than zero and at most {MAX_ESTIMATE_HOURS} hours."
        )
    task = _locked(task_id)
    _check(task, TaskAction.ESTIMATE, actors_for(is_assignee=False, is_manager=True))
    task.estimated_hours = hours
    _save(task, "estimated_hours")
    held = DispatchDecision.objects.filter(
        task=task, outcome=DecisionOutcome.HELD_MISSING_ESTIMATE
    ).exists()
    if task.status == TaskStatus.UNASSIGNED and (task.ready_at is not None or held):
        dispatch_request(task_ids=[task.pk], trigger=Trigger.ESTIMATE_SUPPLIED)
    return task
