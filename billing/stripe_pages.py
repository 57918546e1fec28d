"""The hosted payment page (Stripe Payment Links) for an issued invoice's balance.

Only when ``STRIPE_SECRET_KEY`` is set. A Payment Link (unlike a Checkout Session)
does not expire, so the link in an emailed invoice keeps working.

1. ``payment_page_ensure``: if the invoice has no page, or its page is for another
   amount or another card surcharge, make a Price for the balance and a Payment Link
   for it; the old link is switched off. With a card surcharge
   (``billing.surcharges``) the surcharge is a second Price, its own line on the page,
   the page takes cards only, and the link's metadata (copied by Stripe to its
   Checkout Sessions and, through ``payment_intent_data``, to their PaymentIntents)
   names the surcharge so the webhook can split the payment. Each call to Stripe
   carries an idempotency key made of the invoice, the amounts in cents and the
   invoice's last change, so a retried task (the worker died after Stripe answered)
   gets the same objects back, never a second page.
2. ``payment_page_refresh`` (a task, after a payment or a late fee): the same for
   the new balance; a paid or void invoice has its link switched off.
Calls run in workers, never in a page request; ``STRIPE_API_BASE`` points the
library at a stand-in server in tests.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from billing.invoices import _locked
from billing.models import Invoice
from billing.surcharges import page_surcharge

CENTS = Decimal("100")


def _stripe() -> Any:
    import stripe

    stripe.api_key = settings.STRIPE_SECRET_KEY
    if settings.STRIPE_API_BASE:
        stripe.api_base = settings.STRIPE_API_BASE
    stripe.max_network_retries = 2
    return stripe


def _key(invoice: Invoice, cents: int, what: str) -> str:
    stamp = invoice.updated_at.strftime("%Y%m%d%H%M%S%f") if invoice.updated_at else "0"
    return f"closeloop-invoice-{invoice.pk}-{cents}-{stamp}-{what}"


def _deactivate(stripe: Any, invoice: Invoice) -> None:
    if invoice.payment_page_id:
        stripe.PaymentLink.modify(invoice.payment_page_id, active=False)


PAGE_FIELDS = [
    "payment_page_id",
    "payment_url",
    "payment_page_amount",
    "payment_page_surcharge",
    "payment_page_surcharge_percent",
    "updated_at",
]


def payment_page_ensure(invoice: Invoice) -> None:
    """Make the page for the invoice's balance unless it exists (invoice locked)."""
    balance = invoice.total - invoice.amount_paid
    surcharge = page_surcharge(invoice, balance)
    if (
        invoice.payment_page_id
        and invoice.payment_page_amount == balance
        and invoice.payment_page_surcharge == (surcharge.amount if surcharge else None)
        and invoice.payment_page_surcharge_percent == (surcharge.percent if surcharge else None)
    ):
        return
    stripe = _stripe()
    cents = int(balance * CENTS)
    metadata = {"closeloop_invoice_id": str(invoice.pk), "invoice_number": invoice.number}
    extra: dict[str, Any] = {}
    # Keys without a surcharge stay as they were: a page made before this code is found again.
    tag = ""
    price = stripe.Price.create(
        currency=settings.CURRENCY,
        unit_amount=cents,
        product_data={"name": f"Invoice {invoice.number} — {settings.FIRM_NAME}"},
        idempotency_key=_key(invoice, cents, "price"),
    )
    line_items = [{"price": price["id"], "quantity": 1}]
    if surcharge is not None:
        surcharge_cents = int(surcharge.amount * CENTS)
        tag = f"-s{surcharge_cents}-{surcharge.percent}"
        surcharge_price = stripe.Price.create(
            currency=settings.CURRENCY,
            unit_amount=surcharge_cents,
            product_data={
                "name": f"Card surcharge {surcharge.percent} % — credit cards only "
                "(refunded automatically for debit and prepaid cards)"
            },
            idempotency_key=_key(invoice, cents, f"surcharge{tag}"),
        )
        line_items.append({"price": surcharge_price["id"], "quantity": 1})
        metadata["closeloop_surcharge_cents"] = str(surcharge_cents)
        metadata["closeloop_surcharge_percent"] = str(surcharge.percent)
        extra["payment_method_types"] = ["card"]
    link = stripe.PaymentLink.create(
        line_items=line_items,
        metadata=metadata,
        payment_intent_data={"metadata": metadata},
        restrictions={"completed_sessions": {"limit": 1}},
        idempotency_key=_key(invoice, cents, f"link{tag}"),
        **extra,
    )
    _deactivate(stripe, invoice)
    invoice.payment_page_id = link["id"]
    invoice.payment_url = link["url"]
    invoice.payment_page_amount = balance
    invoice.payment_page_surcharge = surcharge.amount if surcharge else None
    invoice.payment_page_surcharge_percent = surcharge.percent if surcharge else None
    invoice.save(update_fields=PAGE_FIELDS)


@transaction.atomic
def payment_page_refresh(*, invoice_id: int) -> None:
    """Bring the page in line with the balance now (switched off once nothing is owed)."""
    if not settings.STRIPE_SECRET_KEY:
        return
    invoice = _locked(invoice_id)
    if invoice.is_open:
        payment_page_ensure(invoice)
        return
    if invoice.payment_page_id:
        _deactivate(_stripe(), invoice)
        invoice.payment_page_id = ""
        invoice.payment_url = ""
        invoice.payment_page_amount = None
        invoice.payment_page_surcharge = None
        invoice.payment_page_surcharge_percent = None
        invoice.save(update_fields=PAGE_FIELDS)
