"""core.bulk: many rows in one statement, from plain tuples, on both databases."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.choices import InvoiceOrigin, InvoiceStatus
from billing.models import FollowUpMessage, FollowUpSequence, FollowUpState, Invoice
from core.bulk import insert_values, insert_with_children, reserve_ids, update_from_values
from integrations.choices import EventStatus, Verdict
from integrations.models import InboundEvent, InboundRequest, Integration
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _invoices(count: int) -> list[Invoice]:
    client = ClientFactory()
    return [
        Invoice.objects.create(
            client=client,
            origin=InvoiceOrigin.MANUAL,
            status=InvoiceStatus.ISSUED,
            number=f"T-{n}",
            total=Decimal("100.00"),
            issued_on=date(2026, 10, 2),
            due_on=date(2026, 11, 1),
        )
        for n in range(count)
    ]


def test_insert_skips_what_a_unique_constraint_refuses_and_returns_the_rest():
    invoices = _invoices(3)
    sequence = FollowUpSequence.objects.get(kind="standard", is_default=True)
    fields = ["invoice_id", "client_id", "sequence_id", "anchor_on", "next_touch_on"]
    first = [(i.pk, i.client_id, sequence.pk, i.due_on, None) for i in invoices[:2]]
    assert len(insert_values(FollowUpState, fields, first, returning=["id"])) == 2
    again = [(i.pk, i.client_id, sequence.pk, date(2026, 12, 1), None) for i in invoices]
    stored = insert_values(
        FollowUpState, fields, again, ignore_conflicts=True, returning=["invoice_id"]
    )
    assert stored == [(invoices[2].pk,)]  # one state per invoice: the two kept theirs
    states = {s.invoice_id: s for s in FollowUpState.objects.all()}
    assert states[invoices[0].pk].anchor_on == date(2026, 11, 1)
    # Fields not named get their model defaults.
    assert states[invoices[2].pk].cycle == 1 and states[invoices[2].pk].paused == ""


def test_a_parent_and_its_children_go_in_together_skipping_children_seen_before(
    django_assert_max_num_queries,
):
    integration = Integration.objects.create(slug="t", source="taxdome", name="T", secret="s")
    now = timezone.now()

    def store(*event_ids: str) -> tuple[int, int]:
        return insert_with_children(
            InboundRequest,
            ["integration", "endpoint", "received_at", "verdict", "status_code", "headers"]
            + ["body", "body_size", "event_count"],
            (
                integration.pk,
                "/webhooks/t/",
                now,
                Verdict.ACCEPTED,
                200,
                {"A": "b"},
                b"\x00{}",
                3,
                2,
            ),
            InboundEvent,
            "request",
            ["integration", "event_id", "event_type", "payload", "received_at"],
            [(integration.pk, e, "job.created", {"id": e}, now) for e in event_ids],
        )

    # One statement on PostgreSQL; two inserts in a transaction elsewhere.
    with django_assert_max_num_queries(1 if connection.vendor == "postgresql" else 4):
        first, stored = store("e1", "e2", "e1")  # the same event twice in one request
    assert stored == 2
    second, stored_again = store("e2", "e3")
    assert second != first and stored_again == 1
    request = InboundRequest.objects.get(pk=first)
    assert bytes(request.body) == b"\x00{}" and request.headers == {"A": "b"}
    events = {e.event_id: e for e in InboundEvent.objects.all()}
    assert {k: e.request_id for k, e in events.items()} == {"e1": first, "e2": first, "e3": second}
    # Fields not named get their model defaults.
    assert events["e3"].status == EventStatus.PENDING and events["e3"].attempts == 0
    assert events["e3"].payload == {"id": "e3"}
    # One child (the usual webhook) goes in as plain values; seen before, it is skipped.
    assert store("e4")[1] == 1 and store("e4")[1] == 0
    assert InboundEvent.objects.get(event_id="e4").payload == {"id": "e4"}
    # A request without children is stored on its own.
    assert store()[1] == 0 and InboundRequest.objects.count() == 5


def test_update_writes_each_row_its_own_values():
    invoices = _invoices(3)
    sequence = FollowUpSequence.objects.get(kind="standard", is_default=True)
    rows = insert_values(
        FollowUpState,
        ["invoice_id", "client_id", "sequence_id", "anchor_on"],
        [(i.pk, i.client_id, sequence.pk, i.due_on) for i in invoices],
        returning=["id", "invoice_id"],
    )
    wanted = {pk: (n + 2, date(2026, 11, 10 + n)) for n, (pk, _) in enumerate(sorted(rows))}
    done = update_from_values(
        FollowUpState,
        ["cycle", "next_touch_on"],
        [(pk, cycle, day) for pk, (cycle, day) in wanted.items()],
    )
    assert done == 3
    got = {s.pk: (s.cycle, s.next_touch_on) for s in FollowUpState.objects.all()}
    assert got == wanted


def test_reserved_ids_are_the_tables_own_on_postgresql():
    ids = reserve_ids(FollowUpMessage, 3)
    if connection.vendor != "postgresql":
        assert ids is None
        return
    assert ids is not None and len(set(ids)) == 3
    client = ClientFactory()
    step = FollowUpSequence.objects.get(kind="standard", is_default=True).steps.first()
    insert_values(
        FollowUpMessage,
        ["id", "client_id", "sent_on", "lead_step_id", "total"],
        [(ids[0], client.pk, date(2026, 12, 1), step.pk, Decimal("5.00"))],
    )
    made = FollowUpMessage.objects.create(
        client=client, sent_on=date(2026, 12, 1), lead_step=step, total=Decimal("1.00")
    )
    assert made.pk not in ids  # the sequence moved past the reserved ones


def test_text_with_tabs_newlines_and_backslashes_and_times_come_back_as_written():
    from django.utils import timezone

    from notifications.models import Notification

    when = timezone.now().replace(microsecond=123456)
    body = "Line one\twith a tab\nline two \\N not null, \\\\ a backslash, café, 5 % off"
    rows = insert_values(
        Notification,
        ["subject_type", "subject_id", "template", "channel", "recipient", "subject", "body"],
        [("followup", 7, "followup_touch", "email", "a@example.com", "Subject", body)],
        returning=["id"],
    )
    stored = Notification.objects.get(pk=rows[0][0])
    assert stored.body == body and stored.html_body == "" and stored.send_after is None
    assert stored.created_at >= when - timedelta(minutes=1)
