"""Reads for the staff queue and the manager pages; permission scoping lives here."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from capacity.selectors import staff_loads
from dispatch.choices import EscalationStatus
from dispatch.models import DispatchDecision, Escalation, ReassignmentRequest
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
        accepted=Count("id", filter=Q(status=TaskStatus.ACCEPTED)),
        # Only started work is in progress; accepted work waits to be started.
        in_progress=Count("id", filter=Q(status=TaskStatus.IN_PROGRESS)),
        due_soon=Count(
            "id",
            filter=open_q
            & Q(due_date__gte=today, due_date__lte=today + timedelta(days=DUE_SOON_DAYS)),
        ),
        overdue=Count("id", filter=open_q & Q(due_date__lt=today)),
    )


ESCALATION_ORDER = {
    "due": ("task__due_date", "pk"),
    "-due": ("-task__due_date", "-pk"),
    "client": ("task__engagement__client__name", "task__due_date", "pk"),
    "-opened": ("-created_at", "-pk"),
}


def escalation_list(
    *,
    work_type_id: int | None = None,
    due_by: date | None = None,
    ids: list[int] | None = None,
    sort: str = "due",
) -> list[Escalation]:
    """Open escalations with what their cards show, in two queries whatever their number
    (the rows and the reassignment requests of their tasks)."""
    queryset = Escalation.objects.filter(status=EscalationStatus.OPEN)
    if work_type_id is not None:
        queryset = queryset.filter(task__engagement__work_type_id=work_type_id)
    if due_by is not None:
        queryset = queryset.filter(task__due_date__lte=due_by)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return list(
        queryset.select_related(
            "decision", "task__engagement__client", "task__engagement__work_type"
        )
        .prefetch_related(
            Prefetch(
                "task__reassignment_requests",
                queryset=ReassignmentRequest.objects.select_related("staff_member__user").order_by(
                    "-created_at", "-pk"
                ),
            )
        )
        .order_by(*ESCALATION_ORDER.get(sort, ESCALATION_ORDER["due"]))
    )


def escalation_count() -> int:
    return Escalation.objects.filter(status=EscalationStatus.OPEN).count()


def confirmation_list() -> list[DispatchDecision]:
    return list(
        DispatchDecision.objects.awaiting_confirmation()
        .filter(task__status=TaskStatus.UNASSIGNED)
        .select_related("assignee__user", "task__engagement__client", "task__engagement__work_type")
        .prefetch_related(
            Prefetch(
                "task__reassignment_requests",
                queryset=ReassignmentRequest.objects.select_related("staff_member__user").order_by(
                    "-created_at", "-pk"
                ),
            )
        )
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
