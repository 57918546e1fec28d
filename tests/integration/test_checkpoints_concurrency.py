"""Two checkpoint runs at once on PostgreSQL (two beat ticks, two workers): every alert
is stored, queued and sent exactly once."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.db import close_old_connections, connection

from dispatch.checkpoints import checkpoints_run
from dispatch.choices import Checkpoint
from dispatch.models import CheckpointFiring
from engagements.choices import TaskRole, TaskStatus
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from notifications.services import notification_send
from staff.choices import Role, Seniority
from tests.conftest import require_service
from tests.factories import StaffMemberFactory, TaskFactory

pytestmark = [pytest.mark.integration]

TASKS = 20
# Thursday noon: reviews assigned Monday 10:00 are past 48 hours and 2 business days,
# and due on Friday, so three checkpoints are due for each task.
ASSIGNED = datetime(2026, 11, 16, 10, tzinfo=ZoneInfo(settings.TIME_ZONE))
NOW = datetime(2026, 11, 19, 12, tzinfo=ZoneInfo(settings.TIME_ZONE))


def test_concurrent_checkpoint_runs_send_each_alert_exactly_once(
    transactional_db, django_db_serialized_rollback, monkeypatch
):
    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL (DATABASE_URL): SQLite serialises writers, so this proves nothing there",
    )
    partner = StaffMemberFactory(role=Role.PARTNER, seniority=Seniority.PARTNER)
    manager = StaffMemberFactory(role=Role.MANAGER, seniority=Seniority.MANAGER, manager=partner)
    assignee = StaffMemberFactory(manager=manager)
    for _ in range(TASKS):
        TaskFactory(
            assignee=assignee,
            role=TaskRole.REVIEWER,
            status=TaskStatus.ASSIGNED,
            assigned_at=ASSIGNED,
            due_date=date(2026, 11, 20),
        )
    queued: list[int] = []
    lock = threading.Lock()

    def publish(task_name: str, *args: object, countdown: float | None = None) -> bool:
        if task_name == "notifications.tasks.notification_send_task":
            with lock:
                queued.append(int(args[0]))  # type: ignore[call-overload]
        return True

    monkeypatch.setattr("core.queue.publish", publish)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            start.wait(timeout=10)
            fired = checkpoints_run(now=NOW)
            with lock:
                results.append(fired)
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for notification_id in list(queued):
        notification_send(notification_id=notification_id)
    for notification_id in list(queued):
        notification_send(notification_id=notification_id)  # a redelivered task: no effect

    assert not errors, errors
    assert len(results) == 2
    totals = {name: sum(fired[name] for fired in results) for name in Checkpoint.values}
    assert totals == {
        Checkpoint.NOT_STARTED_48H: TASKS,
        Checkpoint.DUE_IN_3_DAYS: TASKS,
        Checkpoint.PAST_DUE: 0,
        Checkpoint.REVIEW_OVERDUE: TASKS,
    }
    assert CheckpointFiring.objects.count() == 3 * TASKS
    alerts = Notification.objects.exclude(template=NotificationTemplate.CHECKPOINT_DIGEST)
    assert alerts.count() == 3 * TASKS
    stored = sorted(Notification.objects.values_list("pk", flat=True))
    assert sorted(queued) == stored  # each queued once
    # Each run folds what it held into one email per person: every alert reaches its
    # person exactly once, alone or listed in one digest, and nobody gets more than
    # one email per run.
    covered: dict[str, list[int]] = {}
    for email in mail.outbox:
        [address] = email.to
        covered.setdefault(address, []).extend(
            int(task_id) for task_id in re.findall(r"/tasks/(\d+)/", email.body)
        )
        assert sum(1 for other in mail.outbox if other.to == [address]) <= 2
    tasks = sorted(set(alerts.values_list("task_id", flat=True)))
    assert {address: sorted(ids) for address, ids in covered.items()} == {
        manager.email: tasks,
        assignee.email: tasks,
        partner.email: tasks,
    }
