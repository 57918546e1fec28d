"""Notifications stored together reach a real worker (PostgreSQL + Redis) as one
message, and the worker sends each of its rows once."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from notifications import services
from notifications.choices import NotificationStatus, NotificationTemplate, SubjectType
from notifications.models import Notification
from notifications.services import SEND_BATCH_TASK, Delivery, Message, notify_all
from tests.integration.conftest import WorkerProcess, sent_mails, wait_until

pytestmark = pytest.mark.integration

WAIT_SECONDS = 45
MANAGERS = ("ann@firm.example", "ben@firm.example", "cal@firm.example")


@pytest.fixture
def worker_env(mail_dir):
    return {
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
    }


def test_an_escalation_told_to_three_managers_is_one_message_and_three_emails(
    celery_worker: WorkerProcess, mail_dir, monkeypatch
):
    published: list[str] = []
    publish = services.enqueue

    def counted(name: str, *args: object, countdown: float | None = None) -> None:
        published.append(name)
        publish(name, *args, countdown=countdown)

    monkeypatch.setattr(services, "enqueue", counted)
    message = Message(
        subject_type=SubjectType.ESCALATION,
        subject_id=1,
        template=NotificationTemplate.ESCALATION_OPENED,
        subject="Nobody fits",
        context={"firm_name": "Firm", "task": None},
    )

    with transaction.atomic():
        created = notify_all([Delivery(message, emails=MANAGERS)])

    assert published == [SEND_BATCH_TASK]
    sent = wait_until(
        lambda: (
            len(sent_mails(mail_dir)) == len(MANAGERS)
            and Notification.objects.filter(status=NotificationStatus.SENT).count() == len(MANAGERS)
        ),
        celery_worker,
        seconds=WAIT_SECONDS,
    )
    assert sent, celery_worker.describe()
    time.sleep(2)  # nothing more may go out
    mails = sent_mails(mail_dir)
    assert len(mails) == len(MANAGERS)
    assert sorted(n.recipient for n in created) == sorted(MANAGERS)
    for address in MANAGERS:
        assert sum(f"To: {address}" in text for text in mails) == 1
