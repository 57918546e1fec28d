"""Outbound webhooks: Standard Webhooks signatures, per-record order, Svix's retry schedule,
410 and five days of failure disable, SSRF refused, replay, and the services' hooks."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from notifications.choices import DeliveryStatus, NotificationTemplate, WebhookEventType
from notifications.models import (
    Notification,
    WebhookAllowedHost,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from notifications.webhooks import (
    MAX_ATTEMPTS,
    RETRY_SCHEDULE,
    SEND_WEBHOOK_TASK,
    new_secret,
    retry_delay,
    webhook_deliveries_requeue,
    webhook_delivery_send,
    webhook_event_record,
    webhook_subscription_replay_since,
    webhook_subscription_rotate_secret,
)
from tests.factories import UserFactory
from tests.notifications.receiver import Receiver

pytestmark = pytest.mark.django_db

ALL_TYPES = [choice.value for choice in WebhookEventType]


def subscribe(receiver: Receiver, *, allow: bool = True, **fields) -> WebhookSubscription:
    if allow:
        WebhookAllowedHost.objects.get_or_create(host="127.0.0.1")
    secret = new_secret()
    receiver.secret = secret
    defaults = {
        "name": "Firm's script",
        "url": receiver.url,
        "secret": secret,
        "event_types": ALL_TYPES,
    }
    defaults.update(fields)
    return WebhookSubscription.objects.create(**defaults)


def record(kind: str = WebhookEventType.TASK_ACCEPTED, record_id: int = 7, **data) -> WebhookEvent:
    with transaction.atomic():
        event = webhook_event_record(
            event_type=kind, record_type="task", record_id=record_id, data=data
        )
    assert event is not None
    return event


def send_due() -> dict[int, str]:
    """What the worker would do now: attempt every delivery that is due, oldest first."""
    WebhookDelivery.objects.filter(status=DeliveryStatus.RETRYING).update(
        next_attempt_at=timezone.now()
    )
    return {
        d.pk: webhook_delivery_send(delivery_id=d.pk)
        for d in WebhookDelivery.objects.order_by("event__sequence", "pk")
        .filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING])
        .select_related("event")
    }


def test_no_subscription_no_event_row(broker):
    with transaction.atomic():
        assert (
            webhook_event_record(
                event_type="task.accepted", record_type="task", record_id=1, data={}
            )
            is None
        )
    assert not WebhookEvent.objects.exists()


def test_a_delivery_verifies_with_the_standardwebhooks_package(broker, receiver):
    subscription = subscribe(receiver)
    event = record(task={"id": 7})

    assert (
        webhook_delivery_send(delivery_id=WebhookDelivery.objects.get().pk)
        == DeliveryStatus.DELIVERED
    )

    assert receiver.verified == [True]
    got = receiver.received[0]
    assert got["headers"]["webhook-id"] == event.message_id
    assert got["payload"]["type"] == "task.accepted"
    assert got["payload"]["data"]["sequence"] == 1
    attempt = WebhookAttempt.objects.get()
    assert (
        attempt.status_code == 200 and attempt.response_excerpt == "ok" and attempt.duration_ms >= 0
    )
    assert subscription.deliveries.get().status == DeliveryStatus.DELIVERED


def test_sequence_numbers_count_per_record(broker, receiver):
    subscribe(receiver)
    a1, b1, a2 = record(record_id=1), record(record_id=2), record(record_id=1)

    assert (a1.sequence, b1.sequence, a2.sequence) == (1, 1, 2)


def test_a_failing_then_recovering_receiver_gets_every_event_once_in_sequence_order(
    broker, receiver
):
    subscribe(receiver)
    events = [record(record_id=1, n=i) for i in range(4)] + [record(record_id=2, n=9)]
    receiver.fail_next(500, 503, 502)

    for _ in range(10):
        send_due()
        if not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists():
            break

    delivered = [r["payload"] for r in receiver.received if r["status"] == 200]
    ids = [r["headers"]["webhook-id"] for r in receiver.received if r["status"] == 200]
    assert sorted(ids) == sorted(e.message_id for e in events)  # each exactly once
    assert len(ids) == len(set(ids))
    per_record = [p["data"]["sequence"] for p in delivered if p["data"]["record"]["id"] == 1]
    assert per_record == [1, 2, 3, 4]
    assert all(receiver.verified)


def test_one_endpoints_failures_never_delay_another(broker, receiver):
    subscribe(receiver)
    broken = WebhookSubscription.objects.create(
        name="Broken", url="http://127.0.0.1:9/nothing", secret=new_secret(), event_types=ALL_TYPES
    )
    record(record_id=1)

    send_due()

    assert WebhookDelivery.objects.get(subscription=broken).status == DeliveryStatus.RETRYING
    assert (
        WebhookDelivery.objects.exclude(subscription=broken).get().status
        == DeliveryStatus.DELIVERED
    )


def test_retry_schedule_is_svix_with_jitter_and_honours_retry_after(broker, receiver):
    rng = random.Random(1)
    assert RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000) and MAX_ATTEMPTS == 8
    for attempts, base in enumerate(RETRY_SCHEDULE, start=1):
        assert base * 0.9 <= retry_delay(attempts, rng=rng) <= base * 1.1
    subscribe(receiver)
    record()
    receiver.fail_next(429, headers={"Retry-After": "900"})

    assert send_due() and WebhookDelivery.objects.get().status == DeliveryStatus.RETRYING
    delivery = WebhookDelivery.objects.get()
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=890)
    assert delivery.last_status_code == 429


def test_gives_up_after_the_schedule(broker, receiver):
    subscribe(receiver)
    record()
    receiver.fail_next(*([500] * MAX_ATTEMPTS))

    for _ in range(MAX_ATTEMPTS):
        send_due()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == MAX_ATTEMPTS
    assert WebhookAttempt.objects.count() == MAX_ATTEMPTS


def test_a_redirect_is_a_failure_and_is_not_followed(broker, receiver):
    subscribe(receiver)
    record()
    receiver.fail_next(302, headers={"Location": "http://169.254.169.254/latest"})

    send_due()

    delivery = WebhookDelivery.objects.get()
    assert (
        delivery.status == DeliveryStatus.RETRYING
        and "redirects are not followed" in delivery.last_error
    )
    assert len(receiver.received) == 1


def test_410_disables_the_subscription(broker, receiver):
    owner = UserFactory(email="owner@firm.example")
    subscription = subscribe(receiver, owner=owner)
    record()
    receiver.fail_next(410)

    send_due()

    subscription.refresh_from_db()
    assert not subscription.active and "410" in subscription.disabled_reason
    assert Notification.objects.filter(
        template=NotificationTemplate.WEBHOOK_DISABLED, recipient="owner@firm.example"
    ).exists()


def test_failing_for_five_days_disables_and_tells_the_owner(broker, receiver):
    owner = UserFactory(email="owner@firm.example")
    subscription = subscribe(receiver, owner=owner)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1)
    )
    record()
    receiver.fail_next(500)

    send_due()

    subscription.refresh_from_db()
    assert not subscription.active and "5 days" in subscription.disabled_reason
    assert Notification.objects.filter(template=NotificationTemplate.WEBHOOK_DISABLED).count() == 1


def test_a_success_clears_the_failing_clock(broker, receiver):
    subscription = subscribe(receiver)
    record()
    receiver.fail_next(500)
    send_due()
    assert WebhookSubscription.objects.get(pk=subscription.pk).failing_since is not None

    send_due()

    assert WebhookSubscription.objects.get(pk=subscription.pk).failing_since is None


def test_a_private_address_is_refused_unless_an_admin_allows_the_host(broker, receiver):
    subscribe(receiver, allow=False)
    record()

    send_due()

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING and "private" in delivery.last_error
    assert receiver.received == []
    WebhookAllowedHost.objects.create(host="127.0.0.1")
    send_due()
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_during_a_rotation_both_secrets_sign(broker, receiver):
    subscription = subscribe(receiver)
    old = subscription.secret
    webhook_subscription_rotate_secret(subscription_id=subscription.pk)
    subscription.refresh_from_db()
    record()

    send_due()

    from standardwebhooks.webhooks import Webhook

    got = receiver.received[0]
    assert len(got["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (old, subscription.secret):
        Webhook(secret).verify(got["body"], got["headers"])


def test_replay_since_delivers_failed_events_again(broker, receiver):
    subscription = subscribe(receiver)
    before = timezone.now() - timedelta(minutes=1)
    record()
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, attempts=MAX_ATTEMPTS)

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert webhook_subscription_replay_since(subscription_id=subscription.pk, since=before) == 1
    send_due()

    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
    assert broker.named(SEND_WEBHOOK_TASK)


def test_the_beat_job_publishes_what_is_due(broker, receiver):
    subscribe(receiver)
    record()
    broker.messages.clear()
    assert webhook_deliveries_requeue() == 0
    WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert webhook_deliveries_requeue() == 1
    assert broker.named(SEND_WEBHOOK_TASK) == [(WebhookDelivery.objects.get().pk,)]
