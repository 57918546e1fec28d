"""Payments reported by Stripe, QuickBooks Online and Xero, recorded through billing.

Each vendor's record is read into ``PaymentReport`` rows (one per invoice a payment
pays), then ``payments_apply`` records them with ``billing.payments.payment_record``,
the one write path the payment form uses: a paid invoice is no longer open, so its
follow-ups stop, and the same external payment reported again records nothing.

| source | event | what is read | invoice found by | external id |
| Stripe | ``checkout.session.completed`` / ``async_payment_succeeded`` (paid), ``payment_intent.succeeded`` | the event's own object | ``metadata.closeloop_invoice_id`` (set on the payment page), else the payment link | the PaymentIntent id (the session id without one) |
| QuickBooks | ``payment`` created / updated | ``GET payment/{id}``, and ``GET invoice/{id}`` per linked invoice | the QuickBooks invoice's ``DocNumber`` = the Closeloop invoice number | ``<payment id>:<invoice id>`` (one per line) |
| Xero | ``invoice`` update | ``GET Invoices/{id}`` (with its ``Payments``) | ``InvoiceNumber`` = the Closeloop invoice number | the Xero ``PaymentID`` |

A Stripe payment through a page with a card surcharge (the link's metadata carries
``closeloop_surcharge_cents`` and ``closeloop_surcharge_percent``, copied to the session
and its PaymentIntent) goes through ``billing.surcharges.card_payment_record``
instead: the surcharge kept as its own line for a credit card, refunded otherwise.
Stripe unreachable while that asks how the card was funded, or refunds: the event is
retried later (``VendorUnavailable``).

A report Closeloop cannot record (no such invoice, more than is owed, the same id
with another amount) raises ``Unapplicable`` with billing's reason: the event is an
exception a person sees in the admin and replays once fixed. Every payment of one
event is recorded, or none (the caller's transaction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from billing.choices import PaymentMethod, PaymentSource
from billing.models import CardSurcharge, Invoice, Payment
from billing.payments import Recorded, payment_record
from billing.surcharges import card_payment_record
from core.exceptions import ApplicationError
from integrations import vendor_api
from integrations.choices import Source
from integrations.models import InboundEvent, Integration
from integrations.parsing import NotApplicable, Unapplicable, parse_time

CENTS = Decimal("100")
PAYMENT_SOURCES = {
    Source.STRIPE: PaymentSource.STRIPE,
    Source.QBO: PaymentSource.QBO,
    Source.XERO: PaymentSource.XERO,
}
STRIPE_PAID_SESSIONS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
# Xero's JSON dates: "/Date(1518685950940+0000)/" (milliseconds since the epoch).
XERO_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


@dataclass(frozen=True)
class PaymentReport:
    external_id: str
    amount: Decimal
    received_on: date
    method: str = PaymentMethod.OTHER
    invoice_id: int | None = None  # Closeloop's own id, when the vendor carries it
    invoice_number: str = ""  # else the number the invoice was sent with
    link_id: str = ""  # else the Stripe payment link it was paid through
    surcharge: Decimal = Decimal("0")  # a card surcharge included in ``amount`` (Stripe)
    surcharge_percent: Decimal = Decimal("0")


@dataclass(frozen=True)
class Applied:
    payments: list[Payment]
    detail: str


def _amount(value: object, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Unapplicable(f"{where}: {value!r} is not an amount.") from None
    if not amount.is_finite():
        raise Unapplicable(f"{where}: {value!r} is not an amount.")
    return amount


def _day(value: object, fallback: datetime | None) -> date:
    """A vendor's date (ISO, unix seconds, Xero's /Date(ms)/) as the firm's calendar day."""
    if isinstance(value, str) and (match := XERO_DATE.fullmatch(value.strip())):
        return timezone.localdate(datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC))
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return date.fromisoformat(value.strip())
    moment = parse_time(value) if value not in (None, "") else None
    if moment is None:
        moment = fallback or timezone.now()
    return timezone.localdate(moment)


# --- Reading each vendor's record ----------------------------------------------------------------


def stripe_reports(event: InboundEvent) -> list[PaymentReport]:
    """A paid Checkout Session (a payment page) or a succeeded PaymentIntent."""
    kind = event.event_type
    obj = (event.payload.get("data") or {}).get("object") or {}
    if not isinstance(obj, dict):
        raise NotApplicable("The event carries no object.")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    invoice_ref = str(metadata.get("closeloop_invoice_id") or "")
    if kind in STRIPE_PAID_SESSIONS:
        if obj.get("payment_status") != "paid":
            raise NotApplicable("The checkout session is not paid yet (a later event pays it).")
        cents = obj.get("amount_total")
        intent = obj.get("payment_intent")
        external_id = str((intent.get("id") if isinstance(intent, dict) else intent) or obj["id"])
        link = str(obj.get("payment_link") or "")
    elif kind == "payment_intent.succeeded":
        cents = obj.get("amount_received", obj.get("amount"))
        external_id = str(obj.get("id") or "")
        link = ""
    else:
        raise NotApplicable(f"Stripe {kind} events do not record payments.")
    if not invoice_ref.isdigit() and not link:
        raise NotApplicable("Not a payment for a Closeloop invoice (no invoice in its metadata).")
    surcharge = percent = Decimal("0")
    if metadata.get("closeloop_surcharge_cents"):
        surcharge = _amount(metadata["closeloop_surcharge_cents"], "Stripe surcharge") / CENTS
        percent = _amount(metadata.get("closeloop_surcharge_percent"), "Stripe surcharge rate")
        if not external_id.startswith("pi_"):
            raise Unapplicable(
                f"Stripe payment {external_id} carries a card surcharge but no PaymentIntent: "
                "record it by hand."
            )
    types = obj.get("payment_method_types") or []
    method = (
        PaymentMethod.CARD
        if "card" in types or not types
        else PaymentMethod.ACH
        if "us_bank_account" in types
        else PaymentMethod.OTHER
    )
    return [
        PaymentReport(
            external_id=external_id,
            amount=(_amount(cents, "Stripe amount") / CENTS).quantize(Decimal("0.01")),
            received_on=_day(obj.get("created") or event.payload.get("created"), None),
            method=method,
            invoice_id=int(invoice_ref) if invoice_ref.isdigit() else None,
            link_id=link,
            surcharge=surcharge.quantize(Decimal("0.01")),
            surcharge_percent=percent,
        )
    ]


def _realm(event: InboundEvent) -> str:
    payload = event.payload
    return str(payload.get("intuitaccountid") or payload.get("realmId") or "")


def qbo_reports(event: InboundEvent, payment: dict[str, Any]) -> list[PaymentReport]:
    """One report per line of a QuickBooks payment that pays an invoice."""
    record = payment.get("Payment")
    if not isinstance(record, dict) or not record.get("Id"):
        raise Unapplicable("QuickBooks answered without the payment.")
    received_on = _day(record.get("TxnDate"), event.occurred_at)
    reports = []
    for line in record.get("Line") or []:
        for linked in (line.get("LinkedTxn") or []) if isinstance(line, dict) else []:
            if not isinstance(linked, dict) or linked.get("TxnType") != "Invoice":
                continue
            invoice = vendor_api.qbo_entity(
                event.integration, _realm(event), "invoice", str(linked.get("TxnId"))
            ).get("Invoice")
            number = str((invoice or {}).get("DocNumber") or "")
            if not number:
                raise Unapplicable(
                    f"QuickBooks invoice {linked.get('TxnId')} has no number to match."
                )
            reports.append(
                PaymentReport(
                    external_id=f"{record['Id']}:{linked.get('TxnId')}",
                    amount=_amount(line.get("Amount"), "QuickBooks line amount"),
                    received_on=received_on,
                    invoice_number=number,
                )
            )
    if not reports:
        raise NotApplicable(f"QuickBooks payment {record['Id']} pays no invoice.")
    return reports


def xero_reports(event: InboundEvent, fetched: dict[str, Any]) -> list[PaymentReport]:
    """One report per payment listed on a Xero sales invoice (deleted ones left out)."""
    invoices = fetched.get("Invoices") or []
    invoice = invoices[0] if invoices and isinstance(invoices[0], dict) else None
    if invoice is None:
        raise Unapplicable("Xero answered without the invoice.")
    if invoice.get("Type", "ACCREC") != "ACCREC":
        raise NotApplicable("A bill (accounts payable), not an invoice the firm sent.")
    number = str(invoice.get("InvoiceNumber") or "")
    reports = [
        PaymentReport(
            external_id=str(paid["PaymentID"]),
            amount=_amount(paid.get("Amount"), "Xero payment amount"),
            received_on=_day(paid.get("Date"), event.occurred_at),
            invoice_number=number,
        )
        for paid in invoice.get("Payments") or []
        if isinstance(paid, dict) and paid.get("PaymentID") and paid.get("Status") != "DELETED"
    ]
    if not reports:
        raise NotApplicable(f"Xero invoice {number or event.resource_id} has no payments yet.")
    return reports


# --- Recording -----------------------------------------------------------------------------------


def _invoice_for(report: PaymentReport, integration: Integration) -> Invoice:
    found: Invoice | None = None
    if report.invoice_id is not None:
        found = Invoice.objects.filter(pk=report.invoice_id).first()
    elif report.link_id:
        found = Invoice.objects.filter(payment_page_id=report.link_id).first()
    elif report.invoice_number:
        found = Invoice.objects.filter(number=report.invoice_number).first()
    if found is None:
        named = report.invoice_number or report.link_id or report.invoice_id
        raise Unapplicable(
            f"No Closeloop invoice matches {integration.get_source_display()}'s "
            f"{named!r} (payment {report.external_id}): record it by hand or fix the number, "
            "then replay."
        )
    return found


def _surcharged(invoice: Invoice, report: PaymentReport, note: str) -> Recorded:
    """A payment through a surcharged page; Stripe's errors as the inbox's."""
    import stripe

    try:
        return card_payment_record(
            invoice_id=invoice.pk,
            amount=report.amount,
            surcharge=report.surcharge,
            percent=report.surcharge_percent,
            payment_intent_id=report.external_id,
            received_on=report.received_on,
            note=note,
        )
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        raise vendor_api.VendorUnavailable(f"Stripe: {exc}") from exc
    except stripe.StripeError as exc:
        raise vendor_api.VendorRefused(f"Stripe refused: {exc}") from exc


def payments_apply(event: InboundEvent, reports: list[PaymentReport]) -> Applied:
    """Record every report of one event (call inside the event's transaction)."""
    integration = event.integration
    source = PAYMENT_SOURCES[Source(integration.source)]
    payments, lines = [], []
    for report in reports:
        invoice = _invoice_for(report, integration)
        note = f"{integration.name}, event {event.event_id}"[:200]
        try:
            if report.surcharge > 0:
                recorded = _surcharged(invoice, report, note)
            else:
                recorded = payment_record(
                    invoice_id=invoice.pk,
                    amount=report.amount,
                    received_on=report.received_on,
                    method=report.method,
                    source=source,
                    external_id=report.external_id,
                    note=note,
                )
        except ApplicationError as exc:
            raise Unapplicable(
                f"Payment {report.external_id} on invoice {invoice.display_number}: "
                f"{exc.user_message}"
            ) from exc
        payments.append(recorded.payment)
        verb = "recorded" if recorded.created else "already recorded"
        lines.append(f"${report.amount:.2f} {verb} on invoice {invoice.display_number}.")
        if report.surcharge > 0:
            decided = CardSurcharge.objects.filter(payment=recorded.payment).first()
            if decided is not None:
                lines.append(
                    f"Card surcharge ${decided.amount}: {decided.get_outcome_display().lower()}."
                )
    return Applied(payments, " ".join(lines))
