from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from engagements.choices import OPEN_TASK_STATUSES, Milestone, TaskStatus
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
