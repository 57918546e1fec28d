"""The rules over a task's facts, in the one place dispatch, the planner and the demo ask."""

from __future__ import annotations

from datetime import date

import pytest

from capacity.ledger import StaffCalendar
from dispatch.engine import CandidateSnapshot, TaskToPlace
from dispatch.engine.eligibility import (
    eligibility_problem,
    requested_staff,
    seniority_floor,
    suppressed,
)
from dispatch.engine.ranking import rank_key

TODAY = date(2026, 12, 2)


def task(**facts) -> TaskToPlace:
    return TaskToPlace(
        task_id=1,
        role=facts.pop("role", "preparer"),
        client_id=1,
        due_date=TODAY,
        estimated_hours=2.0,
        **facts,
    )


def person(staff_id: int = 1, seniority: int = 2) -> CandidateSnapshot:
    return CandidateSnapshot(
        staff_id=staff_id,
        name=f"p{staff_id}",
        seniority=seniority,
        calendar=StaffCalendar(40.0, frozenset(range(5))),
    )


@pytest.mark.parametrize(
    ("role", "complexity", "expected"),
    [
        ("preparer", "low", 2),  # the client's floor only
        ("preparer", "medium", 2),
        ("preparer", "high", 3),  # the work type's floor joins on high complexity
        ("reviewer", "low", 4),  # reviewers: the reviewer floor, whatever the complexity
        ("reviewer", "high", 4),
    ],
)
def test_seniority_floor_follows_role_and_complexity(role, complexity, expected):
    facts = task(
        role=role,
        complexity=complexity,
        client_min_seniority=2,
        work_type_min_seniority=3,
        reviewer_min_seniority=4,
    )

    assert seniority_floor(facts) == expected


def test_no_floor_when_no_fact_sets_one():
    assert seniority_floor(task(complexity="high")) is None


def test_a_junior_may_prepare_ordinary_work_of_a_type_with_a_senior_floor():
    """The demo replay once applied the work type's floor to every preparer."""
    facts = task(complexity="medium", work_type_min_seniority=3)

    assert eligibility_problem(facts, person(seniority=1), TODAY) is None
    assert eligibility_problem(
        task(complexity="high", work_type_min_seniority=3), person(seniority=1), TODAY
    ) == ("seniority 1 < required 3")


def test_requested_is_the_engagements_request_then_the_clients_preferred_unless_declined():
    assert requested_staff(task(engagement_requested_staff_id=5, client_preferred_staff_id=6)) == 5
    assert requested_staff(task(client_preferred_staff_id=6)) == 6
    assert requested_staff(task(client_preferred_staff_id=6, request_declined=True)) is None


def test_suppression_needs_a_flagged_work_type_and_a_season_and_spares_urgent_work():
    assert suppressed(task(seasonal_work_type=True, season_suppresses=True))
    assert not suppressed(task(seasonal_work_type=True))
    assert not suppressed(task(season_suppresses=True))
    assert not suppressed(task(seasonal_work_type=True, season_suppresses=True, urgent=True))


def test_the_preparer_never_reviews_their_own_work():
    review = task(role="reviewer", preparer_id=1)

    assert eligibility_problem(review, person(1, seniority=5), TODAY) == (
        "prepared this work; cannot review it"
    )
    assert eligibility_problem(review, person(2, seniority=5), TODAY) is None


def test_ranking_puts_the_preferred_staffer_first_then_familiarity_then_junior_preparers():
    facts = task(client_preferred_staff_id=3)

    def key(staff_id, familiarity=0, seniority=2, free=10.0):
        return rank_key(
            facts, staff_id=staff_id, familiarity=familiarity, seniority=seniority, free_hours=free
        )

    order = sorted(
        [key(1, familiarity=4), key(2, seniority=1), key(3), key(4, free=30.0)],
        key=lambda k: k,
    )

    assert [k[-1] for k in order] == [3, 1, 2, 4]


def test_nobody_above_the_work_types_ceiling_takes_it_unless_the_client_asked_for_them():
    routine = task(max_seniority=5)
    partner = person(7, seniority=6)

    refused = eligibility_problem(routine, partner, TODAY)
    requested = eligibility_problem(
        task(max_seniority=5, engagement_requested_staff_id=7), partner, TODAY
    )

    assert refused == "over-qualified: seniority 6 > 5 for the preparer of this work"
    assert refused.label == "over-qualified (seniority above 5)"
    assert requested is None
    assert eligibility_problem(routine, person(8, seniority=5), TODAY) is None
