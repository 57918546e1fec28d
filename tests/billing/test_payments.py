"""Payments (partial, full, over, void, idempotent, before approval) and late fees."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import invoices, payments
from billing.choices import (
    InvoiceOrigin,
    InvoiceStatus,
    LateFeeMode,
    LineKind,
    PaymentSource,
    PaymentStatus,
)
from billing.models import ClientBillingProfile, Invoice, InvoiceLine, LateFeeCharge, Payment
from core.exceptions import ApplicationError, Conflict
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def draft(amount: str = "1000.00", client=None) -> Invoice:
    invoice = Invoice.objects.create(client=client or ClientFactory(), origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="Work",
        quantity=Decimal("1"),
        unit_price=Decimal(amount),
        amount=Decimal(amount),
        position=1,
    )
    return invoices.invoice_recompute(invoice)


@pytest.fixture
def issued(partner, broker):
    invoice = draft()
    return invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user).invoice


def pay(invoice, amount: str, **kwargs):
    kwargs.setdefault("received_on", timezone.localdate())
    return payments.payment_record(invoice_id=invoice.pk, amount=Decimal(amount), **kwargs)


def test_partial_payments_reduce_the_balance_then_settle_it(issued):
    pay(issued, "400.10")
    issued.refresh_from_db()
    assert issued.balance == Decimal("599.90") and issued.is_partly_paid
    assert issued.status == InvoiceStatus.ISSUED
    pay(issued, "599.90")
    issued.refresh_from_db()
    assert issued.balance == 0 and issued.status == InvoiceStatus.PAID


def test_an_overpayment_is_refused_with_the_amount_owed(issued):
    pay(issued, "900")
    with pytest.raises(ApplicationError, match=r"more than the \$100.00 still owed"):
        pay(issued, "100.01")
    issued.refresh_from_db()
    assert issued.amount_paid == Decimal("900") and Payment.objects.count() == 1
    pay(issued, "100")
    with pytest.raises(ApplicationError, match="already paid in full"):
        pay(issued, "0.01")


def test_a_payment_on_a_void_invoice_is_refused(issued, partner):
    invoices.invoice_void(invoice_id=issued.pk, user=partner.user, reason="Billed twice")
    with pytest.raises(ApplicationError, match="is void"):
        pay(issued, "10")
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-5", "10.001"])
def test_nonsense_amounts_are_refused(issued, amount):
    with pytest.raises(ApplicationError):
        pay(issued, amount)


def test_a_future_date_is_refused(issued):
    with pytest.raises(ApplicationError):
        pay(issued, "10", received_on=timezone.localdate() + timedelta(days=1))


def test_the_same_external_payment_reported_three_times_records_one(issued):
    results = [
        pay(issued, "250", source=PaymentSource.STRIPE, external_id="pi_3Nx") for _ in range(3)
    ]
    assert [r.created for r in results] == [True, False, False]
    assert Payment.objects.count() == 1
    issued.refresh_from_db()
    assert issued.amount_paid == Decimal("250")
    with pytest.raises(Conflict):
        pay(issued, "300", source=PaymentSource.STRIPE, external_id="pi_3Nx")
    with pytest.raises(ApplicationError, match="needs its payment id"):
        pay(issued, "1", source=PaymentSource.STRIPE)


def test_a_payment_before_approval_is_held_then_applied(partner, broker):
    invoice = draft("500")
    recorded = pay(invoice, "200", source=PaymentSource.STRIPE, external_id="pi_early")
    assert recorded.payment.status == PaymentStatus.HELD
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0 and invoice.status == InvoiceStatus.DRAFT
    with pytest.raises(ApplicationError):
        pay(invoice, "300.01")  # more than the draft less what is held
    invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user)
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("200") and invoice.balance == Decimal("300")
    recorded.payment.refresh_from_db()
    assert recorded.payment.status == PaymentStatus.APPLIED and recorded.payment.applied_at


def test_a_held_payment_covering_the_draft_pays_it_on_approval(partner, broker):
    invoice = draft("80")
    pay(invoice, "80")
    approved = invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user).invoice
    assert approved.status == InvoiceStatus.PAID


# --- Late fees -----------------------------------------------------------------------------


def due_days_ago(invoice: Invoice, days: int) -> None:
    due = timezone.localdate() - timedelta(days=days)
    Invoice.objects.filter(pk=invoice.pk).update(issued_on=due - timedelta(days=30), due_on=due)


@pytest.fixture
def overdue(issued):
    due_days_ago(issued, 15)
    issued.refresh_from_db()
    return issued


@pytest.fixture
def late_fees_on(settings):
    settings.LATE_FEE_FLAT = Decimal("25")
    settings.LATE_FEE_PERCENT = Decimal("1.5")
    settings.LATE_FEE_GRACE_DAYS = 10
    settings.LATE_FEE_PERIOD_DAYS = 30


def test_late_fee_job_run_fifty_times_adds_one_fee(overdue, late_fees_on):
    results = [payments.late_fees_apply() for _ in range(50)]
    assert sum(results) == 1
    overdue.refresh_from_db()
    [fee] = overdue.lines.filter(kind=LineKind.LATE_FEE)
    assert fee.amount == Decimal("40.00")  # $25 + 1.5% of $1,000
    assert overdue.total == Decimal("1040.00") and overdue.balance == Decimal("1040.00")
    assert LateFeeCharge.objects.get().period == 1


def test_a_new_period_charges_again_but_missed_ones_are_not_replayed(overdue, late_fees_on):
    today = timezone.localdate()
    payments.late_fees_apply(today=today)
    payments.late_fees_apply(today=today + timedelta(days=75))  # periods 2 and 3 missed: one fee
    assert list(LateFeeCharge.objects.values_list("period", flat=True).order_by("period")) == [1, 3]


def test_no_late_fee_within_grace_or_when_off(issued, late_fees_on):
    due_days_ago(issued, 10)
    assert payments.late_fees_apply() == 0
    due_days_ago(issued, 40)
    ClientBillingProfile.objects.create(client=issued.client, late_fee_mode=LateFeeMode.OFF)
    assert payments.late_fees_apply() == 0


def test_firm_default_is_no_late_fee(overdue):
    assert payments.late_fees_apply() == 0


def test_never_a_late_fee_on_disputed_amounts(overdue, late_fees_on):
    Invoice.objects.filter(pk=overdue.pk).update(disputed_amount=Decimal("1000"))
    assert payments.late_fees_apply() == 0
    Invoice.objects.filter(pk=overdue.pk).update(disputed_amount=Decimal("600"))
    assert payments.late_fees_apply() == 1
    assert LateFeeCharge.objects.get().base == Decimal("400")
    assert overdue.lines.get(kind=LineKind.LATE_FEE).amount == Decimal("31.00")  # 25 + 1.5% of 400


def test_a_clients_own_late_fee_terms(overdue):
    ClientBillingProfile.objects.create(
        client=overdue.client,
        late_fee_mode=LateFeeMode.ON,
        late_fee_percent=Decimal("2"),
        late_fee_grace_days=0,
    )
    assert payments.late_fees_apply() == 1
    assert overdue.lines.get(kind=LineKind.LATE_FEE).amount == Decimal("20.00")
