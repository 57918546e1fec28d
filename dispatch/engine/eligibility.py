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
- Skills at level and certified through today; the preparer never reviews their
  own work; someone who asked off the task is not offered it again.
"""

from __future__ import annotations

from datetime import date

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


def skill_problem(task: TaskToPlace, candidate: CandidateSnapshot, today: date) -> Problem | None:
    for requirement in task.required_skills:
        slug = requirement.slug
        held = candidate.skills.get(slug)
        if held is None:
            return Problem(f"lacks skill {slug}")
        if held.level < requirement.min_level:
            return Problem(
                f"{slug} level {held.level} < required {requirement.min_level}",
                f"{slug} below level {requirement.min_level}",
            )
        if held.certified_until is not None and held.certified_until < today:
            return Problem(
                f"{slug} certification expired {held.certified_until.isoformat()}",
                f"{slug} certification expired",
            )
    return None


def eligibility_problem(
    task: TaskToPlace, candidate: CandidateSnapshot, today: date
) -> Problem | None:
    """Why ``candidate`` may not take ``task`` whatever their load, or None if they may."""
    if candidate.staff_id in task.excluded_staff_ids:
        return Problem("asked to be reassigned off this task")
    problem = skill_problem(task, candidate, today)
    if problem:
        return problem
    floor = seniority_floor(task)
    if floor is not None and candidate.seniority < floor:
        return Problem(
            f"seniority {candidate.seniority} < required {floor}", f"seniority below {floor}"
        )
    ceiling = task.max_seniority
    if (
        ceiling is not None
        and candidate.seniority > ceiling
        and candidate.staff_id != requested_staff(task)
    ):
        return Problem(
            f"over-qualified: seniority {candidate.seniority} > {ceiling} for the {task.role} "
            "of this work",
            f"over-qualified (seniority above {ceiling})",
        )
    if task.role == REVIEWER and candidate.staff_id == task.preparer_id:
        return Problem("prepared this work; cannot review it")
    return None


__all__ = [
    "PREPARER",
    "REVIEWER",
    "eligibility_problem",
    "requested_staff",
    "seniority_floor",
    "skill_problem",
    "suppressed",
]
