"""The problem as integer arrays, and the price of an assignment over them.

CP-SAT is an integer solver, so hours and costs are scaled to integers (by 1 when
they already are whole, else by 100); a load is rounded up and a room down, so an
assignment that fits in integers fits in hours. A choice is one entry per free task:
a person's index, or ``UNPLACED``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from capacity.planner.types import Person, PlanProblem

FINE = 100  # the scale for numbers that are not whole
UNPLACED = -1
# While a search may pass through assignments that break a hard limit, an hour past
# it costs this many times the widest spread of pairing costs (so any way back
# within the limits is worth taking).
HARD_LIMIT_WEIGHT = 10


def _scale(values: Sequence[float]) -> int:
    return 1 if all(float(v).is_integer() for v in values) else FINE


Opt = tuple[int, int, int, int]  # (person index, window hours, capacity load, cost)


@dataclass
class Indexed:
    problem: PlanProblem
    hs: int  # hours scale
    cs: int  # cost scale
    people: list[Person]
    person_index: dict[int, int]
    cap: list[int]
    rooms: list[list[int]]  # per person, per window (k_windows long; [] for no windows)
    free: list[int]  # positions in problem.tasks of the tasks the solver places
    opts: list[list[Opt]]
    lookup: list[dict[int, Opt]]
    window: list[int | None]
    required: list[bool]  # per free task: no unplaced option
    base_usage: list[int]  # capacity load of pinned work per person
    base_window: list[list[int]]  # window hours of pinned work per person, per window
    pinned_cost: int
    over_cost: int | None  # per scaled hour; None: hard
    late_cost: int | None
    unplaced_cost: int | None  # per task; None: every task must be placed
    hard_price: int  # what the search pays per unit past a hard limit
    apart: list[tuple[int, int]]  # pairs of free-task positions
    partners: dict[int, list[int]]

    @classmethod
    def build(cls, problem: PlanProblem) -> Indexed:
        people = list(problem.people)
        person_index = {p.staff_id: i for i, p in enumerate(people)}
        hour_values: list[float] = []
        cost_values: list[float] = [problem.change_cost]
        for p in people:
            hour_values.append(p.capacity)
            hour_values.extend(p.windows)
        for task in problem.tasks:
            for o in task.options:
                hour_values += [o.hours, o.capacity_load]
                cost_values.append(o.cost)
        for each in (problem.overload_cost, problem.late_cost, problem.unplaced_cost):
            if each is not None:
                cost_values.append(each)
        hs, cs = _scale(hour_values), _scale(cost_values)

        def up(hours: float) -> int:
            return math.ceil(hours * hs - 1e-6)

        def down(hours: float) -> int:
            return math.floor(hours * hs + 1e-6)

        def price(value: float) -> int:
            return round(value * cs)

        k_windows = max((len(p.windows) for p in people), default=0)
        base_usage = [0] * len(people)
        base_window = [[0] * k_windows for _ in people]
        free: list[int] = []
        opts: list[list[Opt]] = []
        window: list[int | None] = []
        required: list[bool] = []
        pinned_cost = 0
        for position, task in enumerate(problem.tasks):
            w = task.window if task.window is not None and task.window < k_windows else None
            if task.pinned:
                option = task.option_for(task.current)
                at = person_index.get(task.current) if task.current is not None else None
                if option is not None and at is not None:
                    base_usage[at] += up(option.capacity_load)
                    if w is not None:
                        base_window[at][w] += up(option.hours)
                    pinned_cost += price(option.cost)
                continue
            row = []
            for o in task.options:
                at = person_index.get(o.staff_id)
                if at is None:
                    continue
                cost = o.cost
                if task.current is not None and o.staff_id != task.current:
                    cost += problem.change_cost
                row.append((at, up(o.hours), up(o.capacity_load), price(cost)))
            free.append(position)
            opts.append(row)
            window.append(w)
            required.append(task.required or problem.unplaced_cost is None)
        where = {problem.tasks[pos].task_id: i for i, pos in enumerate(free)}
        apart = [(where[a], where[b]) for a, b in problem.apart if a in where and b in where]
        partners: dict[int, list[int]] = defaultdict(list)
        for a, b in apart:
            partners[a].append(b)
            partners[b].append(a)

        def hourly(value: float | None) -> int | None:
            # A price per hour becomes a price per scaled hour unit (at least 1).
            return None if value is None else max(1, round(value * cs / hs))

        # What pinned work already puts past a hard limit is not the plan's doing: the
        # limit becomes "add nothing more".
        cap = [down(p.capacity) for p in people]
        rooms = [[down(r) for r in p.windows] + [0] * (k_windows - len(p.windows)) for p in people]
        for at, person in enumerate(people):
            if problem.overload_cost is None or not person.may_exceed:
                cap[at] = max(cap[at], base_usage[at])
            if problem.late_cost is None and person.windows:
                running = 0
                for k in range(k_windows):
                    running += base_window[at][k]
                    rooms[at][k] = max(rooms[at][k], running)
        costs = [c for row in opts for *_, c in row] or [0]
        hard = HARD_LIMIT_WEIGHT * (max(costs) - min(costs) + 1)
        over_cost, late_cost = hourly(problem.overload_cost), hourly(problem.late_cost)
        return cls(
            problem=problem,
            hs=hs,
            cs=cs,
            people=people,
            person_index=person_index,
            cap=cap,
            rooms=rooms,
            free=free,
            opts=opts,
            lookup=[{o[0]: o for o in row} for row in opts],
            window=window,
            required=required,
            base_usage=base_usage,
            base_window=base_window,
            pinned_cost=pinned_cost,
            over_cost=over_cost,
            late_cost=late_cost,
            unplaced_cost=None if problem.unplaced_cost is None else price(problem.unplaced_cost),
            hard_price=hard,
            apart=apart,
            partners=dict(partners),
        )

    @property
    def k_windows(self) -> int:
        return len(self.base_window[0]) if self.base_window else 0

    def has_windows(self, person: int) -> bool:
        return bool(self.people[person].windows)

    def over_price(self, person: int, *, soft: bool = False) -> int | None:
        """The price of a unit past this person's capacity; None where the limit is
        hard (the search, ``soft``, pays ``hard_price`` instead)."""
        if self.over_cost is not None and self.people[person].may_exceed:
            return self.over_cost
        return self.hard_price if soft else None

    def late_price(self, *, soft: bool = False) -> int | None:
        if self.late_cost is not None:
            return self.late_cost
        return self.hard_price if soft else None

    def usage(self, choice: Sequence[int]) -> tuple[list[int], list[list[int]]]:
        load = list(self.base_usage)
        hours = [list(w) for w in self.base_window]
        for i, person in enumerate(choice):
            if person == UNPLACED:
                continue
            _, h, ld, _ = self.lookup[i][person]
            load[person] += ld
            w = self.window[i]
            if w is not None:
                hours[person][w] += h
        return load, hours

    def excess(self, person: int, load: int, window_hours: Sequence[int]) -> tuple[int, int]:
        """(units past capacity, units past the tightest deadline window)."""
        over = max(0, load - self.cap[person])
        late = 0
        if self.has_windows(person):
            running = 0
            rooms = self.rooms[person]
            for k, h in enumerate(window_hours):
                running += h
                late = max(late, running - rooms[k])
        return over, late

    def score(self, choice: Sequence[int]) -> tuple[int, bool]:
        """(the search's price of ``choice``, whether it keeps every hard limit).

        Where a limit is soft its price is the problem's; where it is hard, breaking
        it costs ``hard_price`` per unit, so the search can pass through
        and climb back. For a choice within the hard limits the price is the
        objective."""
        total = self.pinned_cost
        ok = True
        for i, person in enumerate(choice):
            if person == UNPLACED:
                if self.required[i]:
                    # Only when the task has no option at all (nothing to choose).
                    ok = ok and not self.opts[i]
                    continue
                total += self.unplaced_cost or 0
            else:
                total += self.lookup[i][person][3]
        load, hours = self.usage(choice)
        for person in range(len(self.people)):
            over, late = self.excess(person, load[person], hours[person])
            over_price = self.over_price(person, soft=True)
            late_price = self.late_price(soft=True)
            assert over_price is not None and late_price is not None
            total += over * over_price + late * late_price
            if (over and self.over_price(person) is None) or (late and self.late_cost is None):
                ok = False
        for a, b in self.apart:
            if choice[a] != UNPLACED and choice[a] == choice[b]:
                total += self.hard_price * self.hs * 100
                ok = False
        return total, ok

    def choice_from(self, assignment: Mapping[int, int | None]) -> list[int]:
        choice = []
        for i, position in enumerate(self.free):
            staff = assignment.get(self.problem.tasks[position].task_id)
            at = self.person_index.get(staff) if staff is not None else None
            choice.append(at if at is not None and at in self.lookup[i] else UNPLACED)
        return choice

    def assignment_from(self, choice: Sequence[int]) -> dict[int, int | None]:
        problem = self.problem
        assignment: dict[int, int | None] = {
            t.task_id: t.current for t in problem.tasks if t.pinned
        }
        for i, person in enumerate(choice):
            task = problem.tasks[self.free[i]]
            assignment[task.task_id] = None if person == UNPLACED else self.people[person].staff_id
        return assignment


def first_fit_choice(
    ix: Indexed,
    start: Sequence[int] | None = None,
    *,
    order: Sequence[int] | None = None,
    preference: Sequence[Sequence[Opt]] | None = None,
) -> list[int]:
    """Each task, in the order given, to its first option with room (capacity, windows,
    apart); with none: unplaced if allowed, else the option that overloads least.
    With ``start``, the tasks it places stay and only its unplaced ones are placed.
    ``order``: the tasks in another order; ``preference``: each task's options in
    another order (cheapest first, say)."""
    choice = list(start) if start is not None else [UNPLACED] * len(ix.free)
    rows = ix.opts if preference is None else preference
    load, hours = ix.usage(choice)
    k_windows = ix.k_windows

    def blocked(i: int, at: int) -> bool:
        return any(choice[j] == at for j in ix.partners.get(i, ()))

    def fits(i: int, at: int, h: int, ld: int) -> bool:
        if (ld and load[at] + ld > ix.cap[at]) or blocked(i, at):
            return False
        w = ix.window[i]
        if w is not None and ix.has_windows(at):
            running = 0
            for k in range(k_windows):
                running += hours[at][k] + (h if k == w else 0)
                if running > ix.rooms[at][k]:
                    return False
        return True

    for i in order if order is not None else range(len(rows)):
        row = rows[i]
        if choice[i] != UNPLACED:
            continue
        pick = next(((at, h, ld) for at, h, ld, _ in row if fits(i, at, h, ld)), None)
        if pick is None and ix.required[i] and row:
            allowed = [(at, h, ld) for at, h, ld, _ in row if not blocked(i, at)] or [
                (at, h, ld) for at, h, ld, _ in row
            ]
            pick = min(allowed, key=lambda o: load[o[0]] + o[2] - ix.cap[o[0]])
        if pick is not None:
            at, h, ld = pick
            choice[i] = at
            load[at] += ld
            w = ix.window[i]
            if w is not None:
                hours[at][w] += h
    return choice


def repaired(ix: Indexed, choice: Sequence[int]) -> list[int]:
    """``choice`` made to keep every hard limit where tasks may wait: from each person
    past one, the tasks with the largest load leave (unplaced) until they fit. The
    engine's one-by-one choices come close to the plan's limits but its deadline check
    is task by task; this keeps most of them as a start."""
    fixed = list(choice)
    if ix.unplaced_cost is None:
        return fixed
    load, hours = ix.usage(fixed)
    held: dict[int, list[int]] = defaultdict(list)
    for i, person in enumerate(fixed):
        if person != UNPLACED and not ix.required[i]:
            held[person].append(i)
    for person in range(len(ix.people)):
        over, late = ix.excess(person, load[person], hours[person])
        hard_over = over and ix.over_price(person) is None
        hard_late = late and ix.late_cost is None
        if not (hard_over or hard_late):
            continue
        # Work that could go nowhere else leaves first (a requested staffer the
        # engine gave it to past their threshold), then the largest.
        for i in sorted(
            held[person], key=lambda i: (len(ix.opts[i]) > 1, -ix.lookup[i][person][2])
        ):
            _, h, ld, _ = ix.lookup[i][person]
            fixed[i] = UNPLACED
            load[person] -= ld
            w = ix.window[i]
            if w is not None:
                hours[person][w] -= h
            over, late = ix.excess(person, load[person], hours[person])
            if not ((over and ix.over_price(person) is None) or (late and ix.late_cost is None)):
                break
    # What left goes to the first option with room, if any.
    return first_fit_choice(ix, fixed)


def cheapest_fit_choice(ix: Indexed, costs: Sequence[Sequence[float]] | None = None) -> list[int]:
    """First fit with each task's options cheapest first (by ``costs``, one per option,
    else the pairing's cost), the tasks that lose most by missing their cheapest
    (largest regret) placed first: the classic start for a Generalized Assignment."""
    keyed = costs if costs is not None else [[c for *_, c in row] for row in ix.opts]
    preference: list[list[Opt]] = []
    regret: list[float] = []
    for row, key in zip(ix.opts, keyed, strict=True):
        ranked = sorted(zip(key, range(len(row)), strict=True))
        preference.append([row[k] for _, k in ranked])
        if len(ranked) > 1:
            regret.append(ranked[1][0] - ranked[0][0])
        else:
            regret.append(math.inf)
    order = sorted(range(len(ix.opts)), key=lambda i: -regret[i])
    return first_fit_choice(ix, order=order, preference=preference)
