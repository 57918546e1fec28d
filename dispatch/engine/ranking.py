"""The order among people who may take a task (pure): requested staff first, then
client familiarity, then (preparers) the lowest qualified seniority, then most free
hours before the deadline, then staff id so the order is total."""

from __future__ import annotations

from dispatch.engine.eligibility import requested_staff
from dispatch.engine.types import PREPARER, TaskToPlace


def rank_key(
    task: TaskToPlace, *, staff_id: int, familiarity: int, seniority: int, free_hours: float
) -> tuple[int, int, int, float, int]:
    requested = 0 if staff_id == requested_staff(task) else 1
    return (
        requested,
        -familiarity,
        seniority if task.role == PREPARER else 0,
        -free_hours,
        staff_id,
    )
