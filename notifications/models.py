from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q

from notifications.choices import Channel, NotificationStatus, NotificationTemplate, SubjectType


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
