"""Reads for the planner: the firm's unassigned and movable work as the engine sees it,
in a constant number of queries, turned into the planner's problem
(``dispatch.engine.plan``).

Queries, whatever the number of tasks: the tasks with dispatch's flags (one), the
roster (kept between dispatches, ``dispatch.roster``), everyone's held work (one),
the clients' history (two: the clients, then their history), who asked off which
task (one), the recently declined proposals (one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from capacity.ledger import OpenWork
from capacity.models import MoveStatus, PlanMove, ScenarioKind
from capacity.policy import Policy
from capacity.selectors import capacity_policy, remaining_weighted_hours
from core.calendar import firm_calendar
from core.models import ChangeStamp
from dispatch.engine import CandidateSnapshot, TaskToPlace
from dispatch.engine.plan import Held, PlanInput, PlanWeights, build_plan, engine_greedy
from dispatch.engine.pool import CandidatePool
from dispatch.models import DispatchDecision, ReassignmentRequest
from dispatch.roster import ROSTER_STAMP, Roster, roster
from dispatch.selectors import DispatchSnapshot, task_to_place, tasks_for_dispatch
from dispatch.sweeps import PROXIMITY_BUSINESS_DAYS
from engagements.choices import HELD_TASK_STATUSES, TaskRole, TaskStatus
from engagements.models import Task

WEEK_PLAN_WEIGHTS = PlanWeights()
# task_to_place reads a snapshot's skills, who asked off and the client's history,
# never its candidates: the plan's candidates come from the roster per task.
EMPTY_POOL = CandidatePool.build((), date(2000, 1, 1))
# Moving held work costs more than any pairing preference gains, so the loop moves
# only to clear an overload or a deadline, never to tidy.
REBALANCE_WEIGHTS = PlanWeights(change=50.0)


@dataclass
class FirmWork:
    """The firm as the planner reads it."""

    today: date
    policy: Policy
    staff: Roster
    held: list[
        tuple[int, int, str, int, OpenWork, int, str]
    ]  # (staff, task, status, eng, item, client, role)
    snapshots: dict[int, CandidateSnapshot]
    history: dict[int, dict[int, int]]  # client -> staff -> tasks held for them
    asked_off: dict[int, frozenset[int]]
    work_type_of: dict[int, int]  # task -> work type

    def candidate_ids(self, spec: TaskToPlace) -> list[int]:
        slugs = [r.slug for r in spec.required_skills]
        return self.staff.candidate_ids(slugs)


def _roster(today: date, policy: Policy) -> Roster:
    version = (
        ChangeStamp.objects.filter(name=ROSTER_STAMP).values_list("version", flat=True).first()
    )
    return roster(version=version or 0, today=today)


def firm_work(*, today: date, task_ids: Iterable[int] = ()) -> FirmWork:
    """Everyone's held work and the facts the engine reads about ``task_ids``' clients."""
    policy = capacity_policy(day=today)
    staff = _roster(today, policy)
    rows = Task.objects.filter(status__in=HELD_TASK_STATUSES, assignee__isnull=False).values_list(
        "assignee_id",
        "pk",
        "status",
        "engagement_id",
        "due_date",
        "estimated_hours",
        "engagement__work_type__complexity_weight",
        "engagement__client_id",
        "role",
        "engagement__work_type_id",
    )
    held = []
    work: dict[int, list[OpenWork]] = defaultdict(list)
    effort = staff.effort
    for assignee, pk, status, engagement, due, estimate, weight, client, role, kind in rows:
        # The hours it would take its holder (their effort factor for the work type).
        factor = effort.get(assignee, {}).get(kind, 1.0)
        hours = remaining_weighted_hours(estimate, weight, effort=factor)
        item = OpenWork(task_id=pk, due_date=due, hours=hours)
        held.append((assignee, pk, status, engagement, item, client, role))
        work[assignee].append(item)
    snapshots = {
        pk: staff.snapshot(
            pk, tuple(sorted(work.get(pk, ()), key=lambda w: (w.due_date, w.task_id)))
        )
        for pk in staff.members
    }
    history, asked_off = _client_facts(list(task_ids))
    return FirmWork(
        today=today,
        policy=policy,
        staff=staff,
        held=held,
        snapshots=snapshots,
        history=history,
        asked_off=asked_off,
        work_type_of={},
    )


def _client_facts(
    ids: list[int],
) -> tuple[dict[int, dict[int, int]], dict[int, frozenset[int]]]:
    """For these tasks: how many tasks each person has done for their clients, and who
    asked off each (three queries)."""
    # The clients first, as a list: as a subquery, PostgreSQL's plan for tables it has
    # no statistics on yet (a firm just written) nests loops and runs for minutes.
    clients = list(
        Task.objects.filter(pk__in=ids).values_list("engagement__client_id", flat=True).distinct()
    )
    history: dict[int, dict[int, int]] = defaultdict(dict)
    for client, assignee, count in (
        Task.objects.filter(engagement__client_id__in=clients, assignee__isnull=False)
        .exclude(status__in=(TaskStatus.CANCELLED, *HELD_TASK_STATUSES))
        .values_list("engagement__client_id", "assignee_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        history[client][assignee] = count
    asked: dict[int, set[int]] = defaultdict(set)
    for task_id, staff_id in ReassignmentRequest.objects.filter(task_id__in=ids).values_list(
        "task_id", "staff_member_id"
    ):
        asked[task_id].add(staff_id)
    return dict(history), {task: frozenset(people) for task, people in asked.items()}


def _specs(firm: FirmWork, tasks: Iterable[Task]) -> dict[int, TaskToPlace]:
    specs = {}
    for task in tasks:
        engagement = task.engagement
        firm.work_type_of[task.pk] = engagement.work_type_id
        snapshot = DispatchSnapshot(
            policy=firm.policy,
            candidates=EMPTY_POOL,
            open_work_seqs={},
            required_skills=firm.staff.requirements.get(engagement.work_type_id, ()),
            asked_off=firm.asked_off.get(task.pk, frozenset()),
            client_history=firm.history.get(engagement.client_id, {}),
        )
        specs[task.pk] = task_to_place(task, policy=firm.policy, snapshot=snapshot)
    return specs


def plannable_tasks(*, today: date) -> list[Task]:
    """Unassigned work the week's plan places: ready to dispatch (or due within the
    sweep's horizon), not waiting for a manager to confirm a requested staffer."""
    horizon = firm_calendar().add_business_days(today, PROXIMITY_BUSINESS_DAYS)
    awaiting = DispatchDecision.objects.awaiting_confirmation().filter(task=OuterRef("pk"))
    queryset = (
        Task.objects.filter(status=TaskStatus.UNASSIGNED)
        .filter(Q(ready_at__isnull=False) | Q(due_date__lte=horizon))
        .exclude(Exists(awaiting))
    )
    return list(tasks_for_dispatch(queryset).order_by("due_date", "pk"))


def _apart(
    tasks: Iterable[Task], firm: FirmWork
) -> tuple[list[tuple[int, int]], dict[int, set[int]]]:
    """Pairs of one engagement's preparation and review both in the plan; and for a
    preparation in the plan, whoever already holds its review (never the same person)."""
    by_engagement: dict[int, dict[str, int]] = defaultdict(dict)
    for task in tasks:
        by_engagement[task.engagement_id][task.role] = task.pk
    pairs = []
    keep_off: dict[int, set[int]] = defaultdict(set)
    for roles in by_engagement.values():
        if TaskRole.PREPARER in roles and TaskRole.REVIEWER in roles:
            pairs.append((roles[TaskRole.PREPARER], roles[TaskRole.REVIEWER]))
    for staff_id, _, _, engagement, _, _, role in firm.held:
        roles = by_engagement.get(engagement, {})
        if role == TaskRole.REVIEWER and TaskRole.PREPARER in roles:
            keep_off[roles[TaskRole.PREPARER]].add(staff_id)
    return pairs, keep_off


def _keep_off(specs: dict[int, TaskToPlace], keep_off: Mapping[int, set[int]]) -> None:
    for task_id, people in keep_off.items():
        spec = specs.get(task_id)
        if spec is not None:
            specs[task_id] = replace(spec, excluded_staff_ids=spec.excluded_staff_ids | people)


@dataclass
class WeekPlanInput:
    firm: FirmWork
    plan_input: PlanInput
    tasks: dict[int, Task]
    greedy: dict[int, int | None]


def week_plan_input(
    *, today: date | None = None, time_limit_s: float | None = None
) -> WeekPlanInput:
    """Every plannable task, the people who may take each, and the engine's one-by-one
    answer on the same data (the plan's fallback and its yardstick)."""
    today = today or timezone.localdate()
    tasks = plannable_tasks(today=today)
    firm = firm_work(today=today, task_ids=[t.pk for t in tasks])
    specs = _specs(firm, tasks)
    pairs, keep_off = _apart(tasks, firm)
    _keep_off(specs, keep_off)
    ordered = list(specs.values())
    greedy = engine_greedy(ordered, firm.candidate_ids, firm.snapshots, today)
    plan_input = build_plan(
        ordered,
        firm.candidate_ids,
        firm.snapshots,
        today,
        apart=pairs,
        weights=WEEK_PLAN_WEIGHTS,
        time_limit_s=time_limit_s or settings.PLAN_TIME_LIMIT_SECONDS,
        fallback=greedy,
    )
    return WeekPlanInput(firm, plan_input, {t.pk: t for t in tasks}, greedy)


@dataclass
class RebalanceInput:
    firm: FirmWork
    plan_input: PlanInput
    tasks: dict[int, Task]
    troubled: dict[int, str]  # staff -> why (in words)


def percent(value: float) -> str:
    """``1.12`` as "112 %" (the firm's pages write a space before the sign)."""
    return "—" if value == float("inf") else f"{value * 100:.0f} %"


def troubled_people(firm: FirmWork) -> dict[int, str]:
    """Who is over their threshold this week or holds deadlines that no longer fit."""
    troubled = {}
    for staff_id, snapshot in firm.snapshots.items():
        profile = snapshot.profile(firm.today)
        use = profile.committed_week / profile.available_week if profile.available_week else 0.0
        if profile.available_week and use > snapshot.threshold + 1e-9:
            troubled[staff_id] = (
                f"{snapshot.name} is at {percent(use)} this week "
                f"(threshold {percent(snapshot.threshold)})"
            )
            continue
        fit = profile.deadline_fit()
        if not fit.fits and fit.broken_deadline is not None:
            troubled[staff_id] = (
                f"{snapshot.name}'s deadlines no longer fit: {fit.hours_due:.1f} h due by "
                f"{fit.broken_deadline:%b %-d} with {fit.hours_available:.1f} h available"
            )
    return troubled


def declined_moves(*, today: date) -> dict[int, set[int]]:
    """task -> people a manager declined moving it to, within the quiet period."""
    since = timezone.now() - timedelta(days=settings.REBALANCE_DECLINE_DAYS)
    declined: dict[int, set[int]] = defaultdict(set)
    for task_id, staff_id in PlanMove.objects.filter(
        kind=ScenarioKind.REBALANCE, status=MoveStatus.DECLINED, decided_at__gte=since
    ).values_list("task_id", "to_staff_id"):
        declined[task_id].add(staff_id)
    return declined


def _as_if_approved(firm: FirmWork) -> None:
    """Read the firm as if every pending proposal were approved: a situation a pending
    proposal already answers is not proposed for again."""
    pending = PlanMove.objects.filter(
        kind=ScenarioKind.REBALANCE, status=MoveStatus.PENDING
    ).values_list("task_id", "from_staff_id", "to_staff_id")
    for task_id, source, target in pending:
        giver, taker = firm.snapshots.get(source), firm.snapshots.get(target)
        if giver is None or taker is None:
            continue
        item = next((w for w in giver.open_work if w.task_id == task_id), None)
        if item is None:
            continue
        firm.snapshots[source] = replace(
            giver, open_work=tuple(w for w in giver.open_work if w is not item), _profiles={}
        )
        firm.snapshots[target] = replace(
            taker,
            open_work=tuple(
                sorted((*taker.open_work, item), key=lambda w: (w.due_date, w.task_id))
            ),
            _profiles={},
        )


def rebalance_input(
    *, today: date | None = None, time_limit_s: float | None = None
) -> RebalanceInput | None:
    """The movable work of the people in trouble (assigned, not yet accepted, with no
    proposal pending), or None when nobody is in trouble."""
    today = today or timezone.localdate()
    firm = firm_work(today=today)
    _as_if_approved(firm)
    troubled = troubled_people(firm)
    if not troubled:
        return None
    pending = PlanMove.objects.filter(
        kind=ScenarioKind.REBALANCE, status=MoveStatus.PENDING, task=OuterRef("pk")
    )
    movable = list(
        tasks_for_dispatch(
            Task.objects.filter(assignee_id__in=list(troubled), status=TaskStatus.ASSIGNED).exclude(
                Exists(pending)
            )
        ).order_by("due_date", "pk")
    )
    if not movable:
        return RebalanceInput(
            firm, build_plan([], firm.candidate_ids, firm.snapshots, today), {}, troubled
        )
    ids = [t.pk for t in movable]
    firm.history, firm.asked_off = _client_facts(ids)
    # The movable tasks leave their holders' plates: the plan places them.
    moving = set(ids)
    holders = {t.assignee_id for t in movable if t.assignee_id is not None}
    for staff_id in holders:
        snapshot = firm.snapshots[staff_id]
        firm.snapshots[staff_id] = replace(
            snapshot,
            open_work=tuple(w for w in snapshot.open_work if w.task_id not in moving),
            _profiles={},
        )
    specs = _specs(firm, movable)
    pairs, keep_off = _apart(movable, firm)
    _keep_off(specs, keep_off)
    held = [Held(task=specs[t.pk], holder=t.assignee_id) for t in movable if t.assignee_id]
    plan_input = build_plan(
        [],
        firm.candidate_ids,
        firm.snapshots,
        today,
        held=held,
        apart=pairs,
        weights=REBALANCE_WEIGHTS,
        time_limit_s=time_limit_s or settings.REBALANCE_TIME_LIMIT_SECONDS,
        fallback={h.task.task_id: h.holder for h in held},
        not_to=declined_moves(today=today),
    )
    return RebalanceInput(firm, plan_input, {t.pk: t for t in movable}, troubled)
