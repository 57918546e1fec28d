"""What people receive when work is assigned: email (with ICS), Slack, the client's
confirmation, the manager's alerts — each stored once and sent at most once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.core import mail
from icalendar import Calendar

from core.calendar import firm_calendar
from dispatch.choices import DecisionOutcome, Trigger
from dispatch.lifecycle import task_hand_back
from dispatch.links import TaskAction, assignment_stamp, read_action_token
from dispatch.messages import notify_task_assigned
from dispatch.models import DispatchDecision
from dispatch.services import task_dispatch
from engagements.choices import Priority
from engagements.models import Task
from notifications.channels import SENDERS, PermanentSendError, TransientSendError, send_email
from notifications.choices import Channel, NotificationStatus, NotificationTemplate, SubjectType
from notifications.models import Notification
from notifications.services import notification_send
from notifications.tasks import notification_send_task
from tests.dispatch.builders import (
    DUE,
    FROZEN_NOW,
    TODAY,
    bookkeeping_task,
    emails_to,
    html_of,
    load_up,
)
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.test/services/T000/B000/XXXX"


def assign(task: Task, queued) -> DispatchDecision:
    """Dispatch ``task``: its notifications are stored with the decision."""
    with queued.capture(execute=True):
        decision = task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)
    return decision


def due_now(notification: Notification) -> None:
    """Let the retry's wait elapse."""
    Notification.objects.filter(pk=notification.pk).update(send_after=None)


def link_on(body: str, label: str) -> str:
    line = next(line for line in body.splitlines() if line.startswith(label))
    return line.split()[-1]


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


@dataclass
class FakeResponse:
    status_code: int = 200
    payload: dict[str, object] | None = None
    text: str = "ok"

    @property
    def content(self) -> bytes:
        return b"{}" if self.payload is not None else b"ok"

    def json(self) -> dict[str, object]:
        return self.payload or {}


@dataclass
class SlackStub:
    response: FakeResponse = field(default_factory=FakeResponse)
    posts: list[dict[str, object]] = field(default_factory=list)

    def post(self, url: str, **kwargs: object) -> FakeResponse:
        self.posts.append({"url": url, **kwargs})
        return self.response


@pytest.fixture
def slack(monkeypatch, settings) -> SlackStub:
    settings.SLACK_WEBHOOK_URL = ""
    settings.SLACK_BOT_TOKEN = ""
    stub = SlackStub()
    monkeypatch.setattr("notifications.channels.requests.post", stub.post)
    return stub


@pytest.fixture
def stored(db) -> Notification:
    """One stored email about no task in particular, ready to send."""
    return Notification.objects.create(
        subject_type=SubjectType.ESCALATION,
        subject_id=1,
        channel=Channel.EMAIL,
        template=NotificationTemplate.ESCALATION_OPENED,
        recipient="ops@example.com",
        subject="Nobody fits",
        body="Nobody fits this task.\n",
    )


# --- The assignee's email ------------------------------------------------------


def test_assignment_email_carries_the_facts_the_links_and_a_calendar_block(
    frozen_now, settings, slack, skilled, client_co, queued
):
    settings.SITE_URL = "https://closeloop.example"
    alice = skilled("alice", "bookkeeping")
    task = bookkeeping_task(
        client_co,
        estimated_hours=Decimal("12"),
        special_instructions="Use the new chart of accounts.",
    )

    assign(task, queued)
    queued.send()

    [email] = emails_to(alice.email)
    assert email.subject == "New assignment: Harbor Point Dental — Monthly bookkeeping (due Dec 4)"
    accept_url = link_on(email.body, "Accept it:")
    reassign_url = link_on(email.body, "Request reassignment:")
    html = html_of(email)
    for text in (email.body, html):
        assert "Harbor Point Dental" in text
        assert "Monthly bookkeeping" in text
        assert "Friday, December 4, 2026" in text
        assert "12 hours" in text
        assert "Use the new chart of accounts." in text
        assert f"https://closeloop.example/tasks/{task.pk}/" in text
        assert accept_url in text and reassign_url in text
    assert accept_url.startswith("https://closeloop.example/act/")
    task.refresh_from_db()
    stamp = assignment_stamp(task.assigned_at)
    assert read_action_token(token_of(accept_url)) == TaskAction(task.pk, alice.pk, "accept", stamp)
    assert read_action_token(token_of(reassign_url)) == TaskAction(
        task.pk, alice.pk, "reassign", stamp
    )
    [(filename, ics, mimetype)] = email.attachments
    assert filename == "assignment.ics" and mimetype.startswith("text/calendar")
    events = Calendar.from_ical(ics).walk("VEVENT")
    starts = [event.decoded("dtstart") for event in events]
    assert events and all(TODAY <= start.date() < DUE for start in starts)
    assert all(firm_calendar().is_business_day(start.date()) for start in starts)
    booked = sum((e.decoded("dtend") - e.decoded("dtstart") for e in events), timedelta())
    assert booked == timedelta(hours=12)
    assert all("Harbor Point Dental" in str(event["summary"]) for event in events)


def test_assignment_posts_to_slack_with_the_same_facts_when_a_webhook_is_set(
    frozen_now, settings, slack, skilled, client_co, queued
):
    settings.SLACK_WEBHOOK_URL = WEBHOOK
    alice = skilled("alice", "bookkeeping")
    task = bookkeeping_task(client_co, special_instructions="Call before filing.")

    assign(task, queued)
    queued.send()

    row = Notification.objects.get(channel=Channel.SLACK)
    assert row.staff_member == alice and row.status == NotificationStatus.SENT
    [post] = slack.posts
    assert post["url"] == WEBHOOK
    text = post["json"]["text"]
    assert text.startswith("*New assignment: Harbor Point Dental — Monthly bookkeeping")
    for fact in ("Monthly bookkeeping", "Friday, December 4, 2026", "6 hours"):
        assert fact in text
    assert "Call before filing." in text
    assert f"/tasks/{task.pk}/" in text and "/act/" in text
    assert post["headers"]["X-Closeloop-Idempotency-Key"] == row.identity


def test_slack_webhook_mentions_a_member_id_but_never_a_name(
    frozen_now, settings, slack, skilled, client_co, queued
):
    settings.SLACK_WEBHOOK_URL = WEBHOOK
    skilled("uma", "bookkeeping")  # display name "Uma Test": starts with U, not an id
    skilled("zed", "bookkeeping", slack_member_id="U012ABCDEF")
    assign(bookkeeping_task(client_co), queued)  # Uma: lower id, equally free
    assign(bookkeeping_task(ClientFactory()), queued)  # Zed: more free hours now

    queued.send()

    texts = sorted(post["json"]["text"] for post in slack.posts)
    assert len(texts) == 2
    assert texts[0].startswith("*New assignment")
    assert texts[1].startswith("<@U012ABCDEF> *New assignment")


def test_slack_bot_token_messages_each_member_by_id(
    frozen_now, settings, slack, skilled, client_co, queued
):
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    slack.response = FakeResponse(200, {"ok": True})
    alice = skilled("alice", "bookkeeping", slack_member_id="U0ALICE01")

    assign(bookkeeping_task(client_co), queued)
    queued.send()

    [post] = slack.posts
    assert post["url"] == settings.SLACK_API_URL
    assert post["json"]["channel"] == "U0ALICE01"
    assert post["headers"]["Authorization"] == "Bearer xoxb-test"
    assert Notification.objects.get(channel=Channel.SLACK).staff_member == alice


def test_no_slack_configured_stores_no_slack_row_and_posts_nothing(
    frozen_now, slack, skilled, client_co, queued
):
    skilled("alice", "bookkeeping", slack_member_id="U0ALICE01")

    assign(bookkeeping_task(client_co), queued)
    queued.send()

    assert not Notification.objects.filter(channel=Channel.SLACK).exists()
    assert slack.posts == []
    assert len(mail.outbox) == 2  # the assignee and the client


# --- The client's confirmation -------------------------------------------------


def test_client_confirmation_waits_the_delay_and_names_the_accountant(
    frozen_now, settings, slack, skilled, client_co, queued
):
    settings.CLIENT_CONFIRMATION_DELAY_SECONDS = 600
    alice = skilled("alice", "bookkeeping")
    task = bookkeeping_task(client_co)
    task.engagement.required_documents.filter(name="Bank statements").update(received_at=FROZEN_NOW)

    assign(task, queued)
    confirmation = Notification.objects.get(template=NotificationTemplate.CLIENT_CONFIRMATION)
    queued.send()

    assert confirmation.recipient == client_co.email
    assert (confirmation.pk, 600) in queued.sends
    assert confirmation.send_after == FROZEN_NOW + timedelta(seconds=600)
    [email] = emails_to(client_co.email)
    assert email.subject == "Your Monthly bookkeeping is scheduled"
    for text in (email.body, html_of(email)):
        assert "Monthly bookkeeping" in text
        assert "November 30, 2026" in text  # the period: the scope of the work
        assert "Alice Test" in text and alice.email in text
        assert "Friday, December 4, 2026" in text  # estimated completion
        assert "Credit card statements" in text
        assert "Bank statements" not in text


def test_client_confirmation_is_skipped_when_the_task_moved_before_it_went_out(
    frozen_now, slack, skilled, client_co, queued
):
    alice = skilled("alice", "bookkeeping")
    bob = skilled("bob", "bookkeeping")
    task = bookkeeping_task(client_co)
    assign(task, queued)

    with queued.capture(execute=True):
        task_hand_back(task_id=task.pk, staff=alice, reason="Conflict of interest")
    statuses = queued.send()

    engagement = task.engagement
    to_alice = Notification.objects.filter(staff_member=alice).get()
    confirmations = Notification.objects.filter(
        template=NotificationTemplate.CLIENT_CONFIRMATION, subject_id=engagement.pk
    )
    old = confirmations.get(step=alice.pk)
    new = confirmations.get(step=bob.pk)
    assert statuses[old.pk] == statuses[to_alice.pk] == NotificationStatus.SKIPPED
    assert statuses[new.pk] == NotificationStatus.SENT
    [email] = emails_to(client_co.email)
    assert "Bob Test" in email.body and "Alice Test" not in email.body
    assert emails_to(alice.email) == []
    assert len(emails_to(bob.email)) == 1


# --- Stored once, sent at most once --------------------------------------------


def test_notify_task_assigned_twice_stores_and_sends_once(
    frozen_now, slack, skilled, client_co, queued, django_capture_on_commit_callbacks
):
    alice = skilled("alice", "bookkeeping")
    task = bookkeeping_task(client_co)
    before = set(Notification.objects.values_list("pk", flat=True))  # the document request
    with django_capture_on_commit_callbacks(execute=True):
        decision = task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)
    first = set(Notification.objects.values_list("pk", flat=True)) - before
    task.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        notify_task_assigned(decision=decision, task=task, assignee=alice)  # a repeat
    queued.send()

    assert set(Notification.objects.values_list("pk", flat=True)) - before == first
    # Alice's email and the client's confirmation: each stored and published once.
    assert len(first) == 2 and sorted(nid for nid, _ in queued.sends) == sorted(first)
    assert len(emails_to(alice.email)) == 1
    assert len(emails_to(client_co.email)) == 1


def test_notification_send_twice_sends_once(stored):
    first = notification_send(notification_id=stored.pk)
    second = notification_send(notification_id=stored.pk)

    assert first == second == NotificationStatus.SENT
    assert len(mail.outbox) == 1
    stored.refresh_from_db()
    assert stored.attempts == 1 and stored.sent_at is not None


def test_transient_failure_retries_then_sends(stored, monkeypatch):
    calls = []

    def flaky(notification: Notification) -> None:
        calls.append(notification.pk)
        if len(calls) == 1:
            raise TransientSendError("Mail server: timed out")
        send_email(notification)

    monkeypatch.setitem(SENDERS, Channel.EMAIL, flaky)

    first = notification_send(notification_id=stored.pk)
    stored.refresh_from_db()
    after_first = (stored.status, stored.attempts, stored.last_error, len(mail.outbox))
    early = notification_send(notification_id=stored.pk)  # a duplicate message, before it is due
    retry_at = stored.send_after
    due_now(stored)
    second = notification_send(notification_id=stored.pk)
    stored.refresh_from_db()

    assert first == early == NotificationStatus.RETRYING
    assert retry_at is not None and len(calls) == 2
    assert after_first == (NotificationStatus.RETRYING, 1, "Mail server: timed out", 0)
    assert second == NotificationStatus.SENT
    assert (stored.status, stored.attempts, stored.last_error) == (NotificationStatus.SENT, 2, "")
    assert len(mail.outbox) == 1


def test_transient_failures_give_up_after_max_attempts(stored, settings, monkeypatch):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    calls = []

    def down(notification: Notification) -> None:
        calls.append(notification.pk)
        raise TransientSendError("Slack answered 503")

    monkeypatch.setitem(SENDERS, Channel.EMAIL, down)

    statuses = []
    for _ in range(4):
        statuses.append(notification_send(notification_id=stored.pk))
        due_now(stored)

    assert statuses == ["retrying", "retrying", "failed", "failed"]
    assert len(calls) == 3
    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == (NotificationStatus.FAILED, 3)
    assert stored.last_error == "Slack answered 503"


def test_permanent_failure_fails_at_once(stored, monkeypatch):
    calls = []

    def refused(notification: Notification) -> None:
        calls.append(notification.pk)
        raise PermanentSendError("Slack refused the message: 404 channel_not_found")

    monkeypatch.setitem(SENDERS, Channel.EMAIL, refused)

    first = notification_send(notification_id=stored.pk)
    again = notification_send(notification_id=stored.pk)

    assert first == again == NotificationStatus.FAILED
    assert len(calls) == 1
    stored.refresh_from_db()
    assert stored.attempts == 1 and "channel_not_found" in stored.last_error


def test_mail_server_down_is_a_transient_failure(stored, monkeypatch):
    def refuse(self, fail_silently: bool = False) -> int:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)

    status = notification_send(notification_id=stored.pk)

    stored.refresh_from_db()
    assert status == NotificationStatus.RETRYING
    assert "connection refused" in stored.last_error


@pytest.mark.parametrize(
    ("status_code", "expected"),
    [
        (200, NotificationStatus.SENT),
        (429, NotificationStatus.RETRYING),
        (503, NotificationStatus.RETRYING),
        (404, NotificationStatus.FAILED),
    ],
)
def test_slack_answers_map_to_retry_or_failure(db, settings, slack, status_code, expected):
    settings.SLACK_WEBHOOK_URL = WEBHOOK
    slack.response = FakeResponse(status_code, text="no_service")
    row = Notification.objects.create(
        subject_type=SubjectType.ESCALATION,
        subject_id=1,
        channel=Channel.SLACK,
        template=NotificationTemplate.ESCALATION_OPENED,
        recipient="Alice Test",
        subject="Nobody fits",
        body="Nobody fits this task.\n",
    )

    status = notification_send(notification_id=row.pk)

    assert status == expected
    assert len(slack.posts) == 1


def test_send_task_asks_celery_to_retry_only_while_retrying(stored, monkeypatch):
    failures = iter([TransientSendError("timed out"), PermanentSendError("bad address")])

    def failing(notification: Notification) -> None:
        raise next(failures)

    monkeypatch.setitem(SENDERS, Channel.EMAIL, failing)

    with pytest.raises(Retry):
        notification_send_task(stored.pk)
    due_now(stored)
    notification_send_task(stored.pk)  # failed for good: no retry

    stored.refresh_from_db()
    assert stored.status == NotificationStatus.FAILED


# --- The manager's alerts ------------------------------------------------------


def test_urgent_work_assigned_over_threshold_emails_the_assignees_manager(
    frozen_now, slack, skilled, manager, client_co, queued
):
    busy = skilled("busy", "bookkeeping", manager=manager)
    load_up(busy, "40")  # 32 weighted hours: the whole week
    task = bookkeeping_task(client_co, priority=Priority.URGENT)

    decision = assign(task, queued)
    queued.send()

    assert decision.assignee == busy
    assert decision.urgent_override and decision.over_threshold
    [alert] = emails_to(manager.email)
    assert alert.subject == "Urgent work overloaded Busy Test"
    assert "Harbor Point Dental" in alert.body
    assert "now overloaded" in alert.body  # the decision's reasons
    assert len(emails_to(busy.email)) == 1


def test_work_assigned_within_threshold_alerts_no_manager(
    frozen_now, slack, skilled, manager, client_co, queued
):
    skilled("calm", "bookkeeping", manager=manager)

    assign(bookkeeping_task(client_co, priority=Priority.URGENT), queued)
    queued.send()

    assert emails_to(manager.email) == []
    assert not Notification.objects.filter(template=NotificationTemplate.STAFF_OVERLOADED)


def test_requested_staffer_over_threshold_asks_their_manager_to_confirm(
    frozen_now, slack, skilled, manager, client_co, queued
):
    favourite = skilled("fav", "bookkeeping", manager=manager)
    skilled("free", "bookkeeping", manager=manager)
    load_up(favourite, "40")
    task = bookkeeping_task(client_co, requested_staff=favourite)

    decision = assign(task, queued)
    queued.send()

    assert decision.outcome == DecisionOutcome.NEEDS_CONFIRMATION
    [email] = emails_to(manager.email)
    assert email.subject == "Confirm Fav Test for Harbor Point Dental"
    assert "asked for Fav Test" in email.body and "a manager must confirm" in email.body
    assert f"/tasks/{task.pk}/" in email.body
    assert emails_to(favourite.email) == []


def test_escalation_emails_managers_the_conflict(
    frozen_now, slack, skilled, manager, client_co, queued
):
    busy = skilled("busy", "bookkeeping", manager=manager)
    load_up(busy, "40")
    task = bookkeeping_task(client_co)

    decision = assign(task, queued)
    queued.send()

    assert decision.outcome == DecisionOutcome.ESCALATED
    [email] = emails_to(manager.email)
    assert email.subject == "Nobody fits: Harbor Point Dental — Monthly bookkeeping"
    assert "Busy Test" in email.body and "Gap to the deadline" in email.body
