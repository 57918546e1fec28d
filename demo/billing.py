"""The demo firm's billing, written through billing's own services (never a copy of a
rule): rate cards, a week of draft time for each demo login (and last week's, mostly
approved: the weekly leakage report's week and WIP), invoice drafts awaiting the
partner, issued invoices, some written down with a reason before approval, some
partly paid, and the follow-up sequences at work (unpaid invoices at each touch of
the standard and retainer sequences, a payment plan, a dispute naming a line, a
promise to pay: the real daily run replayed over the last weeks), so every billing
page, report and an invoice's timeline show something real on first start.

Runs once: when the demo firm already has time or invoices, it creates nothing (the
second ``seed_demo`` run stays a no-op). Engagements are only read, never moved: an
issued invoice is made for work already delivered, so the demo's milestone history
(deterministic for a seed and date) is left as the builder wrote it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing import invoices, payments, services
from billing.choices import (
    InvoiceOrigin,
    InvoiceStatus,
    LateFeeMode,
    LineKind,
    PaymentMethod,
    SurchargeMode,
    TimeEntryStatus,
    WriteDownReason,
)
from billing.models import ClientBillingProfile, Invoice, RateOverride, TimeEntry
from clients.choices import BillingModel, ExternalSource
from clients.models import Client
from core.exceptions import ApplicationError
from engagements.choices import HELD_TASK_STATUSES, Milestone, TaskStatus
from engagements.models import Engagement, EngagementMilestone, Task, WorkType
from staff.models import StaffMember

DRAFT_INVOICES = 6
ISSUED_INVOICES = 8
DESCRIPTIONS = (
    "Client call: questions on the reconciliation",
    "Email follow-up on missing statements",
    "Working papers",
    "Review notes cleared",
    "Prepared schedules",
)


@dataclass
class BillingResult:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, count: int = 1) -> None:
        self.created[label] = self.created.get(label, 0) + count


def _demo_clients() -> QuerySet[Client]:
    return Client.objects.filter(external_ids__source=ExternalSource.DEMO)


def demo_billing_build(*, today: date, logins: list[str], seed: int = 42) -> BillingResult:
    """Build the demo's billing once (see the module docstring)."""
    result = BillingResult()
    clients = _demo_clients()
    if (
        TimeEntry.objects.filter(client__in=clients).exists()
        or Invoice.objects.filter(client__in=clients).exists()
    ):
        return result
    rng = random.Random(seed)
    members = list(StaffMember.objects.filter(user__username__in=logins).select_related("user"))
    partner = next((m for m in members if m.role == "partner"), None)
    with transaction.atomic():
        _rate_cards(rng, result)
        # Last week's time draws from its own generator: the rest of the demo (which
        # engagements are invoiced, and when) stays what it was before it was added.
        last_week = random.Random(seed + 1)
        for member in members:
            _week_of_time(member, today, rng, result)
            _last_week_of_time(member, today, last_week, result)
        _drafts(today, rng, result)
        if partner is not None:
            _issued(partner, today, rng, result)
            _followups(partner, today, result)
    return result


def _rate_cards(rng: random.Random, result: BillingResult) -> None:
    clients = list(_demo_clients().filter(billing_model=BillingModel.HOURLY).order_by("pk")[:40])
    corporate = WorkType.objects.get(code="1120")
    for client in rng.sample(clients, min(3, len(clients))):
        RateOverride.objects.create(
            client=client, work_type=corporate, hourly_rate=Decimal("195"), note="Multi-year deal"
        )
        result.add("client rates")
    for position, client in enumerate(rng.sample(clients, min(3, len(clients)))):
        surcharge = {}
        if position == 0:
            # One client pays a card surcharge of their own (it shows once Stripe is set).
            surcharge = {
                "card_surcharge_mode": SurchargeMode.ON,
                "card_surcharge_percent": Decimal("2.00"),
            }
        ClientBillingProfile.objects.get_or_create(
            client=client,
            defaults={
                "terms_days": 15,
                "late_fee_mode": LateFeeMode.ON,
                "late_fee_flat": Decimal("25"),
                "late_fee_percent": Decimal("1.5"),
                "late_fee_grace_days": 10,
                **surcharge,
            },
        )
        result.add("billing profiles")


def _week_of_time(
    member: StaffMember, today: date, rng: random.Random, result: BillingResult
) -> None:
    """Monday to today: a draft a day on their open work, and the drafts their recently
    completed tasks would have left (the completion hook's own service)."""
    monday = today - timedelta(days=today.weekday())
    held = list(
        Task.objects.filter(assignee=member, status__in=HELD_TASK_STATUSES)
        .select_related("engagement__client")
        .order_by("due_date", "pk")[:5]
    )
    day = monday
    while day <= today and held:
        if day.weekday() < 5:
            task = held[(day - monday).days % len(held)]
            services.time_entry_create(
                staff=member,
                client=task.engagement.client,
                task=task,
                day=day,
                hours=Decimal(rng.choice(("0.5", "1.25", "2", "3.5"))),
                description=rng.choice(DESCRIPTIONS),
            )
            result.add("time entries")
        day += timedelta(days=1)
    done = Task.objects.filter(
        assignee=member, status=TaskStatus.COMPLETED, completed_at__date__gte=monday
    ).order_by("pk")[:3]
    for task in done:
        if services.time_entry_draft_for_task(task, task.completed_at) is not None:  # type: ignore[arg-type]
            result.add("time entries")


def _last_week_of_time(
    member: StaffMember, today: date, rng: random.Random, result: BillingResult
) -> None:
    """Last week's time on their open work, approved but for Friday's (the weekly
    leakage report's week, and WIP: approved time not on an invoice yet)."""
    monday = today - timedelta(days=today.weekday() + 7)
    held = list(
        Task.objects.filter(assignee=member, status__in=HELD_TASK_STATUSES)
        .select_related("engagement__client")
        .order_by("due_date", "pk")[:5]
    )
    for offset in range(5 if held else 0):
        task = held[offset % len(held)]
        entry = services.time_entry_create(
            staff=member,
            client=task.engagement.client,
            task=task,
            day=monday + timedelta(days=offset),
            hours=Decimal(rng.choice(("1", "1.5", "2.5", "3"))),
            description=rng.choice(DESCRIPTIONS),
        )
        result.add("time entries")
        if offset < 4:
            services.time_entry_approve(entry_id=entry.pk, staff=member)


def _write_down(draft: Invoice, partner: StaffMember, which: int) -> None:
    """A partner's write-downs before approving, with their reasons (the leakage report
    groups them; realization shows them): hours cut on one draft, a courtesy discount
    on another."""
    if which == 0:
        line = draft.lines.filter(kind=LineKind.TIME).order_by("pk").first()
        if line is None or line.quantity < 1:
            return
        invoices.invoice_line_update(
            invoice_id=draft.pk,
            line_id=line.pk,
            user=partner.user,
            description=line.description,
            quantity=(line.quantity * Decimal("0.8")).quantize(Decimal("0.01")),
            unit_price=line.unit_price,
            write_down_reason=WriteDownReason.EFFICIENCY,
        )
    elif which == 1:
        invoices.invoice_line_add(
            invoice_id=draft.pk,
            user=partner.user,
            description="Courtesy discount",
            amount=-(draft.total * Decimal("0.1")).quantize(Decimal("0.01")),
            write_down_reason=WriteDownReason.COURTESY,
        )


def _approve_time_for(engagement: Engagement, result: BillingResult) -> None:
    for task in engagement.tasks.filter(status=TaskStatus.COMPLETED, assignee__isnull=False):
        entry = services.time_entry_draft_for_task(task, task.completed_at)  # type: ignore[arg-type]
        if entry is not None:
            result.add("time entries")
    for entry in TimeEntry.objects.filter(engagement=engagement, status=TimeEntryStatus.DRAFT):
        services.time_entry_approve(entry_id=entry.pk, staff=entry.staff_member)


def _billable(milestones: list[str]) -> list[Engagement]:
    return list(
        Engagement.objects.filter(source="demo", milestone__in=milestones)
        .exclude(client__billing_model=BillingModel.RETAINER)
        .select_related("client", "work_type")
        .order_by("pk")
    )


def _drafts(today: date, rng: random.Random, result: BillingResult) -> None:
    """Drafts for work at final review complete, and this month's retainers."""
    ready = [
        e
        for e in _billable([Milestone.REVIEW_COMPLETE, Milestone.PREPARATION_COMPLETE])
        if any(
            step.get("code") == e.milestone and step.get("on_enter") == "invoice"
            for step in e.work_type.milestone_template
        )
    ]
    made = 0
    for engagement in ready:
        if made >= DRAFT_INVOICES:
            break
        _approve_time_for(engagement, result)
        draft = invoices.invoice_create_for_engagement(
            engagement_id=engagement.pk, origin=InvoiceOrigin.MILESTONE
        )
        if draft is not None and draft.total > 0:
            made += 1
            result.add("invoices")
    result.add("invoices", invoices.retainer_invoices_create(today=today))


def _issued(partner: StaffMember, today: date, rng: random.Random, result: BillingResult) -> None:
    """Invoices for delivered work, issued weeks ago; some paid in part, one in full."""
    delivered = _billable([Milestone.DELIVERED, Milestone.CLOSED])
    rng.shuffle(delivered)
    issued = 0
    for engagement in delivered:
        if issued >= ISSUED_INVOICES:
            break
        _approve_time_for(engagement, result)
        draft = invoices.invoice_create_for_engagement(
            engagement_id=engagement.pk, origin=InvoiceOrigin.MILESTONE
        )
        if draft is None or draft.total <= 0:
            continue
        _write_down(draft, partner, issued)
        invoice = invoices.invoice_approve(invoice_id=draft.pk, user=partner.user).invoice
        # Dated as the demo's history has it: the day the engagement was invoiced (or
        # delivered). Only the invoice's dates move, never the engagement's history.
        reached = (
            EngagementMilestone.objects.filter(
                engagement=engagement,
                milestone__in=[Milestone.INVOICED, Milestone.DELIVERED, Milestone.CLOSED],
            )
            .order_by("reached_at")
            .values_list("reached_at", flat=True)
            .first()
        )
        issued_on = timezone.localdate(reached) if reached else today - timedelta(days=20)
        Invoice.objects.filter(pk=invoice.pk).update(
            issued_on=issued_on, due_on=issued_on + timedelta(days=invoice.terms_days)
        )
        result.add("invoices")
        if issued % 3 == 1:
            part = (invoice.total * Decimal("0.4")).quantize(Decimal("0.01"))
            payments.payment_record(
                invoice_id=invoice.pk,
                amount=part,
                received_on=min(today, issued_on + timedelta(days=10)),
                method=PaymentMethod.CHECK,
                note="Partial payment (demo)",
                user=partner.user,
            )
            result.add("payments")
        elif issued % 3 == 2 and issued < 4:
            payments.payment_record(
                invoice_id=invoice.pk,
                amount=invoice.total,
                received_on=min(today, issued_on + timedelta(days=7)),
                method=PaymentMethod.ACH,
                user=partner.user,
            )
            result.add("payments")
        issued += 1


# Days past due that put an unpaid invoice, by the replayed daily runs, at each touch:
# standard day 1 / 15 / 30; the retainer's softer 5 / 20 / 35.
STANDARD_AGES = (3, 16, 31)
RETAINER_AGES = (6, 21, 36)
DISPUTED_AGE, PROMISED_AGE = 10, 5
REPLAY_DAYS = 40


def _followups(partner: StaffMember, today: date, result: BillingResult) -> None:
    """The follow-up sequences at work, through the real daily run replayed day by day
    (so each invoice's timeline shows what went out when, and why): unpaid invoices
    dated at each touch of the standard and retainer sequences (last month's retainer
    invoices, most of them paid), a payment plan, a dispute naming one line, a promise
    to pay."""
    from billing import disputes, followup_run, followups
    from billing.models import FollowUpState

    # Last month's retainer invoices, as the monthly job made them; most paid.
    last_month = invoices.month_start(today) - timedelta(days=1)
    invoices.retainer_invoices_create(today=last_month)
    retainers = []
    for draft in Invoice.objects.filter(
        origin=InvoiceOrigin.RETAINER, period=invoices.month_start(last_month)
    ).order_by("pk"):
        invoice = invoices.invoice_approve(invoice_id=draft.pk, user=partner.user).invoice
        _dated(invoice, invoice.period or last_month, today)
        retainers.append(invoice)
        result.add("invoices")
    for invoice in retainers[len(RETAINER_AGES) :]:
        invoice.refresh_from_db()
        payments.payment_record(
            invoice_id=invoice.pk,
            amount=invoice.total,
            received_on=min(today, invoice.due_on or today),
            method=PaymentMethod.ACH,
            note="Retainer auto-pay (demo)",
            user=partner.user,
        )
        result.add("payments")
    for invoice, age in zip(retainers, RETAINER_AGES, strict=False):
        _dated(invoice, today - timedelta(days=age + invoice.terms_days), today)
    # The engagement invoices still open: one at each standard touch, one disputed,
    # one promised, one on a payment plan.
    open_ = list(
        Invoice.objects.filter(status=InvoiceStatus.ISSUED)
        .exclude(origin=InvoiceOrigin.RETAINER)
        .order_by("pk")
    )
    # The disputed one names a line: an invoice with several, when there is one.
    several = next((i for i in open_[3:] if i.lines.count() > 1), None)
    if several is not None:
        open_.remove(several)
        open_.insert(3, several)
    ages = [*STANDARD_AGES, DISPUTED_AGE, PROMISED_AGE]
    for invoice, age in zip(open_, ages, strict=False):
        _dated(invoice, today - timedelta(days=age + invoice.terms_days), today)
    disputed = open_[3] if len(open_) > 3 else None
    promised = open_[4] if len(open_) > 4 else None
    planned = open_[5] if len(open_) > 5 else None
    # The daily run anchors each invoice at its due date: states made at approval, before
    # the dates above, are made again by the run ("made if missing").
    FollowUpState.objects.filter(
        invoice__in=[*retainers, *open_], invoice__status=InvoiceStatus.ISSUED
    ).delete()
    for back in range(REPLAY_DAYS, -1, -1):
        day = today - timedelta(days=back)
        if disputed is not None and day == today - timedelta(days=DISPUTED_AGE - 3):
            line = disputed.lines.order_by("-amount", "pk").first()
            disputes.dispute_open(
                invoice_id=disputed.pk,
                user=partner.user,
                line_ids=[line.pk] if line is not None and disputed.lines.count() > 1 else [],
                note="The client questions the hours on this line (demo).",
            )
            result.add("disputes")
        if promised is not None and day == today - timedelta(days=PROMISED_AGE - 2):
            followups.promise_record(
                invoice_id=promised.pk,
                user=partner.user,
                promised_on=today + timedelta(days=5),
                note="Promised on the phone to the coordinator (demo).",
                today=day,
            )
            result.add("promises to pay")
        if planned is not None and back == 0:
            try:
                followups.instalment_plan_create(
                    invoice_id=planned.pk, count=3, first_due_on=today + timedelta(days=3)
                )
                result.add("payment plans")
            except ApplicationError:
                pass  # a demo dated before the real clock: instalments can't start in the past
        result.add("follow-up touches", followup_run.followups_run(today=day).touches)


def _dated(invoice: Invoice, issued_on: date, today: date) -> None:
    """Only the invoice's dates move (as ``_issued`` dates them), never a history."""
    issued_on = min(issued_on, today)
    Invoice.objects.filter(pk=invoice.pk).update(
        issued_on=issued_on, due_on=issued_on + timedelta(days=invoice.terms_days)
    )
    invoice.issued_on, invoice.due_on = issued_on, issued_on + timedelta(days=invoice.terms_days)


def demo_billing_report(result: BillingResult) -> list[str]:
    if not result.created:
        return ["Billing: already built (nothing created)."]
    parts = ", ".join(f"{count} {label}" for label, count in sorted(result.created.items()))
    drafts = Invoice.objects.filter(status=InvoiceStatus.DRAFT).count()
    return [f"Billing: {parts}; {drafts} invoice drafts await the partner's approval."]
