"""The database moves a person's ``open_work_seq`` whenever the work they hold changes,
whoever writes it (dispatch keeps open work between dispatches on that promise)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engagements.choices import TaskStatus
from engagements.models import Task, WorkType
from staff.models import StaffMember
from tests.dispatch.builders import load_up
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def seq(member: StaffMember) -> int:
    return StaffMember.objects.values_list("open_work_seq", flat=True).get(pk=member.pk)


def test_new_held_work_moves_the_holders_number(skilled):
    ann = skilled("ann", "bookkeeping")
    before = seq(ann)

    load_up(ann, "5")

    assert seq(ann) > before


@pytest.mark.parametrize(
    "change",
    [
        {"estimated_hours": Decimal("9")},
        {"logged_hours": Decimal("2")},
        {"due_date": date(2026, 12, 18)},
        {"status": TaskStatus.CANCELLED},
        {"status": TaskStatus.IN_PROGRESS},
    ],
    ids=["estimate", "logged-hours", "due-date", "cancelled", "started"],
)
def test_a_change_to_held_work_moves_the_number_even_as_a_bulk_update(skilled, change):
    ann = skilled("ann", "bookkeeping")
    task = load_up(ann, "5")
    before = seq(ann)

    Task.objects.filter(pk=task.pk).update(**change)  # no signals, no save()

    assert seq(ann) > before


def test_moving_work_between_people_moves_both_numbers(skilled):
    ann, ben = skilled("ann", "bookkeeping"), skilled("ben", "bookkeeping")
    task = load_up(ann, "5")
    ann_before, ben_before = seq(ann), seq(ben)

    Task.objects.filter(pk=task.pk).update(assignee=ben)

    assert seq(ann) > ann_before and seq(ben) > ben_before


def test_deleting_held_work_moves_the_number(skilled):
    ann = skilled("ann", "bookkeeping")
    task = load_up(ann, "5")
    before = seq(ann)

    task.delete()

    assert seq(ann) > before


def test_work_nobody_holds_moves_nobody(skilled):
    ann = skilled("ann", "bookkeeping")
    load_up(ann, "5")
    before = seq(ann)

    waiting = TaskFactory(status=TaskStatus.UNASSIGNED, assignee=None)
    Task.objects.filter(pk=waiting.pk).update(estimated_hours=Decimal("3"))

    assert seq(ann) == before


def test_a_new_complexity_weight_or_work_type_moves_the_holders_numbers(skilled):
    ann = skilled("ann", "bookkeeping")
    task = load_up(ann, "5")
    before = seq(ann)

    WorkType.objects.filter(pk=task.engagement.work_type_id).update(
        complexity_weight=Decimal("1.7")
    )
    after_weight = seq(ann)
    other = WorkType.objects.exclude(pk=task.engagement.work_type_id).first()
    assert other is not None
    type(task.engagement).objects.filter(pk=task.engagement_id).update(work_type=other)

    assert before < after_weight < seq(ann)


def test_a_stale_save_never_moves_the_number_back(skilled):
    ann = skilled("ann", "bookkeeping")
    stale = StaffMember.objects.get(pk=ann.pk)
    load_up(ann, "5")
    moved = seq(ann)

    stale.title = "Senior"
    stale.save()  # writes the open_work_seq it loaded before the work arrived

    assert seq(ann) == moved
