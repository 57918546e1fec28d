"""Invoice emails are an outbox too: an issued invoice whose email was never stored (the
broker lost the send task) is published again by beat; one without an address is not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import invoices
from billing.choices import InvoiceOrigin, LineKind
from billing.invoices import SEND_TASK
from billing.models import ClientBillingProfile, Invoice, InvoiceLine
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _issued_unsent(partner, settings, **client_fields) -> Invoice:
    settings.STRIPE_SECRET_KEY = "sk_test_x"  # the email waits for the worker
    invoice = Invoice.objects.create(
        client=ClientFactory(**client_fields), origin=InvoiceOrigin.MANUAL
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="Work",
        quantity=Decimal("1"),
        unit_price=Decimal("100"),
        amount=Decimal("100"),
        position=1,
    )
    invoices.invoice_recompute(invoice)
    invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user)
    Invoice.objects.filter(pk=invoice.pk).update(approved_at=timezone.now() - timedelta(minutes=5))
    return invoice


def test_unsent_invoices_are_queued_again_only_when_someone_can_receive_them(
    partner, settings, broker, django_capture_on_commit_callbacks
):
    with_email = _issued_unsent(partner, settings)
    without = _issued_unsent(partner, settings, email="")
    billing_only = _issued_unsent(partner, settings, email="")
    ClientBillingProfile.objects.create(
        client=billing_only.client, billing_email="ap@client.example"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert invoices.invoices_send_pending() == 2
    queued = {args[0] for args in broker.named(SEND_TASK)}
    assert queued == {with_email.pk, billing_only.pk} and without.pk not in queued
