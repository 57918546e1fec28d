"""``Idempotency-Key`` on every POST: the first response is replayed for 24 hours.

1. A POST with a key claims (principal, key) by inserting the record
   ``in_progress``; the unique constraint decides between concurrent requests.
2. The request runs; its response (anything but a 5xx) is stored and the record
   marked ``complete``. A 5xx or an exception deletes the record: the call may
   be tried again with the same key.
3. A later request with the key and the same method, path and body gets the
   stored response again (``Idempotent-Replayed: true``); with another body it
   is refused with 409, as it is while the first is still in progress.
A record older than 24 hours counts as absent (a beat job deletes old ones).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from integrations.api.errors import ApiConflict
from integrations.models import ApiToken, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_FOR = timedelta(hours=24)
# An in-progress claim this old belonged to a process that died: it may be taken over.
STALE_CLAIM = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


class Replay(Exception):
    """Raised from the view's ``initial`` to answer with the stored response."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _principal(request: Request) -> str:
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.get_full_path().encode() + b"\0")
    digest.update(request._request.body)
    return digest.hexdigest()


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(33 <= ord(c) <= 126 for c in key)


def begin(request: Request) -> IdempotencyRecord | None:
    """Claim the request's key, or raise ``Replay`` / a 409; None when no key was sent."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _valid_key(key):
        raise exceptions.ValidationError(
            {HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters, no spaces."]}
        )
    principal = _principal(request)
    fingerprint = _fingerprint(request)
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    principal=principal, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if existing is None:
            continue  # deleted between the insert and the read: claim again
        expired = existing.created_at <= now - REPLAY_FOR
        stale = (
            existing.state == IdempotencyRecord.IN_PROGRESS
            and existing.created_at <= now - STALE_CLAIM
        )
        if expired or stale:
            IdempotencyRecord.objects.filter(
                pk=existing.pk, created_at=existing.created_at
            ).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise ApiConflict(
                "This Idempotency-Key was used with a different request; use a new key.",
                code="idempotency_key_reused",
            )
        if existing.state == IdempotencyRecord.IN_PROGRESS:
            raise ApiConflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code="idempotency_in_progress",
            )
        response = HttpResponse(
            bytes(existing.response_body),
            status=existing.response_status or 200,
            content_type=existing.response_content_type or "application/json",
        )
        response["Idempotent-Replayed"] = "true"
        raise Replay(response)
    raise ApiConflict(
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        code="idempotency_in_progress",
    )


def finish(record: IdempotencyRecord, response: HttpResponse) -> None:
    """Store the response for replay (a 5xx releases the key instead)."""
    if response.status_code >= 500:
        abandon(record)
        return
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.COMPLETE,
        response_status=response.status_code,
        response_body=bytes(response.content),
        response_content_type=response.get("Content-Type", "application/json"),
    )


def abandon(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).delete()
