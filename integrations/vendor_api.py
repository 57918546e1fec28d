"""Fetching the records thin notifications name, from each vendor's REST API.

Every call: the integration's credentials, a connect/read timeout, one quick
retry on a dropped connection, and the vendor's rate limit counted per
integration per minute in the shared cache (Redis), so several workers together
stay under it. Over the limit, or told 429 / 5xx, the call raises
``VendorUnavailable`` with how long to wait: the event is retried later, the
worker is never held (only a time tracker's pull on the beat schedule, which has no one
waiting on it, may wait for the next minute of its allowance).
"""

from __future__ import annotations

import time
from email.utils import parseaddr
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

from integrations.choices import Source
from integrations.models import Integration

TIMEOUT = (3.05, 10)  # connect, read (seconds)


class VendorUnavailable(Exception):
    """Try again later (rate limit, timeout, 5xx); ``retry_after`` in seconds when known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VendorRefused(Exception):
    """The vendor said no in a way retrying will not fix (401, 403, 404, a bad answer)."""


def _take_rate_slot(integration: Integration, wait: float = 0) -> None:
    """One request of the integration's per-minute allowance, or ``VendorUnavailable``;
    a pull on a beat schedule may ``wait`` (seconds, in all) for the next minute instead."""
    while True:
        now = time.time()
        key = f"vendor-rate:{integration.pk}:{int(now // 60)}"
        cache.add(key, 0, timeout=120)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=120)
            used = 1
        if used <= integration.api_requests_per_minute:
            return
        next_minute = 60 - now % 60 + 1
        if next_minute > wait:
            raise VendorUnavailable(
                f"{integration.name}: {integration.api_requests_per_minute} requests a minute used",
                retry_after=next_minute,
            )
        wait -= next_minute
        time.sleep(next_minute)


def _headers(integration: Integration) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if integration.api_token:
        headers["Authorization"] = f"Bearer {integration.api_token}"
    if integration.source == Source.KARBON and integration.api_key:
        headers["AccessKey"] = integration.api_key
    if integration.source == Source.XERO and integration.api_key:
        headers["xero-tenant-id"] = integration.api_key
    if integration.source == Source.HARVEST:
        # Harvest refuses a request without a User-Agent naming the app and a contact.
        contact = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
        headers["User-Agent"] = f"Closeloop ({contact})"
        if integration.api_key:
            headers["Harvest-Account-Id"] = integration.api_key
    return headers


def vendor_get(
    integration: Integration, path: str, *, tenant: str = "", wait_for_slot: float = 0
) -> dict[str, Any]:
    """GET ``path`` (relative to the integration's API base URL) as JSON; ``wait_for_slot``
    seconds may be spent waiting for the integration's next minute of requests."""
    if not integration.api_base_url:
        raise VendorRefused(f"{integration.name} has no API base URL to fetch records from.")
    url = integration.api_base_url.rstrip("/") + "/" + path.lstrip("/")
    headers = _headers(integration)
    if tenant and integration.source == Source.XERO:
        headers["xero-tenant-id"] = tenant
    response = None
    for attempt in range(2):
        _take_rate_slot(integration, wait_for_slot)
        try:
            response = requests.get(url, headers=headers, timeout=TIMEOUT, allow_redirects=False)
            break
        except requests.ConnectionError as exc:
            if attempt:
                raise VendorUnavailable(f"{integration.name} unreachable: {exc}") from exc
        except requests.Timeout as exc:
            raise VendorUnavailable(f"{integration.name} timed out") from exc
    assert response is not None
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = response.headers.get("Retry-After", "")
        raise VendorUnavailable(
            f"{integration.name} answered {response.status_code}",
            retry_after=float(retry_after) if retry_after.isdigit() else None,
        )
    if response.status_code != 200:
        raise VendorRefused(
            f"{integration.name} answered {response.status_code} for {path}: {response.text[:200]}"
        )
    try:
        data = response.json()
    except ValueError:
        raise VendorRefused(
            f"{integration.name} answered with something that is not JSON"
        ) from None
    if not isinstance(data, dict):
        raise VendorRefused(f"{integration.name} answered with a JSON {type(data).__name__}")
    return data


def karbon_work_item(integration: Integration, key: str) -> dict[str, Any]:
    """Karbon ``GET /v3/WorkItems/{key}``."""
    return vendor_get(integration, f"v3/WorkItems/{key}")


def qbo_entity(integration: Integration, realm: str, entity: str, entity_id: str) -> dict[str, Any]:
    """QuickBooks ``GET /v3/company/{realm}/{entity}/{id}``."""
    return vendor_get(integration, f"v3/company/{realm}/{entity}/{entity_id}?minorversion=75")


def xero_resource(
    integration: Integration, tenant: str, category: str, resource_id: str
) -> dict[str, Any]:
    """Xero ``GET /api.xro/2.0/{Invoices|Contacts|...}/{id}`` for the event's tenant."""
    plural = {"invoice": "Invoices", "contact": "Contacts", "creditnote": "CreditNotes"}.get(
        category.lower(), category.title() + "s"
    )
    return vendor_get(integration, f"api.xro/2.0/{plural}/{resource_id}", tenant=tenant)
