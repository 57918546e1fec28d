"""The planner's problem, built from the engine's rules (pure: no Django, no clock).

The planner's core (``capacity.planner``) sits below dispatch and takes who may do
what as data. This module is where that data comes from, so no rule has a second home:

1. Who may take a task: ``eligibility.eligibility_problem`` (skills, seniority floors
   and ceilings, reviewer ≠ preparer, whoever asked off it); work the season holds
   (``eligibility.suppressed``) and tasks without an estimate stay out of the plan,
   each with the reason. A requested staffer who qualifies is the only option
   (``eligibility.requested_staff``); a held task with its requested staffer stays.
2. The order of the options: ``ranking.rank_key`` (the engine's order), which the
   one-by-one fallback follows.
3. Hours: the task's weighted hours times the person's effort factor for its work type
   (``TaskToPlace.hours_for``: the snapshot's ``effort``, 1 until logged time says
   otherwise); the capacity load: the share of those hours falling in the person's
   utilization week (``capacity.ledger.committed_between``, as ``fit`` counts it).
4. Room: each person's threshold (``fit.threshold_for``) times their available hours
   this week, minus what they hold; a reviewer task's load counts in proportion to
   the lower reviewer threshold. Deadline windows, one per due date of the planned
   work (up to ``MAX_WINDOWS``): the hours of new work due by then that still pass
   earliest-deadline-first fit (``LoadProfile.room_from``).
5. Cost of a pairing (lower is better, never below zero): client familiarity lowers it, each seniority
   level above the task's floor (preparers) raises it, and a person whose own free
   hours before the due date are short (``fit.capacity_fit``) is a deadline risk.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from capacity.ledger import committed_between
from capacity.planner import Option, Person, Plan, PlanProblem, PlanTask
from dispatch.engine.eligibility import (
    eligibility_labels,
    requested_staff,
    seniority_floor,
    suppressed,
)
from dispatch.engine.fit import EPSILON, ROOM, capacity_pairs, threshold_for
from dispatch.engine.pool import Bools, CandidatePool, Ints
from dispatch.engine.ranking import rank_key
from dispatch.engine.rules import decide
from dispatch.engine.types import PREPARER, CandidateSnapshot, Outcome, TaskToPlace

# Deadline windows: one per due date of the planned work, up to this many; beyond,
# neighbouring due dates share a window (checked from its first date: stricter).
MAX_WINDOWS = 20
FAMILIARITY_CAP = 5
INF = float("inf")  # tasks for the client that still make someone more familiar


@dataclass(frozen=True)
class PlanWeights:
    """The prices a plan weighs, in points (the pages show them in words)."""

    familiarity: float = 3.0  # per task short of five the person held for the client
    seniority: float = 2.0  # per level above the task's floor (preparers)
    deadline_risk: float = 20.0  # the person's own free hours before the due date are short
    overload_per_hour: float = 100.0  # past a threshold (only for someone already past it)
    late_per_hour: float = 200.0  # past earliest-deadline-first fit
    unplaced: float = 1000.0  # a task left for a manager (an escalation)
    change: float = 30.0  # moving a held task to someone else


DEFAULT_WEIGHTS = PlanWeights()


@dataclass(frozen=True)
class Held:
    """A task someone holds that the plan may move (assigned, not yet accepted)."""

    task: TaskToPlace
    holder: int


@dataclass(frozen=True)
class PlanInput:
    """The problem for the solver and what the pages need to read its answer."""

    problem: PlanProblem
    skipped: Mapping[int, str]  # task id -> why it is not in the plan
    week_load: Mapping[tuple[int, int], float]  # (task, person) -> hours in their week
    available_week: Mapping[int, float]
    committed_week: Mapping[int, float]  # what they hold now (movable tasks excluded)
    threshold: Mapping[int, float]
    current: Mapping[int, int | None] = field(default_factory=dict)  # task -> holder

    def utilization(self, assignment: Mapping[int, int | None]) -> dict[int, float]:
        """Each person's utilization this week with ``assignment`` added."""
        added: dict[int, float] = {}
        for task_id, staff_id in assignment.items():
            if staff_id is not None:
                load = self.week_load.get((task_id, staff_id), 0.0)
                added[staff_id] = added.get(staff_id, 0.0) + load
        return {
            staff_id: _ratio(self.committed_week[staff_id] + added.get(staff_id, 0.0), available)
            for staff_id, available in self.available_week.items()
        }


def _ratio(committed: float, available: float) -> float:
    if available <= EPSILON:
        return 0.0 if committed <= EPSILON else float("inf")
    return committed / available


def window_starts(dues: Iterable[date]) -> list[date]:
    """The first due date of each deadline window: every distinct due date, or, past
    ``MAX_WINDOWS`` of them, even groups of consecutive ones."""
    distinct = sorted(set(dues))
    if len(distinct) <= MAX_WINDOWS:
        return distinct
    size = -(-len(distinct) // MAX_WINDOWS)
    return distinct[::size]


def window_of(due: date, starts: Sequence[date]) -> int:
    """The window holding ``due``: the last one starting on or before it."""
    return max(0, bisect_right(starts, due) - 1)


def _rooms(candidate: CandidateSnapshot, today: date, starts: Sequence[date]) -> tuple[float, ...]:
    profile = candidate.profile(today)
    return tuple(profile.room_from(start) for start in starts)


def build_plan(
    tasks: Sequence[TaskToPlace],
    candidate_ids: Callable[[TaskToPlace], Iterable[int]],
    snapshots: Mapping[int, CandidateSnapshot],
    today: date,
    *,
    held: Sequence[Held] = (),
    apart: Sequence[tuple[int, int]] = (),
    weights: PlanWeights = DEFAULT_WEIGHTS,
    time_limit_s: float = 5.0,
    fallback: Mapping[int, int | None] | None = None,
    not_to: Mapping[int, Collection[int]] | None = None,
    seed: int = 0,
    pool: CandidatePool | None = None,
) -> PlanInput:
    """The plan for ``tasks`` (unassigned) and ``held`` (movable) among ``snapshots``.

    ``snapshots`` hold everyone's open work except the ``held`` tasks (those are what
    the plan places). ``candidate_ids`` names the people worth asking for a task (the
    roster's holders of its skills). ``apart``: pairs of task ids of one engagement's
    preparation and review, both in the plan. ``not_to``: people a task is not to be
    offered to (a manager declined that move lately). ``pool``: the same people as
    the engine's columns, if the caller already has them (else they are built here).

    Every pairing is judged with the engine's own column rules (``eligibility_labels``
    per task, ``capacity_pairs`` for all pairings at once), so building the problem
    costs a few array operations per task rather than a round of Python per pairing.
    """
    if pool is None or pool.today != today:
        pool = CandidatePool.build(snapshots.values(), today)
    starts = window_starts(max(spec.due_date, today) for spec in [*tasks, *(h.task for h in held)])
    skipped: dict[int, str] = {}
    plan_tasks: list[PlanTask] = []
    week_load: dict[tuple[int, int], float] = {}
    current: dict[int, int | None] = {}
    entries = [(spec, None) for spec in tasks] + [(h.task, h.holder) for h in held]
    placed: list[tuple[TaskToPlace, int | None]] = []
    for spec, holder in entries:
        if spec.estimated_hours is None or spec.estimated_hours <= 0:
            skipped[spec.task_id] = "no estimate yet"
        elif holder is None and suppressed(spec):
            skipped[spec.task_id] = "held from auto-assignment this season"
        else:
            placed.append((spec, holder))
    options = _options(placed, candidate_ids, pool, today, not_to or {}, weights)
    for (spec, holder), ranked_options in zip(placed, options, strict=True):
        for option, share in ranked_options:
            week_load[(spec.task_id, option.staff_id)] = share
        ranked = tuple(option for option, _ in ranked_options)
        requested = requested_staff(spec)
        if requested is not None:
            chosen = tuple(o for o in ranked if o.staff_id == requested)
            if chosen:
                ranked = chosen  # the client's request overrides the ranking
        if not ranked:
            skipped[spec.task_id] = "nobody qualifies"
            continue
        current[spec.task_id] = holder
        plan_tasks.append(
            PlanTask(
                task_id=spec.task_id,
                options=ranked,
                current=holder,
                # A held task with its requested staffer stays where the client wants it.
                pinned=holder is not None and holder == requested,
                window=window_of(max(spec.due_date, today), starts),
                required=holder is not None,  # held work is never left unassigned
            )
        )
    holders = {holder for holder in current.values() if holder is not None}
    people = []
    available: dict[int, float] = {}
    committed: dict[int, float] = {}
    thresholds: dict[int, float] = {}
    for staff_id in sorted({o.staff_id for t in plan_tasks for o in t.options}):
        candidate = snapshots[staff_id]
        profile = candidate.profile(today)
        available[staff_id] = profile.available_week
        committed[staff_id] = profile.committed_week
        thresholds[staff_id] = candidate.threshold
        room = candidate.threshold * profile.available_week - profile.committed_week
        people.append(
            Person(
                staff_id=staff_id,
                capacity=room,
                windows=_rooms(candidate, today, starts),
                # Only someone already past it, for the work they hold; everyone else
                # takes new work within their room.
                may_exceed=room < 0 and staff_id in holders,
            )
        )
    kept = {t.task_id for t in plan_tasks}
    problem = PlanProblem(
        tasks=tuple(sorted(plan_tasks, key=lambda t: (t.window or 0, t.task_id))),
        people=tuple(people),
        time_limit_s=time_limit_s,
        overload_cost=weights.overload_per_hour,
        late_cost=weights.late_per_hour,
        unplaced_cost=weights.unplaced,
        change_cost=weights.change,
        apart=tuple((a, b) for a, b in apart if a in kept and b in kept),
        fallback=fallback,
        seed=seed,
    )
    return PlanInput(
        problem=problem,
        skipped=skipped,
        week_load=week_load,
        available_week=available,
        committed_week=committed,
        threshold=thresholds,
        current=current,
    )


def _week_share(spec: TaskToPlace, candidate: CandidateSnapshot, today: date) -> float:
    profile = candidate.profile(today)
    work = (spec.open_work_for(candidate),)
    return committed_between(candidate.calendar, work, today, *profile.window)


def _options(
    placed: Sequence[tuple[TaskToPlace, int | None]],
    candidate_ids: Callable[[TaskToPlace], Iterable[int]],
    pool: CandidatePool,
    today: date,
    not_to: Mapping[int, Collection[int]],
    weights: PlanWeights,
) -> list[list[tuple[Option, float]]]:
    """For each (task, holder): the people who may take it, in the engine's order, each
    as an option with the hours of it falling in their week (the hours it would take
    them: ``capacity_pairs`` applies their effort factor).

    Kept: whoever the engine finds eligible (``eligibility_labels``; not declined for
    this move) and who could take the task alone (free hours and deadline fit before
    its due date, whatever their threshold: ``capacity_pairs`` with the threshold
    lifted, every pairing of the plan judged in one pass); the holder of a held task
    always. The cost of a pairing (lower is better, never below zero): the most
    familiar person pays nothing for familiarity, a stranger the most; each seniority
    level above the task's floor (preparers); a deadline risk when the person's free
    hours before the due date leave little slack with the task.
    """
    index = pool.index
    task_of: list[Ints] = []
    row_of: list[Ints] = []
    holder_of: list[Bools] = []
    for k, (spec, holder) in enumerate(placed):
        ids = {pk for pk in candidate_ids(spec) if pk in index}
        if holder is not None and holder in index:
            ids.add(holder)
        rows = np.fromiter(sorted(index[pk] for pk in ids), dtype=np.int64, count=len(ids))
        staff_ids = pool.staff_ids[rows]
        codes, _ = eligibility_labels(spec, pool, rows)
        keep = codes == 0
        banned = not_to.get(spec.task_id, ())
        if banned:
            keep &= ~np.isin(staff_ids, list(banned))
        is_holder = staff_ids == (holder if holder is not None else -1)
        keep |= is_holder
        rows = rows[keep]
        task_of.append(np.full(len(rows), k, dtype=np.int64))
        row_of.append(rows)
        holder_of.append(is_holder[keep])
    answer: list[list[tuple[tuple[object, ...], Option, float]]] = [[] for _ in placed]
    if not placed:
        return []
    which = np.concatenate(task_of)
    rows = np.concatenate(row_of)
    holding = np.concatenate(holder_of)
    # The threshold is left out: the plan weighs it over all the work it gives someone.
    lifted = [replace(spec, threshold_override=INF) for spec, _ in placed]
    fit = capacity_pairs(lifted, which, pool, rows)
    keep = (fit.code == ROOM) | holding
    which, rows = which[keep], rows[keep]
    after = fit.utilization_after[keep].tolist()
    task_hours = fit.hours[keep].tolist()
    free = fit.free_before_deadline[keep].tolist()
    before = pool.utilization[rows].tolist()
    available = pool.available_week[rows].tolist()
    people = pool.people
    floors = [seniority_floor(spec) or 0 for spec, _ in placed]
    for position, (k, row) in enumerate(zip(which.tolist(), rows.tolist(), strict=True)):
        spec = placed[k][0]
        candidate = people[row]
        staff_id = candidate.staff_id
        hours = task_hours[position]
        room, use_after = available[position], after[position]
        if room > EPSILON and use_after != INF:
            share = (use_after - before[position]) * room
        else:
            share = _week_share(spec, candidate, today)
        familiarity = spec.client_history.get(staff_id, 0)
        cost = weights.familiarity * (FAMILIARITY_CAP - min(familiarity, FAMILIARITY_CAP))
        if spec.role == PREPARER:
            cost += weights.seniority * max(0, candidate.seniority - floors[k])
        free_hours = free[position]
        # Little slack left before the due date with this task: a deadline risk.
        if free_hours - hours < hours:
            cost += weights.deadline_risk
        # A reviewer's lower threshold: their hours take a larger share of the room.
        scale = candidate.threshold / max(threshold_for(spec, candidate), EPSILON)
        key = rank_key(
            spec,
            staff_id=staff_id,
            familiarity=familiarity,
            seniority=candidate.seniority,
            free_hours=free_hours,
        )
        option = Option(staff_id=staff_id, hours=hours, cost=cost, load=share * scale)
        answer[k].append((key, option, share))
    ranked = []
    for options in answer:
        options.sort(key=lambda item: item[0])
        ranked.append([(option, share) for _, option, share in options])
    return ranked


def engine_greedy(
    tasks: Sequence[TaskToPlace],
    candidate_ids: Callable[[TaskToPlace], Iterable[int]],
    snapshots: Mapping[int, CandidateSnapshot],
    today: date,
) -> dict[int, int | None]:
    """The engine one task at a time, earliest due first, each decision seeing the
    work the earlier ones gave out: what dispatch would do without the planner. A
    task it escalates, or holds for a manager to confirm a requested staffer past
    their threshold, is left unplaced (the plan leaves it to a manager too)."""
    pool = CandidatePool.build(snapshots.values(), today)
    answer: dict[int, int | None] = {}
    for spec in sorted(tasks, key=lambda t: (t.due_date, t.task_id)):
        decision = decide(spec, pool.select(candidate_ids(spec)), today)
        chosen = decision.assignee_id
        if decision.outcome != Outcome.ASSIGNED:
            chosen = None
        answer[spec.task_id] = chosen
        if chosen is not None:
            # Only the chosen person's row is built again (their open work changed).
            person = pool.person(chosen)
            pool = pool.replace(
                [
                    replace(
                        person,
                        open_work=(*person.open_work, spec.open_work_for(person)),
                        _profiles={},
                    )
                ]
            )
    return answer


def plan_summary(plan: Plan, plan_input: PlanInput) -> dict[str, float]:
    """Figures for a page or a benchmark: objective, bound, overload and lateness
    hours, unplaced tasks."""
    return {
        "objective": plan.objective,
        "bound": plan.bound,
        "overload_hours": plan.overload_hours,
        "late_hours": plan.late_hours,
        "unplaced": float(len(plan.unplaced)),
        "seconds": plan.seconds,
    }
