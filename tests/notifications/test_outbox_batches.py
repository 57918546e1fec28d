"""An event's notifications: stored with one INSERT whatever repeats among them, and
published together (one message for the rows due at the same time)."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications import channels
from notifications.choices import Channel, NotificationStatus, NotificationTemplate, SubjectType
from notifications.models import Notification
from notifications.services import (
    SEND_BATCH_TASK,
    SEND_TASK,
    Delivery,
    Message,
    notifications_send,
    notify_all,
)

pytestmark = pytest.mark.django_db


def message(subject_id: int = 1, step: int = 0) -> Message:
    return Message(
        subject_type=SubjectType.ESCALATION,
        subject_id=subject_id,
        template=NotificationTemplate.ESCALATION_OPENED,
        subject="Nobody fits",
        context={"firm_name": "Firm", "task": None},
        step=step,
    )


def test_a_repeat_among_new_rows_is_skipped_and_the_rest_are_stored(
    broker, django_assert_num_queries, django_capture_on_commit_callbacks
):
    notify_all([Delivery(message(), emails=("ann@example.com",))])
    broker.messages.clear()

    with django_capture_on_commit_callbacks(execute=True):
        with django_assert_num_queries(1):  # one INSERT, no savepoint
            created = notify_all(
                [
                    Delivery(message(), emails=("ann@example.com", "ben@example.com")),
                    Delivery(message(subject_id=2), emails=("cal@example.com",), countdown=60),
                ]
            )

    assert sorted(n.recipient for n in created) == ["ben@example.com", "cal@example.com"]
    assert Notification.objects.count() == 3
    assert all(n.pk for n in created)


def test_rows_due_together_go_out_in_one_message(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = notify_all(
            [
                Delivery(message(), emails=("ann@example.com", "ben@example.com")),
                Delivery(message(subject_id=2), emails=("cal@example.com",), countdown=60),
            ]
        )
    by_recipient = {n.recipient: n.pk for n in created}

    assert sorted(broker.messages, key=lambda m: m[0]) == [
        (SEND_TASK, (by_recipient["cal@example.com"],), 60),
        (
            SEND_BATCH_TASK,
            ([by_recipient["ann@example.com"], by_recipient["ben@example.com"]],),
            None,
        ),
    ]


def test_a_batch_sends_each_row_and_schedules_its_own_retry(
    broker, monkeypatch, django_capture_on_commit_callbacks
):
    created = notify_all([Delivery(message(), emails=("ann@example.com", "ben@example.com"))])
    ann, ben = sorted(created, key=lambda n: n.recipient)

    def flaky(notification: Notification) -> None:
        if notification.recipient == "ann@example.com":
            raise channels.TransientSendError("timed out")
        channels.send_email(notification)

    monkeypatch.setitem(channels.SENDERS, Channel.EMAIL, flaky)
    broker.messages.clear()

    with django_capture_on_commit_callbacks(execute=True):  # a worker: no transaction
        notifications_send(notification_ids=[ann.pk, ben.pk])

    ann = Notification.objects.get(pk=ann.pk)
    ben = Notification.objects.get(pk=ben.pk)
    assert ben.status == NotificationStatus.SENT and len(mail.outbox) == 1
    assert ann.status == NotificationStatus.RETRYING
    assert [(name, args) for name, args, _ in broker.messages] == [(SEND_TASK, (ann.pk,))]
