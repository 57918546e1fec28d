"""The Lagrangian bound is a bound: never above the best plan, found by brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from capacity.planner import Option, Person, PlanProblem, PlanTask
from capacity.planner.indexed import UNPLACED, Indexed, cheapest_fit_choice
from capacity.planner.lagrange import lagrangian


def random_problem(seed: int) -> PlanProblem:
    rng = random.Random(seed)
    n_people, n_tasks = rng.randint(2, 3), rng.randint(3, 6)
    soft = rng.random() < 0.5
    tasks = []
    for t in range(n_tasks):
        staff = rng.sample(range(1, n_people + 1), rng.randint(1, n_people))
        options = tuple(
            Option(staff_id=s, hours=rng.randint(1, 6), cost=rng.randint(0, 20)) for s in staff
        )
        tasks.append(PlanTask(task_id=t, options=options, window=rng.choice((None, 0, 1))))
    people = tuple(
        Person(
            staff_id=s,
            capacity=rng.randint(3, 12),
            windows=(rng.randint(2, 8), rng.randint(8, 14)) if rng.random() < 0.7 else (),
        )
        for s in range(1, n_people + 1)
    )
    return PlanProblem(
        tasks=tuple(tasks),
        people=people,
        overload_cost=rng.choice((5.0, 50.0)) if soft else None,
        late_cost=rng.choice((5.0, 50.0)) if soft else None,
        unplaced_cost=rng.choice((30.0, 200.0)) if rng.random() < 0.8 else None,
    )


def best_by_brute_force(ix: Indexed) -> float:
    best = float("inf")
    choices = [
        [at for at, *_ in row] + ([] if ix.required[i] else [UNPLACED])
        for i, row in enumerate(ix.opts)
    ]
    for choice in itertools.product(*[c or [UNPLACED] for c in choices]):
        score, ok = ix.score(choice)
        if ok:
            best = min(best, score)
    return best


@pytest.mark.parametrize("seed", range(60))
def test_the_bound_never_passes_the_best_plan(seed):
    ix = Indexed.build(random_problem(seed))
    best = best_by_brute_force(ix)
    start, ok = ix.score(cheapest_fit_choice(ix))
    priced = lagrangian(ix, upper=start if ok else best + 100, seconds=5, iterations=300)
    assert priced.bound <= best + 1e-6
    assert len(priced.reduced) == len(ix.opts)


def test_the_bound_counts_a_room_the_cheapest_choices_break():
    # Both tasks are cheapest with Ana, who has room for one: the bound sees the move
    # (as far as the linear relaxation does: Ana takes 8/6 of a task, 2/3 of one moves
    # to Bob at 10 -> 6.67; every task at its cheapest would say 0).
    problem = PlanProblem(
        tasks=(
            PlanTask(1, (Option(1, 6, 0), Option(2, 6, 10))),
            PlanTask(2, (Option(1, 6, 0), Option(2, 6, 10))),
        ),
        people=(Person(1, 8), Person(2, 8)),
    )
    ix = Indexed.build(problem)
    priced = lagrangian(ix, upper=10, seconds=5, iterations=500)
    assert 6.6 <= priced.bound <= 10
