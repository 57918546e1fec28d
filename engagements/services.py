"""Writes for engagements and their tasks; each fires the dispatch trigger it implies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Client
from core.calendar import firm_calendar
from core.services import change_stamp_bump
from engagements import milestones
from engagements.choices import (
    Complexity,
    DeadlineBasis,
    EngagementSource,
    Milestone,
    ReadyReason,
    TaskRole,
    TaskStatus,
)
from engagements.deadlines import internal_due_date
from engagements.models import (
    Engagement,
    MilestoneSource,
    RequiredDocument,
    Task,
    WorkType,
)
from engagements.receivers import CLOSE_STAMP
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
    _start(engagement, preparer, now)
    engagement.refresh_from_db(fields=["milestone", "updated_at"])
    return engagement


def _start(engagement: Engagement, preparer: Task, now: datetime) -> None:
    """Enter the template's first step; work that needs no documents goes on to dispatch.

    A work type without a template dispatches its preparer at once (the old rule).
    """
    steps = milestones.template_for(engagement.work_type)
    if not steps:
        work_ready.send(
            sender=Engagement, task_ids=[preparer.pk], trigger=ReadyReason.ENGAGEMENT_CREATED
        )
        return
    milestones.engagement_transition(
        engagement_id=engagement.pk, to=steps[0].code, source=MilestoneSource.SYSTEM, at=now
    )
    if (
        steps[0].code == Milestone.DOCUMENTS_REQUESTED
        and not engagement.work_type.document_checklist
    ):
        milestones.advance_if_later(
            engagement_id=engagement.pk, to=Milestone.DOCUMENTS_RECEIVED, at=now
        )


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
    change_stamp_bump(CLOSE_STAMP)  # the update() above sends no post_save
    if engagement.required_documents.filter(received_at__isnull=True).exists():
        return False
    if milestones.template_for(engagement.work_type):
        milestones.advance_if_later(
            engagement_id=engagement.pk, to=Milestone.DOCUMENTS_RECEIVED, at=received_at
        )
        return True
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
    engagement = Engagement.objects.select_related("work_type").get(pk=task.engagement_id)
    if milestones.template_for(engagement.work_type):
        done = (
            Milestone.PREPARATION_COMPLETE
            if task.role == TaskRole.PREPARER
            else Milestone.REVIEW_COMPLETE
        )
        milestones.advance_if_later(engagement_id=engagement.pk, to=done, at=completed_at)
    elif task.role == TaskRole.PREPARER:
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


def task_started(*, task: Task, at: datetime) -> None:
    """A preparer starting moves the engagement into preparation, a reviewer into review."""
    to = Milestone.IN_PREPARATION if task.role == TaskRole.PREPARER else Milestone.IN_REVIEW
    milestones.advance_if_later(engagement_id=task.engagement_id, to=to, at=at)
