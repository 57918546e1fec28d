"""OpenAPI generation: every operation documents every error it can answer with."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema

from integrations.api.serializers import ErrorSerializer

# Status -> what it means here; every operation lists the ones that apply to it.
ERROR_RESPONSES: dict[str, str] = {
    "400": "Invalid request: a body field, a query parameter or the Idempotency-Key is wrong.",
    "401": "No credentials, or a bad, revoked or expired token.",
    "403": "Your role may not do this.",
    "404": "No such object, or not one you may see.",
    "405": "Method not allowed.",
    "406": "Only application/json is served.",
    "409": "The object's state does not allow it now, or the Idempotency-Key was reused.",
    "413": "The body is over the size limit.",
    "415": "Send application/json.",
    "429": "Too many requests; Retry-After says when to come back.",
}
BODY_ONLY = {"413", "415"}


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        if direction != "response":
            return responses
        has_body = self.method in ("POST", "PUT", "PATCH")
        for code, description in ERROR_RESPONSES.items():
            if code in responses or (code in BODY_ONLY and not has_body):
                continue
            response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
            response["description"] = description
            responses[code] = response
        return responses

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        if self.method == "POST":
            from drf_spectacular.utils import OpenApiParameter

            params.append(
                OpenApiParameter(
                    name="Idempotency-Key",
                    location=OpenApiParameter.HEADER,
                    required=False,
                    type=str,
                    description=(
                        "Any unique string (1–255 printable characters): the first response "
                        "is replayed for 24 hours; another body with the same key is a 409."
                    ),
                )
            )
        return params


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "integrations.api.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from the admin: 'Authorization: Bearer clk_…'.",
        }
