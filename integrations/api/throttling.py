"""Rate limits per token (or per signed-in user), counted in the Django cache (Redis)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from integrations.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """``CLOSELOOP_API_RATE`` requests per token; a 429 carries ``Retry-After``."""

    scope = "api"

    def get_rate(self) -> str | None:
        # Read per request (not frozen at import) so settings overrides apply.
        return settings.API_RATE_LIMIT or None

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
