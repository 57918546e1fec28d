"""A dispatch on PostgreSQL + Redis leads, through a real worker, to exactly one email
and one Slack post, even when the send is retried and its message delivered twice."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dispatch.choices import Trigger
from dispatch.services import task_dispatch
from engagements.choices import TaskRole
from engagements.models import WorkType
from engagements.services import engagement_create
from notifications.choices import NotificationStatus
from notifications.models import Notification
from notifications.tasks import notification_send_task
from staff.models import SkillTag, StaffSkill
from tests.factories import ClientFactory, StaffMemberFactory, UserFactory
from tests.integration.conftest import WorkerProcess, sent_mails, wait_until

pytestmark = pytest.mark.integration

WAIT_SECONDS = 45


class SlackReceiver(BaseHTTPRequestHandler):
    """Answers 500 to the first post (a transient failure), 200 after; records each body."""

    posts: list[tuple[int, dict[str, object]]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        status = 500 if not self.posts else 200
        self.posts.append((status, body))
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slack_receiver():
    SlackReceiver.posts = []
    server = HTTPServer(("127.0.0.1", 0), SlackReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", SlackReceiver.posts
    server.shutdown()
    server.server_close()


@pytest.fixture
def worker_env(slack_receiver, mail_dir):
    url, _ = slack_receiver
    return {
        "SLACK_WEBHOOK_URL": url,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(mail_dir),
        "CLOSELOOP_NOTIFICATION_RETRY_BASE_SECONDS": "1",
    }


def test_dispatch_sends_one_email_and_one_slack_post_despite_retries(
    celery_worker: WorkerProcess, slack_receiver, mail_dir, monkeypatch, settings
):
    url, posts = slack_receiver
    # The rows are written here, where the channels are chosen: Slack must be on here too.
    settings.SLACK_WEBHOOK_URL = url
    member = StaffMemberFactory(
        user=UserFactory(username="booker", email="booker@firm.example"), slack_member_id="U0BOOKER"
    )
    StaffSkill.objects.create(
        staff_member=member, skill=SkillTag.objects.get(slug="bookkeeping"), level=3
    )
    engagement = engagement_create(
        client=ClientFactory(name="Harbor Point Dental", email=""),
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        estimated_hours=Decimal("5"),
    )
    task = engagement.tasks.get(role=TaskRole.PREPARER)

    decision = task_dispatch(
        task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=date(2026, 11, 23)
    )

    assert decision is not None and decision.assignee_id == member.pk
    # The receiver counts the post before the worker records it as sent: wait for both.
    delivered = wait_until(
        lambda: (
            len(sent_mails(mail_dir)) == 1
            and [s for s, _ in posts].count(200) == 1
            and Notification.objects.filter(
                channel="slack", task=task, status=NotificationStatus.SENT
            ).exists()
        ),
        celery_worker,
        seconds=WAIT_SECONDS,
    )
    assert delivered, f"mail={sent_mails(mail_dir)} slack={posts}\n{celery_worker.describe()}"
    slack = Notification.objects.get(channel="slack", task=task)
    assert slack.status == NotificationStatus.SENT and slack.attempts == 2  # one failure, one retry

    # The same send delivered again (a broker redelivery, a duplicate retry) sends nothing.
    for notification in Notification.objects.filter(task=task):
        notification_send_task.apply_async(
            (notification.pk,), queue=celery_worker.notifications_queue
        )
    time.sleep(3)

    mails = sent_mails(mail_dir)
    assert len(mails) == 1, celery_worker.describe()
    text = mails[0]
    assert (
        "Harbor Point Dental" in text and "Monthly bookkeeping" in text and "assignment.ics" in text
    )
    assert [status for status, _ in posts] == [500, 200]
    assert "Harbor Point Dental" in posts[1][1]["text"] and "<@U0BOOKER>" in posts[1][1]["text"]
