"""Beat jobs that remind staff about time: Friday's unapproved drafts and leakage.

| job | who hears | at most once per | proof |
| ``time_drafts_remind`` | everyone with drafts dated this week, Friday from ``TIME_REMINDER_HOUR`` (firm time) | person and week | the outbox identity (step = ISO week) |
| ``leakage_remind`` | the assignee of work completed ``LEAKAGE_AFTER_BUSINESS_DAYS`` business days ago with no approved time | task | ``LeakageReminder`` (one per task) |

Leakage looks back ``LEAKAGE_LOOKBACK_DAYS`` only: work finished before billing
was switched on is not news to anyone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.utils import timezone

from billing.choices import TimeEntryStatus
from billing.messages import notify_leakage, notify_time_drafts
from billing.models import LeakageReminder, TimeEntry
from billing.selectors import week_start
from core.calendar import firm_calendar
from engagements.choices import TaskStatus
from engagements.models import Task
from staff.models import StaffMember

FRIDAY = 4
LEAKAGE_LOOKBACK_DAYS = 30
BATCH = 500


def time_drafts_remind(*, now: datetime | None = None) -> int:
    """On Friday afternoon, remind everyone with drafts dated this week; how many."""
    local = timezone.localtime(now or timezone.now())
    if local.weekday() != FRIDAY or local.hour < settings.TIME_REMINDER_HOUR:
        return 0
    start = week_start(local.date())
    rows = (
        TimeEntry.objects.filter(
            status=TimeEntryStatus.DRAFT, date__gte=start, date__lte=start + timedelta(days=6)
        )
        .order_by()
        .values("staff_member_id")
        .annotate(drafts=Count("pk"), hours=Sum("hours"))
    )
    counts = {row["staff_member_id"]: row for row in rows}
    members = StaffMember.objects.filter(pk__in=list(counts), active=True).select_related("user")
    sent = 0
    for member in members.order_by("pk"):
        row = counts[member.pk]
        with transaction.atomic():
            if notify_time_drafts(
                staff=member, week_start=start, drafts=row["drafts"], hours=row["hours"]
            ):
                sent += 1
    return sent


def leakage_remind(*, now: datetime | None = None) -> int:
    """Remind, once, the assignee of each completed task still without approved time."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = firm_calendar().add_business_days(today, -settings.LEAKAGE_AFTER_BUSINESS_DAYS)
    approved = TimeEntry.objects.filter(task=OuterRef("pk"), status=TimeEntryStatus.APPROVED)
    reminded = LeakageReminder.objects.filter(task=OuterRef("pk"))
    tasks = (
        Task.objects.filter(
            status=TaskStatus.COMPLETED,
            assignee__isnull=False,
            completed_at__date__lte=cutoff,
            completed_at__date__gte=today - timedelta(days=LEAKAGE_LOOKBACK_DAYS),
        )
        .filter(~Exists(approved), ~Exists(reminded))
        .select_related("engagement__client", "engagement__work_type", "assignee__user")
        .order_by("pk")[:BATCH]
    )
    sent = 0
    for task in tasks:
        assignee = task.assignee
        assert assignee is not None
        try:
            with transaction.atomic():
                LeakageReminder.objects.create(task=task, staff_member=assignee, reminded_at=now)
                notify_leakage(task=task, staff=assignee)
        except IntegrityError:
            continue  # a concurrent run reminded them
        sent += 1
    return sent
