"""Who may take a task at all, whatever their load: the rules over the task's facts.

Plain data in, plain answers out (no Django): dispatch, the planner and the demo
replay all ask here, so a rule has one home.

- Seniority floor: the client's floor always; a reviewer also the work type's
  reviewer floor; a preparer the work type's floor only on high-complexity work.
- Seniority ceiling: nobody above the work type's maximum for the role (partners do
  not prepare bookkeeping), except the staffer the client asked for.
- Requested staff: the engagement's request, else the client's preferred staff
  member, unless a manager declined the request for this task.
- Season suppression: a work type flagged for the season is held while a season
  that suppresses flagged work is in force (urgent work is never held).
- Account hold: a client billing put on hold gets no new non-urgent work until the
  hold is released (urgent work still goes out).
- Skills at level and certified through today; the preparer never reviews their
  own work; someone who asked off the task is not offered it again.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from dispatch.engine.pool import NOT_HELD, Bools, CandidatePool, Ints
from dispatch.engine.types import PREPARER, REVIEWER, CandidateSnapshot, Problem, TaskToPlace

HIGH_COMPLEXITY = "high"


def seniority_floor(task: TaskToPlace) -> int | None:
    levels = [task.client_min_seniority]
    if task.role == REVIEWER:
        levels.append(task.reviewer_min_seniority)
    elif task.complexity == HIGH_COMPLEXITY:
        levels.append(task.work_type_min_seniority)
    return max((level for level in levels if level), default=None)


def requested_staff(task: TaskToPlace) -> int | None:
    if task.request_declined:
        return None
    return task.engagement_requested_staff_id or task.client_preferred_staff_id


def suppressed(task: TaskToPlace) -> bool:
    return task.seasonal_work_type and task.season_suppresses and not task.urgent


def on_account_hold(task: TaskToPlace) -> bool:
    return task.client_on_hold and not task.urgent


def account_hold_reason(task: TaskToPlace) -> Problem:
    client = task.client_name or "The client"
    why = f" ({task.client_hold_reason})" if task.client_hold_reason else ""
    return Problem(
        f"{client} is on account hold{why}: non-urgent work is not dispatched until "
        "billing releases the hold.",
        "client on account hold",
    )


def asked_off() -> Problem:
    return Problem("asked to be reassigned off this task")


def lacks_skill(slug: str) -> Problem:
    return Problem(f"lacks skill {slug}")


def below_level(slug: str, level: int, required: int) -> Problem:
    return Problem(f"{slug} level {level} < required {required}", f"{slug} below level {required}")


def expired(slug: str, until: date) -> Problem:
    return Problem(
        f"{slug} certification expired {until.isoformat()}", f"{slug} certification expired"
    )


def below_floor(seniority: int, floor: int) -> Problem:
    return Problem(f"seniority {seniority} < required {floor}", f"seniority below {floor}")


def over_ceiling(task: TaskToPlace, seniority: int, ceiling: int) -> Problem:
    return Problem(
        f"over-qualified: seniority {seniority} > {ceiling} for the {task.role} of this work",
        f"over-qualified (seniority above {ceiling})",
    )


def own_work() -> Problem:
    return Problem("prepared this work; cannot review it")


def skill_problem(task: TaskToPlace, candidate: CandidateSnapshot, today: date) -> Problem | None:
    for requirement in task.required_skills:
        slug = requirement.slug
        held = candidate.skills.get(slug)
        if held is None:
            return lacks_skill(slug)
        if held.level < requirement.min_level:
            return below_level(slug, held.level, requirement.min_level)
        if held.certified_until is not None and held.certified_until < today:
            return expired(slug, held.certified_until)
    return None


def eligibility_problem(
    task: TaskToPlace, candidate: CandidateSnapshot, today: date
) -> Problem | None:
    """Why ``candidate`` may not take ``task`` whatever their load, or None if they may."""
    if candidate.staff_id in task.excluded_staff_ids:
        return asked_off()
    problem = skill_problem(task, candidate, today)
    if problem:
        return problem
    floor = seniority_floor(task)
    if floor is not None and candidate.seniority < floor:
        return below_floor(candidate.seniority, floor)
    ceiling = task.max_seniority
    if (
        ceiling is not None
        and candidate.seniority > ceiling
        and candidate.staff_id != requested_staff(task)
    ):
        return over_ceiling(task, candidate.seniority, ceiling)
    if task.role == REVIEWER and candidate.staff_id == task.preparer_id:
        return own_work()
    return None


def eligibility_labels(
    task: TaskToPlace, pool: CandidatePool, rows: Ints
) -> tuple[Ints, list[str]]:
    """``eligibility_problem`` for every row of ``pool`` in ``rows`` at once: a code per
    row (0: eligible) indexing the returned labels, the class of the first rule that
    refuses them (the words for one person come from ``eligibility_problem``)."""
    labels = [""]
    code = np.zeros(len(rows), dtype=np.int64)

    def refuse(mask: Bools, label: str) -> None:
        nonlocal code
        if mask.any():
            labels.append(label)
            code = np.where((code == 0) & mask, len(labels) - 1, code)

    staff_ids = pool.staff_ids[rows]
    if task.excluded_staff_ids:
        refuse(np.isin(staff_ids, list(task.excluded_staff_ids)), asked_off().label)
    today = pool.today.toordinal()
    for requirement in task.required_skills:
        slug, required = requirement.slug, requirement.min_level
        level = pool.level(slug, rows)
        refuse(level == NOT_HELD, lacks_skill(slug).label)
        refuse(level < required, below_level(slug, 0, required).label)
        refuse(pool.certified_until(slug, rows) < today, expired(slug, pool.today).label)
    seniority = pool.seniority[rows]
    floor = seniority_floor(task)
    if floor is not None:
        refuse(seniority < floor, below_floor(0, floor).label)
    ceiling = task.max_seniority
    if ceiling is not None:
        over = seniority > ceiling
        requested = requested_staff(task)
        if requested is not None:
            over &= staff_ids != requested
        refuse(over, over_ceiling(task, 0, ceiling).label)
    if task.role == REVIEWER and task.preparer_id is not None:
        refuse(staff_ids == task.preparer_id, own_work().label)
    return code, labels


__all__ = [
    "PREPARER",
    "REVIEWER",
    "eligibility_labels",
    "eligibility_problem",
    "on_account_hold",
    "account_hold_reason",
    "requested_staff",
    "seniority_floor",
    "skill_problem",
    "suppressed",
]
