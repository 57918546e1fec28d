"""Build the engine's inputs from the database, in a constant number of queries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
)
from django.db.models.functions import Cast

from capacity.ledger import OpenWork, StaffCalendar
from capacity.policy import Policy
from capacity.selectors import UTILIZATION_REACH, remaining_weighted_hours
from core.calendar import firm_calendar
from core.roles import is_manager
from dispatch.choices import DecisionOutcome, EscalationStatus
from dispatch.engine import CandidateSnapshot, HeldSkill, SkillRequirement, TaskToPlace
from dispatch.models import DispatchDecision, Escalation, ReassignmentRequest
from engagements.choices import HELD_TASK_STATUSES, Priority, TaskRole, TaskStatus
from engagements.models import Task, WorkTypeSkill
from notifications.selectors import failed_notification_count
from staff.models import StaffMember, StaffSkill, TimeOff


def task_for_dispatch(*, task_id: int) -> QuerySet[Task]:
    """The task with what dispatch reads about it, flags included (one query, plus its
    work type's skill rules)."""
    return (
        Task.objects.select_related("engagement__client", "engagement__work_type")
        .prefetch_related(
            Prefetch(
                "engagement__work_type__skill_rules",
                queryset=WorkTypeSkill.objects.select_related("skill"),
            )
        )
        .annotate(
            preparer_staff_id=Subquery(
                Task.objects.filter(
                    engagement_id=OuterRef("engagement_id"),
                    role=TaskRole.PREPARER,
                    assignee__isnull=False,
                ).values("assignee_id")[:1]
            ),
            is_awaiting_confirmation=Exists(
                DispatchDecision.objects.awaiting_confirmation().filter(task_id=OuterRef("pk"))
            ),
            request_was_declined=Exists(
                DispatchDecision.objects.filter(
                    task_id=OuterRef("pk"),
                    outcome=DecisionOutcome.NEEDS_CONFIRMATION,
                    declined=True,
                )
            ),
            has_open_escalation=Exists(
                Escalation.objects.filter(task_id=OuterRef("pk"), status=EscalationStatus.OPEN)
            ),
        )
        .filter(pk=task_id)
    )


def effective_estimate(task: Task) -> float | None:
    hours = task.estimated_hours if task.estimated_hours is not None else None
    return float(hours) if hours is not None else None


def required_skills(task: Task) -> tuple[SkillRequirement, ...]:
    return tuple(
        SkillRequirement(rule.skill.slug, rule.min_level)
        for rule in task.engagement.work_type.skill_rules.all()
    )


def task_to_place(
    task: Task,
    *,
    policy: Policy,
    exclude_staff_ids: frozenset[int] = frozenset(),
    ignore_requested: bool = False,
) -> TaskToPlace:
    """The facts the engine's rules read (``task`` from ``task_for_dispatch``); the
    rules themselves live in ``dispatch.engine``."""
    engagement = task.engagement
    work_type = engagement.work_type
    client = engagement.client
    return TaskToPlace(
        task_id=task.pk,
        role=task.role,
        client_id=client.pk,
        due_date=task.due_date,
        estimated_hours=effective_estimate(task),
        weight=float(work_type.complexity_weight),
        required_skills=required_skills(task),
        complexity=engagement.complexity,
        client_min_seniority=client.min_seniority,
        work_type_min_seniority=work_type.min_seniority,
        reviewer_min_seniority=work_type.reviewer_min_seniority,
        urgent=engagement.priority == Priority.URGENT,
        engagement_requested_staff_id=engagement.requested_staff_id,
        client_preferred_staff_id=client.preferred_staff_id,
        request_declined=ignore_requested or task.request_was_declined,  # type: ignore[attr-defined]
        preparer_id=(
            task.preparer_staff_id  # type: ignore[attr-defined]
            if task.role == TaskRole.REVIEWER
            else None
        ),
        excluded_staff_ids=exclude_staff_ids,
        seasonal_work_type=work_type.suppressed_in_december,
        season_suppresses=policy.suppresses_flagged_work,
        threshold_override=(
            task.threshold_override_percent / 100 if task.threshold_override_percent else None
        ),
    )


@dataclass
class _Person:
    """One candidate's row while the snapshot is assembled."""

    staff_id: int
    name: str
    seniority: int
    weekly_hours: float
    working_days: frozenset[int]
    manager_id: int | None
    skills: dict[str, HeldSkill] = field(default_factory=dict)
    open_work: list[OpenWork] = field(default_factory=list)
    time_off: dict[date, float] = field(default_factory=dict)
    familiarity: int = 0


def _people(task: Task, also_staff_id: int | None) -> tuple[dict[int, _Person], set[int]]:
    """Active staff holding at least one required skill (everyone when none is required),
    with all their skills, and who asked off this task: one query.

    People with none of the skills are left out: listing the whole firm under
    "lacks skill" explains nothing.
    """
    slugs = [rule.skill.slug for rule in task.engagement.work_type.skill_rules.all()]
    who = Q(active=True)
    if slugs:
        who &= Q(pk__in=StaffSkill.objects.filter(skill__slug__in=slugs).values("staff_member_id"))
    if also_staff_id is not None:
        who |= Q(pk=also_staff_id)
    rows = (
        StaffMember.objects.filter(who)
        .annotate(
            asked_off=Exists(
                ReassignmentRequest.objects.filter(task_id=task.pk, staff_member_id=OuterRef("pk"))
            ),
            # As text, decoded once per person, not once per skill row.
            working_days_text=Cast("working_days", TextField()),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "user__first_name",
            "user__last_name",
            "user__username",
            "seniority",
            "weekly_capacity_hours",
            "working_days_text",
            "manager_id",
            "asked_off",
            "staff_skills__skill__slug",
            "staff_skills__level",
            "staff_skills__certified_until",
        )
    )
    people: dict[int, _Person] = {}
    asked_off: set[int] = set()
    for (
        pk,
        first,
        last,
        username,
        seniority,
        weekly,
        days,
        manager,
        off,
        slug,
        level,
        until,
    ) in rows:
        person = people.get(pk)
        if person is None:
            person = people[pk] = _Person(
                staff_id=pk,
                name=f"{first} {last}".strip() or username,
                seniority=seniority,
                weekly_hours=float(weekly),
                working_days=frozenset(json.loads(days)),
                manager_id=manager,
            )
            if off:
                asked_off.add(pk)
        if slug is not None:
            person.skills[slug] = HeldSkill(level=level, certified_until=until)
    return people, asked_off


def _load_tasks(task: Task, people: dict[int, _Person]) -> None:
    """The candidates' open work and who has worked for this client: one query (a
    UNION of two index reads; an OR across them would scan every task)."""
    client_id = task.engagement.client_id
    ids = list(people)
    columns = (
        "assignee_id",
        "pk",
        "status",
        "due_date",
        "estimated_hours",
        "engagement__work_type__complexity_weight",
        "engagement__client_id",
    )
    held = Task.objects.filter(assignee_id__in=ids, status__in=HELD_TASK_STATUSES)
    history = Task.objects.filter(engagement__client_id=client_id, assignee_id__in=ids).exclude(
        status__in=(TaskStatus.CANCELLED, *HELD_TASK_STATUSES)
    )
    rows = (
        held.order_by()
        .values_list(*columns)
        .union(history.order_by().values_list(*columns), all=True)
    )
    for assignee_id, pk, status, due, estimate, weight, row_client in rows:
        person = people[assignee_id]
        if row_client == client_id and pk != task.pk:
            person.familiarity += 1
        if status in HELD_TASK_STATUSES:
            hours = remaining_weighted_hours(estimate, weight)
            person.open_work.append(OpenWork(task_id=pk, due_date=due, hours=hours))


def _load_time_off(people: dict[int, _Person], today: date, horizon: date) -> None:
    for staff_id, start, end, hours in TimeOff.objects.filter(
        staff_member_id__in=people, end_date__gte=today, start_date__lte=horizon
    ).values_list("staff_member_id", "start_date", "end_date", "hours_per_day"):
        days = people[staff_id].time_off
        day = max(start, today)
        while day <= min(end, horizon):
            days[day] = days.get(day, 0.0) + float(hours)
            day += timedelta(days=1)


def candidate_snapshots(
    *, task: Task, today: date, policy: Policy, also_staff_id: int | None = None
) -> tuple[tuple[CandidateSnapshot, ...], frozenset[int]]:
    """Every candidate's facts as plain data, in three queries as values whatever the
    firm's size, and who asked off the task.

    Time off and holidays are loaded through the furthest week the utilization
    window can reach and every due date in sight, so no figure reads an absence
    as available time.
    """
    people, asked_off = _people(task, also_staff_id)
    _load_tasks(task, people)
    horizon = max(
        [today + UTILIZATION_REACH, task.due_date]
        + [w.due_date for person in people.values() for w in person.open_work]
    )
    _load_time_off(people, today, horizon)
    holidays = frozenset(firm_calendar().holidays_between(today, horizon))
    shared: dict[tuple[float, frozenset[int]], StaffCalendar] = {}

    def calendar_of(person: _Person) -> StaffCalendar:
        # Everyone with the same hours and days and no time off shares one calendar,
        # so the engine counts their windows once.
        if person.time_off:
            return StaffCalendar(
                person.weekly_hours, person.working_days, holidays, person.time_off
            )
        key = (person.weekly_hours, person.working_days)
        if key not in shared:
            shared[key] = StaffCalendar(person.weekly_hours, person.working_days, holidays)
        return shared[key]

    snapshots = tuple(
        CandidateSnapshot(
            staff_id=person.staff_id,
            name=person.name,
            seniority=person.seniority,
            calendar=calendar_of(person),
            skills=person.skills,
            open_work=tuple(sorted(person.open_work, key=lambda w: (w.due_date, w.task_id))),
            threshold=(thresholds := policy.thresholds_for(person.skills)).preparer,
            reviewer_threshold=thresholds.reviewer,
            client_familiarity=person.familiarity,
            manager_id=person.manager_id,
        )
        for person in people.values()
    )
    return snapshots, frozenset(asked_off)


def open_work_for(*, staff_id: int) -> tuple[OpenWork, ...]:
    """One person's open work as it stands now (the re-check under their row lock)."""
    rows = Task.objects.filter(assignee_id=staff_id, status__in=HELD_TASK_STATUSES).values_list(
        "pk", "due_date", "estimated_hours", "engagement__work_type__complexity_weight"
    )
    work = [
        OpenWork(task_id=pk, due_date=due, hours=remaining_weighted_hours(estimate, weight))
        for pk, due, estimate, weight in rows
    ]
    return tuple(sorted(work, key=lambda w: (w.due_date, w.task_id)))


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
