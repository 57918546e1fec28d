"""schemathesis against the generated OpenAPI schema: at least 500 generated requests
(valid and invalid), no server error, every response as the schema documents it."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integrations.conftest import World, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = {GenerationMode.POSITIVE: 14, GenerationMode.NEGATIVE: 10}
MIN_CASES = 500


def _real_ids(world: World) -> dict[str, int]:
    """Path prefix -> an object that exists, so valid cases reach past the 404."""
    return {
        "/api/v1/clients/": world.engagement.client_id,
        "/api/v1/staff/": world.alice.pk,
        "/api/v1/work-types/": world.engagement.work_type_id,
        "/api/v1/engagements/": world.engagement.pk,
        "/api/v1/tasks/": world.alice_task.pk,
        "/api/v1/escalations/": world.escalation.pk,
        "/api/v1/webhook-subscriptions/": world.subscription.pk,
    }


def test_generated_requests_never_fail_and_match_the_schema(world, settings_override):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    client = token_client(world.partner)
    headers = {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}
    ids = _real_ids(world)
    cases = 0
    failures: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        real = next((pk for prefix, pk in ids.items() if operation.path.startswith(prefix)), None)
        for mode, count in EXAMPLES.items():
            fixed = (
                {"path_parameters": {"id": real}}
                if real and "{id}" in operation.path and mode == GenerationMode.POSITIVE
                else {}
            )

            @given(case=operation.as_strategy(generation_mode=mode, **fixed))
            @settings(
                max_examples=count,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                nonlocal cases
                cases += 1
                response = case.call(headers=headers)
                try:
                    case.validate_response(response, checks=CHECKS)
                except AssertionError as exc:  # collect, so one run reports every failure
                    failures.append(f"{case.method} {case.formatted_path}: {exc}"[:600])

            run()

    assert not failures, "\n\n".join(failures[:10])
    assert cases >= MIN_CASES, f"only {cases} generated cases"


@pytest.fixture
def settings_override(settings):
    """A high rate limit, and the database connection kept across the WSGI requests:
    Django's handler closes connections it thinks are stale at each request's start
    and end, which would close the test's transaction (Django's own test client
    disconnects the same signal)."""
    settings.API_RATE_LIMIT = "100000/min"
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield settings
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
