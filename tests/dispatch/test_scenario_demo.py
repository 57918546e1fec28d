"""Dispatch every waiting task of the demo firm and check the firm-level invariants."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from capacity.selectors import staff_loads
from dispatch.choices import DecisionOutcome, EscalationStatus, Trigger
from dispatch.models import DispatchDecision, Escalation
from dispatch.services import task_dispatch
from engagements.choices import TaskStatus
from engagements.models import Task

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

TODAY = date(2026, 11, 23)


def test_dispatching_the_demo_firm_overloads_nobody_silently():
    call_command("seed_demo", "--today", "2026-11-22", "--no-morning", stdout=StringIO())
    waiting = list(
        Task.objects.filter(status=TaskStatus.UNASSIGNED)
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    before = staff_loads(today=TODAY)
    already_over = {
        pk for pk, load in before.items() if load.utilization > load.thresholds.preparer
    }

    for task_id in waiting:
        task_dispatch(task_id=task_id, trigger=Trigger.DEADLINE_PROXIMITY, today=TODAY)

    decisions = DispatchDecision.objects.filter(task_id__in=waiting)
    assert decisions.count() == len(waiting)
    assert decisions.filter(outcome=DecisionOutcome.ASSIGNED).exists()
    overridden = set(
        decisions.filter(outcome=DecisionOutcome.ASSIGNED, urgent_override=True).values_list(
            "assignee_id", flat=True
        )
    ) | set(
        decisions.filter(outcome=DecisionOutcome.ASSIGNED, requested_override=True).values_list(
            "assignee_id", flat=True
        )
    )
    for staff_id, load in staff_loads(today=TODAY).items():
        if load.utilization > load.thresholds.preparer:
            assert staff_id in overridden | already_over, load.member
    for escalation in Escalation.objects.filter(status=EscalationStatus.OPEN):
        assert escalation.summary.strip()
        assert escalation.decision.candidates or "Nobody" in escalation.summary
    held = decisions.filter(outcome=DecisionOutcome.HELD_MISSING_ESTIMATE)
    assert all(d.task.estimated_hours is None for d in held.select_related("task"))
