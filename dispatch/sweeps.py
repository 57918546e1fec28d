"""Periodic dispatch: tasks whose deadline is near but whose trigger never fired,
and work held for a season that has ended."""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from capacity.selectors import capacity_policy
from core.calendar import firm_calendar
from dispatch.choices import DecisionOutcome, EscalationStatus, Trigger
from dispatch.digests import batch_announce
from dispatch.models import DispatchDecision, Escalation
from dispatch.services import task_dispatch
from engagements.choices import Priority, TaskRole, TaskStatus
from engagements.models import Task

logger = logging.getLogger(__name__)

# Unassigned work due within this many business days is dispatched whatever its trigger.
PROXIMITY_BUSINESS_DAYS = 10
BATCH_SIZE = 500


def sweep_candidates(*, today: date) -> list[int]:
    """Unassigned tasks the sweep should try, in due-date order.

    Left out: tasks with an open escalation (a manager owns them), tasks waiting
    for a manager's confirmation, tasks with no estimate (held until one is
    given), reviews whose preparation nobody holds yet (the review follows the
    preparer: reviewing work nobody is doing is no one's job yet, and an
    escalation for it would only repeat the preparer's), season-suppressed work
    while the season lasts, and non-urgent work of clients on account hold. Work
    held for a season or a hold that has ended comes back whatever its due date.
    """
    horizon = firm_calendar().add_business_days(today, PROXIMITY_BUSINESS_DAYS)
    policy = capacity_policy(day=today)
    open_escalation = Escalation.objects.filter(task=OuterRef("pk"), status=EscalationStatus.OPEN)
    awaiting = DispatchDecision.objects.awaiting_confirmation().filter(task=OuterRef("pk"))
    suppressed = DispatchDecision.objects.filter(
        task=OuterRef("pk"),
        outcome__in=[DecisionOutcome.SUPPRESSED, DecisionOutcome.HELD_ACCOUNT_HOLD],
    )
    unprepared = Task.objects.filter(
        engagement_id=OuterRef("engagement_id"),
        role=TaskRole.PREPARER,
        status=TaskStatus.UNASSIGNED,
    )
    queryset = (
        Task.objects.filter(status=TaskStatus.UNASSIGNED, estimated_hours__isnull=False)
        .filter(Q(due_date__lte=horizon) | Exists(suppressed))
        .exclude(Exists(open_escalation))
        .exclude(Exists(awaiting))
        # A client on account hold: its non-urgent work waits for the release (which
        # asks for its dispatch), not for the next sweep.
        .exclude(
            Q(engagement__client__account_hold=True) & ~Q(engagement__priority=Priority.URGENT)
        )
        .exclude(Q(role=TaskRole.REVIEWER) & Exists(unprepared))
    )
    if policy.suppresses_flagged_work:
        queryset = queryset.exclude(engagement__work_type__suppressed_in_december=True)
    return list(queryset.order_by("due_date", "pk").values_list("pk", flat=True)[:BATCH_SIZE])


def dispatch_sweep(*, today: date | None = None, since: datetime | None = None) -> int:
    """Dispatch what the sweep finds; returns how many tasks it tried.

    Its news goes out at the end, one email per person (``batch_announce``): what it
    escalated in each manager's digest, what it assigned in one email per assignee —
    with whatever else the batch that began at ``since`` held (default: this sweep).
    """
    since = since or timezone.now()
    today = today or timezone.localdate()
    task_ids = sweep_candidates(today=today)
    for task_id in task_ids:
        task_dispatch(task_id=task_id, trigger=Trigger.DEADLINE_PROXIMITY, today=today, batch=True)
    if task_ids:
        logger.info("dispatch sweep tried %d task(s)", len(task_ids))
    batch_announce(since=since)
    return len(task_ids)
