"""The broker is down when a change commits: the page still answers with success, and
once the broker is back the work it owed runs exactly once, with no manual step.

A private redis-server (no persistence) serves as the broker, so the test can stop
and start it; a real worker with embedded beat runs the outbox's re-queue jobs.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from config.celery import app as celery_app
from engagements.choices import TaskRole, TaskStatus
from engagements.models import Engagement, WorkType
from notifications.choices import NotificationStatus, NotificationTemplate
from notifications.models import Notification
from staff.choices import Role, Seniority
from staff.models import SkillTag, StaffSkill
from tests.factories import ClientFactory, StaffMemberFactory, UserFactory
from tests.integration.conftest import RedisServer, WorkerProcess, sent_mails, wait_until

pytestmark = pytest.mark.integration

WAIT_SECONDS = 60


@pytest.fixture
def redis_url(private_redis: RedisServer) -> str:
    """The worker's broker is the private server this test stops and starts."""
    return private_redis.url


@pytest.fixture
def worker_env(mail_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        "CLOSELOOP_OUTBOX_REQUEUE_AFTER_SECONDS": "2",
        "CLOSELOOP_OUTBOX_REQUEUE_INTERVAL_SECONDS": "2",
    }


@pytest.fixture
def worker_args(tmp_path: Path) -> list[str]:
    return ["-B", "--schedule", str(tmp_path / "celerybeat-schedule")]


def test_broker_down_at_commit_still_saves_then_dispatches_and_emails_once(
    client,
    celery_worker: WorkerProcess,
    private_redis: RedisServer,
    mail_dir,
    monkeypatch,
    settings,
):
    manager = StaffMemberFactory(
        user=UserFactory(username="mia"), role=Role.MANAGER, seniority=Seniority.MANAGER
    )
    booker = StaffMemberFactory(user=UserFactory(username="payroll", email="payroll@firm.example"))
    StaffSkill.objects.create(
        staff_member=booker, skill=SkillTag.objects.get(slug="payroll"), level=3
    )
    # The page's process publishes to the same (soon stopped) broker as the worker.
    settings.CELERY_BROKER_URL = private_redis.url
    monkeypatch.setattr(celery_app, "_pool", None)  # connections to the old broker
    assert celery_app.conf.broker_url == private_redis.url
    client.force_login(manager.user)
    private_redis.stop()

    response = client.post(
        reverse("engagements:engagement-create"),
        {
            "client": ClientFactory(email="").pk,
            # Payroll is ready the moment it opens (headcount change logged).
            "work_type": WorkType.objects.get(code="payroll").pk,
            "event_date": (date.today() + timedelta(days=21)).isoformat(),
            "estimated_hours": "2",
            "complexity": "medium",
            "submission_token": str(uuid.uuid4()),
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    engagement = Engagement.objects.get()
    task = engagement.tasks.get(role=TaskRole.PREPARER)
    assert task.status == TaskStatus.UNASSIGNED and task.dispatch_requested_at is not None

    private_redis.start()  # the broker is back; nobody does anything

    def emailed() -> bool:
        return (
            len(sent_mails(mail_dir)) == 1
            and Notification.objects.filter(
                template=NotificationTemplate.TASK_ASSIGNED, status=NotificationStatus.SENT
            ).exists()
        )

    assert wait_until(emailed, celery_worker, seconds=WAIT_SECONDS), celery_worker.describe()
    time.sleep(5)  # several more re-queue ticks: nothing more may happen
    task.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED and task.assignee_id == booker.pk
    assert task.dispatch_decisions.count() == 1
    assert task.dispatch_requested_at is None
    assert len(sent_mails(mail_dir)) == 1, celery_worker.describe()
    assert Notification.objects.filter(template=NotificationTemplate.TASK_ASSIGNED).count() == 1
