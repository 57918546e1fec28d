"""The planner: plain data in, an assignment and its proven bound out (no Django).

``solve(PlanProblem) -> Plan`` (``capacity.planner.solver``) over the types in
``capacity.planner.types``; ``capacity.planner.gap`` reads the published GAP
instances. Who may take a task, what it costs and how much room people have are
decided by the caller (``dispatch.planning`` asks the engine and the ledger), so no
rule has a second home here.
"""

from capacity.planner.solver import first_fit, objective_of, plan_loads, solve
from capacity.planner.types import (
    Option,
    Person,
    PersonLoad,
    Plan,
    PlanProblem,
    PlanStatus,
    PlanTask,
)

__all__ = [
    "Option",
    "Person",
    "PersonLoad",
    "Plan",
    "PlanProblem",
    "PlanStatus",
    "PlanTask",
    "first_fit",
    "objective_of",
    "plan_loads",
    "solve",
]
