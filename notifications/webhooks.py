"""Outbound webhooks: events in the outbox, signed deliveries per subscription, retries.

1. ``webhook_event_record`` is called by the service where the event happens
   (an assignment, an acceptance, a hand-back, an escalation, a milestone), inside
   its transaction: the event row (with the record's next sequence number) and one
   delivery per interested subscription commit with the change or not at all.
   No interested subscription: nothing is written.
2. After commit each delivery is published to the notifications queue; a beat
   job publishes what the broker lost and what is due for a retry.
3. ``webhook_delivery_send`` claims a delivery by a conditional update, and waits
   while an earlier event of the same record is still undelivered to the same
   subscription (each endpoint gets a record's events in sequence order; one
   endpoint never waits for another). The body is signed as the Standard
   Webhooks specification says (``webhook-id``, ``webhook-timestamp``,
   ``webhook-signature: v1,<base64>`` — one per active secret during a rotation).
4. 2xx: delivered. 410: the subscription is disabled. Anything else — a 3xx
   (redirects are not followed), 4xx, 5xx, a timeout (15 s), a refused address —
   is retried on Svix's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; ±10 %
   jitter; never sooner than the endpoint's Retry-After), then failed. A
   subscription failing for 5 days is disabled and its owner told by email.
Every attempt is logged with its status, a response excerpt and its duration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from core.queue import enqueue
from notifications.choices import DeliveryStatus, NotificationTemplate, SubjectType
from notifications.models import (
    WebhookAllowedHost,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)

SEND_WEBHOOK_TASK = "notifications.tasks.webhook_delivery_send_task"
# Svix's schedule: the first attempt at once, then these delays after each failure.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
JITTER = 0.1
TIMEOUT_SECONDS = 15
DISABLE_AFTER = timedelta(days=5)
PREVIOUS_SECRET_KEPT = timedelta(hours=24)
COUNTDOWN_LIMIT = 60  # longer delays wait for the beat job, not in the broker
STUCK_AFTER = timedelta(minutes=15)
REQUEUE_BATCH = 500
EXCERPT = 500


# --- Secrets and signatures ----------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`` (Standard Webhooks)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return (
        "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
    )


def active_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    found = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and (expires is None or expires > now):
        found.append(subscription.previous_secret)
    return found


def webhook_subscription_create(
    *, name: str, url: str, event_types: list[str], owner: Any = None
) -> WebhookSubscription:
    """A new subscription with a fresh ``whsec_`` secret; its URL must pass the SSRF check."""
    url_check(url)
    subscription = WebhookSubscription.objects.create(
        name=name, url=url, event_types=list(event_types), owner=owner, secret=new_secret()
    )
    subscriptions_changed()
    return subscription


def webhook_subscription_update(*, subscription_id: int, **changes: Any) -> WebhookSubscription:
    """Change name, URL, event types or re-enable (a new URL passes the SSRF check first)."""
    if "url" in changes:
        url_check(changes["url"])
    subscription = WebhookSubscription.objects.get(pk=subscription_id)
    for field, value in changes.items():
        setattr(subscription, field, value)
    if changes.get("active"):
        subscription.disabled_at = None
        subscription.disabled_reason = ""
        subscription.failing_since = None
    subscription.save()
    subscriptions_changed()
    return subscription


@transaction.atomic
def webhook_subscription_rotate_secret(*, subscription_id: int) -> WebhookSubscription:
    """A new secret now; the old one still signs (beside it) for a day."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_KEPT
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return subscription


# --- SSRF guard -----------------------------------------------------------------------------------


class AddressRefused(Exception):
    """The URL points inside the firm's network (or nowhere) and no admin allowed its host."""


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (
            isinstance(ip, ipaddress.IPv6Address)
            and ip.ipv4_mapped is not None
            and _blocked(str(ip.ipv4_mapped))
        )
    )


def url_check(url: str) -> None:
    """Refuse URLs whose host resolves to a loopback, private or link-local address, unless
    an admin allowed the host; also anything but http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("Use an http:// or https:// URL with a host name.")
    host = parts.hostname.lower()
    if WebhookAllowedHost.objects.filter(host=host).exists():
        return
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{host} does not resolve: {exc}") from None
    for info in infos:
        address = str(info[4][0])
        if _blocked(address):
            raise AddressRefused(
                f"{host} resolves to {address}, a private, loopback or link-local address; "
                "an admin must allow the host first."
            )


# --- Recording events ------------------------------------------------------------------------------


SUBSCRIPTIONS_CACHE_KEY = "notifications:webhook-subscriptions"


def subscriptions_changed() -> None:
    """Forget the cached list of active subscriptions (after any change to one)."""
    cache.delete(SUBSCRIPTIONS_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(SUBSCRIPTIONS_CACHE_KEY))


def subscriptions_wanting(event_type: str) -> list[int]:
    """Active subscriptions wanting ``event_type``: read from the cache, so the services'
    hot paths (every assignment) cost no query when nothing changed."""
    rows = cache.get(SUBSCRIPTIONS_CACHE_KEY)
    if rows is None:
        rows = [
            (pk, types)
            for pk, types in WebhookSubscription.objects.filter(active=True).values_list(
                "pk", "event_types"
            )
            if isinstance(types, list)
        ]
        cache.set(SUBSCRIPTIONS_CACHE_KEY, rows, timeout=60)
    return [pk for pk, types in rows if event_type in types]


def webhook_event_record(
    *, event_type: str, record_type: str, record_id: int, data: dict[str, Any]
) -> WebhookEvent | None:
    """Record an event for the subscriptions that want it (step 1 above).

    Call inside the transaction of the change, after the record's row is locked
    (the services that call it hold it): the sequence is the record's next number.
    """
    subscription_ids = subscriptions_wanting(event_type)
    if not subscription_ids:
        return None
    now = timezone.now()
    for _ in range(3):
        last = WebhookEvent.objects.filter(record_type=record_type, record_id=record_id).aggregate(
            n=Max("sequence")
        )["n"]
        sequence = (last or 0) + 1
        payload = {
            "type": event_type,
            "timestamp": now.isoformat(),
            "data": {
                "record": {"type": record_type, "id": record_id},
                "sequence": sequence,
                **data,
            },
        }
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    event_type=event_type,
                    record_type=record_type,
                    record_id=record_id,
                    sequence=sequence,
                    payload=payload,
                    created_at=now,
                )
        except IntegrityError:
            continue  # another transaction took this number first: take the next
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=event, subscription_id=pk) for pk in subscription_ids
        )
        for delivery in deliveries:
            enqueue(SEND_WEBHOOK_TASK, delivery.pk)
        return event
    raise IntegrityError(f"could not number an event of {record_type} {record_id}")


# --- Sending ----------------------------------------------------------------------------------------


def _earlier_undelivered(delivery: WebhookDelivery) -> bool:
    return WebhookDelivery.objects.filter(
        subscription_id=delivery.subscription_id,
        event__record_type=delivery.event.record_type,
        event__record_id=delivery.event.record_id,
        event__sequence__lt=delivery.event.sequence,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.DELIVERING],
    ).exists()


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            pk=delivery_id,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
            subscription__active=True,
        ).update(status=DeliveryStatus.DELIVERING, attempts=F("attempts") + 1, claimed_at=now)
    )


def _retry_after(response: requests.Response | None) -> float:
    if response is None:
        return 0
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else 0


def webhook_delivery_send(*, delivery_id: int) -> str:
    """One attempt at one delivery (steps 3 and 4 above); its status afterwards."""
    delivery = (
        WebhookDelivery.objects.select_related("event", "subscription")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return "missing"
    if delivery.status in (
        DeliveryStatus.PENDING,
        DeliveryStatus.RETRYING,
    ) and _earlier_undelivered(delivery):
        return "waiting"  # sent when the earlier event of this record is settled
    now = timezone.now()
    if not _claim(delivery_id, now):
        return str(WebhookDelivery.objects.values_list("status", flat=True).get(pk=delivery_id))
    delivery.refresh_from_db(fields=["attempts"])
    subscription, event = delivery.subscription, delivery.event
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Closeloop-Webhooks/1",
        "webhook-id": event.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret=s, message_id=event.message_id, timestamp=timestamp, body=body)
            for s in active_secrets(subscription, now)
        ),
    }
    response: requests.Response | None = None
    error = ""
    started = time.perf_counter()
    try:
        url_check(subscription.url)
        response = requests.post(
            subscription.url,
            data=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except AddressRefused as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration = int((time.perf_counter() - started) * 1000)
    code = response.status_code if response is not None else None
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=code,
        duration_ms=duration,
        response_excerpt=(response.text[:EXCERPT] if response is not None else ""),
        error=error[:300],
    )
    if code is not None and 200 <= code < 300:
        return _delivered(delivery, code)
    if code == 410:
        _settle(delivery, DeliveryStatus.FAILED, code, "410 Gone: the endpoint asked to stop.")
        webhook_subscription_disable(
            subscription_id=subscription.pk, reason="The endpoint answered 410 Gone."
        )
        return DeliveryStatus.FAILED
    reason = error or f"HTTP {code}" + (
        " (redirects are not followed)" if code and 300 <= code < 400 else ""
    )
    return _failed_attempt(delivery, code, reason, _retry_after(response))


def _settle(
    delivery: WebhookDelivery, status: str, code: int | None, error: str, **extra: Any
) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, last_status_code=code, last_error=error[:300], next_attempt_at=None, **extra
    )


def _next_in_line(delivery: WebhookDelivery) -> None:
    """Publish the record's next event for this subscription (it waited for this one)."""
    following = (
        WebhookDelivery.objects.filter(
            subscription_id=delivery.subscription_id,
            event__record_type=delivery.event.record_type,
            event__record_id=delivery.event.record_id,
            event__sequence__gt=delivery.event.sequence,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
        )
        .order_by("event__sequence")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        enqueue(SEND_WEBHOOK_TASK, following)


def _delivered(delivery: WebhookDelivery, code: int) -> str:
    _settle(delivery, DeliveryStatus.DELIVERED, code, "", delivered_at=timezone.now())
    WebhookSubscription.objects.filter(
        pk=delivery.subscription_id, failing_since__isnull=False
    ).update(failing_since=None)
    _next_in_line(delivery)
    return DeliveryStatus.DELIVERED


def retry_delay(
    attempts: int, retry_after: float = 0, *, rng: random.Random | None = None
) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones (None past the schedule)."""
    base = RETRY_SCHEDULE[attempts - 1]
    jittered = base * (1 + (rng or random).uniform(-JITTER, JITTER))
    return max(jittered, min(retry_after, RETRY_SCHEDULE[-1]))


def _failed_attempt(
    delivery: WebhookDelivery, code: int | None, reason: str, retry_after: float
) -> str:
    now = timezone.now()
    WebhookSubscription.objects.filter(
        pk=delivery.subscription_id, failing_since__isnull=True
    ).update(failing_since=now)
    failing_since = (
        WebhookSubscription.objects.values_list("failing_since", flat=True).get(
            pk=delivery.subscription_id
        )
        or now
    )
    if now - failing_since >= DISABLE_AFTER:
        _settle(delivery, DeliveryStatus.FAILED, code, reason)
        webhook_subscription_disable(
            subscription_id=delivery.subscription_id,
            reason=f"Failing since {failing_since:%Y-%m-%d %H:%M} UTC (5 days): {reason}",
        )
        return DeliveryStatus.FAILED
    if delivery.attempts >= MAX_ATTEMPTS:
        _settle(
            delivery,
            DeliveryStatus.FAILED,
            code,
            f"Gave up after {delivery.attempts} attempts: {reason}",
        )
        _next_in_line(delivery)
        return DeliveryStatus.FAILED
    delay = retry_delay(delivery.attempts, retry_after)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.RETRYING,
        last_status_code=code,
        last_error=reason[:300],
        next_attempt_at=now + timedelta(seconds=delay),
    )
    if delay <= COUNTDOWN_LIMIT:
        enqueue(SEND_WEBHOOK_TASK, delivery.pk, countdown=delay)
    return DeliveryStatus.RETRYING


@transaction.atomic
def webhook_subscription_disable(*, subscription_id: int, reason: str) -> bool:
    """Stop delivering to a subscription and tell its owner (once)."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if not subscription.active:
        return False
    subscription.active = False
    subscription.disabled_at = timezone.now()
    subscription.disabled_reason = reason[:300]
    subscription.save(update_fields=["active", "disabled_at", "disabled_reason"])
    subscriptions_changed()
    owner_email = subscription.owner.email if subscription.owner_id and subscription.owner else ""
    if owner_email:
        from notifications.services import Message, notify

        notify(
            Message(
                subject_type=SubjectType.WEBHOOK_SUBSCRIPTION,
                subject_id=subscription.pk,
                template=NotificationTemplate.WEBHOOK_DISABLED,
                subject=f"Webhook disabled: {subscription.name}",
                context={
                    "subscription": subscription,
                    "reason": reason,
                    "firm_name": settings.FIRM_NAME,
                },
                step=int(subscription.disabled_at.timestamp()) if subscription.disabled_at else 0,
            ),
            emails=[owner_email],
        )
    return True


# --- Replay and the beat --------------------------------------------------------------------------


@transaction.atomic
def webhook_subscription_replay_since(*, subscription_id: int, since: datetime) -> int:
    """Deliver again every event since ``since`` this subscription wants (re-enabling it):
    failed deliveries start over, events it never had get a delivery."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if not subscription.active:
        subscription.active = True
        subscription.disabled_at = None
        subscription.disabled_reason = ""
        subscription.failing_since = None
        subscription.save(
            update_fields=["active", "disabled_at", "disabled_reason", "failing_since"]
        )
    events = WebhookEvent.objects.filter(
        created_at__gte=since, event_type__in=subscription.event_types
    )
    have = set(
        WebhookDelivery.objects.filter(subscription=subscription, event__in=events).values_list(
            "event_id", flat=True
        )
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event_id=pk, subscription=subscription)
        for pk in events.values_list("pk", flat=True)
        if pk not in have
    )
    WebhookDelivery.objects.filter(
        subscription=subscription, event__in=events, status=DeliveryStatus.FAILED
    ).update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, last_error="")
    queued = list(
        WebhookDelivery.objects.filter(
            subscription=subscription, event__in=events, status=DeliveryStatus.PENDING
        ).values_list("pk", flat=True)
    )
    for delivery_id in queued:
        enqueue(SEND_WEBHOOK_TASK, delivery_id)
    return len(queued)


@transaction.atomic
def webhook_delivery_replay(*, delivery_id: int) -> bool:
    """Send a failed delivery again (attempts start over)."""
    reset = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, last_error=""
    )
    if reset:
        enqueue(SEND_WEBHOOK_TASK, delivery_id)
    return bool(reset)


def webhook_deliveries_requeue(*, now: datetime | None = None) -> int:
    """Publish deliveries due for a retry or lost by the broker; free stuck claims."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(
        status=DeliveryStatus.DELIVERING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=DeliveryStatus.RETRYING, next_attempt_at=now)
    cutoff = now - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(subscription__active=True)
        .filter(
            Q(status=DeliveryStatus.PENDING, created_at__lte=cutoff)
            | Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:REQUEUE_BATCH]
    )
    for delivery_id in ids:
        enqueue(SEND_WEBHOOK_TASK, delivery_id)
    return len(ids)
