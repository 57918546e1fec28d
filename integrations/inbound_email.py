"""Inbound email for billing disputes: a client's reply as an inbound-parse service posts it.

An integration of source "Inbound email" has the endpoint ``/webhooks/<slug>/`` like
every other; point the parse service's webhook URL there. Each service's fields:

| service | posts | sender | reply text | message id | authenticated by |
| Postmark inbound | JSON | ``FromFull.Email`` (else ``From``) | ``StrippedTextReply``, else ``TextBody`` | ``MessageID`` | HTTP Basic auth in the webhook URL |
| SendGrid Inbound Parse | multipart/form-data | ``from`` | ``text`` | ``Message-ID`` in ``headers`` | HTTP Basic auth in the webhook URL |
| Mailgun routes (``forward()``) | multipart/form-data or urlencoded | ``from`` (else ``sender``) | ``stripped-text``, else ``body-plain`` | ``Message-Id`` | its ``timestamp``/``token``/``signature`` fields (HMAC-SHA256 with the signing key), or Basic auth |
| a firm's script, Zapier | JSON ``{from, subject, text, message_id}`` | ``from`` | ``text`` | ``message_id`` | the ``Closeloop-Signature`` header, or Basic auth |

Any of the three forms posts JSON too (a relay that re-posts the same fields). The
secret is the integration's ``secret`` (or ``previous_secret`` during a rotation):
the Basic auth password (any user name), Mailgun's HTTP webhook signing key, or the
generic endpoint's signing secret.

Quoted text is cut before looking for the dispute words: Closeloop's own reminders
say "A question about an invoice? Reply to this email", and a reply quoting them
is not a dispute. Then ``billing.disputes.dispute_open_from_email`` decides, the one
write path the coordinator's page shares: with "dispute", "incorrect" or "question"
in the reply it opens a dispute on the invoices it names (else the client's open
ones); a reply without those words is stored and ignored; an address no client
has is an exception a person fixes (the client's email or billing email) and replays.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from io import BytesIO
from typing import Any

from django import forms
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.html import strip_tags

from billing.disputes import IntakeOutcome, dispute_open_from_email
from billing.models import Invoice
from core.exceptions import ApplicationError
from core.forms import FirmForm
from integrations.choices import EventStatus
from integrations.models import InboundEvent
from integrations.parsing import EventSpec, Malformed, Unapplicable, derived_id, load_json
from integrations.signatures import Check

EVENT_TYPE = "email.received"
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
MAX_TEXT = 100_000


class FieldMalformed(Malformed):
    """A field of the email is wrong: the 400 names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


# --- Reading the body -----------------------------------------------------------------------------


def read_fields(body: bytes, meta: Mapping[str, Any], content_type: str) -> dict[str, Any]:
    """The posted fields: a JSON object, or a form (attachments are not read)."""
    if content_type not in FORM_TYPES:
        data = load_json(body)
        if not isinstance(data, dict):
            raise Malformed("The body must be a JSON object (one email).")
        return data
    if content_type == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Malformed(f"The body is not valid UTF-8 (byte {exc.start}).") from None
        return {key: values[-1] for key, values in QueryDict(text).lists()}
    parser_meta = {**meta, "CONTENT_LENGTH": str(len(body))}
    try:
        fields, _files = MultiPartParser(
            parser_meta, BytesIO(body), [MemoryFileUploadHandler()], "utf-8"
        ).parse()
    except (MultiPartParserError, SuspiciousOperation, ValueError) as exc:
        raise Malformed(f"The form data cannot be read: {exc}") from None
    return {key: values[-1] for key, values in fields.lists()}


# --- Authentication ---------------------------------------------------------------------------------


def basic_auth_ok(*, header: str, secrets: Sequence[str]) -> Check:
    """``Authorization: Basic base64(user:password)``: the password is a secret."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return Check.BAD
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return Check.BAD
    _, colon, password = decoded.partition(":")
    if not colon:
        return Check.BAD
    given = password.encode()
    ok = [hmac.compare_digest(given, secret.encode()) for secret in secrets]
    return Check.OK if any(ok) else Check.BAD


def _mailgun_fields(fields: Mapping[str, Any]) -> tuple[str, str, str] | None:
    nested = fields.get("signature")
    source = nested if isinstance(nested, dict) else fields  # webhooks nest, routes do not
    values = tuple(source.get(name) for name in ("timestamp", "token", "signature"))
    if not all(isinstance(v, (str, int)) and str(v) for v in values):
        return None
    return str(values[0]), str(values[1]), str(values[2])


def mailgun_signature_ok(
    *, fields: Mapping[str, Any], secrets: Sequence[str], now: float, tolerance: int
) -> Check:
    """Mailgun: hex HMAC-SHA256 of ``timestamp + token`` keyed by the webhook signing key."""
    found = _mailgun_fields(fields)
    if found is None:
        return Check.MISSING
    timestamp, token, signature = found
    message = (timestamp + token).encode()
    if not any(
        hmac.compare_digest(
            hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(), signature.lower()
        )
        for secret in secrets
    ):
        return Check.BAD
    try:
        age = now - int(timestamp)
    except ValueError:
        return Check.BAD
    return Check.STALE if abs(age) > tolerance else Check.OK


def mailgun_sign(*, secret: str, timestamp: int, token: str) -> str:
    """The ``signature`` field Mailgun computes (for tests and tools)."""
    return hmac.new(secret.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


# --- One email --------------------------------------------------------------------------------------


class InboundEmailForm(FirmForm):
    """The fields Closeloop keeps of a reply, whichever service posted it."""

    sender = forms.EmailField(max_length=254)
    subject = forms.CharField(max_length=998, required=False)
    text = forms.CharField(max_length=MAX_TEXT, required=False, strip=False)
    message_id = forms.CharField(max_length=200, required=False)
    recipient = forms.CharField(max_length=998, required=False)


_QUOTE_START = re.compile(
    r"^(On\s[^\n]{0,300}?(\n[^\n]{0,300}?)?\swrote:\s*$"  # Gmail, Apple Mail (maybe wrapped)
    r"|-{2,}\s*Original Message\s*-{2,}"  # Outlook
    r"|_{10,}\s*$"  # Outlook's rule
    r"|From:\s[^\n]*\n(Sent|Date):\s)",  # Outlook's header block
    re.MULTILINE | re.IGNORECASE,
)


def reply_only(text: str) -> str:
    """The client's own words: everything from the quoted message on is cut, and ``>`` lines."""
    match = _QUOTE_START.search(text)
    if match:
        text = text[: match.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def _string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise Malformed(f"{value!r:.60} is not text.")


def _header(raw: str, name: str) -> str:
    match = re.search(rf"^{name}:\s*(.+)$", raw, re.IGNORECASE | re.MULTILINE)
    return match.group(1).strip() if match else ""


def _normalized(fields: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """(the service, its fields as the form's) for the three services and the generic shape."""

    def get(*names: str) -> str:
        """The first of the named fields that holds some text."""
        return next((text for name in names if (text := _string(fields.get(name))).strip()), "")

    if any(key in fields for key in ("FromFull", "TextBody", "MessageID", "StrippedTextReply")):
        full = fields.get("FromFull")
        address = _string(full.get("Email")) if isinstance(full, dict) else ""
        text = get("StrippedTextReply", "TextBody") or strip_tags(get("HtmlBody"))
        return "postmark", {
            "sender": address or get("From"),
            "subject": get("Subject"),
            "text": text,
            "message_id": get("MessageID"),
            "recipient": get("OriginalRecipient", "To"),
        }
    if any(key in fields for key in ("body-plain", "stripped-text", "Message-Id", "token")):
        text = get("stripped-text", "body-plain") or strip_tags(get("stripped-html", "body-html"))
        return "mailgun", {
            "sender": get("from", "From", "sender"),
            "subject": get("subject", "Subject"),
            "text": text,
            "message_id": get("Message-Id", "message-id"),
            "recipient": get("recipient", "To"),
        }
    headers = fields.get("headers")
    message_id = _header(headers, "Message-ID") if isinstance(headers, str) else ""
    service = "sendgrid" if any(k in fields for k in ("envelope", "charsets", "SPF")) else "json"
    return service, {
        "sender": get("from", "sender"),
        "subject": get("subject"),
        "text": get("text") or strip_tags(get("html")),
        "message_id": get("message_id") or message_id,
        "recipient": get("to", "recipient"),
    }


def email_event(fields: Mapping[str, Any]) -> EventSpec:
    """One stored event for the posted email; a field that cannot be used is a 400 naming it."""
    service, values = _normalized(fields)
    _, address = email.utils.parseaddr(values["sender"])
    values["sender"] = address or values["sender"]
    form = InboundEmailForm(data=values)
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise FieldMalformed(f"{name}: {errors[0]}", field=name)
    data = form.cleaned_data
    message_id = data["message_id"].strip()
    text = reply_only(data["text"])
    return EventSpec(
        event_id=message_id
        or derived_id("email", data["sender"].lower(), data["subject"], data["text"]),
        event_type=EVENT_TYPE,
        payload={
            "service": service,
            "from": data["sender"],
            "subject": data["subject"],
            "text": text,
            "message_id": message_id,
            "to": data["recipient"],
        },
        resource_type="email",
        resource_id=message_id[:128],
    )


# --- Applying it (the worker) --------------------------------------------------------------------


def email_apply(event: InboundEvent) -> tuple[str, str, Invoice | None]:
    """Hand the reply to billing's dispute intake; (status, detail, the invoice disputed)."""
    payload = event.payload
    try:
        intake = dispute_open_from_email(
            sender=str(payload.get("from", "")),
            subject=str(payload.get("subject", "")),
            body=str(payload.get("text", "")),
            received_at=event.received_at,
        )
    except ApplicationError as exc:
        raise Unapplicable(f"The dispute cannot be opened: {exc.user_message}") from exc
    if intake.outcome == IntakeOutcome.NO_KEYWORD:
        return EventStatus.IGNORED, intake.reason, None
    if intake.outcome == IntakeOutcome.ALREADY_DISPUTED:
        return EventStatus.APPLIED, intake.reason, None
    if not intake.disputes:
        fix = (
            " Add the address to the client (email or billing email), then replay."
            if intake.outcome == IntakeOutcome.UNKNOWN_SENDER
            else " Replay once the invoice is issued, or open the dispute by hand."
        )
        raise Unapplicable(intake.reason + fix)
    numbers = ", ".join(d.invoice.display_number for d in intake.disputes)
    return EventStatus.APPLIED, f"Dispute opened: {numbers}.", intake.disputes[0].invoice
