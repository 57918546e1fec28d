"""The weekly billing report, emailed to every partner on Monday morning.

| who | when | at most once per | proof |
| each active partner | Monday, from ``WEEKLY_REPORT_HOUR`` (firm time) | partner and week | the outbox identity (the partner, ``WEEKLY_BILLING_REPORT``, step = ISO year x 100 + week of that Monday): ``notification_once_per_identity`` |

The beat job runs hourly (``config/celery.py``) and does nothing before the hour or
on another day; a second run, or two at once, stores nothing new (the unique
constraint skips the identity already stored). The figures are the reports' own
selectors over the last full week, the firm-wide scope a partner has on the pages.
The message builder lives here beside the only caller (``billing.messages`` holds
the builders whose subject is an invoice, a person's time or a task).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing import reports
from billing.messages import week_step
from notifications.choices import NotificationTemplate, SubjectType
from notifications.services import Message, notify
from staff.choices import Role
from staff.models import StaffMember

MONDAY = 0


def weekly_report_send(*, now: datetime | None = None) -> int:
    """On Monday morning, store the weekly report for each partner; how many were new."""
    local = timezone.localtime(now or timezone.now())
    if local.weekday() != MONDAY or local.hour < settings.WEEKLY_REPORT_HOUR:
        return 0
    today = local.date()
    partners = list(
        StaffMember.objects.filter(role=Role.PARTNER, active=True)
        .select_related("user")
        .order_by("pk")
    )
    if not partners:
        return 0
    start, end = reports.last_full_week(today)
    base = settings.SITE_URL.rstrip("/")
    context: dict[str, object] = {
        "start": start,
        "end": end,
        "leakage": reports.leakage_report(client_ids=None, start=start, end=end),
        "aging": reports.ar_aging(client_ids=None, as_of=today),
        "wip": reports.wip(client_ids=None),
        "realization": reports.realization_report(client_ids=None, start=start, end=end),
        "leakage_url": base + reverse("billing:report-leakage"),
        "aging_url": base + reverse("billing:report-aging"),
        "wip_url": base + reverse("billing:report-wip"),
        "realization_url": base + reverse("billing:report-realization"),
        "firm_name": settings.FIRM_NAME,
    }
    subject = f"Weekly billing report: {start:%b} {start.day} – {end:%b} {end.day}"
    stored = 0
    for partner in partners:
        with transaction.atomic():
            created = notify(
                Message(
                    subject_type=SubjectType.STAFF,
                    subject_id=partner.pk,
                    template=NotificationTemplate.WEEKLY_BILLING_REPORT,
                    step=week_step(today),
                    subject=subject,
                    context={**context, "partner": partner},
                ),
                staff=[partner],
            )
        stored += bool(created)
    return stored
