"""Time entries: drafted on completion exactly once, by hand, by timer; approval; logged
hours feeding capacity."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import services
from billing.choices import TimeEntrySource, TimeEntryStatus
from billing.models import RunningTimer, TimeEntry
from billing.services import time_entry_draft_for_task
from core.exceptions import ApplicationError, NotPermitted
from dispatch.roster import _read_open_work
from dispatch.selectors import open_work_for
from engagements import hooks
from tests.billing.conftest import complete, hold, open_engagement, preparer, reviewer

pytestmark = pytest.mark.django_db


def test_billing_is_registered_on_the_engagement_hooks():
    assert time_entry_draft_for_task in hooks.registered()["task_completed"]


def test_completing_a_task_drafts_one_prefilled_entry(alice, broker):
    engagement = open_engagement("1040", hours="6")
    task = complete(hold(preparer(engagement), alice), alice)
    entry = TimeEntry.objects.get(task=task)
    assert entry.staff_member == alice
    assert entry.client == engagement.client
    assert entry.engagement == engagement
    assert entry.work_type.code == "1040"
    assert entry.date == timezone.localdate()
    assert entry.hours == Decimal("3.5")  # the seeds' default for individual return preparation
    assert entry.source == TimeEntrySource.COMPLETION
    assert entry.status == TimeEntryStatus.DRAFT
    assert entry.internal_only is True  # 1040 is a fixed fee: time kept for realization
    task.refresh_from_db()
    assert task.logged_hours == Decimal("3.5")


def test_completion_draft_is_made_at_most_once_per_task(alice, broker):
    engagement = open_engagement("1120", hours="8")
    task = complete(hold(preparer(engagement), alice), alice)
    complete(task, alice)  # a double click: no-op
    time_entry_draft_for_task(task, timezone.now())  # a replayed hook
    assert TimeEntry.objects.filter(task=task).count() == 1
    entry = TimeEntry.objects.get(task=task)
    assert entry.hours == Decimal("8") and entry.internal_only is False
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntry.objects.create(
            staff_member=alice,
            client=entry.client,
            task=task,
            date=entry.date,
            hours=Decimal("1"),
            source=TimeEntrySource.COMPLETION,
        )


def test_reviewer_draft_uses_the_review_estimate(alice, bob, broker):
    engagement = open_engagement("1120", hours="8")
    complete(hold(preparer(engagement), alice), alice)
    review = complete(hold(reviewer(engagement), bob), bob)
    assert TimeEntry.objects.get(task=review).hours == Decimal("2")  # a quarter of 8 h


def test_a_huge_estimate_drafts_at_most_24_hours(alice, broker):
    due = timezone.localdate() + timedelta(days=60)
    engagement = open_engagement("audit", hours="60", due_date=due)
    task = complete(hold(preparer(engagement), alice), alice)
    assert TimeEntry.objects.get(task=task).hours == Decimal("24")


def test_time_already_recorded_comes_off_the_draft(alice, broker):
    engagement = open_engagement("1120", hours="8")
    task = hold(preparer(engagement), alice)
    services.time_entry_create(
        staff=alice,
        client=engagement.client,
        task=task,
        day=timezone.localdate(),
        hours=Decimal("5"),
    )
    complete(task, alice)
    assert sorted(TimeEntry.objects.filter(task=task).values_list("hours", flat=True)) == [
        Decimal("3"),
        Decimal("5"),
    ]


@pytest.mark.parametrize("hours", ["0", "0.09", "24.01", "-1"])
def test_hours_out_of_range_are_refused(alice, hours):
    engagement = open_engagement("1120")
    with pytest.raises(ApplicationError):
        services.time_entry_create(
            staff=alice, client=engagement.client, day=timezone.localdate(), hours=Decimal(hours)
        )
    assert not TimeEntry.objects.exists()


def test_a_date_no_firm_means_is_refused(alice):
    engagement = open_engagement("1120")
    with pytest.raises(ApplicationError):
        services.time_entry_create(
            staff=alice,
            client=engagement.client,
            day=timezone.localdate().replace(year=3000),
            hours=Decimal("1"),
        )


def test_only_the_owner_edits_and_approved_time_is_settled(alice, bob):
    engagement = open_engagement("1120")
    entry = services.time_entry_create(
        staff=alice, client=engagement.client, day=timezone.localdate(), hours=Decimal("1")
    )
    with pytest.raises(NotPermitted):
        services.time_entry_update(
            entry_id=entry.pk, staff=bob, day=entry.date, hours=Decimal("2"), description=""
        )
    with pytest.raises(NotPermitted):
        services.time_entry_approve(entry_id=entry.pk, staff=bob)
    services.time_entry_approve(entry_id=entry.pk, staff=alice)
    services.time_entry_approve(entry_id=entry.pk, staff=alice)  # again: no-op
    entry.refresh_from_db()
    assert entry.status == TimeEntryStatus.APPROVED and entry.approved_at is not None
    with pytest.raises(ApplicationError):
        services.time_entry_update(
            entry_id=entry.pk, staff=alice, day=entry.date, hours=Decimal("2"), description=""
        )


def test_approve_week_approves_only_that_weeks_drafts(alice, bob):
    client = open_engagement("1120").client
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    mine = [
        services.time_entry_create(staff=alice, client=client, day=monday, hours=Decimal("1")),
        services.time_entry_create(
            staff=alice, client=client, day=monday + timedelta(days=4), hours=Decimal("2")
        ),
    ]
    last_week = services.time_entry_create(
        staff=alice, client=client, day=monday - timedelta(days=1), hours=Decimal("1")
    )
    bobs = services.time_entry_create(staff=bob, client=client, day=monday, hours=Decimal("1"))
    assert services.time_entries_approve_week(staff=alice, week_start=monday) == 2
    statuses = dict(TimeEntry.objects.values_list("pk", "status"))
    assert {statuses[e.pk] for e in mine} == {TimeEntryStatus.APPROVED}
    assert statuses[last_week.pk] == statuses[bobs.pk] == TimeEntryStatus.DRAFT


def test_timer_start_stop_drafts_the_elapsed_time(alice, bob, broker):
    engagement = open_engagement("1120")
    task = hold(preparer(engagement), alice)
    assert services.timer_start(staff=alice, task_id=task.pk) is None
    RunningTimer.objects.filter(staff_member=alice).update(
        started_at=timezone.now() - timedelta(minutes=61)
    )
    stopped = services.timer_stop(staff=alice)
    assert stopped is not None and stopped.minutes == 61
    assert stopped.entry.hours == Decimal("1.1")  # rounded up to the tenth
    assert stopped.entry.source == TimeEntrySource.TIMER and stopped.entry.task == task
    assert services.timer_stop(staff=alice) is None
    with pytest.raises(NotPermitted):
        services.timer_start(staff=bob, task_id=task.pk)  # not in bob's queue


def test_one_running_timer_per_person(alice, broker):
    first = hold(preparer(open_engagement("1120")), alice)
    second = hold(preparer(open_engagement("1120")), alice)
    services.timer_start(staff=alice, task_id=first.pk)
    services.timer_start(staff=alice, task_id=first.pk)  # again on the same task: nothing
    stopped = services.timer_start(staff=alice, task_id=second.pk)
    assert stopped is not None and stopped.task_id == first.pk
    assert stopped.entry.hours == Decimal("0.1")  # a minimum of a tenth
    assert RunningTimer.objects.get(staff_member=alice).task == second
    with pytest.raises(IntegrityError), transaction.atomic():
        RunningTimer.objects.create(staff_member=alice, task=first, started_at=timezone.now())


def test_logged_hours_replace_the_estimate_in_committed_hours(alice, broker):
    engagement = open_engagement("1120", hours="8")  # complexity weight 1.30
    task = hold(preparer(engagement), alice)
    [before] = open_work_for(staff_id=alice.pk)
    assert before.hours == pytest.approx(8 * 1.3)
    entry = services.time_entry_create(
        staff=alice,
        client=engagement.client,
        task=task,
        day=timezone.localdate(),
        hours=Decimal("3"),
    )
    [after] = open_work_for(staff_id=alice.pk)
    assert after.hours == pytest.approx(5 * 1.3)
    # Dispatch's roster reads the same figure in its one open-work statement.
    changed, _total, _history = _read_open_work(since=0, client_id=None, task_id=None)
    [held] = changed[alice.pk][1]
    assert held.hours == pytest.approx(5 * 1.3)
    services.time_entry_update(
        entry_id=entry.pk, staff=alice, day=entry.date, hours=Decimal("9"), description=""
    )
    [over] = open_work_for(staff_id=alice.pk)
    assert over.hours == 0  # more logged than estimated: nothing left, never negative


def test_completing_a_timed_task_stops_its_timer_first(alice, broker):
    task = hold(preparer(open_engagement("1120", hours="8")), alice)
    services.timer_start(staff=alice, task_id=task.pk)
    RunningTimer.objects.filter(staff_member=alice).update(
        started_at=timezone.now() - timedelta(minutes=115)
    )
    complete(task, alice)  # 1 h 55 min rounds up to 2 h
    assert not RunningTimer.objects.exists()
    by_source = dict(TimeEntry.objects.filter(task=task).values_list("source", "hours"))
    assert by_source == {
        TimeEntrySource.TIMER: Decimal("2"),
        TimeEntrySource.COMPLETION: Decimal("6"),
    }
