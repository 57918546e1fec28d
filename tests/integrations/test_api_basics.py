"""The REST API's common behaviour: authentication, the error shape, pagination,
filters, Idempotency-Key, the body limit, rate limits, and the documentation pages."""

from __future__ import annotations

import json
import threading

import pytest
from rest_framework.test import APIClient

from engagements.choices import TaskStatus
from engagements.models import Engagement, WorkType
from integrations.models import IdempotencyRecord
from integrations.services import api_token_create, api_token_revoke
from tests.factories import ClientFactory, TaskFactory
from tests.integrations.conftest import in_a_week

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"type", "code", "message", "field"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert ERROR_KEYS <= body.keys()
    if code:
        assert body["code"] == code
    return body


def test_anonymous_is_told_to_authenticate_with_a_bearer_token():
    response = APIClient().get("/api/v1/tasks/")

    body = assert_error(response, 401, "not_authenticated")
    assert body["type"] == "authentication_required"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_revoked_and_malformed_tokens_are_refused(alice):
    _, plain = api_token_create(user=alice.user, name="script")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer " + plain[:-2] + "xx")
    assert_error(bad.get("/api/v1/tasks/"), 401, "authentication_failed")
    junk = APIClient()
    junk.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert_error(junk.get("/api/v1/tasks/"), 401)

    token, plain = api_token_create(user=alice.user, name="other")
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert good.get("/api/v1/tasks/").status_code == 200
    api_token_revoke(token_id=token.pk)
    assert_error(good.get("/api/v1/tasks/"), 401)


def test_only_the_hash_of_a_token_is_stored(alice):
    token, plain = api_token_create(user=alice.user, name="script")

    token.refresh_from_db()
    assert plain not in (token.key_hash, token.prefix)
    assert len(token.key_hash) == 64


def test_session_login_works_and_unknown_api_paths_answer_in_the_api_shape(client, alice):
    client.force_login(alice.user)

    assert client.get("/api/v1/tasks/").status_code == 200
    assert_error(client.get("/api/v1/nothing-here/"), 404, "not_found")


def test_staff_list_only_their_own_tasks(world, api_as):
    response = api_as(world.alice).get("/api/v1/tasks/")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [world.alice_task.pk]


def test_pagination_walks_every_row_once_with_has_more(manager, api_as, broker):
    engagement = TaskFactory().engagement
    for _ in range(6):
        TaskFactory(engagement=engagement)
    api = api_as(manager)
    seen, url, pages = [], "/api/v1/tasks/?limit=3", 0
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        pages += 1
        url = body["next"] if body["has_more"] else None
        if body["has_more"]:
            assert body["next_cursor"]
    assert len(seen) == len(set(seen)) == 7
    assert pages == 3


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
def test_limit_outside_1_to_100_is_a_400_naming_the_field(manager, api_as, limit):
    body = assert_error(api_as(manager).get(f"/api/v1/tasks/?limit={limit}"), 400)
    assert body["field"] == "limit"


def test_filters_and_ordering(manager, api_as, broker):
    engagement = TaskFactory(status=TaskStatus.UNASSIGNED).engagement
    TaskFactory(
        engagement=engagement,
        status=TaskStatus.COMPLETED,
        completed_at=engagement.created_at,
        assignee=manager,
    )
    api = api_as(manager)

    done = api.get("/api/v1/tasks/?status=completed").json()["results"]
    assert [row["status"] for row in done] == ["completed"]
    ordered = api.get("/api/v1/tasks/?ordering=-id").json()["results"]
    assert [row["id"] for row in ordered] == sorted((row["id"] for row in ordered), reverse=True)
    assert_error(api.get("/api/v1/tasks/?status=bogus"), 400)
    assert_error(api.get("/api/v1/tasks/?due_after=not-a-date"), 400)


def test_list_queries_do_not_grow_with_rows(manager, api_as, broker, django_assert_max_num_queries):
    api = api_as(manager)
    for _ in range(3):
        ClientFactory()
    with django_assert_max_num_queries(12):
        small = api.get("/api/v1/staff/")
    for _ in range(20):
        ClientFactory()
    with django_assert_max_num_queries(12):
        assert api.get("/api/v1/clients/?limit=100").status_code == 200
    with django_assert_max_num_queries(12):
        assert api.get("/api/v1/tasks/?limit=100").status_code == 200
    assert small.status_code == 200


def engagement_body(client_pk: int) -> dict:
    return {
        "client": client_pk,
        "work_type": WorkType.objects.get(code="audit").pk,
        "due_date": in_a_week().isoformat(),
        "estimated_hours": "4",
    }


def test_idempotency_key_replays_the_first_response_and_refuses_another_body(
    manager, api_as, broker
):
    api = api_as(manager)
    body = engagement_body(ClientFactory().pk)

    first = api.post("/api/v1/engagements/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/engagements/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = api.post(
        "/api/v1/engagements/",
        {**body, "estimated_hours": "5"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Engagement.objects.count() == 1
    assert_error(other, 409, "idempotency_key_reused")


def test_idempotency_key_is_per_caller_and_errors_are_replayed_too(manager, partner, api_as):
    bad = {"client": 999999}
    first = api_as(manager).post(
        "/api/v1/engagements/", bad, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    second = api_as(partner).post(
        "/api/v1/engagements/", bad, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )

    assert first.status_code == second.status_code == 400
    assert IdempotencyRecord.objects.count() == 2


def test_an_idempotency_key_still_in_progress_is_a_409(manager, api_as):
    api = api_as(manager)
    api.post("/api/v1/engagements/", {}, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    IdempotencyRecord.objects.update(state=IdempotencyRecord.IN_PROGRESS, fingerprint="x")
    response = api.post("/api/v1/engagements/", {}, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert_error(response, 409, "idempotency_key_reused")
    IdempotencyRecord.objects.all().delete()
    api.post("/api/v1/engagements/", {}, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    IdempotencyRecord.objects.update(state=IdempotencyRecord.IN_PROGRESS)
    response = api.post("/api/v1/engagements/", {}, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert_error(response, 409, "idempotency_in_progress")


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "é"])
def test_a_malformed_idempotency_key_is_a_400(manager, api_as, key):
    response = api_as(manager).post(
        "/api/v1/engagements/", {}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    body = assert_error(response, 400)
    assert body["field"] == "Idempotency-Key"


def test_bad_bodies_get_400_413_415_in_the_one_shape(manager, api_as, settings):
    api = api_as(manager)
    assert_error(
        api.post("/api/v1/engagements/", "{not json", content_type="application/json"),
        400,
        "parse_error",
    )
    assert_error(api.post("/api/v1/engagements/", "a=b", content_type="text/plain"), 415)
    settings.API_MAX_BODY_BYTES = 2048
    big = json.dumps({"name": "x" * 5000})
    assert_error(api.post("/api/v1/engagements/", big, content_type="application/json"), 413)
    body = assert_error(api.post("/api/v1/engagements/", {"name": "a\x00b"}, format="json"), 400)
    fields = {row["field"] for row in body["errors"]}
    assert {"client", "work_type", "name"} <= fields


def test_rate_limit_per_token_with_retry_after(alice, api_as, settings):
    settings.API_RATE_LIMIT = "3/min"
    api = api_as(alice)
    other = api_as(alice)  # another token of the same person: its own budget
    for _ in range(3):
        assert api.get("/api/v1/skills/").status_code == 200
    response = api.get("/api/v1/skills/")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    assert other.get("/api/v1/skills/").status_code == 200


def test_schema_and_docs_pages_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    spec = json.loads(schema.content)
    assert "/api/v1/tasks/{id}/accept/" in spec["paths"]
    accept = spec["paths"]["/api/v1/tasks/{id}/accept/"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "413", "415", "429"} <= accept.keys()
    for page in ("/api/v1/docs/", "/api/v1/redoc/"):
        html = client.get(page).content.decode()
        assert "<script>" not in html and "style=" not in html and "<style" not in html
        assert "https://" not in html


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_requests_with_one_key_open_one_engagement(manager, api_as, broker):
    """Two POSTs with the same key at the same moment: one runs, the other is told 409
    (or, if the first already finished, gets its response); one engagement either way."""
    from django.db import connection

    from tests.conftest import require_service

    require_service(connection.vendor == "postgresql", "needs PostgreSQL for concurrent requests")
    body = engagement_body(ClientFactory().pk)
    barrier = threading.Barrier(4)
    answers: list[int] = []
    credentials = api_as(manager)._credentials  # one token: one caller

    def post() -> None:
        api = APIClient()
        api.credentials(**credentials)
        barrier.wait()
        try:
            response = api.post(
                "/api/v1/engagements/", body, format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            answers.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Engagement.objects.count() == 1
    assert answers.count(201) >= 1 and set(answers) <= {201, 409}


def test_a_refusal_carrying_field_errors_is_a_400_naming_the_field_not_a_500():
    """A service may refuse with field errors (a dict): that ValidationError has no code
    of its own, which the handler read and failed on with a 500."""
    from core.exceptions import ApplicationError
    from integrations.api.errors import exception_handler

    response = exception_handler(
        ApplicationError({"hours": ["Hours must be between 0.25 and 24."]}), {}
    )

    assert response is not None and response.status_code == 400
    assert response.data["field"] == "hours"
    assert "between 0.25 and 24" in response.data["message"]
