"""One error shape for the whole API: ``{"type", "code", "message", "field"}``.

| status | type                   | when |
| 400    | invalid_request        | the body or a parameter is wrong (``errors`` lists every field) |
| 401    | authentication_required| no credentials, or a bad or expired token |
| 403    | permission_denied      | the caller's role may not do this to this object |
| 404    | not_found              | no such object, or not one the caller may see |
| 405    | method_not_allowed     | |
| 406    | not_acceptable         | |
| 409    | conflict               | the object's state does not allow it now; an Idempotency-Key reused |
| 413    | payload_too_large      | the body is over the limit (refused unread) |
| 415    | unsupported_media_type | not ``application/json`` |
| 429    | rate_limited           | over the token's rate; ``Retry-After`` says when to come back |

Domain refusals (``core.exceptions``) keep their meaning: ``NotFound`` 404,
``NotPermitted`` 403, ``Conflict`` 409, any other ``ApplicationError`` 400.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.exceptions import ApplicationError

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request",
    401: "authentication_required",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class ApiConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def error_body(
    status_code: int, code: str, message: str, field: str | None = None
) -> dict[str, Any]:
    return {
        "type": ERROR_TYPES.get(status_code, "error"),
        "code": code,
        "message": message,
        "field": field,
    }


def _flatten(detail: Any, prefix: str | None = None) -> list[tuple[str | None, str, str]]:
    """(field, code, message) for every leaf of a DRF error detail, fields dotted."""
    if isinstance(detail, dict):
        rows: list[tuple[str | None, str, str]] = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__") else str(key)
            path = ".".join(p for p in (prefix, name) if p) or None
            rows += _flatten(value, path)
        return rows
    if isinstance(detail, list):
        rows = []
        for index, value in enumerate(detail):
            nested = isinstance(value, (dict, list))
            rows += _flatten(value, f"{prefix}.{index}" if nested and prefix else prefix)
        return rows
    code = getattr(detail, "code", None) or "invalid"
    return [(prefix, str(code), str(detail))]


def _from_application_error(exc: ApplicationError) -> exceptions.APIException:
    field = None
    if hasattr(exc, "error_dict"):
        field = next((k for k in exc.error_dict if k != "__all__"), None)
    # A ValidationError built from a dict has no ``code`` of its own (only its parts do).
    code = getattr(exc, "code", None) or "refused"
    api_exc = exceptions.APIException(exc.user_message, code=code)
    api_exc.status_code = exc.status_code
    api_exc.field = field  # type: ignore[attr-defined]
    return api_exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every refusal in the one shape; anything else is a bug (500)."""
    if isinstance(exc, ApplicationError):
        exc = _from_application_error(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        rows = _flatten(exc.detail) or [(None, "invalid", "The request is not valid.")]
        field, code, message = rows[0]
        body = error_body(status_code, code, message, field)
        body["errors"] = [{"field": f, "code": c, "message": m} for f, c, m in rows]
    else:
        detail = exc.detail
        message = str(detail[0] if isinstance(detail, list) and detail else detail)
        code = getattr(detail, "code", None) or exc.default_code
        if isinstance(exc, exceptions.Throttled):
            code = "rate_limited"
            wait = headers.get("Retry-After")
            message = (
                f"Too many requests; try again in {wait} seconds." if wait else "Too many requests."
            )
        body = error_body(status_code, str(code), message, getattr(exc, "field", None))
    return Response(body, status=status_code, headers=headers)


@csrf_exempt
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Any path under /api/ that names no endpoint: a 404 in the API's shape, not a page."""
    return JsonResponse(
        error_body(404, "not_found", "No API endpoint at this address."), status=404
    )
