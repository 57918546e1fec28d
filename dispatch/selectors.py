"""Build the engine's inputs from the database, in a constant number of queries."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from capacity.policy import Policy
from capacity.selectors import StaffLoad, staff_loads
from core.roles import is_manager
from dispatch.choices import EscalationStatus
from dispatch.engine import CandidateSnapshot, HeldSkill, SkillRequirement, TaskToPlace
from dispatch.models import DispatchDecision, Escalation
from engagements.choices import Priority, TaskRole
from engagements.models import Task
from notifications.selectors import failed_notification_count
from staff.models import StaffMember


def task_for_dispatch(*, task_id: int) -> QuerySet[Task]:
    return (
        Task.objects.select_related("engagement__client", "engagement__work_type")
        .prefetch_related("engagement__work_type__skill_rules__skill")
        .filter(pk=task_id)
    )


def effective_estimate(task: Task) -> float | None:
    hours = task.estimated_hours if task.estimated_hours is not None else None
    return float(hours) if hours is not None else None


def task_to_place(
    task: Task,
    *,
    policy: Policy,
    exclude_staff_ids: frozenset[int] = frozenset(),
    ignore_requested: bool = False,
) -> TaskToPlace:
    """The facts the engine's rules read; the rules themselves live in ``dispatch.engine``."""
    engagement = task.engagement
    work_type = engagement.work_type
    client = engagement.client
    preparer_id = None
    if task.role == TaskRole.REVIEWER:
        preparer_id = (
            Task.objects.filter(engagement=engagement, role=TaskRole.PREPARER)
            .exclude(assignee=None)
            .values_list("assignee_id", flat=True)
            .first()
        )
    return TaskToPlace(
        task_id=task.pk,
        role=task.role,
        client_id=client.pk,
        due_date=task.due_date,
        estimated_hours=effective_estimate(task),
        weight=float(work_type.complexity_weight),
        required_skills=tuple(
            SkillRequirement(rule.skill.slug, rule.min_level)
            for rule in work_type.skill_rules.all()
        ),
        complexity=engagement.complexity,
        client_min_seniority=client.min_seniority,
        work_type_min_seniority=work_type.min_seniority,
        reviewer_min_seniority=work_type.reviewer_min_seniority,
        urgent=engagement.priority == Priority.URGENT,
        engagement_requested_staff_id=engagement.requested_staff_id,
        client_preferred_staff_id=client.preferred_staff_id,
        request_declined=ignore_requested,
        preparer_id=preparer_id,
        excluded_staff_ids=exclude_staff_ids,
        seasonal_work_type=work_type.suppressed_in_december,
        season_suppresses=policy.suppresses_flagged_work,
        threshold_override=(
            task.threshold_override_percent / 100 if task.threshold_override_percent else None
        ),
    )


def candidate_staff(task: Task) -> QuerySet[StaffMember]:
    """Active staff holding at least one required skill (everyone when none is required).

    People with none of the skills are left out of the table: listing the whole
    firm under "lacks skill" explains nothing.
    """
    slugs = [rule.skill.slug for rule in task.engagement.work_type.skill_rules.all()]
    queryset = StaffMember.objects.filter(active=True)
    if slugs:
        queryset = queryset.filter(staff_skills__skill__slug__in=slugs).distinct()
    return queryset.order_by("pk")


def candidate_snapshots(
    *, task: Task, loads: dict[int, StaffLoad]
) -> tuple[CandidateSnapshot, ...]:
    familiarity = dict(
        Task.objects.filter(engagement__client_id=task.engagement.client_id, assignee_id__in=loads)
        .exclude(pk=task.pk)
        .values("assignee_id")
        .annotate(n=Count("id", filter=~Q(status="cancelled")))
        .values_list("assignee_id", "n")
    )
    return tuple(
        CandidateSnapshot(
            staff_id=staff_id,
            name=load.member.display_name,
            seniority=load.member.seniority,
            calendar=load.calendar,
            skills={
                s.skill.slug: HeldSkill(level=s.level, certified_until=s.certified_until)
                for s in load.skills
            },
            open_work=load.open_work,
            threshold=load.thresholds.preparer,
            reviewer_threshold=load.thresholds.reviewer,
            client_familiarity=familiarity.get(staff_id, 0),
            manager_id=load.member.manager_id,
        )
        for staff_id, load in sorted(loads.items())
    )


def dispatch_inputs(
    *, task: Task, today: date, policy: Policy, staff: QuerySet[StaffMember]
) -> tuple[dict[int, StaffLoad], tuple[CandidateSnapshot, ...]]:
    loads = staff_loads(staff=staff, today=today, policy=policy, horizon=max(task.due_date, today))
    return loads, candidate_snapshots(task=task, loads=loads)


def task_get_for_user(*, user, pk: int) -> Task | None:  # type: ignore[no-untyped-def]
    """The task if this user may see it: managers see every task, staff only their own."""
    queryset = Task.objects.select_related(
        "engagement__client", "engagement__work_type", "assignee__user"
    ).filter(pk=pk)
    if not is_manager(user):
        queryset = queryset.filter(assignee__user=user)
    return queryset.first()


def decision_list_for_task(*, task: Task) -> list[DispatchDecision]:
    return list(
        DispatchDecision.objects.filter(task=task).select_related(
            "assignee__user", "actor", "confirmed_by"
        )
    )


def open_escalation_for_task(*, task: Task) -> Escalation | None:
    return Escalation.objects.filter(task=task, status=EscalationStatus.OPEN).first()


def attention_summary(*, limit: int = 10) -> dict[str, object]:
    """What a manager must look at: open escalations, held tasks, pending confirmations."""
    escalations = list(
        Escalation.objects.filter(status=EscalationStatus.OPEN)
        .select_related("task__engagement__client", "task__engagement__work_type")
        .order_by("task__due_date", "pk")[:limit]
    )
    counts = Task.objects.filter(status="unassigned").aggregate(
        escalated=Count("id", filter=Q(escalations__status=EscalationStatus.OPEN), distinct=True),
        held=Count("id", filter=Q(estimated_hours__isnull=True), distinct=True),
        awaiting=Count(
            "id",
            filter=Q(
                Exists(DispatchDecision.objects.awaiting_confirmation().filter(task=OuterRef("pk")))
            ),
        ),
    )
    failed = failed_notification_count()
    return {"escalations": escalations, "failed_notifications": failed, **counts}
