from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Q

from notifications.choices import (
    Channel,
    DeliveryStatus,
    NotificationStatus,
    NotificationTemplate,
    SubjectType,
    WebhookEventType,
)


class Notification(models.Model):
    """One message to one recipient on one channel, sent at most once: the outbox row.

    Identity is explicit: (subject type, subject id, template, step, channel,
    recipient) is unique, so a retried trigger or a second beat tick stores
    nothing new. ``step`` tells apart the messages of a sequence about one
    subject — the reminder number, or the staff member a client confirmation
    names — and is 0 otherwise.

    A row is written in the same transaction as the change it announces and
    starts ``pending``: the broker may be down, the row is not lost; a beat job
    re-queues pending rows the worker never picked up.
    """

    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    subject_id = models.PositiveBigIntegerField()
    template = models.CharField(max_length=40, choices=NotificationTemplate.choices)
    step = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254, help_text="Email address or Slack member id.")
    subject = models.CharField(max_length=255, help_text="The email's subject line.")
    body = models.TextField()
    html_body = models.TextField(blank=True)
    calendar = models.TextField(
        blank=True, help_text="An iCalendar attachment (assignment emails), when there is one."
    )
    task = models.ForeignKey(
        "engagements.Task",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    staff_member = models.ForeignKey(
        "staff.StaffMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        help_text="The staff member it is for, when it is for one.",
    )
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    send_after = models.DateTimeField(
        null=True, blank=True, help_text="Not before this (a delayed or retried send)."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "template", "step", "channel", "recipient"],
                name="notification_once_per_identity",
            ),
            models.CheckConstraint(
                condition=~Q(status=NotificationStatus.SENT) | Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_template_display()} → {self.recipient} ({self.get_channel_display()}, {self.get_status_display()})"

    @property
    def identity(self) -> str:
        """A readable name for the row's identity, for headers and logs (never parsed)."""
        return f"{self.template}/{self.subject_type}-{self.subject_id}/{self.step}/{self.channel}"

    @property
    def message_id(self) -> str:
        """The email Message-ID, the same on every attempt, so a resend is recognisable."""
        digest = hashlib.sha256(self.recipient.lower().encode()).hexdigest()[:16]
        domain = urlsplit(settings.SITE_URL).hostname or "closeloop.localhost"
        return (
            f"<{self.template}.{self.subject_type}-{self.subject_id}.{self.step}.{digest}@{domain}>"
        )


class WebhookSubscription(models.Model):
    """Someone's endpoint for Closeloop's events, signed as Standard Webhooks sign.

    The secret is ``whsec_`` + base64 of 32 random bytes. Rotating keeps the old
    secret for a day: deliveries carry a signature from each, so the receiver can
    switch when it likes.
    """

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=2000)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    event_types = models.JSONField(
        default=list, help_text="The event types it receives (see the API documentation)."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_subscriptions",
        help_text="Told by email if the endpoint keeps failing and is disabled.",
    )
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure since the last success."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        from notifications.webhooks import subscriptions_changed

        subscriptions_changed()

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        from notifications.webhooks import subscriptions_changed

        subscriptions_changed()
        return result


class WebhookAllowedHost(models.Model):
    """A host an admin allows deliveries to although it resolves to a private, loopback
    or link-local address (everything else of that kind is refused: SSRF)."""

    host = models.CharField(max_length=255, unique=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["host"]

    def __str__(self) -> str:
        return self.host


class WebhookEvent(models.Model):
    """An outbound event, written in the transaction of the change it reports (the outbox).

    ``sequence`` counts the events of one record (a task, an engagement, an
    escalation) from 1, so a receiver can tell when it missed one.
    """

    event_type = models.CharField(max_length=60, choices=WebhookEventType.choices)
    record_type = models.CharField(max_length=20)
    record_id = models.PositiveBigIntegerField()
    sequence = models.PositiveIntegerField()
    payload = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "record_id", "sequence"], name="webhookevent_sequence_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.record_type}-{self.record_id} #{self.sequence}"

    @property
    def message_id(self) -> str:
        """``webhook-id``: the same on every attempt, so a receiver can drop a repeat."""
        return f"msg_{self.pk}"


class WebhookDelivery(models.Model):
    """One event to one subscription: delivered at most once per success, retried on a schedule."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="webhookdelivery_once_per_subscription"
            )
        ]
        indexes = [
            models.Index(fields=["subscription", "status"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription.name} ({self.get_status_display()})"


class WebhookAttempt(models.Model):
    """Every try of a delivery: what the endpoint answered and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"


class TeamsWebhook(models.Model):
    """A Microsoft Teams Workflows incoming-webhook URL: a person's chat, or (no person)
    the channel everyone's messages go to when they have none of their own."""

    staff_member = models.OneToOneField(
        "staff.StaffMember",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="teams_webhook",
        help_text="Empty: the firm's channel.",
    )
    url = models.URLField(max_length=2000)
    label = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["staff_member_id", "id"]

    def __str__(self) -> str:
        return self.label or (str(self.staff_member) if self.staff_member_id else "Firm channel")

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        cache.delete("notifications:teams-targets")

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        cache.delete("notifications:teams-targets")
        return result
