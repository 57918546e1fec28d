"""Processing stored events: thin notifications fetched from the vendor's API, applied
through the same services as the buttons, at most once, in any order of arrival."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from clients.models import ClientExternalId
from engagements.choices import EngagementSource, TaskRole
from engagements.models import Engagement, MilestoneTransition, WorkType
from integrations.choices import EventStatus, Source
from integrations.inbox import (
    DRAIN_TASK,
    PROCESS_TASK,
    inbound_event_process,
    inbound_event_replay,
    inbound_events_drain,
    inbound_events_requeue,
)
from integrations.models import InboundEvent, StatusMapping, WorkTypeMapping
from tests.factories import ClientFactory
from tests.integrations.webhook_helpers import deliver, generic_event, make_integration, payload

pytestmark = pytest.mark.django_db


def process_all() -> dict[str, str]:
    return {
        e.event_type + ":" + e.event_id: inbound_event_process(event_id=e.pk)
        for e in InboundEvent.objects.order_by("pk")
    }


def drain(**kwargs) -> dict[int, str]:
    """What the worker does when a delivery asked for a drain (publishing recorded by
    the ``broker`` fixture)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return inbound_events_drain(**kwargs)


@pytest.fixture
def karbon(vendor_server):
    integration = make_integration(
        Source.KARBON, api_base_url=vendor_server.url, api_token="tok", api_key="access"
    )
    item = json.loads(payload("karbon_work_item_get_response.json"))
    item["WorkItemKey"] = "kCsVf7svWQw"
    item["DueDate"] = (timezone.localdate() + timedelta(days=20)).isoformat() + "T00:00:00Z"
    vendor_server.serve("/v3/WorkItems/kCsVf7svWQw", item)
    WorkTypeMapping.objects.create(
        integration=integration,
        external_type="Payroll",
        work_type=WorkType.objects.get(code="payroll"),
    )
    return integration


def test_karbon_status_change_fetches_the_work_item_and_opens_the_engagement(
    broker, karbon, vendor_server
):
    client = ClientFactory(name="Acme Corporation")
    ClientExternalId.objects.create(client=client, source=Source.KARBON, external_id="4ncPZ7q96SGc")
    deliver(karbon, payload("karbon_work_item_status_changed.json"))

    assert process_all() == {
        "work.updated:" + InboundEvent.objects.get().event_id: EventStatus.APPLIED
    }

    engagement = Engagement.objects.get(source=EngagementSource.KARBON, external_id="kCsVf7svWQw")
    assert engagement.client == client and engagement.work_type.code == "payroll"
    assert engagement.name == "Payroll 31 Aug - 15 Sep 2022"
    preparer = engagement.tasks.get(role=TaskRole.PREPARER)
    assert preparer.dispatch_requested_at is not None  # dispatch owed, as the button does
    event = InboundEvent.objects.get()
    assert event.engagement == engagement and event.fetched["WorkItemKey"] == "kCsVf7svWQw"
    path, headers = vendor_server.requests[0]
    assert path == "/v3/WorkItems/kCsVf7svWQw"
    assert headers["Authorization"] == "Bearer tok" and headers["AccessKey"] == "access"


def test_an_unknown_client_is_an_exception_until_mapped_then_replay_applies_it(broker, karbon):
    deliver(karbon, payload("karbon_work_item_status_changed.json"))
    event = InboundEvent.objects.get()

    assert inbound_event_process(event_id=event.pk) == EventStatus.EXCEPTION
    event.refresh_from_db()
    assert "4ncPZ7q96SGc" in event.detail and not Engagement.objects.exists()

    ClientExternalId.objects.create(
        client=ClientFactory(), source=Source.KARBON, external_id="4ncPZ7q96SGc"
    )
    assert inbound_event_replay(event_id=event.pk)
    assert inbound_event_process(event_id=event.pk) == EventStatus.APPLIED
    assert Engagement.objects.count() == 1


def test_processing_twice_applies_once(broker, karbon):
    ClientExternalId.objects.create(
        client=ClientFactory(), source=Source.KARBON, external_id="4ncPZ7q96SGc"
    )
    deliver(karbon, payload("karbon_work_item_status_changed.json"))
    event = InboundEvent.objects.get()

    first = inbound_event_process(event_id=event.pk)
    second = inbound_event_process(event_id=event.pk)

    assert first == second == EventStatus.APPLIED
    assert Engagement.objects.count() == 1
    assert InboundEvent.objects.get().attempts == 1


@pytest.fixture
def taxdome(db):
    integration = make_integration(Source.TAXDOME)
    ClientExternalId.objects.create(
        client=ClientFactory(), source=Source.TAXDOME, external_id="C-1"
    )
    for status, milestone in (("Preparing", "in_preparation"), ("Reviewing", "in_review")):
        StatusMapping.objects.create(
            integration=integration, external_status=status, milestone=milestone
        )
    return integration


def test_out_of_order_status_changes_converge_on_the_newest(broker, taxdome):
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    newer = generic_event(
        "e-2",
        "job.status_changed",
        status="Reviewing",
        due_date=due,
        updated_at="2026-11-20T12:00:00Z",
    )
    older = generic_event(
        "e-1",
        "job.status_changed",
        status="Preparing",
        due_date=due,
        updated_at="2026-11-20T09:00:00Z",
    )
    deliver(taxdome, newer)
    deliver(taxdome, older)

    statuses = process_all()

    assert set(statuses.values()) == {EventStatus.APPLIED}
    engagement = Engagement.objects.get(source=EngagementSource.TAXDOME, external_id="J-1")
    assert engagement.milestone == "in_review"
    assert not MilestoneTransition.objects.filter(
        engagement=engagement, to_milestone="in_preparation", source="system"
    ).exists()
    assert "Older" in InboundEvent.objects.get(event_id="e-1").detail


def test_a_status_change_moves_the_milestone_through_the_state_machine(broker, taxdome):
    due = (timezone.localdate() + timedelta(days=30)).isoformat()
    deliver(taxdome, generic_event("e-1", due_date=due))
    deliver(
        taxdome,
        generic_event(
            "e-2",
            "job.status_changed",
            status="Preparing",
            due_date=due,
            updated_at="2026-11-21T09:00:00Z",
        ),
    )

    process_all()

    engagement = Engagement.objects.get()
    assert engagement.milestone == "in_preparation"
    assert engagement.transitions.filter(to_milestone="in_preparation", source="webhook").exists()


def test_an_unmapped_work_type_is_an_exception_in_words(broker, taxdome):
    deliver(taxdome, generic_event("e-1", work_type="Estate planning"))

    process_all()

    event = InboundEvent.objects.get()
    assert event.status == EventStatus.EXCEPTION and "Estate planning" in event.detail


def test_accounting_events_other_than_payments_are_stored_and_ignored(broker, vendor_server):
    qbo = make_integration(Source.QBO, api_base_url=vendor_server.url, api_token="qbo-token")
    vendor_server.serve(
        "/v3/company/310687/payment/77?minorversion=75",
        {"Payment": {"Id": "77", "TotalAmt": 120.0}},  # unapplied: a credit, no invoice
    )
    batch = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "p-1",
                "type": "qbo.payment.created.v1",
                "intuitentityid": "77",
                "intuitaccountid": "310687",
            },
            {
                "specversion": "1.0",
                "id": "c-1",
                "type": "qbo.customer.created.v1",
                "intuitentityid": "5",
            },
        ]
    ).encode()
    deliver(qbo, batch)
    stripe = make_integration(Source.STRIPE)
    deliver(stripe, payload("stripe_event_envelope_openapi_fixture.json"))

    process_all()

    payment = InboundEvent.objects.get(event_id="p-1")
    assert payment.status == EventStatus.IGNORED and "pays no invoice" in payment.detail
    assert InboundEvent.objects.get(event_id="c-1").status == EventStatus.IGNORED
    assert InboundEvent.objects.get(integration=stripe).status == EventStatus.IGNORED


def test_xero_invoice_event_fetches_the_invoice_for_the_tenant(broker, vendor_server):
    xero = make_integration(Source.XERO, api_base_url=vendor_server.url, api_token="xero-token")
    vendor_server.serve(
        "/api.xro/2.0/Invoices/717f2bfc-c6d4-41fd-b238-3f2f0c0cf777",
        {"Invoices": [{"Type": "ACCREC", "InvoiceNumber": "INV-1", "Status": "AUTHORISED"}]},
    )
    deliver(xero, payload("xero_invoice_webhook.json"))

    process_all()

    event = InboundEvent.objects.get()
    assert event.status == EventStatus.IGNORED and "no payments yet" in event.detail
    assert vendor_server.requests[0][1]["xero-tenant-id"] == "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"


def test_a_rate_limited_vendor_means_retry_later_then_it_applies(broker, karbon, vendor_server):
    ClientExternalId.objects.create(
        client=ClientFactory(), source=Source.KARBON, external_id="4ncPZ7q96SGc"
    )
    item = vendor_server.routes["/v3/WorkItems/kCsVf7svWQw"][1]
    vendor_server.serve("/v3/WorkItems/kCsVf7svWQw", {}, status=429, headers={"Retry-After": "120"})
    deliver(karbon, payload("karbon_work_item_status_changed.json"))
    event = InboundEvent.objects.get()

    assert inbound_event_process(event_id=event.pk) == EventStatus.RETRYING
    event.refresh_from_db()
    assert event.next_attempt_at >= timezone.now() + timedelta(seconds=110)
    assert (
        inbound_event_process(event_id=event.pk) == EventStatus.RETRYING
    )  # not due yet: untouched

    vendor_server.serve("/v3/WorkItems/kCsVf7svWQw", item)
    InboundEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert inbound_events_requeue() == 1
    assert broker.named(PROCESS_TASK)[-1] == (event.pk,)
    assert inbound_event_process(event_id=event.pk) == EventStatus.APPLIED


def test_our_own_rate_limit_per_integration_holds_calls_back(broker, karbon, vendor_server):
    ClientExternalId.objects.create(
        client=ClientFactory(), source=Source.KARBON, external_id="4ncPZ7q96SGc"
    )
    karbon.api_requests_per_minute = 1
    karbon.save()
    first = json.dumps(
        {
            "ResourcePermaKey": "kCsVf7svWQw",
            "ResourceType": "Work",
            "ActionType": "Updated",
            "TimeStamp": "2026-11-20T10:00:00Z",
        }
    ).encode()
    second = json.dumps(
        {
            "ResourcePermaKey": "kCsVf7svWQw",
            "ResourceType": "Work",
            "ActionType": "Updated",
            "TimeStamp": "2026-11-20T10:05:00Z",
        }
    ).encode()
    deliver(karbon, first)
    deliver(karbon, second)

    statuses = sorted(process_all().values())

    assert statuses == [EventStatus.APPLIED, EventStatus.RETRYING]
    assert len(vendor_server.requests) == 1


def test_unknown_event_types_are_stored_and_ignored(broker, taxdome):
    deliver(taxdome, json.dumps({"id": "x-1", "type": "invoice.sent", "data": {}}).encode())

    process_all()

    assert InboundEvent.objects.get().status == EventStatus.IGNORED


def test_pending_events_the_broker_lost_are_published_again(broker, taxdome, settings):
    deliver(taxdome, generic_event("e-1"))
    event = InboundEvent.objects.get()
    broker.messages.clear()

    assert inbound_events_requeue() == 0  # too young: its own message may still come
    InboundEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert inbound_events_requeue() == 1
    assert broker.named(PROCESS_TASK) == [(event.pk,)]


def note(event_id: str) -> bytes:
    """An event type Closeloop stores and ignores."""
    return json.dumps({"id": event_id, "type": "invoice.sent", "data": {}}).encode()


def test_deliveries_ask_for_one_drain_which_applies_every_pending_event_once(broker, taxdome):
    for n in range(3):
        assert deliver(taxdome, note(f"e-{n}")).status_code == 200

    # One broker message while no drain has started, not one per delivery or event.
    assert broker.named(DRAIN_TASK) == [()]
    assert broker.named(PROCESS_TASK) == []
    stored = list(InboundEvent.objects.order_by("pk").values_list("pk", flat=True))
    assert drain() == dict.fromkeys(stored, EventStatus.IGNORED)
    assert drain() == {}  # nothing is applied twice

    # That drain started: the next delivery asks for another.
    deliver(taxdome, note("e-3"))
    assert broker.named(DRAIN_TASK) == [(), ()]
    assert list(drain().values()) == [EventStatus.IGNORED]


def test_a_drain_ask_the_broker_missed_is_asked_again_by_the_next_delivery(broker, taxdome):
    broker.down = True
    assert deliver(taxdome, note("lost-ask")).status_code == 200  # stored all the same

    broker.down = False
    deliver(taxdome, note("next"))

    assert broker.named(DRAIN_TASK) == [()]
    assert len(drain()) == 2


def test_a_drain_out_of_time_hands_its_worker_back_and_asks_for_another_turn(broker, taxdome):
    deliver(taxdome, note("e-1"))
    deliver(taxdome, note("e-2"))
    broker.messages.clear()

    assert drain(seconds=0) == {}

    assert broker.named(DRAIN_TASK) == [()]
    assert InboundEvent.objects.filter(status=EventStatus.PENDING).count() == 2
    assert len(drain()) == 2


def test_an_event_to_retry_within_a_minute_goes_from_the_drain_to_the_broker(
    broker, karbon, vendor_server
):
    ClientExternalId.objects.create(
        client=ClientFactory(), source=Source.KARBON, external_id="4ncPZ7q96SGc"
    )
    vendor_server.serve("/v3/WorkItems/kCsVf7svWQw", {}, status=503)
    deliver(karbon, payload("karbon_work_item_status_changed.json"))
    event = InboundEvent.objects.get()

    assert drain() == {event.pk: EventStatus.RETRYING}

    [(args, countdown)] = [(a, c) for name, a, c in broker.messages if name == PROCESS_TASK]
    assert args == (event.pk,)
    assert 20 <= countdown <= 30  # the first retry's 30 s, less the time the drain took


@pytest.mark.django_db(transaction=True)
def test_a_drain_applies_each_event_in_its_own_transaction(broker, taxdome, monkeypatch):
    """Not the whole drain in one: a vendor fetch happens outside any transaction,
    and each applied event commits (its dispatch published) before the next starts."""
    from django.db import connection

    from integrations import inbox

    deliver(taxdome, note("e-1"))
    deliver(taxdome, note("e-2"))
    seen: list[bool] = []
    process = inbox.inbound_event_process

    def watched(*, event_id: int) -> str:
        seen.append(connection.in_atomic_block)
        return process(event_id=event_id)

    monkeypatch.setattr(inbox, "inbound_event_process", watched)

    assert len(drain()) == 2
    assert seen == [False, False]
