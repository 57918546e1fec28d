"""Many dispatches at once on PostgreSQL: nobody pushed past threshold, no task placed twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from capacity.ledger import deadline_fit
from capacity.selectors import staff_loads
from dispatch.choices import DecisionOutcome, Trigger
from dispatch.models import DispatchDecision
from dispatch.services import task_dispatch
from engagements.choices import TaskStatus
from engagements.models import Task, WorkType
from staff.models import SkillTag, StaffSkill
from tests.conftest import require_service
from tests.factories import ClientFactory, EngagementFactory, StaffMemberFactory, TaskFactory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TODAY = date(2026, 11, 23)
STAFF = 6
TASKS = 40


def _dispatch(task_id: int) -> str | None:
    try:
        decision = task_dispatch(task_id=task_id, trigger=Trigger.DEADLINE_PROXIMITY, today=TODAY)
        return decision.outcome if decision else None
    finally:
        close_old_connections()
        connection.close()


def test_parallel_dispatches_respect_thresholds_and_assign_each_task_once(
    transactional_db, django_db_serialized_rollback
):
    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL (DATABASE_URL): SQLite serialises writers, so this proves nothing there",
    )
    bookkeeping = SkillTag.objects.get(slug="bookkeeping")
    staff = []
    for _ in range(STAFF):
        member = StaffMemberFactory(weekly_capacity_hours=Decimal("12"))
        StaffSkill.objects.create(staff_member=member, skill=bookkeeping, level=3)
        staff.append(member)
    work_type = WorkType.objects.get(code="monthly_bookkeeping")
    client = ClientFactory()
    tasks = [
        TaskFactory(
            engagement=EngagementFactory(
                client=client, work_type=work_type, due_date=date(2026, 12, 4)
            ),
            estimated_hours=Decimal("3"),
            due_date=date(2026, 12, 4),
        )
        for _ in range(TASKS)
    ]
    # Every task is dispatched twice at once, as a retried trigger would.
    work = [task.pk for task in tasks] * 2

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(_dispatch, work))

    assigned = Task.objects.filter(status=TaskStatus.ASSIGNED)
    assert assigned.exists(), outcomes
    assert Task.objects.filter(status=TaskStatus.UNASSIGNED).count() + assigned.count() == TASKS
    per_task = DispatchDecision.objects.filter(outcome=DecisionOutcome.ASSIGNED).values_list(
        "task_id", flat=True
    )
    assert sorted(per_task) == sorted(assigned.values_list("pk", flat=True))  # once each
    loads = staff_loads(today=TODAY)
    for member in staff:
        load = loads[member.pk]
        assert load.utilization <= load.thresholds.preparer + 1e-9, member
        assert deadline_fit(load.calendar, load.open_work, TODAY).fits, member
    # Whatever did not fit was escalated with its reasons, never dropped silently.
    for task in Task.objects.filter(status=TaskStatus.UNASSIGNED):
        assert task.escalations.filter(status="open").exists()
