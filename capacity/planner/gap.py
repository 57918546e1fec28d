"""The published Generalized Assignment instances (OR-Library format) as planner problems.

Format: (in multi-problem files, the number of problems first) then per problem
``m n`` (agents, jobs), the m×n cost or profit matrix, the m×n resource matrix and
the m capacities. A maximisation instance is solved as the minimisation of minus its
profits; ``GapInstance.value`` turns the planner's objective back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from capacity.planner.types import Option, Person, PlanProblem, PlanTask


@dataclass(frozen=True)
class GapInstance:
    name: str
    agents: int
    jobs: int
    cost: tuple[tuple[int, ...], ...]  # [agent][job]
    resource: tuple[tuple[int, ...], ...]  # [agent][job]
    capacity: tuple[int, ...]
    maximise: bool = False

    def problem(self, *, time_limit_s: float, workers: int = 2, seed: int = 0) -> PlanProblem:
        """Every job must be placed, every capacity is hard; options cheapest first."""
        sign = -1 if self.maximise else 1
        tasks = []
        # Jobs with the largest regret (second-cheapest minus cheapest) first, so the
        # first-fit start places the jobs that lose most by waiting.
        order = sorted(range(self.jobs), key=lambda j: -self._regret(j, sign))
        for j in order:
            options = sorted(
                (
                    Option(staff_id=i, hours=self.resource[i][j], cost=sign * self.cost[i][j])
                    for i in range(self.agents)
                    if self.resource[i][j] <= self.capacity[i]
                ),
                key=lambda o: (o.cost / max(o.hours, 1), o.staff_id),
            )
            tasks.append(PlanTask(task_id=j, options=tuple(options)))
        people = tuple(Person(staff_id=i, capacity=self.capacity[i]) for i in range(self.agents))
        return PlanProblem(
            tasks=tuple(tasks),
            people=people,
            time_limit_s=time_limit_s,
            workers=workers,
            seed=seed,
        )

    def _regret(self, job: int, sign: int) -> int:
        costs = sorted(sign * self.cost[i][job] for i in range(self.agents))
        return costs[1] - costs[0] if len(costs) > 1 else 0

    def value(self, objective: float) -> float:
        """The instance's own objective (profit for maximisation) from the planner's."""
        return -objective if self.maximise else objective


def _numbers(text: str) -> Iterator[int]:
    for token in text.split():
        yield int(token)


def _read_one(numbers: Iterator[int], name: str, maximise: bool) -> GapInstance:
    m, n = next(numbers), next(numbers)
    cost = tuple(tuple(next(numbers) for _ in range(n)) for _ in range(m))
    resource = tuple(tuple(next(numbers) for _ in range(n)) for _ in range(m))
    capacity = tuple(next(numbers) for _ in range(m))
    return GapInstance(name, m, n, cost, resource, capacity, maximise)


def read_gap(text: str, *, name: str, multi: bool, maximise: bool = False) -> list[GapInstance]:
    """Instances in ``text``: ``multi`` files (``gap1.txt``) hold several, named
    ``<name>-1``, ``<name>-2``, …; single files one, named ``name``."""
    numbers = _numbers(text)
    if not multi:
        return [_read_one(numbers, name, maximise)]
    count = next(numbers)
    return [_read_one(numbers, f"{name}-{k + 1}", maximise) for k in range(count)]
