"""The world the generated guards run in (tests/test_authorization_matrix.py and
tests/test_bad_input.py): Alice's work, what managers act on, and a row of every
model the admin lists, so that every URL pattern resolves to something real.

Built by the ``world`` fixture (tests/conftest.py) from the personas there. A page
that needs an object the world lacks: add it here, and a field to ``World``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone

from billing.choices import CardFunding, InvoiceOrigin, LineKind, SurchargeOutcome
from billing.disputes import dispute_open
from billing.invoices import invoice_approve, invoice_recompute
from billing.models import (
    BillingTask,
    CardSurcharge,
    ClientBillingProfile,
    Dispute,
    Invoice,
    InvoiceLine,
    LateFeeCharge,
    RateOverride,
    TimeEntry,
)
from billing.payments import payment_record
from billing.services import time_entry_create
from capacity.models import PlanMove, PlanScenario, ScenarioKind
from clients.choices import ExternalSource
from clients.models import Client, ClientExternalId
from core.models import WorkerHeartbeat
from dispatch.choices import Checkpoint, DecisionOutcome, EscalationStatus, Trigger
from dispatch.engine.types import CandidateRow
from dispatch.models import CheckpointFiring, DispatchDecision, Escalation, ReassignmentRequest
from engagements.choices import Milestone, TaskRole, TaskStatus
from engagements.models import (
    DocumentUpload,
    Engagement,
    RecurringPlan,
    ReviewException,
    Task,
    WorkType,
)
from engagements.services import engagement_create
from integrations.choices import Source, Verdict
from integrations.models import InboundEvent, InboundRequest, Integration, StaffExternalId
from integrations.services import api_token_create
from notifications.choices import Channel, NotificationStatus, NotificationTemplate, SubjectType
from notifications.models import (
    Notification,
    TeamsWebhook,
    WebhookAllowedHost,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from notifications.webhooks import new_secret
from staff.models import SkillTag, StaffMember, WorkingPattern
from tests.factories import ClientFactory, StaffSkillFactory, TimeOffFactory


@dataclass
class World:
    """Alice's work, and what managers act on: enough for every pattern to resolve."""

    users: dict[str, User | None]
    engagement: Engagement
    task: Task  # Alice's preparer task, awaiting her acceptance
    decision: DispatchDecision  # the decision that gave it to her
    escalation: Escalation  # an open escalation on the engagement's review task
    review_exception: ReviewException
    notification: Notification  # a failed email to Alice
    proposal: PlanMove  # the rebalancing loop proposes moving Alice's task to Bob
    time_entry: TimeEntry | None = None  # Alice's draft time on her task
    draft_invoice: Invoice | None = None  # awaiting a partner
    issued_invoice: Invoice | None = None  # sent to the client
    working_pattern: WorkingPattern | None = None  # Alice's busy season, two months out
    dispute: Dispute | None = None  # an open dispute on a third, issued invoice
    billing_task: BillingTask | None = None  # the coordinator's review of that dispute
    upload: DocumentUpload | None = None  # a file the client sent for the engagement


def build_world(
    *,
    alice: StaffMember,
    bob: StaffMember,
    manager: StaffMember,
    partner: StaffMember,
    firm_admin: StaffMember,
) -> World:
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    engagement = engagement_create(  # last month's close: a row on the close board
        client=ClientFactory(name="Harbor Point Dental"),
        work_type=WorkType.objects.get(code="month_end_close"),
        period_start=last_month_end.replace(day=1),
        period_end=last_month_end,
        due_date=today + timedelta(days=21),
    )
    # In review, where a reviewer raises exceptions (and the client may still upload).
    Engagement.objects.filter(pk=engagement.pk).update(milestone=Milestone.IN_REVIEW)
    engagement.refresh_from_db()
    task = engagement.tasks.get(role=TaskRole.PREPARER)
    Task.objects.filter(pk=task.pk).update(
        assignee=alice, status=TaskStatus.ASSIGNED, assigned_at=timezone.now()
    )
    task.refresh_from_db()
    decision = DispatchDecision.objects.create(
        task=task,
        trigger=Trigger.ENGAGEMENT_CREATED,
        outcome=DecisionOutcome.NEEDS_CONFIRMATION,
        assignee=alice,
    )
    review = engagement.tasks.filter(role=TaskRole.REVIEWER).first() or Task.objects.create(
        engagement=engagement, role=TaskRole.REVIEWER, title="Review", due_date=date.today()
    )
    bob_over_threshold = CandidateRow(
        staff_id=bob.pk,
        name=str(bob),
        seniority=bob.seniority,
        utilization=0.7,
        utilization_after=0.9,
        threshold=0.8,
        available_before_deadline=4.0,
        familiarity=0,
        qualified=True,
        kept=False,
        reason="over the 80 % threshold",
    )
    escalated = DispatchDecision.objects.create(
        task=review,
        trigger=Trigger.DEADLINE_PROXIMITY,
        outcome=DecisionOutcome.ESCALATED,
        candidates=[bob_over_threshold.as_dict()],
    )
    escalation = Escalation.objects.create(
        task=review, decision=escalated, status=EscalationStatus.OPEN, summary="Nobody fits."
    )
    review_exception = ReviewException.objects.create(
        engagement=engagement, note="Deposit missing", raised_at=timezone.now()
    )
    # A row of every model the admin lists, for its change, history and delete pages.
    CheckpointFiring.objects.create(task=task, checkpoint=Checkpoint.NOT_STARTED_48H)
    ReassignmentRequest.objects.create(
        task=task, staff_member=alice, decision=decision, reason="On leave that week."
    )
    ClientExternalId.objects.create(
        client=engagement.client, source=ExternalSource.choices[0][0], external_id="QBO-1"
    )
    RecurringPlan.objects.create(
        client=engagement.client, work_type=engagement.work_type, starts_on=today
    )
    StaffSkillFactory(staff_member=alice, skill=SkillTag.objects.get(slug="bookkeeping"))
    TimeOffFactory(staff_member=alice, start_date=today, end_date=today)
    working_pattern = WorkingPattern.objects.create(
        staff_member=alice,
        name="Busy season",
        starts_on=today + timedelta(days=60),
        ends_on=today + timedelta(days=90),
        **{f"{day}_hours": Decimal("10") for day in ("monday", "tuesday", "wednesday", "thursday")},
    )
    WorkerHeartbeat.objects.create(hostname="worker-1", last_seen_at=timezone.now(), beats=1)
    # Not the test client's address: a successful login there clears its attempts.
    axes_row = {"user_agent": "test", "ip_address": "203.0.113.9", "username": "mallory"}
    axes_row |= {"http_accept": "*/*", "path_info": "/login/"}
    AccessAttempt.objects.create(**axes_row, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**axes_row)
    AccessFailureLog.objects.create(**axes_row)
    # Integrations and outbound webhooks: one row of each model the admin lists.
    integration = Integration.objects.create(
        slug="taxdome", source=Source.TAXDOME, name="TaxDome", secret="s"
    )
    request = InboundRequest.objects.create(
        integration=integration,
        endpoint="/webhooks/taxdome/",
        received_at=timezone.now(),
        verdict=Verdict.ACCEPTED,
        status_code=200,
    )
    InboundEvent.objects.create(
        integration=integration,
        request=request,
        event_id="e-1",
        event_type="job.created",
        payload={},
        received_at=timezone.now(),
    )
    StaffExternalId.objects.create(staff_member=alice, source=Source.TAXDOME, external_id="u-1")
    api_token_create(user=firm_admin.user, name="script")
    subscription = WebhookSubscription.objects.create(
        name="Script", url="https://hooks.example.com/x", secret=new_secret(), event_types=[]
    )
    WebhookAllowedHost.objects.create(host="hooks.internal")
    TeamsWebhook.objects.create(staff_member=None, url="https://teams.example.com/x")
    event = WebhookEvent.objects.create(
        event_type="task.accepted",
        record_type="task",
        record_id=task.pk,
        sequence=1,
        payload={},
        created_at=timezone.now(),
    )
    WebhookDelivery.objects.create(event=event, subscription=subscription)
    notification = Notification.objects.create(
        subject_type=SubjectType.TASK,
        subject_id=task.pk,
        channel=Channel.EMAIL,
        template=NotificationTemplate.TASK_ASSIGNED,
        recipient=alice.user.email,
        subject="New assignment",
        body="...",
        status=NotificationStatus.FAILED,
        attempts=5,
    )
    scenario = PlanScenario.objects.create(
        kind=ScenarioKind.REBALANCE, title="Rebalancing", planned_for=today
    )
    proposal = PlanMove.objects.create(
        scenario=scenario,
        kind=ScenarioKind.REBALANCE,
        task=task,
        from_staff=alice,
        to_staff=bob,
        expected_status=TaskStatus.ASSIGNED,
        reason="Alice is at 112 % this week (threshold 80 %)",
        summary="Move Harbor Point Dental month-end close from Alice to Bob",
    )
    # Billing: Alice's draft time, a draft invoice, an issued one with a payment and a
    # late fee; a client rate and billing profile (the draft-time default is seeded).
    time_entry = time_entry_create(
        staff=alice, client=engagement.client, task=task, day=today, hours=Decimal("1.5")
    )
    draft_invoice = _invoice(engagement.client)
    issued_invoice = _invoice(engagement.client)
    invoice_approve(invoice_id=issued_invoice.pk, user=partner.user)
    paid = payment_record(invoice_id=issued_invoice.pk, amount=Decimal("10"), received_on=today)
    # As if paid online with a debit card through a surcharged page: its surcharge refunded.
    CardSurcharge.objects.create(
        invoice=issued_invoice,
        payment=paid.payment,
        percent=Decimal("3.00"),
        amount=Decimal("0.30"),
        funding=CardFunding.DEBIT,
        outcome=SurchargeOutcome.REFUNDED,
        refund_id="re_world",
    )
    fee_line = InvoiceLine.objects.create(
        invoice=issued_invoice,
        kind=LineKind.LATE_FEE,
        description="Late fee",
        quantity=Decimal("1"),
        unit_price=Decimal("5"),
        amount=Decimal("5"),
        position=9,
    )
    LateFeeCharge.objects.create(
        invoice=issued_invoice, period=1, line=fee_line, charged_on=today, base=Decimal("90")
    )
    RateOverride.objects.create(
        client=engagement.client, staff_member=alice, hourly_rate=Decimal("140")
    )
    ClientBillingProfile.objects.create(client=engagement.client, terms_days=15)
    disputed_invoice = _invoice(engagement.client)
    invoice_approve(invoice_id=disputed_invoice.pk, user=partner.user)
    dispute = dispute_open(invoice_id=disputed_invoice.pk, user=partner.user, note="Too high")
    upload = DocumentUpload(
        engagement=engagement,
        original_name="statement.pdf",
        content_type="application/pdf",
        size=4,
        sha256="0" * 64,
    )
    upload.file.save("statement.pdf", ContentFile(b"%PDF"), save=True)
    users = {
        "anon": None,
        "staff": alice.user,
        "other": bob.user,
        "manager": manager.user,
        "partner": partner.user,
        "admin": firm_admin.user,
    }
    return World(
        users,
        engagement,
        task,
        decision,
        escalation,
        review_exception,
        notification,
        proposal,
        time_entry,
        draft_invoice,
        issued_invoice,
        working_pattern,
        dispute,
        BillingTask.objects.get(dispute=dispute),
        upload=upload,
    )


def _invoice(client: Client) -> Invoice:
    invoice = Invoice.objects.create(client=client, origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="Work",
        quantity=Decimal("1"),
        unit_price=Decimal("100"),
        amount=Decimal("100"),
        position=1,
    )
    return invoice_recompute(invoice)
