"""Card surcharges on the online payment page: credit cards only, never on the balance.

The firm may add a surcharge to payments made by credit card on the hosted payment
page (``billing.stripe_pages``). Card network rules in the US cap it at 3 % and forbid
it on debit and prepaid cards; some states forbid it altogether, so it is off unless
the firm turns it on.

Rates:
1. The firm's default is ``CARD_SURCHARGE_PERCENT`` (0, off; at most 3). A client's
   billing profile may say "no surcharge" or give its own rate (0.01–3 %, checked by
   the admin form and by a constraint).
2. The surcharge is the rate times the balance the page is for, rounded half up to
   the cent. It is never part of the invoice's balance: the page shows it as its own
   line item (a second Price), and the email, the PDF and the client's invoice page
   disclose rate and amount (``billing.selectors.surcharge_notice``). The page is re-made whenever the
   balance or the client's rate changes, so the surcharge follows.

Debit cards (the choice, and why). A Payment Link cannot know how a card is funded
before the client pays, so it cannot leave the surcharge off for a debit card up
front. The surcharged page takes cards only (bank transfer and check, in the firm's
payment instructions, carry no surcharge), and when the payment arrives its charge's
``payment_method_details.card.funding`` decides:

| funding | what happens | recorded as |
| credit | the surcharge stands | a SURCHARGE line added to the invoice, paid by the payment with its balance |
| debit, prepaid, unknown, or not a card | the surcharge is refunded at once through Stripe (idempotency key per payment) | the payment for the balance only, no line |

Either way a ``CardSurcharge`` row says what was decided, for which payment, at
which rate (one per payment: a one-to-one). The disclosure says exactly this.

Recording (``card_payment_record``, called for a Stripe payment whose page carried a
surcharge; the inbound webhook's transaction holds it):
1. Lock the invoice. The same Stripe payment reported again returns the payment
   already recorded, whatever its surcharge became: once per external payment id.
2. Ask Stripe how the payment was funded (``PaymentIntent`` with its latest charge).
3. Credit: refuse if the balance part is more than is owed (as any overpayment is);
   add the surcharge line, re-add the total, then record the whole payment through
   ``billing.payments.payment_record`` (so the invoice is paid for its balance plus
   the surcharge line, never overpaid; reports count the line in billed and
   collected, not in realization).
4. Otherwise: record the balance part, then refund the surcharge. The refund is the
   last step of the transaction: if it fails the whole event is retried, and the
   retry's idempotency key gets the same refund back from Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from billing.choices import (
    CardFunding,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    PaymentSource,
    SurchargeMode,
    SurchargeOutcome,
)
from billing.invoices import PAYMENT_PAGE_TASK, _locked, _next_position, invoice_recompute
from billing.models import (
    SURCHARGE_MAX_PERCENT,
    SURCHARGE_MIN_PERCENT,
    CardSurcharge,
    ClientBillingProfile,
    Invoice,
    InvoiceLine,
    Payment,
)
from billing.payments import Recorded, payment_record
from billing.rates import ZERO, money
from core.exceptions import ApplicationError, Conflict
from core.queue import enqueue

CENTS = Decimal("100")
HUNDRED = Decimal("100")


# --- Rates and amounts ---------------------------------------------------------------------------


def surcharge_percent_for(profile: ClientBillingProfile | None) -> Decimal | None:
    """The client's surcharge rate in percent, or None when no surcharge applies."""
    if profile is not None and profile.card_surcharge_mode == SurchargeMode.OFF:
        return None
    if profile is not None and profile.card_surcharge_mode == SurchargeMode.ON:
        percent = profile.card_surcharge_percent
    else:
        percent = money(settings.CARD_SURCHARGE_PERCENT)
    if percent is None or percent < SURCHARGE_MIN_PERCENT:
        return None
    return min(percent, SURCHARGE_MAX_PERCENT)


def surcharge_amount(*, balance: Decimal, percent: Decimal) -> Decimal:
    """The surcharge on ``balance``: rounded half up to the cent."""
    if balance <= 0:
        return ZERO
    return money(balance * percent / HUNDRED)


@dataclass(frozen=True)
class PageSurcharge:
    percent: Decimal
    amount: Decimal


def page_surcharge(invoice: Invoice, balance: Decimal) -> PageSurcharge | None:
    """What the invoice's payment page adds for credit cards, or None."""
    profile = ClientBillingProfile.objects.filter(client_id=invoice.client_id).first()
    percent = surcharge_percent_for(profile)
    if percent is None:
        return None
    amount = surcharge_amount(balance=balance, percent=percent)
    return PageSurcharge(percent, amount) if amount > 0 else None


def payment_pages_refresh_for_client(*, client_id: int) -> int:
    """A client's surcharge terms changed: re-make their open invoices' pages (after
    commit, in a worker); how many."""
    if not settings.STRIPE_SECRET_KEY:
        return 0
    ids = list(
        Invoice.objects.filter(client_id=client_id, status=InvoiceStatus.ISSUED)
        .exclude(payment_page_id="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for invoice_id in ids:
        enqueue(PAYMENT_PAGE_TASK, invoice_id)
    return len(ids)


# --- Stripe: how a payment was funded, and the refund ----------------------------------------------


@dataclass(frozen=True)
class Funding:
    funding: str  # CardFunding
    method: str  # PaymentMethod


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    try:
        return obj[name]
    except (KeyError, TypeError):
        return None


def stripe_payment_funding(payment_intent_id: str) -> Funding:
    """How the PaymentIntent's charge was funded (a call to Stripe; its errors propagate)."""
    from billing.stripe_pages import _stripe

    stripe = _stripe()
    intent = stripe.PaymentIntent.retrieve(payment_intent_id, expand=["latest_charge"])
    details = _field(_field(intent, "latest_charge"), "payment_method_details")
    kind = _field(details, "type")
    if kind == "card":
        funding = str(_field(_field(details, "card"), "funding") or "unknown")
        if funding not in CardFunding.values or funding == CardFunding.NOT_CARD:
            funding = CardFunding.UNKNOWN
        return Funding(funding, PaymentMethod.CARD)
    method = PaymentMethod.ACH if kind == "us_bank_account" else PaymentMethod.OTHER
    return Funding(CardFunding.NOT_CARD, method)


def stripe_surcharge_refund(
    *, invoice: Invoice, payment_intent_id: str, amount: Decimal, funding: str
) -> str:
    """Refund the surcharge part of a payment; the refund's id. Retried calls carry the
    same idempotency key, so Stripe refunds once."""
    from billing.stripe_pages import _stripe

    refund = _stripe().Refund.create(
        payment_intent=payment_intent_id,
        amount=int(amount * CENTS),
        reason="requested_by_customer",
        metadata={
            "closeloop_invoice_id": str(invoice.pk),
            "closeloop_surcharge_refund": funding,
        },
        idempotency_key=f"closeloop-surcharge-refund-{payment_intent_id}",
    )
    return str(refund["id"])


# --- Recording a surcharged payment ----------------------------------------------------------------


@transaction.atomic
def card_payment_record(
    *,
    invoice_id: int,
    amount: Decimal,
    surcharge: Decimal,
    percent: Decimal,
    payment_intent_id: str,
    received_on: date,
    note: str = "",
) -> Recorded:
    """A Stripe payment through a surcharged page (steps in the module docstring).
    ``amount`` is what Stripe charged, the surcharge included."""
    payment_intent_id = payment_intent_id.strip()[:128]
    if not payment_intent_id:
        raise ApplicationError("A card payment with a surcharge needs its PaymentIntent id.")
    if surcharge != money(surcharge) or not (ZERO < surcharge < amount):
        raise ApplicationError(
            f"The surcharge ${surcharge} does not fit in the payment of ${amount}."
        )
    if not (SURCHARGE_MIN_PERCENT <= percent <= SURCHARGE_MAX_PERCENT):
        raise ApplicationError(f"A surcharge of {percent} % is outside 0.01–3 %.")
    invoice = _locked(invoice_id)
    existing = (
        Payment.objects.filter(source=PaymentSource.STRIPE, external_id=payment_intent_id)
        .select_related("invoice")
        .first()
    )
    if existing is not None:
        if existing.invoice_id != invoice.pk:
            raise Conflict(
                f"Payment {payment_intent_id} from Stripe is already recorded on invoice "
                f"{existing.invoice.display_number}."
            )
        return Recorded(existing, created=False)
    if not invoice.is_open:
        raise ApplicationError(
            f"Invoice {invoice.display_number} is {invoice.get_status_display().lower()}: "
            f"the card payment of ${amount} (surcharge ${surcharge} included) is not recorded; "
            "refund it in Stripe or record what applies by hand."
        )
    base = amount - surcharge
    owed = invoice.total - invoice.amount_paid
    if base > owed:
        raise ApplicationError(
            f"${base} (the card payment less its ${surcharge} surcharge) is more than the "
            f"${owed} still owed on invoice {invoice.display_number}; an overpayment is not "
            "recorded."
        )
    found = stripe_payment_funding(payment_intent_id)
    if found.funding == CardFunding.CREDIT:
        line = InvoiceLine.objects.create(
            invoice=invoice,
            kind=LineKind.SURCHARGE,
            description=f"Card surcharge {percent} % — credit card payment of {received_on:%B %-d, %Y}",
            quantity=Decimal("1"),
            unit_price=surcharge,
            amount=surcharge,
            position=_next_position(invoice),
        )
        invoice_recompute(invoice)
        recorded = payment_record(
            invoice_id=invoice.pk,
            amount=amount,
            received_on=received_on,
            method=PaymentMethod.CARD,
            source=PaymentSource.STRIPE,
            external_id=payment_intent_id,
            note=f"{note} · card surcharge ${surcharge} ({percent} %) included",
        )
        _claimed(recorded)
        CardSurcharge.objects.create(
            invoice=invoice,
            payment=recorded.payment,
            line=line,
            percent=percent,
            amount=surcharge,
            funding=found.funding,
            outcome=SurchargeOutcome.KEPT,
        )
        return recorded
    recorded = payment_record(
        invoice_id=invoice.pk,
        amount=base,
        received_on=received_on,
        method=found.method,
        source=PaymentSource.STRIPE,
        external_id=payment_intent_id,
        note=f"{note} · card surcharge ${surcharge} refunded ({CardFunding(found.funding).label})",
    )
    _claimed(recorded)
    refund_id = stripe_surcharge_refund(
        invoice=invoice,
        payment_intent_id=payment_intent_id,
        amount=surcharge,
        funding=found.funding,
    )
    CardSurcharge.objects.create(
        invoice=invoice,
        payment=recorded.payment,
        percent=percent,
        amount=surcharge,
        funding=found.funding,
        outcome=SurchargeOutcome.REFUNDED,
        refund_id=refund_id,
    )
    return recorded


def _claimed(recorded: Recorded) -> None:
    # Under the invoice's lock no one else can have recorded this payment id since the
    # check above; if it happened anyway, roll back the surcharge rather than add it twice.
    if not recorded.created:
        raise Conflict(f"Payment {recorded.payment.external_id} was recorded meanwhile.")
