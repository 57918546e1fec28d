"""Hostile input through every URL that takes a POST, generated from the URL conf.

For every (url name, "POST") row of the authorization matrix: a valid submission is
made hostile one field at a time, with a NUL byte and with 100 kB of text, in every
field of the form the view reads. Each must answer without a 5xx and leave the
database exactly as it was (every row of the project's tables and the users), while
the valid submission itself does write, so the hostile value is the only thing wrong.
On PostgreSQL (CI) a NUL byte that reached the database would fail there.

A URL that takes a POST needs an entry in ``POSTS`` (the role that may post, a valid
submission built from the matrix's world, and the form whose fields get the hostile
values) or in ``TAKES_NO_INPUT``; ``test_every_post_url_has_an_entry`` says which.
The REST API's POSTs are here too: a JSON body, and the DRF serializer that reads it
in place of the form. Signed webhook bodies are hostile-tested where they are signed
(``SIGNED_ELSEWHERE``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from django import forms
from django.apps import apps
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from billing.choices import BillingTaskKind
from billing.forms import (
    AdjustmentForm,
    DisputeForm,
    DisputeResolveForm,
    HoldReleaseForm,
    InstalmentPlanForm,
    InvoiceLineForm,
    PaymentForm,
    PromiseForm,
    RejectForm,
    TaskDoneForm,
    TimeEntryForm,
    TimeEntryNewForm,
    VoidForm,
    WeekForm,
)
from billing.models import BillingTask, Invoice, Payment
from clients.models import Client as ClientRecord
from core.auth_forms import AdminLoginForm, LoginForm
from dispatch.forms import (
    CompleteForm,
    DeadlineForm,
    DecideAllForm,
    EscalationAssignForm,
    EscalationBulkForm,
    EstimateForm,
    HandBackForm,
    ManualAssignForm,
    ThresholdForm,
)
from dispatch.links import action_token
from dispatch.roster import roster_forget
from engagements.forms import (
    EngagementCreateForm,
    ExceptionRaiseForm,
    ExceptionResolveForm,
    MilestoneAdvanceForm,
)
from engagements.milestones import template_for
from engagements.models import Task, WorkType
from engagements.upload_views import DocumentUploadForm
from integrations.api import money
from integrations.api import serializers as api
from notifications.choices import DeliveryStatus
from notifications.models import WebhookDelivery, WebhookSubscription
from staff.forms import WorkingPatternForm
from tests.factories import PASSWORD
from tests.test_authorization_matrix import MATRIX, URL_ARGS
from tests.world import World

HOSTILE = {"NUL": "has a \x00 NUL byte", "100kB": "x" * 100_000}
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class Post:
    role: str  # a role of the matrix that may make this post
    # Whose fields get the hostile values: the page's form, or the API's serializer.
    form: type[forms.BaseForm] | type[serializers.BaseSerializer[Any]]
    data: Callable[[World], dict[str, Any]]  # a valid submission
    args: Callable[[World], list[Any]] | None = None  # default: the matrix's URL_ARGS
    prepare: Callable[[World], object] | None = None  # run first, rolled back with the post
    json: bool = False  # the REST API: sent as a JSON body

    def fields(self) -> list[str]:
        if issubclass(self.form, forms.BaseForm):
            return list(self.form.base_fields)
        return [name for name, f in self.form().fields.items() if not f.read_only]


def _iso(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _next_milestone(w: World) -> str:
    steps = [step.code for step in template_for(w.engagement.work_type)]
    return steps[steps.index(w.engagement.milestone) + 1]


def _started(w: World) -> None:
    """Alice has started her task: Complete is hers to confirm."""
    now = timezone.now()
    Task.objects.filter(pk=w.task.pk).update(status="in_progress", accepted_at=now, started_at=now)


def _new_engagement(w: World) -> dict[str, Any]:
    start = timezone.localdate().replace(day=1)
    return {
        "client": w.engagement.client_id,
        "work_type": WorkType.objects.get(code="monthly_bookkeeping").pk,
        "name": "December books",
        "period_start": start.isoformat(),
        "period_end": (start + timedelta(days=27)).isoformat(),
        "due_date": _iso(30),
        "estimated_hours": "6",
        "complexity": "medium",
        "priority": "normal",
        "special_instructions": "Use the new bank feed.",
        "submission_token": str(uuid4()),
    }


def _upload(w: World) -> dict[str, Any]:
    document = w.engagement.required_documents.order_by("pk").first()
    assert document is not None
    return {"document": str(document.pk), "file": SimpleUploadedFile("bank.pdf", PDF)}


# (url name, what the post does): who posts what.
POSTS: dict[tuple[str, str], Post] = {
    ("login", "log in"): Post(
        "anon", LoginForm, lambda w: {"username": "alice", "password": PASSWORD}
    ),
    ("admin:login", "log in to the admin"): Post(
        "anon",
        AdminLoginForm,
        lambda w: {"username": w.users["admin"].username, "password": PASSWORD},
    ),
    ("portal:capacity-estimate-use", "use the suggested estimate"): Post(
        "partner", EstimateForm, lambda w: {"hours": "6.5"}
    ),
    ("portal:capacity-hours", "add a working pattern"): Post(
        "manager",
        WorkingPatternForm,
        lambda w: {
            "name": "Four tens",
            "starts_on": _iso(7),
            "ends_on": "",
            **{f"{day}_hours": "10" for day in ("monday", "tuesday", "wednesday", "thursday")},
            "friday_hours": "0",
            "saturday_hours": "0",
            "sunday_hours": "0",
        },
    ),
    ("dispatch:queue-action", "request reassignment"): Post(
        "staff",
        HandBackForm,
        lambda w: {"reason": "On leave the week it is due."},
        args=lambda w: [w.task.pk, "reassign"],
    ),
    ("dispatch:task-action", "request reassignment from the email"): Post(
        "anon",
        HandBackForm,
        lambda w: {"reason": "On leave the week it is due."},
        args=lambda w: [
            action_token(
                task_id=w.task.pk,
                staff_id=w.task.assignee_id,
                action="reassign",
                assigned_at=w.task.assigned_at,
            )
        ],
    ),
    ("dispatch:escalation-action", "assign a listed person"): Post(
        "manager",
        EscalationAssignForm,
        lambda w: {
            "staff_id": str(w.escalation.decision.candidates[0]["staff_id"]),
            "reason": "Knows the client.",
        },
        args=lambda w: [w.escalation.pk, "assign"],
    ),
    ("dispatch:escalation-action", "raise the threshold"): Post(
        "manager",
        ThresholdForm,
        lambda w: {"threshold_percent": "120"},
        args=lambda w: [w.escalation.pk, "threshold"],
    ),
    ("dispatch:escalation-action", "extend the deadline"): Post(
        "manager",
        DeadlineForm,
        lambda w: {"due_date": _iso(40)},
        args=lambda w: [w.escalation.pk, "deadline"],
    ),
    ("dispatch:escalation-bulk", "raise the threshold of the ticked"): Post(
        "manager",
        EscalationBulkForm,
        lambda w: {
            "escalations": [str(w.escalation.pk)],
            "action": "raise_threshold",
            "threshold_percent": "120",
        },
    ),
    ("dispatch:queue-complete", "complete, confirmed"): Post(
        "staff", CompleteForm, lambda w: {"confirm": "True"}, prepare=_started
    ),
    ("dispatch:task-complete", "complete from the task page, confirmed"): Post(
        "staff", CompleteForm, lambda w: {"confirm": "True"}, prepare=_started
    ),
    ("dispatch:task-assign", "assign by hand"): Post(
        "manager",
        ManualAssignForm,
        lambda w: {"staff_member": str(w.users["other"].staff_member.pk), "reason": "Cover."},
    ),
    ("dispatch:task-estimate", "give an estimate"): Post(
        "manager", EstimateForm, lambda w: {"hours": "7.5"}
    ),
    ("dispatch:proposals-decide-all", "decline every proposal"): Post(
        "manager", DecideAllForm, lambda w: {"decision": "decline"}
    ),
    ("engagements:engagement-create", "open an engagement"): Post(
        "manager", EngagementCreateForm, _new_engagement
    ),
    ("engagements:document-upload", "upload a document"): Post("anon", DocumentUploadForm, _upload),
    ("engagements:engagement-advance", "move the milestone"): Post(
        "manager",
        MilestoneAdvanceForm,
        lambda w: {"to": _next_milestone(w)},
        # Past review only once its exceptions are resolved.
        prepare=lambda w: w.engagement.exceptions.update(resolved_at=timezone.now()),
    ),
    ("engagements:exception-raise", "flag a review exception"): Post(
        "manager", ExceptionRaiseForm, lambda w: {"note": "The November deposit is missing."}
    ),
    ("engagements:exception-resolve", "resolve it"): Post(
        "manager", ExceptionResolveForm, lambda w: {"resolution": "The client sent the slip."}
    ),
    ("billing:time-entry-new", "add time by hand"): Post(
        "staff",
        TimeEntryNewForm,
        lambda w: {
            "date": _iso(0),
            "hours": "1.5",
            "description": "Call with the client",
            "engagement": str(w.engagement.pk),
        },
    ),
    ("billing:time-entry-save", "edit a draft"): Post(
        "staff", TimeEntryForm, lambda w: {"date": _iso(0), "hours": "2", "description": "Papers"}
    ),
    ("billing:time-entry-approve", "approve a draft as shown"): Post(
        "staff", TimeEntryForm, lambda w: {"date": _iso(0), "hours": "2", "description": "Papers"}
    ),
    ("billing:time-week-approve", "approve the week"): Post(
        "staff", WeekForm, lambda w: {"week": _iso(0)}
    ),
    ("billing:invoice-reject", "reject a draft"): Post(
        "partner", RejectForm, lambda w: {"note": "Hours look high."}
    ),
    ("billing:invoice-void", "void an issued invoice"): Post(
        "partner",
        VoidForm,
        lambda w: {"reason": "Billed twice."},
        # Void only while nothing is paid on it.
        prepare=lambda w: (
            Payment.objects.filter(invoice=w.issued_invoice).delete(),
            Invoice.objects.filter(pk=w.issued_invoice.pk).update(amount_paid=0),
        ),
    ),
    ("billing:invoice-line-edit", "edit a draft's line"): Post(
        "partner",
        InvoiceLineForm,
        lambda w: {"description": "Bookkeeping", "quantity": "2", "unit_price": "90"},
    ),
    ("billing:invoice-line-add", "add an adjustment"): Post(
        "partner", AdjustmentForm, lambda w: {"description": "Courtesy", "amount": "-10"}
    ),
    ("billing:payment-create", "record a payment"): Post(
        "partner",
        PaymentForm,
        lambda w: {
            "amount": "20",
            "received_on": _iso(0),
            "method": "check",
            "reference": "1042",
            "note": "By mail",
        },
    ),
    ("billing:dispute-create", "flag a dispute"): Post(
        "partner", DisputeForm, lambda w: {"note": "The client says it was billed twice."}
    ),
    ("billing:dispute-resolve", "resolve a dispute"): Post(
        "partner", DisputeResolveForm, lambda w: {"outcome": "stands", "note": "Explained."}
    ),
    ("billing:promise-create", "record a promise to pay"): Post(
        "partner", PromiseForm, lambda w: {"promised_on": _iso(7), "amount": "50", "note": "Friday"}
    ),
    ("billing:plan-create", "set up a payment plan"): Post(
        "partner",
        InstalmentPlanForm,
        lambda w: {"count": "3", "first_due_on": _iso(10), "every_days": "30"},
    ),
    ("billing:task-done", "close a call task"): Post(
        "partner",
        TaskDoneForm,
        lambda w: {"note": "Left a voicemail."},
        # A dispute's review task closes with the dispute: make this one a call.
        prepare=lambda w: BillingTask.objects.filter(pk=w.billing_task.pk).update(
            kind=BillingTaskKind.CALL
        ),
    ),
    ("billing:hold-release", "release an account hold"): Post(
        "partner",
        HoldReleaseForm,
        lambda w: {"reason": "Paid by phone."},
        prepare=lambda w: ClientRecord.objects.filter(pk=w.engagement.client_id).update(
            account_hold=True, account_hold_reason="31 days past due"
        ),
    ),
    # The REST API (JSON bodies, read by the serializers in integrations/api/serializers.py).
    ("api:engagement-list", "open an engagement"): Post(
        "manager",
        api.EngagementCreateSerializer,
        lambda w: {
            **{k: v for k, v in _new_engagement(w).items() if k != "estimated_hours"},
            "estimated_hours": "6.00",
            "external_id": "job-77",
        },
        json=True,
    ),
    ("api:engagement-transition", "move the milestone"): Post(
        "manager",
        api.TransitionSerializer,
        lambda w: {"to": _next_milestone(w), "note": "Reviewed."},
        prepare=lambda w: w.engagement.exceptions.update(resolved_at=timezone.now()),
        json=True,
    ),
    ("api:task-request-reassignment", "request reassignment"): Post(
        "staff", api.ReassignmentSerializer, lambda w: {"reason": "On leave."}, json=True
    ),
    ("api:escalation-assign", "assign a listed person"): Post(
        "manager",
        api.EscalationAssignSerializer,
        lambda w: {
            "staff_id": w.escalation.decision.candidates[0]["staff_id"],
            "reason": "Knows the client.",
        },
        json=True,
    ),
    ("api:escalation-raise-threshold", "raise the threshold"): Post(
        "manager",
        api.EscalationThresholdSerializer,
        lambda w: {"threshold_percent": 120},
        json=True,
    ),
    ("api:escalation-extend-deadline", "extend the deadline"): Post(
        "manager", api.EscalationDeadlineSerializer, lambda w: {"due_date": _iso(40)}, json=True
    ),
    ("api:time-entry-list", "record time on a task"): Post(
        "staff",
        money.TimeEntryCreateSerializer,
        lambda w: {
            "task": w.task.pk,
            "date": timezone.localdate().isoformat(),
            "hours": "1.25",
            "description": "Reconciled the bank.",
        },
        json=True,
    ),
    ("api:payment-list", "record a payment"): Post(
        "partner",
        money.PaymentCreateSerializer,
        lambda w: {
            "invoice": w.issued_invoice.pk,
            "amount": "15.00",
            "received_on": timezone.localdate().isoformat(),
            "method": "check",
            "reference": "1042",
            "note": "By mail",
        },
        json=True,
    ),
    ("api:webhook-subscription-list", "subscribe an endpoint"): Post(
        "partner",
        api.WebhookSubscriptionSerializer,
        lambda w: {
            "name": "Month-end script",
            "url": "https://hooks.internal/closeloop",
            "event_types": ["task.accepted"],
            "active": True,
        },
        json=True,
    ),
    ("api:webhook-subscription-replay", "replay since"): Post(
        "partner",
        api.ReplaySerializer,
        lambda w: {"since": (timezone.now() - timedelta(days=1)).isoformat()},
        args=lambda w: [WebhookSubscription.objects.get().pk],
        # Something to deliver again: the world's event, whose delivery failed.
        prepare=lambda w: (
            WebhookSubscription.objects.update(event_types=["task.accepted"]),
            WebhookDelivery.objects.update(status=DeliveryStatus.FAILED),
        ),
        json=True,
    ),
}
# POST URLs that read nothing from the body (a button: confirm, decline, retry, ...).
TAKES_NO_INPUT = {
    "logout",
    "dispatch:decision-confirm",
    "dispatch:decision-decline",
    "dispatch:plan-week",
    "dispatch:plan-apply",
    "dispatch:rebalancing-run",
    "dispatch:proposal-decide",
    "notifications:retry",
    "portal:capacity-hours-remove",
    "billing:invoice-approve",
    "billing:timer-start",
    "billing:timer-stop",
    "billing:followup-retry",
    "api:task-accept",
    "api:task-start",
    "api:task-complete",
    "api:escalation-client-informed",
    "api:webhook-subscription-rotate-secret",
    "api:time-entry-approve",
    "api:invoice-approve",
}
# POST URLs whose bodies are signed by another system: their hostile bodies (malformed
# JSON, NUL bytes, deep nesting, too large, wrong type) are sent, signed, there.
SIGNED_ELSEWHERE = {"integrations:webhook": "tests/integrations/test_webhooks.py"}
# POST URLs of the Django admin taken here too: its login. (Its model forms are bounded
# by the models' own limits: tests/core/test_forms.py.)
ADMIN_POST_URLS = {"admin:login"}

# The tables a post may write: the project's and the users (last_login). Not the
# login throttle's (a refused login is counted on purpose) nor sessions.
WATCHED_APPS = {
    "core",
    "staff",
    "clients",
    "notifications",
    "engagements",
    "capacity",
    "dispatch",
    "billing",
    "integrations",
}


def database_rows() -> dict[str, list[dict[str, Any]]]:
    rows = {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.app_label in WATCHED_APPS
    }
    rows["auth.User"] = list(apps.get_model("auth", "User").objects.order_by("pk").values())
    return rows


def test_every_post_url_has_an_entry():
    post_urls = {name for name, method in MATRIX if method == "POST"} | ADMIN_POST_URLS
    covered = {name for name, _ in POSTS} | TAKES_NO_INPUT | set(SIGNED_ELSEWHERE)

    assert sorted(post_urls - covered) == [], (
        "Add what a valid post is and its form to POSTS in tests/test_bad_input.py "
        "(or the URL to TAKES_NO_INPUT if it reads nothing from the body)"
    )
    assert sorted(covered - post_urls) == [], "Entries for URLs that take no POST any more"


def _post(world: World, key: tuple[str, str], data: dict[str, Any]) -> tuple[int, bool]:
    """(status, whether the database changed), everything rolled back afterwards."""
    entry = POSTS[key]
    args = entry.args(world) if entry.args else URL_ARGS.get(key[0], lambda w: [])(world)
    browser = Client(raise_request_exception=False)
    user = world.users[entry.role]
    if user is not None:
        browser.force_login(user)
    with transaction.atomic():
        if entry.prepare:
            entry.prepare(world)
        before = database_rows()
        url = reverse(key[0], args=args)
        if entry.json:
            response = browser.post(url, json.dumps(data), content_type="application/json")
        else:
            response = browser.post(url, data)
        changed = database_rows() != before
        transaction.set_rollback(True)
    cache.clear()
    roster_forget()
    return response.status_code, changed


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


CASES = [
    (key, field, kind)
    for key, entry in POSTS.items()
    for field in entry.fields()
    for kind in HOSTILE
]


@pytest.mark.parametrize("key", sorted(POSTS), ids=lambda key: f"{key[0]} ({key[1]})")
def test_the_valid_submission_writes(world, media, key):
    status, changed = _post(world, key, POSTS[key].data(world))

    assert status < 400 and changed, f"{key}: the valid post got {status}, changed={changed}"


@pytest.mark.parametrize(
    "key,field,kind", CASES, ids=[f"{k[0]} ({k[1]}) {f} {kind}" for k, f, kind in CASES]
)
def test_a_hostile_field_is_refused_without_a_5xx_or_a_write(world, media, key, field, kind):
    data = POSTS[key].data(world) | {field: HOSTILE[kind]}

    status, changed = _post(world, key, data)

    assert status < 500, f"{key} {field}={kind}: {status}"
    assert not changed, f"{key} {field}={kind}: answered {status} and wrote to the database"
