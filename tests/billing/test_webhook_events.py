"""Outbound webhooks for billing: ``invoice.approved``, ``invoice.sent``, ``payment.received``,
``payment.partial``, ``invoice.disputed`` (``invoice.instalment_missed``: test_followups), signed as
Standard Webhooks, in order per invoice, from the same services as the pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing import invoices, payments
from billing.choices import InvoiceOrigin, LineKind, PaymentMethod
from billing.models import Invoice, InvoiceLine
from core.exceptions import ApplicationError, NotPermitted
from notifications.choices import DeliveryStatus, WebhookEventType
from notifications.models import WebhookAllowedHost, WebhookDelivery, WebhookSubscription
from notifications.webhooks import new_secret, webhook_delivery_send
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def draft(amount: str = "1000.00") -> Invoice:
    invoice = Invoice.objects.create(client=ClientFactory(), origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="Tax return",
        quantity=Decimal("1"),
        unit_price=Decimal(amount),
        amount=Decimal(amount),
        position=1,
    )
    return invoices.invoice_recompute(invoice)


def subscribe(receiver, event_types: list[str]) -> WebhookSubscription:
    WebhookAllowedHost.objects.get_or_create(host="127.0.0.1")
    receiver.secret = new_secret()
    return WebhookSubscription.objects.create(
        name="Firm's ledger script",
        url=receiver.url,
        secret=receiver.secret,
        event_types=event_types,
    )


def send_all() -> list[str]:
    return [
        webhook_delivery_send(delivery_id=pk)
        for pk in WebhookDelivery.objects.order_by("event__sequence", "pk").values_list(
            "pk", flat=True
        )
    ]


def pay(invoice: Invoice, amount: str):
    return payments.payment_record(
        invoice_id=invoice.pk,
        amount=Decimal(amount),
        received_on=timezone.localdate(),
        method=PaymentMethod.CHECK,
    )


def test_approval_and_payments_reach_the_receiver_signed_and_in_order(broker, partner, receiver):
    subscribe(receiver, [WebhookEventType.INVOICE_APPROVED, WebhookEventType.PAYMENT_RECEIVED])
    invoice = invoices.invoice_approve(invoice_id=draft().pk, user=partner.user).invoice
    pay(invoice, "400.00")
    pay(invoice, "600.00")

    assert send_all() == [DeliveryStatus.DELIVERED] * 3
    assert receiver.verified == [True, True, True]  # the standardwebhooks package agrees
    bodies = [got["payload"] for got in receiver.received]  # as verified by the package
    got = [(p["type"], p["data"]["sequence"], p["data"]["invoice"]) for p in bodies]
    assert [(kind, seq) for kind, seq, _ in got] == [
        ("invoice.approved", 1),
        ("payment.received", 2),
        ("payment.received", 3),
    ]
    approved, partial, settled = (facts for _, _, facts in got)
    assert approved["number"] == invoice.number and approved["balance"] == "1000.00"
    assert (partial["status"], partial["balance"]) == ("issued", "600.00")
    assert (settled["status"], settled["balance"]) == ("paid", "0.00")
    assert bodies[2]["data"]["payment"]["amount"] == "600.00"


def test_a_payment_held_on_a_draft_is_received_when_the_draft_is_approved(
    broker, partner, receiver
):
    subscribe(receiver, [WebhookEventType.PAYMENT_RECEIVED])
    invoice = draft("250.00")
    pay(invoice, "250.00")
    assert not WebhookDelivery.objects.exists()  # held: not received by the firm's books yet

    invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user)
    send_all()

    assert receiver.verified == [True]
    body = receiver.received[0]["payload"]
    assert body["type"] == "payment.received" and body["data"]["invoice"]["status"] == "paid"


def test_a_refused_approval_sends_nothing(broker, manager, receiver):
    subscribe(receiver, [WebhookEventType.INVOICE_APPROVED])
    invoice = draft()

    with pytest.raises(NotPermitted, match="partner"):
        invoices.invoice_approve(invoice_id=invoice.pk, user=manager.user)

    assert not WebhookDelivery.objects.exists()


def test_a_partial_payment_is_also_payment_partial_and_the_last_one_is_not(
    broker, partner, receiver
):
    subscribe(receiver, [WebhookEventType.PAYMENT_PARTIAL])
    invoice = invoices.invoice_approve(invoice_id=draft().pk, user=partner.user).invoice
    pay(invoice, "400.00")
    pay(invoice, "600.00")  # settles it: received, not partial

    assert send_all() == [DeliveryStatus.DELIVERED]
    body = receiver.received[0]["payload"]
    assert body["type"] == "payment.partial"
    assert body["data"]["invoice"]["balance"] == "600.00"
    assert body["data"]["payment"]["amount"] == "400.00"


def test_the_invoice_email_stored_is_invoice_sent_once(broker, partner, receiver):
    subscribe(receiver, [WebhookEventType.INVOICE_SENT, WebhookEventType.INVOICE_APPROVED])
    invoice = invoices.invoice_approve(invoice_id=draft().pk, user=partner.user).invoice
    assert invoices.invoice_send(invoice_id=invoice.pk) is False  # sent at approval already

    send_all()
    kinds = [
        (got["payload"]["type"], got["payload"]["data"]["sequence"]) for got in receiver.received
    ]
    assert kinds == [("invoice.approved", 1), ("invoice.sent", 2)]
    invoice.refresh_from_db()
    assert receiver.received[1]["payload"]["data"]["sent_at"] == invoice.sent_at.isoformat()


def test_a_dispute_is_invoice_disputed_and_a_refused_one_sends_nothing(broker, partner, receiver):
    from billing import disputes

    subscribe(receiver, [WebhookEventType.INVOICE_DISPUTED])
    invoice = invoices.invoice_approve(invoice_id=draft().pk, user=partner.user).invoice
    line = invoice.lines.get()
    disputes.dispute_open(invoice_id=invoice.pk, user=partner.user, line_ids=[line.pk])
    with pytest.raises(ApplicationError, match="already has an open dispute"):
        disputes.dispute_open(invoice_id=invoice.pk, user=partner.user)

    assert send_all() == [DeliveryStatus.DELIVERED]
    data = receiver.received[0]["payload"]["data"]
    assert data["dispute"]["amount"] == "1000.00" and data["dispute"]["line_ids"] == [line.pk]
    assert data["dispute"]["whole_invoice"] is True and data["dispute"]["source"] == "manual"
