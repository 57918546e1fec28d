"""API tokens and idempotency records (the REST API), integrations, their mappings and
the inbound event inbox (webhooks)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from integrations.choices import EventStatus, Source, Verdict


class ApiToken(models.Model):
    """A token a script uses for the REST API; only its SHA-256 is stored.

    The token reads ``clk_<prefix>_<secret>``: the prefix finds the row, the hash
    of the whole token proves it. It acts as its user, with that user's role.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'month-end script'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: does not expire.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} (clk_{self.prefix}_…)"


class IdempotencyRecord(models.Model):
    """The first response to a POST with an ``Idempotency-Key``, replayed for 24 hours.

    Unique per (principal, key): a second request with the key finds the row (or
    loses the insert race) and is answered from it, or refused while the first
    is still running.
    """

    IN_PROGRESS, COMPLETE = "in_progress", "complete"

    principal = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=12, default=IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key} ({self.state})"


class Integration(models.Model):
    """One connected system: its webhook endpoint, signing secrets and API credentials.

    Two secrets are active at once so a secret can be rotated: set the new one as
    ``secret`` and keep the old as ``previous_secret`` until the vendor has switched.
    """

    slug = models.SlugField(
        max_length=40, unique=True, help_text="The endpoint is /webhooks/<slug>/."
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    secret = models.CharField(
        max_length=200,
        help_text=(
            "Signing secret: Stripe endpoint secret (whsec_…), Xero webhook key, QuickBooks "
            "verifier token, Karbon SigningKey, the generic endpoint's secret, or for inbound "
            "email the Basic auth password in the parse service's URL (Mailgun: its webhook "
            "signing key)."
        ),
    )
    previous_secret = models.CharField(
        max_length=200, blank=True, help_text="Still accepted while a rotation is under way."
    )
    timestamp_tolerance_seconds = models.PositiveIntegerField(
        default=300, help_text="Stripe and the generic endpoint: oldest timestamp accepted."
    )
    max_body_bytes = models.PositiveIntegerField(
        default=1024 * 1024, help_text="Larger bodies are refused (413) unread."
    )
    api_base_url = models.URLField(
        max_length=300,
        blank=True,
        help_text="The vendor's REST API, for fetching the records thin notifications name.",
    )
    api_token = models.CharField(
        max_length=4000, blank=True, help_text="Bearer token (OAuth access token) for that API."
    )
    api_key = models.CharField(
        max_length=200,
        blank=True,
        help_text=(
            "Karbon: the AccessKey header. Xero: tenant id. Harvest: Harvest-Account-Id. "
            "QuickBooks Time: not used (the access token goes in the token field)."
        ),
    )
    api_requests_per_minute = models.PositiveIntegerField(
        default=60,
        help_text=(
            "Karbon allows about 120 a minute, Xero 60, Harvest 400, QuickBooks Time 60 "
            "(300 per 5 minutes)."
        ),
    )
    pull_cursor = models.DateTimeField(
        null=True,
        blank=True,
        help_text=(
            "Harvest, QuickBooks Time: entries changed since this time are pulled next "
            "(empty: Harvest all, QuickBooks Time the last 92 days)."
        ),
    )
    pull_not_before = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The tracker said to wait (429 with Retry-After): no pull before this time.",
    )
    last_pull_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_pull_note = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_source_display()})"

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.secret, self.previous_secret) if s]


class StatusMapping(models.Model):
    """An external status (Karbon's PrimaryStatus or WorkStatus, a generic status) → a milestone."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="status_mappings"
    )
    external_status = models.CharField(max_length=120)
    milestone = models.CharField(
        max_length=32, help_text="A milestone code of the engagement's work type template."
    )

    class Meta:
        ordering = ["external_status"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "external_status"], name="statusmapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.external_status} → {self.milestone}"


class WorkTypeMapping(models.Model):
    """An external service or work type name → a Closeloop work type."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="work_type_mappings"
    )
    external_type = models.CharField(max_length=120)
    work_type = models.ForeignKey("engagements.WorkType", on_delete=models.CASCADE)

    class Meta:
        ordering = ["external_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "external_type"], name="worktypemapping_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.external_type} → {self.work_type}"


class StaffExternalId(models.Model):
    """A staff member's id in another system (client ids live in ``clients.ClientExternalId``)."""

    staff_member = models.ForeignKey(
        "staff.StaffMember", on_delete=models.CASCADE, related_name="external_ids"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    external_id = models.CharField(max_length=128)

    class Meta:
        ordering = ["source", "external_id"]
        verbose_name = "staff external id"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="staffexternalid_unique_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.external_id}"


class InboundRequest(models.Model):
    """Every HTTP request a webhook endpoint received, accepted or refused, with its exact body.

    A refused body is kept too (up to ``REFUSED_BODY_KEEP`` bytes; a body too large
    is never read), so a vendor's complaint can be answered from the log.
    """

    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    endpoint = models.CharField(max_length=60)
    received_at = models.DateTimeField(db_index=True)
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    status_code = models.PositiveSmallIntegerField()
    reason = models.CharField(max_length=300, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    body_size = models.PositiveIntegerField(default=0)
    event_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.status_code} {self.get_verdict_display()}"


class InboundEvent(models.Model):
    """One event from another system: stored before it is acknowledged, applied at most once.

    Unique per (integration, event_id): the vendor's event id, or a key derived from
    the fields that identify the change where the vendor sends none. A duplicate
    delivery stores nothing new. The worker claims a row by a conditional update.
    """

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="events")
    request = models.ForeignKey(
        InboundRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=120)
    resource_type = models.CharField(max_length=60, blank=True)
    resource_id = models.CharField(max_length=128, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=EventStatus.choices, default=EventStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True, help_text="What happened, or why it could not apply.")
    fetched = models.JSONField(
        null=True, blank=True, help_text="The record fetched from the vendor's API."
    )
    engagement = models.ForeignKey(
        "engagements.Engagement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_events",
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_events",
        help_text="The invoice a payment it reported was recorded on.",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "event_id"], name="inboundevent_once_per_integration"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "retrying"]),
                name="inboundevent_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.integration.slug}:{self.event_type} {self.event_id}"


class ExternalRecordVersion(models.Model):
    """The last-modified time of each external record last applied: an older one is not."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    resource_type = models.CharField(max_length=60)
    resource_id = models.CharField(max_length=128)
    modified_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "resource_type", "resource_id"],
                name="externalrecordversion_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.resource_id} @ {self.modified_at}"


class DeliveryLog(InboundEvent):
    """The admin's one delivery log: inbound events and outbound deliveries together."""

    class Meta:
        proxy = True
        verbose_name = "delivery log (both directions)"
        verbose_name_plural = "delivery log (both directions)"
