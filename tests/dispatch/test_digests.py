"""A sweep's escalations reach each manager as one digest grouped by cause, never one
email per task (issue 10: a new firm's first sweep sent 130 "nobody fits" emails)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dispatch.choices import Trigger
from dispatch.digests import STRAGGLER_AGE, escalation_digest_send
from dispatch.engine.fit import CAPACITY_LABELS, DEADLINES, OVER_THRESHOLD, SHORT_OF_HOURS
from dispatch.messages import (
    CAUSE_CAPACITY,
    CAUSE_DEADLINE,
    CAUSE_SKILLS,
    assignments_fold,
    escalation_cause,
)
from dispatch.models import DispatchDecision, Escalation
from dispatch.services import task_dispatch
from dispatch.sweeps import dispatch_sweep, sweep_candidates
from engagements.choices import TaskRole
from engagements.models import Task
from notifications.choices import NotificationStatus, NotificationTemplate
from notifications.models import Notification
from staff.choices import Seniority
from tests.dispatch.builders import bookkeeping_task, load_up
from tests.factories import ClientFactory, EngagementFactory, TaskFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
SOON = date(2026, 12, 1)  # within the sweep's ten business days


def notes(template: str, member=None) -> list[Notification]:
    rows = Notification.objects.filter(template=template, channel="email")
    if member is not None:
        rows = rows.filter(staff_member=member)
    return list(rows)


@pytest.fixture
def full_team(skilled, manager):
    """Two bookkeepers reporting to the manager, both past their threshold."""
    team = [skilled(name, "bookkeeping", manager=manager) for name in ("ann", "ben")]
    for member in team:
        load_up(member, "60", due=date(2026, 11, 27))
    return team


def test_a_sweep_tells_each_manager_once_grouped_by_cause(
    client_co, manager, full_team, django_capture_on_commit_callbacks
):
    for index in range(5):
        bookkeeping_task(client_co, due_date=SOON, name=f"books {index}")
    demanding = ClientFactory(name="Demanding Co", min_seniority=5)  # nobody is senior enough
    bookkeeping_task(demanding, due_date=SOON, name="needs a director")

    with django_capture_on_commit_callbacks(execute=True):
        dispatch_sweep(today=TODAY)

    opened = Escalation.objects.filter(status="open")
    assert opened.count() >= 5
    assert not opened.filter(notified_at__isnull=True).exists()
    assert notes(NotificationTemplate.ESCALATION_OPENED) == []
    digests = notes(NotificationTemplate.ESCALATION_DIGEST, manager)
    assert len(digests) == 1
    body = digests[0].body
    assert f"{CAUSE_CAPACITY}: 5" in body
    assert f"{CAUSE_SKILLS}: 1" in body
    assert body.count(client_co.name) == 5 and "Demanding Co" in body


def test_the_digest_runs_once_per_batch(client_co, manager, full_team):
    bookkeeping_task(client_co, due_date=SOON)
    dispatch_sweep(today=TODAY)
    stored = len(notes(NotificationTemplate.ESCALATION_DIGEST))

    assert escalation_digest_send() == 0
    assert len(notes(NotificationTemplate.ESCALATION_DIGEST)) == stored == 1


def test_an_escalation_an_event_opens_is_told_at_once(client_co, manager, full_team):
    task = bookkeeping_task(client_co, due_date=SOON)

    task_dispatch(task_id=task.pk, trigger=Trigger.DOCUMENTS_RECEIVED, today=TODAY)

    assert len(notes(NotificationTemplate.ESCALATION_OPENED, manager)) == 1
    assert Escalation.objects.get(task=task).notified_at is not None


def test_escalations_a_dead_sweep_left_untold_go_out_later_not_while_a_sweep_runs(
    client_co, manager, full_team
):
    task = bookkeeping_task(client_co, due_date=SOON)
    task_dispatch(task_id=task.pk, trigger=Trigger.DEADLINE_PROXIMITY, today=TODAY, batch=True)
    assert Escalation.objects.get(task=task).notified_at is None

    assert escalation_digest_send(older_than=STRAGGLER_AGE) == 0  # a sweep may still run
    later = timezone.now() + STRAGGLER_AGE + timedelta(minutes=1)
    assert escalation_digest_send(older_than=STRAGGLER_AGE, now=later) == 1
    assert len(notes(NotificationTemplate.ESCALATION_DIGEST, manager)) == 1


# --- A batch's assignments: one email per assignee -------------------------------------


def test_a_sweep_folds_each_assignees_new_tasks_into_one_email(client_co, skilled, queued):
    bea = skilled("bea", "bookkeeping")
    clients = [ClientFactory(name=f"Client {n}") for n in range(3)]
    for client in clients:
        bookkeeping_task(client, due_date=SOON, estimated_hours=2)

    with queued.capture(execute=True):
        dispatch_sweep(today=TODAY)
    outcome = queued.send()

    [digest] = notes(NotificationTemplate.TASK_ASSIGNED_DIGEST, bea)
    assert digest.subject == "3 new assignments"
    assert all(client.name in digest.body for client in clients)
    assert digest.body.count("Accept: ") == 3  # each task keeps its one-click link
    singles = notes(NotificationTemplate.TASK_ASSIGNED, bea)
    assert len(singles) == 3
    assert {outcome[row.pk] for row in singles} == {NotificationStatus.SKIPPED}
    assert outcome[digest.pk] == NotificationStatus.SENT
    assert [m.subject for m in mail.outbox if bea.email in m.to] == ["3 new assignments"]


def test_one_assignment_in_a_sweep_keeps_its_own_email_with_the_calendar(
    client_co, skilled, queued
):
    bea = skilled("bea", "bookkeeping")
    bookkeeping_task(client_co, due_date=SOON, estimated_hours=2)

    with queued.capture(execute=True):
        dispatch_sweep(today=TODAY)
    queued.send()

    assert notes(NotificationTemplate.TASK_ASSIGNED_DIGEST) == []
    [email] = [m for m in mail.outbox if bea.email in m.to]
    assert email.subject.startswith("New assignment: Harbor Point Dental")
    assert email.attachments or "text/calendar" in str(email.message())


def test_a_fold_leaves_a_message_already_on_its_way(client_co, skilled):
    bea = skilled("bea", "bookkeeping")
    for name in ("One", "Two", "Three"):
        bookkeeping_task(ClientFactory(name=name), due_date=SOON, estimated_hours=2)
    started = timezone.now()
    for task_id in Task.objects.values_list("pk", flat=True):
        task_dispatch(task_id=task_id, trigger=Trigger.DEADLINE_PROXIMITY, today=TODAY, batch=True)
    first = Notification.objects.filter(template=NotificationTemplate.TASK_ASSIGNED).first()
    Notification.objects.filter(pk=first.pk).update(status=NotificationStatus.SENDING)

    assignments_fold(since=started)

    first.refresh_from_db()
    assert first.status == NotificationStatus.SENDING
    [digest] = notes(NotificationTemplate.TASK_ASSIGNED_DIGEST, bea)
    assert digest.subject == "2 new assignments"  # the third is already on its way


def test_a_sweep_leaves_a_review_whose_preparation_nobody_holds(client_co, skilled):
    skilled("rex", "bookkeeping", seniority=Seniority.SENIOR)
    review = TaskFactory(
        engagement=EngagementFactory(client=client_co),
        role=TaskRole.REVIEWER,
        due_date=SOON,
        estimated_hours=2,
    )
    TaskFactory(engagement=review.engagement, role=TaskRole.PREPARER, due_date=SOON)

    assert review.pk not in sweep_candidates(today=TODAY)


def test_capacity_is_the_cause_only_when_everyone_qualified_is_over_their_threshold():
    def cause(*rules: str) -> str:
        rows = [{"qualified": True, "rule": rule} for rule in rules]
        return escalation_cause(Escalation(decision=DispatchDecision(candidates=rows)))

    over, short, slip = (
        CAPACITY_LABELS[code] for code in (OVER_THRESHOLD, SHORT_OF_HOURS, DEADLINES)
    )
    assert cause(over, over) == CAUSE_CAPACITY
    assert cause(over, short) == CAUSE_DEADLINE
    assert cause(slip) == CAUSE_DEADLINE
    assert cause() == CAUSE_SKILLS
