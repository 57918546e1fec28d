"""The column engine decides exactly as the one-person-at-a-time engine did.

``reference_engine`` is ``decide`` as it was, judging each candidate in plain Python
through the public rule functions (``eligibility_problem``, ``capacity_fit``,
``capacity_problem``, ``rank_key``). Over random people, calendars, open work and
tasks the column engine must give the same ``Decision`` (==, every figure and word),
its figures must be the profile's to the last bit, and a pool kept and updated must
answer as one built afresh.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity.ledger import OpenWork, StaffCalendar
from dispatch.engine import CandidateSnapshot, HeldSkill, SkillRequirement, TaskToPlace, decide
from dispatch.engine import rules as engine_rules
from dispatch.engine.eligibility import eligibility_labels, eligibility_problem
from dispatch.engine.fit import (
    CAPACITY_LABELS,
    capacity_columns,
    capacity_fit,
    capacity_pairs,
    capacity_problem,
)
from dispatch.engine.pool import CandidatePool
from tests.dispatch.engine import reference_engine
from tests.dispatch.engine.test_properties import Case, cases

PROPERTY = settings(max_examples=300, deadline=None)


@pytest.fixture(params=[25, 2], ids=["table-25", "table-2"])
def table_size(request, monkeypatch):
    """Both engines list this many people; 2 makes the counts-by-reason path run (the
    same for every example, so the fixture's scope does not matter)."""
    monkeypatch.setattr(engine_rules, "TABLE_SIZE", request.param)
    monkeypatch.setattr(reference_engine, "TABLE_SIZE", request.param)
    return request.param


def fresh(case: Case) -> tuple[CandidateSnapshot, ...]:
    """The same people without their cached load profiles."""
    return tuple(replace(c, _profiles={}) for c in case.candidates)


@settings(PROPERTY, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_column_engine_decides_exactly_as_the_reference(table_size, case):
    expected = reference_engine.decide(case.task, fresh(case), case.today)

    got = decide(case.task, case.candidates, case.today)

    assert got == expected


@PROPERTY
@given(case=cases())
def test_column_figures_are_the_profiles_to_the_last_bit(case):
    task, today = case.task, case.today
    pool = CandidatePool.build(case.candidates, today)

    codes, labels = eligibility_labels(task, pool, pool.rows)
    for person, code in zip(pool, codes.tolist(), strict=True):
        problem = eligibility_problem(task, person, today)
        assert (problem.label if problem else "") == labels[code]
    columns = capacity_columns(task, pool, pool.rows)
    for position, person in enumerate(pool):
        fit = capacity_fit(task, person, today)
        assert columns.utilization_after[position] == fit.utilization_after
        assert columns.threshold[position] == fit.threshold
        assert columns.free_before_deadline[position] == fit.free_before_deadline
        assert columns.hours[position] == fit.hours
        problem = capacity_problem(task, fit)
        label = problem.label if problem else CAPACITY_LABELS[0]
        assert CAPACITY_LABELS[columns.code[position]] == label


@PROPERTY
@given(case=cases(), data=st.data())
def test_many_tasks_at_once_are_judged_as_one_at_a_time(case, data):
    """``capacity_pairs`` (the planner's one pass over every pairing) gives each pair
    the figures and verdict ``capacity_columns`` gives that task, to the last bit."""
    today = case.today
    pool = CandidatePool.build(case.candidates, today)
    tasks = [case.task]
    for n in range(data.draw(st.integers(0, 4))):
        tasks.append(
            replace(
                case.task,
                task_id=case.task.task_id + 1 + n,
                due_date=today + timedelta(days=data.draw(st.integers(-3, 40))),
                estimated_hours=data.draw(st.floats(0.25, 60)),
                role=data.draw(st.sampled_from(["preparer", "reviewer"])),
                threshold_override=data.draw(st.one_of(st.none(), st.floats(0.5, 1.5))),
                work_type_id=data.draw(st.sampled_from([None, 7, 8])),
            )
        )
    pairs = [(k, row) for k in range(len(tasks)) for row in pool.rows.tolist()]
    pairs = data.draw(st.permutations(pairs))
    which = np.asarray([k for k, _ in pairs], dtype=np.int64)
    rows = np.asarray([row for _, row in pairs], dtype=np.int64)

    together = capacity_pairs(tasks, which, pool, rows)

    for position, (k, row) in enumerate(pairs):
        alone = capacity_columns(tasks[k], pool, np.asarray([row], dtype=np.int64))
        assert together.utilization_after[position] == alone.utilization_after[0]
        assert together.threshold[position] == alone.threshold[0]
        assert together.free_before_deadline[position] == alone.free_before_deadline[0]
        assert together.code[position] == alone.code[0]
        assert together.hours[position] == alone.hours[0]


@PROPERTY
@given(case=cases(), data=st.data())
def test_a_kept_pool_updated_for_new_facts_answers_as_a_new_one(case, data):
    today = case.today
    pool = CandidatePool.build(case.candidates, today)
    changed = []
    for person in case.candidates:
        if data.draw(st.booleans()):
            extra = data.draw(
                st.lists(st.tuples(st.integers(-5, 40), st.floats(0, 30)), max_size=4)
            )
            work = tuple(
                OpenWork(9000 + n, today + timedelta(days=due), hours)
                for n, (due, hours) in enumerate(extra)
            )
            # Sometimes their calendar, skills or thresholds change too (someone
            # else's: a new working pattern, a skill granted, a threshold moved).
            other = data.draw(st.sampled_from(case.candidates))
            facts = {
                name: getattr(other, name)
                for name in (
                    "calendar",
                    "skills",
                    "threshold",
                    "reviewer_threshold",
                    "seniority",
                    "effort",
                )
                if data.draw(st.booleans())
            }
            changed.append(replace(person, open_work=work, _profiles={}, **facts))
    chosen = data.draw(st.sets(st.sampled_from([c.staff_id for c in case.candidates])))
    people = {c.staff_id: c for c in case.candidates} | {c.staff_id: c for c in changed}

    kept = pool.replace(changed).select(chosen)
    built = CandidatePool.build([people[pk] for pk in chosen], today)

    assert [p.staff_id for p in kept] == sorted(chosen)
    assert decide(case.task, kept, today) == decide(case.task, built, today)
    assert decide(case.task, kept, today) == reference_engine.decide(
        case.task, tuple(replace(people[pk], _profiles={}) for pk in sorted(chosen)), today
    )


def test_dates_at_the_ends_of_the_calendar_are_answered():
    """Ordinals near date.max stay inside the pool's keys (row * SPAN + ordinal)."""
    today = date(2026, 11, 23)
    calendar = StaffCalendar(40.0, frozenset(range(5)), frozenset({date(9999, 12, 30)}))
    people = tuple(
        CandidateSnapshot(
            staff_id=pk,
            name=f"P{pk}",
            seniority=3,
            calendar=calendar,
            skills={"tax": HeldSkill(3)},
            open_work=(OpenWork(pk, date(9999, 12, 31), 100.0), OpenWork(pk + 50, date.min, 2.0)),
        )
        for pk in (1, 2)
    )
    task = TaskToPlace(
        task_id=7,
        role="preparer",
        client_id=1,
        due_date=date(9999, 12, 31),
        estimated_hours=10.0,
        required_skills=(SkillRequirement("tax", 1),),
    )

    assert decide(task, people, today) == reference_engine.decide(
        task, tuple(replace(p, _profiles={}) for p in people), today
    )


def test_a_pool_built_for_another_day_is_refused():
    pool = CandidatePool.build((), date(2026, 11, 23))
    task = TaskToPlace(
        task_id=1, role="preparer", client_id=1, due_date=date(2026, 12, 1), estimated_hours=2.0
    )

    with pytest.raises(ValueError, match="built for 2026-11-23"):
        decide(task, pool, date(2026, 11, 24))
    assert np.array_equal(pool.rows, [])
