"""Two (or more) follow-up runs at once on PostgreSQL: each touch is stored and sent
once, however the runs interleave; the unique constraint is the proof of "at most once"
underneath the row locks."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from billing import followups
from billing.models import FollowUpTouch
from notifications.choices import Channel, NotificationTemplate
from notifications.models import Notification
from tests.billing.test_followups import DUE, client_with, issue
from tests.conftest import require_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUNS = 4
CLIENTS = 6


def test_concurrent_runs_send_each_touch_once(
    transactional_db, django_db_serialized_rollback, partner, broker, settings
):
    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL (DATABASE_URL): SQLite serialises writers, so this proves nothing there",
    )
    settings.TWILIO_ACCOUNT_SID = ""  # email only: one notification per client
    invoices = [issue(partner, client=client_with(mobile="")) for _ in range(CLIENTS)]
    start = threading.Barrier(RUNS)

    def run() -> int:
        try:
            start.wait(timeout=30)
            # Small batches, so the runs interleave over several transactions.
            return followups.followups_run(today=DUE + timedelta(days=1), client_batch=2).touches
        finally:
            close_old_connections()
            connection.close()

    with ThreadPoolExecutor(max_workers=RUNS) as pool:
        touched = list(pool.map(lambda _: run(), range(RUNS)))

    assert sum(touched) == CLIENTS
    assert FollowUpTouch.objects.count() == CLIENTS
    assert sorted(FollowUpTouch.objects.values_list("invoice_id", flat=True)) == sorted(
        i.pk for i in invoices
    )
    emails = Notification.objects.filter(
        template=NotificationTemplate.FOLLOWUP_TOUCH, channel=Channel.EMAIL
    )
    assert emails.count() == CLIENTS


def test_the_database_refuses_a_second_touch_for_the_same_step(
    transactional_db, django_db_serialized_rollback, partner, broker
):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL)")
    invoice = issue(partner)
    followups.followups_run(today=DUE + timedelta(days=1))
    touch = FollowUpTouch.objects.get(invoice=invoice)
    touch.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        touch.save()
