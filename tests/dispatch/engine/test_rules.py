"""The assignment rule, one behaviour at a time, over plain dataclasses (no database).

Arithmetic used below: TODAY is a Monday; the default calendar is 40 h over Mon-Fri
(8 h a day); ``busy(h)`` is h hours due this Friday, so it all lands in this week and
puts the person at h/40 before the task. The default task is 4 h due in four weeks
(twenty working days), which adds 1 h to this week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta

import pytest

from capacity.ledger import OpenWork, StaffCalendar
from dispatch.engine import (
    CandidateRow,
    CandidateSnapshot,
    Decision,
    HeldSkill,
    Outcome,
    SkillRequirement,
    TaskToPlace,
    decide,
)

TODAY = date(2025, 3, 3)  # Monday
TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = (TODAY + timedelta(days=n) for n in range(1, 5))
NEXT_MONDAY = TODAY + timedelta(days=7)
NEXT_FRIDAY = TODAY + timedelta(days=11)
IN_FOUR_WEEKS = TODAY + timedelta(days=25)  # a Friday
WEEKDAYS = frozenset(range(5))
TAX = {"tax": HeldSkill(level=3)}


def calendar(
    weekly_hours: float = 40.0,
    *,
    holidays: tuple[date, ...] = (),
    time_off: Mapping[date, float] | None = None,
) -> StaffCalendar:
    return StaffCalendar(
        weekly_hours=weekly_hours,
        working_days=WEEKDAYS,
        holidays=frozenset(holidays),
        time_off=dict(time_off or {}),
    )


def busy(hours: float, due: date = FRIDAY, task_id: int = 900) -> OpenWork:
    return OpenWork(task_id=task_id, due_date=due, hours=hours)


def candidate(
    staff_id: int,
    *,
    name: str | None = None,
    seniority: int = 2,
    skills: Mapping[str, HeldSkill] | None = None,
    open_work: tuple[OpenWork, ...] = (),
    threshold: float = 0.8,
    reviewer_threshold: float = 0.7,
    cal: StaffCalendar | None = None,
) -> CandidateSnapshot:
    return CandidateSnapshot(
        staff_id=staff_id,
        name=name or f"Staff {staff_id}",
        seniority=seniority,
        calendar=cal or calendar(),
        skills=TAX if skills is None else skills,
        open_work=open_work,
        threshold=threshold,
        reviewer_threshold=reviewer_threshold,
    )


def task(**overrides: object) -> TaskToPlace:
    fields: dict[str, object] = {
        "task_id": 100,
        "role": "preparer",
        "client_id": 7,
        "due_date": IN_FOUR_WEEKS,
        "estimated_hours": 4.0,
        "required_skills": (SkillRequirement("tax", 2),),
    }
    fields.update(overrides)
    return TaskToPlace(**fields)  # type: ignore[arg-type]


def row(decision: Decision, staff_id: int) -> CandidateRow:
    return next(r for r in decision.candidates if r.staff_id == staff_id)


# --- the happy path ------------------------------------------------------------------------


def test_decide_assigns_the_only_qualified_candidate():
    result = decide(task(), (candidate(1),), TODAY)

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 1
    assert result.reasons
    assert result.rule_path[-1] == "rank"
    assert not (result.over_threshold or result.urgent_override or result.requested_override)
    assert row(result, 1).kept
    assert row(result, 1).reason == "passes every rule"


def test_decide_row_reports_load_and_free_hours():
    result = decide(task(), (candidate(1, open_work=(busy(30.0),)),), TODAY)

    r = row(result, 1)
    assert r.utilization == pytest.approx(0.75)
    assert r.utilization_after == pytest.approx(0.775)
    assert r.threshold == 0.8
    assert r.available_before_deadline == pytest.approx(160.0 - 30.0)


def test_decide_weight_scales_the_estimate():
    weighted = task(estimated_hours=4.0, weight=2.5, due_date=FRIDAY)

    result = decide(weighted, (candidate(1),), TODAY)

    assert row(result, 1).utilization_after == pytest.approx(10.0 / 40.0)


# --- 1. skill match ------------------------------------------------------------------------


def test_skill_missing_drops_candidate():
    result = decide(task(), (candidate(1, skills={"audit": HeldSkill(3)}), candidate(2)), TODAY)

    assert result.assignee_id == 2
    assert not row(result, 1).qualified
    assert row(result, 1).reason == "lacks skill tax"


def test_skill_level_too_low_drops_candidate():
    result = decide(task(), (candidate(1, skills={"tax": HeldSkill(1)}), candidate(2)), TODAY)

    assert result.assignee_id == 2
    assert not row(result, 1).qualified
    assert row(result, 1).reason == "tax level 1 < required 2"


def test_skill_at_exactly_required_level_qualifies():
    result = decide(task(), (candidate(1, skills={"tax": HeldSkill(2)}),), TODAY)

    assert result.assignee_id == 1


def test_skill_certification_expired_drops_candidate():
    expired = {"tax": HeldSkill(3, certified_until=TODAY - timedelta(days=1))}

    result = decide(task(), (candidate(1, skills=expired), candidate(2)), TODAY)

    assert result.assignee_id == 2
    assert not row(result, 1).qualified
    assert row(result, 1).reason == "tax certification expired 2025-03-02"


@pytest.mark.parametrize("certified_until", [None, TODAY, TODAY + timedelta(days=90)])
def test_skill_certification_unexpired_qualifies(certified_until):
    held = {"tax": HeldSkill(3, certified_until=certified_until)}

    result = decide(task(), (candidate(1, skills=held),), TODAY)

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 1


def test_skill_every_requirement_must_be_met():
    needs_both = task(required_skills=(SkillRequirement("tax", 2), SkillRequirement("audit", 1)))
    both = {"tax": HeldSkill(2), "audit": HeldSkill(1)}

    result = decide(needs_both, (candidate(1), candidate(2, skills=both)), TODAY)

    assert result.assignee_id == 2
    assert row(result, 1).reason == "lacks skill audit"


def test_skill_none_required_everyone_qualifies():
    result = decide(task(required_skills=()), (candidate(1, skills={}),), TODAY)

    assert result.assignee_id == 1


def test_skill_nobody_skilled_escalates():
    result = decide(
        task(), (candidate(1, skills={}), candidate(2, skills={"tax": HeldSkill(1)})), TODAY
    )

    assert result.outcome is Outcome.ESCALATED
    assert result.assignee_id is None
    assert result.reasons[0] == "Nobody holds the required skills and seniority."
    assert result.deadline_gap_hours is None


# --- 2. seniority guardrail ----------------------------------------------------------------


def test_guardrail_drops_staff_below_min_seniority():
    result = decide(
        task(client_min_seniority=3), (candidate(1, seniority=2), candidate(2, seniority=3)), TODAY
    )

    assert result.assignee_id == 2
    assert not row(result, 1).qualified
    assert row(result, 1).reason == "seniority 2 < required 3"


def test_guardrail_nobody_senior_enough_escalates():
    result = decide(task(client_min_seniority=4), (candidate(1, seniority=3),), TODAY)

    assert result.outcome is Outcome.ESCALATED
    assert result.qualified == ()


# --- 3. reviewer rules ---------------------------------------------------------------------


def test_reviewer_never_the_preparer():
    review = task(role="reviewer", preparer_id=1)

    review = replace(review, client_history={1: 5})
    result = decide(review, (candidate(1), candidate(2)), TODAY)

    assert result.assignee_id == 2
    assert not row(result, 1).qualified
    assert row(result, 1).reason == "prepared this work; cannot review it"


def test_reviewer_only_the_preparer_escalates():
    result = decide(task(role="reviewer", preparer_id=1), (candidate(1),), TODAY)

    assert result.outcome is Outcome.ESCALATED


def test_preparer_task_may_go_to_the_preparer_id():
    result = decide(task(role="preparer", preparer_id=1), (candidate(1),), TODAY)

    assert result.assignee_id == 1


def test_reviewer_threshold_lower_than_preparer_threshold():
    at_75 = candidate(1, open_work=(busy(30.0),))  # 77.5 % with the task

    as_preparer = decide(task(role="preparer"), (at_75,), TODAY)
    as_reviewer = decide(task(role="reviewer"), (at_75,), TODAY)

    assert as_preparer.outcome is Outcome.ASSIGNED
    assert as_reviewer.outcome is Outcome.ESCALATED
    assert row(as_reviewer, 1).qualified
    assert row(as_reviewer, 1).threshold == 0.7
    assert row(as_reviewer, 1).reason == "utilization 78% after this task > threshold 70%"


def test_preparer_prefers_lowest_qualified_seniority():
    senior = candidate(1, seniority=4)
    junior = candidate(2, seniority=1, open_work=(busy(10.0),))

    result = decide(task(role="preparer"), (senior, junior), TODAY)

    assert result.assignee_id == 2


def test_reviewer_does_not_prefer_lowest_seniority():
    senior = candidate(1, seniority=4)
    junior = candidate(2, seniority=1, open_work=(busy(10.0),))

    result = decide(task(role="reviewer"), (senior, junior), TODAY)

    assert result.assignee_id == 1


# --- 4. capacity ---------------------------------------------------------------------------


def test_capacity_threshold_counts_the_task_being_added():
    at_75 = candidate(1, open_work=(busy(30.0),))
    free = candidate(2)

    result = decide(task(due_date=FRIDAY, client_history={1: 3}), (at_75, free), TODAY)

    assert result.assignee_id == 2
    r = row(result, 1)
    assert r.qualified and not r.kept
    assert r.utilization == pytest.approx(0.75)
    assert r.utilization_after == pytest.approx(0.85)
    assert r.reason == "utilization 85% after this task > threshold 80%"


def test_capacity_exactly_at_threshold_is_kept():
    result = decide(task(due_date=FRIDAY), (candidate(1, open_work=(busy(28.0),)),), TODAY)

    assert result.assignee_id == 1
    assert row(result, 1).utilization_after == pytest.approx(0.8)


def test_capacity_seasonal_threshold_accepts_higher_load():
    ordinary = candidate(1, open_work=(busy(30.0),), threshold=0.8)
    in_season = candidate(1, open_work=(busy(30.0),), threshold=0.9)

    dropped = decide(task(due_date=FRIDAY), (ordinary,), TODAY)
    accepted = decide(task(due_date=FRIDAY), (in_season,), TODAY)

    assert dropped.outcome is Outcome.ESCALATED
    assert accepted.outcome is Outcome.ASSIGNED
    assert accepted.assignee_id == 1
    assert row(accepted, 1).threshold == 0.9


def test_capacity_not_enough_free_hours_before_deadline():
    result = decide(task(estimated_hours=20.0, due_date=TUESDAY), (candidate(1),), TODAY)

    r = row(result, 1)
    assert result.outcome is Outcome.ESCALATED
    assert r.qualified and not r.kept
    assert r.utilization_after == pytest.approx(0.5)
    assert r.available_before_deadline == pytest.approx(16.0)
    assert r.reason == "16.0 h free before 2025-03-04 < 20.0 h needed"


def test_capacity_free_hours_subtract_existing_work_in_the_window():
    # 20 h due Wednesday: 6.67 h a day, 13.3 h of it by Tuesday; 16 - 13.3 < 4.
    loaded = candidate(1, open_work=(busy(20.0, due=WEDNESDAY),))

    result = decide(task(estimated_hours=4.0, due_date=TUESDAY), (loaded, candidate(2)), TODAY)

    assert result.assignee_id == 2
    assert row(result, 1).available_before_deadline == pytest.approx(16.0 - 40.0 / 3)
    assert "h free before" in row(result, 1).reason


def test_holidays_cause_a_drop():
    away = candidate(1, cal=calendar(holidays=(WEDNESDAY, THURSDAY, FRIDAY)))

    result = decide(
        task(estimated_hours=20.0, due_date=FRIDAY, client_history={1: 4}),
        (away, candidate(2)),
        TODAY,
    )

    assert result.assignee_id == 2
    r = row(result, 1)
    assert not r.kept
    assert r.utilization_after == pytest.approx(20.0 / 16.0)
    assert row(result, 2).utilization_after == pytest.approx(0.5)


def test_time_off_causes_a_drop():
    next_week_off = {NEXT_MONDAY + timedelta(days=n): 8.0 for n in range(5)}
    away = candidate(1, cal=calendar(time_off=next_week_off))

    result = decide(
        task(estimated_hours=45.0, due_date=NEXT_FRIDAY, client_history={1: 4}),
        (away, candidate(2)),
        TODAY,
    )

    assert result.assignee_id == 2
    r = row(result, 1)
    assert not r.kept
    assert r.available_before_deadline == pytest.approx(40.0)
    assert r.reason == "40.0 h free before 2025-03-14 < 45.0 h needed"


# --- 5. deadline fit -----------------------------------------------------------------------


def test_deadline_fit_fails_at_an_earlier_due_existing_task():
    # 28 h due Tuesday cannot be done in Monday + Tuesday's 16 h, whatever else happens.
    late = candidate(1, open_work=(busy(28.0, due=TUESDAY),))

    result = decide(
        task(estimated_hours=2.0, due_date=FRIDAY, client_history={1: 4}),
        (late, candidate(2)),
        TODAY,
    )

    assert result.assignee_id == 2
    r = row(result, 1)
    assert r.qualified and not r.kept
    assert r.utilization_after == pytest.approx(0.75)
    assert r.available_before_deadline == pytest.approx(12.0)
    assert r.reason == "deadline fit fails at 2025-03-04: 28.0 h due vs 16.0 h available"


def test_deadline_fit_fails_when_new_task_pushes_a_later_deadline_over():
    # Tuesday off: 16 h due Wednesday exactly fills Monday and Wednesday, so 2 h due
    # today leaves the Wednesday work short, though today alone has room.
    tuesday_off = calendar(time_off={TUESDAY: 8.0})
    full = candidate(1, cal=tuesday_off, open_work=(busy(16.0, due=WEDNESDAY),))

    result = decide(
        task(estimated_hours=2.0, due_date=TODAY, client_history={1: 4}),
        (full, candidate(2)),
        TODAY,
    )

    assert result.assignee_id == 2
    r = row(result, 1)
    assert r.qualified and not r.kept
    assert r.reason == "deadline fit fails at 2025-03-05: 18.0 h due vs 16.0 h available"


# --- 6. ranking ----------------------------------------------------------------------------


def test_rank_requested_staff_member_first():
    familiar = candidate(1)
    requested = candidate(2, open_work=(busy(10.0),))

    result = decide(
        task(engagement_requested_staff_id=2, client_history={1: 3}), (familiar, requested), TODAY
    )

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 2
    assert result.requested_override


def test_rank_familiarity_beats_free_hours():
    free = candidate(1)
    familiar = candidate(2, open_work=(busy(10.0),))

    result = decide(task(client_history={2: 2}), (free, familiar), TODAY)

    assert result.assignee_id == 2
    assert "2 task(s) for this client" in result.reasons[0]


def test_rank_most_free_hours_wins():
    loaded = candidate(1, open_work=(busy(10.0),))
    free = candidate(2)

    result = decide(task(), (loaded, free), TODAY)

    assert result.assignee_id == 2


def test_rank_tie_breaks_by_staff_id_whatever_the_order():
    five, three = candidate(5), candidate(3)

    forward = decide(task(), (five, three), TODAY)
    backward = decide(task(), (three, five), TODAY)

    assert forward.assignee_id == 3
    assert backward == forward


# --- exception path: urgent ----------------------------------------------------------------


def test_urgent_goes_to_first_qualified_even_over_threshold():
    swamped = candidate(1, name="Ann", open_work=(busy(38.0),))
    unskilled = candidate(2, skills={})

    result = decide(task(urgent=True, due_date=FRIDAY), (swamped, unskilled), TODAY)

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 1
    assert result.over_threshold
    assert result.urgent_override
    assert "urgent" in result.rule_path
    assert any("manager" in reason and "Ann" in reason for reason in result.reasons)


def test_urgent_within_threshold_is_not_flagged():
    result = decide(task(urgent=True), (candidate(1),), TODAY)

    assert result.assignee_id == 1
    assert result.urgent_override
    assert not result.over_threshold
    assert len(result.reasons) == 1


def test_urgent_never_skips_skill_match():
    result = decide(task(urgent=True), (candidate(1, skills={}),), TODAY)

    assert result.outcome is Outcome.ESCALATED
    assert result.assignee_id is None
    assert "urgent" in result.rule_path
    assert result.reasons[0] == "Urgent, but nobody holds the required skills."


def test_urgent_never_skips_guardrail_or_reviewer_rules():
    review = task(urgent=True, role="reviewer", preparer_id=1, client_min_seniority=3)
    junior = candidate(2, seniority=2)

    result = decide(review, (candidate(1, seniority=4), junior), TODAY)

    assert result.outcome is Outcome.ESCALATED


def test_urgent_requested_over_threshold_is_assigned_without_waiting():
    swamped = candidate(1, open_work=(busy(38.0),))

    result = decide(
        task(urgent=True, engagement_requested_staff_id=1), (swamped, candidate(2)), TODAY
    )

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 1
    assert result.over_threshold
    assert result.urgent_override


# --- exception path: client-requested staffer ----------------------------------------------


def test_requested_over_threshold_needs_confirmation():
    swamped = candidate(1, name="Ann", open_work=(busy(38.0),))

    result = decide(task(engagement_requested_staff_id=1), (swamped, candidate(2)), TODAY)

    assert result.outcome is Outcome.NEEDS_CONFIRMATION
    assert result.assignee_id == 1
    assert result.over_threshold
    assert result.requested_override
    assert "Ann" in result.reasons[0]
    assert "manager must confirm" in result.reasons[0]


def test_requested_without_time_before_deadline_needs_confirmation():
    result = decide(
        task(engagement_requested_staff_id=1, estimated_hours=20.0, due_date=TUESDAY),
        (candidate(1),),
        TODAY,
    )

    assert result.outcome is Outcome.NEEDS_CONFIRMATION
    assert result.assignee_id == 1
    assert not result.over_threshold


def test_requested_but_not_skilled_falls_back_to_the_rule():
    result = decide(
        task(engagement_requested_staff_id=1), (candidate(1, skills={}), candidate(2)), TODAY
    )

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 2
    assert not result.requested_override
    assert "requested-not-qualified" in result.rule_path


def test_requested_but_absent_from_candidates_falls_back_to_the_rule():
    result = decide(task(engagement_requested_staff_id=99), (candidate(1),), TODAY)

    assert result.assignee_id == 1
    assert not result.requested_override


# --- exception paths: missing estimate, season suppression ----------------------------------


@pytest.mark.parametrize("estimate", [None, 0.0])
def test_missing_estimate_is_held(estimate):
    result = decide(task(estimated_hours=estimate), (candidate(1),), TODAY)

    assert result.outcome is Outcome.HELD_MISSING_ESTIMATE
    assert result.assignee_id is None
    assert result.rule_path == ("estimate",)
    assert result.candidates == ()


def test_missing_estimate_held_even_when_urgent():
    result = decide(task(estimated_hours=None, urgent=True), (candidate(1),), TODAY)

    assert result.outcome is Outcome.HELD_MISSING_ESTIMATE


def test_suppressed_is_held_visibly():
    result = decide(task(seasonal_work_type=True, season_suppresses=True), (candidate(1),), TODAY)

    assert result.outcome is Outcome.SUPPRESSED
    assert result.assignee_id is None
    assert result.reasons


def test_suppressed_but_urgent_is_still_assigned():
    result = decide(
        task(seasonal_work_type=True, season_suppresses=True, urgent=True), (candidate(1),), TODAY
    )

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 1
    assert result.urgent_override


def test_account_hold_holds_non_urgent_work_with_the_reason():
    result = decide(
        task(client_name="Acme", client_on_hold=True, client_hold_reason="INV-7 31 days past due"),
        (candidate(1),),
        TODAY,
    )

    assert result.outcome is Outcome.HELD_ACCOUNT_HOLD
    assert result.assignee_id is None
    assert "Acme is on account hold (INV-7 31 days past due)" in result.reasons[0]


def test_account_hold_lets_urgent_work_through():
    result = decide(task(client_on_hold=True, urgent=True), (candidate(1),), TODAY)

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 1


# --- no fit: escalation --------------------------------------------------------------------


def test_escalation_names_every_qualified_person_with_load_and_gap():
    ann = candidate(1, name="Ann", open_work=(busy(30.0),))  # 4 h free by Tuesday, 125 % after
    ben = candidate(2, name="Ben", open_work=(busy(10.0),))  # 12 h free by Tuesday
    cal_ = candidate(3, name="Cal", skills={})

    result = decide(task(estimated_hours=20.0, due_date=TUESDAY), (ann, ben, cal_), TODAY)

    assert result.outcome is Outcome.ESCALATED
    assert result.assignee_id is None
    assert result.rule_path[-1] == "escalate"
    assert result.deadline_gap_hours == pytest.approx(8.0)
    assert result.reasons[0] == "2 qualified, none with room before 2025-03-04."
    assert any(r.startswith("Ann: 75% now, 4.0 h free") for r in result.reasons)
    assert any(r.startswith("Ben: 25% now, 12.0 h free") for r in result.reasons)
    assert not any(r.startswith("Cal") for r in result.reasons)
    assert result.reasons[-1] == "Gap to the deadline: 8.0 h beyond the most free qualified person."
    # Ranked (Ben has more free hours), then those refused outright.
    assert [(r.staff_id, r.qualified, r.kept) for r in result.candidates] == [
        (2, True, False),
        (1, True, False),
        (3, False, False),
    ]
    assert row(result, 3).reason == "lacks skill tax"
    assert result.candidate_count == 3
    assert result.rejections == ()


def test_a_large_firm_decision_lists_the_top_and_counts_the_rest_by_reason():
    people = (
        *(candidate(i, name=f"Free {i}") for i in range(1, 31)),
        *(candidate(100 + i, open_work=(busy(30.0),)) for i in range(10)),
        *(candidate(200 + i, skills={}) for i in range(400)),
        *(candidate(700 + i, skills={"tax": HeldSkill(level=1)}) for i in range(12)),
    )

    result = decide(task(estimated_hours=4.0, due_date=TUESDAY), people, TODAY)

    assert result.outcome is Outcome.ASSIGNED
    assert result.candidate_count == len(people)
    assert len(result.candidates) == 25
    assert all(r.kept for r in result.candidates)
    assert result.candidates[0].staff_id == result.assignee_id
    assert dict(result.rejections) == {
        "lacks skill tax": 400,
        "tax below level 2": 12,
        "over their threshold with this task": 10,
        "qualified with room, ranked lower": 5,
    }
    assert result.rejections[0] == ("lacks skill tax", 400)


def test_escalation_gap_is_zero_when_threshold_not_hours_is_the_problem():
    result = decide(task(due_date=FRIDAY), (candidate(1, open_work=(busy(34.0),)),), TODAY)

    assert result.outcome is Outcome.ESCALATED
    assert result.deadline_gap_hours == 0.0


def test_candidate_table_has_every_candidate_with_a_reason():
    people = (
        candidate(4, skills={}),
        candidate(1),
        candidate(3, seniority=1),
        candidate(2, open_work=(busy(40.0),)),
    )

    result = decide(task(client_min_seniority=2), people, TODAY)

    assert sorted(r.staff_id for r in result.candidates) == [1, 2, 3, 4]
    assert all(r.reason for r in result.candidates)
    assert [r.staff_id for r in result.candidates] == [1, 2, 3, 4]  # kept, qualified, rest
    assert [r.kept for r in result.candidates] == [True, False, False, False]
    assert [r.qualified for r in result.candidates] == [True, True, False, False]


def test_no_candidates_escalates_with_empty_table():
    result = decide(task(), (), TODAY)

    assert result.outcome is Outcome.ESCALATED
    assert result.candidates == ()


# --- reassignment requests -----------------------------------------------------------------


def test_excluded_staff_are_dropped():
    favourite = candidate(1)

    result = decide(
        task(excluded_staff_ids=frozenset({1}), client_history={1: 5}),
        (favourite, candidate(2)),
        TODAY,
    )

    assert result.assignee_id == 2
    assert not row(result, 1).qualified
    assert row(result, 1).reason == "asked to be reassigned off this task"


def test_excluded_requested_staffer_falls_back_to_the_rule():
    excluded = task(engagement_requested_staff_id=1, excluded_staff_ids=frozenset({1}))

    result = decide(excluded, (candidate(1), candidate(2)), TODAY)

    assert result.outcome is Outcome.ASSIGNED
    assert result.assignee_id == 2


def test_excluded_only_candidate_escalates_even_when_urgent():
    result = decide(task(urgent=True, excluded_staff_ids=frozenset({1})), (candidate(1),), TODAY)

    assert result.outcome is Outcome.ESCALATED


def test_weekend_dispatch_measures_the_coming_week_and_keeps_the_threshold():
    saturday = TODAY - timedelta(days=2)
    # 34 h due Friday: 85 % of the coming week; from Saturday nothing of "this" week is left.
    loaded = candidate(1, open_work=(busy(34.0),))
    free = candidate(2)

    decision = decide(task(), (loaded, free), saturday)

    assert decision.assignee_id == 2
    row = next(r for r in decision.candidates if r.staff_id == 1)
    assert row.utilization == pytest.approx(0.85)
    assert not row.kept and "threshold" in row.reason
