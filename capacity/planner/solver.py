"""The planner: a Generalized Assignment solver on OR-Tools CP-SAT, with a firm's additions.

``solve(problem)`` always answers within ``problem.time_limit_s`` (plus the moment
it takes to read the answer back), in five steps:

1. The assignment to beat: the caller's ``fallback`` (the engine's one-by-one
   choices) or, without one, first-fit over each task's options in the order given
   (the options come ranked by the engine).
2. Bounds and better starts: first fit with each task's cheapest options first (the
   tasks with most to lose first); the Lagrangian relaxation (prices on everyone's
   room, ``capacity.planner.lagrange``): a bound in a fraction of a second, and first
   fit again by the price-adjusted costs; the linear relaxation (GLOP) where its time
   fits: its bound, and its rounding as another start. The best start is kept.
3. The exact model (one boolean per task and person allowed, the limits as linear
   constraints, the prices in the objective) on CP-SAT, hinted with that start, for
   part of the time. When its bound meets its best the plan is optimal: done.
4. Local improvement (adaptive large-neighbourhood search): free some tasks, solve
   that small problem exactly with everything else fixed, keep it when it is better.
   Four kinds of neighbourhood: a few people and everything they hold, traded among
   themselves or given to anyone with room; tasks off their cheapest option; and the
   tasks where the relaxation disagrees. Each kind is drawn by what it has gained per
   second lately, and its size grows while its problems solve quickly to the end and
   shrinks when they do not. ``problem.workers`` searchers run at once, in threads
   (CP-SAT solves outside the interpreter's lock). An exact solver alone on two cores
   stalls on the hard published instances; this is what closes the gap. The search
   may pass through assignments that break a hard limit, at a price that always
   makes the way back worth taking.
5. The rest of the time goes back to the exact model, hinted with the best found:
   it may raise the bound or prove the plan optimal.

The answer is the best assignment within the hard limits; if none was found (a
problem whose hard limits nothing meets, or a limit too short), the fallback,
marked ``feasible=False`` when it breaks one.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from ortools.sat.python import cp_model

from capacity.planner.exact import SubModel, relaxation
from capacity.planner.indexed import (
    UNPLACED,
    Indexed,
    cheapest_fit_choice,
    first_fit_choice,
    repaired,
)
from capacity.planner.lagrange import lagrangian
from capacity.planner.types import PersonLoad, Plan, PlanProblem, PlanStatus

# Shares of the time limit for the first exact solve (step 3) and the last (step 5).
FIRST_SOLVE_SHARE = 0.1
LAST_SOLVE_SHARE = 0.1
# A neighbourhood problem gets at most this long; one that needs more is too big.
NEIGHBOURHOOD_SECONDS = 0.5
# Unplaced tasks offered to a neighbourhood at once.
NEIGHBOURHOOD_UNPLACED = 40
MAX_NEIGHBOURHOOD = 12
# Below this many option variables the relaxation is not worth its setup. Above, the
# relaxation and the exact model run only when their expected time fits: both scale
# with the problem's size, and so does reading it into arrays, which is timed on the
# machine as it is (busy or quiet); measured, the relaxation takes about 30 times as
# long as that reading and building the exact model about 12 times.
RELAXATION_MIN_OPTIONS = 200
RELAXATION_PER_READ = 30.0
EXACT_BUILD_PER_READ = 12.0
RELAXATION_SHARE = 0.3  # of the time limit, at most
EXACT_BUILD_SHARE = 0.5
# The Lagrangian bound: at most this share of the time limit (and this long).
LAGRANGE_SHARE = 0.25
LAGRANGE_SECONDS = 2.0
LAGRANGE_STEPS = 3000


class _Best:
    """The best choice so far by the search's price, and the best within hard limits."""

    def __init__(self, ix: Indexed) -> None:
        self.ix = ix
        self.choice: list[int] | None = None
        self.score = math.inf
        self.feasible: list[int] | None = None
        self.value = math.inf  # objective of ``feasible``

    def offer(self, choice: Sequence[int] | None) -> bool:
        if choice is None:
            return False
        score, ok = self.ix.score(choice)
        if ok and score < self.value:
            self.feasible, self.value = list(choice), score
        if score < self.score:
            self.choice, self.score = list(choice), score
            return True
        return False


class _Kinds:
    """Which kind of neighbourhood to try next (adaptive large-neighbourhood search):
    each kind is drawn in proportion to what it has gained per second of solving
    lately, with a floor so none is starved. Measured on the published instances, a
    neighbourhood open to everyone took three quarters of the search's time, mostly
    running out of it, while the few-people ones solved in ~40 ms each."""

    DECAY = 0.9
    FLOOR = 0.1  # each kind keeps at least this share of the draws

    def __init__(self, kinds: Sequence[str]) -> None:
        self.kinds = list(kinds)
        self.gain = dict.fromkeys(kinds, 1.0)  # optimistic start: each is tried
        self.seconds = dict.fromkeys(kinds, 0.1)

    def draw(self, rng: random.Random) -> str:
        rates = [self.gain[k] / self.seconds[k] for k in self.kinds]
        total = sum(rates)
        floor = self.FLOOR * total / len(rates) if total > 0 else 1.0
        weights = [max(rate, floor) for rate in rates]
        return rng.choices(self.kinds, weights)[0]

    def record(self, kind: str, gain: float, seconds: float) -> None:
        self.gain[kind] = self.gain[kind] * self.DECAY + max(gain, 0.0)
        self.seconds[kind] = self.seconds[kind] * self.DECAY + max(seconds, 1e-3)


class _Size:
    """A neighbourhood's size: grows while its problems solve to the end well inside
    their time, shrinks when they do not."""

    def __init__(self, size: int, low: int, high: int) -> None:
        self.size, self.low, self.high = min(max(size, low), high), low, high
        self.fast = 0

    def update(self, status: cp_model.CpSolverStatus, took: float, budget: float) -> None:
        if status == cp_model.OPTIMAL and took < budget * 0.25:
            self.fast += 1
            if self.fast >= 3:
                self.size, self.fast = min(self.size + 1, self.high), 0
        elif status != cp_model.OPTIMAL:
            self.size, self.fast = max(self.low, self.size - 1), 0


class _Search:
    """Step 4's shared state: the current choice, who holds what, and the adaptive
    kinds and sizes; ``run`` is one searcher's loop, and several run in threads at
    once (CP-SAT releases the interpreter while it solves, and the neighbourhoods'
    time is nearly all solving). A searcher's answer is laid over the choice as it is
    when it comes back, and kept only if that is better."""

    def __init__(self, ix: Indexed, best: _Best, guide: tuple[list[int], set[int]] | None) -> None:
        assert best.choice is not None
        self.ix, self.best, self.guide = ix, best, guide
        self.lock = threading.Lock()
        self.choice = best.choice
        self.holders: dict[int, set[int]] = defaultdict(set)
        for i, person in enumerate(self.choice):
            self.holders[person].add(i)
        # Who can take the same work: a neighbourhood of people who cannot trade is wasted.
        self.shares: dict[int, set[int]] = defaultdict(set)
        for row in ix.opts:
            if len(row) <= 40:
                ats = [o[0] for o in row]
                for a in ats:
                    self.shares[a].update(ats)
        n_people = len(ix.people)
        kinds = ["people", "held", "spread"]
        self.kinds = _Kinds([*kinds, "guide"] if guide is not None else kinds)
        self.sizes = {
            "people": _Size(3, 2, min(n_people, MAX_NEIGHBOURHOOD)),
            "held": _Size(2, 1, min(n_people, MAX_NEIGHBOURHOOD)),
            "spread": _Size(16, 4, max(4, len(ix.free))),
            "guide": _Size(16, 4, max(4, len(ix.free))),
        }
        self.cheapest = [min((c for *_, c in row), default=0) for row in ix.opts]

    def _pick(self, kind: str, rng: random.Random) -> tuple[list[int], set[int] | range]:
        """The tasks set free and the people they may go to (under the lock)."""
        ix, choice, holders = self.ix, self.choice, self.holders
        everyone = range(len(ix.people))
        size = self.sizes[kind].size
        load, hours = ix.usage(choice)
        troubled = [p for p in everyone if any(ix.excess(p, load[p], hours[p]))]
        if kind == "guide" and self.guide is not None:
            lp_choice, split = self.guide
            differ = [i for i, person in enumerate(choice) if person != lp_choice[i] or i in split]
            others = [i for i in range(len(choice)) if i not in set(differ)]
            tasks = differ[: size * 3 // 4] + rng.sample(others, min(len(others), size // 4))
            return tasks, everyone
        if kind in ("people", "held"):
            # A few people and everything they hold, traded among themselves ("held":
            # or given to anyone with room).
            first = (
                rng.choice(troubled)
                if troubled and rng.random() < 0.5
                else rng.randrange(len(everyone))
            )
            pool = list(self.shares[first] - {first}) or [p for p in everyone if p != first]
            group = {first, *rng.sample(pool, min(size - 1, len(pool)))}
            tasks = [i for p in group for i in holders.get(p, ())]
            if ix.unplaced_cost is not None and holders.get(UNPLACED):
                waiting = [
                    i for i in holders[UNPLACED] if any(at in group for at, *_ in ix.opts[i])
                ]
                tasks += rng.sample(waiting, min(len(waiting), NEIGHBOURHOOD_UNPLACED))
            return tasks, group if kind == "people" else everyone
        # Tasks not on their cheapest option (or held by someone over a limit), free to
        # go to anyone with room.
        crowded = set(troubled)
        costly = [
            i
            for i, person in enumerate(choice)
            if person == UNPLACED or person in crowded or ix.lookup[i][person][3] > self.cheapest[i]
        ]
        return rng.sample(costly, min(len(costly), size)), everyone

    def run(self, until: float, rng: random.Random) -> None:
        while time.perf_counter() < until - 0.02:
            with self.lock:
                kind = self.kinds.draw(rng)
                tasks, group = self._pick(kind, rng)
                if not tasks:
                    self.kinds.record(kind, 0.0, 0.01)
                    continue
                started = time.perf_counter()
                sub = SubModel(self.ix, tasks, group, self.choice, soft=True)
                sub.hint(self.choice)
            budget = min(NEIGHBOURHOOD_SECONDS, until - time.perf_counter() - 0.02)
            if budget <= 0.01:
                break
            status, picks, _ = sub.solve(budget, 1, rng.randrange(1 << 30))
            took = time.perf_counter() - started
            with self.lock:
                before = self.best.score
                if picks is not None:
                    self._offer(tasks, picks)
                self.kinds.record(kind, before - self.best.score, took)
                self.sizes[kind].update(status, took, budget)

    def _offer(self, tasks: Sequence[int], picks: Sequence[int]) -> None:
        trial = list(self.choice)
        for i, person in zip(tasks, picks, strict=True):
            trial[i] = person
        if self.best.offer(trial):
            for i in tasks:
                if self.choice[i] != trial[i]:
                    self.holders[self.choice[i]].discard(i)
                    self.holders[trial[i]].add(i)
            self.choice = trial


def _neighbourhoods(
    ix: Indexed,
    best: _Best,
    until: float,
    rng: random.Random,
    guide: tuple[list[int], set[int]] | None = None,
    searchers: int = 1,
) -> None:
    """Step 4 (the kinds are in the module docstring), with ``searchers`` searching at
    once (``_Search``)."""
    search = _Search(ix, best, guide)
    if searchers <= 1:
        search.run(until, rng)
        return
    with ThreadPoolExecutor(max_workers=searchers) as pool:
        runs = [
            pool.submit(search.run, until, random.Random(rng.randrange(1 << 30)))
            for _ in range(searchers)
        ]
        for run in runs:
            run.result()  # a searcher's error is the solve's, not a lost thread's


def plan_loads(problem: PlanProblem, assignment: Mapping[int, int | None]) -> dict[int, PersonLoad]:
    """Each person's load, overload and lateness under ``assignment``, in hours."""
    load: dict[int, float] = defaultdict(float)
    k_windows = max((len(p.windows) for p in problem.people), default=0)
    window: dict[int, list[float]] = defaultdict(lambda: [0.0] * k_windows)
    for task in problem.tasks:
        staff = assignment.get(task.task_id)
        option = task.option_for(staff) if staff is not None else None
        if option is None or staff is None:
            continue
        load[staff] += option.capacity_load
        if task.window is not None and task.window < k_windows:
            window[staff][task.window] += option.hours
    loads = {}
    for person in problem.people:
        late = 0.0
        running = 0.0
        for k, room in enumerate(person.windows):
            running += window[person.staff_id][k]
            late = max(late, running - room)
        used = load[person.staff_id]
        loads[person.staff_id] = PersonLoad(
            staff_id=person.staff_id,
            load=used,
            capacity=person.capacity,
            overload=max(0.0, used - person.capacity),
            late=max(0.0, late),
        )
    return loads


def first_fit(problem: PlanProblem) -> dict[int, int | None]:
    """The one-by-one rule over the plan's data: each task in order to its first option
    with room (what ``solve`` starts from when the caller gives no fallback)."""
    ix = Indexed.build(problem)
    return ix.assignment_from(first_fit_choice(ix))


def _answer(
    ix: Indexed,
    choice: Sequence[int],
    value: float,
    bound: float,
    started: float,
    *,
    status: PlanStatus | None = None,
    feasible: bool = True,
) -> Plan:
    assignment = ix.assignment_from(choice)
    objective = value / ix.cs
    proven = math.ceil(bound - 1e-6) / ix.cs if bound > -math.inf else -math.inf
    if status is None:
        status = PlanStatus.OPTIMAL if proven >= objective - 1e-9 else PlanStatus.FEASIBLE
    if status == PlanStatus.OPTIMAL:
        proven = objective
    return Plan(
        assignment=assignment,
        objective=objective,
        bound=min(proven, objective),
        status=status,
        seconds=time.perf_counter() - started,
        loads=plan_loads(ix.problem, assignment),
        feasible=feasible,
    )


def solve(problem: PlanProblem) -> Plan:
    """The best assignment found within ``problem.time_limit_s`` and the bound proved
    (the steps are in the module docstring)."""
    started = time.perf_counter()
    until = started + problem.time_limit_s
    rng = random.Random(problem.seed)
    ix = Indexed.build(problem)
    reading = time.perf_counter() - started
    best = _Best(ix)

    # 1. The assignment to beat.
    own = first_fit_choice(ix)
    start = ix.choice_from(problem.fallback) if problem.fallback is not None else own
    fallback = list(start)
    best.offer(start)
    # The caller's fallback may break a limit the plan holds to (its windows are
    # stricter than one task at a time): repaired, it is a start that keeps them;
    # first-fit never breaks one where tasks may wait.
    best.offer(repaired(ix, start))
    best.offer(own)
    if not ix.free:
        return _answer(ix, start, best.score, best.score, started, status=PlanStatus.OPTIMAL)

    # 2. The relaxation: a bound, and a second start.
    # Every task at its cheapest (or unplaced, if cheaper), limits ignored: a bound no
    # plan can beat, free to compute; the relaxation and CP-SAT raise it.
    bound = float(ix.pinned_cost) + sum(
        min([c for *_, c in row] + ([] if ix.required[i] else [ix.unplaced_cost or 0]))
        for i, row in enumerate(ix.opts)
        if row or not ix.required[i]
    )
    # Prices for everyone's room (Lagrangian relaxation): a bound as strong as the
    # linear relaxation's for a few array operations per step, and the options
    # re-ordered by their price-adjusted cost for a second start; and the classic
    # start: cheapest options first, the tasks with most to lose first.
    best.offer(cheapest_fit_choice(ix))
    upper = best.value if best.feasible is not None else best.score
    priced = lagrangian(
        ix,
        upper=upper,
        seconds=min(problem.time_limit_s * LAGRANGE_SHARE, LAGRANGE_SECONDS),
        iterations=LAGRANGE_STEPS,
    )
    bound = max(bound, priced.bound)
    best.offer(cheapest_fit_choice(ix, priced.reduced))
    guide: tuple[list[int], set[int]] | None = None
    options = sum(len(row) for row in ix.opts)
    affordable = reading * RELAXATION_PER_READ <= problem.time_limit_s * RELAXATION_SHARE
    if options >= RELAXATION_MIN_OPTIONS and affordable:
        relaxed = relaxation(ix)
        if relaxed is not None:
            lp_bound, rounded, split = relaxed
            bound = max(bound, lp_bound)
            best.offer(rounded)
            guide = (rounded, split)

    # 3. The exact model, hinted.
    assert best.choice is not None
    everyone = range(len(ix.people))
    improve = problem.improve and len(ix.people) > 1
    if improve and reading * EXACT_BUILD_PER_READ > problem.time_limit_s * EXACT_BUILD_SHARE:
        # The exact model would eat the time: improve the start locally, then answer.
        _neighbourhoods(ix, best, until, rng, guide, problem.workers)
        if best.feasible is not None:
            return _answer(ix, best.feasible, best.value, bound, started)
        value, ok = ix.score(fallback)
        return _answer(
            ix, fallback, value, -math.inf, started, status=PlanStatus.FALLBACK, feasible=ok
        )
    share = FIRST_SOLVE_SHARE if improve else 1.0
    building = time.perf_counter()
    hint = best.feasible or best.choice
    full = SubModel(ix, range(len(ix.free)), everyone, hint)
    full.hint(hint)
    build_seconds = time.perf_counter() - building
    budget = max(0.05, (until - time.perf_counter()) * share)
    status, picks, proved = full.solve(budget, problem.workers, problem.seed)
    bound = max(bound, proved + ix.pinned_cost)
    best.offer(picks)
    infeasible = status == cp_model.INFEASIBLE
    if status == cp_model.OPTIMAL and best.feasible is not None:
        return _answer(ix, best.feasible, best.value, best.value, started)

    # 4. Local improvement.
    if improve and not infeasible:
        # The last exact solve needs its share and the time to build the model again.
        last = (until - time.perf_counter()) * LAST_SOLVE_SHARE + build_seconds
        _neighbourhoods(ix, best, until - last, rng, guide, problem.workers)
        # 5. The exact model again, from the best found.
        remaining = until - time.perf_counter() - build_seconds
        if remaining > 0.05:
            hint = best.feasible or best.choice
            full = SubModel(ix, range(len(ix.free)), everyone, hint)
            full.hint(hint)
            remaining = until - time.perf_counter()
            status, picks, proved = full.solve(remaining, problem.workers, problem.seed + 1)
            bound = max(bound, proved + ix.pinned_cost)
            best.offer(picks)
            if status == cp_model.OPTIMAL and best.feasible is not None:
                return _answer(ix, best.feasible, best.value, best.value, started)

    if best.feasible is None:
        # Nothing within the hard limits: the fallback, said to be what it is.
        value, ok = ix.score(fallback)
        return _answer(
            ix, fallback, value, -math.inf, started, status=PlanStatus.FALLBACK, feasible=ok
        )
    return _answer(ix, best.feasible, best.value, bound, started)


def objective_of(problem: PlanProblem, assignment: Mapping[int, int | None]) -> tuple[float, bool]:
    """(the objective ``solve`` would give ``assignment``, whether it keeps every hard
    limit): how a plan made elsewhere (the engine one task at a time) compares."""
    ix = Indexed.build(problem)
    score, ok = ix.score(ix.choice_from(assignment))
    return score / ix.cs, ok
