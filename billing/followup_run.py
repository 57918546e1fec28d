"""The daily follow-up run (``billing.followups``' docstring, step 2), set-based.

Clients are taken in batches (``CLIENT_BATCH``, in client order, those with a state due
by today); each batch costs a constant number of statements, whatever its size:

1. the batch's due states, locked (``FOR UPDATE OF`` the state, ``SKIP LOCKED``: a
   second run at once takes other clients, never the same invoice), read as plain
   values with their invoice, client and billing profile (one query, no model
   instances);
2. the instalments of payment-plan invoices (only when the batch has one);
3. in Python over those values: what holds today per invoice (a broken promise
   restarts the cycle, a plan moves to its first unpaid instalment) and the touch due
   now (``billing.cadence``: after downtime, one touch, never a burst); an excluded
   client or a balance under the client's minimum sends nothing and is looked at
   again tomorrow;
4. the touches in one ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: the unique
   constraint (invoice, cycle, step) claims each, so a touch stored before is never
   sent again, however many runs overlap;
5. one message per client for all their invoices at a touch (one INSERT; the most
   advanced step leads, one total, one pay link); on PostgreSQL its id is drawn from
   the sequence before step 4, so the touches go in pointing at it (elsewhere one
   ``UPDATE`` points them afterwards);
6. the outbox rows of every message in one INSERT (``notify_all``): each step's email is
   rendered once per shape and filled per client (``notifications.skeletons``), each
   invoice's signed link made by one signer (``billing.links.PublicLinks``);
7. the account holds (one UPDATE), the coordinator's call tasks (one INSERT) and their
   outbox rows; the broken promises (one UPDATE);
8. the states moved on to their next touch (one ``UPDATE ... FROM (VALUES ...)``).

Sends happen after commit through the outbox (retries, failures shown, never marked
sent before the mail server or Twilio took them).

The beat job fans the batches out (``followups_fan_out``): each is its own Celery
task (``followups_batch``), so the worker pool's processes take them side by side and
no single task runs long. Two batches never hold the same client (disjoint client ids,
and the row locks above would keep them apart anyway); a batch queued twice (the next
hour's run before the first drained) finds its states moved on or locked and sends
nothing; a batch lost with the broker is queued again by the next hour's run.
``followups_run`` runs every batch in the caller's thread (tests, the shell).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from billing.cadence import due_step
from billing.choices import BillingTaskKind, InvoiceStatus, PauseReason, PromiseStatus
from billing.followups import (
    CENT,
    Due,
    Steps,
    _Coordinators,
    _is_plan,
    _restart,
    _schedule,
    current_instalment,
    dues_or_whole,
    fill,
    followup_states_create_missing,
)
from billing.links import PublicLinks
from billing.messages import webhook_invoice_event
from billing.models import (
    BillingTask,
    FollowUpMessage,
    FollowUpState,
    FollowUpStep,
    FollowUpTouch,
    Instalment,
    Invoice,
    PaymentPromise,
)
from billing.rates import ZERO
from billing.selectors import surcharge_disclosure
from clients.models import Client
from core.bulk import insert_values, reserve_ids, update_from_values
from core.queue import enqueue
from notifications.choices import NotificationTemplate, SubjectType, WebhookEventType
from notifications.services import Delivery, Message, notify_all
from notifications.skeletons import Skeleton, slot
from notifications.webhooks import subscriptions_wanting
from staff.models import StaffMember

# Measured (bench/followup_bench.py): a batch's fixed cost is 9 statements and the
# task's set-up (steps, coordinators, skeletons); 2,000 clients (~4,000 invoices, under
# a second) keep both small beside the rows, and the locks short. 1,000: 20.5 s at
# 100,000 invoices on two cores, against 16-19 s.
CLIENT_BATCH = 2000
BATCH_TASK = "billing.tasks.followups_batch_task"


@dataclass
class RunResult:
    clients: int = 0
    touches: int = 0
    messages: int = 0
    sms: int = 0
    holds: int = 0
    call_tasks: int = 0
    skipped: int = 0
    batches: int = 0
    queries_per_batch: list[int] = field(default_factory=list)

    def add(self, other: RunResult) -> None:
        """Count ``other`` (one batch's result) in."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


# The state's fields the run moves on (written back in step 8).
STATE_FIELDS = (
    "cycle",
    "anchor_on",
    "instalment",
    "last_position",
    "next_touch_on",
    "paused",
    "promised_on",
    "stopped_at",
    "restart_reason",
)
# What one query reads per due state (step 1), in StateRow's order.
COLUMNS = (
    "pk",
    "invoice_id",
    "client_id",
    "sequence_id",
    *STATE_FIELDS,
    "invoice__number",
    "invoice__status",
    "invoice__due_on",
    "invoice__total",
    "invoice__amount_paid",
    "invoice__disputed_amount",
    "invoice__payment_url",
    "client__name",
    "client__contact_name",
    "client__email",
    "mobile_text",  # as stored (E.164): the outbox checks it, once
    "client__account_hold",
    "client__billing_profile__billing_email",
    "client__billing_profile__exclude_from_reminders",
    "client__billing_profile__min_reminder_balance",
    "invoice__payment_page_amount",
    "invoice__payment_page_surcharge",
    "invoice__payment_page_surcharge_percent",
)


@dataclass(slots=True)
class StateRow:
    """A follow-up state with what the run needs of its invoice and client, as values;
    ``billing.followups``' ``_schedule`` and ``_restart`` move it as they move a state."""

    pk: int
    invoice_id: int
    client_id: int
    sequence_id: int
    cycle: int
    anchor_on: date
    instalment: int | None
    last_position: int
    next_touch_on: date | None
    paused: str
    promised_on: date | None
    stopped_at: datetime | None
    restart_reason: str
    number: str
    status: str
    due_on: date | None
    total: Decimal
    amount_paid: Decimal
    disputed_amount: Decimal
    payment_url: str
    client_name: str
    contact_name: str
    email: str
    mobile: str | None
    account_hold: bool
    billing_email: str | None
    exclude: bool | None
    min_balance: Decimal | None
    page_amount: Decimal | None  # the payment page's balance, and its card surcharge
    page_surcharge: Decimal | None
    page_surcharge_percent: Decimal | None

    @property
    def chaseable_balance(self) -> Decimal:
        """``Invoice.chaseable_balance``: the balance nobody disputes."""
        return max(ZERO, self.total - self.amount_paid - self.disputed_amount)


def _surcharge_notice(row: StateRow, pay_url: str) -> tuple[str, str]:
    """(text, html) disclosing the card surcharge when the link is a surcharged page."""
    if not (pay_url and pay_url == row.payment_url and row.page_surcharge):
        return "", ""
    notice = surcharge_disclosure(
        percent=row.page_surcharge_percent or ZERO,
        amount=row.page_surcharge,
        base=row.page_amount or ZERO,
    )
    return f"{notice}\n", f'<p style="color:#5b6475;">{escape(notice)}</p>'


@dataclass(slots=True)
class _Touch:
    row: StateRow
    step: FollowUpStep
    balance: Decimal
    days_overdue: int
    instalment: Due | None
    reason: str


class _Run:
    """What one run reads once and reuses for every batch."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.now = timezone.now()
        self.steps = Steps()
        self.coordinators = _Coordinators()
        self.links = PublicLinks()
        self.words = _Words()


def _client_batches(today: date, size: int) -> Iterator[list[int]]:
    """The clients with a state due by ``today``, in client order, ``size`` at a time
    (one query per batch, each after the last client of the one before)."""
    after = 0
    while True:
        client_ids = list(
            FollowUpState.objects.filter(next_touch_on__lte=today, client_id__gt=after)
            .order_by("client_id")
            .values_list("client_id", flat=True)
            .distinct()[:size]
        )
        if not client_ids:
            return
        after = client_ids[-1]
        yield client_ids


def _send_day(now: datetime | None) -> date | None:
    """Today (firm time), once the send hour has come; None before it."""
    local = timezone.localtime(now or timezone.now())
    return local.date() if local.hour >= settings.FOLLOWUP_SEND_HOUR else None


def followups_run(
    *, today: date | None = None, now: datetime | None = None, client_batch: int = CLIENT_BATCH
) -> RunResult:
    """The daily run (see the module docstring), every batch in this thread; safe to run
    again or twice at once."""
    result = RunResult()
    today = today or _send_day(now)
    if today is None:
        return result
    run = _Run(today)
    followup_states_create_missing(steps=run.steps)
    for client_ids in _client_batches(today, client_batch):
        result.add(_batch(client_ids, run))
    return result


def followups_fan_out(*, now: datetime | None = None, client_batch: int = CLIENT_BATCH) -> int:
    """The beat's daily run: each client batch queued as its own task
    (``BATCH_TASK`` -> ``followups_batch``); the number queued."""
    today = _send_day(now)
    if today is None:
        return 0
    followup_states_create_missing(steps=Steps())
    queued = 0
    for client_ids in _client_batches(today, client_batch):
        enqueue(BATCH_TASK, client_ids, today.isoformat())
        queued += 1
    return queued


def followups_batch(*, client_ids: list[int], today: date) -> RunResult:
    """One queued batch of the day's run."""
    return _batch(client_ids, _Run(today))


def _batch(client_ids: list[int], run: _Run) -> RunResult:
    part = RunResult(batches=1)
    _run_batch(client_ids, run, part)
    return part


def _run_batch(client_ids: list[int], run: _Run, result: RunResult) -> None:
    today, steps = run.today, run.steps
    with transaction.atomic():
        # 1. The due states, locked, as values.
        rows = [
            StateRow(*values)
            for values in FollowUpState.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(client_id__in=client_ids, next_touch_on__lte=today)
            .order_by("client_id", "invoice_id")
            .annotate(mobile_text=Cast("client__mobile", CharField()))
            .values_list(*COLUMNS)
        ]
        if not rows:
            return
        # 2. Payment plans' instalments.
        plans: dict[int, list[Due]] = defaultdict(list)
        plan_ids = [r.invoice_id for r in rows if _is_plan(steps, r.sequence_id)]
        if plan_ids:
            for invoice_id, number, due_on, settled in (
                Instalment.objects.filter(invoice_id__in=plan_ids)
                .order_by("invoice_id", "number")
                .values_list("invoice_id", "number", "due_on", "settled_when_paid")
            ):
                plans[invoice_id].append(Due(number, due_on, settled))
        # 3. The touch due now, per invoice.
        by_client: dict[int, list[_Touch]] = defaultdict(list)
        broken: list[int] = []
        for row in rows:
            plan = (
                dues_or_whole(row.due_on, row.total, plans.get(row.invoice_id, []))
                if _is_plan(steps, row.sequence_id)
                else None
            )
            touch = _due_touch(row, run, plan, broken)
            if touch is None:
                continue
            minimum = max(CENT, row.min_balance or ZERO)
            if row.exclude or touch.balance < minimum:
                # Nothing goes out: looked at again tomorrow, the touch still unsent.
                row.next_touch_on = today + timedelta(days=1)
                result.skipped += 1
                continue
            by_client[row.client_id].append(touch)
            row.last_position = touch.step.position
            row.restart_reason = row.restart_reason if row.last_position else ""
            _schedule(row, steps)
        if broken:
            PaymentPromise.objects.filter(invoice_id__in=broken, status=PromiseStatus.OPEN).update(
                status=PromiseStatus.BROKEN, settled_at=run.now
            )
        # 4-7.
        _send(by_client, run, result)
        # 8. The states, moved on.
        update_from_values(
            FollowUpState,
            [*STATE_FIELDS, "updated_at"],
            [(r.pk, *(getattr(r, name) for name in STATE_FIELDS), run.now) for r in rows],
        )


def _due_touch(
    row: StateRow, run: _Run, plan: list[Due] | None, broken: list[int]
) -> _Touch | None:
    """Move ``row`` to what holds today and return the touch due now, if any."""
    steps, today = run.steps, run.today
    if row.status != InvoiceStatus.ISSUED:
        row.stopped_at = row.stopped_at or run.now
        _schedule(row, steps)
        return None
    due = current_instalment(row.amount_paid, plan) if plan else None
    if row.paused == PauseReason.PROMISE:
        # Due again while waiting on a promise: the promised date has passed unpaid.
        broken.append(row.invoice_id)
        assert row.promised_on is not None
        _restart(
            row,
            due_on=row.due_on,
            due=due,
            on=row.promised_on,
            reason=f"Promise to pay by {row.promised_on:%B %-d, %Y} not kept",
            steps=steps,
        )
    if due is not None and due.number != row.instalment:
        row.cycle += 1
        row.instalment, row.anchor_on, row.last_position = due.number, due.due_on, 0
        row.restart_reason = f"Instalment {due.number - 1} paid"
    step_at = due_step(
        steps.at(row.sequence_id),
        anchor=row.anchor_on,
        last_position=row.last_position,
        today=today,
    )
    if step_at is None:
        _schedule(row, steps)
        return None
    step = steps.step(row.sequence_id, step_at.position)
    assert row.due_on is not None
    chaseable = row.chaseable_balance
    balance = (
        chaseable
        if due is None
        else min(chaseable, max(ZERO, due.settled_when_paid - row.amount_paid))
    )
    days = (today - (due.due_on if due else row.due_on)).days
    when = f"{days} days past due" if days > 0 else f"due in {-days} days" if days else "due today"
    what = f"instalment {due.number} " if due else ""
    reason = (
        f"{step.sequence.name}, touch {step.position} ({step.label}): {what}{when}, "
        f"${balance:,.2f} undisputed balance, cycle {row.cycle}"
    )
    if row.restart_reason and row.last_position == 0:
        reason += f" (restarted: {row.restart_reason})"
    return _Touch(row, step, balance, days, due, reason[:300])


def _send(by_client: dict[int, list[_Touch]], run: _Run, result: RunResult) -> None:
    """Steps 4-7: claim the touches, one message per client, the outbox, holds, tasks."""
    if not by_client:
        return
    today = run.today
    # 4. Claim each touch; one the constraint refuses was stored before: not sent again.
    every = [t for touches in by_client.values() for t in touches]
    # PostgreSQL: the messages' ids first, so each touch goes in pointing at its message.
    reserved = reserve_ids(FollowUpMessage, len(by_client))
    message_of = dict(zip(by_client, reserved, strict=True)) if reserved else {}
    stored = insert_values(
        FollowUpTouch,
        [
            "invoice_id",
            "cycle",
            "step_id",
            "sent_on",
            "days_overdue",
            "balance",
            "instalment",
            "reason",
            "message_id",
        ],
        [
            (
                t.row.invoice_id,
                t.row.cycle,
                t.step.pk,
                today,
                t.days_overdue,
                t.balance,
                t.instalment.number if t.instalment else None,
                t.reason,
                message_of.get(t.row.client_id),
            )
            for t in every
        ],
        ignore_conflicts=True,
        returning=["id", "invoice_id", "cycle", "step_id"],
    )
    touch_ids = {(invoice, cycle, step): pk for pk, invoice, cycle, step in stored}
    claimed: dict[int, list[tuple[int, _Touch]]] = defaultdict(list)
    for t in every:
        pk = touch_ids.get((t.row.invoice_id, t.row.cycle, t.step.pk))
        if pk is not None:
            claimed[t.row.client_id].append((pk, t))
    if not claimed:
        return
    # 5. One message per client for the touches it claimed, the touches pointed at it.
    groups = []
    for touches in claimed.values():
        lead = max((t for _, t in touches), key=lambda t: (t.step.position, t.days_overdue)).step
        total = sum((t.balance for _, t in touches), ZERO)
        groups.append((lead, total, touches))
    if message_of:
        insert_values(
            FollowUpMessage,
            ["id", "client_id", "sent_on", "lead_step_id", "total"],
            [
                (message_of[client], client, today, lead.pk, total)
                for lead, total, touches in groups
                for client in [touches[0][1].row.client_id]
            ],
        )
        message_ids = message_of
    else:
        messages = insert_values(
            FollowUpMessage,
            ["client_id", "sent_on", "lead_step_id", "total"],
            [(t[0][1].row.client_id, today, lead.pk, total) for lead, total, t in groups],
            returning=["id", "client_id"],
        )
        message_ids = {client: pk for pk, client in messages}
        update_from_values(
            FollowUpTouch,
            ["message_id"],
            [(pk, message_ids[t.row.client_id]) for _, _, touches in groups for pk, t in touches],
        )
    _instalments_missed(
        [(pk, t) for touches in claimed.values() for pk, t in touches if t.instalment]
    )
    # 6. The outbox, 7. holds and call tasks.
    deliveries: list[Delivery] = []
    holds: dict[int, str] = {}
    tasks: list[tuple[int, str, int, int, str, StaffMember | None]] = []
    for lead, total, claimed_touches in groups:
        touches = [t for _, t in claimed_touches]
        first = touches[0].row
        message_id = message_ids[first.client_id]
        email = any(t.step.send_email for t in touches)
        sms = any(t.step.send_sms for t in touches)
        if email or sms:
            delivery = _delivery(run, message_id, lead, total, touches, email, sms)
            if delivery is not None:
                deliveries.append(delivery)
                result.sms += len(delivery.phones)
        hold = next((t for t in touches if t.step.set_account_hold), None)
        if hold is not None and not first.account_hold:
            holds[first.client_id] = (
                f"invoice {hold.row.number} {hold.days_overdue} days past due, "
                f"${hold.balance:,.2f} unpaid"
            )
        if any(t.step.coordinator_call for t in touches):
            numbers = ", ".join(t.row.number for t in touches)
            tasks.append(
                (
                    first.client_id,
                    f"Call {first.client_name} about invoice {numbers}"[:200],
                    touches[0].row.invoice_id,
                    message_id,
                    (f"${total:,.2f} unpaid; " + "; ".join(t.reason for t in touches))[:1000],
                    run.coordinators.next(),
                )
            )
        result.clients += 1
        result.touches += len(touches)
    notify_all(deliveries)
    result.messages += len(deliveries)
    if holds:
        _hold(holds, run.now)
        result.holds += len(holds)
    if tasks:
        _call_tasks(tasks, run)
        result.call_tasks += len(tasks)


def _instalments_missed(plan_touches: list[tuple[int, _Touch]]) -> None:
    """``invoice.instalment_missed``, once per instalment: with the first touch claimed past
    its date (nothing is read while no webhook subscription wants the event)."""
    missed = [(pk, t) for pk, t in plan_touches if t.days_overdue > 0]
    if not missed or not subscriptions_wanting(WebhookEventType.INSTALMENT_MISSED):
        return
    told = set(
        FollowUpTouch.objects.filter(
            invoice_id__in={t.row.invoice_id for _, t in missed},
            instalment__isnull=False,
            days_overdue__gt=0,
        )
        .exclude(pk__in=[pk for pk, _ in missed])
        .values_list("invoice_id", "instalment")
    )
    invoices = Invoice.objects.in_bulk({t.row.invoice_id for _, t in missed})
    for _, t in missed:
        assert t.instalment is not None
        key = (t.row.invoice_id, t.instalment.number)
        if key in told:
            continue
        told.add(key)
        webhook_invoice_event(
            WebhookEventType.INSTALMENT_MISSED,
            invoices[t.row.invoice_id],
            instalment={
                "number": t.instalment.number,
                "due_on": t.instalment.due_on.isoformat(),
                "days_overdue": t.days_overdue,
                "still_owed": str(t.balance),
            },
        )


def _hold(reasons: dict[int, str], now: datetime) -> None:
    """Put these clients on account hold, each with its reason (one statement); one
    already on hold keeps the reason it has."""
    held = set(
        Client.objects.filter(pk__in=list(reasons), account_hold=True).values_list("pk", flat=True)
    )
    update_from_values(
        Client,
        ["account_hold", "account_hold_reason", "account_hold_since", "updated_at"],
        [(pk, True, reason[:300], now, now) for pk, reason in reasons.items() if pk not in held],
    )


def _call_tasks(tasks: list[tuple[int, str, int, int, str, StaffMember | None]], run: _Run) -> None:
    """The coordinator's call tasks (one INSERT) and the email telling each assignee."""
    stored = insert_values(
        BillingTask,
        ["kind", "title", "client_id", "invoice_id", "message_id", "details", "assignee_id"],
        [
            (BillingTaskKind.CALL.value, title, client, invoice, message, details, who and who.pk)
            for client, title, invoice, message, details, who in tasks
        ],
        returning=["id", "message_id"],
    )
    task_ids = {message: pk for pk, message in stored}
    deliveries = []
    for _, title, _, message, details, who in tasks:
        if who is None:
            continue
        text, html = run.words.task.fill(
            {"staff": who.display_name, "title": title, "details": details}
        )
        deliveries.append(
            Delivery(
                Message(
                    subject_type=SubjectType.BILLING_TASK,
                    subject_id=task_ids[message],
                    template=NotificationTemplate.BILLING_TASK_ASSIGNED,
                    subject=title,
                    context={},
                    text=text,
                    html=html,
                ),
                staff=(who,),
            )
        )
    notify_all(deliveries)


# --- Words -------------------------------------------------------------------------------


# The names a step's subject, body and SMS may use (``FollowUpStep``'s help).
NAMES = (
    "client",
    "contact",
    "number",
    "numbers",
    "due_on",
    "amount",
    "days",
    "firm",
    "firm_phone",
    "instalment",
    "instalment_due_on",
)


class _Words:
    """Each email shape rendered once per run (``notifications.skeletons``): a step's
    message by (step, several invoices, pay link, auto-pay offer); an invoice's row by
    (instalment, overdue); the call task's email."""

    def __init__(self) -> None:
        self._messages: dict[tuple[int, bool, bool, bool], Skeleton] = {}
        self._rows: dict[tuple[bool, bool], Skeleton] = {}
        self.task = Skeleton.render(
            NotificationTemplate.BILLING_TASK_ASSIGNED,
            {
                "task": {"title": slot("title"), "details": slot("details")},
                "staff": {"display_name": slot("staff")},
                "tasks_url": settings.SITE_URL + reverse("billing:tasks"),
                "firm_name": settings.FIRM_NAME,
            },
        )

    def message(self, step: FollowUpStep, multi: bool, pay: bool, autopay: bool) -> Skeleton:
        key = (step.pk, multi, pay, autopay)
        if key not in self._messages:
            body = fill(step.email_body, {name: slot(name) for name in NAMES})
            self._messages[key] = Skeleton.render(
                NotificationTemplate.FOLLOWUP_TOUCH,
                {
                    "paragraphs": [p.strip() for p in body.split("\n\n") if p.strip()],
                    "rows": slot("rows"),
                    "multi": multi,
                    "total": slot("total"),
                    "pay_url": slot("pay_url") if pay else "",
                    "surcharge_notice": slot("surcharge_notice") if pay else "",
                    "autopay_offer": autopay,
                    "payment_instructions": settings.PAYMENT_INSTRUCTIONS,
                    "firm_name": settings.FIRM_NAME,
                    "firm_phone": settings.FIRM_PHONE,
                },
            )
        return self._messages[key]

    def row(self, instalment: bool, overdue: bool) -> Skeleton:
        key = (instalment, overdue)
        if key not in self._rows:
            self._rows[key] = Skeleton.render(
                "_followup_row",
                {
                    name: slot(name)
                    for name in ("number", "instalment", "due_on", "balance", "days", "public_url")
                }
                | {"instalment": slot("instalment") if instalment else "", "overdue": overdue},
                fragment=True,
            )
        return self._rows[key]


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _delivery(
    run: _Run,
    message_id: int,
    step: FollowUpStep,
    total: Decimal,
    touches: list[_Touch],
    email: bool,
    sms: bool,
) -> Delivery | None:
    """The client's message: one email (and SMS) for all their invoices at a touch."""
    first = touches[0].row
    recipient = (first.billing_email or first.email) if email else ""
    phone = first.mobile if sms and first.mobile else ""
    if not recipient and not phone:
        return None
    lead = next(t for t in touches if t.step.pk == step.pk)
    invoice = lead.row
    single = len(touches) == 1
    numbers = ", ".join(t.row.number for t in touches)
    values = {
        "client": first.client_name,
        "contact": first.contact_name or first.client_name,
        "number": invoice.number if single else numbers,
        "numbers": numbers,
        "due_on": f"{invoice.due_on:%B %-d, %Y}",
        "amount": _money(total),
        "days": str(max(0, lead.days_overdue)),
        "firm": settings.FIRM_NAME,
        "firm_phone": settings.FIRM_PHONE or "us",
        "instalment": str(lead.instalment.number) if lead.instalment else "",
        "instalment_due_on": f"{lead.instalment.due_on:%B %-d, %Y}" if lead.instalment else "",
    }
    subject = fill(step.email_subject or "Invoice {number} from {firm}", values)
    text = html = ""
    if recipient:
        pay = any(t.step.payment_link for t in touches)
        autopay = any(t.step.autopay_offer for t in touches)
        rows_text, rows_html = [], []
        for t in touches:
            due_on = t.instalment.due_on if t.instalment else t.row.due_on
            row_text, row_html = run.words.row(bool(t.instalment), t.days_overdue > 0).fill(
                {
                    "number": t.row.number,
                    "instalment": str(t.instalment.number) if t.instalment else "",
                    "due_on": f"{due_on:%B %-d, %Y}",
                    "balance": _money(t.balance),
                    "days": str(t.days_overdue),
                    "public_url": run.links.invoice(t.row.invoice_id),
                }
            )
            rows_text.append(row_text)
            rows_html.append(row_html)
        pay_url = ""
        if pay:
            pay_url = (
                (invoice.payment_url or run.links.invoice(invoice.invoice_id))
                if single
                else run.links.statement(first.client_id)
            )
        text, html = run.words.message(step, not single, pay, autopay).fill(
            values | {"total": _money(total), "pay_url": pay_url},
            {
                "rows": ("".join(rows_text), "".join(rows_html)),
                "surcharge_notice": _surcharge_notice(invoice, pay_url),
            },
        )
    return Delivery(
        Message(
            subject_type=SubjectType.FOLLOWUP,
            subject_id=message_id,
            template=NotificationTemplate.FOLLOWUP_TOUCH,
            step=step.position,
            subject=subject,
            context={},
            sms_text=fill(step.sms_text, values)[:320] if phone else "",
            text=text if recipient else None,
            html=html,
        ),
        emails=(recipient,) if recipient else (),
        phones=(phone,) if phone else (),
    )
