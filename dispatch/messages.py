"""What dispatch tells people, and when a stored message about a task still applies.

Each builder runs inside the transaction that makes its event true (an
assignment, an escalation, a confirmation request, a checkpoint) and stores
its rows in the notifications outbox; nothing here sends.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Case, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone

from core.calendar import firm_calendar
from dispatch.engine.fit import CAPACITY_LABELS, OVER_THRESHOLD
from dispatch.ics import assignment_calendar
from dispatch.links import action_url
from dispatch.models import DispatchDecision, Escalation
from engagements.choices import OPEN_TASK_STATUSES, TaskRole
from engagements.models import Task
from notifications.choices import NotificationTemplate, SubjectType
from notifications.models import Notification
from notifications.registry import still_applies
from notifications.services import (
    BATCH_HOLD_SECONDS,
    Delivery,
    Message,
    notifications_fold,
    notify,
    notify_all,
)
from notifications.webhooks import webhook_event_record
from staff.choices import Role
from staff.models import StaffMember


def task_url(task: Task) -> str:
    return settings.SITE_URL + reverse("dispatch:task-detail", args=[task.pk])


def task_facts(task: Task) -> dict[str, object]:
    """What every email about a task carries (task with engagement, client, work type loaded)."""
    engagement = task.engagement
    return {
        "task": task,
        "engagement": engagement,
        "client": engagement.client,
        "work_type": engagement.work_type,
        "task_url": task_url(task),
        "firm_name": settings.FIRM_NAME,
    }


def managers_of(member: StaffMember | int | None) -> list[StaffMember]:
    """The person's active manager, else the firm's first managers and partners (one
    query; ``member`` may be a staff id)."""
    if isinstance(member, StaffMember):
        manager: object = member.manager_id
    elif member is not None:
        manager = Subquery(StaffMember.objects.filter(pk=member).values("manager_id")[:1])
    else:
        manager = None
    people = StaffMember.objects.filter(active=True).select_related("user")
    if manager is not None:
        people = people.filter(Q(pk=manager) | Q(role__in=[Role.MANAGER, Role.PARTNER]))
        people = people.annotate(
            is_their_manager=Case(When(pk=manager, then=Value(True)), default=Value(False))
        ).order_by("-is_their_manager", "pk")
        rows: list[StaffMember] = list(people[:4])
        if rows and getattr(rows[0], "is_their_manager", False):
            return rows[:1]
        return rows[:3]
    return list(people.filter(role__in=[Role.MANAGER, Role.PARTNER]).order_by("pk")[:3])


def _calendar_for(task: Task) -> object:
    engagement = task.engagement
    if not task.estimated_hours:
        return None

    def build(description: str) -> str:
        return assignment_calendar(
            uid_prefix=f"task-{task.pk}-staff-{task.assignee_id}",
            summary=f"{engagement.client.name}: {engagement.work_type.name} ({task.get_role_display()})",
            description=description,
            url=task_url(task),
            due=task.due_date,
            hours=float(task.estimated_hours or 0),
            calendar=firm_calendar(),
            today=timezone.localdate(),
            tz_name=settings.TIME_ZONE,
        ).decode()

    return build


def task_webhook_data(task: Task) -> dict[str, object]:
    """What an outbound webhook says about a task (ids only beyond the task's own facts)."""
    return {
        "id": task.pk,
        "engagement_id": task.engagement_id,
        "role": task.role,
        "title": task.title,
        "status": task.status,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "assignee_id": task.assignee_id,
        "estimated_hours": str(task.estimated_hours) if task.estimated_hours is not None else None,
    }


def webhook_task_event(event_type: str, task: Task, **extra: object) -> None:
    """Record an outbound webhook event about ``task`` in the caller's transaction (the
    task's row is locked there, so its events are numbered in order)."""
    webhook_event_record(
        event_type=event_type,
        record_type="task",
        record_id=task.pk,
        data={"task": task_webhook_data(task), **extra},
    )


def notify_task_assigned(
    *, decision: DispatchDecision, task: Task, assignee: StaffMember, batch: bool = False
) -> None:
    """The assignee's email (with calendar block and one-click links), the client's
    confirmation for preparation work, and the manager's alert when urgent work
    overloaded the assignee: stored together, with one INSERT. In a batch (a sweep)
    the assignee's email is held for the batch to fold with their others
    (``assignments_fold``)."""
    context = {
        **task_facts(task),
        "assignee": assignee,
        **{
            f"{action}_url": action_url(
                task_id=task.pk, staff_id=assignee.pk, action=action, assigned_at=task.assigned_at
            )
            for action in ("accept", "reassign")
        },
        "decision": decision,
    }
    engagement = task.engagement
    deliveries = [
        Delivery(
            Message(
                subject_type=SubjectType.DECISION,
                subject_id=decision.pk,
                template=NotificationTemplate.TASK_ASSIGNED,
                new_subject=True,
                subject=f"New assignment: {engagement.client.name} — {engagement.work_type.name} (due {task.due_date:%b %-d})",
                context=context,
                task_id=task.pk,
                calendar=_calendar_for(task),  # type: ignore[arg-type]
            ),
            staff=(assignee,),
            countdown=BATCH_HOLD_SECONDS if batch else 0,
        )
    ]
    if task.role == TaskRole.PREPARER and engagement.client.email:
        deliveries.append(client_confirmation(task=task, assignee=assignee))
    if decision.over_threshold and decision.urgent_override:
        deliveries.append(
            Delivery(
                Message(
                    subject_type=SubjectType.DECISION,
                    subject_id=decision.pk,
                    template=NotificationTemplate.STAFF_OVERLOADED,
                    new_subject=True,
                    subject=f"Urgent work overloaded {assignee.display_name}",
                    context={**context, "reasons": decision.reasons},
                    task_id=task.pk,
                ),
                staff=tuple(managers_of(assignee)),
            )
        )
    notify_all(deliveries)


def notify_task_moved(
    *, decision: DispatchDecision, task: Task, previous: StaffMember, to: StaffMember
) -> None:
    """The person a task moved off hears where it went and why (a manager approved it)."""
    notify(
        Message(
            subject_type=SubjectType.DECISION,
            subject_id=decision.pk,
            template=NotificationTemplate.TASK_MOVED,
            new_subject=True,
            subject=f"Moved to {to.display_name}: {task.engagement.client.name} — {task.engagement.work_type.name}",
            context={**task_facts(task), "previous": previous, "to": to, "decision": decision},
            task_id=task.pk,
        ),
        staff=[previous],
    )


def client_confirmation(*, task: Task, assignee: StaffMember) -> Delivery:
    """The client hears who has their work, once per person named (``step``). The
    documents still outstanding come with the task when it was read for dispatch."""
    engagement = task.engagement
    outstanding = getattr(task, "outstanding_documents", None)
    if outstanding is None and not hasattr(task, "outstanding_documents"):
        outstanding = list(
            engagement.required_documents.filter(received_at__isnull=True).values_list(
                "name", flat=True
            )
        )
    return Delivery(
        Message(
            subject_type=SubjectType.ENGAGEMENT,
            subject_id=engagement.pk,
            template=NotificationTemplate.CLIENT_CONFIRMATION,
            step=assignee.pk,
            subject=f"Your {engagement.work_type.name} is scheduled",
            context={
                **task_facts(task),
                "assignee": assignee,
                "outstanding": sorted(outstanding or ()),
            },
            task_id=task.pk,
        ),
        emails=(engagement.client.email,),
        countdown=settings.CLIENT_CONFIRMATION_DELAY_SECONDS,
    )


def notify_confirmation_needed(*, decision: DispatchDecision, task: Task) -> None:
    notify(
        Message(
            subject_type=SubjectType.DECISION,
            subject_id=decision.pk,
            template=NotificationTemplate.CONFIRMATION_NEEDED,
            new_subject=True,
            subject=f"Confirm {decision.assignee} for {task.engagement.client.name}",
            context={**task_facts(task), "decision": decision, "reasons": decision.reasons},
            task_id=task.pk,
        ),
        staff=managers_of(decision.assignee),
    )


def _escalation_recipients(escalation: Escalation, task: Task) -> list[StaffMember]:
    """The managers of the people who could do the work, and the client's partner."""
    qualified = [row["staff_id"] for row in escalation.decision.candidates if row.get("qualified")]
    managers = StaffMember.objects.filter(pk__in=qualified).exclude(manager=None)
    wanted = Q(pk__in=managers.values("manager_id"))
    partner_id = task.engagement.client.relationship_partner_id
    if partner_id:
        wanted |= Q(pk=partner_id)
    recipients = list(
        StaffMember.objects.filter(wanted, active=True).select_related("user").order_by("pk")
    )
    return recipients or managers_of(None)


# Why nobody fits, in the words a digest groups by (from the decision's candidate rows).
CAUSE_SKILLS = "Nobody holds the skills and seniority"
CAUSE_CAPACITY = "Qualified people, all at their threshold"
CAUSE_DEADLINE = "Qualified people with room, but not before the deadline"
DIGEST_LISTED_PER_CAUSE = 10


def escalation_cause(escalation: Escalation) -> str:
    """Skills when nobody qualifies; capacity when every qualified person would pass
    their threshold; otherwise some had room this week but not the hours before the
    deadline (too few free hours, or their other deadlines would slip)."""
    qualified = [row for row in escalation.decision.candidates if row.get("qualified")]
    if not qualified:
        return CAUSE_SKILLS
    if all(row.get("rule") == CAPACITY_LABELS[OVER_THRESHOLD] for row in qualified):
        return CAUSE_CAPACITY
    return CAUSE_DEADLINE


def escalation_recipients(escalation: Escalation) -> list[StaffMember]:
    return _escalation_recipients(escalation, escalation.task)


def notify_escalation_digest(
    *, recipient: StaffMember, escalations: list[Escalation], step: int
) -> None:
    """One email to ``recipient`` for the escalations a sweep opened, grouped by cause:
    counts first, then the first few of each with their due dates, then the page."""
    groups: dict[str, list[Escalation]] = {}
    for escalation in sorted(escalations, key=lambda e: (e.task.due_date, e.pk)):
        groups.setdefault(escalation_cause(escalation), []).append(escalation)
    causes = [
        {
            "cause": cause,
            "count": len(items),
            "listed": items[:DIGEST_LISTED_PER_CAUSE],
            "more": max(0, len(items) - DIGEST_LISTED_PER_CAUSE),
        }
        for cause, items in sorted(groups.items(), key=lambda item: -len(item[1]))
    ]
    count = len(escalations)
    notify(
        Message(
            subject_type=SubjectType.STAFF,
            subject_id=recipient.pk,
            template=NotificationTemplate.ESCALATION_DIGEST,
            step=step,
            subject=f"{count} task{'s' if count != 1 else ''} nobody fits: the sweep's escalations",
            context={
                "recipient": recipient,
                "count": count,
                "causes": causes,
                "escalations_url": settings.SITE_URL + reverse("dispatch:escalations"),
                "site_url": settings.SITE_URL,
                "firm_name": settings.FIRM_NAME,
            },
        ),
        staff=[recipient],
    )


def notify_escalation_opened(*, escalation: Escalation, task: Task) -> None:
    notify(
        Message(
            subject_type=SubjectType.ESCALATION,
            subject_id=escalation.pk,
            template=NotificationTemplate.ESCALATION_OPENED,
            new_subject=True,
            subject=f"Nobody fits: {task.engagement.client.name} — {task.engagement.work_type.name}",
            context={**task_facts(task), "escalation": escalation},
            task_id=task.pk,
        ),
        staff=_escalation_recipients(escalation, task),
    )


# --- A batch's messages, one email per person ------------------------------------


def _tasks_of(rows: list[Notification]) -> list[Task]:
    ids = [row.task_id for row in rows if row.task_id]
    return list(
        Task.objects.filter(pk__in=ids)
        .select_related("engagement__client", "engagement__work_type")
        .order_by("due_date", "pk")
    )


def _assignment_digest(member: StaffMember, rows: list[Notification]) -> Message:
    tasks = _tasks_of(rows)
    items = [
        {
            "task": task,
            "task_url": task_url(task),
            "accept_url": action_url(
                task_id=task.pk, staff_id=member.pk, action="accept", assigned_at=task.assigned_at
            ),
        }
        for task in tasks
    ]
    count = len(items)
    return Message(
        subject_type=SubjectType.STAFF,
        subject_id=member.pk,
        template=NotificationTemplate.TASK_ASSIGNED_DIGEST,
        step=max(row.pk for row in rows),  # this batch: a rerun stores nothing new
        subject=f"{count} new assignment{'s' if count != 1 else ''}",
        context={
            "assignee": member,
            "items": items,
            "count": count,
            "queue_url": settings.SITE_URL + reverse("dispatch:queue"),
            "firm_name": settings.FIRM_NAME,
        },
    )


def assignments_fold(*, since: datetime) -> int:
    """Each person given more than one task by a batch since ``since`` gets one email
    listing them (each with its own Accept link) instead of one email per task."""
    return notifications_fold(
        templates=[NotificationTemplate.TASK_ASSIGNED], since=since, digest=_assignment_digest
    )


# --- Does a stored message still apply when its send comes round? -------------


@still_applies(NotificationTemplate.TASK_ASSIGNED)
def _still_assigned(notification: Notification) -> bool:
    return (
        notification.task_id is not None
        and Task.objects.filter(
            pk=notification.task_id, assignee_id=notification.staff_member_id
        ).exists()
    )


@still_applies(NotificationTemplate.CLIENT_CONFIRMATION)
def _still_with_named_person(notification: Notification) -> bool:
    # step: the staff member the confirmation names; reassigned since -> skipped.
    return (
        notification.task_id is not None
        and Task.objects.filter(pk=notification.task_id, assignee_id=notification.step).exists()
    )


@still_applies(
    NotificationTemplate.STAFF_OVERLOADED,
    NotificationTemplate.CHECKPOINT_NOT_STARTED,
    NotificationTemplate.CHECKPOINT_DUE_SOON,
    NotificationTemplate.CHECKPOINT_PAST_DUE,
    NotificationTemplate.CHECKPOINT_REVIEW_OVERDUE,
)
def _task_still_open(notification: Notification) -> bool:
    return (
        notification.task_id is not None
        and Task.objects.filter(pk=notification.task_id, status__in=OPEN_TASK_STATUSES).exists()
    )
