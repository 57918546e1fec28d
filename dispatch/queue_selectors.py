"""Reads for the staff queue and the manager pages; permission scoping lives here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from capacity.selectors import StaffLoad, staff_loads
from dispatch.choices import EscalationStatus
from dispatch.models import DispatchDecision, Escalation, ReassignmentRequest
from engagements.choices import HELD_TASK_STATUSES, OPEN_TASK_STATUSES, TaskStatus
from engagements.models import Task
from staff.models import StaffMember, TimeOff

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


TEAM_PAGE_SIZE = 50


@dataclass
class TeamRow:
    """One person on the team page: this week's hours, open work, time off soon."""

    member: StaffMember
    load: StaffLoad
    tasks: list[Task]
    time_off: list[TimeOff]

    @property
    def pending(self) -> int:
        return sum(1 for task in self.tasks if task.status == TaskStatus.ASSIGNED)

    @property
    def over(self) -> bool:
        return self.load.utilization > self.load.thresholds.preparer

    @property
    def free_week(self) -> float:
        return self.load.available_week - self.load.committed_week


@dataclass
class TeamPage:
    rows: list[TeamRow]
    page: Page
    firm_wide: bool
    week: tuple[date, date]  # Monday of this week to Sunday of next week
    teams: list[StaffMember]  # managers with reports, for the filter


def team_page(
    *,
    viewer: StaffMember | None,
    firm_wide: bool,
    today: date,
    team_id: int | None = None,
    query: str = "",
    page: int = 1,
) -> TeamPage:
    """The people a manager watches: their direct reports; partners and admins see the
    whole firm (optionally one team). A page of people in a fixed number of queries.

    1. Scope and page the active staff by name.
    2. Their capacity this week (``capacity.selectors.staff_loads``).
    3. Their open tasks and their time off this week and next, one query each.
    """
    members = StaffMember.objects.filter(active=True)
    if not firm_wide:
        members = members.filter(manager=viewer) if viewer else members.none()
    if team_id:
        members = members.filter(Q(manager_id=team_id) | Q(pk=team_id))
    if query:
        members = members.filter(
            Q(user__first_name__icontains=query)
            | Q(user__last_name__icontains=query)
            | Q(title__icontains=query)
        )
    paginator = Paginator(
        members.order_by("user__first_name", "user__last_name", "pk").values_list("pk", flat=True),
        TEAM_PAGE_SIZE,
    )
    current = paginator.get_page(page)
    ids = list(current.object_list)
    chosen = (
        StaffMember.objects.filter(pk__in=ids)
        .select_related("user", "manager__user")
        .prefetch_related(
            Prefetch(
                "tasks",
                queryset=Task.objects.filter(status__in=OPEN_TASK_STATUSES)
                .select_related("engagement__client", "engagement__work_type")
                .order_by("due_date", "pk"),
                to_attr="open_tasks",
            )
        )
    )
    loads = staff_loads(staff=chosen, today=today)
    monday = today - timedelta(days=today.weekday())
    week = (monday, monday + timedelta(days=13))
    away: dict[int, list[TimeOff]] = {}
    for entry in TimeOff.objects.filter(
        staff_member_id__in=ids, start_date__lte=week[1], end_date__gte=week[0]
    ).order_by("start_date", "pk"):
        away.setdefault(entry.staff_member_id, []).append(entry)
    place = {pk: index for index, pk in enumerate(ids)}
    rows = sorted(
        (
            TeamRow(
                member=load.member,
                load=load,
                tasks=list(getattr(load.member, "open_tasks", [])),
                time_off=away.get(load.member.pk, []),
            )
            for load in loads.values()
        ),
        key=lambda row: place[row.member.pk],
    )
    teams = (
        list(
            StaffMember.objects.filter(active=True, direct_reports__active=True)
            .distinct()
            .select_related("user")
            .order_by("user__first_name", "user__last_name")
        )
        if firm_wide
        else []
    )
    return TeamPage(rows=rows, page=current, firm_wide=firm_wide, week=week, teams=teams)
