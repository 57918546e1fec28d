"""Writes for plans and the rebalancing loop: save a scenario, apply it, run the loop,
approve or decline its proposals.

Every assignment goes through ``dispatch.services.task_assign_planned`` (the one
write path: it locks the task and the person and re-checks the engine's rules under
the locks). Work never moves silently: the loop only writes proposals; a manager
approves each (or all) and both people hear of it.

Lock order: the proposal's row, then (inside the dispatch service) the task, then
the person. Each line of a plan applies in its own transaction, so one that changed
since the plan was made is skipped with its reason while the rest apply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from capacity.models import MoveStatus, PlanMove, PlanScenario, ScenarioKind, ScenarioStatus
from capacity.planner import Plan, objective_of, plan_loads, solve
from core.exceptions import ApplicationError
from core.types import User
from dispatch.choices import Trigger
from dispatch.engine.plan import PlanInput
from dispatch.planning import (
    FirmWork,
    firm_work,
    percent,
    rebalance_input,
    troubled_people,
    week_plan_input,
)
from dispatch.services import DispatchError, task_assign_planned
from engagements.choices import TaskStatus
from engagements.models import Task

logger = logging.getLogger(__name__)


class PlanError(ApplicationError):
    """A plan or proposal action that cannot be carried out, with a message for the user."""


def _task_words(task: Task) -> str:
    engagement = task.engagement
    return f"{engagement.client.name} {engagement.work_type.name.lower()}"


def _people_rows(
    plan_input: PlanInput, firm: FirmWork, before: dict[int, float], after: dict[int, float]
) -> list[dict[str, object]]:
    rows = []
    for staff_id in sorted(after, key=lambda s: (-min(after[s], 9.99), s)):
        if abs(after[staff_id] - before[staff_id]) < 1e-9:
            continue
        rows.append(
            {
                "staff_id": staff_id,
                "name": firm.snapshots[staff_id].name,
                "before": round(min(before[staff_id], 9.99), 4),
                "after": round(min(after[staff_id], 9.99), 4),
                "threshold": plan_input.threshold[staff_id],
            }
        )
    return rows


def _scenario(
    *,
    kind: str,
    title: str,
    today: date,
    plan: Plan,
    plan_input: PlanInput,
    firm: FirmWork,
    before: dict[int, float],
    after: dict[int, float],
    actor: User | None,
    greedy_objective: float | None = None,
    extra: dict[str, object] | None = None,
) -> PlanScenario:
    return PlanScenario.objects.create(
        kind=kind,
        title=title,
        planned_for=today,
        objective=plan.objective,
        bound=plan.bound if plan.bound != float("-inf") else None,
        greedy_objective=greedy_objective,
        solver_status=plan.status.value,
        solve_seconds=round(plan.seconds, 3),
        figures={
            "people": _people_rows(plan_input, firm, before, after),
            "skipped": sorted([task, reason] for task, reason in plan_input.skipped.items()),
            "overload_hours": round(plan.overload_hours, 2),
            "late_hours": round(plan.late_hours, 2),
            **(extra or {}),
        },
        created_by=actor,
    )


def week_plan_create(*, actor: User, today: date | None = None) -> PlanScenario:
    """Plan every unassigned task jointly and save the proposal (nothing is assigned
    until a manager applies it)."""
    today = today or timezone.localdate()
    week = week_plan_input(today=today)
    plan_input, firm = week.plan_input, week.firm
    plan = solve(plan_input.problem)
    greedy_value, _ = objective_of(plan_input.problem, week.greedy)
    nothing: dict[int, int | None] = {}
    before = plan_input.utilization(nothing)
    after = plan_input.utilization(plan.assignment)
    placed = {t: s for t, s in plan.assignment.items() if s is not None}
    greedy_placed = sum(1 for s in week.greedy.values() if s is not None)
    with transaction.atomic():
        scenario = _scenario(
            kind=ScenarioKind.WEEK_PLAN,
            title=f"Plan for the week of {today:%b %-d}: {len(placed)} of {len(week.tasks)} tasks placed",
            today=today,
            plan=plan,
            plan_input=plan_input,
            firm=firm,
            before=before,
            after=after,
            actor=actor,
            greedy_objective=greedy_value,
            extra={
                "unplaced": sorted(plan.unplaced),
                "greedy_placed": greedy_placed,
                "tasks": len(week.tasks),
            },
        )
        moves = []
        for task_id, staff_id in sorted(placed.items(), key=lambda item: item[0]):
            task = week.tasks[task_id]
            name = firm.snapshots[staff_id].name
            option = next(
                o
                for t in plan_input.problem.tasks
                if t.task_id == task_id
                for o in t.options
                if o.staff_id == staff_id
            )
            moves.append(
                PlanMove(
                    scenario=scenario,
                    kind=ScenarioKind.WEEK_PLAN,
                    task=task,
                    from_staff=None,
                    to_staff_id=staff_id,
                    expected_status=TaskStatus.UNASSIGNED,
                    reason="Unassigned work placed jointly with the rest of the week's.",
                    summary=(
                        f"Assign {_task_words(task)} ({task.get_role_display().lower()}, "
                        f"due {task.due_date:%b %-d}) to {name}: {name} "
                        f"{percent(before[staff_id])} → {percent(after[staff_id])}"
                    )[:500],
                    cost=option.cost,
                )
            )
        PlanMove.objects.bulk_create(moves)
    logger.info(
        "week plan %s: %d of %d placed (engine alone: %d), %s in %.2f s",
        scenario.pk,
        len(placed),
        len(week.tasks),
        greedy_placed,
        plan.status.value,
        plan.seconds,
    )
    return scenario


@dataclass(frozen=True)
class ApplyResult:
    applied: int
    skipped: int


def _apply_move(move_id: int, actor: User, trigger: str) -> PlanMove:
    """Apply one pending line through the dispatch service (its own transaction)."""
    with transaction.atomic():
        move = (
            PlanMove.objects.select_for_update(of=("self",))
            .select_related("task__engagement__client", "task__engagement__work_type")
            .filter(pk=move_id)
            .first()
        )
        if move is None:
            raise PlanError("That proposal no longer exists.")
        if move.status != MoveStatus.PENDING:
            raise PlanError(f"This line is already {move.get_status_display().lower()}.")
        now = timezone.now()
        try:
            task_assign_planned(
                task_id=move.task_id,
                staff_id=move.to_staff_id,
                expected_assignee_id=move.from_staff_id,
                trigger=trigger,
                reason=move.summary,
                actor=actor,
            )
        except DispatchError as exc:
            move.status = (
                MoveStatus.EXPIRED if move.kind == ScenarioKind.REBALANCE else MoveStatus.SKIPPED
            )
            move.outcome = exc.user_message[:300]
        else:
            move.status = MoveStatus.APPLIED
        move.decided_by = actor
        move.decided_at = now
        move.save(update_fields=["status", "outcome", "decided_by", "decided_at"])
        return move


def scenario_apply(*, scenario_id: int, actor: User) -> ApplyResult:
    """Apply every pending line of a saved plan, each through the dispatch service; a
    line whose task changed since is skipped (or expires) with its reason."""
    scenario = PlanScenario.objects.filter(pk=scenario_id).first()
    if scenario is None:
        raise PlanError("That plan no longer exists.")
    if scenario.status != ScenarioStatus.PROPOSED:
        raise PlanError(f"This plan is already {scenario.get_status_display().lower()}.")
    trigger = Trigger.PLAN if scenario.kind == ScenarioKind.WEEK_PLAN else Trigger.REBALANCE
    applied = skipped = 0
    pending = list(
        scenario.moves.filter(status=MoveStatus.PENDING).order_by("pk").values_list("pk", flat=True)
    )
    for move_id in pending:
        try:
            move = _apply_move(move_id, actor, trigger)
        except PlanError:
            continue  # decided meanwhile (another manager): nothing to do
        if move.status == MoveStatus.APPLIED:
            applied += 1
        else:
            skipped += 1
    PlanScenario.objects.filter(pk=scenario.pk, status=ScenarioStatus.PROPOSED).update(
        status=ScenarioStatus.APPLIED, applied_by=actor, applied_at=timezone.now()
    )
    return ApplyResult(applied=applied, skipped=skipped)


def proposal_approve(*, move_id: int, actor: User) -> PlanMove:
    """Approve one rebalancing proposal: the task moves through the dispatch service and
    both people are told; if the situation changed the proposal expires instead."""
    move = _apply_move(move_id, actor, Trigger.REBALANCE)
    _settle_scenario(move.scenario_id)
    return move


def proposal_decline(*, move_id: int, actor: User) -> PlanMove:
    """Decline one proposal: the same move is not proposed again for
    ``REBALANCE_DECLINE_DAYS`` days."""
    with transaction.atomic():
        move = PlanMove.objects.select_for_update().filter(pk=move_id).first()
        if move is None:
            raise PlanError("That proposal no longer exists.")
        if move.status != MoveStatus.PENDING:
            raise PlanError(f"This proposal is already {move.get_status_display().lower()}.")
        move.status = MoveStatus.DECLINED
        move.decided_by = actor
        move.decided_at = timezone.now()
        move.save(update_fields=["status", "decided_by", "decided_at"])
    _settle_scenario(move.scenario_id)
    return move


def proposals_decide_all(*, actor: User, approve: bool) -> ApplyResult:
    """Approve (or decline) every pending rebalancing proposal, one by one."""
    done = other = 0
    pending = list(
        PlanMove.objects.filter(kind=ScenarioKind.REBALANCE, status=MoveStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for move_id in pending:
        try:
            if approve:
                move = proposal_approve(move_id=move_id, actor=actor)
                ok = move.status == MoveStatus.APPLIED
            else:
                proposal_decline(move_id=move_id, actor=actor)
                ok = True
        except PlanError:
            continue
        done, other = (done + 1, other) if ok else (done, other + 1)
    return ApplyResult(applied=done, skipped=other)


def _settle_scenario(scenario_id: int) -> None:
    """A rebalancing scenario with nothing pending left is settled."""
    if not PlanMove.objects.filter(scenario_id=scenario_id, status=MoveStatus.PENDING).exists():
        PlanScenario.objects.filter(
            pk=scenario_id, kind=ScenarioKind.REBALANCE, status=ScenarioStatus.PROPOSED
        ).update(status=ScenarioStatus.APPLIED, applied_at=timezone.now())


def proposals_expire(*, today: date | None = None) -> int:
    """Expire pending proposals whose situation changed: the task moved, started or
    went, or the person it would relieve is no longer over threshold or late."""
    today = today or timezone.localdate()
    pending = list(
        PlanMove.objects.filter(kind=ScenarioKind.REBALANCE, status=MoveStatus.PENDING)
        .select_related("task", "from_staff__user")
        .order_by("pk")
    )
    if not pending:
        return 0
    troubled = troubled_people(firm_work(today=today))
    expired = 0
    for move in pending:
        task = move.task
        why = ""
        if task.assignee_id != move.from_staff_id or task.status != move.expected_status:
            why = f"The task changed: it is now {task.get_status_display().lower()}."
        elif move.from_staff_id not in troubled:
            why = f"{move.from_staff} is back within threshold and their deadlines fit."
        if why:
            expired += PlanMove.objects.filter(pk=move.pk, status=MoveStatus.PENDING).update(
                status=MoveStatus.EXPIRED, outcome=why, decided_at=timezone.now()
            )
            _settle_scenario(move.scenario_id)
    return expired


@dataclass(frozen=True)
class RebalanceRun:
    scenario: PlanScenario | None
    proposed: int
    expired: int


def _late(plan_input: PlanInput, assignment: dict[int, int | None], people: set[int]) -> float:
    loads = plan_loads(plan_input.problem, assignment)
    return sum(loads[p].late for p in people if p in loads)


def rebalance_run(*, today: date | None = None) -> RebalanceRun:
    """One turn of the loop (beat): expire what no longer applies, then, for the people
    over threshold or late, propose the fewest moves of not-yet-accepted work to
    qualified colleagues with room. Running it again proposes nothing twice (one
    pending proposal per task, a unique constraint)."""
    today = today or timezone.localdate()
    expired = proposals_expire(today=today)
    loop = rebalance_input(today=today)
    if loop is None or not loop.tasks:
        return RebalanceRun(None, 0, expired)
    plan_input, firm = loop.plan_input, loop.firm
    plan = solve(plan_input.problem)
    current = dict(plan_input.current)
    moves = [
        (task_id, current[task_id], staff_id)
        for task_id, staff_id in plan.assignment.items()
        if task_id in current and staff_id is not None and staff_id != current[task_id]
    ]
    if not moves:
        return RebalanceRun(None, 0, expired)
    before = plan_input.utilization(current)
    options = {(t.task_id, o.staff_id): o.cost for t in plan_input.problem.tasks for o in t.options}
    with transaction.atomic():
        scenario = _scenario(
            kind=ScenarioKind.REBALANCE,
            title=f"Rebalancing {today:%b %-d}: {len(moves)} move{'s' if len(moves) != 1 else ''} proposed",
            today=today,
            plan=plan,
            plan_input=plan_input,
            firm=firm,
            before=before,
            after=plan_input.utilization(plan.assignment),
            actor=None,
            extra={"troubled": sorted(loop.troubled.values())},
        )
        proposed = 0
        for task_id, holder, staff_id in moves:
            assert holder is not None
            task = loop.tasks[task_id]
            alone = {**current, task_id: staff_id}
            after = plan_input.utilization(alone)
            pair = {holder, staff_id}
            late_before, late_after = (
                _late(plan_input, current, pair),
                _late(plan_input, alone, pair),
            )
            if abs(late_after - late_before) < 0.05:
                risk = "deadline risk unchanged"
            elif late_after < late_before:
                risk = f"deadline risk down {late_before - late_after:.1f} h"
            else:
                risk = f"deadline risk up {late_after - late_before:.1f} h"
            source, target = firm.snapshots[holder].name, firm.snapshots[staff_id].name
            summary = (
                f"Move {_task_words(task)} from {source} to {target}: "
                f"{source} {percent(before[holder])} → {percent(after[holder])}, "
                f"{target} {percent(before[staff_id])} → {percent(after[staff_id])}, {risk}, 1 change"
            )
            try:
                with transaction.atomic():
                    PlanMove.objects.create(
                        scenario=scenario,
                        kind=ScenarioKind.REBALANCE,
                        task=task,
                        from_staff_id=holder,
                        to_staff_id=staff_id,
                        expected_status=TaskStatus.ASSIGNED,
                        reason=loop.troubled.get(holder, "")[:300],
                        summary=summary[:500],
                        cost=options.get((task_id, staff_id), 0.0)
                        - options.get((task_id, holder), 0.0),
                    )
                proposed += 1
            except IntegrityError:
                continue  # another run proposed it a moment ago
        if not proposed:
            scenario.delete()
            return RebalanceRun(None, 0, expired)
    logger.info("rebalancing proposed %d move(s) (scenario %s)", proposed, scenario.pk)
    return RebalanceRun(scenario, proposed, expired)
