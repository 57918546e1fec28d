"""Payments and late fees: the money side of an issued invoice.

Payments (``payment_record``: the form, and later the webhooks, call it):
1. A payment reported again under the same (source, external id) returns the one
   already recorded, whatever happened since (a unique constraint backs it): a
   processor's retries never record a charge twice.
2. On a draft it is held, and applied when the draft is approved.
3. On an issued invoice it reduces the balance; paying the balance in full marks it
   paid. More than the balance, or any payment on a void or rejected invoice, is
   refused with the reason.
4. A changed balance refreshes the hosted payment page (after commit, Stripe only).
5. An applied payment (now, or when its draft is approved) is a ``payment.received``
   outbound webhook event, in the same transaction.
6. The follow-up sequence hears of it (``billing.followups.followup_on_payment``):
   stopped when paid in full, restarted for the remainder after a partial payment.

Late fees (``late_fees_apply``, beat): for each issued invoice past its due date and
grace period, at most one fee per period of ``LATE_FEE_PERIOD_DAYS`` (a unique
constraint), flat and/or a percentage of the undisputed balance, as its own line.
A run after an outage charges the current period only, never the missed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.choices import (
    InvoiceStatus,
    LateFeeMode,
    LineKind,
    PaymentMethod,
    PaymentSource,
    PaymentStatus,
)
from billing.followups import followup_on_payment
from billing.invoices import _locked, invoice_recompute, payment_page_refresh_after_commit
from billing.models import ClientBillingProfile, Invoice, InvoiceLine, LateFeeCharge, Payment
from billing.rates import ZERO, money
from core.dates import firm_date_problem
from core.exceptions import ApplicationError, Conflict
from core.types import User

MAX_PAYMENT = Decimal("10000000")


@dataclass(frozen=True)
class Recorded:
    payment: Payment
    created: bool  # False: this external payment was already recorded


def _settle(invoice: Invoice, amount: Decimal) -> None:
    invoice.amount_paid += amount
    if invoice.amount_paid == invoice.total:
        invoice.status = InvoiceStatus.PAID
    invoice.save(update_fields=["amount_paid", "status", "updated_at"])


@transaction.atomic
def payment_record(
    *,
    invoice_id: int,
    amount: Decimal,
    received_on: date,
    method: str = PaymentMethod.OTHER,
    source: str = PaymentSource.MANUAL,
    external_id: str = "",
    note: str = "",
    user: User | None = None,
) -> Recorded:
    """Record a payment under the rules above; the same external payment once."""
    external_id = external_id.strip()[:128]
    if source != PaymentSource.MANUAL and not external_id:
        raise ApplicationError("A payment reported by another system needs its payment id.")
    if amount is None or not (ZERO < amount <= MAX_PAYMENT):
        raise ApplicationError({"amount": "Enter an amount of more than $0."})
    if amount != money(amount):
        raise ApplicationError({"amount": "Enter the amount in dollars and cents."})
    problem = firm_date_problem(received_on)
    if problem:
        raise ApplicationError({"received_on": problem})
    if received_on > timezone.localdate():
        raise ApplicationError({"received_on": "A payment cannot be received in the future."})
    invoice = _locked(invoice_id)
    if external_id:
        existing = Payment.objects.filter(source=source, external_id=external_id).first()
        if existing is not None:
            if existing.invoice_id != invoice.pk or existing.amount != amount:
                raise Conflict(
                    f"Payment {external_id} from {existing.get_source_display()} is already "
                    f"recorded: ${existing.amount} on invoice {existing.invoice.display_number}."
                )
            return Recorded(existing, created=False)
    if invoice.status == InvoiceStatus.VOID:
        raise ApplicationError(f"Invoice {invoice.display_number} is void; it takes no payments.")
    if invoice.status == InvoiceStatus.REJECTED:
        raise ApplicationError("This draft was rejected; it takes no payments.")
    if invoice.status == InvoiceStatus.PAID:
        raise ApplicationError(
            f"Invoice {invoice.display_number} is already paid in full; ${amount} would be an overpayment."
        )
    held = invoice.is_draft
    owed = invoice.total - invoice.amount_paid
    if held:
        owed -= sum((p.amount for p in invoice.payments.filter(status=PaymentStatus.HELD)), ZERO)
    if amount > owed:
        raise ApplicationError(
            {
                "amount": f"${amount} is more than the ${owed} still owed on "
                f"invoice {invoice.display_number}; an overpayment is not recorded."
            }
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                invoice=invoice,
                amount=amount,
                received_on=received_on,
                method=method,
                source=source,
                external_id=external_id,
                status=PaymentStatus.HELD if held else PaymentStatus.APPLIED,
                applied_at=None if held else now,
                note=note.strip()[:300],
                recorded_by=user,
            )
    except IntegrityError:
        # The same external payment, reported twice at once: the other one won.
        return Recorded(Payment.objects.get(source=source, external_id=external_id), False)
    if not held:
        from billing.messages import webhook_payment_received

        _settle(invoice, amount)
        payment_page_refresh_after_commit(invoice)
        webhook_payment_received(invoice, payment)
        # Paid in full: the sequence stops at once; in part: thanks, the balance
        # restated, and the sequence from touch 1 for the rest.
        followup_on_payment(invoice=invoice, payment=payment)
    return Recorded(payment, created=True)


def held_payments_apply(*, invoice: Invoice) -> list[Payment]:
    """Apply the payments held for a draft now approved (invoice locked, issued)."""
    held = list(invoice.payments.filter(status=PaymentStatus.HELD).order_by("pk"))
    total = sum((p.amount for p in held), ZERO)
    if total > invoice.total - invoice.amount_paid:
        raise ApplicationError(
            f"${total} was paid before approval, more than the ${invoice.total} invoiced: "
            "correct the lines before approving."
        )
    now = timezone.now()
    for payment in held:
        payment.status = PaymentStatus.APPLIED
        payment.applied_at = now
        payment.save(update_fields=["status", "applied_at"])
    if total:
        _settle(invoice, total)
    return held


# --- Late fees ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LateFeeTerms:
    flat: Decimal
    percent: Decimal
    grace_days: int
    period_days: int

    @property
    def active(self) -> bool:
        return self.flat > 0 or self.percent > 0


def late_fee_terms(profile: ClientBillingProfile | None) -> LateFeeTerms:
    """The client's late-fee terms: their own when set "on", none when "off", else the firm's."""
    firm = LateFeeTerms(
        flat=settings.LATE_FEE_FLAT,
        percent=settings.LATE_FEE_PERCENT,
        grace_days=settings.LATE_FEE_GRACE_DAYS,
        period_days=settings.LATE_FEE_PERIOD_DAYS,
    )
    if profile is None or profile.late_fee_mode == LateFeeMode.FIRM_DEFAULT:
        return firm
    if profile.late_fee_mode == LateFeeMode.OFF:
        return LateFeeTerms(ZERO, ZERO, firm.grace_days, firm.period_days)
    return LateFeeTerms(
        flat=profile.late_fee_flat if profile.late_fee_flat is not None else ZERO,
        percent=profile.late_fee_percent if profile.late_fee_percent is not None else ZERO,
        grace_days=(
            profile.late_fee_grace_days
            if profile.late_fee_grace_days is not None
            else firm.grace_days
        ),
        period_days=firm.period_days,
    )


def late_fee_period(*, due_on: date, today: date, terms: LateFeeTerms) -> int:
    """0 while within grace; then 1, 2, ... one per ``period_days`` after it."""
    late_by = (today - due_on).days - terms.grace_days
    if late_by <= 0:
        return 0
    return (late_by - 1) // terms.period_days + 1


def late_fee_amount(*, base: Decimal, terms: LateFeeTerms) -> Decimal:
    """Flat plus percentage of the undisputed overdue balance; nothing on nothing."""
    if base <= 0:
        return ZERO
    return money(terms.flat + base * terms.percent / Decimal("100"))


@transaction.atomic
def late_fee_charge(*, invoice_id: int, today: date) -> LateFeeCharge | None:
    """Charge the current period's late fee on one invoice if due; None when not."""
    invoice = _locked(invoice_id)
    if invoice.status != InvoiceStatus.ISSUED or invoice.due_on is None:
        return None
    profile = ClientBillingProfile.objects.filter(client_id=invoice.client_id).first()
    terms = late_fee_terms(profile)
    if not terms.active:
        return None
    period = late_fee_period(due_on=invoice.due_on, today=today, terms=terms)
    if period == 0 or invoice.late_fees.filter(period=period).exists():
        return None
    base = invoice.chaseable_balance
    amount = late_fee_amount(base=base, terms=terms)
    if amount <= 0:
        return None  # all of it disputed: no fee on disputed amounts
    try:
        with transaction.atomic():
            line = InvoiceLine.objects.create(
                invoice=invoice,
                kind=LineKind.LATE_FEE,
                description=f"Late fee — {today:%B %-d, %Y} (invoice due {invoice.due_on:%B %-d})",
                quantity=Decimal("1"),
                unit_price=amount,
                amount=amount,
                position=(invoice.lines.count() + 1),
            )
            charge = LateFeeCharge.objects.create(
                invoice=invoice, period=period, line=line, charged_on=today, base=base
            )
    except IntegrityError:
        return None  # charged by a concurrent run
    invoice_recompute(invoice)
    payment_page_refresh_after_commit(invoice)
    return charge


def late_fees_apply(*, today: date | None = None) -> int:
    """Beat: charge what is due across issued invoices past due; how many fees."""
    today = today or timezone.localdate()
    ids = list(
        Invoice.objects.filter(status=InvoiceStatus.ISSUED, due_on__lt=today)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(1 for pk in ids if late_fee_charge(invoice_id=pk, today=today) is not None)
