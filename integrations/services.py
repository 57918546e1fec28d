"""Writes for integrations: API tokens, idempotency housekeeping, and the inbound inbox."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.types import User
from integrations.api.auth import TOKEN_PREFIX, token_hash
from integrations.api.idempotency import REPLAY_FOR
from integrations.models import ApiToken, IdempotencyRecord


@transaction.atomic
def api_token_create(
    *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``; the plain token is returned once and never stored."""
    prefix = secrets.token_hex(6)
    plain = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, key_hash=token_hash(plain), expires_at=expires_at
    )
    return token, plain


def api_token_revoke(*, token_id: int) -> bool:
    return bool(
        ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete Idempotency-Key records past their 24-hour replay window (a beat job)."""
    cutoff = (now or timezone.now()) - REPLAY_FOR
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
