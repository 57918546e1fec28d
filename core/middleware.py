"""A request body over its view's limit is refused from its Content-Length, unread.

Django reads a body only when something asks for ``request.POST`` or ``FILES`` — and
the CSRF middleware asks first, so a 100 MB upload used to be spooled to a temporary
file before any view could refuse it. This middleware stands before the CSRF
middleware and answers 413 from the header alone:

- a view that takes files declares its limit with ``@body_limit(...)``;
- every other view takes what Django keeps in memory for a form
  (``DATA_UPLOAD_MAX_MEMORY_SIZE``);

either with ``FRAMING_BYTES`` more for the multipart framing (the page states the
limit itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Multipart boundaries and headers around the fields themselves.
FRAMING_BYTES = 64 * 1024

View = Callable[..., HttpResponse]


def body_limit(limit: Callable[[], int]) -> Callable[[View], View]:
    """Let ``view`` take bodies up to ``limit()`` bytes (read per request, so a test or
    a settings change applies at once)."""

    def decorate(view: View) -> View:
        view.max_request_bytes = limit  # type: ignore[attr-defined]
        return view

    return decorate


def request_body_limit(view: Any) -> int | None:
    """The most bytes ``view`` takes in a body, framing aside; None when unbounded."""
    declared = getattr(view, "max_request_bytes", None)
    if declared is not None:
        return int(declared())
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is None:  # Django's own limit switched off
        return None
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        limit = request_body_limit(view)
        if limit is None or _declared_length(request) <= limit + FRAMING_BYTES:
            return None
        megabytes = f"{limit / (1024 * 1024):.1f}".removesuffix(".0")
        return render(request, "413.html", {"limit_mb": megabytes}, status=413)
