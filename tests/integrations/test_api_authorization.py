"""Every API endpoint × every persona: the page's rules hold for the API.

The endpoint list comes from the router (and the API's extra routes), so a new
endpoint without a row in ``EXPECTED`` fails ``test_every_endpoint_has_a_row``.
Objects belong to Alice: Bob is the other staff member.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from engagements.choices import TaskStatus
from engagements.milestones import template_for
from integrations.api.urls import router
from integrations.api.urls import urlpatterns as api_patterns
from tests.integrations.conftest import World, token_client

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "staff", "other_staff", "manager", "partner", "admin")


@dataclass(frozen=True)
class Row:
    statuses: tuple[int, int, int, int, int, int]  # in ROLES order
    obj: Callable[[World], Any] | None = None  # the detail object (its pk goes in the URL)
    body: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    prepare: Callable[[World], None] | None = None


ALL = (401, 200, 200, 200, 200, 200)
ALICES = (401, 200, 404, 200, 200, 200)
MANAGERS = (401, 403, 403, 200, 200, 200)
PUBLIC = (200, 200, 200, 200, 200, 200)
PARTNERS = (401, 403, 403, 403, 200, 200)
ASSIGNEE_ONLY = (401, 200, 404, 403, 403, 403)


def _accepted(world: World) -> None:
    world.alice_task.status = TaskStatus.ACCEPTED
    world.alice_task.accepted_at = timezone.now()
    world.alice_task.save()


def _next_step(world: World) -> dict[str, Any]:
    return {"to": template_for(world.engagement.work_type)[0].code}


def _new_engagement(world: World) -> dict[str, Any]:
    from engagements.models import WorkType

    return {
        "client": world.engagement.client_id,
        "work_type": WorkType.objects.get(code="audit").pk,
        "due_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
    }


EXPECTED: dict[tuple[str, str], Row] = {
    ("client-list", "get"): Row(ALL),
    ("client-detail", "get"): Row(ALICES, obj=lambda w: w.engagement.client),
    ("staff-list", "get"): Row(ALL),
    ("staff-detail", "get"): Row(ALL, obj=lambda w: w.alice),
    ("skill-list", "get"): Row(ALL),
    ("skill-detail", "get"): Row(ALL, obj=lambda w: _first("staff.SkillTag")),
    ("work-type-list", "get"): Row(ALL),
    ("work-type-detail", "get"): Row(ALL, obj=lambda w: w.engagement.work_type),
    ("engagement-list", "get"): Row(ALL),
    ("engagement-list", "post"): Row((401, 403, 403, 201, 201, 201), body=_new_engagement),
    ("engagement-detail", "get"): Row(ALICES, obj=lambda w: w.engagement),
    ("engagement-transition", "post"): Row(
        (401, 403, 404, 200, 200, 200), obj=lambda w: w.engagement, body=_next_step
    ),
    ("task-list", "get"): Row(ALL),
    ("task-detail", "get"): Row(ALICES, obj=lambda w: w.alice_task),
    ("task-accept", "post"): Row(ASSIGNEE_ONLY, obj=lambda w: w.alice_task),
    ("task-start", "post"): Row(ASSIGNEE_ONLY, obj=lambda w: w.alice_task),
    ("task-complete", "post"): Row(ALICES, obj=lambda w: w.alice_task, prepare=_accepted),
    ("task-request-reassignment", "post"): Row(
        ASSIGNEE_ONLY, obj=lambda w: w.alice_task, body=lambda w: {"reason": "On leave"}
    ),
    ("escalation-list", "get"): Row(MANAGERS),
    ("escalation-detail", "get"): Row(MANAGERS, obj=lambda w: w.escalation),
    ("escalation-assign", "post"): Row(
        MANAGERS,
        obj=lambda w: w.escalation,
        body=lambda w: {"staff_id": w.alice.pk, "reason": "Knows the client"},
    ),
    ("escalation-raise-threshold", "post"): Row(
        MANAGERS, obj=lambda w: w.escalation, body=lambda w: {"threshold_percent": 150}
    ),
    ("escalation-extend-deadline", "post"): Row(
        MANAGERS,
        obj=lambda w: w.escalation,
        body=lambda w: {"due_date": (timezone.localdate() + timedelta(days=40)).isoformat()},
    ),
    ("escalation-client-informed", "post"): Row(MANAGERS, obj=lambda w: w.escalation),
    ("webhook-subscription-list", "get"): Row(PARTNERS),
    ("webhook-subscription-list", "post"): Row(
        (401, 403, 403, 403, 201, 201),
        body=lambda w: {
            "name": "Script",
            "url": "http://127.0.0.1:9/hook",
            "event_types": ["task.accepted"],
        },
    ),
    ("webhook-subscription-detail", "get"): Row(PARTNERS, obj=lambda w: w.subscription),
    ("webhook-subscription-detail", "patch"): Row(
        PARTNERS, obj=lambda w: w.subscription, body=lambda w: {"name": "Renamed"}
    ),
    ("webhook-subscription-detail", "delete"): Row(
        (401, 403, 403, 403, 204, 204), obj=lambda w: w.subscription
    ),
    ("webhook-subscription-rotate-secret", "post"): Row(PARTNERS, obj=lambda w: w.subscription),
    ("webhook-subscription-replay", "post"): Row(
        PARTNERS,
        obj=lambda w: w.subscription,
        body=lambda w: {"since": (timezone.now() - timedelta(days=1)).isoformat()},
    ),
    ("webhook-subscription-undelivered", "get"): Row(PARTNERS, obj=lambda w: w.subscription),
    # Billing: time entries are the caller's own (managers read all); invoices and
    # payments are for managers, approving and recording for partners (as on the pages).
    ("time-entry-list", "get"): Row(ALL),
    ("time-entry-list", "post"): Row(
        (401, 201, 400, 400, 400, 400),  # on Alice's task: only Alice records time on it
        body=lambda w: {
            "task": w.alice_task.pk,
            "date": timezone.localdate().isoformat(),
            "hours": "0.75",
            "description": "Call with the client",
        },
    ),
    ("time-entry-detail", "get"): Row(ALICES, obj=lambda w: w.time_entry),
    ("time-entry-approve", "post"): Row(ASSIGNEE_ONLY, obj=lambda w: w.time_entry),
    ("invoice-list", "get"): Row(MANAGERS),
    ("invoice-detail", "get"): Row(MANAGERS, obj=lambda w: w.issued_invoice),
    ("invoice-approve", "post"): Row(PARTNERS, obj=lambda w: w.draft_invoice),
    ("payment-list", "get"): Row(MANAGERS),
    ("payment-list", "post"): Row(
        (401, 403, 403, 403, 201, 201),
        body=lambda w: {
            "invoice": w.issued_invoice.pk,
            "amount": "25.00",
            "received_on": timezone.localdate().isoformat(),
            "method": "check",
            "reference": "1042",
        },
    ),
    ("payment-detail", "get"): Row(MANAGERS, obj=lambda w: w.payment),
    ("schema", "get"): Row(PUBLIC),
    ("docs", "get"): Row(PUBLIC),
    ("redoc", "get"): Row(PUBLIC),
}


def _first(label: str) -> Any:
    from django.apps import apps

    return apps.get_model(label).objects.order_by("pk").first()


def api_endpoints() -> set[tuple[str, str]]:
    """(route name, method) for every API route, read from the URL conf."""
    found: set[tuple[str, str]] = set()
    for pattern in router.urls:
        actions = getattr(pattern.callback, "actions", {})
        # HEAD answers as GET does (newer DRF routers list it explicitly).
        found |= {(pattern.name, method) for method in actions if method != "head"}
    for pattern in api_patterns:
        if isinstance(pattern, URLPattern) and pattern.name not in {p.name for p in router.urls}:
            if pattern.name == "not-found":
                continue  # the catch-all answers 404 for every path and role
            found.add((pattern.name, "get"))
    return found


def test_every_endpoint_has_a_row():
    missing = api_endpoints() - EXPECTED.keys()
    stale = EXPECTED.keys() - api_endpoints()
    assert not missing, f"API endpoints with no expected statuses: {sorted(missing)}"
    assert not stale, f"rows for endpoints that no longer exist: {sorted(stale)}"


def _member(world: World, role: str):
    return {
        "anonymous": None,
        "staff": world.alice,
        "other_staff": world.bob,
        "manager": world.manager,
        "partner": world.partner,
        "admin": world.admin,
    }[role]


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("endpoint", sorted(EXPECTED), ids=lambda e: f"{e[1]}:{e[0]}")
def test_endpoint_answers_each_role_as_the_pages_do(world, endpoint, role_index, role):
    name, method = endpoint
    row = EXPECTED[endpoint]
    if row.prepare:
        row.prepare(world)
    args = [row.obj(world).pk] if row.obj else []
    url = reverse(f"api:{name}", args=args)
    client = token_client(_member(world, role))

    if method in ("get", "delete"):
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, row.body(world), format="json")

    expected = row.statuses[role_index]
    assert response.status_code == expected, (
        f"{method.upper()} {url} as {role}: {response.status_code} {response.content[:300]!r}"
    )
