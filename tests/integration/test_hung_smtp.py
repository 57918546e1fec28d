"""A mail server that accepts connections and never answers: dispatch goes on at its
usual pace, each email send times out (EMAIL_TIMEOUT), is retried, and ends visible
as failed on the managers' page; no send is tried more often than its attempts allow.

The workers are split as in production: one runs dispatch, the other the
notifications queue, so the hung sends never sit in front of a dispatch.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from engagements.choices import TaskRole, TaskStatus
from engagements.models import Task, WorkType
from engagements.services import engagement_create
from notifications.choices import NotificationStatus, NotificationTemplate
from notifications.models import Notification
from staff.choices import Role, Seniority
from staff.models import SkillTag, StaffSkill
from tests.factories import ClientFactory, StaffMemberFactory, UserFactory
from tests.integration.conftest import WorkerProcess, wait_until

pytestmark = pytest.mark.integration

EMAIL_TIMEOUT = 3
MAX_ATTEMPTS = 2
WAIT_SECONDS = 25


class HungSmtpServer:
    """Accepts every connection and never sends the greeting; counts the connections."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.connections.append(conn)  # held open, never answered

    def close(self) -> None:
        self.listener.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def hung_smtp() -> Iterator[HungSmtpServer]:
    server = HungSmtpServer()
    yield server
    server.close()


@pytest.fixture
def worker_env(hung_smtp: HungSmtpServer) -> dict[str, str]:
    return {
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DJANGO_EMAIL_HOST": "127.0.0.1",
        "DJANGO_EMAIL_PORT": str(hung_smtp.port),
        "DJANGO_EMAIL_TIMEOUT": str(EMAIL_TIMEOUT),
        "CLOSELOOP_NOTIFICATION_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "CLOSELOOP_NOTIFICATION_RETRY_BASE_SECONDS": "1",
    }


@pytest.fixture
def worker_consumes_notifications() -> bool:
    return False  # the notifications_worker takes the sends


def _payroll() -> Task:
    """Payroll is ready the moment it opens: its preparer is dispatched on commit."""
    engagement = engagement_create(
        client=ClientFactory(email=""),  # no client confirmation: one email per engagement
        work_type=WorkType.objects.get(code="payroll"),
        event_date=date.today() + timedelta(days=21),
        estimated_hours=Decimal("1"),
    )
    return engagement.tasks.get(role=TaskRole.PREPARER)


def _assigned(tasks: list[Task]) -> Callable[[], bool]:
    ids = [task.pk for task in tasks]
    return lambda: Task.objects.filter(pk__in=ids, status=TaskStatus.ASSIGNED).count() == len(ids)


def test_hung_mail_server_delays_no_dispatch_and_each_email_ends_failed(
    client,
    celery_worker: WorkerProcess,
    notifications_worker: WorkerProcess,
    hung_smtp: HungSmtpServer,
):
    manager = StaffMemberFactory(
        user=UserFactory(username="mia"), role=Role.MANAGER, seniority=Seniority.MANAGER
    )
    for n in range(3):
        member = StaffMemberFactory(user=UserFactory(username=f"payroll{n}"))
        StaffSkill.objects.create(
            staff_member=member, skill=SkillTag.objects.get(slug="payroll"), level=3
        )
    workers = (celery_worker, notifications_worker)
    first = [_payroll()]
    assert wait_until(_assigned(first), *workers, seconds=WAIT_SECONDS), celery_worker.describe()
    # Its email is now hanging on the mail server.
    assert wait_until(lambda: len(hung_smtp.connections) >= 1, *workers, seconds=10), (
        notifications_worker.describe()
    )

    started = time.monotonic()
    second = [_payroll(), _payroll()]
    landed = wait_until(_assigned(second), *workers, seconds=WAIT_SECONDS)
    took = time.monotonic() - started

    # Dispatch's usual pace (a fraction of a second each), not a mail timeout per send.
    assert landed and took < EMAIL_TIMEOUT, f"{took:.1f} s\n{celery_worker.describe()}"

    emails = Notification.objects.filter(template=NotificationTemplate.TASK_ASSIGNED)

    def all_failed() -> bool:
        return emails.filter(status=NotificationStatus.FAILED).count() == 3

    assert wait_until(all_failed, *workers, seconds=WAIT_SECONDS), (
        f"{list(emails.values_list('status', 'attempts', 'last_error'))}\n"
        + notifications_worker.describe()
    )
    time.sleep(2)  # a failed send stays failed: no further attempt
    for notification in emails:
        assert notification.attempts == MAX_ATTEMPTS
        assert "timed out" in notification.last_error, notification.last_error
    assert len(hung_smtp.connections) == 3 * MAX_ATTEMPTS
    assert celery_worker.process.poll() is None and notifications_worker.process.poll() is None

    client.force_login(manager.user)
    page = client.get(reverse("notifications:failed")).content.decode()
    assert page.count("timed out") >= 3, page
