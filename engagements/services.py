"""Writes for engagements and their tasks; each fires the dispatch trigger it implies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Client
from core.calendar import firm_calendar
from engagements.choices import (
    Complexity,
    DeadlineBasis,
    EngagementSource,
    Milestone,
    ReadyReason,
    TaskRole,
    TaskStatus,
    TriggerEvent,
)
from engagements.deadlines import internal_due_date
from engagements.models import Engagement, EngagementMilestone, RequiredDocument, Task, WorkType
from engagements.signals import work_ready
from staff.models import StaffMember

# Review takes about a quarter of the preparation effort, never under half an hour.
REVIEW_SHARE = Decimal("0.25")
MIN_REVIEW_HOURS = Decimal("0.5")
# The preparer finishes this many business days before the engagement's due date
# so the reviewer has room.
REVIEW_LEAD_BUSINESS_DAYS = 2


def review_hours(preparer_hours: Decimal | None) -> Decimal | None:
    if preparer_hours is None:
        return None
    hours = (preparer_hours * REVIEW_SHARE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return max(MIN_REVIEW_HOURS, hours)


def _milestone_reached(engagement: Engagement, milestone: str, at: datetime) -> None:
    EngagementMilestone.objects.get_or_create(
        engagement=engagement, milestone=milestone, defaults={"reached_at": at}
    )


@transaction.atomic
def engagement_create(
    *,
    client: Client,
    work_type: WorkType,
    due_date: date | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    event_date: date | None = None,
    estimated_hours: Decimal | None = None,
    complexity: str = Complexity.MEDIUM,
    priority: str | None = None,
    requested_staff: StaffMember | None = None,
    special_instructions: str = "",
    name: str = "",
    source: str = EngagementSource.MANUAL,
    external_id: str = "",
) -> Engagement:
    """Open an engagement with its document checklist and tasks.

    1. Work out the internal due date from the work type's rule unless given.
    2. Create the checklist, the preparer task and (when reviews are required)
       the reviewer task, which waits for the preparer.
    3. If the work type's trigger is "engagement created", or it waits on
       documents but needs none, the preparer task is ready: dispatch fires.

    Calling it again with the same (source, external_id) returns the existing
    engagement unchanged, so a replayed webhook never opens work twice.
    """
    if external_id:
        existing = Engagement.objects.filter(source=source, external_id=external_id).first()
        if existing is not None:
            return existing
    if due_date is None:
        if work_type.deadline_basis == DeadlineBasis.ENGAGEMENT:
            raise ValidationError({"due_date": "This work type needs a due date per engagement."})
        due_date = internal_due_date(
            work_type, calendar=firm_calendar(), period_end=period_end, event_date=event_date
        )
    if estimated_hours is None:
        estimated_hours = work_type.default_estimated_hours
    now = timezone.now()
    try:
        with transaction.atomic():
            engagement = Engagement.objects.create(
                client=client,
                work_type=work_type,
                name=name,
                period_start=period_start,
                period_end=period_end,
                due_date=due_date,
                estimated_hours=estimated_hours,
                complexity=complexity,
                priority=priority or work_type.priority,
                requested_staff=requested_staff,
                special_instructions=special_instructions,
                source=source,
                external_id=external_id,
            )
    except IntegrityError:
        # Another request created the same external engagement first.
        if external_id:
            return Engagement.objects.get(source=source, external_id=external_id)
        raise
    _milestone_reached(engagement, Milestone.NEW, now)
    RequiredDocument.objects.bulk_create(
        RequiredDocument(engagement=engagement, name=doc) for doc in work_type.document_checklist
    )
    calendar = firm_calendar()
    preparer_due = due_date
    if work_type.reviewer_required:
        preparer_due = max(
            timezone.localdate(),
            calendar.add_business_days(due_date, -REVIEW_LEAD_BUSINESS_DAYS),
        )
        preparer_due = min(preparer_due, due_date)
    preparer = Task.objects.create(
        engagement=engagement,
        role=TaskRole.PREPARER,
        title=f"Prepare {work_type.name}",
        estimated_hours=estimated_hours,
        due_date=preparer_due,
    )
    if work_type.reviewer_required:
        Task.objects.create(
            engagement=engagement,
            role=TaskRole.REVIEWER,
            title=f"Review {work_type.name}",
            estimated_hours=review_hours(estimated_hours),
            due_date=due_date,
        )
    waits_for_documents = (
        work_type.trigger_event == TriggerEvent.DOCUMENTS_COMPLETE and work_type.document_checklist
    )
    if waits_for_documents:
        engagement.milestone = Milestone.DOCUMENTS_REQUESTED
        engagement.save(update_fields=["milestone", "updated_at"])
        _milestone_reached(engagement, Milestone.DOCUMENTS_REQUESTED, now)
    else:
        work_ready.send(
            sender=Engagement, task_ids=[preparer.pk], trigger=ReadyReason.ENGAGEMENT_CREATED
        )
    return engagement


@transaction.atomic
def required_document_receive(*, document_id: int, received_at: datetime | None = None) -> bool:
    """Mark one checklist item received; returns True when this completed the checklist.

    The conditional update makes a duplicate upload or webhook a no-op.
    """
    received_at = received_at or timezone.now()
    document = RequiredDocument.objects.select_related("engagement").get(pk=document_id)
    engagement = Engagement.objects.select_for_update().get(pk=document.engagement_id)
    claimed = RequiredDocument.objects.filter(pk=document_id, received_at__isnull=True).update(
        received_at=received_at
    )
    if not claimed:
        return False
    if engagement.required_documents.filter(received_at__isnull=True).exists():
        return False
    _milestone_reached(engagement, Milestone.DOCUMENTS_RECEIVED, received_at)
    if engagement.milestone in (Milestone.NEW, Milestone.DOCUMENTS_REQUESTED):
        engagement.milestone = Milestone.DOCUMENTS_RECEIVED
        engagement.save(update_fields=["milestone", "updated_at"])
    ready = list(
        engagement.tasks.filter(role=TaskRole.PREPARER, status=TaskStatus.UNASSIGNED).values_list(
            "pk", flat=True
        )
    )
    if ready:
        work_ready.send(sender=Engagement, task_ids=ready, trigger=ReadyReason.DOCUMENTS_RECEIVED)
    return True


@transaction.atomic
def task_complete(*, task_id: int, completed_at: datetime | None = None) -> Task:
    """Finish a task; a finished preparation makes the review ready to dispatch."""
    completed_at = completed_at or timezone.now()
    task = Task.objects.select_for_update().get(pk=task_id)
    if task.status == TaskStatus.COMPLETED:
        return task
    if task.assignee_id is None:
        raise ValidationError("Assign the task before completing it.")
    if task.status == TaskStatus.CANCELLED:
        raise ValidationError("A cancelled task cannot be completed.")
    task.status = TaskStatus.COMPLETED
    task.completed_at = completed_at
    task.accepted_at = task.accepted_at or completed_at
    task.started_at = task.started_at or completed_at
    task.save(update_fields=["status", "completed_at", "accepted_at", "started_at", "updated_at"])
    if task.role == TaskRole.PREPARER:
        reviewers = list(
            Task.objects.filter(
                engagement_id=task.engagement_id,
                role=TaskRole.REVIEWER,
                status=TaskStatus.UNASSIGNED,
            ).values_list("pk", flat=True)
        )
        if reviewers:
            work_ready.send(
                sender=Engagement, task_ids=reviewers, trigger=ReadyReason.PRIOR_TASK_COMPLETED
            )
    return task
