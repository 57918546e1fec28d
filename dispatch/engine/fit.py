"""Whether an eligible person has room: utilization this week, free hours before the
deadline, and earliest-deadline-first fit over everything they hold (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from capacity.ledger import DeadlineFit, committed_between, utilization
from dispatch.engine.types import REVIEWER, CandidateSnapshot, Problem, TaskToPlace

EPSILON = 1e-9
# The labels the capacity refusals are counted under (summaries and digests group by them).
OVER_THRESHOLD = "over their threshold with this task"
SHORT_OF_HOURS = "not enough free hours before the due date"
DEADLINES_SLIP = "other deadlines would be missed"


@dataclass(frozen=True)
class Fit:
    utilization: float  # this week, before the task
    utilization_after: float  # this week, with the task
    threshold: float
    free_before_deadline: float  # free hours from today to the due date
    deadline: DeadlineFit | None  # None when the threshold or the free hours already fail

    @property
    def within_threshold(self) -> bool:
        return self.utilization_after <= self.threshold + EPSILON


def threshold_for(task: TaskToPlace, candidate: CandidateSnapshot) -> float:
    if task.threshold_override is not None:
        return task.threshold_override
    return candidate.reviewer_threshold if task.role == REVIEWER else candidate.threshold


def capacity_fit(task: TaskToPlace, candidate: CandidateSnapshot, today: date) -> Fit:
    """Read off the candidate's load profile (built once per snapshot): a few
    bisections per task, whatever their open work."""
    profile = candidate.profile(today)
    hours = task.weighted_hours
    new_work = task.as_open_work
    added_week = committed_between(candidate.calendar, (new_work,), today, *profile.window)
    committed, available = profile.committed_week, profile.available_week
    threshold = threshold_for(task, candidate)
    after = utilization(committed + added_week, available)
    free = profile.free_through(max(task.due_date, today))
    room = after <= threshold + EPSILON and free + EPSILON >= hours
    return Fit(
        utilization=utilization(committed, available),
        utilization_after=after,
        threshold=threshold,
        free_before_deadline=free,
        deadline=profile.deadline_fit(new_work) if room else None,
    )


def capacity_problem(task: TaskToPlace, fit: Fit) -> Problem | None:
    """Why an eligible person has no room for ``task``, or None if they have."""
    if not fit.within_threshold:
        return Problem(
            f"utilization {fit.utilization_after:.0%} after this task > threshold {fit.threshold:.0%}",
            OVER_THRESHOLD,
        )
    if fit.free_before_deadline + EPSILON < task.weighted_hours:
        return Problem(
            f"{fit.free_before_deadline:.1f} h free before {task.due_date.isoformat()} "
            f"< {task.weighted_hours:.1f} h needed",
            SHORT_OF_HOURS,
        )
    deadline = fit.deadline
    if deadline is not None and not deadline.fits:
        broken = deadline.broken_deadline
        return Problem(
            f"deadline fit fails at {broken.isoformat() if broken else '?'}: "
            f"{deadline.hours_due:.1f} h due vs {deadline.hours_available:.1f} h available",
            DEADLINES_SLIP,
        )
    return None
