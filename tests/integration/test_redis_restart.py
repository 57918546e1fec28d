"""Redis restarts (no persistence) under a running worker that holds unacknowledged
messages: the worker keeps running, and every dispatch and notification that was
pending completes exactly once.

celery 5.7.0 died here ("Unrecoverable error: AttributeError ... 'hostname'" while
restoring the unacknowledged messages on the lost connection); pyproject.toml
excludes it. The restart loses everything Redis held (queues, the unacked index);
the outbox's beat jobs publish again what the database still owes.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from config.celery import app as celery_app
from engagements.choices import TaskRole, TaskStatus
from engagements.models import Engagement, Task, WorkType
from engagements.services import engagement_create
from notifications.choices import NotificationStatus, NotificationTemplate
from notifications.models import Notification
from staff.models import SkillTag, StaffSkill
from tests.factories import ClientFactory, StaffMemberFactory, UserFactory
from tests.integration.conftest import RedisServer, WorkerProcess, sent_mails, wait_until

pytestmark = pytest.mark.integration

WAIT_SECONDS = 30
CONFIRMATION_DELAY = 6  # the client confirmation's countdown: held unacked by the worker


@pytest.fixture
def redis_url(private_redis: RedisServer) -> str:
    return private_redis.url


@pytest.fixture
def worker_env(mail_dir: Path) -> dict[str, str]:
    return {
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        "CLOSELOOP_CLIENT_CONFIRMATION_DELAY_SECONDS": str(CONFIRMATION_DELAY),
        "CLOSELOOP_OUTBOX_REQUEUE_AFTER_SECONDS": "2",
        "CLOSELOOP_OUTBOX_REQUEUE_INTERVAL_SECONDS": "2",
    }


@pytest.fixture
def worker_args(tmp_path: Path) -> list[str]:
    return ["-B", "--schedule", str(tmp_path / "celerybeat-schedule")]


def _payroll(client_email: str) -> Engagement:
    """Payroll is ready the moment it opens: its preparer is dispatched on commit."""
    return engagement_create(
        client=ClientFactory(email=client_email),
        work_type=WorkType.objects.get(code="payroll"),
        event_date=date.today() + timedelta(days=21),
        estimated_hours=Decimal("2"),
    )


def _sends_received(worker: WorkerProcess) -> int:
    return sum(
        "notifications.tasks.notification_send_task[" in line and line.endswith("received")
        for line in worker.output().splitlines()
    )


def _emails_to(mail_dir: Path, address: str) -> int:
    return sum(f"To: {address}" in message for message in sent_mails(mail_dir))


def test_redis_restart_under_a_worker_with_unacked_messages_loses_and_repeats_nothing(
    celery_worker: WorkerProcess, private_redis: RedisServer, mail_dir: Path, monkeypatch, settings
):
    booker = StaffMemberFactory(user=UserFactory(username="payroll", email="payroll@firm.example"))
    StaffSkill.objects.create(
        staff_member=booker, skill=SkillTag.objects.get(slug="payroll"), level=3
    )
    # This process publishes to the broker the test restarts.
    settings.CELERY_BROKER_URL = private_redis.url
    monkeypatch.setattr(celery_app, "_pool", None)  # connections to the old broker
    assert celery_app.conf.broker_url == private_redis.url

    # 1. A dispatch runs; its client confirmation waits in the worker (countdown, unacked).
    first = _payroll("first@client.example")
    first_task = first.tasks.get(role=TaskRole.PREPARER)

    def first_assigned_and_confirmation_waiting() -> bool:
        return (
            Task.objects.filter(pk=first_task.pk, status=TaskStatus.ASSIGNED).exists()
            and _emails_to(mail_dir, "payroll@firm.example") == 1
            and _sends_received(celery_worker) == 2  # the assignment email, the confirmation
            and Notification.objects.filter(
                template=NotificationTemplate.CLIENT_CONFIRMATION,
                status=NotificationStatus.PENDING,
            ).exists()
        )

    assert wait_until(
        first_assigned_and_confirmation_waiting, celery_worker, seconds=WAIT_SECONDS
    ), celery_worker.describe()

    # 2. Redis goes away with that message unacknowledged; a change commits meanwhile.
    private_redis.stop()
    time.sleep(1)  # the worker notices the lost connection
    second = _payroll("second@client.example")
    second_task = second.tasks.get(role=TaskRole.PREPARER)
    private_redis.start()  # empty: no queue, no unacked index

    # 3. Nobody does anything: the worker reconnects and the outbox catches up.
    def everything_sent() -> bool:
        return Notification.objects.exclude(status=NotificationStatus.SENT).count() == 0 and (
            Notification.objects.filter(
                template=NotificationTemplate.CLIENT_CONFIRMATION, status=NotificationStatus.SENT
            ).count()
            == 2
        )

    assert wait_until(everything_sent, celery_worker, seconds=WAIT_SECONDS), (
        f"{list(Notification.objects.values_list('template', 'recipient', 'status'))}\n"
        + celery_worker.describe()
    )
    time.sleep(4)  # two more re-queue ticks: nothing more may happen

    assert celery_worker.process.poll() is None, celery_worker.describe()
    assert "Unrecoverable error" not in celery_worker.output()
    second_task.refresh_from_db()
    assert second_task.status == TaskStatus.ASSIGNED and second_task.assignee_id == booker.pk
    for task in (first_task, second_task):
        assert task.dispatch_decisions.count() == 1
    assert _emails_to(mail_dir, "payroll@firm.example") == 2, celery_worker.describe()
    assert _emails_to(mail_dir, "first@client.example") == 1, celery_worker.describe()
    assert _emails_to(mail_dir, "second@client.example") == 1, celery_worker.describe()
    assert len(sent_mails(mail_dir)) == Notification.objects.count() == 4
