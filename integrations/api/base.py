"""What every API view shares: the body limit, Idempotency-Key, the role helpers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponseBase
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from core.roles import is_manager
from integrations.api import idempotency
from integrations.api.errors import PayloadTooLarge
from staff.models import StaffMember
from staff.selectors import staff_member_for_user


class ApiViewMixin:
    """Body limit before anything is read; Idempotency-Key on every POST."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.API_MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"The request body is {length} bytes; the limit is {settings.API_MAX_BODY_BYTES}."
            )
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if request.method == "POST":
            request._idempotency = idempotency.begin(request)  # type: ignore[attr-defined]

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        try:
            return super().handle_exception(exc)  # type: ignore[misc, no-any-return]
        except Exception:
            # A bug (500): release the key so the call can be tried again.
            record = getattr(self.request, "_idempotency", None)  # type: ignore[attr-defined]
            if record is not None:
                idempotency.abandon(record)
            raise

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record = getattr(request, "_idempotency", None)
        if record is not None:
            request._idempotency = None  # type: ignore[attr-defined]
            idempotency.finish(record, response)
        return response

    # --- who is asking -----------------------------------------------------
    def is_manager(self) -> bool:
        return is_manager(self.request.user)  # type: ignore[attr-defined]

    def require_manager(self) -> None:
        if not self.is_manager():
            raise PermissionDenied("Only managers and partners can do this.")

    def me(self) -> StaffMember | None:
        cached = getattr(self, "_me", False)
        if cached is False:
            cached = staff_member_for_user(user=self.request.user)  # type: ignore[attr-defined]
            self._me = cached
        return cached

    def require_me(self) -> StaffMember:
        member = self.me()
        if member is None:
            raise PermissionDenied("Only staff members act on tasks.")
        return member


class ReadOnlyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    pass


class ViewSet(ApiViewMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    pass
