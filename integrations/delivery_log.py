"""The delivery log: inbound events and outbound webhook deliveries in one list, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from integrations.models import InboundEvent
from notifications.models import WebhookDelivery

RECORD_ADMIN = {
    "task": "admin:engagements_task_change",
    "engagement": "admin:engagements_engagement_change",
    "escalation": "admin:dispatch_escalation_change",
    "invoice": "admin:billing_invoice_change",
}


@dataclass(frozen=True)
class LogRow:
    at: datetime
    direction: str  # "in" or "out"
    system: str
    event_type: str
    status: str
    status_label: str
    detail: str
    record_label: str
    record_url: str | None
    row_url: str
    replay_kind: str  # "inbound", "outbound" or "" (nothing to replay)
    pk: int


def inbound_record_label(event: InboundEvent) -> str:
    if event.engagement_id:
        return str(event.engagement)
    if event.invoice_id:
        return str(event.invoice)
    return "—"


def inbound_record_url(event: InboundEvent) -> str | None:
    if event.engagement_id:
        return reverse("admin:engagements_engagement_change", args=[event.engagement_id])
    if event.invoice_id:
        return reverse("admin:billing_invoice_change", args=[event.invoice_id])
    return None


def delivery_log(*, limit: int = 200, direction: str = "") -> list[LogRow]:
    """The latest ``limit`` rows of each direction, merged by time (a fixed number of queries)."""
    rows: list[LogRow] = []
    if direction in ("", "in"):
        for event in InboundEvent.objects.select_related(
            "integration", "engagement__client", "invoice__client"
        ).order_by("-received_at", "-id")[:limit]:
            rows.append(
                LogRow(
                    at=event.received_at,
                    direction="in",
                    system=event.integration.name,
                    event_type=event.event_type,
                    status=event.status,
                    status_label=event.get_status_display(),
                    detail=event.detail[:200],
                    record_label=inbound_record_label(event),
                    record_url=inbound_record_url(event),
                    row_url=reverse("admin:integrations_inboundevent_change", args=[event.pk]),
                    replay_kind="inbound"
                    if event.status in ("exception", "failed", "ignored")
                    else "",
                    pk=event.pk,
                )
            )
    if direction in ("", "out"):
        for delivery in WebhookDelivery.objects.select_related("event", "subscription").order_by(
            "-created_at", "-id"
        )[:limit]:
            event = delivery.event
            admin_name = RECORD_ADMIN.get(event.record_type)
            rows.append(
                LogRow(
                    at=delivery.created_at,
                    direction="out",
                    system=delivery.subscription.name,
                    event_type=event.event_type,
                    status=delivery.status,
                    status_label=delivery.get_status_display(),
                    detail=(delivery.last_error or "")[:200],
                    record_label=f"{event.record_type} {event.record_id} (#{event.sequence})",
                    record_url=reverse(admin_name, args=[event.record_id]) if admin_name else None,
                    row_url=reverse(
                        "admin:notifications_webhookdelivery_change", args=[delivery.pk]
                    ),
                    replay_kind="outbound" if delivery.status == "failed" else "",
                    pk=delivery.pk,
                )
            )
    rows.sort(key=lambda row: row.at, reverse=True)
    return rows[:limit]
