"""What the client hears while documents are outstanding: the request on entering
documents_requested, reminders at 3, 7 and 14 days (each once, none once the
checklist is complete), and the reviewer's clarification requests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core import mail

from config.celery import app as celery_app
from engagements.choices import Milestone
from engagements.messages import notify_clarification_request, notify_document_request
from engagements.milestones import engagement_transition
from engagements.models import Engagement, EngagementMilestone, MilestoneSource, WorkType
from engagements.reminders import document_reminders_run
from engagements.review import review_exception_raise, review_exception_resolve
from engagements.services import engagement_create, required_document_receive
from engagements.tasks import document_reminders_run_task
from engagements.uploads import read_upload_token
from notifications.choices import NotificationStatus, NotificationTemplate
from notifications.models import Notification
from tests.dispatch.builders import FROZEN_NOW, emails_to, html_of

pytestmark = pytest.mark.django_db

REQUESTED = FROZEN_NOW  # when the engagement entered documents_requested


def stored(template: str) -> list[int]:
    """The subjects that have a stored (outbox) notification of ``template``."""
    return list(
        Notification.objects.filter(template=template)
        .order_by("pk")
        .values_list("subject_id", flat=True)
    )


@pytest.fixture
def engagement(client_co, queued) -> Engagement:
    """Monthly bookkeeping waiting for bank and card statements, requested at REQUESTED."""
    with queued.capture(execute=True):
        engagement = engagement_create(
            client=client_co,
            work_type=WorkType.objects.get(code="monthly_bookkeeping"),
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            due_date=date(2026, 12, 15),
        )
    EngagementMilestone.objects.filter(
        engagement=engagement, milestone=Milestone.DOCUMENTS_REQUESTED
    ).update(reached_at=REQUESTED)
    return engagement


def run(queued, at: datetime) -> dict[int, int]:
    with queued.capture(execute=True):
        return document_reminders_run(now=at)


def reminder_keys(engagement: Engagement) -> list[tuple[str, int, int, str, str]]:
    return sorted(
        Notification.objects.filter(template=NotificationTemplate.DOCUMENT_REMINDER).values_list(
            "subject_type", "subject_id", "step", "channel", "recipient"
        )
    )


def receive_all(engagement: Engagement, queued) -> None:
    with queued.capture(execute=True):
        for document in engagement.required_documents.all():
            required_document_receive(document_id=document.pk)


def link_in(body: str, site_url: str) -> str:
    return next(line.strip() for line in body.splitlines() if line.startswith(site_url))


# --- The request ------------------------------------------------------------------


def test_entering_documents_requested_emails_the_checklist_and_upload_link(
    client_co, queued, settings, client
):
    settings.SITE_URL = "https://closeloop.example"
    with queued.capture(execute=True):
        engagement = engagement_create(
            client=client_co,
            work_type=WorkType.objects.get(code="monthly_bookkeeping"),
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            due_date=date(2026, 12, 15),
        )
        notify_document_request(engagement=engagement)  # a repeat stores nothing new
    assert stored(NotificationTemplate.DOCUMENT_REQUEST) == [engagement.pk]
    statuses = queued.send()

    [message] = emails_to(client_co.email)
    assert list(statuses.values()) == [NotificationStatus.SENT]
    assert message.subject == "Please send your documents: Monthly bookkeeping (Nov 2026)"
    assert "  - Bank statements\n  - Credit card statements\n" in message.body
    assert "the link works for 30 days" in message.body
    url = link_in(message.body, settings.SITE_URL)
    assert url in html_of(message)
    assert read_upload_token(url.rstrip("/").rsplit("/", 1)[1]) == engagement.pk
    page = client.get(url.removeprefix(settings.SITE_URL))
    assert page.status_code == 200 and "Bank statements" in page.content.decode()
    notification = Notification.objects.get()
    assert (notification.subject_type, notification.subject_id, notification.step) == (
        "engagement",
        engagement.pk,
        0,
    )
    assert message.extra_headers["Message-ID"] == notification.message_id


def test_other_milestones_send_no_request(engagement, queued):
    receive_all(engagement, queued)  # enters documents_received

    engagement.refresh_from_db()
    assert engagement.milestone == Milestone.DOCUMENTS_RECEIVED
    assert stored(NotificationTemplate.DOCUMENT_REQUEST) == [engagement.pk]  # the first step's


def test_request_is_not_stored_once_the_checklist_is_already_complete(engagement, queued):
    Notification.objects.all().delete()
    receive_all(engagement, queued)

    with queued.capture(execute=True):
        notify_document_request(engagement=engagement)

    assert not Notification.objects.exists()


def test_request_waiting_to_send_is_skipped_when_the_checklist_completes(engagement, queued):
    receive_all(engagement, queued)

    assert list(queued.send().values()) == [NotificationStatus.SKIPPED]
    assert mail.outbox == []


# --- Reminders ----------------------------------------------------------------------


def test_reminders_go_out_at_3_7_and_14_days_each_exactly_once(engagement, queued):
    timeline = [
        (timedelta(days=2, hours=23), {1: 0, 2: 0, 3: 0}),
        (timedelta(days=3), {1: 1, 2: 0, 3: 0}),
        (timedelta(days=3, hours=1), {1: 0, 2: 0, 3: 0}),
        (timedelta(days=6, hours=23), {1: 0, 2: 0, 3: 0}),
        (timedelta(days=7), {1: 0, 2: 1, 3: 0}),
        (timedelta(days=7), {1: 0, 2: 0, 3: 0}),
        (timedelta(days=13, hours=23), {1: 0, 2: 0, 3: 0}),
        (timedelta(days=14), {1: 0, 2: 0, 3: 1}),
        (timedelta(days=14, hours=1), {1: 0, 2: 0, 3: 0}),
        (timedelta(days=45), {1: 0, 2: 0, 3: 0}),
    ]

    for elapsed, expected in timeline:
        assert run(queued, REQUESTED + elapsed) == expected, elapsed
    queued.send()

    email = engagement.client.email
    assert reminder_keys(engagement) == [
        ("engagement", engagement.pk, n, "email", email) for n in (1, 2, 3)
    ]
    subjects = [message.subject for message in emails_to(email) if "eminder" in message.subject]
    assert subjects == [
        "Reminder: documents still needed for your Monthly bookkeeping (Nov 2026)",
        "Reminder: documents still needed for your Monthly bookkeeping (Nov 2026)",
        "Final reminder: documents still needed for your Monthly bookkeeping (Nov 2026)",
    ]
    first = [m for m in emails_to(email) if "eminder" in m.subject][0]
    assert "asked on November 17" in first.body
    assert "/uploads/" in first.body and "  - Bank statements" in first.body


def test_reminder_lists_only_what_is_still_outstanding(engagement, queued):
    bank = engagement.required_documents.get(name="Bank statements")
    with queued.capture(execute=True):
        required_document_receive(document_id=bank.pk)

    run(queued, REQUESTED + timedelta(days=3))
    queued.send()

    [message] = [m for m in emails_to(engagement.client.email) if "eminder" in m.subject]
    assert "  - Credit card statements" in message.body
    assert "Bank statements" not in message.body


def test_engagement_found_late_gets_only_the_latest_reminder_due(engagement, queued):
    assert run(queued, REQUESTED + timedelta(days=10)) == {1: 0, 2: 1, 3: 0}
    assert run(queued, REQUESTED + timedelta(days=11)) == {1: 0, 2: 0, 3: 0}


def test_no_reminders_once_the_checklist_is_complete(engagement, queued):
    run(queued, REQUESTED + timedelta(days=3))
    receive_all(engagement, queued)

    assert run(queued, REQUESTED + timedelta(days=7)) == {1: 0, 2: 0, 3: 0}
    assert run(queued, REQUESTED + timedelta(days=14)) == {1: 0, 2: 0, 3: 0}
    assert len(reminder_keys(engagement)) == 1


def test_queued_reminder_is_skipped_if_the_checklist_completes_before_it_sends(engagement, queued):
    run(queued, REQUESTED + timedelta(days=3))
    receive_all(engagement, queued)

    statuses = queued.send()

    reminder = Notification.objects.get(template=NotificationTemplate.DOCUMENT_REMINDER)
    assert statuses[reminder.pk] == NotificationStatus.SKIPPED
    assert not [m for m in mail.outbox if "eminder" in m.subject]


def test_no_reminders_without_a_client_email_or_past_documents_requested(engagement, queued):
    engagement.client.email = ""
    engagement.client.save(update_fields=["email"])

    assert run(queued, REQUESTED + timedelta(days=3)) == {1: 0, 2: 0, 3: 0}

    engagement.client.email = "books@harbor.example"
    engagement.client.save(update_fields=["email"])
    engagement_transition(
        engagement_id=engagement.pk, to=Milestone.DOCUMENTS_RECEIVED, source=MilestoneSource.BUTTON
    )
    assert run(queued, REQUESTED + timedelta(days=3)) == {1: 0, 2: 0, 3: 0}


def test_reminder_run_queries_stay_flat_as_engagements_grow(
    engagement, client_co, queued, django_assert_max_num_queries
):
    for _ in range(5):
        with queued.capture(execute=True):
            other = engagement_create(
                client=client_co,
                work_type=WorkType.objects.get(code="monthly_bookkeeping"),
                period_start=date(2026, 11, 1),
                period_end=date(2026, 11, 30),
                due_date=date(2026, 12, 15),
            )
        EngagementMilestone.objects.filter(engagement=other).update(reached_at=REQUESTED)
    run(queued, REQUESTED + timedelta(days=3))

    with django_assert_max_num_queries(3):  # one per reminder number; nothing left to send
        assert run(queued, REQUESTED + timedelta(days=3, hours=1)) == {1: 0, 2: 0, 3: 0}
    assert len(reminder_keys(engagement)) == 6


def test_beat_runs_reminders_hourly_with_expiry_and_a_lock(engagement, queued, settings):
    entry = celery_app.conf.beat_schedule["hourly-engagements-document-reminders"]
    assert entry["task"] == "engagements.tasks.document_reminders_run_task"
    assert entry["schedule"] == 3600
    assert 0 < entry["options"]["expires"] < 3600

    from django.core.cache import cache

    before = Notification.objects.count()
    cache.add("engagements:document-reminder-lock", "1")  # a run already in progress
    document_reminders_run_task()
    cache.delete("engagements:document-reminder-lock")
    assert Notification.objects.count() == before


# --- Clarification requests ------------------------------------------------------------


@pytest.fixture
def in_review(client_co, queued) -> Engagement:
    """A month-end close (bookkeeping has no review step) moved on into review."""
    with queued.capture(execute=True):
        engagement = engagement_create(
            client=client_co,
            work_type=WorkType.objects.get(code="month_end_close"),
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            due_date=date(2026, 12, 15),
        )
        engagement_transition(
            engagement_id=engagement.pk, to=Milestone.IN_REVIEW, source=MilestoneSource.SYSTEM
        )
    return engagement


def test_raised_exception_emails_the_client_the_note_and_upload_link(
    in_review, queued, manager, settings
):
    settings.SITE_URL = "https://closeloop.example"
    with queued.capture(execute=True):
        exception = review_exception_raise(
            engagement_id=in_review.pk,
            note="The November bank statement ends at $4,210 but the ledger shows $4,120.",
            actor=manager.user,
        )
        notify_clarification_request(exception=exception)  # a repeat stores nothing new
    assert stored(NotificationTemplate.CLARIFICATION_REQUEST) == [exception.pk]
    queued.send()

    [message] = [m for m in emails_to(in_review.client.email) if "question" in m.subject]
    assert message.subject == "A question about your Month-end close (Nov 2026)"
    assert "ends at $4,210 but the ledger shows $4,120." in message.body
    assert "ends at $4,210" in html_of(message)
    url = link_in(message.body, settings.SITE_URL)
    assert read_upload_token(url.rstrip("/").rsplit("/", 1)[1]) == in_review.pk
    notification = Notification.objects.get(template=NotificationTemplate.CLARIFICATION_REQUEST)
    assert (notification.subject_type, notification.subject_id) == (
        "review_exception",
        exception.pk,
    )
    assert notification.task_id == exception.task_id


def test_clarification_resolved_before_sending_is_skipped(in_review, queued, manager):
    with queued.capture(execute=True):
        exception = review_exception_raise(
            engagement_id=in_review.pk, note="Which account is the $900 transfer to?", actor=None
        )
    review_exception_resolve(exception_id=exception.pk, resolution="Found it.", actor=None)
    clarification = Notification.objects.get(template=NotificationTemplate.CLARIFICATION_REQUEST)

    assert queued.send()[clarification.pk] == NotificationStatus.SKIPPED
    assert not [m for m in mail.outbox if "question" in m.subject]
