"""Payments reported by Stripe, QuickBooks Online and Xero: recorded through billing's one
write path, once per external payment, the invoice paid (and so no longer chased)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from billing import invoices
from billing.choices import InvoiceOrigin, InvoiceStatus, LineKind, PaymentSource
from billing.models import Invoice, InvoiceLine, Payment
from integrations.choices import EventStatus, Source
from integrations.delivery_log import delivery_log
from integrations.inbox import inbound_event_process, inbound_event_replay
from integrations.models import InboundEvent
from tests.factories import ClientFactory
from tests.integrations.webhook_helpers import deliver, make_integration

pytestmark = pytest.mark.django_db


def issued_invoice(partner, amount: str = "1000.00", *, client=None) -> Invoice:
    invoice = Invoice.objects.create(client=client or ClientFactory(), origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="Year-end accounts",
        quantity=Decimal("1"),
        unit_price=Decimal(amount),
        amount=Decimal(amount),
        position=1,
    )
    invoices.invoice_recompute(invoice)
    return invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user).invoice


def process_all() -> list[str]:
    return [
        inbound_event_process(event_id=pk)
        for pk in InboundEvent.objects.order_by("pk").values_list("pk", flat=True)
    ]


def stripe_event(
    event_id: str, invoice: Invoice | None, cents: int, *, kind: str = "checkout.session.completed"
) -> bytes:
    session: dict[str, Any] = {
        "id": f"cs_test_{event_id}",
        "object": "checkout.session",
        "amount_total": cents,
        "currency": "usd",
        "payment_status": "paid",
        "payment_intent": f"pi_{event_id.split('-')[0]}",
        "payment_link": "plink_1",
        "payment_method_types": ["card"],
        "metadata": {"closeloop_invoice_id": str(invoice.pk)} if invoice else {},
        "created": int(time.time()),
    }
    body = {
        "id": f"evt_{event_id}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": session},
    }
    return json.dumps(body).encode()


@pytest.fixture
def stripe(broker):
    return make_integration(Source.STRIPE)


def test_a_stripe_payment_page_payment_pays_the_invoice_once(partner, stripe):
    invoice = issued_invoice(partner)
    body = stripe_event("A-1", invoice, 100000)

    assert deliver(stripe, body).status_code == 200
    assert deliver(stripe, body).status_code == 200  # Stripe's retry: acknowledged again
    # The same payment, told again by another event (async success of the same intent).
    deliver(
        stripe,
        stripe_event("A-2", invoice, 100000, kind="checkout.session.async_payment_succeeded"),
    )

    assert process_all() == [EventStatus.APPLIED, EventStatus.APPLIED]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == 0
    assert not invoice.is_open and invoice.chaseable_balance == 0  # follow-ups stop
    payment = Payment.objects.get()
    assert (payment.source, payment.external_id, payment.amount) == (
        PaymentSource.STRIPE,
        "pi_A",
        Decimal("1000.00"),
    )
    first, second = InboundEvent.objects.order_by("pk")
    assert first.invoice == invoice and "$1000.00 recorded" in first.detail
    assert "already recorded" in second.detail


def test_a_partial_stripe_payment_leaves_the_rest_owed(partner, stripe):
    invoice = issued_invoice(partner)
    deliver(stripe, stripe_event("B-1", invoice, 25050))

    process_all()

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED and invoice.balance == Decimal("749.50")


def test_stripe_events_for_other_things_are_ignored_not_exceptions(partner, stripe):
    invoice = issued_invoice(partner)
    unpaid = json.loads(stripe_event("C-1", invoice, 100000))
    unpaid["data"]["object"]["payment_status"] = "unpaid"  # a bank transfer still on its way
    deliver(stripe, json.dumps(unpaid).encode())
    no_invoice = json.loads(stripe_event("C-2", None, 5000, kind="payment_intent.succeeded"))
    no_invoice["data"]["object"].update(object="payment_intent", id="pi_shop", amount_received=5000)
    del no_invoice["data"]["object"]["payment_link"]
    deliver(stripe, json.dumps(no_invoice).encode())

    assert process_all() == [EventStatus.IGNORED, EventStatus.IGNORED]
    assert not Payment.objects.exists()
    assert "not paid yet" in InboundEvent.objects.order_by("pk").first().detail


def test_an_overpayment_is_an_exception_in_billing_words_then_replayed_once_fixed(partner, stripe):
    invoice = issued_invoice(partner, "100.00")
    deliver(stripe, stripe_event("D-1", invoice, 15000))

    assert process_all() == [EventStatus.EXCEPTION]
    event = InboundEvent.objects.get()
    assert "$150.00 is more than the $100.00 still owed" in event.detail
    assert not Payment.objects.exists()

    # The partner adds the missing line; the event is replayed from the admin.
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.ADJUSTMENT,
        description="Extra",
        quantity=Decimal("1"),
        unit_price=Decimal("50.00"),
        amount=Decimal("50.00"),
        position=2,
    )
    invoices.invoice_recompute(invoice)
    assert inbound_event_replay(event_id=event.pk)
    assert process_all() == [EventStatus.APPLIED]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_an_unknown_invoice_is_an_exception_a_person_can_see(stripe):
    deliver(stripe, stripe_event("E-1", None, 1000))
    body = json.loads(stripe_event("E-2", None, 1000))
    body["data"]["object"]["metadata"] = {"closeloop_invoice_id": "987654"}
    deliver(stripe, json.dumps(body).encode())

    # The first has no invoice id but was paid through a payment link nobody has.
    assert process_all() == [EventStatus.EXCEPTION, EventStatus.EXCEPTION]
    assert "No Closeloop invoice matches" in InboundEvent.objects.order_by("pk").last().detail
    row = next(r for r in delivery_log() if r.direction == "in")
    assert row.status == "exception" and row.replay_kind == "inbound"


def qbo_payment_event(event_id: str, payment_id: str) -> bytes:
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": event_id,
                "type": "qbo.payment.created.v1",
                "intuitentityid": payment_id,
                "intuitaccountid": "310687",
                "time": timezone.now().isoformat(),
            }
        ]
    ).encode()


@pytest.fixture
def qbo(broker, vendor_server):
    return make_integration(Source.QBO, api_base_url=vendor_server.url, api_token="qbo-token")


def test_a_quickbooks_payment_is_fetched_and_each_invoice_it_pays_is_credited(
    partner, qbo, vendor_server
):
    first, second = issued_invoice(partner, "300.00"), issued_invoice(partner, "500.00")
    base = "/v3/company/310687"
    vendor_server.serve(
        f"{base}/payment/77?minorversion=75",
        {
            "Payment": {
                "Id": "77",
                "TotalAmt": 500.0,
                "TxnDate": timezone.localdate().isoformat(),
                "Line": [
                    {"Amount": 300.0, "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
                    {"Amount": 200.0, "LinkedTxn": [{"TxnId": "131", "TxnType": "Invoice"}]},
                ],
            }
        },
    )
    vendor_server.serve(
        f"{base}/invoice/130?minorversion=75", {"Invoice": {"DocNumber": first.number}}
    )
    vendor_server.serve(
        f"{base}/invoice/131?minorversion=75", {"Invoice": {"DocNumber": second.number}}
    )
    deliver(qbo, qbo_payment_event("q-1", "77"))
    deliver(qbo, qbo_payment_event("q-1", "77"))  # QuickBooks' retry of the same event
    deliver(qbo, qbo_payment_event("q-2", "77"))  # the payment updated: same lines

    assert process_all() == [EventStatus.APPLIED, EventStatus.APPLIED]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == InvoiceStatus.PAID
    assert second.status == InvoiceStatus.ISSUED and second.balance == Decimal("300.00")
    assert sorted(Payment.objects.values_list("source", "external_id", "amount")) == [
        (PaymentSource.QBO, "77:130", Decimal("300.00")),
        (PaymentSource.QBO, "77:131", Decimal("200.00")),
    ]


def test_a_quickbooks_payment_that_cannot_all_apply_records_none_of_it(partner, qbo, vendor_server):
    invoice = issued_invoice(partner, "300.00")
    base = "/v3/company/310687"
    vendor_server.serve(
        f"{base}/payment/78?minorversion=75",
        {
            "Payment": {
                "Id": "78",
                "TxnDate": timezone.localdate().isoformat(),
                "Line": [
                    {"Amount": 100.0, "LinkedTxn": [{"TxnId": "140", "TxnType": "Invoice"}]},
                    {"Amount": 100.0, "LinkedTxn": [{"TxnId": "141", "TxnType": "Invoice"}]},
                ],
            }
        },
    )
    vendor_server.serve(
        f"{base}/invoice/140?minorversion=75", {"Invoice": {"DocNumber": invoice.number}}
    )
    vendor_server.serve(
        f"{base}/invoice/141?minorversion=75", {"Invoice": {"DocNumber": "QB-1041"}}
    )
    deliver(qbo, qbo_payment_event("q-3", "78"))

    assert process_all() == [EventStatus.EXCEPTION]
    assert "'QB-1041'" in InboundEvent.objects.get().detail
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("300.00")


def test_quickbooks_without_api_access_says_what_to_set(broker):
    qbo = make_integration(Source.QBO)
    deliver(qbo, qbo_payment_event("q-4", "79"))

    assert process_all() == [EventStatus.EXCEPTION]
    assert "API base URL" in InboundEvent.objects.get().detail


def xero_event(invoice_id: str) -> bytes:
    return json.dumps(
        {
            "events": [
                {
                    "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
                    "resourceId": invoice_id,
                    "eventDateUtc": timezone.now().isoformat(),
                    "eventType": "UPDATE",
                    "eventCategory": "INVOICE",
                    "tenantId": "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f",
                    "tenantType": "ORGANISATION",
                }
            ],
            "firstEventSequence": 1,
            "lastEventSequence": 1,
            "entropy": "S0MEENTR0PY",
        }
    ).encode()


def test_xero_payments_on_an_invoice_are_recorded_as_they_arrive(partner, broker, vendor_server):
    xero = make_integration(Source.XERO, api_base_url=vendor_server.url, api_token="xero-token")
    invoice = issued_invoice(partner, "400.00")
    path = "/api.xro/2.0/Invoices/inv-1"
    now_ms = int(time.time() * 1000)
    first = {"PaymentID": "pay-1", "Date": f"/Date({now_ms}+0000)/", "Amount": 150.0}
    second = {"PaymentID": "pay-2", "Date": f"/Date({now_ms}+0000)/", "Amount": 250.0}
    vendor_server.serve(
        path,
        {"Invoices": [{"Type": "ACCREC", "InvoiceNumber": invoice.number, "Payments": [first]}]},
    )
    deliver(xero, xero_event("inv-1"))
    assert process_all() == [EventStatus.APPLIED]
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("250.00")

    vendor_server.serve(
        path,
        {
            "Invoices": [
                {"Type": "ACCREC", "InvoiceNumber": invoice.number, "Payments": [first, second]}
            ]
        },
    )
    deliver(xero, xero_event("inv-1"))
    process_all()

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert list(Payment.objects.order_by("pk").values_list("external_id", flat=True)) == [
        "pay-1",
        "pay-2",
    ]
    assert vendor_server.requests[0][1]["xero-tenant-id"] == "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
