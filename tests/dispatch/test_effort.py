"""Estimates that learn reach dispatch: a person's effort factor for a work type (their
median logged over estimated hours, ``capacity.estimates``) is the hours its tasks take
them, for the task being placed and for the work they already hold."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from capacity.estimates import effort_factors_cached
from capacity.heatmap import SPAN_WEEKS, HeatmapFilters, Reach, capacity_heatmap
from capacity.selectors import staff_loads
from dispatch.choices import DecisionOutcome
from dispatch.planning import firm_work
from engagements.choices import TaskStatus
from engagements.models import WorkType
from tests.dispatch.test_services import bookkeeping, dispatch, load_up, preparer_of
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)  # test_services' day
FRIDAY = date(2026, 11, 27)


def logged_at_half_the_estimate(member) -> None:
    """Five completed bookkeeping tasks logged at half their estimate: factor 0.5."""
    work_type = WorkType.objects.get(code="monthly_bookkeeping")
    for _ in range(5):
        TaskFactory(
            engagement__work_type=work_type,
            assignee=member,
            status=TaskStatus.COMPLETED,
            completed_at=timezone.make_aware(datetime(2026, 11, 2, 12)),
            estimated_hours=Decimal("10"),
            logged_hours=Decimal("5"),
        )


def test_a_faster_person_takes_the_work_a_plain_estimate_would_escalate(skilled, client_co):
    fast, slow = skilled("fast", "bookkeeping"), skilled("slow", "bookkeeping")
    logged_at_half_the_estimate(fast)
    for member in (fast, slow):
        load_up(member, "40", FRIDAY)  # x 0.8: 32 weighted hours this week (Thanksgiving's)
    task = preparer_of(bookkeeping(client_co))

    decision = dispatch(task)

    assert decision is not None and decision.outcome == DecisionOutcome.ASSIGNED
    assert decision.assignee_id == fast.pk
    rows = {row["staff_id"]: row for row in decision.candidates}
    # Fast's held work and the new task both count at half the hours.
    assert rows[fast.pk]["committed_week"] == pytest.approx(rows[slow.pk]["committed_week"] / 2)
    assert rows[fast.pk]["task_week"] == pytest.approx(rows[slow.pk]["task_week"] / 2)
    assert not rows[slow.pk]["kept"]


def test_the_planners_snapshots_hold_the_same_factors(skilled, client_co):
    fast = skilled("fast", "bookkeeping")
    logged_at_half_the_estimate(fast)
    held = load_up(fast, "10", FRIDAY)
    bookkeeping_id = WorkType.objects.get(code="monthly_bookkeeping").pk

    firm = firm_work(today=TODAY)

    assert effort_factors_cached(today=TODAY)[fast.pk] == {bookkeeping_id: 0.5}
    assert firm.snapshots[fast.pk].effort == {bookkeeping_id: 0.5}
    (work,) = firm.snapshots[fast.pk].open_work
    assert work.task_id == held.pk
    assert work.hours == pytest.approx(10 * 0.5 * 0.8)  # estimate x effort x weight


def test_the_factors_are_read_once_and_kept(skilled, django_assert_num_queries):
    fast = skilled("fast", "bookkeeping")
    logged_at_half_the_estimate(fast)

    with django_assert_num_queries(1):
        effort_factors_cached(today=TODAY)
    with django_assert_num_queries(0):
        factors = effort_factors_cached(today=TODAY)

    assert list(factors) == [fast.pk]


def test_the_capacity_pages_count_the_hours_dispatch_counts(skilled, client_co):
    """The heatmap, the capacity figures on the pages and the deadline check read a
    faster person's held work at their pace, as the engine does: otherwise a page
    shows someone over their threshold whom dispatch just placed with room."""
    fast, slow = skilled("fast", "bookkeeping"), skilled("slow", "bookkeeping")
    logged_at_half_the_estimate(fast)
    for member in (fast, slow):
        load_up(member, "20", FRIDAY)

    loads = staff_loads(today=TODAY)
    heatmap = capacity_heatmap(
        reach=Reach(fast.pk, sees_others=False, starts_with_firm=False),
        filters=HeatmapFilters(),
        span=SPAN_WEEKS,
        today=TODAY,
    )
    decision = dispatch(preparer_of(bookkeeping(client_co)))

    assert loads[fast.pk].committed_week == pytest.approx(20 * 0.5 * 0.8)
    assert loads[slow.pk].committed_week == pytest.approx(20 * 0.8)
    (row,) = heatmap.rows
    assert row.cells[0].committed == pytest.approx(20 * 0.5 * 0.8)
    assert decision is not None
    engine_rows = {row["staff_id"]: row for row in decision.candidates}
    for member in (fast, slow):
        assert engine_rows[member.pk]["committed_week"] == pytest.approx(
            loads[member.pk].committed_week, abs=0.001
        )
