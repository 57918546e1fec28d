"""Fixtures for the API and webhook tests: a token per persona and a small firm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing.choices import InvoiceOrigin, LineKind
from billing.invoices import invoice_approve, invoice_recompute
from billing.models import Invoice, InvoiceLine, Payment, TimeEntry
from billing.payments import payment_record
from billing.services import time_entry_create
from clients.models import Client
from dispatch.choices import DecisionOutcome, EscalationStatus, Trigger
from dispatch.models import DispatchDecision, Escalation
from engagements.choices import TaskStatus
from engagements.models import Engagement, Task
from integrations.services import api_token_create
from notifications.models import WebhookAllowedHost, WebhookSubscription
from notifications.webhooks import new_secret
from staff.models import StaffMember
from tests.billing.stripe_server import fake_stripe  # noqa: F401  (fixture: a stand-in Stripe)
from tests.factories import EngagementFactory, TaskFactory
from tests.integrations.vendor_server import vendor_server  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def token_client(member: StaffMember | None) -> APIClient:
    client = APIClient()
    if member is not None:
        _, plain = api_token_create(user=member.user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


@pytest.fixture
def api_as(db):
    return token_client


@dataclass
class World:
    alice: StaffMember
    bob: StaffMember
    manager: StaffMember
    partner: StaffMember
    admin: StaffMember
    alice_task: Task
    bob_task: Task
    engagement: Engagement
    escalation: Escalation
    subscription: WebhookSubscription
    time_entry: TimeEntry  # Alice's draft, on her task
    draft_invoice: Invoice  # awaiting a partner
    issued_invoice: Invoice  # sent, $10.00 of it paid
    payment: Payment


def in_a_week() -> date:
    return timezone.localdate() + timedelta(days=7)


@pytest.fixture
def world(alice, bob, manager, partner, firm_admin, broker) -> World:
    """Alice holds an assigned task, Bob another; an escalation lists Alice as qualified."""
    due = in_a_week()
    engagement = EngagementFactory(due_date=due)
    alice_task = TaskFactory(
        engagement=engagement, assignee=alice, status=TaskStatus.ASSIGNED, due_date=due
    )
    bob_task = TaskFactory(
        engagement=EngagementFactory(due_date=due),
        assignee=bob,
        status=TaskStatus.ASSIGNED,
        due_date=due,
    )
    waiting = TaskFactory(engagement=EngagementFactory(due_date=due), due_date=due)
    decision = DispatchDecision.objects.create(
        task=waiting,
        trigger=Trigger.DEADLINE_PROXIMITY,
        outcome=DecisionOutcome.ESCALATED,
        candidates=[
            {
                "staff_id": alice.pk,
                "name": "Alice Associate",
                "qualified": True,
                "utilization": 0.9,
                "threshold": 0.8,
                "reason": "over threshold",
            }
        ],
    )
    escalation = Escalation.objects.create(
        task=waiting, decision=decision, summary="Nobody has room.", status=EscalationStatus.OPEN
    )
    WebhookAllowedHost.objects.create(host="127.0.0.1")
    subscription = WebhookSubscription.objects.create(
        name="Firm script",
        url="http://127.0.0.1:9/hook",
        secret=new_secret(),
        event_types=["task.accepted"],
    )
    time_entry = time_entry_create(
        staff=alice,
        client=engagement.client,
        task=alice_task,
        day=timezone.localdate(),
        hours=Decimal("1.50"),
        description="Bank reconciliation",
    )
    draft_invoice = _invoice(engagement.client)
    issued_invoice = invoice_approve(
        invoice_id=_invoice(engagement.client).pk, user=partner.user
    ).invoice
    payment = payment_record(
        invoice_id=issued_invoice.pk, amount=Decimal("10.00"), received_on=timezone.localdate()
    ).payment
    return World(
        time_entry=time_entry,
        draft_invoice=draft_invoice,
        issued_invoice=issued_invoice,
        payment=payment,
        subscription=subscription,
        alice=alice,
        bob=bob,
        manager=manager,
        partner=partner,
        admin=firm_admin,
        alice_task=alice_task,
        bob_task=bob_task,
        engagement=engagement,
        escalation=escalation,
    )


def _invoice(client: Client) -> Invoice:
    invoice = Invoice.objects.create(client=client, origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="Monthly bookkeeping",
        quantity=Decimal("1"),
        unit_price=Decimal("500.00"),
        amount=Decimal("500.00"),
        position=1,
    )
    return invoice_recompute(invoice)
