"""API authentication: hashed bearer tokens (``Authorization: Bearer clk_…``) and sessions.

Only SHA-256 of a token is stored (tokens are 256-bit random, so a fast hash is
enough; a slow one would cost every request). ``last_used_at`` is written at most
once a minute per token, not on every request.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from integrations.models import ApiToken

TOKEN_PREFIX = "clk"
LAST_USED_EVERY = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_parts(token: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer clk_<prefix>_<secret>``; the token acts as its user."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send one token: 'Authorization: Bearer <token>'."
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        parts = token_parts(token)
        if parts is None:
            raise exceptions.AuthenticationFailed("The token is not valid.")
        row = ApiToken.objects.select_related("user").filter(prefix=parts[0][:16]).first()
        if row is None or not hmac.compare_digest(row.key_hash, token_hash(token)):
            raise exceptions.AuthenticationFailed("The token is not valid.")
        now = timezone.now()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            raise exceptions.AuthenticationFailed("The token has been revoked or has expired.")
        if not row.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.")
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        return row.user, row

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
