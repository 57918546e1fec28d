"""What billing tells people, and the invoice PDF that goes with the client's email.

Builders store rows in the notifications outbox inside the caller's transaction;
nothing here sends. The outbox identity makes each at most once:

| message | subject | step |
| invoice issued (client, PDF attached) | the invoice | 0 |
| draft time to approve (Friday) | the staff member | ISO year x 100 + week |
| completed work with no time (leakage) | the task | 0 |
| a follow-up touch (client; email and SMS) | the follow-up message | the lead step |
| partial payment received (client) | the invoice | the payment id |
| a billing task (coordinator) | the task | 0 |
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.urls import reverse

from billing.choices import InvoiceStatus, TimeEntryStatus
from billing.models import Invoice, Payment, TimeEntry
from billing.pdf import invoice_pdf, invoice_pdf_filename
from billing.selectors import invoice_document_context, invoice_for_document
from engagements.models import Task
from notifications.choices import NotificationTemplate, SubjectType, WebhookEventType
from notifications.models import Notification
from notifications.registry import Attachment, attaches, still_applies
from notifications.services import Message, notify
from notifications.webhooks import webhook_event_record
from staff.models import StaffMember


def notify_invoice_issued(*, invoice: Invoice, recipient: str) -> bool:
    """The client's invoice email (payment link or instructions; PDF at send time)."""
    if not recipient:
        return False
    document = invoice_for_document(invoice_id=invoice.pk)
    assert document is not None
    context = invoice_document_context(document)
    created = notify(
        Message(
            subject_type=SubjectType.INVOICE,
            subject_id=invoice.pk,
            template=NotificationTemplate.INVOICE_ISSUED,
            subject=(
                f"Invoice {document.number} from {settings.FIRM_NAME} — "
                f"${document.balance:,.2f} due {document.due_on:%B %-d, %Y}"
            ),
            context=context,
        ),
        emails=[recipient],
    )
    return bool(created)


@attaches(NotificationTemplate.INVOICE_ISSUED)
def invoice_email_attachments(notification: Notification) -> list[Attachment]:
    invoice = invoice_for_document(invoice_id=notification.subject_id)
    if invoice is None:
        return []
    return [Attachment(invoice_pdf_filename(invoice), invoice_pdf(invoice), "application/pdf")]


@still_applies(NotificationTemplate.INVOICE_ISSUED)
def invoice_still_owed(notification: Notification) -> bool:
    return Invoice.objects.filter(
        pk=notification.subject_id, status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID]
    ).exists()


def week_step(week_start: date) -> int:
    year, week, _ = week_start.isocalendar()
    return year * 100 + week


def notify_time_drafts(*, staff: StaffMember, week_start: date, drafts: int, hours: object) -> bool:
    """Friday: this person still has drafts this week (once per person and week)."""
    url = settings.SITE_URL + reverse("billing:time-week") + f"?week={week_start:%Y-%m-%d}"
    created = notify(
        Message(
            subject_type=SubjectType.STAFF,
            subject_id=staff.pk,
            template=NotificationTemplate.TIME_DRAFTS_REMINDER,
            step=week_step(week_start),
            subject=f"{drafts} draft time entr{'y' if drafts == 1 else 'ies'} to approve this week",
            context={
                "staff": staff,
                "drafts": drafts,
                "hours": hours,
                "week_start": week_start,
                "review_url": url,
                "firm_name": settings.FIRM_NAME,
            },
        ),
        staff=[staff],
    )
    return bool(created)


@still_applies(NotificationTemplate.TIME_DRAFTS_REMINDER)
def drafts_remain(notification: Notification) -> bool:
    return TimeEntry.objects.filter(
        staff_member_id=notification.subject_id, status=TimeEntryStatus.DRAFT
    ).exists()


def notify_leakage(*, task: Task, staff: StaffMember) -> bool:
    """Completed work with no approved time two business days on (once per task)."""
    engagement = task.engagement
    url = settings.SITE_URL + reverse("billing:time-week")
    if task.completed_at:
        url += f"?week={task.completed_at:%Y-%m-%d}"
    created = notify(
        Message(
            subject_type=SubjectType.TASK,
            subject_id=task.pk,
            template=NotificationTemplate.TIME_LEAKAGE_REMINDER,
            subject=f"No time approved yet for {engagement.client.name} — {engagement.work_type.name}",
            context={
                "task": task,
                "engagement": engagement,
                "client": engagement.client,
                "work_type": engagement.work_type,
                "staff": staff,
                "review_url": url,
                "firm_name": settings.FIRM_NAME,
            },
            task_id=task.pk,
        ),
        staff=[staff],
    )
    return bool(created)


@still_applies(NotificationTemplate.TIME_LEAKAGE_REMINDER)
def still_no_time(notification: Notification) -> bool:
    return not TimeEntry.objects.filter(
        task_id=notification.subject_id, status=TimeEntryStatus.APPROVED
    ).exists()


# --- Outbound webhooks ---------------------------------------------------------------------------


def invoice_webhook_data(invoice: Invoice) -> dict[str, object]:
    """What an outbound webhook says about an invoice (money as strings, exact)."""
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "client_id": invoice.client_id,
        "engagement_id": invoice.engagement_id,
        "status": invoice.status,
        "issued_on": invoice.issued_on.isoformat() if invoice.issued_on else None,
        "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
        "total": str(invoice.total),
        "amount_paid": str(invoice.amount_paid),
        "balance": str(invoice.total - invoice.amount_paid),
        "currency": settings.CURRENCY,
    }


def webhook_invoice_event(event_type: str, invoice: Invoice, **extra: object) -> None:
    """Record an outbound webhook event about ``invoice`` in the caller's transaction (the
    invoice's row is locked there, so its events are numbered in order)."""
    webhook_event_record(
        event_type=event_type,
        record_type="invoice",
        record_id=invoice.pk,
        data={"invoice": invoice_webhook_data(invoice), **extra},
    )


def webhook_payment_received(invoice: Invoice, payment: Payment) -> None:
    """``payment.received``: an applied payment, with the invoice's balance after it; and
    ``payment.partial`` too when it leaves a balance (receivers that chase partials)."""
    about = {
        "id": payment.pk,
        "amount": str(payment.amount),
        "received_on": payment.received_on.isoformat(),
        "method": payment.method,
        "source": payment.source,
        "external_id": payment.external_id,
    }
    webhook_invoice_event(WebhookEventType.PAYMENT_RECEIVED, invoice, payment=about)
    if invoice.status == InvoiceStatus.ISSUED and invoice.amount_paid < invoice.total:
        webhook_invoice_event(WebhookEventType.PAYMENT_PARTIAL, invoice, payment=about)


@still_applies(NotificationTemplate.FOLLOWUP_TOUCH)
def followup_still_owed(notification: Notification) -> bool:
    """A touch waiting to go (a retry, a slow worker) is dropped once none of its
    invoices is still owed and undisputed: paid in full stops the sequence at once."""
    from billing.choices import PauseReason
    from billing.models import FollowUpTouch

    return (
        FollowUpTouch.objects.filter(
            message_id=notification.subject_id,
            invoice__status=InvoiceStatus.ISSUED,
            invoice__followup__stopped_at__isnull=True,
        )
        .exclude(invoice__followup__paused=PauseReason.DISPUTE)
        .exists()
    )
