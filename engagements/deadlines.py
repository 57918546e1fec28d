"""Internal due dates from a work type's deadline rule (statutory date or period end, minus a buffer)."""

from __future__ import annotations

from datetime import date, timedelta

from core.calendar import BusinessCalendar
from core.exceptions import ApplicationError
from engagements.choices import BufferUnit, DeadlineBasis
from engagements.models import WorkType


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


def internal_due_date(
    work_type: WorkType,
    *,
    calendar: BusinessCalendar,
    period_end: date | None = None,
    event_date: date | None = None,
) -> date:
    """The firm's internal deadline for one engagement of ``work_type``.

    1. Find the basis date: the statutory date after the period, the period end
       plus its offset in business days, or the event date (payroll run, session).
    2. Subtract the buffer in its unit (business days, calendar days, or hours
       rounded up to whole business days).
    3. Land on a business day, moving earlier, never later.
    """
    basis = work_type.deadline_basis
    if basis == DeadlineBasis.STATUTORY_DATE:
        if period_end is None:
            raise DeadlineRuleError(f"{work_type.code}: a statutory deadline needs the period end.")
        base = statutory_date_for(work_type, period_end=period_end)
    elif basis == DeadlineBasis.PERIOD_END:
        if period_end is None:
            raise DeadlineRuleError(
                f"{work_type.code}: a period-end deadline needs the period end."
            )
        base = calendar.add_business_days(period_end, work_type.period_end_offset_business_days)
    elif basis == DeadlineBasis.EVENT_DATE:
        if event_date is None:
            raise DeadlineRuleError(f"{work_type.code}: this deadline needs the event date.")
        base = event_date
    else:
        raise DeadlineRuleError(f"{work_type.code}: the deadline is set per engagement.")

    buffer = work_type.deadline_buffer
    unit = work_type.deadline_buffer_unit
    if unit == BufferUnit.CALENDAR_DAYS:
        due = base - timedelta(days=buffer)
    elif unit == BufferUnit.HOURS:
        due = calendar.add_business_days(base, -((buffer + 23) // 24)) if buffer else base
    else:
        due = calendar.add_business_days(base, -buffer) if buffer else base
    return calendar.previous_business_day(due)
