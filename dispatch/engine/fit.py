"""Whether an eligible person has room: utilization this week, free hours before the
deadline, and earliest-deadline-first fit over everything they hold (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from capacity.ledger import (
    DeadlineFit,
    OpenWork,
    committed_between,
    deadline_fit,
    utilization,
    utilization_window,
)
from dispatch.engine.types import REVIEWER, CandidateSnapshot, TaskToPlace

EPSILON = 1e-9


@dataclass(frozen=True)
class Fit:
    utilization: float  # this week, before the task
    utilization_after: float  # this week, with the task
    threshold: float
    free_before_deadline: float  # free hours from today to the due date
    deadline: DeadlineFit

    @property
    def within_threshold(self) -> bool:
        return self.utilization_after <= self.threshold + EPSILON


def threshold_for(task: TaskToPlace, candidate: CandidateSnapshot) -> float:
    if task.threshold_override is not None:
        return task.threshold_override
    return candidate.reviewer_threshold if task.role == REVIEWER else candidate.threshold


def capacity_fit(task: TaskToPlace, candidate: CandidateSnapshot, today: date) -> Fit:
    calendar = candidate.calendar
    new_work = OpenWork(task_id=task.task_id, due_date=task.due_date, hours=task.weighted_hours)
    week_start, week_end = utilization_window(calendar, today)
    available_week = calendar.available(week_start, week_end)
    committed_week = committed_between(calendar, candidate.open_work, today, week_start, week_end)
    added_week = committed_between(calendar, (new_work,), today, week_start, week_end)
    due = max(task.due_date, today)
    free = calendar.available(today, due) - committed_between(
        calendar, candidate.open_work, today, today, due
    )
    return Fit(
        utilization=utilization(committed_week, available_week),
        utilization_after=utilization(committed_week + added_week, available_week),
        threshold=threshold_for(task, candidate),
        free_before_deadline=free,
        deadline=deadline_fit(calendar, candidate.open_work, today, extra=new_work),
    )


def capacity_problem(task: TaskToPlace, fit: Fit) -> str | None:
    """Why an eligible person has no room for ``task``, or None if they have."""
    if not fit.within_threshold:
        return f"utilization {fit.utilization_after:.0%} after this task > threshold {fit.threshold:.0%}"
    if fit.free_before_deadline + EPSILON < task.weighted_hours:
        return (
            f"{fit.free_before_deadline:.1f} h free before {task.due_date.isoformat()} "
            f"< {task.weighted_hours:.1f} h needed"
        )
    if not fit.deadline.fits:
        broken = fit.deadline.broken_deadline
        return (
            f"deadline fit fails at {broken.isoformat() if broken else '?'}: "
            f"{fit.deadline.hours_due:.1f} h due vs {fit.deadline.hours_available:.1f} h available"
        )
    return None
