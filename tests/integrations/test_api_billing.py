"""Billing over the API: time entries, invoice approval (partners only) and payments,
with the pages' rules and through the pages' services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.choices import InvoiceStatus, PaymentSource, TimeEntryStatus
from billing.models import Invoice, Payment, TimeEntry
from notifications.choices import WebhookEventType
from notifications.models import WebhookEvent
from notifications.webhooks import webhook_subscription_update
from tests.integrations.conftest import _invoice

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def test_a_partner_approves_a_draft_and_a_manager_cannot(world, api_as):
    draft = world.draft_invoice
    url = f"/api/v1/invoices/{draft.pk}/approve/"

    refused = api_as(world.manager).post(url, {}, format="json")
    assert refused.status_code == 403 and "partners" in refused.json()["message"]
    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.DRAFT and draft.number == ""

    approved = api_as(world.partner).post(url, {}, format="json")
    again = api_as(world.partner).post(url, {}, format="json")

    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["status"] == "issued" and body["number"] and body["balance"] == "500.00"
    assert again.status_code == 200 and again.json()["number"] == body["number"]  # no second number
    assert Invoice.objects.filter(number=body["number"]).count() == 1


def test_approval_is_announced_to_webhook_subscribers(world, api_as):
    webhook_subscription_update(
        subscription_id=world.subscription.pk, event_types=[WebhookEventType.INVOICE_APPROVED]
    )
    api_as(world.partner).post(
        f"/api/v1/invoices/{world.draft_invoice.pk}/approve/", {}, format="json"
    )

    event = WebhookEvent.objects.get(event_type="invoice.approved")
    assert event.record_id == world.draft_invoice.pk
    assert event.payload["data"]["invoice"]["status"] == "issued"


def test_staff_cannot_read_invoices_or_payments(world, api_as):
    api = api_as(world.alice)
    assert api.get("/api/v1/invoices/").status_code == 403
    assert api.get("/api/v1/payments/").status_code == 403


def test_a_partner_records_a_payment_once_per_idempotency_key(world, api_as):
    api = api_as(world.partner)
    invoice = world.issued_invoice
    body = {
        "invoice": invoice.pk,
        "amount": "90.00",
        "received_on": TODAY().isoformat(),
        "method": "check",
        "reference": "1042",
    }

    first = api.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    again = api.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")

    assert first.status_code == 201, first.content
    assert again.status_code == 201 and again.json() == first.json()
    assert Payment.objects.filter(invoice=invoice, source=PaymentSource.MANUAL).count() == 2
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("400.00") and first.json()["note"] == "Ref 1042"
    listed = api_as(world.manager).get(f"/api/v1/payments/?invoice={invoice.pk}").json()
    assert [p["amount"] for p in listed["results"]] == ["10.00", "90.00"]


def test_an_overpayment_is_refused_with_the_reason_and_nothing_recorded(world, api_as):
    response = api_as(world.partner).post(
        "/api/v1/payments/",
        {
            "invoice": world.issued_invoice.pk,
            "amount": "9999.00",
            "received_on": TODAY().isoformat(),
            "method": "wire",
        },
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "amount" and "still owed" in body["message"]
    assert Payment.objects.count() == 1  # the world's own


def test_staff_record_and_approve_their_own_time_only(world, api_as):
    alice, bob = api_as(world.alice), api_as(world.bob)
    body = {
        "task": world.alice_task.pk,
        "date": TODAY().isoformat(),
        "hours": "2.5",
        "description": "Payroll run",
    }

    created = alice.post("/api/v1/time-entries/", body, format="json")
    assert created.status_code == 201, created.content
    entry = created.json()
    assert entry["status"] == "draft" and entry["staff_member"] == world.alice.pk
    assert bob.post("/api/v1/time-entries/", body, format="json").status_code == 400

    assert {e["id"] for e in alice.get("/api/v1/time-entries/").json()["results"]} == {
        world.time_entry.pk,
        entry["id"],
    }
    assert bob.get("/api/v1/time-entries/").json()["results"] == []
    assert bob.post(f"/api/v1/time-entries/{entry['id']}/approve/").status_code == 404

    approved = alice.post(f"/api/v1/time-entries/{entry['id']}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert TimeEntry.objects.get(pk=entry["id"]).status == TimeEntryStatus.APPROVED


def test_time_needs_to_say_what_it_was_for_and_a_sane_number_of_hours(world, api_as):
    alice = api_as(world.alice)
    nothing = alice.post(
        "/api/v1/time-entries/", {"date": TODAY().isoformat(), "hours": "1"}, format="json"
    )
    too_long = alice.post(
        "/api/v1/time-entries/",
        {"task": world.alice_task.pk, "date": TODAY().isoformat(), "hours": "25"},
        format="json",
    )

    assert nothing.status_code == 400 and nothing.json()["field"] == "task"
    assert too_long.status_code == 400 and too_long.json()["field"] == "hours"
    assert TimeEntry.objects.count() == 1


def test_billing_lists_do_not_grow_in_queries(world, api_as, django_assert_max_num_queries):
    for _ in range(15):
        _invoice(world.engagement.client)
    manager = api_as(world.manager)
    with django_assert_max_num_queries(12):
        assert manager.get("/api/v1/invoices/?limit=100").status_code == 200
    with django_assert_max_num_queries(12):
        assert manager.get("/api/v1/payments/?limit=100").status_code == 200
    with django_assert_max_num_queries(12):
        assert manager.get("/api/v1/time-entries/?limit=100").status_code == 200
