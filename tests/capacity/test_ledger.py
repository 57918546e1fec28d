"""Capacity arithmetic over plain data: no database, no clock."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from capacity.ledger import (
    LoadProfile,
    OpenWork,
    StaffCalendar,
    committed_between,
    deadline_fit,
    utilization,
    utilization_window,
    week_bounds,
)

MONDAY = date(2025, 3, 3)
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = (
    MONDAY + timedelta(days=n) for n in range(1, 7)
)
NEXT_MONDAY = MONDAY + timedelta(days=7)
WEEKDAYS = frozenset(range(5))


def calendar(
    weekly_hours: float = 40.0,
    *,
    working_days: frozenset[int] = WEEKDAYS,
    holidays: tuple[date, ...] = (),
    time_off: dict[date, float] | None = None,
) -> StaffCalendar:
    return StaffCalendar(
        weekly_hours=weekly_hours,
        working_days=working_days,
        holidays=frozenset(holidays),
        time_off=time_off or {},
    )


def work(hours: float, due: date, task_id: int = 1) -> OpenWork:
    return OpenWork(task_id=task_id, due_date=due, hours=hours)


def spread(cal: StaffCalendar, item: OpenWork, today: date) -> dict[date, float]:
    """Where ``item``'s hours fall, day by day, read through ``committed_between``."""
    first = min(today, item.due_date)
    days = (max(today, item.due_date) - first).days + 15
    result = {}
    for offset in range(days):
        day = first + timedelta(days=offset)
        hours = committed_between(cal, [item], today, day, day)
        if hours:
            result[day] = hours
    return result


# --- hours_on / is_working_day -------------------------------------------------------------


def test_hours_on_working_day_is_weekly_capacity_over_working_days():
    cal = calendar(40.0)

    assert cal.hours_on(MONDAY) == 8.0
    assert cal.hours_on(FRIDAY) == 8.0


def test_hours_on_four_day_week_spreads_over_four_days():
    cal = calendar(32.0, working_days=frozenset({0, 1, 2, 3}))

    assert cal.hours_on(THURSDAY) == 8.0
    assert cal.hours_on(FRIDAY) == 0.0


def test_hours_on_weekend_is_zero():
    cal = calendar(40.0)

    assert cal.hours_on(SATURDAY) == 0.0
    assert cal.hours_on(SUNDAY) == 0.0


def test_hours_on_holiday_is_zero_even_with_time_off_recorded():
    cal = calendar(40.0, holidays=(WEDNESDAY,), time_off={WEDNESDAY: 2.0})

    assert cal.hours_on(WEDNESDAY) == 0.0
    assert cal.hours_on(THURSDAY) == 8.0


def test_hours_on_partial_time_off_subtracts_hours():
    cal = calendar(40.0, time_off={TUESDAY: 3.0})

    assert cal.hours_on(TUESDAY) == 5.0


def test_hours_on_full_day_time_off_is_zero():
    cal = calendar(40.0, time_off={TUESDAY: 8.0})

    assert cal.hours_on(TUESDAY) == 0.0


def test_hours_on_time_off_beyond_the_day_is_never_negative():
    cal = calendar(40.0, time_off={TUESDAY: 12.0})

    assert cal.hours_on(TUESDAY) == 0.0


def test_hours_on_no_working_days_is_zero():
    cal = calendar(40.0, working_days=frozenset())

    assert cal.hours_on(MONDAY) == 0.0
    assert cal.available(MONDAY, SUNDAY) == 0.0


def test_is_working_day_excludes_weekends_and_holidays_not_time_off():
    cal = calendar(40.0, holidays=(WEDNESDAY,), time_off={THURSDAY: 8.0})

    assert cal.is_working_day(MONDAY)
    assert not cal.is_working_day(WEDNESDAY)
    assert not cal.is_working_day(SATURDAY)
    assert cal.is_working_day(THURSDAY)


# --- available -----------------------------------------------------------------------------


def test_available_full_week_is_weekly_capacity():
    cal = calendar(37.5)

    assert cal.available(MONDAY, SUNDAY) == pytest.approx(37.5)


def test_available_includes_both_ends():
    cal = calendar(40.0)

    assert cal.available(TUESDAY, THURSDAY) == 24.0
    assert cal.available(MONDAY, MONDAY) == 8.0


def test_available_subtracts_holidays_and_time_off():
    cal = calendar(40.0, holidays=(WEDNESDAY,), time_off={THURSDAY: 4.0})

    assert cal.available(MONDAY, FRIDAY) == 28.0


def test_available_across_a_weekend_counts_only_working_days():
    cal = calendar(40.0)

    assert cal.available(THURSDAY, NEXT_MONDAY + timedelta(days=1)) == 32.0


def test_available_end_before_start_is_zero():
    cal = calendar(40.0)

    assert cal.available(FRIDAY, MONDAY) == 0.0


# --- week_bounds ---------------------------------------------------------------------------


@pytest.mark.parametrize("today", [MONDAY, WEDNESDAY, SUNDAY])
def test_week_bounds_monday_to_sunday(today):
    assert week_bounds(today) == (MONDAY, SUNDAY)


def test_week_bounds_next_monday_starts_a_new_week():
    assert week_bounds(NEXT_MONDAY) == (NEXT_MONDAY, NEXT_MONDAY + timedelta(days=6))


# --- spread --------------------------------------------------------------------------------


def test_spread_evenly_over_working_days_to_due_date():
    cal = calendar(40.0)

    result = spread(cal, work(10.0, FRIDAY), MONDAY)

    assert result == {d: 2.0 for d in (MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY)}


def test_spread_skips_weekends():
    cal = calendar(40.0)
    next_tuesday = NEXT_MONDAY + timedelta(days=1)

    result = spread(cal, work(8.0, next_tuesday), THURSDAY)

    assert result == {THURSDAY: 2.0, FRIDAY: 2.0, NEXT_MONDAY: 2.0, next_tuesday: 2.0}


def test_spread_skips_holidays():
    cal = calendar(40.0, holidays=(TUESDAY, WEDNESDAY))

    result = spread(cal, work(9.0, FRIDAY), MONDAY)

    assert result == {MONDAY: 3.0, THURSDAY: 3.0, FRIDAY: 3.0}


def test_spread_still_uses_days_with_time_off():
    """Time off shrinks availability, not the days work is spread over."""
    cal = calendar(40.0, time_off={TUESDAY: 8.0})

    result = spread(cal, work(10.0, FRIDAY), MONDAY)

    assert result[TUESDAY] == 2.0
    assert sum(result.values()) == pytest.approx(10.0)


def test_spread_overdue_work_lands_on_today():
    cal = calendar(40.0)

    result = spread(cal, work(12.0, MONDAY - timedelta(days=3)), WEDNESDAY)

    assert result == {WEDNESDAY: 12.0}


def test_spread_due_today_lands_on_today():
    cal = calendar(40.0)

    result = spread(cal, work(5.0, WEDNESDAY), WEDNESDAY)

    assert result == {WEDNESDAY: 5.0}


def test_spread_due_before_next_working_day_lands_on_next_working_day():
    """On a weekend, late work lands on Monday: a day with no hours would make utilization infinite."""
    cal = calendar(40.0)

    result = spread(cal, work(6.0, SUNDAY), SATURDAY)

    assert result == {NEXT_MONDAY: 6.0}


def test_spread_from_a_weekend_starts_on_next_working_day():
    cal = calendar(40.0)

    result = spread(cal, work(6.0, NEXT_MONDAY + timedelta(days=1)), SATURDAY)

    assert result == {NEXT_MONDAY: 3.0, NEXT_MONDAY + timedelta(days=1): 3.0}


def test_spread_preserves_total_hours():
    cal = calendar(37.5, holidays=(THURSDAY,))

    result = spread(cal, work(17.0, MONDAY + timedelta(days=20)), TUESDAY)

    assert sum(result.values()) == pytest.approx(17.0)
    assert THURSDAY not in result
    assert all(cal.is_working_day(d) for d in result)


# --- committed_between ---------------------------------------------------------------------


def test_committed_between_counts_only_the_window():
    cal = calendar(40.0)
    # 20 h over the ten working days Mon..next Fri: 2 h a day, 10 h this week.
    item = work(20.0, NEXT_MONDAY + timedelta(days=4))

    this_week = committed_between(cal, [item], MONDAY, MONDAY, SUNDAY)
    next_week = committed_between(cal, [item], MONDAY, NEXT_MONDAY, NEXT_MONDAY + timedelta(days=6))

    assert this_week == pytest.approx(10.0)
    assert next_week == pytest.approx(10.0)


def test_committed_between_sums_several_items():
    cal = calendar(40.0)
    items = [work(10.0, FRIDAY, 1), work(4.0, TUESDAY, 2), work(3.0, MONDAY - timedelta(days=5), 3)]

    result = committed_between(cal, items, MONDAY, MONDAY, SUNDAY)

    assert result == pytest.approx(17.0)


def test_committed_between_overdue_work_counts_on_today():
    cal = calendar(40.0)
    overdue = work(6.0, MONDAY - timedelta(days=10))

    assert committed_between(cal, [overdue], WEDNESDAY, WEDNESDAY, WEDNESDAY) == 6.0
    assert committed_between(cal, [overdue], WEDNESDAY, THURSDAY, SUNDAY) == 0.0


def test_committed_between_window_outside_the_spread_is_zero():
    cal = calendar(40.0)

    result = committed_between(cal, [work(10.0, FRIDAY)], MONDAY, NEXT_MONDAY, NEXT_MONDAY)

    assert result == 0.0


def test_committed_between_no_work_is_zero():
    assert committed_between(calendar(), [], MONDAY, MONDAY, SUNDAY) == 0.0


# --- utilization ---------------------------------------------------------------------------


def test_utilization_is_committed_over_available():
    assert utilization(30.0, 40.0) == 0.75


def test_utilization_can_exceed_one():
    assert utilization(50.0, 40.0) == 1.25


def test_utilization_zero_available_and_nothing_committed_is_zero():
    assert utilization(0.0, 0.0) == 0.0


def test_utilization_zero_available_with_work_is_infinite():
    assert math.isinf(utilization(1.0, 0.0))


# --- deadline_fit --------------------------------------------------------------------------


def test_deadline_fit_no_work_fits():
    result = deadline_fit(calendar(), [], MONDAY)

    assert result.fits
    assert result.broken_deadline is None
    assert result.shortfall == 0.0


def test_deadline_fit_with_slack_fits():
    cal = calendar(40.0)
    existing = [work(10.0, TUESDAY, 1), work(12.0, THURSDAY, 2)]

    result = deadline_fit(cal, existing, MONDAY, extra=work(8.0, FRIDAY, 3))

    assert result.fits
    assert result.hours_due == 30.0
    assert result.hours_available == 40.0


def test_deadline_fit_exactly_full_fits():
    cal = calendar(40.0)

    result = deadline_fit(cal, [work(16.0, TUESDAY, 1)], MONDAY, extra=work(24.0, FRIDAY, 2))

    assert result.fits


def test_deadline_fit_breaks_at_the_first_deadline_that_overflows():
    cal = calendar(40.0)
    existing = [work(10.0, TUESDAY, 1), work(20.0, WEDNESDAY, 2), work(30.0, FRIDAY, 3)]

    result = deadline_fit(cal, existing, MONDAY)

    assert not result.fits
    assert result.broken_deadline == WEDNESDAY
    assert result.hours_due == 30.0
    assert result.hours_available == 24.0
    assert result.shortfall == 6.0


def test_deadline_fit_sums_work_sharing_a_deadline():
    cal = calendar(40.0)

    result = deadline_fit(cal, [work(10.0, TUESDAY, 1), work(7.0, TUESDAY, 2)], MONDAY)

    assert not result.fits
    assert result.broken_deadline == TUESDAY
    assert result.hours_due == 17.0
    assert result.hours_available == 16.0
    assert result.shortfall == pytest.approx(1.0)


def test_deadline_fit_new_task_fits_only_if_due_later():
    cal = calendar(40.0)
    existing = [work(20.0, WEDNESDAY, 1)]

    due_wednesday = deadline_fit(cal, existing, MONDAY, extra=work(10.0, WEDNESDAY, 2))
    due_friday = deadline_fit(cal, existing, MONDAY, extra=work(10.0, FRIDAY, 2))

    assert not due_wednesday.fits
    assert due_wednesday.broken_deadline == WEDNESDAY
    assert due_wednesday.shortfall == 6.0
    assert due_friday.fits


def test_deadline_fit_early_new_task_breaks_a_later_existing_deadline():
    cal = calendar(40.0)
    existing = [work(35.0, FRIDAY, 1)]

    small = deadline_fit(cal, existing, MONDAY, extra=work(4.0, TUESDAY, 2))
    large = deadline_fit(cal, existing, MONDAY, extra=work(6.0, TUESDAY, 2))

    assert small.fits
    assert not large.fits
    assert large.broken_deadline == FRIDAY
    assert large.hours_due == 41.0
    assert large.hours_available == 40.0


def test_deadline_fit_new_task_due_today_uses_todays_hours():
    cal = calendar(40.0)

    fits = deadline_fit(cal, [], MONDAY, extra=work(8.0, MONDAY))
    breaks = deadline_fit(cal, [], MONDAY, extra=work(9.0, MONDAY))

    assert fits.fits
    assert not breaks.fits
    assert breaks.broken_deadline == MONDAY
    assert breaks.hours_available == 8.0


def test_deadline_fit_overdue_new_task_counts_as_due_today():
    cal = calendar(40.0)

    result = deadline_fit(cal, [], WEDNESDAY, extra=work(9.0, MONDAY))

    assert not result.fits
    assert result.broken_deadline == WEDNESDAY


def test_deadline_fit_overdue_existing_work_alone_does_not_break():
    cal = calendar(40.0)

    result = deadline_fit(cal, [work(20.0, MONDAY - timedelta(days=3))], MONDAY)

    assert result.fits


def test_deadline_fit_overdue_existing_work_does_not_break_a_later_new_task():
    cal = calendar(40.0)
    overdue = [work(20.0, MONDAY - timedelta(days=3), 1)]

    result = deadline_fit(cal, overdue, MONDAY, extra=work(10.0, FRIDAY, 2))

    assert result.fits
    assert result.hours_due == 30.0


def test_deadline_fit_overdue_hours_can_push_a_later_deadline_over():
    cal = calendar(40.0)
    overdue = [work(20.0, MONDAY - timedelta(days=3), 1)]

    result = deadline_fit(cal, overdue, MONDAY, extra=work(25.0, FRIDAY, 2))

    assert not result.fits
    assert result.broken_deadline == FRIDAY
    assert result.hours_due == 45.0
    assert result.hours_available == 40.0
    assert result.shortfall == 5.0


def test_deadline_fit_overdue_work_breaks_a_new_task_due_today():
    """Overdue work is the earliest deadline: it comes before anything due today."""
    cal = calendar(40.0)
    overdue = [work(4.0, MONDAY - timedelta(days=3), 1)]

    result = deadline_fit(cal, overdue, MONDAY, extra=work(5.0, MONDAY, 2))

    assert not result.fits
    assert result.broken_deadline == MONDAY
    assert result.hours_due == 9.0


def test_deadline_fit_holiday_reduces_fit():
    existing = [work(5.0, TUESDAY, 1)]
    extra = work(30.0, FRIDAY, 2)

    plain = deadline_fit(calendar(40.0), existing, MONDAY, extra=extra)
    with_holiday = deadline_fit(
        calendar(40.0, holidays=(WEDNESDAY,)), existing, MONDAY, extra=extra
    )

    assert plain.fits
    assert not with_holiday.fits
    assert with_holiday.broken_deadline == FRIDAY
    assert with_holiday.hours_available == 32.0
    assert with_holiday.shortfall == 3.0


def test_deadline_fit_time_off_reduces_fit():
    extra = work(14.0, TUESDAY)

    plain = deadline_fit(calendar(40.0), [], MONDAY, extra=extra)
    with_time_off = deadline_fit(calendar(40.0, time_off={MONDAY: 4.0}), [], MONDAY, extra=extra)

    assert plain.fits
    assert not with_time_off.fits
    assert with_time_off.hours_available == 12.0
    assert with_time_off.shortfall == 2.0


def test_deadline_fit_weekend_deadline_counts_hours_through_friday():
    cal = calendar(40.0)

    fits = deadline_fit(cal, [], MONDAY, extra=work(40.0, SUNDAY))
    breaks = deadline_fit(cal, [], MONDAY, extra=work(41.0, SUNDAY))

    assert fits.fits
    assert not breaks.fits
    assert breaks.broken_deadline == SUNDAY
    assert breaks.hours_available == 40.0


def test_utilization_window_skips_a_weekend_and_a_week_off():
    cal = calendar(40.0)
    away = StaffCalendar(
        weekly_hours=40.0,
        working_days=frozenset(range(5)),
        time_off={MONDAY + timedelta(days=n): 8.0 for n in range(5)},
    )

    assert utilization_window(cal, MONDAY) == (MONDAY, MONDAY + timedelta(days=6))
    assert utilization_window(cal, SATURDAY) == (NEXT_MONDAY, NEXT_MONDAY + timedelta(days=6))
    assert utilization_window(away, MONDAY) == (NEXT_MONDAY, NEXT_MONDAY + timedelta(days=6))


def test_room_from_is_the_most_new_work_due_that_day_that_still_fits():
    # 40 h a week, Mon-Fri; 20 h due Wednesday and 30 h due the Friday after, from a Monday.
    monday = date(2026, 11, 9)
    calendar = StaffCalendar(40.0, frozenset(range(5)))
    work = (
        OpenWork(task_id=1, due_date=monday + timedelta(days=2), hours=20.0),
        OpenWork(task_id=2, due_date=monday + timedelta(days=11), hours=30.0),
    )
    profile = LoadProfile.build(calendar, work, monday)
    for day in (
        monday,
        monday + timedelta(days=2),
        monday + timedelta(days=4),
        monday + timedelta(days=20),
    ):
        room = profile.room_from(day)
        assert profile.deadline_fit(
            OpenWork(task_id=9, due_date=day, hours=max(room, 0) - 0.01)
        ).fits
        assert not profile.deadline_fit(OpenWork(task_id=9, due_date=day, hours=room + 0.01)).fits
    # Monday alone: 8 h available; the Wednesday work leaves 4 h of slack by then.
    assert profile.room_from(monday) == pytest.approx(4.0)
