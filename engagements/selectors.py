from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from clients.models import Client
from core.roles import is_manager
from engagements.choices import OPEN_TASK_STATUSES, Milestone, TaskStatus
from engagements.milestones import position, template_for
from engagements.models import Engagement, Task
from staff.models import StaffMember


def task_list_open_for_assignee(*, assignee: StaffMember) -> QuerySet[Task]:
    return (
        Task.objects.filter(assignee=assignee, status__in=OPEN_TASK_STATUSES)
        .select_related("engagement__client", "engagement__work_type")
        .order_by("due_date", "id")
    )


def firm_snapshot(*, today: date | None = None) -> dict[str, object]:
    """Firm-wide counts for managers: open engagements per milestone, unassigned work."""
    today = today or timezone.localdate()
    by_milestone = dict(
        Engagement.objects.exclude(milestone=Milestone.CLOSED)
        .values_list("milestone")
        .annotate(n=Count("id"))
        .values_list("milestone", "n")
    )
    tasks = Task.objects.aggregate(
        unassigned=Count("id", filter=Q(status=TaskStatus.UNASSIGNED)),
        overdue=Count("id", filter=Q(status__in=OPEN_TASK_STATUSES, due_date__lt=today)),
        open=Count("id", filter=Q(status__in=OPEN_TASK_STATUSES)),
    )
    return {
        "milestones": [
            (label, by_milestone.get(value, 0))
            for value, label in Milestone.choices
            if value != Milestone.CLOSED
        ],
        **tasks,
    }


def engagement_get_for_user(*, user, pk: int) -> Engagement | None:  # type: ignore[no-untyped-def]
    """The engagement if this user may see it: managers see all, staff those they work on."""
    queryset = Engagement.objects.select_related(
        "client__relationship_partner__user", "work_type", "requested_staff__user"
    ).filter(pk=pk)
    if not is_manager(user):
        queryset = queryset.filter(tasks__assignee__user=user).distinct()
    return queryset.first()


def engagement_timeline(*, engagement: Engagement) -> dict[str, object]:
    """Everything the engagement page shows, in a fixed number of queries."""
    steps = template_for(engagement.work_type)
    reached = dict(engagement.milestone_times.values_list("milestone", "reached_at"))
    current = position(engagement.work_type, engagement.milestone)
    return {
        "steps": [
            {
                "code": s.code,
                "label": s.label,
                "reached_at": reached.get(s.code),
                "done": i < current,
            }
            for i, s in enumerate(steps, start=1)
        ],
        "next_step": steps[current] if 0 <= current < len(steps) else None,
        "transitions": list(engagement.transitions.select_related("actor").order_by("-at", "-id")),
        "tasks": list(engagement.tasks.select_related("assignee__user").order_by("role", "pk")),
        "documents": list(engagement.required_documents.order_by("name")),
        "exceptions": list(
            engagement.exceptions.select_related("raised_by", "resolved_by").order_by("-raised_at")
        ),
    }


def engagement_list_for_user(*, user) -> QuerySet[Engagement]:  # type: ignore[no-untyped-def]
    """Engagements this user may see: managers every one, staff those they hold a task on."""
    queryset = Engagement.objects.all()
    if not is_manager(user):
        queryset = queryset.filter(
            pk__in=Task.objects.filter(assignee__user=user).values("engagement_id")
        )
    return queryset


def task_list_for_user(*, user) -> QuerySet[Task]:  # type: ignore[no-untyped-def]
    """Tasks this user may see: managers every task, staff only their own."""
    queryset = Task.objects.all()
    if not is_manager(user):
        queryset = queryset.filter(assignee__user=user)
    return queryset


def client_list_for_user(*, user) -> QuerySet[Client]:  # type: ignore[no-untyped-def]
    """Clients this user may see: managers every client, staff those they hold a task for."""
    queryset = Client.objects.prefetch_related("external_ids")
    if not is_manager(user):
        queryset = queryset.filter(
            pk__in=Task.objects.filter(assignee__user=user).values("engagement__client_id")
        )
    return queryset
