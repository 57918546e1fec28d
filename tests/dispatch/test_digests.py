"""A sweep's escalations reach each manager as one digest grouped by cause, never one
email per task (issue 10: a new firm's first sweep sent 130 "nobody fits" emails)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from dispatch.choices import Trigger
from dispatch.digests import STRAGGLER_AGE, escalation_digest_send
from dispatch.messages import CAUSE_CAPACITY, CAUSE_SKILLS
from dispatch.models import Escalation
from dispatch.services import task_dispatch
from dispatch.sweeps import dispatch_sweep
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from tests.dispatch.builders import bookkeeping_task, load_up
from tests.factories import ClientFactory

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
    task_dispatch(
        task_id=task.pk, trigger=Trigger.DEADLINE_PROXIMITY, today=TODAY, announce_escalation=False
    )
    assert Escalation.objects.get(task=task).notified_at is None

    assert escalation_digest_send(older_than=STRAGGLER_AGE) == 0  # a sweep may still run
    later = timezone.now() + STRAGGLER_AGE + timedelta(minutes=1)
    assert escalation_digest_send(older_than=STRAGGLER_AGE, now=later) == 1
    assert len(notes(NotificationTemplate.ESCALATION_DIGEST, manager)) == 1
