"""The task lifecycle in one table: which action is allowed from which status, by whom.

| action    | from                            | to           | who               |
| accept    | assigned                        | accepted     | the assignee      |
| start     | assigned, accepted              | in progress  | the assignee      |
| complete  | accepted, in progress           | completed    | assignee, manager |
| hand_back | assigned, accepted              | unassigned   | the assignee      |
| assign    | unassigned, assigned, accepted  | assigned     | manager           |
| estimate  | unassigned, assigned, accepted, | (unchanged)  | manager           |
|           | in progress                     |              |                   |

Repeating an action whose result already holds (accepting an accepted task) is
a no-op, not an error: a double click or a replayed email link changes nothing.
The services in ``dispatch/lifecycle.py`` enforce this table; views ask
``available_actions`` for their buttons; templates read the flags. Plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from engagements.choices import TaskStatus

# The range of an estimate, for a task, an engagement, a recurring plan or a work type's
# default: a quarter of an hour up to an audit's fieldwork (a few hundred hours) with room.
MIN_ESTIMATE_HOURS = Decimal("0.25")
MAX_ESTIMATE_HOURS = Decimal("2000")


class TaskAction(str, Enum):
    ACCEPT = "accept"
    START = "start"
    COMPLETE = "complete"
    HAND_BACK = "hand_back"
    ASSIGN = "assign"
    ESTIMATE = "estimate"


class Actor(str, Enum):
    ASSIGNEE = "assignee"
    MANAGER = "manager"


@dataclass(frozen=True)
class Rule:
    allowed_from: frozenset[str]
    result: str | None  # the status afterwards; None: unchanged
    by: frozenset[Actor]
    refusal: str  # what to tell someone trying it from another status


_A, _M = Actor.ASSIGNEE, Actor.MANAGER
RULES: dict[TaskAction, Rule] = {
    TaskAction.ACCEPT: Rule(
        frozenset({TaskStatus.ASSIGNED}),
        TaskStatus.ACCEPTED,
        frozenset({_A}),
        "there is nothing to accept",
    ),
    TaskAction.START: Rule(
        frozenset({TaskStatus.ASSIGNED, TaskStatus.ACCEPTED}),
        TaskStatus.IN_PROGRESS,
        frozenset({_A}),
        "it cannot be started",
    ),
    TaskAction.COMPLETE: Rule(
        frozenset({TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS}),
        TaskStatus.COMPLETED,
        frozenset({_A, _M}),
        "accept or start it before completing it",
    ),
    TaskAction.HAND_BACK: Rule(
        frozenset({TaskStatus.ASSIGNED, TaskStatus.ACCEPTED}),
        TaskStatus.UNASSIGNED,
        frozenset({_A}),
        "only work you have not started can be handed back; ask your manager",
    ),
    TaskAction.ASSIGN: Rule(
        frozenset({TaskStatus.UNASSIGNED, TaskStatus.ASSIGNED, TaskStatus.ACCEPTED}),
        TaskStatus.ASSIGNED,
        frozenset({_M}),
        "only work that has not started can be assigned by hand",
    ),
    TaskAction.ESTIMATE: Rule(
        frozenset(
            {
                TaskStatus.UNASSIGNED,
                TaskStatus.ASSIGNED,
                TaskStatus.ACCEPTED,
                TaskStatus.IN_PROGRESS,
            }
        ),
        None,
        frozenset({_M}),
        "finished work keeps the estimate it had",
    ),
}

_LABELS = dict(TaskStatus.choices)


def already_done(action: TaskAction, status: str) -> bool:
    """The action's result already holds: repeating it changes nothing."""
    rule = RULES[action]
    return rule.result is not None and rule.result == status and status not in rule.allowed_from


@dataclass(frozen=True)
class Refusal:
    message: str
    not_permitted: bool  # who is asking (403), rather than the task's status (400)


def refusal(action: TaskAction, *, status: str, actors: frozenset[Actor]) -> Refusal | None:
    """Why ``actors`` may not take ``action`` on a task in ``status``; None when they may."""
    rule = RULES[action]
    if not rule.by & actors:
        if Actor.ASSIGNEE not in rule.by:
            return Refusal("Only a manager or partner can do that.", not_permitted=True)
        return Refusal("This task is not assigned to you.", not_permitted=True)
    if status in rule.allowed_from or already_done(action, status):
        return None
    label = _LABELS.get(status, status).lower()
    return Refusal(f"This task is {label}; {rule.refusal}.", not_permitted=False)


@dataclass(frozen=True)
class AvailableActions:
    """The buttons a person gets for one task (what templates read)."""

    accept: bool = False
    start: bool = False
    complete: bool = False
    hand_back: bool = False
    assign: bool = False
    estimate: bool = False

    @property
    def any(self) -> bool:
        return any((self.accept, self.start, self.complete, self.hand_back))


def actors_for(*, is_assignee: bool, is_manager: bool) -> frozenset[Actor]:
    return frozenset(actor for actor, holds in ((_A, is_assignee), (_M, is_manager)) if holds)


def available_actions(*, status: str, is_assignee: bool, is_manager: bool) -> AvailableActions:
    """Actions that would change something now (a no-op repeat gets no button)."""
    actors = actors_for(is_assignee=is_assignee, is_manager=is_manager)

    def can(action: TaskAction) -> bool:
        rule = RULES[action]
        return bool(rule.by & actors) and status in rule.allowed_from

    return AvailableActions(**{action.value: can(action) for action in TaskAction})
