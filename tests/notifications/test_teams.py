"""Microsoft Teams beside Slack: a Workflows webhook per person, or the firm's channel."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from notifications.choices import Channel, NotificationStatus, SubjectType
from notifications.models import Notification, TeamsWebhook
from notifications.services import Message, Stored, notification_send, notify
from tests.notifications.receiver import Receiver

pytestmark = pytest.mark.django_db


def tell(member, step: int = 0) -> list[Stored]:
    with transaction.atomic():
        return notify(
            Message(
                subject_type=SubjectType.STAFF,
                subject_id=member.pk,
                template="escalation_digest",
                subject="Three tasks need a person",
                context={"groups": [], "firm_name": "Closeloop CPA"},
                step=step,
                layout="escalation_digest",
            ),
            staff=[member],
        )


def test_no_teams_webhook_no_teams_message(broker, alice):
    rows = tell(alice)

    assert Channel.TEAMS not in {row.channel for row in rows}


def test_a_persons_own_teams_webhook_gets_an_adaptive_card(broker, alice, receiver: Receiver):
    TeamsWebhook.objects.create(staff_member=alice, url=receiver.url)

    teams = next(row for row in tell(alice) if row.channel == Channel.TEAMS)
    status = notification_send(notification_id=teams.pk)

    assert status == NotificationStatus.SENT
    card = json.loads(receiver.received[0]["body"])
    assert card["type"] == "message"
    attachment = card["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    texts = [block["text"] for block in attachment["content"]["body"]]
    assert texts[0] == "Three tasks need a person"


def test_without_their_own_the_firm_channel_is_used(broker, alice, bob, receiver: Receiver):
    TeamsWebhook.objects.create(staff_member=None, url=receiver.url, label="#close-team")

    teams = next(row for row in tell(bob) if row.channel == Channel.TEAMS)
    assert notification_send(notification_id=teams.pk) == NotificationStatus.SENT
    body = json.loads(receiver.received[0]["body"])
    assert "Bob" in json.dumps(body)


def test_teams_failures_retry_then_show_as_failed(broker, alice, receiver: Receiver):
    TeamsWebhook.objects.create(staff_member=alice, url=receiver.url)
    receiver.fail_next(503, 400)
    teams = next(row for row in tell(alice) if row.channel == Channel.TEAMS)

    assert notification_send(notification_id=teams.pk) == NotificationStatus.RETRYING
    Notification.objects.filter(pk=teams.pk).update(send_after=None)
    assert notification_send(notification_id=teams.pk) == NotificationStatus.FAILED
