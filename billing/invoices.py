"""Invoices: automated drafts, the partner's approval, rejection and voiding, lines and
totals. Payments and late fees are in ``billing.payments``.

1. Drafts are created automatically (``invoice_create_for_engagement``):
   - when an engagement enters a step whose action is "invoice" (final review
     complete), or a step coded "filed" (a return marked filed), through
     ``engagements.hooks``. Hourly work: one time line per person and rate from the
     engagement's approved, unbilled time at bill rates (``billing.rates``); fixed
     fee: one fee line, the time attached internal-only for realization. One open
     automated draft per engagement (a unique constraint): a second trigger adds
     nothing. A retainer client's engagements are paid by the retainer: no draft.
   - for retainer clients, monthly (``retainer_invoices_create``, beat; once per
     client and month by a unique constraint).
2. Time approved after its engagement's draft exists joins the draft.
3. The partner approves (``invoice_approve``): a number from the sequence (row lock),
   issue and due dates, payments held for the draft applied, the email with the PDF
   stored (inline; after the payment page is made when Stripe is configured), the
   engagement moved to Invoiced and on to delivered, which closes it.
4. Lines change only on drafts; the total is re-added from the lines under the
   invoice's row lock. Lock order: invoice, then the number sequence, then the
   engagement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.choices import (
    InvoiceOrigin,
    InvoiceStatus,
    LineKind,
    PaymentStatus,
    TimeEntryStatus,
    WriteDownReason,
)
from billing.models import (
    ClientBillingProfile,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    TimeEntry,
)
from billing.rates import ZERO, RateCard, money, rate_card_for, standard_rate
from clients.choices import BillingModel
from clients.models import Client
from core.exceptions import ApplicationError, NotFound, NotPermitted
from core.queue import enqueue
from core.roles import is_partner
from core.types import User
from engagements import milestones
from engagements.choices import Milestone
from engagements.models import Engagement, MilestoneSource
from notifications.choices import WebhookEventType

SEND_TASK = "billing.tasks.invoice_send_task"
PAYMENT_PAGE_TASK = "billing.tasks.invoice_payment_page_task"
SEQUENCE = "invoice"
FILED_STEP = "filed"
MAX_LINE_QUANTITY = Decimal("10000")
MAX_UNIT_PRICE = Decimal("1000000")


# --- Reading what applies to a client ------------------------------------------------


def terms_days_for(client: Client) -> int:
    profile = ClientBillingProfile.objects.filter(client=client).first()
    if profile is not None and profile.terms_days is not None:
        return profile.terms_days
    return settings.INVOICE_TERMS_DAYS


def invoice_recipient(invoice: Invoice) -> str:
    """Where the invoice goes: the client's billing address, else their main one."""
    profile = ClientBillingProfile.objects.filter(client_id=invoice.client_id).first()
    if profile is not None and profile.billing_email:
        return profile.billing_email
    return invoice.client.email


# --- Lines and totals ----------------------------------------------------------------


def _locked(invoice_id: int) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("client", "engagement__work_type")
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise NotFound("That invoice does not exist.")
    return invoice


def _next_position(invoice: Invoice) -> int:
    last = invoice.lines.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


def _add_time_lines(invoice: Invoice, entries: list[TimeEntry], card: RateCard) -> None:
    """One line per person and bill rate for the billable entries given."""
    groups: dict[tuple[int, Decimal], list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        if entry.internal_only:
            continue
        found = card.bill_rate(work_type=entry.work_type, staff=entry.staff_member)
        groups[(entry.staff_member_id, found.amount)].append(entry)
    position = _next_position(invoice)
    lines = []
    for (_staff_id, rate), group in sorted(groups.items(), key=lambda g: g[1][0].pk):
        hours = sum((e.hours for e in group), ZERO)
        staff = group[0].staff_member
        work = group[0].work_type.name if group[0].work_type else "Professional services"
        lines.append(
            InvoiceLine(
                invoice=invoice,
                kind=LineKind.TIME,
                description=f"{work} — {staff.display_name}"[:300],
                quantity=hours,
                unit_price=rate,
                amount=money(hours * rate),
                staff_member=staff,
                position=position,
            )
        )
        position += 1
    InvoiceLine.objects.bulk_create(lines)


def _attach(invoice: Invoice, entries: list[TimeEntry]) -> None:
    TimeEntry.objects.filter(pk__in=[e.pk for e in entries]).update(invoice=invoice)


def invoice_recompute(invoice: Invoice) -> Invoice:
    """Re-add the total from the lines, the hours and their standard value from the
    time attached. Call with the invoice locked."""
    total = invoice.lines.aggregate(total=Sum("amount"))["total"] or ZERO
    entries = list(invoice.time_entries.select_related("staff_member__user", "work_type"))
    invoice.hours = sum((e.hours for e in entries), ZERO)
    invoice.standard_amount = money(
        sum(
            (
                e.hours * standard_rate(work_type=e.work_type, staff=e.staff_member).amount
                for e in entries
            ),
            ZERO,
        )
    )
    invoice.total = total
    if invoice.total < invoice.amount_paid:
        raise ApplicationError(
            f"Payments of ${invoice.amount_paid} are already recorded; the total cannot go below that."
        )
    invoice.save(update_fields=["total", "hours", "standard_amount", "updated_at"])
    return invoice


# --- Drafts ------------------------------------------------------------------------------


def _open_engagement_invoice(engagement_id: int) -> Invoice | None:
    return (
        Invoice.objects.filter(
            engagement_id=engagement_id,
            origin__in=[InvoiceOrigin.MILESTONE, InvoiceOrigin.RETURN_FILED],
        )
        .exclude(status__in=[InvoiceStatus.REJECTED, InvoiceStatus.VOID])
        .first()
    )


def invoice_create_for_engagement(*, engagement_id: int, origin: str) -> Invoice | None:
    """The engagement's invoice draft, created now; None when it has one already or is
    paid by a retainer. Call inside the transaction that moved the engagement."""
    engagement = Engagement.objects.select_related("client", "work_type").get(pk=engagement_id)
    client = engagement.client
    if client.billing_model == BillingModel.RETAINER:
        return None
    if _open_engagement_invoice(engagement_id) is not None:
        return None
    card = rate_card_for(client)
    pricing = card.pricing(engagement.work_type)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                client=client,
                engagement=engagement,
                origin=origin,
                terms_days=terms_days_for(client),
            )
    except IntegrityError:
        return None  # a concurrent trigger created it
    entries = list(
        TimeEntry.objects.select_for_update(of=("self",))
        .filter(engagement=engagement, status=TimeEntryStatus.APPROVED, invoice__isnull=True)
        .select_related("staff_member__user", "work_type")
        .order_by("pk")
    )
    if pricing.fixed_fee is not None:
        period = f" — {engagement.period_end:%B %Y}" if engagement.period_end else ""
        InvoiceLine.objects.create(
            invoice=invoice,
            kind=LineKind.FEE,
            description=f"{engagement.work_type.name}{period} (fixed fee)"[:300],
            quantity=Decimal("1"),
            unit_price=pricing.fixed_fee,
            amount=money(pricing.fixed_fee),
            position=1,
        )
    else:
        _add_time_lines(invoice, entries, card)
    _attach(invoice, entries)
    return invoice_recompute(invoice)


def invoice_drafts_add_time(*, entries: Iterable[TimeEntry]) -> None:
    """Time approved after its engagement's draft was made joins that draft."""
    by_engagement: dict[int, list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        if entry.engagement_id and entry.invoice_id is None:
            by_engagement[entry.engagement_id].append(entry)
    if not by_engagement:
        return
    drafts = Invoice.objects.filter(
        engagement_id__in=list(by_engagement),
        status=InvoiceStatus.DRAFT,
        origin__in=[InvoiceOrigin.MILESTONE, InvoiceOrigin.RETURN_FILED],
    ).order_by("pk")
    for draft in drafts:
        invoice = _locked(draft.pk)
        found = [e for e in by_engagement[invoice.engagement_id] if e.invoice_id is None]  # type: ignore[index]
        card = rate_card_for(invoice.client)
        fee = invoice.lines.filter(kind=LineKind.FEE).exists()
        if not fee:
            _add_time_lines(invoice, found, card)
        _attach(invoice, found)
        invoice_recompute(invoice)


def invoice_on_milestone(
    engagement: Engagement, code: str, on_enter: str | None, at: datetime
) -> None:
    """``engagements.hooks.milestone_entered``: the billing milestones make a draft."""
    if on_enter == "invoice":
        invoice_create_for_engagement(engagement_id=engagement.pk, origin=InvoiceOrigin.MILESTONE)
    elif code == FILED_STEP:
        invoice_create_for_engagement(
            engagement_id=engagement.pk, origin=InvoiceOrigin.RETURN_FILED
        )


def month_start(day: date) -> date:
    return day.replace(day=1)


def retainer_invoices_create(*, today: date | None = None) -> int:
    """This month's retainer drafts for every retainer client still without one; how many.

    Runs hourly (beat): the first run of the month makes them, later runs find them
    (the unique constraint decides a race). A run after an outage makes the current
    month's only, never a missed month's.
    """
    today = today or timezone.localdate()
    period = month_start(today)
    done = Invoice.objects.filter(origin=InvoiceOrigin.RETAINER, period=period).values("client_id")
    clients = (
        Client.objects.filter(billing_model=BillingModel.RETAINER, retainer_amount__gt=0)
        .exclude(pk__in=done)
        .order_by("pk")
    )
    created = 0
    for client in clients:
        try:
            with transaction.atomic():
                invoice = Invoice.objects.create(
                    client=client,
                    origin=InvoiceOrigin.RETAINER,
                    period=period,
                    terms_days=terms_days_for(client),
                )
                amount = client.retainer_amount or ZERO
                InvoiceLine.objects.create(
                    invoice=invoice,
                    kind=LineKind.RETAINER,
                    description=f"Monthly retainer — {period:%B %Y}",
                    quantity=Decimal("1"),
                    unit_price=amount,
                    amount=money(amount),
                    position=1,
                )
                invoice_recompute(invoice)
        except IntegrityError:
            continue  # another run made it first
        created += 1
    return created


# --- Editing a draft ---------------------------------------------------------------------


def _require_partner(user: User) -> None:
    if not is_partner(user):
        raise NotPermitted("Only partners approve, edit or reject invoices.")


def _editable(invoice_id: int, user: User) -> Invoice:
    _require_partner(user)
    invoice = _locked(invoice_id)
    if not invoice.is_draft:
        raise ApplicationError(
            f"Invoice {invoice.display_number} is {invoice.get_status_display().lower()}; "
            "only drafts can be changed."
        )
    return invoice


def _check_line(quantity: Decimal, unit_price: Decimal, kind: str) -> None:
    if not (ZERO < quantity <= MAX_LINE_QUANTITY):
        raise ApplicationError({"quantity": "Quantity must be more than 0 and at most 10,000."})
    low = -MAX_UNIT_PRICE if kind == LineKind.ADJUSTMENT else ZERO
    if not (low <= unit_price <= MAX_UNIT_PRICE):
        raise ApplicationError(
            {"unit_price": "Price must be between 0 and 1,000,000 (adjustments may be negative)."}
        )


@transaction.atomic
def invoice_line_update(
    *,
    invoice_id: int,
    line_id: int,
    user: User,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    write_down_reason: str = "",
) -> Invoice:
    """A partner edits a draft's line. An edit that lowers the amount is a write-down:
    the value taken off is added to the line's ``written_down`` with its reason
    (``OTHER`` when none is given), for the leakage report; it shows in realization."""
    invoice = _editable(invoice_id, user)
    line = invoice.lines.filter(pk=line_id).first()
    if line is None:
        raise NotFound("That line is not on this invoice.")
    _check_line(quantity, unit_price, line.kind)
    amount = money(quantity * unit_price)
    if amount < line.amount and line.kind != LineKind.ADJUSTMENT:
        line.written_down += line.amount - amount
        line.write_down_reason = write_down_reason or WriteDownReason.OTHER
    line.description = description.strip()[:300] or line.description
    line.quantity = quantity
    line.unit_price = unit_price
    line.amount = amount
    line.save()
    return invoice_recompute(invoice)


@transaction.atomic
def invoice_line_add(
    *,
    invoice_id: int,
    user: User,
    description: str,
    amount: Decimal,
    kind: str = LineKind.ADJUSTMENT,
    write_down_reason: str = "",
) -> Invoice:
    """Add a line to a draft (an adjustment may be negative: a discount, a write-down,
    with its reason for the leakage report)."""
    invoice = _editable(invoice_id, user)
    _check_line(Decimal("1"), amount, kind)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=kind,
        description=description.strip()[:300] or "Adjustment",
        quantity=Decimal("1"),
        unit_price=amount,
        amount=money(amount),
        position=_next_position(invoice),
        write_down_reason=(write_down_reason or WriteDownReason.OTHER) if amount < 0 else "",
    )
    invoice = invoice_recompute(invoice)
    if invoice.total < 0:
        raise ApplicationError("An invoice's total cannot go below zero.")
    return invoice


@transaction.atomic
def invoice_line_delete(*, invoice_id: int, line_id: int, user: User) -> Invoice:
    invoice = _editable(invoice_id, user)
    invoice.lines.filter(pk=line_id).delete()
    return invoice_recompute(invoice)


# --- Approval, rejection, voiding --------------------------------------------------------


def invoice_number_next() -> str:
    """The next invoice number. Call inside the approving transaction: the sequence row
    stays locked until it commits, so concurrent approvals take numbers in turn and a
    rolled-back approval gives its number back."""
    sequence = InvoiceSequence.objects.select_for_update().filter(name=SEQUENCE).first()
    if sequence is None:
        InvoiceSequence.objects.get_or_create(name=SEQUENCE)
        sequence = InvoiceSequence.objects.select_for_update().get(name=SEQUENCE)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{settings.INVOICE_NUMBER_PREFIX}{sequence.last_value:05d}"


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def payment_page_refresh_after_commit(invoice: Invoice) -> None:
    """The balance changed: bring the hosted payment page in line (a task, after commit)."""
    if stripe_configured() and invoice.payment_page_id:
        enqueue(PAYMENT_PAGE_TASK, invoice.pk)


@dataclass(frozen=True)
class Approved:
    invoice: Invoice
    emailed: bool  # False: no address on file, or sent once the payment page exists


@transaction.atomic
def invoice_approve(*, invoice_id: int, user: User) -> Approved:
    """A partner approves a draft: it is numbered, issued and sent; the engagement moves
    on to Invoiced and delivered. Approving an issued invoice again changes nothing."""
    from billing.followups import followup_start
    from billing.messages import webhook_invoice_event, webhook_payment_received
    from billing.payments import held_payments_apply

    _require_partner(user)
    invoice = _locked(invoice_id)
    if invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PAID):
        return Approved(invoice, emailed=False)  # a double click
    if not invoice.is_draft:
        raise ApplicationError(
            f"This invoice was {invoice.get_status_display().lower()}; it cannot be approved."
        )
    if invoice.total <= 0:
        raise ApplicationError(
            "This draft has nothing to bill yet: add a line or approve time first."
        )
    now = timezone.now()
    today = timezone.localdate(now)
    invoice.number = invoice_number_next()
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_on = today
    invoice.due_on = today + timedelta(days=invoice.terms_days)
    invoice.approved_at = now
    invoice.approved_by = user
    invoice.save()
    held = held_payments_apply(invoice=invoice)
    webhook_invoice_event(WebhookEventType.INVOICE_APPROVED, invoice)
    for payment in held:
        webhook_payment_received(invoice, payment)
    followup_start(invoice=invoice)  # its place in the follow-up sequence, from the due date
    emailed = False
    if stripe_configured():
        enqueue(SEND_TASK, invoice.pk)  # the email carries the payment page made first
    else:
        emailed = invoice_send(invoice_id=invoice.pk)
    if invoice.engagement_id:
        _engagement_invoiced(invoice.engagement_id, now)
    invoice.refresh_from_db()
    return Approved(invoice, emailed=emailed)


def _engagement_invoiced(engagement_id: int, at: datetime) -> None:
    """Invoiced, then delivered with the approved invoice (its close step closes it)."""
    milestones.advance_if_later(engagement_id=engagement_id, to=Milestone.INVOICED, at=at)
    engagement = Engagement.objects.select_related("work_type").get(pk=engagement_id)
    if milestones.has_step(engagement.work_type, Milestone.DELIVERED):
        if milestones.position(engagement.work_type, engagement.milestone) < milestones.position(
            engagement.work_type, Milestone.DELIVERED
        ):
            milestones.engagement_transition(
                engagement_id=engagement_id,
                to=Milestone.DELIVERED,
                source=MilestoneSource.SYSTEM,
                at=at,
                note="Financials delivered with the approved invoice.",
            )


@transaction.atomic
def invoice_send(*, invoice_id: int) -> bool:
    """Store the invoice email (PDF attached) once; True when stored now.

    With Stripe, the hosted payment page is made (idempotently) first, so the email
    carries its link. Safe to call again: the outbox's identity stores one email.
    """
    from billing.messages import notify_invoice_issued, webhook_invoice_event
    from billing.stripe_pages import payment_page_ensure

    invoice = _locked(invoice_id)
    if invoice.status != InvoiceStatus.ISSUED and invoice.status != InvoiceStatus.PAID:
        return False
    if invoice.sent_at is not None:
        return False
    if stripe_configured() and invoice.status == InvoiceStatus.ISSUED:
        payment_page_ensure(invoice)
    if not notify_invoice_issued(invoice=invoice, recipient=invoice_recipient(invoice)):
        return False
    invoice.sent_at = timezone.now()
    invoice.save(update_fields=["sent_at", "updated_at"])
    webhook_invoice_event(
        WebhookEventType.INVOICE_SENT, invoice, sent_at=invoice.sent_at.isoformat()
    )
    return True


def invoices_send_pending(*, now: datetime | None = None) -> int:
    """Beat: issued invoices whose email was never stored (the broker lost the task)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
    ids = list(
        Invoice.objects.filter(
            status=InvoiceStatus.ISSUED, sent_at__isnull=True, approved_at__lte=cutoff
        )
        # Someone to send it to (``__gt=""``: neither empty nor missing).
        .filter(Q(client__email__gt="") | Q(client__billing_profile__billing_email__gt=""))
        .order_by("pk")
        .values_list("pk", flat=True)[:200]
    )
    for invoice_id in ids:
        enqueue(SEND_TASK, invoice_id)
    return len(ids)


def _release_time(invoice: Invoice) -> None:
    TimeEntry.objects.filter(invoice=invoice).update(invoice=None)


@transaction.atomic
def invoice_reject(*, invoice_id: int, user: User, note: str) -> Invoice:
    """A partner sends a draft back with a note; its time returns to unbilled."""
    note = note.strip()
    if not note:
        raise ApplicationError({"note": "Say why the draft is rejected."})
    invoice = _editable(invoice_id, user)
    if Payment.objects.filter(invoice=invoice, status=PaymentStatus.HELD).exists():
        raise ApplicationError(
            "A payment is held for this draft: approve it, or void the payment first."
        )
    invoice.status = InvoiceStatus.REJECTED
    invoice.rejected_at = timezone.now()
    invoice.rejection_note = note[:500]
    invoice.save(update_fields=["status", "rejected_at", "rejection_note", "updated_at"])
    _release_time(invoice)
    return invoice


@transaction.atomic
def invoice_void(*, invoice_id: int, user: User, reason: str) -> Invoice:
    """Cancel an issued invoice nobody has paid on; its time returns to unbilled."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError({"reason": "Say why the invoice is void."})
    _require_partner(user)
    invoice = _locked(invoice_id)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ApplicationError("Only an issued, unpaid invoice can be voided.")
    if invoice.amount_paid > 0:
        raise ApplicationError("Payments are recorded on this invoice; it cannot be voided.")
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = timezone.now()
    invoice.void_reason = reason[:500]
    invoice.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
    _release_time(invoice)
    from billing.followups import followup_stop

    followup_stop(invoice=invoice)
    return invoice
