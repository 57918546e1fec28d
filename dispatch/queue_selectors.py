"""Reads for the staff queue and the manager pages; permission scoping lives here."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from capacity.selectors import staff_loads
from dispatch.choices import EscalationStatus
from dispatch.models import DispatchDecision, Escalation
from engagements.choices import HELD_TASK_STATUSES, OPEN_TASK_STATUSES, TaskStatus
from engagements.models import Task
from staff.models import StaffMember

DUE_SOON_DAYS = 7
QUEUE_STATUSES = HELD_TASK_STATUSES


def queue_tasks(*, staff: StaffMember) -> QuerySet[Task]:
    """The signed-in person's own open work, soonest due first."""
    return (
        Task.objects.filter(assignee=staff, status__in=QUEUE_STATUSES)
        .select_related("engagement__client", "engagement__work_type")
        .order_by("due_date", "pk")
    )


def queue_task_get(*, staff: StaffMember, pk: int) -> Task | None:
    return queue_tasks(staff=staff).filter(pk=pk).first()


def queue_counts(*, staff: StaffMember, today: date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    open_q = Q(status__in=QUEUE_STATUSES)
    return Task.objects.filter(assignee=staff).aggregate(
        awaiting=Count("id", filter=Q(status=TaskStatus.ASSIGNED)),
        in_progress=Count("id", filter=Q(status__in=(TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS))),
        due_soon=Count(
            "id",
            filter=open_q
            & Q(due_date__gte=today, due_date__lte=today + timedelta(days=DUE_SOON_DAYS)),
        ),
        overdue=Count("id", filter=open_q & Q(due_date__lt=today)),
    )


def escalation_list() -> list[Escalation]:
    return list(
        Escalation.objects.filter(status=EscalationStatus.OPEN)
        .select_related("decision", "task__engagement__client", "task__engagement__work_type")
        .order_by("task__due_date", "pk")
    )


def confirmation_list() -> list[DispatchDecision]:
    return list(
        DispatchDecision.objects.awaiting_confirmation()
        .filter(task__status=TaskStatus.UNASSIGNED)
        .select_related("assignee__user", "task__engagement__client", "task__engagement__work_type")
        .order_by("task__due_date", "pk")
    )


def awaiting_confirmation_staff() -> Subquery:
    """Over an outer task query: the requested staffer a manager has still to confirm for
    the task (None when nobody is). The capacity pages place that work as tentative."""
    return Subquery(
        DispatchDecision.objects.awaiting_confirmation()
        .filter(task_id=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("assignee_id")[:1]
    )


def team_for_manager(*, manager: StaffMember, today: date | None = None) -> list[dict[str, object]]:
    """Each direct report with their open tasks, utilization this week and pending acceptances."""
    today = today or timezone.localdate()
    reports = StaffMember.objects.filter(manager=manager, active=True).prefetch_related(
        Prefetch(
            "tasks",
            queryset=Task.objects.filter(status__in=OPEN_TASK_STATUSES)
            .select_related("engagement__client", "engagement__work_type")
            .order_by("due_date", "pk"),
            to_attr="open_tasks",
        )
    )
    loads = staff_loads(staff=reports, today=today)
    rows = []
    for load in loads.values():
        member = load.member
        open_tasks = list(getattr(member, "open_tasks", []))
        rows.append(
            {
                "member": member,
                "load": load,
                "tasks": open_tasks,
                "pending": sum(1 for t in open_tasks if t.status == TaskStatus.ASSIGNED),
                "over": load.utilization > load.thresholds.preparer,
            }
        )
    return sorted(rows, key=lambda row: row["member"].display_name)
