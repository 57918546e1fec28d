"""The dispatch roster: kept between dispatches, rebuilt the moment what it holds changes."""

from __future__ import annotations

from datetime import date

import pytest

from capacity.ledger import OpenWork
from dispatch import roster as roster_module
from dispatch.choices import Trigger
from dispatch.services import task_dispatch
from staff.models import SkillTag, StaffSkill
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
def test_a_snapshot_is_reused_only_while_the_persons_open_work_is_unchanged(skilled, client_co):
    ann = skilled("ann", "bookkeeping")
    place(bookkeeping_task(client_co, due_date=DUE))
    held = roster_module._current
    assert held is not None
    seen = held._snapshots[ann.pk]
    more = (*seen.open_work, OpenWork(task_id=999, due_date=DUE, hours=2.0))

    again = held.snapshot(ann.pk, seen.open_work)
    changed = held.snapshot(ann.pk, more)

    assert again is seen
    assert changed is not seen and changed.open_work == more
