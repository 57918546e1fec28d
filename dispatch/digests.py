"""A batch's news, one email per person: the escalation digest (what a sweep opened,
told once per manager, grouped by cause) and the assignments it made.

A sweep can open dozens of escalations at once (a new firm's backlog, a busy week);
mailing each to every manager concerned buried them (130 emails in 25 minutes).
Escalations a sweep opens are left unannounced (``notified_at`` empty) and, when the
sweep ends, each manager gets one email listing theirs by cause. Escalations opened
by an event (documents in, a step done) are told at once, as before.

A sweep that died before its digest is caught by the periodic run, which takes only
escalations older than a sweep can last, so it never splits a running sweep's digest.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from dispatch import messages
from dispatch.choices import EscalationStatus
from dispatch.models import Escalation
from staff.models import StaffMember

logger = logging.getLogger(__name__)

# Longer than a sweep can run (its lock lasts 14 minutes).
STRAGGLER_AGE = timedelta(minutes=15)


def escalation_digest_send(
    *, older_than: timedelta | None = None, now: datetime | None = None
) -> int:
    """Tell each manager, in one email, about the open escalations nobody was told of;
    returns how many escalations it covered."""
    now = now or timezone.now()
    with transaction.atomic():
        pending = Escalation.objects.select_for_update(skip_locked=True).filter(
            status=EscalationStatus.OPEN, notified_at__isnull=True
        )
        if older_than is not None:
            pending = pending.filter(created_at__lte=now - older_than)
        escalations = list(
            pending.select_related(
                "decision", "task__engagement__client", "task__engagement__work_type"
            ).order_by("pk")
        )
        if not escalations:
            return 0
        by_recipient: dict[int, list[Escalation]] = defaultdict(list)
        people: dict[int, StaffMember] = {}
        for escalation in escalations:
            for person in messages.escalation_recipients(escalation):
                people[person.pk] = person
                by_recipient[person.pk].append(escalation)
        # The last escalation's id numbers this digest: a rerun after a crash stores
        # nothing new for the same batch (the notification's identity).
        step = escalations[-1].pk
        for staff_id, theirs in by_recipient.items():
            messages.notify_escalation_digest(
                recipient=people[staff_id], escalations=theirs, step=step
            )
        Escalation.objects.filter(pk__in=[e.pk for e in escalations]).update(notified_at=now)
    logger.info(
        "escalation digest: %d escalation(s) to %d manager(s)", len(escalations), len(people)
    )
    return len(escalations)


def batch_announce(*, since: datetime) -> tuple[int, int]:
    """The end of a batch of dispatches (a sweep, a new firm's first morning): each
    manager's escalation digest, and each assignee's new tasks folded into one email.
    Returns (escalations told, assignment emails folded away)."""
    return escalation_digest_send(), messages.assignments_fold(since=since)
