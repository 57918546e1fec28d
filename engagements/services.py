"""Writes for engagements: open one, receive its documents, and what a task's progress
means for its milestones. The task actions themselves live in ``dispatch.lifecycle``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Client
from core.calendar import firm_calendar
from core.dates import firm_date_problem
from core.exceptions import ApplicationError
from core.services import change_stamp_bump
from engagements import hooks, milestones
from engagements.choices import (
    CLOSE_STAMP,
    OPEN_TASK_STATUSES,
    Complexity,
    DeadlineBasis,
    EngagementSource,
    Milestone,
    TaskRole,
)
from engagements.deadlines import (
    REVIEW_LEAD_BUSINESS_DAYS,
    internal_due_date,
    preparer_due_date,
)
from engagements.models import (
    Engagement,
    MilestoneSource,
    RequiredDocument,
    Task,
    WorkType,
)
from staff.models import StaffMember

# Review takes about a quarter of the preparation effort, never under half an hour.
REVIEW_SHARE = Decimal("0.25")
MIN_REVIEW_HOURS = Decimal("0.5")


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
    submission_token: UUID | None = None,
) -> Engagement:
    """Open an engagement with its document checklist and tasks.

    1. Work out the internal due date from the work type's rule unless given.
    2. Create the checklist, the preparer task and (when reviews are required)
       the reviewer task, which waits for the preparer.
    3. Enter the template's first step: a step whose action is dispatch_preparer
       (engagement created, kickoff signed) owes the preparer a dispatch; a
       document request with an empty checklist moves straight on to received.

    Calling it again with the same (source, external_id) returns the existing
    engagement unchanged, so a replayed webhook never opens work twice.
    """
    if external_id:
        existing = Engagement.objects.filter(source=source, external_id=external_id).first()
        if existing is not None:
            return existing
    if due_date is None:
        if work_type.deadline_basis == DeadlineBasis.ENGAGEMENT:
            raise ApplicationError({"due_date": "This work type needs a due date per engagement."})
        due_date = internal_due_date(
            work_type, calendar=firm_calendar(), period_end=period_end, event_date=event_date
        )
    for field, value in (
        ("period_start", period_start),
        ("period_end", period_end),
        ("event_date", event_date),
        ("due_date", due_date),
    ):
        problem = value and firm_date_problem(value)
        if problem:
            # A rule's date from an in-range period can still fall outside (a buffer of years).
            raise ApplicationError({field: problem})
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
                submission_token=submission_token,
            )
    except IntegrityError:
        # Another request created the same external engagement first.
        if external_id:
            return Engagement.objects.get(source=source, external_id=external_id)
        raise
    RequiredDocument.objects.bulk_create(
        RequiredDocument(engagement=engagement, name=doc) for doc in work_type.document_checklist
    )
    preparer_due = preparer_due_date(
        work_type, due_date=due_date, today=timezone.localdate(), calendar=firm_calendar()
    )
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


def engagement_open(*, submission_token: UUID, **fields: Any) -> tuple[Engagement, bool]:
    """The new-engagement form's write: ``engagement_create`` at most once per form.

    The form carries a token made when it was shown; the engagement stores it under a
    unique constraint. The same form sent again (a double click, back and resubmit)
    finds the engagement the first one opened: returns (engagement, created). Two
    submissions racing each other meet at the constraint; the loser finds the winner's.
    """
    existing = Engagement.objects.filter(submission_token=submission_token).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return engagement_create(submission_token=submission_token, **fields), True
    except IntegrityError:
        existing = Engagement.objects.filter(submission_token=submission_token).first()
        if existing is None:
            raise
        return existing, False


def _start(engagement: Engagement, preparer: Task, now: datetime) -> None:
    """Enter the template's first step; a checklist with nothing on it counts as received."""
    steps = milestones.template_for(engagement.work_type)
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
    change_stamp_bump(CLOSE_STAMP)
    if engagement.required_documents.filter(received_at__isnull=True).exists():
        return False
    milestones.advance_if_later(
        engagement_id=engagement.pk, to=Milestone.DOCUMENTS_RECEIVED, at=received_at
    )
    return True


def engagement_task_started(*, task: Task, at: datetime) -> None:
    """A preparer starting moves the engagement into preparation, a reviewer into review."""
    to = Milestone.IN_PREPARATION if task.role == TaskRole.PREPARER else Milestone.IN_REVIEW
    milestones.advance_if_later(engagement_id=task.engagement_id, to=to, at=at)


def engagement_task_completed(*, task: Task, at: datetime) -> None:
    """A finished preparation completes that step (the review gets ready); a finished
    review completes the review. The layers above hear of it first (``hooks``: billing
    drafts the time entry), so what the milestone sets off sees that entry."""
    hooks.task_completed(task, at)
    done = (
        Milestone.PREPARATION_COMPLETE
        if task.role == TaskRole.PREPARER
        else Milestone.REVIEW_COMPLETE
    )
    milestones.advance_if_later(engagement_id=task.engagement_id, to=done, at=at)


def task_deadline_extend(*, task: Task, due_date: date) -> None:
    """Move ``task``'s internal deadline later and keep its engagement consistent.

    1. The task is due on ``due_date``.
    2. Moving preparation: an open review keeps its lead of
       ``REVIEW_LEAD_BUSINESS_DAYS`` after it (review never falls due first).
    3. The engagement is due no earlier than its last task.
    Call it inside the transaction that holds the task's row lock.
    """
    if due_date <= task.due_date:
        raise ApplicationError("The new deadline must be later than the current one.")
    problem = firm_date_problem(due_date)
    if problem:
        raise ApplicationError(problem)
    task.due_date = due_date
    task.save(update_fields=["due_date", "updated_at"])
    engagement = task.engagement
    latest = due_date
    if task.role == TaskRole.PREPARER:
        lead = firm_calendar().add_business_days(due_date, REVIEW_LEAD_BUSINESS_DAYS)
        reviews = Task.objects.select_for_update().filter(
            engagement=engagement, role=TaskRole.REVIEWER, status__in=OPEN_TASK_STATUSES
        )
        for review in reviews:
            if review.due_date < lead:
                review.due_date = lead
                review.save(update_fields=["due_date", "updated_at"])
            latest = max(latest, review.due_date)
    if engagement.due_date < latest:
        engagement.due_date = latest
        engagement.save(update_fields=["due_date", "updated_at"])
    change_stamp_bump(CLOSE_STAMP)


@transaction.atomic
def work_type_default_estimate_set(*, work_type_id: int, hours: Decimal) -> WorkType:
    """Set a work type's default estimate (the "use this" beside what logged time says);
    new engagements of the type start from it."""
    work_type = WorkType.objects.select_for_update().get(pk=work_type_id)
    work_type.default_estimated_hours = hours
    work_type.default_estimate_calibrated_at = timezone.now()
    work_type.full_clean(validate_unique=False, validate_constraints=True)
    work_type.save(
        update_fields=["default_estimated_hours", "default_estimate_calibrated_at", "updated_at"]
    )
    return work_type
