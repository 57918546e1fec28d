"""The O(open work) ledger agrees with the day-by-day reference on any calendar and work.

``reference_ledger`` is the ledger as first written, walking every day; the live
ledger counts by weekly pattern and bisection. Hypothesis draws calendars (part
time, odd working days, holidays, time off, some on weekends or larger than a
day, working patterns by weekday over some dates or always, overlapping) and open work (overdue, due today, due months ahead) and checks every
figure dispatch reads: available hours, committed hours in a window,
utilization window and deadline fit.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capacity import ledger
from tests.capacity import reference_ledger as reference

BASE = date(2026, 1, 5)  # a Monday
days = st.integers(min_value=-30, max_value=200).map(lambda n: BASE + timedelta(days=n))
hours = st.integers(min_value=0, max_value=8000).map(lambda n: n / 100)


@st.composite
def calendars(draw):
    working_days = draw(st.frozensets(st.integers(0, 6), min_size=0, max_size=7))
    weekly = draw(st.integers(min_value=0, max_value=8000)) / 100
    holidays = draw(st.frozensets(days, max_size=12))
    time_off = draw(st.dictionaries(days, hours.map(lambda h: h / 4), max_size=12))
    patterns = tuple(draw(st.lists(working_patterns(), max_size=3)))
    return weekly, working_days, holidays, time_off, patterns


day_hours = st.integers(min_value=0, max_value=1200).map(lambda n: n / 100)


@st.composite
def working_patterns(draw):
    """Hours per weekday (some days off), always or over some dates."""
    week = tuple(draw(st.one_of(st.just(0.0), day_hours)) for _ in range(7))
    start = draw(st.none() | days)
    end = draw(st.none() | days)
    if start is not None and end is not None and end < start:
        start, end = end, start
    return week, start, end


@st.composite
def open_work(draw):
    items = draw(st.lists(st.tuples(days, hours), max_size=15))
    return [(index, due, h) for index, (due, h) in enumerate(items)]


def both(spec):
    weekly, working_days, holidays, time_off, patterns = spec
    return (
        ledger.StaffCalendar(
            weekly,
            working_days,
            holidays,
            time_off,
            tuple(ledger.WorkingPattern(*p) for p in patterns),
        ),
        reference.StaffCalendar(
            weekly,
            working_days,
            holidays,
            time_off,
            tuple(reference.WorkingPattern(*p) for p in patterns),
        ),
    )


def work_for(module, items):
    return [module.OpenWork(task_id=i, due_date=due, hours=h) for i, due, h in items]


@settings(max_examples=300, deadline=None)
@given(calendars(), days, st.integers(min_value=0, max_value=120))
def test_available_hours_agree(spec, start, span):
    fast, slow = both(spec)
    end = start + timedelta(days=span)

    assert fast.available(start, end) == pytest.approx(slow.available(start, end), abs=1e-6)
    assert fast.hours_on(start) == pytest.approx(slow.hours_on(start), abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(calendars(), open_work(), days, days, st.integers(min_value=0, max_value=60))
def test_committed_hours_in_any_window_agree(spec, items, today, start, span):
    fast, slow = both(spec)
    end = start + timedelta(days=span)

    got = ledger.committed_between(fast, work_for(ledger, items), today, start, end)
    expected = reference.committed_between(slow, work_for(reference, items), today, start, end)

    assert got == pytest.approx(expected, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(calendars(), days)
def test_utilization_window_agrees(spec, today):
    fast, slow = both(spec)

    assert ledger.utilization_window(fast, today) == reference.utilization_window(slow, today)


@settings(max_examples=300, deadline=None)
@given(calendars(), open_work(), days, st.none() | st.tuples(days, hours))
def test_deadline_fit_agrees(spec, items, today, extra):
    fast, slow = both(spec)
    extra_fast = ledger.OpenWork(-1, *extra) if extra else None
    extra_slow = reference.OpenWork(-1, *extra) if extra else None

    got = ledger.deadline_fit(fast, work_for(ledger, items), today, extra_fast)
    expected = reference.deadline_fit(slow, work_for(reference, items), today, extra_slow)

    # A deadline exactly on the edge may tip either way by float rounding in the
    # reference; away from the edge the verdict and the figures must agree.
    if abs(expected.hours_due - expected.hours_available) > 1e-6 or expected.fits:
        assert got.fits == expected.fits
        assert got.broken_deadline == expected.broken_deadline
    assert got.hours_due == pytest.approx(expected.hours_due, abs=1e-6)
    if got.broken_deadline == expected.broken_deadline:
        assert got.hours_available == pytest.approx(expected.hours_available, abs=1e-6)


def test_a_due_date_in_year_9999_is_answered_at_once():
    """The day-by-day ledger took 85 s on this; the live one answers in microseconds."""
    cal = ledger.StaffCalendar(40.0, frozenset(range(5)), frozenset({BASE}), {BASE: 4.0})
    far = ledger.OpenWork(1, date(9999, 12, 31), 1000.0)

    fit = ledger.deadline_fit(cal, [far], BASE)
    committed = ledger.committed_between(cal, [far], BASE, BASE, BASE + timedelta(days=6))

    assert fit.fits
    assert 0 < committed < 0.01


@settings(max_examples=300, deadline=None)
@given(calendars(), open_work(), days, st.integers(min_value=-5, max_value=120))
def test_a_load_profile_reads_the_same_figures_as_the_reference(spec, items, today, span):
    """The per-person profile the engine reads (built once, then O(log n) per task)
    gives the committed and free hours, and this week's figures, of the day-by-day walk."""
    fast, slow = both(spec)
    day = today + timedelta(days=span)
    profile = ledger.LoadProfile.build(fast, work_for(ledger, items), today)
    slow_work = work_for(reference, items)

    expected_committed = (
        reference.committed_between(slow, slow_work, today, today, day) if span >= 0 else 0.0
    )
    assert profile.committed_through(day) == pytest.approx(expected_committed, abs=1e-6)
    if span >= 0:
        expected_free = slow.available(today, day) - expected_committed
        assert profile.free_through(day) == pytest.approx(expected_free, abs=1e-6)
    window = reference.utilization_window(slow, today)
    assert profile.window == window
    assert profile.available_week == pytest.approx(slow.available(*window), abs=1e-6)
    assert profile.committed_week == pytest.approx(
        reference.committed_between(slow, slow_work, today, *window), abs=1e-6
    )
