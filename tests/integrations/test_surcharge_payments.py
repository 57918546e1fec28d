"""A Stripe payment through a page with a card surcharge: the invoice paid for its
balance, the surcharge kept as its own line for a credit card and refunded for a debit
card, each once however often Stripe reports the payment."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from billing import invoices
from billing.choices import (
    CardFunding,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    SurchargeOutcome,
)
from billing.models import CardSurcharge, Invoice, Payment
from billing.reports import realization_report
from integrations.choices import EventStatus, Source
from integrations.inbox import inbound_event_process
from integrations.models import InboundEvent
from tests.integrations.test_payments import issued_invoice
from tests.integrations.webhook_helpers import deliver, make_integration

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe(broker, fake_stripe, settings):
    settings.CARD_SURCHARGE_PERCENT = Decimal("3")
    return make_integration(Source.STRIPE)


def sent_invoice(partner, amount: str = "640.50") -> Invoice:
    invoice = issued_invoice(partner, amount)
    invoices.invoice_send(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    return invoice


def link_metadata(fake_stripe) -> dict[str, str]:
    """The metadata the page was made with (Stripe copies it to sessions and intents)."""
    form = fake_stripe.posts("/v1/payment_links")[-1]
    return {
        key[len("metadata[") : -1]: value[0]
        for key, value in form.items()
        if key.startswith("metadata[")
    }


def paid_event(
    event_id: str, invoice: Invoice, cents: int, metadata: dict[str, str], *, kind: str
) -> bytes:
    obj: dict[str, Any]
    if kind == "payment_intent.succeeded":
        obj = {
            "id": "pi_card1",
            "object": "payment_intent",
            "amount_received": cents,
            "payment_method_types": ["card"],
            "metadata": metadata,
            "created": int(time.time()),
        }
    else:
        obj = {
            "id": f"cs_test_{event_id}",
            "object": "checkout.session",
            "amount_subtotal": cents,
            "amount_total": cents,
            "payment_status": "paid",
            "payment_intent": "pi_card1",
            "payment_link": invoice.payment_page_id,
            "payment_method_types": ["card"],
            "metadata": metadata,
            "created": int(time.time()),
        }
    body = {
        "id": f"evt_{event_id}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    return json.dumps(body).encode()


def report_three_times(stripe, fake_stripe, invoice: Invoice) -> list[str]:
    metadata = link_metadata(fake_stripe)
    session = paid_event("S-1", invoice, 65972, metadata, kind="checkout.session.completed")
    deliver(stripe, session)
    deliver(stripe, session)  # Stripe's retry of the same event
    deliver(stripe, paid_event("S-2", invoice, 65972, metadata, kind="payment_intent.succeeded"))
    return [
        inbound_event_process(event_id=pk)
        for pk in InboundEvent.objects.order_by("pk").values_list("pk", flat=True)
    ]


def test_a_credit_card_payment_pays_the_invoice_and_keeps_the_surcharge_once(
    partner, stripe, fake_stripe
):
    invoice = sent_invoice(partner)
    assert invoice.payment_page_surcharge == Decimal("19.22")
    fake_stripe.intents["pi_card1"] = ("card", "credit")

    assert report_three_times(stripe, fake_stripe, invoice) == [EventStatus.APPLIED] * 2

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.balance == 0
    assert (invoice.total, invoice.amount_paid) == (Decimal("659.72"), Decimal("659.72"))
    payment = Payment.objects.get()
    assert (payment.external_id, payment.amount, payment.method) == (
        "pi_card1",
        Decimal("659.72"),
        PaymentMethod.CARD,
    )
    line = invoice.lines.get(kind=LineKind.SURCHARGE)
    assert line.amount == Decimal("19.22") and "Card surcharge 3.00 %" in line.description
    decided = CardSurcharge.objects.get()
    assert (decided.outcome, decided.funding, decided.line, decided.payment) == (
        SurchargeOutcome.KEPT,
        CardFunding.CREDIT,
        line,
        payment,
    )
    # Stripe was asked how the card was funded once; nothing was refunded.
    assert len([c for c in fake_stripe.calls if c[0] == "GET"]) == 1
    assert fake_stripe.posts("/v1/refunds") == []
    first, second = InboundEvent.objects.order_by("pk")
    assert "Card surcharge $19.22: kept" in first.detail
    assert "already recorded" in second.detail
    # The surcharge is billed and collected; realization (billed work) leaves it out.
    today = timezone.localdate()
    report = realization_report(client_ids=None, start=today, end=today)
    assert (report.firm.billed, report.firm.collected) == (Decimal("659.72"), Decimal("659.72"))
    assert report.firm.collection == Decimal("1")


def test_a_debit_card_payment_pays_the_balance_and_refunds_the_surcharge_once(
    partner, stripe, fake_stripe
):
    invoice = sent_invoice(partner)
    fake_stripe.intents["pi_card1"] = ("card", "debit")

    assert report_three_times(stripe, fake_stripe, invoice) == [EventStatus.APPLIED] * 2

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert (invoice.total, invoice.amount_paid) == (Decimal("640.50"), Decimal("640.50"))
    assert not invoice.lines.filter(kind=LineKind.SURCHARGE).exists()
    payment = Payment.objects.get()
    assert payment.amount == Decimal("640.50") and "refunded (Debit card)" in payment.note
    (refund,) = fake_stripe.posts("/v1/refunds")
    assert (refund["payment_intent"], refund["amount"]) == (["pi_card1"], ["1922"])
    refund_keys = [key for _, path, _, key in fake_stripe.calls if path == "/v1/refunds"]
    assert refund_keys == ["closeloop-surcharge-refund-pi_card1"]
    decided = CardSurcharge.objects.get()
    assert (decided.outcome, decided.funding, decided.refund_id, decided.line) == (
        SurchargeOutcome.REFUNDED,
        CardFunding.DEBIT,
        "re_4",  # price, surcharge price, link, then the refund
        None,
    )


def test_stripe_unreachable_while_asked_leaves_nothing_recorded_and_retries(
    partner, stripe, fake_stripe
):
    invoice = sent_invoice(partner)
    metadata = link_metadata(fake_stripe)
    deliver(stripe, paid_event("T-1", invoice, 65972, metadata, kind="checkout.session.completed"))
    event = InboundEvent.objects.get()
    fake_stripe.fail_with = 503

    assert inbound_event_process(event_id=event.pk) == EventStatus.RETRYING
    assert not Payment.objects.exists() and not CardSurcharge.objects.exists()
    invoice.refresh_from_db()
    assert invoice.total == Decimal("640.50")  # no surcharge line left behind

    fake_stripe.fail_with = None
    InboundEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert inbound_event_process(event_id=event.pk) == EventStatus.APPLIED
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.total == Decimal("659.72")


def test_a_stale_page_paying_more_than_is_owed_is_an_exception(partner, stripe, fake_stripe):
    invoice = sent_invoice(partner)
    metadata = link_metadata(fake_stripe)
    from billing.payments import payment_record

    payment_record(
        invoice_id=invoice.pk, amount=Decimal("100.00"), received_on=timezone.localdate()
    )
    deliver(stripe, paid_event("U-1", invoice, 65972, metadata, kind="checkout.session.completed"))

    assert inbound_event_process(event_id=InboundEvent.objects.get().pk) == EventStatus.EXCEPTION
    assert "$640.50 (the card payment less its $19.22 surcharge) is more than the $540.50" in (
        InboundEvent.objects.get().detail
    )
    assert Payment.objects.count() == 1 and not CardSurcharge.objects.exists()
