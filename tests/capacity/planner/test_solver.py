"""The planner over plain data: no database, a fraction of a second each."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import pytest

from capacity.planner import (
    Option,
    Person,
    PlanProblem,
    PlanStatus,
    PlanTask,
    first_fit,
    objective_of,
    solve,
)
from capacity.planner.gap import read_gap
from capacity.planner.solver import _Kinds


def task(task_id: int, *options: tuple[int, float, float], **kwargs: object) -> PlanTask:
    return PlanTask(
        task_id=task_id,
        options=tuple(Option(staff_id=s, hours=h, cost=c) for s, h, c in options),
        **kwargs,  # type: ignore[arg-type]
    )


def people(*capacities: float) -> tuple[Person, ...]:
    return tuple(Person(staff_id=i + 1, capacity=c) for i, c in enumerate(capacities))


def test_plan_places_every_task_within_capacity_at_least_cost():
    problem = PlanProblem(
        tasks=(
            task(1, (1, 6, 0), (2, 6, 5)),
            task(2, (1, 6, 0), (2, 6, 1)),
        ),
        people=people(8, 8),
        time_limit_s=2,
    )
    plan = solve(problem)
    # Both want Ana (1) but she has room for one: the one that loses least moves.
    assert plan.assignment == {1: 1, 2: 2}
    assert plan.objective == 1
    assert plan.status == PlanStatus.OPTIMAL and plan.bound == plan.objective
    assert plan.feasible and plan.overload_hours == 0


def test_joint_plan_beats_one_by_one_first_fit():
    # First-fit gives task 1 to its favourite, then task 2 (which only Ana can do) has
    # nowhere to go; planning jointly places both.
    problem = PlanProblem(
        tasks=(task(1, (1, 5, 0), (2, 5, 1)), task(2, (1, 5, 0))),
        people=people(6, 6),
        unplaced_cost=100,
        time_limit_s=2,
    )
    assert first_fit(problem) == {1: 1, 2: None}
    plan = solve(problem)
    assert plan.assignment == {1: 2, 2: 1}
    assert objective_of(problem, plan.assignment)[0] < objective_of(problem, first_fit(problem))[0]


def test_pinned_work_never_moves_and_counts_against_room():
    problem = PlanProblem(
        tasks=(
            task(1, (1, 6, 50), (2, 6, 0), current=1, pinned=True),  # started: stays
            task(2, (1, 4, 0), (2, 4, 3)),
        ),
        people=people(8, 8),
        time_limit_s=2,
    )
    plan = solve(problem)
    assert plan.assignment[1] == 1
    assert plan.assignment[2] == 2  # Ana's room is taken by her started work


def test_requested_staff_as_the_only_option_is_kept_even_when_pricier():
    problem = PlanProblem(
        tasks=(task(1, (2, 3, 9)),),  # the client's requested staffer, Raj
        people=people(8, 8),
        time_limit_s=1,
    )
    assert solve(problem).assignment == {1: 2}


def test_apart_pairs_go_to_different_people():
    # Preparation and review of one engagement: both cheapest with Ana.
    problem = PlanProblem(
        tasks=(task(1, (1, 2, 0), (2, 2, 4)), task(2, (1, 2, 0), (2, 2, 5))),
        people=people(10, 10),
        apart=((1, 2),),
        time_limit_s=2,
    )
    plan = solve(problem)
    assert plan.assignment[1] != plan.assignment[2]
    assert plan.objective == 4


def test_moving_held_work_costs_a_change():
    # Ana holds task 1 and is over; moving it to Raj clears the overload.
    problem = PlanProblem(
        tasks=(
            task(1, (1, 6, 0), (2, 6, 0), current=1, required=True),
            task(2, (1, 6, 0), (2, 6, 0), current=1, required=True),
        ),
        people=(Person(1, capacity=8), Person(2, capacity=8, may_exceed=False)),
        overload_cost=100,
        change_cost=30,
        time_limit_s=2,
    )
    plan = solve(problem)
    assert sorted(plan.assignment.values()) == [1, 2]  # one move, not two
    assert plan.moves(problem.tasks) and len(plan.moves(problem.tasks)) == 1
    assert plan.overload_hours == 0


def test_deadline_windows_hold_earliest_deadline_first():
    # Ana has 5 h before the first window's end: the two tasks due then cannot both be hers.
    problem = PlanProblem(
        tasks=(
            task(1, (1, 4, 0), (2, 4, 2), window=0),
            task(2, (1, 4, 0), (2, 4, 2), window=0),
            task(3, (1, 4, 0), (2, 4, 2), window=1),
        ),
        people=(Person(1, capacity=100, windows=(5, 9)), Person(2, capacity=100, windows=(40, 80))),
        time_limit_s=2,
    )
    plan = solve(problem)
    ana = [t for t, s in plan.assignment.items() if s == 1]
    assert len([t for t in ana if t in (1, 2)]) == 1
    assert plan.late_hours == 0


def test_time_limit_is_honoured_on_a_large_problem():
    tasks = tuple(
        task(t, *((s, 1 + (t * 7 + s) % 9, (t * 13 + s * 7) % 23) for s in range(1, 21)))
        for t in range(1, 401)
    )
    problem = PlanProblem(tasks=tasks, people=people(*[110] * 20), time_limit_s=2)
    started = time.perf_counter()
    plan = solve(problem)
    # The limit bounds the search; building the model and reading the answer come on
    # top (a fraction of a second here, more on a busy shared machine).
    assert time.perf_counter() - started < 2 * 1.5
    assert plan.feasible and all(v is not None for v in plan.assignment.values())
    assert plan.bound <= plan.objective


def test_the_search_draws_the_neighbourhood_that_gains_more_yet_tries_every_kind():
    kinds = _Kinds(["gains", "idle"])
    for _ in range(20):
        kinds.record("gains", 5.0, 0.1)
        kinds.record("idle", 0.0, 0.1)
    rng = random.Random(7)
    draws = Counter(kinds.draw(rng) for _ in range(2000))
    assert draws["gains"] > 5 * draws["idle"] > 0


def test_fallback_when_nothing_fits_the_hard_limits():
    # Every task must be placed and capacity is hard, but it cannot be: the caller's
    # fallback comes back, said to be what it is.
    problem = PlanProblem(
        tasks=(task(1, (1, 6, 0)), task(2, (1, 6, 0))),
        people=people(8),
        fallback={1: 1, 2: 1},
        time_limit_s=1,
    )
    plan = solve(problem)
    assert plan.status == PlanStatus.FALLBACK
    assert plan.assignment == {1: 1, 2: 1}
    assert not plan.feasible


def test_fallback_without_a_caller_is_first_fit():
    problem = PlanProblem(
        tasks=(task(1, (1, 6, 0)), task(2, (1, 6, 0))),
        people=people(8),
        time_limit_s=1,
    )
    plan = solve(problem)
    assert plan.status == PlanStatus.FALLBACK
    assert plan.assignment == first_fit(problem)


# The published instances live in the shared folder beside the checkout (not in the repo).
REPO = Path(__file__).resolve().parents[3]
GAP = next(
    (
        folder / "shared" / "bench-data" / "gap"
        for folder in (REPO.parent, REPO.parent.parent)
        if (folder / "shared" / "bench-data" / "gap").exists()
    ),
    REPO / "missing",
)


@pytest.mark.skipif(not (GAP / "orlib" / "gap1.txt").exists(), reason="GAP bench data not here")
def test_small_published_gap_instance_reaches_its_known_optimum():
    # OR-Library gap1, problem 1 (5 agents, 15 jobs, maximise profit): optimum 336.
    instance = read_gap(
        (GAP / "orlib" / "gap1.txt").read_text(), name="gap1", multi=True, maximise=True
    )[0]
    plan = solve(instance.problem(time_limit_s=10))
    assert plan.status == PlanStatus.OPTIMAL
    assert instance.value(plan.objective) == 336


def test_small_gap_instance_inline_reaches_its_optimum():
    # 2 agents, 4 jobs: capacities force a split; the optimum is 2+3+4+1 = 10.
    text = """2 4
    2 3 9 1
    8 3 4 9
    5 5 5 5
    5 5 5 5
    10 10
    """
    instance = read_gap(text, name="tiny", multi=False)[0]
    plan = solve(instance.problem(time_limit_s=5))
    assert plan.status == PlanStatus.OPTIMAL
    assert plan.objective == 10
