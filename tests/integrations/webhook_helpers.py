"""Signing and posting helpers for the webhook tests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.test import Client, TestCase

from integrations.choices import Source
from integrations.models import Integration
from integrations.signatures import body_sign, closeloop_sign, stripe_sign

PAYLOADS = Path(__file__).parent / "payloads"
SECRETS = {
    Source.KARBON: "karbon-signing-key-0123",
    Source.QBO: "qbo-verifier-token",
    Source.XERO: "xero-webhook-key",
    Source.STRIPE: "whsec_test_0123456789",
    Source.TAXDOME: "taxdome-zap-secret",
}


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def make_integration(source: str, **fields: Any) -> Integration:
    defaults: dict[str, Any] = {
        "slug": source.replace("_", "-"),
        "name": Source(source).label,
        "secret": SECRETS.get(source, "generic-secret"),
    }
    defaults.update(fields)
    return Integration.objects.create(source=source, **defaults)


def sign(
    integration: Integration, body: bytes, *, secret: str | None = None, at: int | None = None
) -> dict[str, str]:
    """The headers the vendor would send with ``body``."""
    secret = secret or integration.secret
    at = int(time.time()) if at is None else at
    source = integration.source
    if source == Source.STRIPE:
        return {"HTTP_STRIPE_SIGNATURE": stripe_sign(secret=secret, body=body, timestamp=at)}
    if source == Source.XERO:
        return {"HTTP_X_XERO_SIGNATURE": body_sign(secret=secret, body=body, encoding="base64")}
    if source == Source.QBO:
        return {"HTTP_INTUIT_SIGNATURE": body_sign(secret=secret, body=body, encoding="base64")}
    if source == Source.KARBON:
        return {"HTTP_SIGNATURE": body_sign(secret=secret, body=body, encoding="hex")}
    return {"HTTP_CLOSELOOP_SIGNATURE": closeloop_sign(secret=secret, body=body, timestamp=at)}


def deliver(
    integration: Integration,
    body: bytes,
    *,
    client: Client | None = None,
    content_type: str = "application/json",
    signed: bool = True,
    **extra: Any,
):
    client = client or Client(enforce_csrf_checks=True)
    headers = sign(integration, body) if signed else {}
    headers.update(extra)
    # What the view publishes after commit is recorded by the ``broker`` fixture.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"/webhooks/{integration.slug}/", body, content_type=content_type, **headers
        )


def generic_event(event_id: str, kind: str = "job.created", **data: Any) -> bytes:
    body = {
        "id": event_id,
        "type": kind,
        "occurred_at": data.pop("occurred_at", "2026-11-20T10:00:00Z"),
        "data": {"job_id": "J-1", "client_id": "C-1", "work_type": "audit", **data},
    }
    return json.dumps(body).encode()
