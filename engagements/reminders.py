"""Document reminders, run hourly by beat: nudge clients whose checklist is incomplete.

Reminder n goes out REMINDER_DAYS[n-1] days after the engagement entered
documents_requested, while it is still there with documents outstanding and the
client has an email address. Each is stored once under its identity
(engagement, document_reminder, step n — the Notification's unique key), so
repeated or overlapping runs send it once; the sender skips it if the checklist
completes before it goes out. A run only sends the latest reminder due: an
engagement found 10 days in gets reminder 2, never a late reminder 1 as well.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from engagements.choices import Milestone
from engagements.messages import notify_document_reminder
from engagements.models import Engagement, EngagementMilestone, RequiredDocument
from notifications.choices import NotificationTemplate, SubjectType
from notifications.models import Notification

logger = logging.getLogger(__name__)

REMINDER_DAYS = (3, 7, 14)
BATCH = 500


def _due(now: datetime, number: int) -> QuerySet[Engagement]:
    """Engagements whose latest due reminder is ``number`` and which have not had it."""
    days = REMINDER_DAYS[number - 1]
    requested_at = EngagementMilestone.objects.filter(
        engagement=OuterRef("pk"), milestone=Milestone.DOCUMENTS_REQUESTED
    ).values("reached_at")[:1]
    already_sent = Notification.objects.filter(
        subject_type=SubjectType.ENGAGEMENT,
        subject_id=OuterRef("pk"),
        template=NotificationTemplate.DOCUMENT_REMINDER,
        step=number,
    )
    queryset = (
        Engagement.objects.filter(milestone=Milestone.DOCUMENTS_REQUESTED)
        .exclude(client__email="")
        .filter(
            Exists(
                RequiredDocument.objects.filter(engagement=OuterRef("pk"), received_at__isnull=True)
            )
        )
        .annotate(requested_at=Subquery(requested_at))
        .filter(requested_at__lte=now - timedelta(days=days))
        .filter(~Exists(already_sent))
    )
    if number < len(REMINDER_DAYS):
        later = REMINDER_DAYS[number]
        queryset = queryset.filter(requested_at__gt=now - timedelta(days=later))
    return queryset.select_related("client", "work_type").order_by("requested_at", "pk")


def document_reminders_run(*, now: datetime | None = None) -> dict[int, int]:
    """Send every document reminder now due; returns how many went out of each number."""
    now = now or timezone.now()
    sent: dict[int, int] = {}
    for number in range(1, len(REMINDER_DAYS) + 1):
        count = 0
        for engagement in _due(now, number)[:BATCH]:
            with transaction.atomic():
                rows = notify_document_reminder(
                    engagement=engagement,
                    number=number,
                    requested_at=engagement.requested_at,  # type: ignore[attr-defined]
                )
            count += bool(rows)
        sent[number] = count
    if any(sent.values()):
        logger.info("document reminders sent: %s", sent)
    return sent
