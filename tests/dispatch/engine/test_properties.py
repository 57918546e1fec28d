"""Properties of ``decide`` over random candidates and tasks (hypothesis, no database).

The checks recompute everything from ``capacity.ledger`` rather than trusting the
candidate table, so a rule the engine skips or misapplies shows up as a counterexample.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from capacity.ledger import (
    OpenWork,
    StaffCalendar,
    WorkingPattern,
    committed_between,
    deadline_fit,
    utilization,
    utilization_window,
)
from dispatch.engine import (
    CandidateSnapshot,
    Decision,
    HeldSkill,
    Outcome,
    SkillRequirement,
    TaskToPlace,
    decide,
)

BASE = date(2025, 3, 3)  # a Monday
SLUGS = ("tax", "audit", "payroll")
TOLERANCE = 1e-6
PROPERTY = settings(max_examples=200, deadline=None)


@dataclass(frozen=True)
class Case:
    task: TaskToPlace
    candidates: tuple[CandidateSnapshot, ...]
    today: date


def sometimes(
    strategy: st.SearchStrategy[object], common: object, odds: int = 4
) -> st.SearchStrategy:
    """``strategy`` about one draw in ``odds``, else ``common``: keeps most cases dispatchable."""
    # Hypothesis favours index 0 (it shrinks towards it), so the rare branch is the last.
    return st.sampled_from(range(odds)).flatmap(
        lambda n: strategy if n == odds - 1 else st.just(common)
    )


# Strategies are built once: building them inside each draw costs more than the test.
# Dates are drawn as day offsets from ``today`` and converted in the composites.
WEEKLY_HOURS = st.sampled_from([0.0, 20.0, 32.0, 37.5, 40.0, 40.0, 40.0, 50.0])
WORKING_DAYS = sometimes(st.frozensets(st.integers(0, 6)), frozenset(range(5)))
HOLIDAY_OFFSETS = st.frozensets(st.integers(-3, 30), max_size=3)
# Working patterns: four tens, part time, a six-day busy season; always or from/to a day.
PATTERN_SPECS = sometimes(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    (10.0, 10.0, 10.0, 10.0, 0.0, 0.0, 0.0),
                    (8.0, 8.0, 8.0, 0.0, 0.0, 0.0, 0.0),
                    (10.0, 10.0, 10.0, 10.0, 10.0, 5.0, 0.0),
                ]
            ),
            st.none() | st.integers(-5, 20),
            st.none() | st.integers(0, 30),
        ),
        min_size=1,
        max_size=2,
    ),
    [],
)
TIME_OFF_OFFSETS = st.dictionaries(
    st.integers(-3, 30), st.sampled_from([2.0, 4.0, 8.0, 12.0]), max_size=3
)
SKILL_OFFSETS = st.dictionaries(
    st.sampled_from(SLUGS),
    st.tuples(st.integers(1, 5), sometimes(st.integers(-10, 10), None)),
    min_size=1,
)
WORK_OFFSETS = st.lists(
    st.tuples(st.integers(1000, 2000), st.integers(-5, 30), st.floats(0.0, 24.0)), max_size=3
)
SENIORITY = st.integers(1, 5)
THRESHOLD = st.floats(0.3, 1.5)
REVIEWER_THRESHOLD = st.floats(0.3, 1.2)
FAMILIARITY = st.integers(0, 3)
STAFF_IDS = st.lists(st.integers(1, 30), unique=True, min_size=1, max_size=6)
REQUIREMENTS = st.lists(
    st.builds(SkillRequirement, slug=st.sampled_from(SLUGS), min_level=st.integers(1, 3)),
    max_size=2,
    unique_by=lambda r: r.slug,
)
ESTIMATE = st.sampled_from(range(10)).flatmap(
    lambda n: st.sampled_from([None, 0.0]) if n == 9 else st.floats(0.25, 30.0)
)
WEIGHT = st.sampled_from([0.5, 1.0, 1.5, 2.0])
ROLE = st.sampled_from(["preparer", "reviewer"])
MIN_SENIORITY = sometimes(SENIORITY, None, odds=3)
URGENT = sometimes(st.just(True), False)
SUPPRESSED = sometimes(st.just(True), False, odds=8)
ANY_ID = sometimes(st.integers(1, 30), None)
# Effort factors per work type (logged over estimated hours): faster, slower, or none.
WORK_TYPES = (7, 8)
EFFORT = sometimes(
    st.dictionaries(st.sampled_from(WORK_TYPES), st.sampled_from([0.5, 0.8, 1.25, 1.6, 3.0])),
    {},
    odds=2,
)
WORK_TYPE = st.sampled_from([None, *WORK_TYPES])


def shift(today: date, offset: int) -> date:
    return today + timedelta(days=offset)


@st.composite
def candidates(draw: st.DrawFn, staff_id: int, today: date) -> CandidateSnapshot:
    calendar = StaffCalendar(
        weekly_hours=draw(WEEKLY_HOURS),
        working_days=draw(WORKING_DAYS),
        holidays=frozenset(shift(today, n) for n in draw(HOLIDAY_OFFSETS)),
        time_off={shift(today, n): hours for n, hours in draw(TIME_OFF_OFFSETS).items()},
        patterns=tuple(
            WorkingPattern(
                week,
                None if start is None else shift(today, start),
                None if span is None else shift(today, (start or 0) + span),
            )
            for week, start, span in draw(PATTERN_SPECS)
        ),
    )
    skills = {
        slug: HeldSkill(level, None if expiry is None else shift(today, expiry))
        for slug, (level, expiry) in draw(SKILL_OFFSETS).items()
    }
    open_work = tuple(
        OpenWork(task_id=task_id, due_date=shift(today, due), hours=hours)
        for task_id, due, hours in draw(WORK_OFFSETS)
    )
    return CandidateSnapshot(
        staff_id=staff_id,
        name=f"Staff {staff_id}",
        seniority=draw(SENIORITY),
        calendar=calendar,
        skills=skills,
        open_work=open_work,
        threshold=draw(THRESHOLD),
        reviewer_threshold=draw(REVIEWER_THRESHOLD),
        effort=draw(EFFORT),
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    today = shift(BASE, draw(st.integers(0, 13)))
    ids = draw(STAFF_IDS)
    people = tuple(draw(candidates(staff_id, today)) for staff_id in ids)
    some_id = st.one_of(ANY_ID, sometimes(st.sampled_from(ids), None, odds=2)) if ids else ANY_ID
    task = TaskToPlace(
        task_id=1,
        role=draw(ROLE),
        client_id=1,
        due_date=shift(today, draw(st.integers(-3, 30))),
        estimated_hours=draw(ESTIMATE),
        weight=draw(WEIGHT),
        required_skills=tuple(draw(REQUIREMENTS)),
        complexity=draw(st.sampled_from(["low", "medium", "high"])),
        client_min_seniority=draw(MIN_SENIORITY),
        work_type_min_seniority=draw(MIN_SENIORITY),
        reviewer_min_seniority=draw(MIN_SENIORITY),
        urgent=draw(URGENT),
        engagement_requested_staff_id=draw(some_id),
        client_preferred_staff_id=draw(some_id),
        request_declined=draw(sometimes(st.just(True), False, odds=4)),
        preparer_id=draw(some_id),
        excluded_staff_ids=draw(
            sometimes(st.frozensets(st.sampled_from(ids), max_size=2), frozenset())
        )
        if ids
        else frozenset(),
        seasonal_work_type=draw(SUPPRESSED),
        season_suppresses=draw(st.booleans()),
        client_history={staff_id: draw(FAMILIARITY) for staff_id in ids},
        work_type_id=draw(WORK_TYPE),
    )
    return Case(task, people, today)


# --- an independent oracle, straight from capacity.ledger -----------------------------------


def floor(task: TaskToPlace) -> int | None:
    """The seniority floor, read straight from the facts: the client's always, the work
    type's reviewer floor for reviews, its preparer floor on high-complexity work only."""
    levels = [task.client_min_seniority or 0]
    if task.role == "reviewer":
        levels.append(task.reviewer_min_seniority or 0)
    elif task.complexity == "high":
        levels.append(task.work_type_min_seniority or 0)
    return max(levels) or None


def requested(task: TaskToPlace) -> int | None:
    if task.request_declined:
        return None
    if task.engagement_requested_staff_id is not None:
        return task.engagement_requested_staff_id
    return task.client_preferred_staff_id


def is_qualified(task: TaskToPlace, person: CandidateSnapshot, today: date) -> bool:
    if person.staff_id in task.excluded_staff_ids:
        return False
    for requirement in task.required_skills:
        held = person.skills.get(requirement.slug)
        if held is None or held.level < requirement.min_level:
            return False
        if held.certified_until is not None and held.certified_until < today:
            return False
    if floor(task) is not None and person.seniority < floor(task):
        return False
    return not (task.role == "reviewer" and person.staff_id == task.preparer_id)


def capacity_margins(
    task: TaskToPlace, person: CandidateSnapshot, today: date
) -> tuple[float, float, bool]:
    """(threshold - utilization after, free hours - needed, deadline fit) for this person;
    the task takes them its weighted hours times their effort factor for its work type."""
    cal = person.calendar
    factor = person.effort.get(task.work_type_id, 1.0) if task.work_type_id else 1.0
    needed = task.weighted_hours * factor
    new = OpenWork(task_id=task.task_id, due_date=task.due_date, hours=needed)
    week_start, week_end = utilization_window(cal, today)
    after = utilization(
        committed_between(cal, (*person.open_work, new), today, week_start, week_end),
        cal.available(week_start, week_end),
    )
    threshold = person.reviewer_threshold if task.role == "reviewer" else person.threshold
    due = max(task.due_date, today)
    free = cal.available(today, due) - committed_between(cal, person.open_work, today, today, due)
    fits = deadline_fit(cal, person.open_work, today, extra=new).fits
    return threshold - after, free - needed, fits


def passes_every_rule(
    task: TaskToPlace, person: CandidateSnapshot, today: date, slack: float
) -> bool:
    """``slack`` > 0 is lenient at the boundaries, < 0 strict: float sums may differ by an ulp."""
    if not is_qualified(task, person, today):
        return False
    threshold_margin, hours_margin, fits = capacity_margins(task, person, today)
    return threshold_margin >= -slack and hours_margin >= -slack and fits


def evaluated(case: Case) -> bool:
    task = case.task
    has_estimate = task.estimated_hours is not None and task.estimated_hours > 0
    return has_estimate and not (
        task.seasonal_work_type and task.season_suppresses and not task.urgent
    )


def assignee(case: Case, decision: Decision) -> CandidateSnapshot:
    return next(c for c in case.candidates if c.staff_id == decision.assignee_id)


# --- properties ----------------------------------------------------------------------------


@PROPERTY
@given(cases())
def test_property_assignee_meets_every_hard_rule(case):
    decision = decide(case.task, case.candidates, case.today)

    if decision.outcome not in (Outcome.ASSIGNED, Outcome.NEEDS_CONFIRMATION):
        assert decision.assignee_id is None
        return
    chosen = assignee(case, decision)
    # (a) skills at level and unexpired, seniority, not the preparer, not excluded.
    assert is_qualified(case.task, chosen, case.today)
    if decision.outcome is Outcome.NEEDS_CONFIRMATION:
        assert chosen.staff_id == requested(case.task)
        return
    threshold_margin, hours_margin, fits = capacity_margins(case.task, chosen, case.today)
    if not decision.urgent_override:
        # (b) an ordinary assignment (or a requested staffer with room) has room and fits.
        assert threshold_margin >= -TOLERANCE
        assert hours_margin >= -TOLERANCE
        assert fits
        assert not decision.over_threshold
    elif threshold_margin < -TOLERANCE:
        # Never overloaded silently: urgent work over the threshold is flagged.
        assert decision.over_threshold


@PROPERTY
@given(cases())
def test_property_escalates_only_when_nobody_fits(case):
    task, people, today = case.task, case.candidates, case.today

    decision = decide(task, people, today)

    if decision.outcome is Outcome.ESCALATED:
        assert not any(row.kept for row in decision.candidates)
    if not evaluated(case):
        assert decision.outcome in (Outcome.HELD_MISSING_ESTIMATE, Outcome.SUPPRESSED)
        return
    if task.urgent:
        anyone_qualified = any(is_qualified(task, c, today) for c in people)
        assert (decision.outcome is Outcome.ESCALATED) == (not anyone_qualified)
        return
    asked_for = next(
        (c for c in people if c.staff_id == requested(task) and is_qualified(task, c, today)),
        None,
    )
    if asked_for is not None:
        # The client's choice overrides the rule: with room it is theirs, without it waits.
        if passes_every_rule(task, asked_for, today, -TOLERANCE):
            assert decision.outcome is Outcome.ASSIGNED
            assert decision.assignee_id == asked_for.staff_id
        elif not passes_every_rule(task, asked_for, today, TOLERANCE):
            assert decision.outcome is Outcome.NEEDS_CONFIRMATION
        return
    if any(passes_every_rule(task, c, today, -TOLERANCE) for c in people):
        assert decision.outcome is Outcome.ASSIGNED
    elif not any(passes_every_rule(task, c, today, TOLERANCE) for c in people):
        assert decision.outcome is Outcome.ESCALATED


@PROPERTY
@given(cases(), st.data())
def test_property_candidate_table_is_complete_deterministic_and_order_independent(case, data):
    shuffled = tuple(data.draw(st.permutations(case.candidates)))

    decision = decide(case.task, case.candidates, case.today)
    again = decide(case.task, case.candidates, case.today)
    reordered = decide(case.task, shuffled, case.today)

    # (e) same input, same output, whatever order the candidates come in.
    assert again == decision
    assert reordered == decision
    if not evaluated(case):
        assert decision.candidates == ()
        return
    # (d) one row per candidate, each with its reason and the right qualification.
    ids = sorted(row.staff_id for row in decision.candidates)
    assert ids == sorted(c.staff_id for c in case.candidates)
    for row in decision.candidates:
        person = next(c for c in case.candidates if c.staff_id == row.staff_id)
        assert row.reason
        assert row.qualified == is_qualified(case.task, person, case.today)
        assert row.qualified or not row.kept
