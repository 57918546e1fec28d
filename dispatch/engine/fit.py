"""Whether an eligible person has room: utilization this week, free hours before the
deadline, and earliest-deadline-first fit over everything they hold (pure): for one
person (``capacity_fit``) or for many as columns (``capacity_columns``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from capacity.ledger import DeadlineFit, OpenWork, committed_between, utilization
from dispatch.engine.pool import Bools, CandidatePool, Floats, Ints
from dispatch.engine.types import REVIEWER, CandidateSnapshot, Problem, TaskToPlace

EPSILON = 1e-9
# The class each capacity problem is counted under (``Problem.label``), by code.
ROOM, OVER_THRESHOLD, SHORT_OF_HOURS, DEADLINES = 0, 1, 2, 3
CAPACITY_LABELS = (
    "qualified with room, ranked lower",
    "over their threshold with this task",
    "not enough free hours before the due date",
    "other deadlines would be missed",
)


@dataclass(frozen=True)
class Fit:
    utilization: float  # this week, before the task
    utilization_after: float  # this week, with the task
    threshold: float
    free_before_deadline: float  # free hours from today to the due date
    deadline: DeadlineFit | None  # None when the threshold or the free hours already fail
    # The week's hours behind the utilization figures ("52 % — 21 of 40 h").
    committed_week: float = 0.0
    available_week: float = 0.0
    task_week: float = 0.0  # the share of this task landing in the week
    hours: float = 0.0  # the task's hours for this person (weighted, times their effort)

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
    hours = task.hours_for(candidate)
    new_work = task.open_work_for(candidate)
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
        committed_week=committed,
        available_week=available,
        task_week=added_week,
        hours=hours,
    )


def capacity_problem(task: TaskToPlace, fit: Fit) -> Problem | None:
    """Why an eligible person has no room for ``task``, or None if they have."""
    if not fit.within_threshold:
        return Problem(
            f"utilization {fit.utilization_after:.0%} after this task > threshold {fit.threshold:.0%}",
            CAPACITY_LABELS[OVER_THRESHOLD],
        )
    if fit.free_before_deadline + EPSILON < fit.hours:
        return Problem(
            f"{fit.free_before_deadline:.1f} h free before {task.due_date.isoformat()} "
            f"< {fit.hours:.1f} h needed",
            CAPACITY_LABELS[SHORT_OF_HOURS],
        )
    deadline = fit.deadline
    if deadline is not None and not deadline.fits:
        broken = deadline.broken_deadline
        return Problem(
            f"deadline fit fails at {broken.isoformat() if broken else '?'}: "
            f"{deadline.hours_due:.1f} h due vs {deadline.hours_available:.1f} h available",
            CAPACITY_LABELS[DEADLINES],
        )
    return None


@dataclass(frozen=True)
class FitColumns:
    """``capacity_fit`` and ``capacity_problem`` for many rows of a pool at once."""

    utilization_after: Floats
    threshold: Floats
    free_before_deadline: Floats
    code: Ints  # ROOM, OVER_THRESHOLD, SHORT_OF_HOURS or DEADLINES (CAPACITY_LABELS)
    task_week: Floats  # the task's hours landing in each person's week
    hours: Floats  # the task's hours for each person (weighted, times their effort)

    @property
    def within_threshold(self) -> Bools:
        return self.utilization_after <= self.threshold + EPSILON


def capacity_columns(task: TaskToPlace, pool: CandidatePool, rows: Ints) -> FitColumns:
    """``capacity_fit`` then ``capacity_problem`` for every row of ``pool`` in ``rows``,
    with the same arithmetic in the same order (identical figures, identical verdicts)."""
    if task.threshold_override is not None:
        threshold = np.full(len(rows), task.threshold_override)
    elif task.role == REVIEWER:
        threshold = pool.reviewer_threshold[rows]
    else:
        threshold = pool.threshold[rows]
    hours = task.weighted_hours * pool.effort_for(task.work_type_id, rows)
    return _capacity(hours, task.due_date.toordinal(), threshold, pool, rows, task.as_open_work)


def capacity_pairs(
    tasks: Sequence[TaskToPlace], which: Ints, pool: CandidatePool, rows: Ints
) -> FitColumns:
    """``capacity_columns`` for many tasks at once: pair ``k`` is ``tasks[which[k]]``
    against the pool's row ``rows[k]`` (the planner judges every pairing of a week's
    work in one pass). Element by element the same arithmetic as ``capacity_columns``."""
    hours = np.asarray([task.weighted_hours for task in tasks], dtype=np.float64)[which]
    work_types = [task.work_type_id for task in tasks]
    if any(work_types) and pool.effort:
        factor = np.ones(len(rows), dtype=np.float64)
        for work_type_id, column in pool.effort.items():
            ids = [k for k, wt in enumerate(work_types) if wt == work_type_id]
            if ids:
                mine = np.isin(which, ids)
                factor[mine] = column[rows[mine]]
        hours = hours * factor
    due = np.asarray([task.due_date.toordinal() for task in tasks], dtype=np.int64)[which]
    override = np.asarray(
        [np.nan if t.threshold_override is None else t.threshold_override for t in tasks],
        dtype=np.float64,
    )[which]
    reviewer = np.asarray([task.role == REVIEWER for task in tasks], dtype=np.bool_)[which]
    threshold = np.where(
        np.isnan(override),
        np.where(reviewer, pool.reviewer_threshold[rows], pool.threshold[rows]),
        override,
    )
    work = [task.as_open_work for task in tasks]
    return _capacity(hours, due, threshold, pool, rows, work, which)


def _capacity(
    hours: Floats,
    due: Ints | int,
    threshold: Floats,
    pool: CandidatePool,
    rows: Ints,
    work: OpenWork | Sequence[OpenWork],
    which: Ints | None = None,
) -> FitColumns:
    """The figures and verdicts for one task (scalars) or one task per row (arrays);
    ``hours``: the task's hours for each row (weighted, times the person's effort)."""
    today = pool.today.toordinal()
    calendars = pool.calendars
    # Working units (the hours the work spreads by) from today to the due date (or
    # today, for work already due).
    until = np.maximum(due, today)
    days_until = calendars.working_units(rows, today, until)
    days = np.where(due >= today, days_until, 0)
    # This week with the task: its hours spread over its working hours, the share
    # falling in the window (``committed_between`` for the one new item).
    inside = calendars.working_units(
        rows, pool.window_start[rows], np.minimum(pool.window_end[rows], due)
    )
    spread = np.divide(hours * inside, days, out=np.zeros(len(rows)), where=days > 0)
    landed = np.where(pool.landing_in_window[rows], hours, 0.0)
    added = np.where(days == 0, landed, spread)
    committed = pool.committed_week[rows] + added
    available = pool.available_week[rows]
    after = np.divide(committed, available, out=np.zeros(len(rows)), where=available > EPSILON)
    after[(available <= EPSILON) & (committed > EPSILON)] = float("inf")
    # Free hours from today to the due date (or today).
    available_until = pool.available(rows, today, until, days_until)
    free = available_until - pool.committed_through(rows, until, days_until)
    code = np.full(len(rows), ROOM, dtype=np.int64)
    within = after <= threshold + EPSILON
    code[~within] = OVER_THRESHOLD
    short = within & (free + EPSILON < hours)
    code[short] = SHORT_OF_HOURS
    room = within & ~short
    if room.any():
        where = np.flatnonzero(room)
        fits = pool.deadline_fits(
            rows[where],
            work,
            available_until[where],
            None if which is None else which[where],
            hours[where],
        )
        code[where[~fits]] = DEADLINES
    return FitColumns(after, threshold, free, code, added, hours)
