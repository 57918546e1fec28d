"""Webhook endpoints: one per integration, ``/webhooks/<slug>/``, each checked as its vendor signs.

Order of checks (each refusal is logged as an ``InboundRequest`` row):
1. unknown or inactive endpoint -> 404;
2. a content type other than JSON -> 415;
3. a declared length over the integration's limit -> 413, before the body is read
   (a body without a length is read up to the limit plus one byte);
4. the signature (and timestamp, where the vendor has one) -> 401;
5. the body: invalid UTF-8, not JSON, a bare value, too deep, or not the vendor's
   shape -> 400;
6. stored (request and events), then acknowledged with 200.
Xero gets exactly what its contract asks: 200 with an empty body (the
intent-to-receive check), 401 with an empty body for a bad signature.
Every refusal answers in the API's one error shape (type, code, message, field).

Inbound email (``integrations.inbound_email``) also takes the form data the parse
services post; it is authenticated by HTTP Basic auth or the ``Closeloop-Signature``
header when sent, else by Mailgun's signature fields, so its body is read before
a Mailgun signature is checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations import inbound_email, inbox, parsing, signatures
from integrations.api.errors import error_body
from integrations.choices import GENERIC_SOURCES, Source, Verdict
from integrations.models import Integration

JSON_TYPES = frozenset(
    {"application/json", "application/cloudevents+json", "application/cloudevents-batch+json"}
)
# Headers kept with each request for audit (signatures included: they prove what was checked).
AUDIT_HEADERS = (
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "Stripe-Signature",
    "intuit-signature",
    "x-xero-signature",
    "Signature",
    signatures.CLOSELOOP_SIGNATURE_HEADER,
    "intuit-t-id",
    "X-Request-Id",
)

Parser = Callable[[Any], list[parsing.EventSpec]]
PARSERS: dict[str, Parser] = {
    Source.KARBON: parsing.parse_karbon,
    Source.QBO: parsing.parse_qbo,
    Source.XERO: parsing.parse_xero,
    Source.STRIPE: parsing.parse_stripe,
    **{source: parsing.parse_generic for source in GENERIC_SOURCES},
}


class Refused(Exception):
    def __init__(self, status: int, verdict: str, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.status, self.verdict, self.reason, self.field = status, verdict, reason, field


def _audit_headers(request: HttpRequest) -> dict[str, str]:
    return {name: request.headers[name][:500] for name in AUDIT_HEADERS if name in request.headers}


def _answer(integration: Integration | None, status: int, body: dict[str, Any]) -> HttpResponse:
    if integration is not None and integration.source == Source.XERO:
        return HttpResponse(b"", status=status)  # Xero: an empty body, always
    return JsonResponse(body, status=status)


def _check_signature(integration: Integration, request: HttpRequest, body: bytes) -> None:
    source = integration.source
    secrets = integration.secrets
    now = time.time()
    if source == Source.STRIPE:
        check = signatures.stripe_signature_ok(
            header=request.headers.get("Stripe-Signature"),
            body=body,
            secrets=secrets,
            now=now,
            tolerance=integration.timestamp_tolerance_seconds,
        )
    elif source in GENERIC_SOURCES:
        check = signatures.closeloop_signature_ok(
            header=request.headers.get(signatures.CLOSELOOP_SIGNATURE_HEADER),
            body=body,
            secrets=secrets,
            now=now,
            tolerance=integration.timestamp_tolerance_seconds,
        )
    else:
        header, encoding = {
            Source.XERO: ("x-xero-signature", "base64"),
            Source.QBO: ("intuit-signature", "base64"),
            Source.KARBON: ("Signature", "hex"),
        }[Source(source)]
        check = signatures.body_signature_ok(
            header=request.headers.get(header), body=body, secrets=secrets, encoding=encoding
        )
    _refuse_unless_ok(check)


def _refuse_unless_ok(check: signatures.Check) -> None:
    if check == signatures.Check.STALE:
        raise Refused(401, Verdict.STALE, "The signature's timestamp is outside the tolerance.")
    if check != signatures.Check.OK:
        missing = check == signatures.Check.MISSING
        raise Refused(
            401,
            Verdict.BAD_SIGNATURE,
            "The signature header is missing." if missing else "The signature does not match.",
        )


def _email_events(
    integration: Integration, request: HttpRequest, body: bytes
) -> list[parsing.EventSpec]:
    """Inbound email: authenticate (Basic auth, Closeloop-Signature or Mailgun's fields), read."""
    secrets, now = integration.secrets, time.time()
    authorization = request.headers.get("Authorization")
    signed = request.headers.get(signatures.CLOSELOOP_SIGNATURE_HEADER)
    if authorization:
        _refuse_unless_ok(inbound_email.basic_auth_ok(header=authorization, secrets=secrets))
    elif signed:
        _refuse_unless_ok(
            signatures.closeloop_signature_ok(
                header=signed,
                body=body,
                secrets=secrets,
                now=now,
                tolerance=integration.timestamp_tolerance_seconds,
            )
        )
    try:
        fields = inbound_email.read_fields(body, request.META, (request.content_type or "").lower())
    except parsing.Malformed as exc:
        raise Refused(400, Verdict.MALFORMED, str(exc)) from None
    if not (authorization or signed):
        _refuse_unless_ok(
            inbound_email.mailgun_signature_ok(
                fields=fields,
                secrets=secrets,
                now=now,
                tolerance=integration.timestamp_tolerance_seconds,
            )
        )
    try:
        return [inbound_email.email_event(fields)]
    except inbound_email.FieldMalformed as exc:
        raise Refused(400, Verdict.MALFORMED, str(exc), field=exc.field) from None
    except parsing.Malformed as exc:
        raise Refused(400, Verdict.MALFORMED, str(exc)) from None


def _read_body(request: HttpRequest, limit: int) -> bytes:
    length_header = request.META.get("CONTENT_LENGTH") or ""
    try:
        length = int(length_header) if length_header else None
    except ValueError:
        raise Refused(400, Verdict.MALFORMED, "Content-Length is not a number.") from None
    if length is not None and length > limit:
        raise Refused(413, Verdict.TOO_LARGE, f"The body is {length} bytes; the limit is {limit}.")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Refused(413, Verdict.TOO_LARGE, f"The body is over the limit of {limit} bytes.")
    return body


def _endpoint(slug: str) -> str:
    return f"/webhooks/{slug}/"[:60]


def _unknown_source(slug: str) -> Refused:
    return Refused(404, Verdict.UNKNOWN_SOURCE, f"No active webhook endpoint {slug!r}.")


def _refuse(
    integration: Integration | None,
    slug: str,
    refused: Refused,
    headers: dict[str, str],
    body: bytes,
) -> HttpResponse:
    """Log a refused delivery with what arrived, then answer it in the error shape."""
    inbox.inbound_request_refuse(
        integration=integration,
        endpoint=_endpoint(slug),
        verdict=refused.verdict,
        status_code=refused.status,
        reason=refused.reason,
        headers=headers,
        body=body,
        body_size=len(body),
    )
    return _answer(
        integration,
        refused.status,
        error_body(refused.status, refused.verdict, refused.reason, refused.field),
    )


@csrf_exempt
@login_not_required
@require_POST
def webhook_receive(request: HttpRequest, slug: str) -> HttpResponse:
    """Receive one vendor delivery (see the module docstring for the checks)."""
    # Time trackers are pulled (integrations.time_pull): they have no endpoint.
    integration = inbox.endpoint_integration(slug)
    headers = _audit_headers(request)
    body = b""
    try:
        if integration is None:
            raise _unknown_source(slug)
        content_type = request.content_type or ""
        email = integration.source == Source.EMAIL
        accepted = JSON_TYPES | inbound_email.FORM_TYPES if email else JSON_TYPES
        if content_type.lower() not in accepted:
            raise Refused(
                415,
                Verdict.WRONG_TYPE,
                f"Send {'JSON or form data' if email else 'application/json'}, "
                f"not {content_type or 'nothing'}.",
            )
        body = _read_body(request, integration.max_body_bytes)
        if email:
            events = _email_events(integration, request, body)
        else:
            _check_signature(integration, request, body)
            try:
                events = PARSERS[integration.source](parsing.load_json(body))
            except parsing.Malformed as exc:
                raise Refused(400, Verdict.MALFORMED, str(exc)) from None
    except Refused as refused:
        return _refuse(integration, slug, refused, headers, body)
    try:
        stored_id, new = inbox.inbound_request_store(
            integration=integration,
            endpoint=_endpoint(slug),
            headers=headers,
            body=body,
            events=events,
        )
    except IntegrityError:
        # Deleted a moment ago in another process (this one's copy was under a second
        # old): an unknown endpoint, as it is now.
        inbox.endpoints_forget()
        return _refuse(None, slug, _unknown_source(slug), headers, body)
    return _answer(integration, 200, {"received": len(events), "new": new, "id": stored_id})
