"""The outbox: store a message per recipient, send each at most once, retry, reap.

1. A builder (in the app that owns the subject) decides recipients and renders
   one ``Message``; ``notify`` stores one row per (channel, recipient) under the
   message's identity, in the caller's transaction. The unique identity makes a
   second call for the same event store nothing new.
2. After commit the send is published to the broker, best effort
   (``core.queue``); ``notifications_requeue_pending`` publishes again what the
   broker never delivered.
3. A worker sends each row: claimed by a conditional update, so a duplicate
   message or a retried task never sends twice; failures retry with backoff
   (``send_after``), then show as failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from core.bulk import insert_values
from core.queue import enqueue
from notifications import registry
from notifications.channels import (
    SENDERS,
    PermanentSendError,
    TransientSendError,
    e164,
    slack_configured,
    sms_configured,
    teams_targets,
)
from notifications.choices import Channel, NotificationStatus
from notifications.models import Notification
from staff.models import StaffMember

logger = logging.getLogger(__name__)

SEND_TASK = "notifications.tasks.notification_send_task"
# Several rows stored together (an escalation told to a dozen managers) go out in one
# message: publishing is most of the cost of a notification to the event that makes it.
SEND_BATCH_TASK = "notifications.tasks.notifications_send_task"


@dataclass(frozen=True)
class Message:
    """One event's message: its identity, its words, and what it is about."""

    subject_type: str
    subject_id: int
    template: str
    subject: str
    context: dict[str, object]
    step: int = 0
    task_id: int | None = None
    # Kept for callers: every message's rows now go in with one INSERT that skips
    # identities already stored, whether or not the subject is new.
    new_subject: bool = False
    layout: str | None = None  # template files to render, when shared (checkpoints)
    # Builds an iCalendar attachment from the rendered text body (assignment emails).
    calendar: Callable[[str], str] | None = field(default=None, compare=False)
    sms_text: str = ""  # the text message's words, for the phones it goes to
    # Already rendered (a batch job fills one skeleton per shape: ``notifications.skeletons``);
    # None: rendered from ``template`` and ``context``.
    text: str | None = None
    html: str = ""


def _render(template: str, context: dict[str, object]) -> tuple[str, str]:
    text = render_to_string(f"emails/{template}.txt", context).strip() + "\n"
    html = render_to_string(f"emails/{template}.html", context)
    return text, html


def _recipients(
    staff: Iterable[StaffMember], emails: Iterable[str], phones: Iterable[str] = ()
) -> list[tuple[str, str, StaffMember | None]]:
    rows: list[tuple[str, str, StaffMember | None]] = []
    staff = list(staff)
    teams_channel, teams_people = teams_targets() if staff else (False, frozenset())
    for member in staff:
        if member.email:
            rows.append((Channel.EMAIL, member.email, member))
        if slack_configured() and (member.slack_member_id or not settings.SLACK_BOT_TOKEN):
            rows.append((Channel.SLACK, member.slack_member_id or member.display_name, member))
        if teams_channel or member.pk in teams_people:
            rows.append((Channel.TEAMS, member.display_name, member))
    rows += [(Channel.EMAIL, address, None) for address in emails if address]
    # Texts only through a configured gateway, only to valid numbers (E.164).
    if sms_configured():
        rows += [(Channel.SMS, number, None) for number in map(e164, phones) if number]
    return rows


@dataclass(frozen=True)
class Delivery:
    """One message and who gets it (``notify``'s arguments, for ``notify_all``)."""

    message: Message
    staff: tuple[StaffMember, ...] = ()
    emails: tuple[str, ...] = ()
    countdown: int = 0
    phones: tuple[str, ...] = ()  # SMS, with the message's ``sms_text``


class Stored(NamedTuple):
    """A row ``notify`` stored now (a repeat stores none): its id and to whom."""

    pk: int
    channel: str
    recipient: str


def notify(
    message: Message,
    *,
    staff: Iterable[StaffMember] = (),
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    countdown: int = 0,
) -> list[Stored]:
    """Store ``message`` for each recipient (email, plus Slack for staff, plus SMS to
    ``phones`` when a gateway is configured); send after commit.

    Call it inside the transaction that makes the event true: the rows commit
    with it or not at all. Returns the rows created now (none for a repeat).
    """
    return notify_all([Delivery(message, tuple(staff), tuple(emails), countdown, tuple(phones))])


# What a row is stored with, in this order; the first six are its identity (unique).
_FIELDS = (
    "subject_type",
    "subject_id",
    "template",
    "step",
    "channel",
    "recipient",
    "subject",
    "body",
    "html_body",
    "calendar",
    "task_id",
    "staff_member_id",
    "send_after",
)
_IDENTITY = _FIELDS[:6]


def notify_all(deliveries: Iterable[Delivery]) -> list[Stored]:
    """``notify`` for several messages of one event, stored with one INSERT; a row whose
    identity is already stored (a repeat) is skipped, the others still go in. Rows are
    plain tuples (a batch job stores tens of thousands: no model instances)."""
    rows: list[tuple[object, ...]] = []
    countdowns: list[int] = []
    for delivery in deliveries:
        recipients = _recipients(delivery.staff, delivery.emails, delivery.phones)
        if not recipients:
            continue
        message, countdown = delivery.message, delivery.countdown
        if message.text is not None:
            text, html = message.text, message.html
        elif any(channel != Channel.SMS for channel, _, _ in recipients):
            text, html = _render(message.layout or message.template, message.context)
        else:
            text, html = message.sms_text, ""
        calendar = message.calendar(text) if message.calendar else ""
        send_after = timezone.now() + timedelta(seconds=countdown) if countdown else None
        subject = message.subject[:255]
        for channel, recipient, member in recipients:
            email = channel == Channel.EMAIL
            rows.append(
                (
                    message.subject_type,
                    message.subject_id,
                    message.template,
                    message.step,
                    channel,
                    recipient[:254],
                    subject,
                    (message.sms_text or message.subject) if channel == Channel.SMS else text,
                    html if email else "",
                    calendar if email else "",
                    message.task_id,
                    member.pk if member is not None else None,
                    send_after,
                )
            )
            countdowns.append(countdown)
    new = _store_new(rows)
    created: list[Stored] = []
    batches: dict[int, list[int]] = {}  # countdown -> ids
    for row, countdown in zip(rows, countdowns, strict=True):
        pk = new.pop(row[:6], None)  # a row repeated within the call is stored once
        if pk is not None:
            batches.setdefault(countdown, []).append(pk)
            created.append(Stored(pk, str(row[4]), str(row[5])))
    for countdown, ids in batches.items():
        if len(ids) == 1:
            enqueue(SEND_TASK, ids[0], countdown=countdown or None)
        else:
            enqueue(SEND_BATCH_TASK, ids, countdown=countdown or None)
    return created


def _store_new(rows: list[tuple[object, ...]]) -> dict[tuple[object, ...], int]:
    """Insert every row whose identity is not stored yet, in one statement
    (``INSERT ... ON CONFLICT DO NOTHING RETURNING``, ``core.bulk``): identity -> the
    new row's id. No savepoint: a repeat is skipped without failing the caller's
    transaction."""
    if not rows:
        return {}
    stored = insert_values(
        Notification, _FIELDS, rows, ignore_conflicts=True, returning=["id", *_IDENTITY]
    )
    return {tuple(row[1:]): row[0] for row in stored}


def _claim(notification_id: int, now: datetime) -> bool:
    """pending/retrying -> sending, only when due: one sender wins, an early duplicate waits."""
    return bool(
        Notification.objects.filter(
            Q(send_after__isnull=True) | Q(send_after__lte=now),
            pk=notification_id,
            status__in=[NotificationStatus.PENDING, NotificationStatus.RETRYING],
        ).update(status=NotificationStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    )


def retry_delay(attempts: int) -> int:
    """30 s, 60 s, 120 s, ... capped (an hour by default; the broker's visibility timeout is longer)."""
    return int(
        min(
            settings.NOTIFICATION_RETRY_MAX_SECONDS,
            settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1),
        )
    )


def notifications_send(*, notification_ids: Iterable[int]) -> None:
    """``notification_send`` for each row of a batch; one due again later gets its own
    message for then (the row holds the schedule, as for a single send)."""
    for notification_id in notification_ids:
        if notification_send(notification_id=notification_id) == NotificationStatus.RETRYING:
            attempts = Notification.objects.filter(pk=notification_id).values_list(
                "attempts", flat=True
            )
            enqueue(SEND_TASK, notification_id, countdown=retry_delay(attempts.first() or 1))


def notification_send(*, notification_id: int) -> str:
    """Send one stored notification at most once; returns its status afterwards.

    ``retrying`` tells the caller to try again after ``retry_delay``; every other
    status is final (``pending`` too: it is not due yet, its own message comes later).
    """
    now = timezone.now()
    if not _claim(notification_id, now):
        # Someone else sent it (or is sending it), it gave up, or it is not due yet.
        return (
            Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first()
            or "missing"
        )
    notification = Notification.objects.get(pk=notification_id)
    if not registry.applies(notification):
        notification.status = NotificationStatus.SKIPPED
        notification.save(update_fields=["status"])
        return notification.status
    error = ""
    final = notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    try:
        SENDERS[notification.channel](notification)
    except TransientSendError as exc:
        error = str(exc)
    except PermanentSendError as exc:
        error, final = str(exc), True
    except Exception as exc:  # a bug or an unexpected library error: retry, then show it
        logger.exception("notification %s: unexpected error while sending", notification.pk)
        error = f"{type(exc).__name__}: {exc}"
    if not error:
        notification.status = NotificationStatus.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
    elif final:
        notification.status = NotificationStatus.FAILED
        notification.last_error = error[:2000]
        logger.error("notification %s failed for good: %s", notification.pk, error)
    else:
        notification.status = NotificationStatus.RETRYING
        notification.last_error = error[:2000]
        notification.send_after = timezone.now() + timedelta(
            seconds=retry_delay(notification.attempts)
        )
    notification.save(update_fields=["status", "last_error", "sent_at", "send_after"])
    return notification.status


@transaction.atomic
def notification_retry(*, notification_id: int) -> bool:
    """A manager sends a permanently failed notification again (attempts start over).

    The email keeps its Message-ID, so if a reaped send did go out after all, the
    recipient's mail server can recognise the second copy.
    """
    reset = Notification.objects.filter(
        pk=notification_id, status=NotificationStatus.FAILED
    ).update(status=NotificationStatus.PENDING, attempts=0, last_error="", send_after=None)
    if reset:
        enqueue(SEND_TASK, notification_id)
    return bool(reset)


# How long a batch job (a sweep, a checkpoint run) holds each message before it goes
# out on its own: long enough for the job to fold a person's messages into one.
BATCH_HOLD_SECONDS = 120

Digest = Callable[[StaffMember, list[Notification]], Message]


@transaction.atomic
def notifications_fold(
    *, templates: Iterable[str], since: datetime, digest: Digest, now: datetime | None = None
) -> int:
    """Fold what a batch job held for each person into one message; returns how many
    messages were folded away.

    The job stored every message as usual, held ``BATCH_HOLD_SECONDS``, so each is
    safe in the outbox whatever happens to the job. Here, at its end: for each staff
    member with more than one held message of ``templates`` stored since ``since``,
    ``digest`` builds one message listing them and the held ones are skipped (a
    conditional update: one already on its way is left alone). A job that dies before
    this point loses nothing; its messages go out one by one after the hold.
    """
    now = now or timezone.now()
    held = list(
        Notification.objects.select_for_update(of=("self",))
        .filter(
            template__in=list(templates),
            status=NotificationStatus.PENDING,
            created_at__gte=since,
            send_after__gt=now,
            staff_member__isnull=False,
        )
        .select_related("staff_member__user")
        .order_by("staff_member_id", "pk")
    )
    by_person: dict[int, list[Notification]] = {}
    for notification in held:
        by_person.setdefault(notification.staff_member_id or 0, []).append(notification)
    folded = 0
    for rows in by_person.values():
        emails = [row for row in rows if row.channel == Channel.EMAIL] or rows
        if len(emails) < 2:
            continue
        member = rows[0].staff_member
        assert member is not None
        notify(digest(member, emails), staff=[member])
        folded += Notification.objects.filter(
            pk__in=[row.pk for row in rows], status=NotificationStatus.PENDING
        ).update(status=NotificationStatus.SKIPPED, last_error="Sent in one email with the others.")
    return folded


# A worker that dies between claiming a send and recording its outcome leaves the
# row "sending"; it may or may not have gone out, so it is never resent blindly.
STUCK_AFTER = timedelta(minutes=15)
REAPED_ERROR = (
    "The worker stopped while sending; it may not have gone out. Not resent automatically."
)


def notifications_reap_stuck(*, now: datetime | None = None) -> int:
    """Mark sends stuck in "sending" as failed, so a manager sees them and decides."""
    now = now or timezone.now()
    return Notification.objects.filter(
        status=NotificationStatus.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=NotificationStatus.FAILED, last_error=REAPED_ERROR)


REQUEUE_BATCH = 500


def notifications_requeue_pending(*, now: datetime | None = None) -> int:
    """Publish again the sends the broker lost (a restart, an outage at commit).

    Pending or retrying rows due for more than ``OUTBOX_REQUEUE_AFTER_SECONDS``. Harmless when the
    first message is merely slow: the claim lets one send through.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
    ids = list(
        Notification.objects.filter(
            status__in=[NotificationStatus.PENDING, NotificationStatus.RETRYING]
        )
        .filter(Q(send_after__lte=cutoff) | Q(send_after__isnull=True, created_at__lte=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)[:REQUEUE_BATCH]
    )
    for notification_id in ids:
        enqueue(SEND_TASK, notification_id)
    if ids:
        logger.info("re-queued %d pending notification(s)", len(ids))
    return len(ids)
