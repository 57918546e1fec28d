"""Effort factors (estimates that learn) in the engine and the planner, over plain data.

A person's effort factor for a work type is the median of their logged over estimated
hours (``capacity.estimates``): a task of that type takes them its weighted hours
times the factor, in the engine's figures and in the planner's options alike.

TODAY is a Monday; 40 h over Mon-Fri; work due this Friday lands in this week.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from capacity.selectors import remaining_weighted_hours
from dispatch.engine import Outcome, decide
from dispatch.engine.plan import build_plan, engine_greedy
from dispatch.engine.rules import evaluate
from tests.dispatch.engine.test_rules import FRIDAY, TODAY, busy, candidate, task

BOOKKEEPING, PAYROLL = 7, 8


def fast_and_slow():
    """Both half busy this week; Fast takes half the estimate on bookkeeping, Slow twice it."""
    fast = replace(candidate(1, name="Fast", open_work=(busy(20),)), effort={BOOKKEEPING: 0.5})
    slow = replace(candidate(2, name="Slow", open_work=(busy(20),)), effort={BOOKKEEPING: 2.0})
    return fast, slow


def test_a_faster_person_has_room_a_plain_estimate_would_deny():
    fast, slow = fast_and_slow()
    work = task(estimated_hours=16.0, due_date=FRIDAY, work_type_id=BOOKKEEPING)

    decision = decide(work, (fast, slow), TODAY)

    assert decision.outcome is Outcome.ASSIGNED
    assert decision.assignee_id == fast.staff_id
    rows = {row.staff_id: row for row in decision.candidates}
    # Fast: 20 h + 16 h x 0.5 = 28 of 40 h (70 %); Slow: 20 + 32 = 52 of 40 h (130 %).
    assert rows[fast.staff_id].task_week == pytest.approx(8.0)
    assert rows[fast.staff_id].utilization_after == pytest.approx(0.7)
    assert rows[slow.staff_id].utilization_after == pytest.approx(1.3)
    assert not rows[slow.staff_id].kept
    # Without the factors both would be at 90 %, past their 80 %: an escalation.
    plain = decide(work, (replace(fast, effort={}), replace(slow, effort={})), TODAY)
    assert plain.outcome is Outcome.ESCALATED


def test_a_factor_counts_only_for_its_own_work_type():
    fast, slow = fast_and_slow()
    work = task(estimated_hours=8.0, due_date=FRIDAY, work_type_id=PAYROLL)

    rows = {row.staff_id: row for row in decide(work, (fast, slow), TODAY).candidates}

    assert rows[fast.staff_id].task_week == pytest.approx(8.0)
    assert rows[slow.staff_id].task_week == pytest.approx(8.0)


def test_the_hours_needed_before_the_due_date_are_the_persons_own():
    _, slow = fast_and_slow()
    # Due tomorrow: 16 h free today and tomorrow, minus the 20 h due Friday spread
    # over the week (8 h of it by tomorrow) leaves 8 h; 5 h takes Slow 10 h.
    work = task(
        estimated_hours=5.0,
        due_date=TODAY + timedelta(days=1),
        work_type_id=BOOKKEEPING,
        threshold_override=5.0,
    )

    row = evaluate(work, slow, TODAY)

    assert not row.kept
    assert "10.0 h needed" in row.reason


def test_the_planners_options_take_each_person_their_own_hours():
    fast, slow = fast_and_slow()
    work = task(task_id=11, estimated_hours=8.0, due_date=FRIDAY, work_type_id=BOOKKEEPING)
    people = {fast.staff_id: fast, slow.staff_id: slow}

    plan = build_plan([work], lambda spec: [1, 2], people, TODAY)

    (planned,) = plan.problem.tasks
    hours = {option.staff_id: option.hours for option in planned.options}
    assert hours == {fast.staff_id: pytest.approx(4.0), slow.staff_id: pytest.approx(16.0)}
    # Their week's share (all of it lands this week) and so their utilization with it.
    assert plan.week_load[(11, fast.staff_id)] == pytest.approx(4.0)
    assert plan.week_load[(11, slow.staff_id)] == pytest.approx(16.0)
    assert plan.utilization({11: fast.staff_id})[fast.staff_id] == pytest.approx(0.6)


def test_the_engines_one_by_one_greedy_books_the_persons_own_hours():
    fast, _ = fast_and_slow()
    first = task(task_id=21, estimated_hours=16.0, due_date=FRIDAY, work_type_id=BOOKKEEPING)
    second = replace(first, task_id=22)
    # Fast takes the first at 8 h (28 of 40 h), then the second at 8 h more (36 of 40 h,
    # 90 %): past 80 %, so the second waits for a manager.
    answer = engine_greedy([first, second], lambda spec: [1], {1: fast}, TODAY)

    assert answer == {21: fast.staff_id, 22: None}


def test_held_work_is_what_is_left_of_the_persons_own_hours():
    # 10 h estimated, 2 h logged, weight 1.5: 12 h left; at half the effort, 4.5 h.
    assert remaining_weighted_hours(Decimal("10"), Decimal("1.5"), Decimal("2"), 0.5) == 4.5
    assert remaining_weighted_hours(Decimal("10"), Decimal("1.5"), Decimal("2")) == 12.0
