"""Outbound events come from the services where things happen, in their transaction."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch import lifecycle
from dispatch.choices import Trigger
from dispatch.services import task_dispatch
from engagements.choices import TaskRole
from engagements.milestones import engagement_transition
from engagements.models import MilestoneSource, WorkType
from engagements.services import engagement_create
from notifications.choices import WebhookEventType
from notifications.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from notifications.webhooks import new_secret

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 17)


@pytest.fixture
def subscription(db):
    return WebhookSubscription.objects.create(
        name="All",
        url="https://hooks.example.com/closeloop",
        secret=new_secret(),
        event_types=[choice.value for choice in WebhookEventType],
    )


def events(record_type: str, record_id: int) -> list[tuple[int, str]]:
    return list(
        WebhookEvent.objects.filter(record_type=record_type, record_id=record_id)
        .order_by("sequence")
        .values_list("sequence", "event_type")
    )


def test_assignment_acceptance_and_hand_back_are_events_of_the_task_in_order(
    broker, subscription, skilled, client_co, frozen_now
):
    alice = skilled("alice", "bookkeeping")
    bob = skilled("bob", "bookkeeping")
    engagement = engagement_create(
        client=client_co,
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
    )
    task = engagement.tasks.get(role=TaskRole.PREPARER)
    task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)
    task.refresh_from_db()
    first = task.assignee
    lifecycle.task_accept(task_id=task.pk, staff=first)
    lifecycle.task_hand_back(task_id=task.pk, staff=first, reason="On leave next week")

    assert events("task", task.pk) == [
        (1, "assignment.created"),
        (2, "task.accepted"),
        (3, "task.reassignment_requested"),
        (4, "assignment.created"),
    ]
    second = WebhookEvent.objects.get(record_type="task", record_id=task.pk, sequence=4)
    assert second.payload["data"]["task"]["assignee_id"] == ({alice.pk, bob.pk} - {first.pk}).pop()
    assert (
        WebhookDelivery.objects.filter(subscription=subscription, event__record_type="task").count()
        == 4
    )


def test_milestones_are_events_of_the_engagement(broker, subscription, client_co):
    engagement = engagement_create(
        client=client_co,
        work_type=WorkType.objects.get(code="audit"),
        due_date=date(2027, 3, 1),
    )
    engagement_transition(
        engagement_id=engagement.pk, to="in_preparation", source=MilestoneSource.BUTTON
    )

    changes = WebhookEvent.objects.filter(
        record_type="engagement", record_id=engagement.pk
    ).order_by("sequence")
    assert [(e.payload["data"]["from"], e.payload["data"]["to"]) for e in changes] == [
        ("new", "kickoff_signed"),
        ("kickoff_signed", "in_preparation"),
    ]


def test_an_escalation_is_an_event(broker, subscription, skilled, client_co, frozen_now):
    engagement = engagement_create(
        client=client_co,
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
    )
    task = engagement.tasks.get(role=TaskRole.PREPARER)  # nobody holds the skill

    task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)

    assert events("task", task.pk) == [(1, "escalation.opened")]


def test_a_subscription_gets_only_the_types_it_asked_for(broker, client_co):
    WebhookSubscription.objects.create(
        name="Milestones only",
        url="https://hooks.example.com/m",
        secret=new_secret(),
        event_types=["engagement.milestone_changed"],
    )
    engagement = engagement_create(
        client=client_co, work_type=WorkType.objects.get(code="audit"), due_date=date(2027, 3, 1)
    )
    task = engagement.tasks.get(role=TaskRole.PREPARER)
    task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)

    assert not WebhookEvent.objects.filter(record_type="task").exists()
    assert WebhookEvent.objects.filter(record_type="engagement").count() == 1
