"""Reads for billing pages, each in a fixed number of queries whatever the rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from billing.choices import (
    InvoiceStatus,
    LineKind,
    PaymentStatus,
    TimeEntryStatus,
    WriteDownReason,
)
from billing.links import invoice_public_url
from billing.models import (
    Invoice,
    InvoiceLine,
    LeakageReminder,
    Payment,
    RunningTimer,
    TimeEntry,
)
from billing.rates import ZERO
from clients.models import Client
from engagements.choices import TaskStatus
from engagements.models import Engagement, Task
from staff.models import StaffMember

# Lines that are the work itself (realization compares these with standard value).
WORK_KINDS = (LineKind.TIME, LineKind.FEE, LineKind.RETAINER, LineKind.ADJUSTMENT)
RECENT_WORK_DAYS = 90


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Week:
    start: date
    entries: list[TimeEntry]

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def previous(self) -> date:
        return self.start - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.start + timedelta(days=7)

    @property
    def drafts(self) -> list[TimeEntry]:
        return [e for e in self.entries if e.is_draft]

    @property
    def total_hours(self) -> Decimal:
        return sum((e.hours for e in self.entries), ZERO)

    @property
    def draft_hours(self) -> Decimal:
        return sum((e.hours for e in self.drafts), ZERO)


def time_week(*, staff: StaffMember, start: date) -> Week:
    """Someone's entries in the week from ``start`` (a Monday): one query."""
    entries = list(
        TimeEntry.objects.filter(
            staff_member=staff, date__gte=start, date__lte=start + timedelta(days=6)
        )
        .select_related("client", "engagement__work_type", "work_type", "invoice")
        .order_by("date", "pk")
    )
    return Week(start=start, entries=entries)


def time_entry_get_for_staff(*, staff: StaffMember, pk: int) -> TimeEntry | None:
    return (
        TimeEntry.objects.filter(staff_member=staff, pk=pk)
        .select_related("client", "engagement__work_type", "work_type", "invoice")
        .first()
    )


def recent_engagements_for(*, staff: StaffMember, today: date) -> QuerySet[Engagement]:
    """Engagements someone holds or finished work on lately (the manual entry's choices)."""
    since = today - timedelta(days=RECENT_WORK_DAYS)
    tasks = Task.objects.filter(engagement=OuterRef("pk"), assignee=staff).filter(
        ~Q(status=TaskStatus.COMPLETED) | Q(completed_at__date__gte=since)
    )
    return (
        Engagement.objects.filter(Exists(tasks))
        .select_related("client", "work_type")
        .order_by("client__name", "due_date")
    )


def recent_clients_for(*, staff: StaffMember, today: date) -> QuerySet[Client]:
    since = today - timedelta(days=RECENT_WORK_DAYS)
    tasks = Task.objects.filter(engagement__client=OuterRef("pk"), assignee=staff).filter(
        ~Q(status=TaskStatus.COMPLETED) | Q(completed_at__date__gte=since)
    )
    return Client.objects.filter(Exists(tasks)).order_by("name")


def running_timer(*, staff: StaffMember) -> RunningTimer | None:
    return RunningTimer.objects.filter(staff_member=staff).first()


# --- Invoices --------------------------------------------------------------------------


def realization(invoice: Invoice, lines: list[InvoiceLine]) -> Decimal | None:
    """Billed work ÷ the standard value of its time (None without time to compare)."""
    if not invoice.standard_amount:
        return None
    billed = sum((line.amount for line in lines if line.kind in WORK_KINDS), ZERO)
    return (billed / invoice.standard_amount * 100).quantize(Decimal("1"))


@dataclass(frozen=True)
class ApprovalRow:
    invoice: Invoice
    lines: list[InvoiceLine]
    realization: Decimal | None
    unapproved_hours: Decimal  # draft time on the engagement, not yet on the invoice

    @property
    def write_down_reasons(self) -> list[tuple[str, str]]:
        """The reasons the edit and adjustment forms offer (the leakage report's groups)."""
        return [(value, label) for value, label in WriteDownReason.choices if value]


def approval_queue(*, limit: int = 100) -> list[ApprovalRow]:
    """Drafts awaiting a partner, oldest first, with lines: three queries."""
    drafts = list(
        Invoice.objects.filter(status=InvoiceStatus.DRAFT)
        .select_related("client", "engagement__work_type")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk"))
        )
        .order_by("created_at", "pk")[:limit]
    )
    engagement_ids = [d.engagement_id for d in drafts if d.engagement_id]
    pending: dict[int, Decimal] = dict(
        TimeEntry.objects.filter(engagement_id__in=engagement_ids, status=TimeEntryStatus.DRAFT)
        .order_by()
        .values("engagement_id")
        .annotate(total=Sum("hours"))
        .values_list("engagement_id", "total")
    )
    rows = []
    for invoice in drafts:
        lines = list(invoice.lines.all())
        rows.append(
            ApprovalRow(
                invoice=invoice,
                lines=lines,
                realization=realization(invoice, lines),
                unapproved_hours=pending.get(invoice.engagement_id or 0, ZERO),
            )
        )
    return rows


def approval_row(*, invoice_id: int) -> ApprovalRow | None:
    invoice = (
        Invoice.objects.select_related("client", "engagement__work_type")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk"))
        )
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        return None
    lines = list(invoice.lines.all())
    pending = ZERO
    if invoice.engagement_id and invoice.is_draft:
        pending = (
            TimeEntry.objects.filter(
                engagement_id=invoice.engagement_id, status=TimeEntryStatus.DRAFT
            ).aggregate(total=Sum("hours"))["total"]
            or ZERO
        )
    return ApprovalRow(invoice, lines, realization(invoice, lines), pending)


def invoice_for_document(*, invoice_id: int) -> Invoice | None:
    """An invoice with what its document shows (lines, payments): three queries."""
    return (
        Invoice.objects.select_related("client", "engagement__work_type")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")),
            Prefetch(
                "payments",
                queryset=Payment.objects.filter(status=PaymentStatus.APPLIED).order_by(
                    "received_on", "pk"
                ),
            ),
        )
        .filter(pk=invoice_id)
        .first()
    )


def surcharge_disclosure(*, percent: Decimal, amount: Decimal, base: Decimal) -> str:
    """The card surcharge disclosure, in one wording for every place that links to a
    surcharged payment page (card network rules: rate and amount before paying)."""
    return (
        f"Card surcharge: paying online by credit card adds a surcharge of "
        f"{percent} % (${amount:,.2f}) to the ${base:,.2f} "
        f"balance, ${base + amount:,.2f} in all; the payment page shows it as its own line. "
        "There is no surcharge on debit or prepaid cards (if you pay with one, the surcharge "
        "is refunded to you automatically) nor on bank transfer or check."
    )


def surcharge_notice(invoice: Invoice) -> str:
    """The disclosure the email, the PDF and the invoice page carry ("" when none)."""
    if not (invoice.is_open and invoice.payment_url and invoice.payment_page_surcharge):
        return ""
    return surcharge_disclosure(
        percent=invoice.payment_page_surcharge_percent or ZERO,
        amount=invoice.payment_page_surcharge,
        base=invoice.payment_page_amount or ZERO,
    )


def invoice_document_context(invoice: Invoice) -> dict[str, object]:
    """What the PDF, the client's page and the email say (``invoice_for_document``)."""
    return {
        "invoice": invoice,
        "client": invoice.client,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.all()),
        "firm_name": settings.FIRM_NAME,
        "firm_address": settings.FIRM_ADDRESS,
        "firm_phone": settings.FIRM_PHONE,
        "firm_email": settings.DEFAULT_FROM_EMAIL,
        "payment_instructions": settings.PAYMENT_INSTRUCTIONS,
        "payment_url": invoice.payment_url if invoice.is_open else "",
        "surcharge_notice": surcharge_notice(invoice),
        "public_url": invoice_public_url(invoice_id=invoice.pk),
    }


def invoice_list(*, status: str | None = None, limit: int = 200) -> list[Invoice]:
    """Invoices for the billing page, newest first (one query)."""
    queryset = Invoice.objects.select_related("client").order_by("-pk")
    if status:
        queryset = queryset.filter(status=status)
    return list(queryset[:limit])


def leakage_list(*, limit: int = 200) -> list[LeakageReminder]:
    """Completed tasks whose assignee was reminded and that still have no approved time."""
    approved = TimeEntry.objects.filter(task=OuterRef("task_id"), status=TimeEntryStatus.APPROVED)
    return list(
        LeakageReminder.objects.filter(~Exists(approved))
        .select_related(
            "task__engagement__client", "task__engagement__work_type", "staff_member__user"
        )
        .order_by("-reminded_at")[:limit]
    )


# --- Follow-ups --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    """One line of an invoice's timeline: a touch (and why), a payment, a dispute..."""

    at: date
    kind: str  # "touch" | "payment" | "dispute" | "promise" | "issued"
    title: str
    detail: str = ""
    deliveries: tuple[tuple[str, str, str], ...] = ()  # (channel, status, error)


def invoice_timeline(*, invoice: Invoice) -> list[TimelineEvent]:
    """Issued, each touch with what triggered it and whether each channel went out,
    payments, disputes and promises: five queries whatever the history."""
    from billing.models import Dispute, FollowUpTouch, PaymentPromise
    from notifications.choices import NotificationTemplate, SubjectType
    from notifications.models import Notification

    events: list[TimelineEvent] = []
    if invoice.issued_on:
        events.append(TimelineEvent(invoice.issued_on, "issued", "Issued and emailed"))
    touches = list(FollowUpTouch.objects.filter(invoice=invoice).select_related("step__sequence"))
    sent: dict[int, list[Notification]] = {}
    for notification in Notification.objects.filter(
        subject_type=SubjectType.FOLLOWUP,
        template=NotificationTemplate.FOLLOWUP_TOUCH,
        subject_id__in=[t.message_id for t in touches if t.message_id],
    ).order_by("pk"):
        sent.setdefault(notification.subject_id, []).append(notification)
    for touch in touches:
        rows = sent.get(touch.message_id or 0, [])
        deliveries = tuple(
            (n.get_channel_display(), n.get_status_display(), n.last_error[:200]) for n in rows
        )
        if not deliveries and (touch.step.send_email or touch.step.send_sms):
            deliveries = (("Email", "Not sent: no address on file", ""),)
        events.append(
            TimelineEvent(
                touch.sent_on,
                "touch",
                f"Touch {touch.step.position}: {touch.step.label}",
                touch.reason,
                deliveries,
            )
        )
    for payment in invoice.payments.all():
        events.append(
            TimelineEvent(
                payment.received_on,
                "payment",
                f"Payment of ${payment.amount:,.2f} ({payment.get_method_display()})",
                payment.note,
            )
        )
    for dispute in Dispute.objects.filter(invoice=invoice):
        what = "the whole invoice" if dispute.whole_invoice else f"${dispute.amount:,.2f}"
        events.append(
            TimelineEvent(
                timezone.localdate(dispute.created_at),
                "dispute",
                f"Dispute of {what} ({dispute.get_source_display().lower()})",
                dispute.body[:300],
            )
        )
        if dispute.resolved_at:
            events.append(
                TimelineEvent(
                    timezone.localdate(dispute.resolved_at),
                    "dispute",
                    f"Dispute resolved: {dispute.get_outcome_display().lower()}",
                    dispute.resolution_note,
                )
            )
    for promise in PaymentPromise.objects.filter(invoice=invoice):
        events.append(
            TimelineEvent(
                timezone.localdate(promise.created_at),
                "promise",
                f"Promise to pay by {promise.promised_on:%B %-d, %Y}: "
                f"{promise.get_status_display().lower()}",
                promise.note,
            )
        )
    return sorted(events, key=lambda e: e.at)


@dataclass(frozen=True)
class FollowUpRow:
    client_id: int
    client_name: str
    on_hold: bool
    hold_reason: str
    invoices: int
    balance: Decimal
    stage: str  # "Touch 2 of Standard", "Paused: dispute", "Not started"
    next_touch_on: date | None
    oldest_due_on: date | None


def followup_status(*, client_ids: list[int] | None = None, limit: int = 500) -> list[FollowUpRow]:
    """Which touch each client with open invoices is at (seeds, step 8): three queries."""
    from billing.choices import PauseReason
    from billing.models import FollowUpState

    queryset = Invoice.objects.filter(status=InvoiceStatus.ISSUED)
    if client_ids is not None:
        queryset = queryset.filter(client_id__in=client_ids)
    invoices = list(
        queryset.select_related("client", "followup__sequence").order_by("client__name", "due_on")[
            : limit * 5
        ]
    )
    by_client: dict[int, list[Invoice]] = {}
    for invoice in invoices:
        by_client.setdefault(invoice.client_id, []).append(invoice)
    rows = []
    for group in list(by_client.values())[:limit]:
        client = group[0].client
        states: list[FollowUpState] = []
        for invoice in group:
            try:
                states.append(invoice.followup)
            except FollowUpState.DoesNotExist:
                continue
        furthest = max(states, key=lambda s: (s.last_position, s.cycle), default=None)
        if any(s.paused == PauseReason.DISPUTE for s in states):
            stage = "Paused: disputed"
        elif any(s.paused == PauseReason.PROMISE for s in states):
            stage = "Paused: promise to pay"
        elif furthest is None or furthest.last_position == 0:
            stage = "No touch yet"
        else:
            stage = f"Touch {furthest.last_position} of {furthest.sequence.name}"
            if furthest.cycle > 1:
                stage += f" (cycle {furthest.cycle})"
        upcoming = [s.next_touch_on for s in states if s.next_touch_on]
        rows.append(
            FollowUpRow(
                client_id=client.pk,
                client_name=client.name,
                on_hold=client.account_hold,
                hold_reason=client.account_hold_reason,
                invoices=len(group),
                balance=sum((i.total - i.amount_paid for i in group), ZERO),
                stage=stage,
                next_touch_on=min(upcoming) if upcoming else None,
                oldest_due_on=min((i.due_on for i in group if i.due_on), default=None),
            )
        )
    return rows


def failed_followups(*, client_ids: list[int] | None, limit: int = 100) -> list[object]:
    """Follow-up emails and texts that failed for good (or are being retried): for the
    coordinator to see and retry. ``client_ids``: a manager's clients (None: the firm),
    as every billing page scopes them (``billing.reports.client_scope``)."""
    from billing.models import FollowUpMessage
    from notifications.choices import NotificationStatus, NotificationTemplate
    from notifications.models import Notification

    queryset = Notification.objects.filter(
        template__in=[
            NotificationTemplate.FOLLOWUP_TOUCH,
            NotificationTemplate.PAYMENT_RECEIVED,
        ],
        status__in=[NotificationStatus.FAILED, NotificationStatus.RETRYING],
    )
    if client_ids is not None:
        # A touch's subject is its follow-up message; a payment's, its invoice.
        queryset = queryset.filter(
            Q(
                template=NotificationTemplate.FOLLOWUP_TOUCH,
                subject_id__in=FollowUpMessage.objects.filter(client_id__in=client_ids).values(
                    "pk"
                ),
            )
            | Q(
                template=NotificationTemplate.PAYMENT_RECEIVED,
                subject_id__in=Invoice.objects.filter(client_id__in=client_ids).values("pk"),
            )
        )
    return list(queryset.order_by("-created_at")[:limit])


def billing_task_list(*, open_only: bool = True, limit: int = 200) -> list[object]:
    from billing.models import BillingTask

    queryset = BillingTask.objects.select_related(
        "client", "invoice", "assignee__user", "dispute"
    ).order_by("status", "-created_at", "-pk")
    if open_only:
        queryset = queryset.filter(status="open")
    return list(queryset[:limit])


def open_dispute(*, invoice: Invoice) -> object | None:
    from billing.models import Dispute

    return Dispute.objects.filter(invoice=invoice, status="open").first()
