"""Explicit extension points for the layers above engagements.

An upper layer (billing) registers a function here when its app is ready
(``AppConfig.ready``); the service that makes the event true calls every
registered function inside its own transaction, so what the extension writes
commits with the event or not at all. This is not a signal: the calls are
synchronous, ordered as registered, and an exception rolls the event back.

| hook | called by | with |
| task_completed | ``engagement_task_completed`` (every task completion) | task, at |
| milestone_entered | ``milestones._enter`` (every step entered) | engagement, code, on_enter, at |

Tests reset the registry with ``registered()`` only through the app registry:
billing's hooks are always present once Django is set up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engagements.models import Engagement, Task

TaskCompleted = Callable[["Task", datetime], None]
MilestoneEntered = Callable[["Engagement", str, "str | None", datetime], None]

_task_completed: list[TaskCompleted] = []
_milestone_entered: list[MilestoneEntered] = []


def on_task_completed(hook: TaskCompleted) -> TaskCompleted:
    """Register ``hook(task, at)``; registering the same function twice keeps one."""
    if hook not in _task_completed:
        _task_completed.append(hook)
    return hook


def on_milestone_entered(hook: MilestoneEntered) -> MilestoneEntered:
    """Register ``hook(engagement, code, on_enter, at)``; once per function."""
    if hook not in _milestone_entered:
        _milestone_entered.append(hook)
    return hook


def task_completed(task: Task, at: datetime) -> None:
    for hook in tuple(_task_completed):
        hook(task, at)


def milestone_entered(
    engagement: Engagement, code: str, on_enter: str | None, at: datetime
) -> None:
    for hook in tuple(_milestone_entered):
        hook(engagement, code, on_enter, at)


def registered() -> dict[str, tuple[Callable[..., None], ...]]:
    """What is registered now, by hook (for the tests and for reading)."""
    return {
        "task_completed": tuple(_task_completed),
        "milestone_entered": tuple(_milestone_entered),
    }
