"""Build the engine's inputs from the database, in a constant number of queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from capacity.ledger import OpenWork
from capacity.policy import Policy
from capacity.selectors import remaining_weighted_hours
from core.aggregates import JSONList
from core.models import ChangeStamp
from core.roles import is_manager
from dispatch.choices import DecisionOutcome, EscalationStatus
from dispatch.engine import SkillRequirement, TaskToPlace
from dispatch.engine.pool import CandidatePool
from dispatch.models import DispatchDecision, Escalation, ReassignmentRequest
from dispatch.roster import ROSTER_STAMP, roster
from engagements.choices import HELD_TASK_STATUSES, Priority, TaskRole
from engagements.models import RequiredDocument, Task
from notifications.selectors import failed_notification_count


def _flag_expressions() -> dict[str, Any]:
    """What dispatch reads about a task besides its row, as expressions over it."""
    return {
        "preparer_staff_id": Subquery(
            Task.objects.filter(
                engagement_id=OuterRef("engagement_id"),
                role=TaskRole.PREPARER,
                assignee__isnull=False,
            ).values("assignee_id")[:1]
        ),
        "is_awaiting_confirmation": Exists(
            DispatchDecision.objects.awaiting_confirmation().filter(task_id=OuterRef("pk"))
        ),
        "request_was_declined": Exists(
            DispatchDecision.objects.filter(
                task_id=OuterRef("pk"),
                outcome=DecisionOutcome.NEEDS_CONFIRMATION,
                declined=True,
            )
        ),
        "has_open_escalation": Exists(
            Escalation.objects.filter(task_id=OuterRef("pk"), status=EscalationStatus.OPEN)
        ),
        "has_reassignment_requests": Exists(
            ReassignmentRequest.objects.filter(task_id=OuterRef("pk"))
        ),
        "roster_version": Subquery(
            ChangeStamp.objects.filter(name=ROSTER_STAMP).values("version")[:1]
        ),
        # For the client's confirmation, should the task be assigned.
        "outstanding_documents": Subquery(
            RequiredDocument.objects.filter(
                engagement_id=OuterRef("engagement_id"), received_at__isnull=True
            )
            .order_by()
            .values("engagement_id")
            .annotate(names=JSONList("name"))
            .values("names"),
            output_field=JSONField(),
        ),
    }


_compiled_flags: dict[str, dict[str, RawSQL]] = {}


def _flags() -> dict[str, RawSQL]:
    """``_flag_expressions`` compiled to SQL once per process: compiling seven
    subqueries took longer than the database took to run them (about 4 ms a dispatch
    on a quiet machine)."""
    vendor = connection.vendor
    flags = _compiled_flags.get(vendor)
    if flags is None:
        query = Task.objects.annotate(**_flag_expressions()).query
        compiler = query.get_compiler(connection=connection)
        flags = {}
        for name, expression in query.annotations.items():
            sql, params = compiler.compile(expression)
            flags[name] = RawSQL(sql, tuple(params), output_field=expression.output_field)
        _compiled_flags[vendor] = flags
    return flags


def task_for_dispatch(*, task_id: int) -> QuerySet[Task]:
    """The task with what dispatch reads about it, flags included: one query (its work
    type's skill rules come from the roster)."""
    return (
        Task.objects.select_related("engagement__client", "engagement__work_type")
        .annotate(**_flags())
        .filter(pk=task_id)
    )


def tasks_for_dispatch(queryset: QuerySet[Task] | None = None) -> QuerySet[Task]:
    """Tasks with the same flags as ``task_for_dispatch``: the planner reads many at once."""
    queryset = queryset if queryset is not None else Task.objects.all()
    return queryset.select_related("engagement__client", "engagement__work_type").annotate(
        **_flags()
    )


def effective_estimate(task: Task) -> float | None:
    hours = task.estimated_hours if task.estimated_hours is not None else None
    return float(hours) if hours is not None else None


@dataclass(frozen=True)
class DispatchSnapshot:
    """What a dispatch reads besides the task: the candidates as columns and the task's
    facts that come with them."""

    policy: Policy  # the capacity policy in force (kept by the roster)
    candidates: CandidatePool
    required_skills: tuple[SkillRequirement, ...]
    asked_off: frozenset[int]  # who asked to be reassigned off this task
    client_history: dict[int, int]  # tasks each person has held for this client
    open_work_seqs: Mapping[int, int]  # each person's ``open_work_seq`` as read


def task_to_place(
    task: Task,
    *,
    policy: Policy,
    snapshot: DispatchSnapshot,
    exclude_staff_ids: frozenset[int] = frozenset(),
    ignore_requested: bool = False,
) -> TaskToPlace:
    """The facts the engine's rules read (``task`` from ``task_for_dispatch``); the
    rules themselves live in ``dispatch.engine``. Whoever asked off the task stays off
    it, whatever triggered this dispatch."""
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
        required_skills=snapshot.required_skills,
        complexity=engagement.complexity,
        client_min_seniority=client.min_seniority,
        work_type_min_seniority=work_type.min_seniority,
        reviewer_min_seniority=work_type.reviewer_min_seniority,
        max_seniority=(
            work_type.reviewer_max_seniority
            if task.role == TaskRole.REVIEWER
            else work_type.preparer_max_seniority
        ),
        urgent=engagement.priority == Priority.URGENT,
        engagement_requested_staff_id=engagement.requested_staff_id,
        client_preferred_staff_id=client.preferred_staff_id,
        request_declined=ignore_requested or task.request_was_declined,  # type: ignore[attr-defined]
        preparer_id=(
            task.preparer_staff_id  # type: ignore[attr-defined]
            if task.role == TaskRole.REVIEWER
            else None
        ),
        excluded_staff_ids=exclude_staff_ids | snapshot.asked_off,
        seasonal_work_type=work_type.suppressed_in_december,
        season_suppresses=policy.suppresses_flagged_work,
        threshold_override=(
            task.threshold_override_percent / 100 if task.threshold_override_percent else None
        ),
        client_history=snapshot.client_history,
        client_name=client.name,
        client_on_hold=client.account_hold,
        client_hold_reason=client.account_hold_reason,
        work_type_id=work_type.pk,
    )


def dispatch_snapshot(
    *, task: Task, today: date, also_staff_id: int | None = None
) -> DispatchSnapshot:
    """Every candidate's facts as columns, the skills the task needs, who asked off it
    and who has worked for its client (``task`` from ``task_for_dispatch``).

    Candidates are the active staff holding at least one required skill (everyone
    when none is required): listing the whole firm under "lacks skill" explains
    nothing. The capacity policy, their facts and open work come from the roster (``dispatch.roster``, kept
    between dispatches), which reads, in one query, only the open work that changed
    and the client's history, whatever the firm's size.
    """
    version = task.roster_version or 0  # type: ignore[attr-defined]  # task_for_dispatch
    staff = roster(version=version, today=today)
    requirements = staff.requirements.get(task.engagement.work_type_id, ())
    ids = staff.candidate_ids((r.slug for r in requirements), also=also_staff_id)
    read = staff.open_work(task_id=task.pk, client_id=task.engagement.client_id)
    asked_off: frozenset[int] = frozenset()
    if task.has_reassignment_requests:  # type: ignore[attr-defined]  # task_for_dispatch
        asked_off = frozenset(task.reassignment_requests.values_list("staff_member_id", flat=True))
    return DispatchSnapshot(
        policy=staff.policy,
        candidates=read.pool.select(ids),
        required_skills=requirements,
        asked_off=asked_off,
        client_history=read.client_history,
        open_work_seqs=read.seqs,
    )


def open_work_for(
    *, staff_id: int, effort: Mapping[int, float] | None = None
) -> tuple[OpenWork, ...]:
    """One person's open work as it stands now (the re-check under their row lock),
    with their ``effort`` factors per work type (the roster's) applied."""
    rows = Task.objects.filter(assignee_id=staff_id, status__in=HELD_TASK_STATUSES).values_list(
        "pk",
        "due_date",
        "estimated_hours",
        "engagement__work_type__complexity_weight",
        "logged_hours",
        "engagement__work_type_id",
    )
    factors = effort or {}
    work = [
        OpenWork(
            task_id=pk,
            due_date=due,
            hours=remaining_weighted_hours(estimate, weight, logged, factors.get(work_type, 1.0)),
        )
        for pk, due, estimate, weight, logged, work_type in rows
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


@dataclass(frozen=True)
class DecisionLog:
    """What the task page's decision log reads (three queries, whatever its length)."""

    decisions: list[DispatchDecision]
    asked_off: list[ReassignmentRequest]  # newest first
    escalations: dict[int, Escalation]  # by the decision that opened them
    requested_id: int | None  # whom the client asked for, unless a manager declined it


def decision_log_for_task(*, task: Task) -> DecisionLog:
    """``task`` with its engagement and client loaded (``task_get_for_user``)."""
    decisions = decision_list_for_task(task=task)
    asked_off = list(
        ReassignmentRequest.objects.filter(task=task)
        .select_related("staff_member__user")
        .order_by("-created_at", "-pk")
    )
    escalations = {
        escalation.decision_id: escalation
        for escalation in Escalation.objects.filter(task=task).select_related(
            "decision", "task__engagement__work_type"
        )
    }
    engagement = task.engagement
    declined = any(
        d.outcome == DecisionOutcome.NEEDS_CONFIRMATION and d.declined for d in decisions
    )
    requested = engagement.requested_staff_id or engagement.client.preferred_staff_id
    return DecisionLog(decisions, asked_off, escalations, None if declined else requested)


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


def escalation_list_for_user(*, user) -> QuerySet[Escalation]:  # type: ignore[no-untyped-def]
    """Escalations are a manager's: every one for managers and partners, none for staff."""
    if not is_manager(user):
        return Escalation.objects.none()
    return Escalation.objects.select_related("decision")
