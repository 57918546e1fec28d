"""What the firm tells a client about an engagement, and when it still applies.

Builders run inside the transaction that makes their event true and store rows
in the notifications outbox; the sender skips a row whose event has passed.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from engagements.choices import Milestone
from engagements.models import Engagement, RequiredDocument, ReviewException
from engagements.upload_links import upload_url
from notifications.choices import NotificationTemplate, SubjectType
from notifications.models import Notification
from notifications.registry import still_applies
from notifications.services import Message, Stored, notify

REMINDER_LAST = 3


def _outstanding_names(engagement: Engagement) -> list[str]:
    return list(
        RequiredDocument.objects.filter(engagement=engagement, received_at__isnull=True)
        .order_by("name")
        .values_list("name", flat=True)
    )


def _client_facts(engagement: Engagement) -> dict[str, object]:
    """What every email to the client carries: who we are, the work, a fresh upload link."""
    return {
        "engagement": engagement,
        "client": engagement.client,
        "work_type": engagement.work_type,
        "firm_name": settings.FIRM_NAME,
        "upload_url": upload_url(engagement),
        "link_days": settings.UPLOAD_LINK_MAX_AGE_SECONDS // 86400,
    }


def _work_label(engagement: Engagement) -> str:
    period = f" ({engagement.period_end:%b %Y})" if engagement.period_end else ""
    return f"{engagement.work_type.name}{period}"


def notify_document_request(*, engagement: Engagement) -> None:
    """The client's checklist and upload link, as the engagement enters documents_requested."""
    outstanding = _outstanding_names(engagement)
    if not outstanding:
        return  # nothing to ask for
    notify(
        Message(
            subject_type=SubjectType.ENGAGEMENT,
            subject_id=engagement.pk,
            template=NotificationTemplate.DOCUMENT_REQUEST,
            subject=f"Please send your documents: {_work_label(engagement)}",
            context={**_client_facts(engagement), "outstanding": outstanding},
        ),
        emails=[engagement.client.email],
    )


def notify_document_reminder(
    *, engagement: Engagement, number: int, requested_at: datetime
) -> list[Stored]:
    """Reminder ``number`` (1..3) that documents are still outstanding; at most once each."""
    outstanding = _outstanding_names(engagement)
    if not outstanding:
        return []
    final = number >= REMINDER_LAST
    return notify(
        Message(
            subject_type=SubjectType.ENGAGEMENT,
            subject_id=engagement.pk,
            template=NotificationTemplate.DOCUMENT_REMINDER,
            step=number,
            subject=f"{'Final reminder' if final else 'Reminder'}: documents still needed for your {_work_label(engagement)}",
            context={
                **_client_facts(engagement),
                "outstanding": outstanding,
                "requested_at": requested_at,
                "final": final,
            },
        ),
        emails=[engagement.client.email],
    )


def notify_clarification_request(*, exception: ReviewException) -> None:
    """The reviewer's question to the client, with the upload link for any new document."""
    engagement = exception.engagement
    notify(
        Message(
            subject_type=SubjectType.REVIEW_EXCEPTION,
            subject_id=exception.pk,
            template=NotificationTemplate.CLARIFICATION_REQUEST,
            subject=f"A question about your {_work_label(engagement)}",
            context={**_client_facts(engagement), "note": exception.note},
            task_id=exception.task_id,
        ),
        emails=[engagement.client.email],
    )


@still_applies(NotificationTemplate.DOCUMENT_REQUEST, NotificationTemplate.DOCUMENT_REMINDER)
def _documents_still_wanted(notification: Notification) -> bool:
    # The client sent everything (or staff moved on) while the email waited.
    return Engagement.objects.filter(
        pk=notification.subject_id,
        milestone=Milestone.DOCUMENTS_REQUESTED,
        required_documents__received_at__isnull=True,
    ).exists()


@still_applies(NotificationTemplate.CLARIFICATION_REQUEST)
def _exception_still_open(notification: Notification) -> bool:
    return ReviewException.objects.filter(
        pk=notification.subject_id, resolved_at__isnull=True
    ).exists()
