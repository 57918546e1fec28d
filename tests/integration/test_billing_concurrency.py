"""Invoice numbers and external payments under concurrency on PostgreSQL: many approvals
at once take distinct, sequential numbers; one processor payment reported by several
workers at once is recorded once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from billing import invoices, payments
from billing.choices import InvoiceOrigin, InvoiceStatus, LineKind, PaymentSource
from billing.models import Invoice, InvoiceLine, Payment
from core.exceptions import ApplicationError
from tests.conftest import require_service
from tests.factories import ClientFactory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DRAFTS = 12


def _draft(amount: str = "500") -> Invoice:
    invoice = Invoice.objects.create(client=ClientFactory(), origin=InvoiceOrigin.MANUAL)
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


def _in_thread(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    finally:
        close_old_connections()
        connection.close()


def test_parallel_approvals_take_distinct_sequential_numbers(
    transactional_db, django_db_serialized_rollback, partner, broker
):
    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL (DATABASE_URL): SQLite serialises writers, so this proves nothing there",
    )
    drafts = [_draft() for _ in range(DRAFTS)]
    start = threading.Barrier(DRAFTS)

    def approve(invoice_id: int) -> str:
        start.wait(timeout=30)
        return invoices.invoice_approve(invoice_id=invoice_id, user=partner.user).invoice.number

    with ThreadPoolExecutor(max_workers=DRAFTS) as pool:
        numbers = list(pool.map(lambda pk: _in_thread(approve, pk), [d.pk for d in drafts]))
    values = sorted(int(n.removeprefix("INV-")) for n in numbers)
    assert len(set(numbers)) == DRAFTS
    assert values == list(range(values[0], values[0] + DRAFTS))  # no gap, no repeat
    assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == DRAFTS


def test_one_external_payment_reported_at_once_by_many_workers_is_recorded_once(
    transactional_db, django_db_serialized_rollback, partner, broker
):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL)")
    invoice = invoices.invoice_approve(invoice_id=_draft("900").pk, user=partner.user).invoice
    workers = 8
    start = threading.Barrier(workers)

    def report() -> bool:
        start.wait(timeout=30)
        try:
            return payments.payment_record(
                invoice_id=invoice.pk,
                amount=Decimal("300"),
                received_on=timezone.localdate(),
                source=PaymentSource.STRIPE,
                external_id="pi_concurrent",
            ).created
        except ApplicationError:
            return False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        created = list(pool.map(lambda _: _in_thread(report), range(workers)))
    assert created.count(True) == 1
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("300")
