"""Internal due dates from a work type's deadline rule (statutory date or period end,
minus a buffer), and the same computation in words for the people who check it.

``internal_due_date`` is what every write path uses (the new-engagement page, the
recurring job, the demo); ``due_date_explained`` is the same computation with each
step said in words, which the new-engagement form shows before saving. Both go
through ``_compute`` so they can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from core.calendar import BusinessCalendar
from core.exceptions import ApplicationError
from core.formatting import counted
from engagements.choices import BufferUnit, DeadlineBasis
from engagements.models import WorkType

# The preparer finishes this many business days before the engagement's due date
# so the reviewer has room.
REVIEW_LEAD_BUSINESS_DAYS = 2


class DeadlineRuleError(ApplicationError):
    """The work type's rule cannot produce a date from what was given."""


def statutory_date(*, month: int, day: int, period_end: date) -> date:
    """The first (month, day) after the period ends: the filing date of a statutory rule.

    Plain values in, so pages that read work types as values (the capacity heatmap,
    the deadline distribution) place the same date without loading the model.
    """
    year = period_end.year
    candidate = date(year, month, day)
    if candidate <= period_end:
        candidate = date(year + 1, month, day)
    return candidate


def statutory_date_for(work_type: WorkType, *, period_end: date) -> date:
    """The first statutory date (month/day of the rule) after the period ends."""
    assert work_type.statutory_month and work_type.statutory_day
    return statutory_date(
        month=work_type.statutory_month, day=work_type.statutory_day, period_end=period_end
    )


def day_text(day: date) -> str:
    """``Fri Mar 29, 2024``: how a date reads in an explanation."""
    return f"{day:%a %b} {day.day}, {day.year}"


def _why_not_a_business_day(day: date, calendar: BusinessCalendar) -> str:
    holiday = calendar.holiday_name(day)
    if holiday:
        return f"{day:%b} {day.day} is {holiday}"
    return f"{day:%b} {day.day} is a {day:%A}"


@dataclass(frozen=True)
class DueDateExplanation:
    due: date
    steps: list[str] = field(default_factory=list)  # the computation, one sentence a step
    adjustment: str = ""  # "moved to Friday Mar 29: Mar 31 is a Sunday", when it moved


def _compute(
    work_type: WorkType,
    *,
    calendar: BusinessCalendar,
    period_end: date | None,
    event_date: date | None,
    explain: bool,
) -> DueDateExplanation:
    """The firm's internal deadline for one engagement of ``work_type``.

    1. Find the basis date: the statutory date after the period, the period end
       plus its offset in business days, or the event date (payroll run, session).
    2. Subtract the buffer in its unit (business days, calendar days, or hours
       rounded up to whole business days).
    3. Land on a business day, moving earlier, never later.
    """
    steps: list[str] = []
    basis = work_type.deadline_basis
    if basis == DeadlineBasis.STATUTORY_DATE:
        if period_end is None:
            raise DeadlineRuleError(f"{work_type.code}: a statutory deadline needs the period end.")
        base = statutory_date_for(work_type, period_end=period_end)
        if explain:
            steps.append(
                f"Statutory deadline {day_text(base)}: the first {base:%b} {base.day} "
                f"after the period ends on {day_text(period_end)}."
            )
    elif basis == DeadlineBasis.PERIOD_END:
        if period_end is None:
            raise DeadlineRuleError(
                f"{work_type.code}: a period-end deadline needs the period end."
            )
        offset = work_type.period_end_offset_business_days
        base = calendar.add_business_days(period_end, offset)
        if explain:
            if offset:
                steps.append(
                    f"{counted(offset, 'business day')} after the period ends on "
                    f"{day_text(period_end)}: {day_text(base)}."
                )
            else:
                steps.append(f"The period ends on {day_text(period_end)}.")
    elif basis == DeadlineBasis.EVENT_DATE:
        if event_date is None:
            raise DeadlineRuleError(f"{work_type.code}: this deadline needs the event date.")
        base = event_date
        if explain:
            steps.append(f"The event is on {day_text(base)}.")
    else:
        raise DeadlineRuleError(f"{work_type.code}: the deadline is set per engagement.")

    buffer = work_type.deadline_buffer
    unit = work_type.deadline_buffer_unit
    if unit == BufferUnit.CALENDAR_DAYS:
        due = base - timedelta(days=buffer)
        said = counted(buffer, "calendar day")
    elif unit == BufferUnit.HOURS:
        whole_days = (buffer + 23) // 24
        due = calendar.add_business_days(base, -whole_days) if buffer else base
        said = f"{counted(buffer, 'hour')} (rounded up to {counted(whole_days, 'business day')})"
    else:
        due = calendar.add_business_days(base, -buffer) if buffer else base
        said = counted(buffer, "business day")
    if explain and buffer:
        steps.append(f"The firm's buffer of {said} before it: {day_text(due)}.")
    landed = calendar.previous_business_day(due)
    adjustment = ""
    if explain and landed != due:
        adjustment = (
            f"moved to {landed:%A %b} {landed.day}: {_why_not_a_business_day(due, calendar)}"
        )
        steps.append(f"Not a business day, so {adjustment}.")
    return DueDateExplanation(due=landed, steps=steps, adjustment=adjustment)


def internal_due_date(
    work_type: WorkType,
    *,
    calendar: BusinessCalendar,
    period_end: date | None = None,
    event_date: date | None = None,
) -> date:
    """The firm's internal deadline for one engagement of ``work_type`` (see ``_compute``)."""
    return _compute(
        work_type, calendar=calendar, period_end=period_end, event_date=event_date, explain=False
    ).due


def due_date_explained(
    work_type: WorkType,
    *,
    calendar: BusinessCalendar,
    period_end: date | None = None,
    event_date: date | None = None,
) -> DueDateExplanation:
    """``internal_due_date`` with each step of the computation in words."""
    return _compute(
        work_type, calendar=calendar, period_end=period_end, event_date=event_date, explain=True
    )


def preparer_due_date(
    work_type: WorkType, *, due_date: date, today: date, calendar: BusinessCalendar
) -> date:
    """When preparation is due: ``REVIEW_LEAD_BUSINESS_DAYS`` before the engagement when
    a review follows (never before today, never after the engagement), else with it."""
    if not work_type.reviewer_required:
        return due_date
    lead = calendar.add_business_days(due_date, -REVIEW_LEAD_BUSINESS_DAYS)
    return min(max(today, lead), due_date)
