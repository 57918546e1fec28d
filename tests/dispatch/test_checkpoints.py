"""Status checkpoints, run with an explicit ``now`` (the frozen clock): each fires at
its boundary and not a second before, to the right person, at most once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core import mail

from dispatch.checkpoints import checkpoints_run
from dispatch.choices import Checkpoint
from dispatch.models import CheckpointFiring
from engagements.choices import TaskRole, TaskStatus
from engagements.models import Task
from notifications.choices import NotificationStatus, NotificationTemplate
from notifications.models import Notification
from staff.choices import Role, Seniority
from tests.dispatch.builders import emails_to, firm_time
from tests.factories import (
    ClientFactory,
    EngagementFactory,
    StaffMemberFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MONDAY_10 = firm_time(2026, 11, 16, 10)
FAR = date(2026, 12, 18)
SECOND = timedelta(seconds=1)
NOTHING = dict.fromkeys(Checkpoint.values, 0)


@pytest.fixture
def rel_partner(db):
    """The client's relationship partner: a partner, but not the managing (most senior) one."""
    return StaffMemberFactory(
        user=UserFactory(username="rita", first_name="Rita", last_name="Relationship"),
        role=Role.PARTNER,
        seniority=Seniority.SENIOR_MANAGER,
    )


def work(
    assignee,
    *,
    assigned_at: datetime = MONDAY_10,
    due: date = FAR,
    role: str = TaskRole.PREPARER,
    status: str = TaskStatus.ASSIGNED,
    partner=None,
    **kwargs,
) -> Task:
    started = {"started_at": assigned_at} if status == TaskStatus.IN_PROGRESS else {}
    return TaskFactory(
        engagement=EngagementFactory(client=ClientFactory(relationship_partner=partner)),
        assignee=assignee,
        role=role,
        status=status,
        assigned_at=assigned_at,
        due_date=due,
        **started,
        **kwargs,
    )


def run(queued, now: datetime) -> dict[str, int]:
    with queued.capture(execute=True):
        return checkpoints_run(now=now)


def fired(**counts: int) -> dict[str, int]:
    return {**NOTHING, **counts}


def test_not_started_fires_48_hours_after_assignment_to_the_managers_inbox(
    queued, partner, manager, alice
):
    task = work(alice)

    early = run(queued, MONDAY_10 + timedelta(hours=48) - SECOND)
    on_time = run(queued, MONDAY_10 + timedelta(hours=48))
    queued.send()

    assert early == NOTHING
    assert on_time == fired(not_started_48h=1)
    [email] = mail.outbox
    assert email.to == [manager.email]
    engagement = task.engagement
    assert email.subject == (
        "Not started 48 hours after assignment: "
        f"{engagement.client.name} — {engagement.work_type.name}"
    )
    assert "Status: Awaiting acceptance" in email.body


def test_not_started_counts_accepted_work_but_not_started_work(queued, manager, alice):
    work(alice, status=TaskStatus.ACCEPTED)
    work(alice, status=TaskStatus.IN_PROGRESS)

    result = run(queued, MONDAY_10 + timedelta(days=3))

    assert result == fired(not_started_48h=1)


def test_due_soon_fires_three_days_before_the_due_date_to_the_assignee(queued, manager, alice):
    work(alice, status=TaskStatus.IN_PROGRESS, due=date(2026, 12, 10))

    early = run(queued, firm_time(2026, 12, 6, 23, 59, 59))
    on_time = run(queued, firm_time(2026, 12, 7))
    queued.send()

    assert early == NOTHING
    assert on_time == fired(due_in_3_days=1)
    [email] = mail.outbox
    assert email.to == [alice.email]
    assert email.subject.startswith("Due in 3 days — how is it going?: ")


def test_past_due_fires_the_day_after_to_the_clients_partner_with_a_summary(
    queued, partner, manager, alice, rel_partner
):
    work(alice, status=TaskStatus.IN_PROGRESS, due=date(2026, 11, 20), partner=rel_partner)

    early = run(queued, firm_time(2026, 11, 20, 23, 59, 59))
    on_time = run(queued, firm_time(2026, 11, 21))
    queued.send()

    assert early == NOTHING
    assert on_time == fired(past_due=1)
    [email] = mail.outbox
    assert email.to == [rel_partner.email]
    assert email.subject.startswith("Past due and not completed: ")
    for line in ("Milestone: New", "Status: In progress", "Assigned: Nov 16 10:00"):
        assert line in email.body
    assert "Started: Nov 16 10:00" in email.body and "Deadline:  Friday, November 20" in email.body


def test_past_due_without_a_relationship_partner_tells_every_partner(
    queued, partner, manager, alice, rel_partner
):
    work(alice, status=TaskStatus.IN_PROGRESS, due=date(2026, 11, 20))

    run(queued, firm_time(2026, 11, 23, 9))
    queued.send()

    assert sorted(address for email in mail.outbox for address in email.to) == sorted(
        [partner.email, rel_partner.email]
    )


@pytest.mark.parametrize(
    ("assigned_at", "boundary"),
    [
        # Monday afternoon: Tuesday is one business day, Wednesday afternoon two.
        (firm_time(2026, 11, 16, 16), firm_time(2026, 11, 18, 16)),
        # Thursday morning: the weekend does not count.
        (firm_time(2026, 11, 19, 9), firm_time(2026, 11, 23, 9)),
        # The day before Thanksgiving: the holiday does not count.
        (firm_time(2026, 11, 25, 10), firm_time(2026, 11, 30, 10)),
        # Assigned on a Saturday: the clock starts Monday morning.
        (firm_time(2026, 11, 21, 10), firm_time(2026, 11, 25)),
    ],
)
def test_review_overdue_fires_two_business_days_after_assignment_to_the_managing_partner(
    queued, partner, manager, alice, rel_partner, assigned_at, boundary
):
    work(alice, role=TaskRole.REVIEWER, assigned_at=assigned_at, partner=rel_partner)

    early = run(queued, boundary - SECOND)
    on_time = run(queued, boundary)
    queued.send()

    assert early[Checkpoint.REVIEW_OVERDUE] == 0
    assert on_time[Checkpoint.REVIEW_OVERDUE] == 1
    [email] = [e for e in mail.outbox if e.subject.startswith("Review overdue")]
    assert email.to == [partner.email]  # Pat, the most senior partner, not Rita


def test_review_overdue_ignores_preparation(queued, partner, alice):
    work(alice, role=TaskRole.PREPARER, status=TaskStatus.IN_PROGRESS)

    result = run(queued, MONDAY_10 + timedelta(days=7))

    assert result == NOTHING


def test_each_checkpoint_fires_at_most_once_however_often_it_runs(
    queued, partner, manager, alice, rel_partner
):
    task = work(alice, role=TaskRole.REVIEWER, due=date(2026, 11, 20), partner=rel_partner)
    thursday = firm_time(2026, 11, 19, 12)
    saturday = firm_time(2026, 11, 21, 12)

    runs = [
        run(queued, thursday),
        run(queued, thursday),
        run(queued, thursday + timedelta(hours=1)),
        run(queued, saturday),
        run(queued, saturday + timedelta(days=2)),
    ]
    queued.send()
    queued.send()

    assert runs == [
        fired(not_started_48h=1, due_in_3_days=1, review_overdue=1),
        NOTHING,
        NOTHING,
        fired(past_due=1),
        NOTHING,
    ]
    assert CheckpointFiring.objects.filter(task=task).count() == 4
    assert sorted(address for email in mail.outbox for address in email.to) == sorted(
        [manager.email, alice.email, partner.email, rel_partner.email]
    )


@pytest.mark.parametrize("status", [TaskStatus.COMPLETED, TaskStatus.CANCELLED])
def test_finished_work_never_fires(queued, partner, manager, alice, status):
    finished = {"completed_at": MONDAY_10} if status == TaskStatus.COMPLETED else {}
    work(alice, role=TaskRole.REVIEWER, due=date(2026, 11, 20), status=status, **finished)

    results = [
        run(queued, now)
        for now in (firm_time(2026, 11, 19, 12), firm_time(2026, 11, 23), firm_time(2027, 1, 4))
    ]

    assert results == [NOTHING] * 3
    assert not Notification.objects.exists()


def test_alert_is_skipped_if_the_task_is_completed_before_it_goes_out(queued, manager, alice):
    task = work(alice)
    run(queued, MONDAY_10 + timedelta(hours=48))

    Task.objects.filter(pk=task.pk).update(
        status=TaskStatus.COMPLETED, completed_at=MONDAY_10 + timedelta(hours=49)
    )
    statuses = queued.send()

    assert list(statuses.values()) == [NotificationStatus.SKIPPED]
    assert emails_to(manager.email) == []
    assert Notification.objects.get().template == NotificationTemplate.CHECKPOINT_NOT_STARTED


def test_one_run_sends_each_person_one_email_however_many_alerts(queued, manager, alice):
    """A new firm's first run finds its whole backlog due at once: a summary per person."""
    for index in range(3):
        work(alice, status=TaskStatus.IN_PROGRESS, due=date(2026, 12, 10), title=f"t{index}")
    work(alice, assigned_at=MONDAY_10 - timedelta(days=5))  # not started: for the manager

    result = run(queued, firm_time(2026, 12, 7))
    statuses = queued.send()

    assert result == fired(due_in_3_days=3, not_started_48h=1)
    to_alice = [m for m in mail.outbox if m.to == [alice.email]]
    assert [m.subject for m in to_alice] == ["3 tasks to look at: today's checkpoints"]
    assert to_alice[0].body.count("Due in 3 days") == 1
    assert to_alice[0].body.count("\n- ") == 3
    # The manager's single alert goes out as it is.
    [to_manager] = [m for m in mail.outbox if m.to == [manager.email]]
    assert to_manager.subject.startswith("Not started 48 hours after assignment: ")
    folded = Notification.objects.filter(template=NotificationTemplate.CHECKPOINT_DUE_SOON)
    assert {statuses[n.pk] for n in folded} == {NotificationStatus.SKIPPED}
