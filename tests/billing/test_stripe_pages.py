"""The hosted payment page against a local server standing in for Stripe's API (no
network): made once per balance with idempotency keys, carried by the email, refreshed
when the balance changes, switched off once paid."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing import invoices, payments, stripe_pages
from billing.choices import InvoiceOrigin, LineKind
from billing.invoices import PAYMENT_PAGE_TASK, SEND_TASK
from billing.models import Invoice, InvoiceLine
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _issued(partner) -> Invoice:
    invoice = Invoice.objects.create(client=ClientFactory(), origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="Work",
        quantity=Decimal("1"),
        unit_price=Decimal("640.50"),
        amount=Decimal("640.50"),
        position=1,
    )
    invoices.invoice_recompute(invoice)
    return invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user).invoice


def test_sent_invoice_gets_one_payment_page_for_its_balance(
    fake_stripe, partner, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = _issued(partner)
    assert invoice.sent_at is None  # the email waits for the page, in a worker
    assert broker.named(SEND_TASK) == [(invoice.pk,)]
    assert invoices.invoice_send(invoice_id=invoice.pk) is True
    assert invoices.invoice_send(invoice_id=invoice.pk) is False  # a retried task: nothing new
    invoice.refresh_from_db()
    assert invoice.payment_url == "https://buy.stripe.test/plink_2"
    assert invoice.payment_page_amount == Decimal("640.50")
    paths = [(path, form.get("unit_amount")) for _, path, form, _ in fake_stripe.calls]
    assert paths == [("/v1/prices", ["64050"]), ("/v1/payment_links", None)]
    keys = [key for *_, key in fake_stripe.calls]
    assert all(key and key.startswith(f"closeloop-invoice-{invoice.pk}-64050-") for key in keys)
    email = Notification.objects.get(template=NotificationTemplate.INVOICE_ISSUED)
    assert "https://buy.stripe.test/plink_2" in email.body
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)  # balance unchanged: no call
    assert len(fake_stripe.calls) == 2


def test_a_retried_call_gets_the_same_page_back(fake_stripe, partner, broker):
    invoice = _issued(partner)
    first_try = Invoice.objects.get(pk=invoice.pk)
    retry = Invoice.objects.get(pk=invoice.pk)  # the row as the redelivered task finds it
    stripe_pages.payment_page_ensure(first_try)
    first = first_try.payment_page_id
    # The worker died after Stripe answered, before its transaction committed: the
    # retry reads the row as it was, sends the same keys and gets the same page.
    stripe_pages.payment_page_ensure(retry)
    again = retry
    assert again.payment_page_id == first
    assert fake_stripe.count == 2  # one price, one link, ever


def test_the_page_follows_the_balance_and_is_switched_off_when_paid(
    fake_stripe, partner, broker, django_capture_on_commit_callbacks
):
    invoice = _issued(partner)
    invoices.invoice_send(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    old_link = invoice.payment_page_id
    with django_capture_on_commit_callbacks(execute=True):
        payments.payment_record(
            invoice_id=invoice.pk, amount=Decimal("140.50"), received_on=timezone.localdate()
        )
    assert (invoice.pk,) in broker.named(PAYMENT_PAGE_TASK)
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.payment_page_amount == Decimal("500.00") and invoice.payment_page_id != old_link
    assert ("POST", f"/v1/payment_links/{old_link}") in [(m, p) for m, p, _, _ in fake_stripe.calls]
    payments.payment_record(
        invoice_id=invoice.pk, amount=Decimal("500"), received_on=timezone.localdate()
    )
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.payment_url == "" and invoice.payment_page_id == ""
    assert fake_stripe.calls[-1][2].get("active") == ["false"]
