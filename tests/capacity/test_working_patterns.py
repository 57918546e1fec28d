"""Working patterns by day in the ledger: hours per weekday, not one weekly figure
spread evenly (plain data, no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from capacity.ledger import (
    LoadProfile,
    OpenWork,
    StaffCalendar,
    WorkingPattern,
    committed_between,
    deadline_fit,
)

MONDAY = date(2026, 12, 7)
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = (
    MONDAY + timedelta(days=n) for n in range(1, 7)
)
WEEKDAYS = frozenset(range(5))
FOUR_TENS = WorkingPattern((10.0, 10.0, 10.0, 10.0, 0.0, 0.0, 0.0))
PART_TIME = WorkingPattern((8.0, 8.0, 8.0, 0.0, 0.0, 0.0, 0.0))


def person(*patterns: WorkingPattern, holidays: tuple[date, ...] = ()) -> StaffCalendar:
    return StaffCalendar(40.0, WEEKDAYS, frozenset(holidays), {}, patterns)


def test_four_tens_have_ten_hours_monday_to_thursday_and_none_on_friday():
    cal = person(FOUR_TENS)

    assert [cal.hours_on(MONDAY + timedelta(days=n)) for n in range(7)] == [
        10.0,
        10.0,
        10.0,
        10.0,
        0.0,
        0.0,
        0.0,
    ]
    assert cal.available(MONDAY, SUNDAY) == 40.0
    assert not cal.is_working_day(FRIDAY)


def test_work_spreads_in_proportion_to_each_days_hours():
    """A part-timer with a 4 h Friday takes half as much of a task on Friday as on Monday."""
    cal = person(WorkingPattern((8.0, 8.0, 8.0, 8.0, 4.0, 0.0, 0.0)))
    task = OpenWork(1, FRIDAY, 36.0)

    monday = committed_between(cal, [task], MONDAY, MONDAY, MONDAY)
    friday = committed_between(cal, [task], MONDAY, FRIDAY, FRIDAY)

    assert monday == pytest.approx(8.0)
    assert friday == pytest.approx(4.0)


def test_work_due_on_a_four_tens_friday_is_done_by_thursday():
    cal = person(FOUR_TENS)
    task = OpenWork(1, FRIDAY, 20.0)

    assert committed_between(cal, [task], MONDAY, FRIDAY, FRIDAY) == 0.0
    assert committed_between(cal, [task], MONDAY, THURSDAY, THURSDAY) == pytest.approx(5.0)


def test_busy_season_overtime_wins_over_the_usual_week_for_its_dates_only():
    season = WorkingPattern((10.0, 10.0, 10.0, 10.0, 10.0, 5.0, 0.0), MONDAY + timedelta(days=7))
    cal = person(PART_TIME, season)

    assert cal.available(MONDAY, SUNDAY) == 24.0  # part time this week
    next_week = MONDAY + timedelta(days=7)
    assert cal.available(next_week, next_week + timedelta(days=6)) == 55.0
    assert cal.hours_on(next_week + timedelta(days=5)) == 5.0  # the Saturday


def test_a_pattern_that_ended_gives_back_the_weekly_hours():
    ended = WorkingPattern(FOUR_TENS.day_hours, None, SUNDAY)
    cal = person(ended)

    next_friday = FRIDAY + timedelta(days=7)
    assert cal.hours_on(FRIDAY) == 0.0
    assert cal.hours_on(next_friday) == 8.0


def test_a_holiday_takes_that_days_hours_off():
    cal = person(FOUR_TENS, holidays=(THURSDAY,))

    assert cal.available(MONDAY, SUNDAY) == 30.0


def test_deadline_fit_sees_the_day_off_before_a_deadline():
    """30 h due Friday fits a 40 h weekly person; a four-tens person has 40 h by
    Thursday, a part-timer 24 h by Wednesday and none after: it breaks."""
    work = [OpenWork(1, FRIDAY, 30.0)]

    assert deadline_fit(StaffCalendar(40.0, WEEKDAYS), work, MONDAY).fits
    assert deadline_fit(person(FOUR_TENS), work, MONDAY).fits
    broken = deadline_fit(person(PART_TIME), work, MONDAY)
    assert not broken.fits
    assert broken.hours_available == 24.0


def test_the_load_profile_reads_the_pattern_in_o_log_n():
    cal = person(FOUR_TENS)
    profile = LoadProfile.build(cal, [OpenWork(1, THURSDAY, 20.0)], MONDAY)

    assert profile.available_week == 40.0
    assert profile.committed_through(TUESDAY) == pytest.approx(10.0)
    assert profile.free_through(THURSDAY) == pytest.approx(20.0)
