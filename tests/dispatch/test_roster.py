"""The dispatch roster: kept between dispatches, rebuilt the moment what it holds changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from capacity.models import CapacityRule
from dispatch import roster as roster_module
from dispatch.choices import Trigger
from dispatch.services import task_dispatch
from engagements.models import Task
from staff.models import SkillTag, StaffSkill, WorkingPattern
from tests.dispatch.builders import bookkeeping_task, load_up

TODAY = date(2026, 11, 23)
DUE = date(2026, 12, 11)


def place(task):
    return task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)


def staff_reads(captured) -> int:
    return sum('FROM "staff_staffmember"' in q["sql"] for q in captured.captured_queries)


@pytest.mark.django_db
def test_a_second_dispatch_reuses_the_roster_and_reads_no_staff_rows(
    skilled, client_co, django_assert_max_num_queries
):
    skilled("ann", "bookkeeping")
    skilled("ben", "bookkeeping")
    first, second = (
        bookkeeping_task(client_co, due_date=DUE),
        bookkeeping_task(client_co, due_date=DUE, name="second"),
    )

    with django_assert_max_num_queries(30) as cold:
        place(first)
    with django_assert_max_num_queries(30) as warm:
        place(second)

    assert staff_reads(cold) >= 1
    assert staff_reads(warm) == 1  # only the chosen person's row, locked
    assert len(warm.captured_queries) < len(cold.captured_queries)


@pytest.mark.django_db
def test_a_committed_skill_change_is_seen_by_the_next_dispatch(
    skilled, client_co, django_capture_on_commit_callbacks
):
    ann = skilled("ann", "bookkeeping")
    newcomer = skilled("cal", seniority=1)
    place(bookkeeping_task(client_co, due_date=DUE))  # the roster holds Ann only
    load_up(ann, "60", due=date(2026, 11, 27))  # Ann is now full

    with django_capture_on_commit_callbacks(execute=True):
        StaffSkill.objects.create(
            staff_member=newcomer, skill=SkillTag.objects.get(slug="bookkeeping"), level=3
        )
    decision = place(bookkeeping_task(client_co, due_date=DUE, name="after the change"))

    assert decision is not None
    assert decision.assignee_id == newcomer.pk


@pytest.mark.django_db
def test_a_roster_older_than_its_age_limit_is_built_again(skilled, client_co, monkeypatch):
    skilled("ann", "bookkeeping")
    place(bookkeeping_task(client_co, due_date=DUE))
    built = roster_module._current
    assert built is not None

    monkeypatch.setattr(roster_module, "ROSTER_MAX_AGE", 0.0)
    place(bookkeeping_task(client_co, due_date=DUE, name="later"))

    assert roster_module._current is not built


@pytest.mark.django_db
def test_only_the_people_whose_open_work_changed_are_built_again(skilled, client_co):
    ann = skilled("ann", "bookkeeping")
    ben = skilled("ben", "bookkeeping")
    place(bookkeeping_task(client_co, due_date=DUE))
    held = roster_module._current
    assert held is not None and held.work is not None
    before = held.work.pool
    assignee = Task.objects.get(assignee__isnull=False).assignee_id
    other = ben.pk if assignee == ann.pk else ann.pk

    place(bookkeeping_task(client_co, due_date=DUE, name="second"))

    after = held.work.pool
    assert after.person(other) is before.person(other)  # untouched: same snapshot
    assert after.person(assignee) is not before.person(assignee)
    assert len(after.person(assignee).open_work) == 1


@pytest.mark.django_db
def test_work_changed_out_of_order_is_still_seen(skilled, client_co):
    """A number committed below the highest one seen (a transaction that drew it first
    and committed last) leaves the sum short: the numbers are read, and the work of
    whoever's number moved; nobody else is built again."""
    ann = skilled("ann", "bookkeeping")
    ben = skilled("ben", "bookkeeping", seniority=2)
    cal = skilled("cal", "payroll")
    place(bookkeeping_task(client_co, due_date=DUE))  # to Ann (lower seniority first)
    held = roster_module._current
    assert held is not None and held.work is not None
    held.work = replace(held.work, watermark=held.work.watermark + 10_000)
    untouched = held.work.pool.person(cal.pk)

    load_up(ann, "60", due=date(2026, 11, 27))  # Ann is now full, below the watermark
    decision = place(bookkeeping_task(client_co, due_date=DUE, name="second"))

    assert decision is not None
    assert decision.assignee_id == ben.pk
    assert held.work.pool.person(cal.pk) is untouched


@pytest.mark.django_db
def test_a_committed_capacity_rule_is_seen_by_the_next_dispatch(
    skilled, client_co, django_capture_on_commit_callbacks
):
    ann = skilled("ann", "bookkeeping")
    load_up(ann, "34", due=date(2026, 11, 27))  # 85 % this week: over the default 80 %
    first = place(bookkeeping_task(client_co, due_date=DUE))
    assert first is not None and first.assignee_id is None  # escalated

    with django_capture_on_commit_callbacks(execute=True):
        CapacityRule.objects.create(name="Busy season", threshold_percent=150)
    decision = place(bookkeeping_task(client_co, due_date=DUE, name="after the rule"))

    assert decision is not None
    assert decision.assignee_id == ann.pk


@pytest.mark.django_db
def test_a_committed_working_pattern_is_seen_by_the_next_dispatch(
    skilled, client_co, django_capture_on_commit_callbacks
):
    """Ann, the less loaded, would take work due Friday; from the moment her manager
    saves a pattern with no weekday hours she has none before Friday, and Ben gets it."""
    ann = skilled("ann", "bookkeeping")
    ben = skilled("ben", "bookkeeping")
    load_up(ben, "10", due=date(2026, 11, 27))
    warm = place(bookkeeping_task(client_co, due_date=DUE))  # the roster is built
    assert warm is not None and warm.assignee_id == ann.pk

    with django_capture_on_commit_callbacks(execute=True):
        WorkingPattern.objects.create(
            staff_member=ann, name="Weekends only", starts_on=TODAY, saturday_hours=8
        )
    decision = place(bookkeeping_task(client_co, due_date=date(2026, 11, 27), name="Friday"))

    assert decision is not None
    assert decision.assignee_id == ben.pk
