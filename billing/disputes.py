"""Disputes: a client questions an invoice; the sequence stops chasing what is disputed.

1. Opened by a client's reply (``dispute_open_from_email``: the inbound-email endpoint
   calls it) when it says "dispute", "incorrect" or "question", or flagged by the
   billing coordinator (``dispute_open``), for the whole invoice or named lines.
2. The disputed amount is set on the invoice (under its row lock): follow-ups and
   late fees act only on the rest (``Invoice.chaseable_balance``). A dispute of the
   whole invoice pauses its sequence; a dispute of some lines leaves it chasing the
   undisputed balance.
3. A task "Billing dispute — client — invoice # — requires review" goes to a billing
   coordinator (emailed), one per dispute.
4. Resolving it (``dispute_resolve``): the amount stands, or it is credited (an
   adjustment line, written down with the reason "dispute credit"); the disputed
   amount returns to zero and the sequence restarts from touch 1 for what is owed.

Lock order: invoice, then its follow-up state (as ``billing.followups``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.choices import (
    BillingTaskKind,
    BillingTaskStatus,
    DisputeOutcome,
    DisputeSource,
    DisputeStatus,
    InvoiceStatus,
    LineKind,
    PauseReason,
    WriteDownReason,
)
from billing.followups import (
    Steps,
    _current_due,
    _locked_state,
    _restart,
    _schedule,
    coordinator_for_new_task,
    followup_stop,
    task_delivery,
)
from billing.invoices import (
    _locked,
    _next_position,
    invoice_recompute,
    payment_page_refresh_after_commit,
)
from billing.messages import webhook_invoice_event
from billing.models import BillingTask, ClientBillingProfile, Dispute, Invoice, InvoiceLine
from billing.rates import ZERO
from core.exceptions import ApplicationError, NotFound
from core.types import User
from notifications.choices import WebhookEventType
from notifications.services import notify_all

KEYWORDS = re.compile(r"\b(disputes?|disputed|disputing|incorrect|questions?)\b", re.IGNORECASE)
MAX_BODY = 5000


def dispute_title(invoice: Invoice) -> str:
    return f"Billing dispute — {invoice.client.name} — Invoice {invoice.number} — requires review"[
        :200
    ]


def _open(
    invoice: Invoice,
    *,
    source: str,
    line_ids: list[int],
    user: User | None = None,
    sender: str = "",
    subject: str = "",
    body: str = "",
    received_at: datetime | None = None,
) -> Dispute:
    """Open a dispute on a locked, issued invoice (see the module docstring)."""
    if invoice.status != InvoiceStatus.ISSUED:
        raise ApplicationError(
            f"Invoice {invoice.display_number} is {invoice.get_status_display().lower()}; "
            "only an issued, unpaid invoice can be disputed."
        )
    balance = invoice.total - invoice.amount_paid
    lines = list(invoice.lines.filter(pk__in=line_ids)) if line_ids else []
    if line_ids and len(lines) != len(set(line_ids)):
        raise ApplicationError({"lines": "Choose lines of this invoice."})
    amount = min(balance, sum((line.amount for line in lines), ZERO)) if lines else balance
    if amount <= 0:
        raise ApplicationError({"lines": "Those lines come to nothing still owed."})
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                invoice=invoice,
                source=source,
                amount=amount,
                whole_invoice=not lines or amount >= balance,
                sender=sender[:254],
                subject=subject[:255],
                body=body[:MAX_BODY],
                received_at=received_at,
                opened_by=user,
            )
    except IntegrityError as exc:
        raise ApplicationError("This invoice already has an open dispute.") from exc
    if lines:
        dispute.lines.set(lines)
    invoice.disputed_amount = amount
    invoice.save(update_fields=["disputed_amount", "updated_at"])
    webhook_invoice_event(
        WebhookEventType.INVOICE_DISPUTED,
        invoice,
        dispute={
            "id": dispute.pk,
            "source": dispute.source,
            "amount": str(amount),
            "whole_invoice": dispute.whole_invoice,
            "line_ids": sorted(line.pk for line in lines),
        },
    )
    state = _locked_state(invoice)
    if dispute.whole_invoice:
        state.paused, state.promised_on = PauseReason.DISPUTE, None
        _schedule(state, Steps())
        state.save()
    what = "all of it" if dispute.whole_invoice else f"${amount:,.2f} of ${balance:,.2f}"
    task = BillingTask.objects.create(
        kind=BillingTaskKind.DISPUTE,
        title=dispute_title(invoice),
        client=invoice.client,
        invoice=invoice,
        dispute=dispute,
        details=(
            f"{dispute.get_source_display()}: disputes {what}. "
            + (f"“{subject}” — {body[:600]}" if subject or body else "")
        )[:1000],
        assignee=coordinator_for_new_task(),
    )
    if task.assignee is not None:
        notify_all([task_delivery(task)])
    payment_page_refresh_after_commit(invoice)
    return dispute


@transaction.atomic
def dispute_open(
    *, invoice_id: int, user: User, line_ids: list[int] | None = None, note: str = ""
) -> Dispute:
    """The coordinator flags a dispute: the whole invoice, or the lines named."""
    invoice = _locked(invoice_id)
    return _open(
        invoice,
        source=DisputeSource.MANUAL,
        line_ids=list(line_ids or []),
        user=user,
        body=note.strip(),
    )


class IntakeOutcome(StrEnum):
    OPENED = "opened"
    NO_KEYWORD = "no_keyword"
    UNKNOWN_SENDER = "unknown_sender"
    NO_OPEN_INVOICE = "no_open_invoice"
    ALREADY_DISPUTED = "already_disputed"


@dataclass(frozen=True)
class DisputeIntake:
    """What ``dispute_open_from_email`` did with a reply, for the endpoint to answer."""

    disputes: list[Dispute] = field(default_factory=list)
    reason: str = ""  # why nothing was opened, in words (empty when something was)
    outcome: IntakeOutcome = IntakeOutcome.OPENED


def _client_for_sender(sender: str) -> list[int]:
    address = sender.strip().lower()
    if not address:
        return []
    from clients.models import Client

    by_profile = ClientBillingProfile.objects.filter(billing_email__iexact=address).values_list(
        "client_id", flat=True
    )
    return list(
        Client.objects.filter(Q(email__iexact=address) | Q(pk__in=by_profile)).values_list(
            "pk", flat=True
        )
    )


@transaction.atomic
def dispute_open_from_email(
    *,
    sender: str,
    subject: str,
    body: str,
    received_at: datetime,
    invoice_id: int | None = None,
    client_id: int | None = None,
) -> DisputeIntake:
    """A client's reply to a follow-up (the inbound-email endpoint hands it here).

    With "dispute", "incorrect" or "question" in its subject or body, it opens a dispute
    of the whole invoice on each invoice it is about: ``invoice_id`` when the endpoint
    knows it, else the invoice numbers quoted in it, else every open invoice of the
    client (``client_id``, or whose email or billing email sent it). Idempotent: an
    invoice already disputed is left as it is.
    """
    text = f"{subject}\n{body}"
    if not KEYWORDS.search(text):
        return DisputeIntake(
            reason="No dispute keyword (dispute, incorrect, question) in the reply.",
            outcome=IntakeOutcome.NO_KEYWORD,
        )
    open_invoices = Invoice.objects.filter(status=InvoiceStatus.ISSUED)
    if invoice_id is not None:
        candidates = open_invoices.filter(pk=invoice_id)
    else:
        clients = [client_id] if client_id is not None else _client_for_sender(sender)
        if not clients:
            return DisputeIntake(
                reason=f"No client has the address {sender[:254]!r}.",
                outcome=IntakeOutcome.UNKNOWN_SENDER,
            )
        candidates = open_invoices.filter(client_id__in=clients)
        quoted = set(re.findall(re.escape(settings.INVOICE_NUMBER_PREFIX) + r"\d+", text))
        if quoted and candidates.filter(number__in=quoted).exists():
            candidates = candidates.filter(number__in=quoted)
    ids = list(candidates.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return DisputeIntake(
            reason="No open invoice to dispute.", outcome=IntakeOutcome.NO_OPEN_INVOICE
        )
    opened = []
    for pk in ids:
        invoice = _locked(pk)
        if (
            invoice.status != InvoiceStatus.ISSUED
            or invoice.disputes.filter(status=DisputeStatus.OPEN).exists()
        ):
            continue
        opened.append(
            _open(
                invoice,
                source=DisputeSource.EMAIL,
                line_ids=[],
                sender=sender,
                subject=subject,
                body=body,
                received_at=received_at,
            )
        )
    if not opened:
        return DisputeIntake(reason="Already disputed.", outcome=IntakeOutcome.ALREADY_DISPUTED)
    return DisputeIntake(opened)


@transaction.atomic
def dispute_resolve(
    *, dispute_id: int, user: User, outcome: str, note: str, today: date | None = None
) -> Dispute:
    """Settle a dispute: the amount stands, or it is credited; the sequence restarts."""
    note = note.strip()
    if not note:
        raise ApplicationError({"note": "Say how it was resolved."})
    if outcome not in DisputeOutcome.values:
        raise ApplicationError({"outcome": "Choose how it was resolved."})
    found = Dispute.objects.filter(pk=dispute_id).values_list("invoice_id", flat=True).first()
    if found is None:
        raise NotFound("That dispute does not exist.")
    invoice = _locked(found)
    dispute = Dispute.objects.select_for_update().get(pk=dispute_id)
    if not dispute.is_open:
        raise ApplicationError("This dispute is already resolved.")
    now = timezone.now()
    dispute.status = DisputeStatus.RESOLVED
    dispute.outcome = outcome
    dispute.resolution_note = note[:500]
    dispute.resolved_at = now
    dispute.resolved_by = user
    dispute.save()
    # What stays disputed comes off first: a credit may take the total below it.
    invoice.disputed_amount = (
        Dispute.objects.filter(invoice=invoice, status=DisputeStatus.OPEN).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )
    invoice.save(update_fields=["disputed_amount", "updated_at"])
    if outcome == DisputeOutcome.CREDITED:
        credit = min(dispute.amount, invoice.total - invoice.amount_paid)
        if credit > 0:
            InvoiceLine.objects.create(
                invoice=invoice,
                kind=LineKind.ADJUSTMENT,
                description=f"Credit: {note}"[:300],
                quantity=Decimal("1"),
                unit_price=-credit,
                amount=-credit,
                position=_next_position(invoice),
                write_down_reason=WriteDownReason.DISPUTE,
            )
            invoice_recompute(invoice)
    if invoice.status == InvoiceStatus.ISSUED and invoice.amount_paid >= invoice.total:
        invoice.status = InvoiceStatus.PAID  # the credit settled it
        invoice.save(update_fields=["status", "updated_at"])
    BillingTask.objects.filter(dispute=dispute, status=BillingTaskStatus.OPEN).update(
        status=BillingTaskStatus.DONE, done_at=now, done_by=user, outcome_note=note[:500]
    )
    if invoice.status == InvoiceStatus.PAID:
        followup_stop(invoice=invoice)
    else:
        state = _locked_state(invoice)
        steps = Steps()
        _restart(
            state,
            due_on=invoice.due_on,
            due=_current_due(invoice, steps, state.sequence_id),
            on=today or timezone.localdate(),
            reason=f"Dispute resolved ({dispute.get_outcome_display().lower()})",
            steps=steps,
        )
        state.save()
    payment_page_refresh_after_commit(invoice)
    return dispute
