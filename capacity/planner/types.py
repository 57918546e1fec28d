"""The planner's plain data: what goes in (tasks, their options, people) and what comes out.

In this form the planner is a Generalized Assignment Problem with a few additions a
firm needs: each person's room may be exceeded at a price (overload), cumulative
deadline windows per person (earliest-deadline-first as linear constraints), pairs of
tasks that must go to different people (reviewer ≠ preparer), tasks held where they
are (accepted or started work), a price for moving a task off its current holder,
and a price for leaving a task unplaced (an escalation).

No Django, no clock, no settings: callers (``dispatch.planning``, the benchmark)
build these from whatever they have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Option:
    """One person who may take a task, what it would take them and what it would cost.

    ``hours`` count against the person's deadline windows (the whole task must be
    done by its due date); ``load`` counts against their ``capacity`` (by default the
    same hours; a firm counts only the share falling in this week). ``cost`` is how
    poor the pairing is: lower is better, and it may be negative (a profit).
    """

    staff_id: int
    hours: float
    cost: float = 0.0
    load: float | None = None

    @property
    def capacity_load(self) -> float:
        return self.hours if self.load is None else self.load


@dataclass(frozen=True)
class PlanTask:
    """A task to place. ``options`` are the people allowed to do it, best first (the
    fallback and the first solution take the first one with room).

    ``current``: who holds it now (rebalancing). With ``pinned`` it stays there
    whatever happens (accepted or started work): its option for ``current`` is only
    counted against that person's room. ``window``: the index of the first deadline
    window the task counts in (see ``Person.windows``); None counts in none.
    """

    task_id: int
    options: tuple[Option, ...]
    current: int | None = None
    pinned: bool = False
    window: int | None = None
    required: bool = False  # must be placed even where the problem lets tasks wait

    def option_for(self, staff_id: int | None) -> Option | None:
        return next((o for o in self.options if o.staff_id == staff_id), None)


@dataclass(frozen=True)
class Person:
    """``capacity``: hours of task load the person can still take (may be negative when
    already past it). ``windows[k]``: hours of the planned tasks whose window is ≤ k
    that fit before that window's end (deadline fit); empty: no deadline windows.
    ``may_exceed``: with a problem's ``overload_cost`` set, whether this person may go
    past their capacity at that price (False: a hard limit for them, e.g. a colleague
    who has room takes work only within it)."""

    staff_id: int
    capacity: float
    windows: tuple[float, ...] = ()
    may_exceed: bool = True


@dataclass(frozen=True)
class PlanProblem:
    """Everything the solver reads.

    ``overload_cost``/``late_cost``: the price of an hour past a person's capacity or
    a deadline window; None makes the limit hard (the classic GAP). ``unplaced_cost``:
    the price of leaving a task unplaced; None requires every task to be placed.
    ``change_cost``: the price of moving a task off its ``current`` holder.
    ``apart``: pairs of task ids that must not go to the same person.
    ``fallback``: a complete assignment the caller trusts (the engine's one-by-one
    choices), returned when the solver finds nothing better in time; without it the
    planner's own first-fit over the options' order stands in.
    """

    tasks: tuple[PlanTask, ...]
    people: tuple[Person, ...]
    time_limit_s: float = 5.0
    overload_cost: float | None = None
    late_cost: float | None = None
    unplaced_cost: float | None = None
    change_cost: float = 0.0
    apart: tuple[tuple[int, int], ...] = ()
    fallback: Mapping[int, int | None] | None = None
    workers: int = 2
    seed: int = 0
    improve: bool = True  # the local-search phase after the first exact solve


class PlanStatus(str, Enum):
    OPTIMAL = "optimal"  # proven: objective == bound
    FEASIBLE = "feasible"  # the best found in the time limit; ``bound`` says how far off at most
    FALLBACK = "fallback"  # the solver found nothing in time: the fallback assignment


@dataclass(frozen=True)
class PersonLoad:
    staff_id: int
    load: float  # capacity load of the plan's tasks on this person
    capacity: float
    overload: float  # hours past capacity
    late: float  # hours past the tightest deadline window


@dataclass(frozen=True)
class Plan:
    """The answer: who takes each task (None: unplaced), its cost and the proven bound.

    ``objective`` is what the solver minimised (pairing costs + overload + lateness +
    unplaced + changes); ``bound`` is a proven lower bound on it (equal when optimal).
    """

    assignment: Mapping[int, int | None]
    objective: float
    bound: float
    status: PlanStatus
    seconds: float
    loads: Mapping[int, PersonLoad] = field(default_factory=dict)
    feasible: bool = True  # every hard limit holds (a fallback over a hard limit may not)

    @property
    def gap(self) -> float:
        """Relative distance to the bound (0 when proven optimal)."""
        if self.objective == self.bound:
            return 0.0
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)

    @property
    def overload_hours(self) -> float:
        return sum(load.overload for load in self.loads.values())

    @property
    def late_hours(self) -> float:
        return sum(load.late for load in self.loads.values())

    @property
    def unplaced(self) -> tuple[int, ...]:
        return tuple(t for t, staff in self.assignment.items() if staff is None)

    def moves(self, tasks: tuple[PlanTask, ...]) -> tuple[tuple[int, int | None, int | None], ...]:
        """(task id, from, to) for every task whose holder changes."""
        return tuple(
            (task.task_id, task.current, self.assignment.get(task.task_id))
            for task in tasks
            if self.assignment.get(task.task_id) != task.current
        )
