"""Status checkpoints (seeds' table), run by beat; each fires at most once per task.

| checkpoint | when | who hears |
| not started | 48 hours after assignment, not started | the assignee's manager |
| due soon | due date minus 3 days, not completed | the assignee |
| past due | the due date has passed, not completed | the client's partner (or every partner), with a job summary |
| review overdue | a review not done 2 business days after assignment | the managing partner |

Firing = inserting a CheckpointFiring row (unique per task and checkpoint) and
storing its notifications in the same transaction: two beat ticks, or two
workers at once, send each alert exactly once. A completed task never matches.

One run is one batch: each alert is held a moment, and at the end of the run a
person with several gets them as one email, grouped by checkpoint — a new firm's
first run (every overdue item of its backlog at once) is a summary per person,
not a flood. A run that dies before that point still sends each alert alone.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from core.calendar import BusinessCalendar, firm_calendar
from dispatch.choices import Checkpoint
from dispatch.messages import task_facts, task_url
from dispatch.models import CheckpointFiring
from engagements.choices import HELD_TASK_STATUSES, TaskRole, TaskStatus
from engagements.models import Task
from notifications.choices import NotificationTemplate, SubjectType
from notifications.models import Notification
from notifications.services import BATCH_HOLD_SECONDS, Message, notifications_fold, notify
from staff.choices import Role, Seniority
from staff.models import StaffMember

logger = logging.getLogger(__name__)

NOT_STARTED_AFTER = timedelta(hours=48)
DUE_SOON_DAYS = 3
REVIEW_BUSINESS_DAYS = 2
BATCH = 500


def _not_fired(checkpoint: str) -> Exists:
    return ~Exists(CheckpointFiring.objects.filter(task=OuterRef("pk"), checkpoint=checkpoint))


def _review_cutoff(now: datetime, calendar: BusinessCalendar) -> datetime:
    """Reviews assigned at or before this moment have had their 2 business days by ``now``.

    Business time stands still on weekends and holidays: Thursday 09:00 plus two
    business days is Monday 09:00, and work assigned on a Saturday starts Monday 00:00.
    """
    local = timezone.localtime(now)
    if calendar.is_business_day(local.date()):
        day, at = calendar.add_business_days(local.date(), -REVIEW_BUSINESS_DAYS), local.time()
    else:
        # The clock stopped when the last business day ended: two business days
        # before that is the start of the business day before it.
        last = calendar.previous_business_day(local.date())
        day, at = calendar.add_business_days(last, 1 - REVIEW_BUSINESS_DAYS), time.min
    return timezone.make_aware(datetime.combine(day, at))


def _due(now: datetime) -> dict[str, QuerySet[Task]]:
    today = timezone.localdate(now)
    calendar = firm_calendar()
    review_cutoff = _review_cutoff(now, calendar)
    base = Task.objects.filter(status__in=HELD_TASK_STATUSES).select_related(
        "assignee__user", "engagement__client", "engagement__work_type"
    )
    return {
        Checkpoint.NOT_STARTED_48H: base.filter(
            status__in=(TaskStatus.ASSIGNED, TaskStatus.ACCEPTED),
            started_at__isnull=True,
            assigned_at__lte=now - NOT_STARTED_AFTER,
        ).filter(_not_fired(Checkpoint.NOT_STARTED_48H)),
        Checkpoint.DUE_IN_3_DAYS: base.filter(
            due_date__gt=today, due_date__lte=today + timedelta(days=DUE_SOON_DAYS)
        ).filter(_not_fired(Checkpoint.DUE_IN_3_DAYS)),
        Checkpoint.PAST_DUE: base.filter(due_date__lt=today).filter(
            _not_fired(Checkpoint.PAST_DUE)
        ),
        Checkpoint.REVIEW_OVERDUE: base.filter(
            role=TaskRole.REVIEWER, assigned_at__lte=review_cutoff
        ).filter(_not_fired(Checkpoint.REVIEW_OVERDUE)),
    }


def _partners() -> list[StaffMember]:
    return list(
        StaffMember.objects.filter(active=True, role=Role.PARTNER)
        .select_related("user")
        .order_by("-seniority", "pk")
    )


def _recipients(checkpoint: str, task: Task, partners: list[StaffMember]) -> list[StaffMember]:
    assignee = task.assignee
    if checkpoint == Checkpoint.DUE_IN_3_DAYS:
        return [assignee] if assignee else []
    if checkpoint == Checkpoint.NOT_STARTED_48H:
        managers = []
        if assignee and assignee.manager_id:
            managers = list(
                StaffMember.objects.filter(pk=assignee.manager_id, active=True).select_related(
                    "user"
                )
            )
        # No active manager: the alert still goes somewhere, to the senior partner.
        return managers or partners[:1]
    if checkpoint == Checkpoint.PAST_DUE:
        partner_id = task.engagement.client.relationship_partner_id
        chosen = [p for p in partners if p.pk == partner_id]
        return chosen or partners
    # Review overdue: the managing partner, the most senior partner on file.
    managing = [p for p in partners if p.seniority >= Seniority.PARTNER]
    return (managing or partners)[:1]


HEADLINES = {
    Checkpoint.NOT_STARTED_48H: ("checkpoint_not_started", "Not started 48 hours after assignment"),
    Checkpoint.DUE_IN_3_DAYS: ("checkpoint_due_soon", "Due in 3 days — how is it going?"),
    Checkpoint.PAST_DUE: ("checkpoint_past_due", "Past due and not completed"),
    Checkpoint.REVIEW_OVERDUE: ("checkpoint_review_overdue", "Review overdue by 2 business days"),
}


def _summary(task: Task) -> str:
    engagement = task.engagement
    lines = [
        f"Engagement: {engagement}",
        f"Milestone: {engagement.milestone_label}",
        f"Status: {task.get_status_display()}",
    ]
    if task.assigned_at:
        lines.append(f"Assigned: {timezone.localtime(task.assigned_at):%b %-d %H:%M}")
    if task.started_at:
        lines.append(f"Started: {timezone.localtime(task.started_at):%b %-d %H:%M}")
    return "\n".join(lines)


def _fire(checkpoint: str, task: Task, partners: list[StaffMember]) -> bool:
    template, headline = HEADLINES[checkpoint]
    try:
        with transaction.atomic():
            CheckpointFiring.objects.create(task=task, checkpoint=checkpoint)
            notify(
                Message(
                    subject_type=SubjectType.TASK,
                    subject_id=task.pk,
                    template=NotificationTemplate(template),
                    subject=f"{headline}: {task.engagement.client.name} — {task.engagement.work_type.name}",
                    context={**task_facts(task), "headline": headline, "summary": _summary(task)},
                    task_id=task.pk,
                    layout="checkpoint",
                ),
                staff=_recipients(checkpoint, task, partners),
                countdown=BATCH_HOLD_SECONDS,
            )
    except IntegrityError:
        return False  # another run fired it first
    return True


def _checkpoint_digest(member: StaffMember, rows: list[Notification]) -> Message:
    """One person's alerts from one run, grouped by checkpoint, soonest due first."""
    tasks = {
        task.pk: task
        for task in Task.objects.filter(pk__in=[row.task_id for row in rows]).select_related(
            "engagement__client", "engagement__work_type", "assignee__user"
        )
    }
    groups = []
    for template, headline in HEADLINES.values():
        theirs = sorted(
            (
                tasks[row.task_id]
                for row in rows
                if row.template == template and row.task_id in tasks
            ),
            key=lambda task: (task.due_date, task.pk),
        )
        if theirs:
            groups.append(
                {
                    "headline": headline,
                    "items": [{"task": task, "task_url": task_url(task)} for task in theirs],
                }
            )
    count = sum(len(group["items"]) for group in groups)
    return Message(
        subject_type=SubjectType.STAFF,
        subject_id=member.pk,
        template=NotificationTemplate.CHECKPOINT_DIGEST,
        step=max(row.pk for row in rows),
        subject=f"{count} task{'s' if count != 1 else ''} to look at: today's checkpoints",
        context={
            "recipient": member,
            "count": count,
            "groups": groups,
            "firm_name": settings.FIRM_NAME,
        },
    )


def checkpoints_run(*, now: datetime | None = None) -> dict[str, int]:
    """Fire every checkpoint now due, then fold each person's alerts into one email;
    returns how many fired of each."""
    started = timezone.now()
    now = now or started
    partners = _partners()
    fired: dict[str, int] = {}
    for checkpoint, queryset in _due(now).items():
        count = 0
        for task in queryset.order_by("due_date", "pk")[:BATCH]:
            count += _fire(checkpoint, task, partners)
        fired[checkpoint] = count
    if any(fired.values()):
        logger.info("checkpoints fired: %s", fired)
        notifications_fold(
            templates=[template for template, _headline in HEADLINES.values()],
            since=started,
            digest=_checkpoint_digest,
        )
    return fired
