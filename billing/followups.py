"""Follow-up sequences: chasing issued invoices until they are paid.

1. Every issued invoice gets a ``FollowUpState`` when it is approved
   (``followup_start``; the daily run makes any that are missing): its sequence
   (``sequence_for``), cycle 1, anchored at the due date, or at its first unpaid
   instalment for a payment plan.
2. The daily run (``followups_run``, beat hourly, sending from
   ``FOLLOWUP_SEND_HOUR`` firm time) takes clients in batches, those with a state
   due by today (``next_touch_on``, indexed), and for each batch in one transaction:
   a. locks the due states (``SKIP LOCKED``: a second run at once takes other
      clients, never the same invoice), and re-reads them under the lock;
   b. per invoice: a broken promise restarts the cycle from its date; a payment
      plan moves to the first unpaid instalment; the touch due now is the latest
      step whose day has come (``billing.cadence``: after downtime, one touch, not
      a burst); an excluded client, or a balance under the client's minimum, sends
      nothing and is looked at again tomorrow;
   c. per client: one message for all their invoices at a touch that day (the most
      advanced step leads; one total, one pay link), stored in the outbox with the
      touches (unique per invoice, cycle and step), an SMS when the step asks and a
      mobile is on file, the account hold, the coordinator's call task;
   d. moves each state to its next touch.
   Sends happen after commit through the outbox (retries, failures shown, never
   marked sent before the mail server or Twilio took them).
3. Payments (``followup_on_payment``, from ``billing.payments.payment_record``): paid
   in full stops the sequence at once (a stored touch not yet sent is skipped); a
   partial payment is acknowledged with the balance restated and restarts the
   sequence from touch 1 for the remainder.
4. Disputes (``billing.disputes``) pause the sequence, or, when they name lines, leave
   it chasing the undisputed balance; resolving restarts it. A promise to pay
   (``promise_record``) pauses it until the promised date; broken, the cycle
   restarts from that date with one touch.

Lock order: invoice (``billing.invoices._locked``), then its follow-up state.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from billing.cadence import StepAt, next_touch_on, restart_position
from billing.choices import (
    BillingTaskKind,
    BillingTaskStatus,
    InvoiceStatus,
    PauseReason,
    PromiseStatus,
    SequenceKind,
)
from billing.links import invoice_public_url
from billing.models import (
    BillingTask,
    ClientBillingProfile,
    FollowUpSequence,
    FollowUpState,
    FollowUpStep,
    FollowUpTouch,
    Instalment,
    Invoice,
    Payment,
    PaymentPromise,
)
from billing.rates import ZERO
from clients.choices import BillingModel
from clients.models import Client
from core.exceptions import ApplicationError
from core.roles import BILLING
from notifications.choices import NotificationTemplate, SubjectType
from notifications.services import Delivery, Message, notify
from staff.models import StaffMember

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from billing.followup_run import RunResult, StateRow

CENT = Decimal("0.01")
MAX_PROMISE_DAYS = 90


# --- Sequences and steps -----------------------------------------------------------------


class Steps:
    """Every sequence's steps and the default sequence per kind: read once per run."""

    def __init__(self) -> None:
        self.by_sequence: dict[int, list[FollowUpStep]] = defaultdict(list)
        for step in FollowUpStep.objects.select_related("sequence").order_by(
            "sequence_id", "position"
        ):
            self.by_sequence[step.sequence_id].append(step)
        self.defaults: dict[str, int] = dict(
            FollowUpSequence.objects.filter(is_default=True).values_list("kind", "pk")
        )
        # Asked for every invoice of a run: made once per sequence.
        self._at = {
            pk: [StepAt(s.position, s.day) for s in steps] for pk, steps in self.by_sequence.items()
        }

    def of(self, sequence_id: int) -> list[FollowUpStep]:
        return self.by_sequence.get(sequence_id, [])

    def at(self, sequence_id: int) -> list[StepAt]:
        return self._at.get(sequence_id, [])

    def step(self, sequence_id: int, position: int) -> FollowUpStep:
        return next(s for s in self.of(sequence_id) if s.position == position)

    def default(self, kind: str) -> int:
        found = self.defaults.get(kind) or self.defaults.get(SequenceKind.STANDARD)
        if found is None:
            raise ApplicationError("No default follow-up sequence: add one in the admin.")
        return found


def sequence_for(
    client: Client, profile: ClientBillingProfile | None, *, has_plan: bool, steps: Steps
) -> int:
    """The client's own sequence; else payment plan, retainer or standard by kind."""
    if profile is not None and profile.followup_sequence_id:
        return profile.followup_sequence_id
    if has_plan or client.payment_plan:
        return steps.default(SequenceKind.PAYMENT_PLAN)
    if client.billing_model == BillingModel.RETAINER:
        return steps.default(SequenceKind.RETAINER)
    return steps.default(SequenceKind.STANDARD)


def _is_plan(steps: Steps, sequence_id: int) -> bool:
    first = steps.of(sequence_id)
    return bool(first) and first[0].sequence.kind == SequenceKind.PAYMENT_PLAN


# --- Instalments -------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """An instalment as the sequence sees it (an invoice without a plan: one, its balance)."""

    number: int
    due_on: date
    settled_when_paid: Decimal  # the invoice's amount paid at which it is settled


def instalments_of(invoice: Invoice, rows: list[Instalment]) -> list[Due]:
    return dues_or_whole(
        invoice.due_on, invoice.total, [Due(r.number, r.due_on, r.settled_when_paid) for r in rows]
    )


def dues_or_whole(due_on: date | None, total: Decimal, dues: list[Due]) -> list[Due]:
    """The plan's instalments; without a plan, one: the whole invoice by its due date."""
    if dues:
        return dues
    assert due_on is not None
    return [Due(1, due_on, total)]


def current_instalment(amount_paid: Decimal, dues: list[Due]) -> Due:
    for due in dues:
        if amount_paid < due.settled_when_paid:
            return due
    return dues[-1]


def _current_due(invoice: Invoice, steps: Steps, sequence_id: int) -> Due | None:
    """A payment plan's instalment now owed (None: not a payment-plan sequence)."""
    if not _is_plan(steps, sequence_id):
        return None
    plan = list(invoice.instalments.order_by("number"))
    return current_instalment(invoice.amount_paid, instalments_of(invoice, plan))


# --- Starting and moving a state -----------------------------------------------------------


def _schedule(state: FollowUpState | StateRow, steps: Steps) -> None:
    """``next_touch_on`` from the state's cycle (None while paused by a dispute)."""
    if state.stopped_at is not None or state.paused == PauseReason.DISPUTE:
        state.next_touch_on = None
    elif state.paused == PauseReason.PROMISE:
        assert state.promised_on is not None
        state.next_touch_on = state.promised_on + timedelta(days=1)
    else:
        state.next_touch_on = next_touch_on(
            steps.at(state.sequence_id), anchor=state.anchor_on, last_position=state.last_position
        )


def _new_state(
    invoice: Invoice,
    plan_rows: list[Instalment],
    profile: ClientBillingProfile | None,
    steps: Steps,
) -> FollowUpState:
    sequence_id = sequence_for(invoice.client, profile, has_plan=bool(plan_rows), steps=steps)
    state = FollowUpState(
        invoice=invoice, client_id=invoice.client_id, sequence_id=sequence_id, cycle=1
    )
    if _is_plan(steps, sequence_id):
        due = current_instalment(invoice.amount_paid, instalments_of(invoice, plan_rows))
        state.anchor_on, state.instalment = due.due_on, due.number
    else:
        assert invoice.due_on is not None
        state.anchor_on = invoice.due_on
    if invoice.status != InvoiceStatus.ISSUED:
        state.stopped_at = timezone.now()
    _schedule(state, steps)
    return state


def followup_start(*, invoice: Invoice) -> FollowUpState:
    """The invoice's place in its sequence, made when it is issued (call inside that
    transaction); an invoice that has one keeps it."""
    existing = FollowUpState.objects.filter(invoice=invoice).first()
    if existing is not None:
        return existing
    profile = ClientBillingProfile.objects.filter(client_id=invoice.client_id).first()
    plan = list(invoice.instalments.order_by("number"))
    state = _new_state(invoice, plan, profile, Steps())
    state.save()
    return state


def followup_states_create_missing(*, steps: Steps | None = None, batch: int = 2000) -> int:
    """Issued invoices without a state (issued before sequences existed, imported): make
    theirs, in batches, a constant number of queries each."""
    steps = steps or Steps()
    made = 0
    missing = FollowUpState.objects.filter(invoice=OuterRef("pk"))
    while True:
        invoices = list(
            Invoice.objects.filter(status=InvoiceStatus.ISSUED, due_on__isnull=False)
            .filter(~Exists(missing))
            .select_related("client__billing_profile")
            .prefetch_related("instalments")
            .order_by("pk")[:batch]
        )
        if not invoices:
            return made
        states = [
            _new_state(
                invoice,
                sorted(invoice.instalments.all(), key=lambda i: i.number),
                _profile(invoice.client),
                steps,
            )
            for invoice in invoices
        ]
        FollowUpState.objects.bulk_create(states, ignore_conflicts=True)
        made += len(states)


def _profile(client: Client) -> ClientBillingProfile | None:
    try:
        return client.billing_profile
    except ClientBillingProfile.DoesNotExist:
        return None


def _locked_state(invoice: Invoice) -> FollowUpState:
    """The invoice's state, locked (the invoice is locked by the caller); made if missing."""
    state = FollowUpState.objects.select_for_update().filter(invoice=invoice).first()
    if state is None:
        followup_start(invoice=invoice)
        state = FollowUpState.objects.select_for_update().get(invoice=invoice)
    return state


def _restart(
    state: FollowUpState | StateRow,
    *,
    due_on: date | None,
    due: Due | None,
    on: date,
    reason: str,
    steps: Steps,
) -> None:
    """A new cycle from touch 1, anchored at ``on`` (never before the due date, or
    for a payment plan, ``due``: the instalment now owed)."""
    assert due_on is not None
    state.cycle += 1
    state.paused = PauseReason.NONE
    state.promised_on = None
    state.restart_reason = reason[:200]
    seq = steps.at(state.sequence_id)
    if due is not None:
        state.instalment = due.number
        state.anchor_on = max(due.due_on, on)
    else:
        state.anchor_on = max(due_on, on)
    state.last_position = restart_position(seq, anchor=state.anchor_on, today=on)
    _schedule(state, steps)


def followup_stop(*, invoice: Invoice) -> None:
    """Paid in full or void: no more touches (call with the invoice locked)."""
    now = timezone.now()
    FollowUpState.objects.filter(invoice=invoice, stopped_at__isnull=True).update(
        stopped_at=now, next_touch_on=None, updated_at=now
    )
    PaymentPromise.objects.filter(invoice=invoice, status=PromiseStatus.OPEN).update(
        status=PromiseStatus.KEPT if invoice.status == InvoiceStatus.PAID else PromiseStatus.BROKEN,
        settled_at=now,
    )


def followup_on_payment(*, invoice: Invoice, payment: Payment) -> None:
    """A payment was applied (invoice locked): stop when paid in full; otherwise thank
    the client, restate the balance and restart the sequence for the remainder."""
    if invoice.status == InvoiceStatus.PAID:
        followup_stop(invoice=invoice)
        _release_hold_if_settled(invoice.client_id)
        return
    if invoice.status != InvoiceStatus.ISSUED or invoice.due_on is None:
        return
    steps = Steps()
    state = _locked_state(invoice)
    if _is_plan(steps, state.sequence_id):
        plan = list(invoice.instalments.order_by("number"))
        due = current_instalment(invoice.amount_paid, instalments_of(invoice, plan))
        if due.number != state.instalment:
            state.cycle += 1
            state.instalment, state.anchor_on, state.last_position = due.number, due.due_on, 0
            state.restart_reason = f"Instalment {due.number - 1} paid"
            if state.paused != PauseReason.DISPUTE:
                state.paused, state.promised_on = PauseReason.NONE, None
            _schedule(state, steps)
    elif state.paused != PauseReason.DISPUTE:
        _restart(
            state,
            due_on=invoice.due_on,
            due=None,
            on=payment.received_on,
            reason=f"Partial payment of ${payment.amount:,.2f} received {payment.received_on:%B %-d}",
            steps=steps,
        )
    state.save()
    _notify_payment_received(invoice, payment, state)


def _notify_payment_received(invoice: Invoice, payment: Payment, state: FollowUpState) -> None:
    from billing.invoices import invoice_recipient

    recipient = invoice_recipient(invoice)
    if not recipient:
        return
    notify(
        Message(
            subject_type=SubjectType.INVOICE,
            subject_id=invoice.pk,
            template=NotificationTemplate.PAYMENT_RECEIVED,
            step=payment.pk,
            subject=(
                f"Thank you — ${payment.amount:,.2f} received on invoice {invoice.number}; "
                f"${invoice.total - invoice.amount_paid:,.2f} remains"
            ),
            context={
                "invoice": invoice,
                "client": invoice.client,
                "payment": payment,
                "balance": invoice.total - invoice.amount_paid,
                "next_touch_on": state.next_touch_on,
                # The hosted page is for the balance before this payment (and its card
                # surcharge on that): it is re-made after commit, so the email sends the
                # client to their invoice page, which carries the current one.
                "payment_url": (
                    invoice.payment_url
                    if invoice.payment_page_amount == invoice.total - invoice.amount_paid
                    else ""
                ),
                "public_url": invoice_public_url(invoice_id=invoice.pk),
                "payment_instructions": settings.PAYMENT_INSTRUCTIONS,
                "firm_name": settings.FIRM_NAME,
            },
        ),
        emails=[recipient],
    )


# --- Promises to pay ---------------------------------------------------------------------


@transaction.atomic
def promise_record(
    *,
    invoice_id: int,
    user: object,
    promised_on: date,
    amount: Decimal | None = None,
    note: str = "",
    today: date | None = None,
) -> PaymentPromise:
    """The client promised to pay by ``promised_on``: the sequence waits until the day
    after; paid in full by then, the promise is kept and the sequence stays stopped."""
    from billing.invoices import _locked

    today = today or timezone.localdate()
    if not (today <= promised_on <= today + timedelta(days=MAX_PROMISE_DAYS)):
        raise ApplicationError(
            {"promised_on": f"A promised date is from today to {MAX_PROMISE_DAYS} days ahead."}
        )
    invoice = _locked(invoice_id)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ApplicationError("Only an issued, unpaid invoice takes a promise to pay.")
    if amount is not None and not (ZERO < amount <= invoice.total - invoice.amount_paid):
        raise ApplicationError({"amount": "Between $0.01 and the balance, or leave it empty."})
    state = _locked_state(invoice)
    if state.paused == PauseReason.DISPUTE:
        raise ApplicationError("The invoice is disputed: resolve the dispute first.")
    PaymentPromise.objects.filter(invoice=invoice, status=PromiseStatus.OPEN).update(
        status=PromiseStatus.BROKEN, settled_at=timezone.now()
    )  # replaced by the new date
    promise = PaymentPromise.objects.create(
        invoice=invoice,
        promised_on=promised_on,
        amount=amount,
        note=note.strip()[:300],
        recorded_by=user if getattr(user, "pk", None) else None,
    )
    state.paused, state.promised_on = PauseReason.PROMISE, promised_on
    _schedule(state, Steps())
    state.save()
    return promise


# --- The daily run (billing.followup_run) ------------------------------------------------


def followups_run(
    *, today: date | None = None, now: datetime | None = None, client_batch: int | None = None
) -> RunResult:
    """The daily run: ``billing.followup_run.followups_run`` (set-based, its own module)."""
    from billing import followup_run

    return followup_run.followups_run(
        today=today, now=now, client_batch=client_batch or followup_run.CLIENT_BATCH
    )


def _release_hold_if_settled(client_id: int) -> None:
    """The hold a follow-up placed goes when every invoice that drew a hold notice is
    paid (a hold placed by hand, before any such notice, stays for a person to lift)."""
    client = Client.objects.filter(pk=client_id, account_hold=True).first()
    if client is None or client.account_hold_since is None:
        return
    hold_touches = FollowUpTouch.objects.filter(
        invoice__client_id=client_id, step__set_account_hold=True
    )
    since = client.account_hold_since
    window = (since - timedelta(minutes=5), since + timedelta(minutes=5))
    if not hold_touches.filter(created_at__range=window).exists():
        return  # placed by hand, not by a hold notice
    if hold_touches.filter(invoice__status=InvoiceStatus.ISSUED).exists():
        return
    account_hold_release(client_id=client_id, reason="paid in full")


def account_hold_release(*, client_id: int, reason: str) -> int:
    """Lift a client's account hold and ask dispatch for the work it held; how many tasks."""
    from dispatch.choices import DecisionOutcome, Trigger
    from dispatch.models import DispatchDecision
    from engagements.choices import TaskStatus
    from engagements.models import Task
    from engagements.readiness import dispatch_request

    updated = Client.objects.filter(pk=client_id, account_hold=True).update(
        account_hold=False,
        account_hold_reason="",
        account_hold_since=None,
        updated_at=timezone.now(),
    )
    if not updated:
        return 0
    held = DispatchDecision.objects.filter(
        task=OuterRef("pk"), outcome=DecisionOutcome.HELD_ACCOUNT_HOLD
    )
    task_ids = (
        Task.objects.filter(engagement__client_id=client_id, status=TaskStatus.UNASSIGNED)
        .filter(Exists(held))
        .values_list("pk", flat=True)
    )
    logger.info("account hold released for client %s (%s)", client_id, reason)
    return dispatch_request(task_ids=list(task_ids), trigger=Trigger.HOLD_RELEASED)


@transaction.atomic
def account_hold_place(*, client_id: int, reason: str) -> None:
    """A coordinator puts a client on hold by hand."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError({"reason": "Say why the client goes on hold."})
    Client.objects.filter(pk=client_id).update(
        account_hold=True,
        account_hold_reason=reason[:300],
        account_hold_since=timezone.now(),
        updated_at=timezone.now(),
    )


# --- Words -------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill(template: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` with its value; an unknown name stays as written (never an
    attribute lookup: the words come from the admin)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


# --- The billing coordinator's tasks -------------------------------------------------------


class _Coordinators:
    """Who gets the next call or dispute task: the billing group's active staff in turn
    (fewest open tasks first); nobody in the group: the task waits unassigned on the
    billing tasks page, where every coordinator and partner sees it."""

    def __init__(self) -> None:
        self.people = list(
            StaffMember.objects.filter(active=True, user__groups__name=BILLING)
            .select_related("user")
            .order_by("pk")
        )
        counts: dict[int, int] = {}
        if self.people:
            counts = dict(
                BillingTask.objects.filter(status=BillingTaskStatus.OPEN, assignee__in=self.people)
                .order_by()
                .values("assignee_id")
                .annotate(n=Count("pk"))
                .values_list("assignee_id", "n")
            )
        self.load = {p.pk: counts.get(p.pk, 0) for p in self.people}

    def next(self) -> StaffMember | None:
        if not self.people:
            return None
        chosen = min(self.people, key=lambda p: (self.load[p.pk], p.pk))
        self.load[chosen.pk] += 1
        return chosen


def task_delivery(task: BillingTask) -> Delivery:
    from django.urls import reverse

    assert task.assignee is not None
    return Delivery(
        Message(
            subject_type=SubjectType.BILLING_TASK,
            subject_id=task.pk,
            template=NotificationTemplate.BILLING_TASK_ASSIGNED,
            subject=task.title,
            context={
                "task": task,
                "client": task.client,
                "staff": task.assignee,
                "tasks_url": settings.SITE_URL + reverse("billing:tasks"),
                "firm_name": settings.FIRM_NAME,
            },
        ),
        staff=(task.assignee,),
    )


def coordinator_for_new_task() -> StaffMember | None:
    return _Coordinators().next()


def states_for(invoice_ids: Iterable[int]) -> dict[int, FollowUpState]:
    return {
        s.invoice_id: s
        for s in FollowUpState.objects.filter(invoice_id__in=list(invoice_ids)).select_related(
            "sequence"
        )
    }


# --- Payment plans -----------------------------------------------------------------------

MAX_INSTALMENTS = 24


@transaction.atomic
def instalment_plan_create(
    *, invoice_id: int, count: int, first_due_on: date, every_days: int = 30
) -> list[Instalment]:
    """Split what is owed into ``count`` instalments, the first on ``first_due_on``, then
    every ``every_days`` days; the sequence becomes the payment-plan one, reminding of
    each instalment ahead of it and of a missed one after."""
    from billing.invoices import _locked

    if not (2 <= count <= MAX_INSTALMENTS):
        raise ApplicationError({"count": f"Between 2 and {MAX_INSTALMENTS} instalments."})
    if not (7 <= every_days <= 92):
        raise ApplicationError({"every_days": "Between 7 and 92 days apart."})
    today = timezone.localdate()
    if not (today <= first_due_on <= today + timedelta(days=365)):
        raise ApplicationError({"first_due_on": "The first instalment is due within a year."})
    invoice = _locked(invoice_id)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ApplicationError("Only an issued, unpaid invoice can be paid by instalments.")
    if invoice.instalments.exists():
        raise ApplicationError("This invoice already has a payment plan.")
    owed = invoice.total - invoice.amount_paid
    share = (owed / count).quantize(CENT)
    if share <= 0:
        raise ApplicationError("Nothing is owed to split.")
    rows, reached = [], invoice.amount_paid
    for number in range(1, count + 1):
        amount = share if number < count else owed - share * (count - 1)
        reached += amount
        rows.append(
            Instalment(
                invoice=invoice,
                number=number,
                due_on=first_due_on + timedelta(days=every_days * (number - 1)),
                amount=amount,
                settled_when_paid=reached,
            )
        )
    Instalment.objects.bulk_create(rows)
    steps = Steps()
    state = _locked_state(invoice)
    state.sequence_id = steps.default(SequenceKind.PAYMENT_PLAN)
    state.cycle += 1
    state.instalment, state.anchor_on, state.last_position = 1, rows[0].due_on, 0
    state.restart_reason = f"Payment plan: {count} instalments"
    if state.paused == PauseReason.PROMISE:
        state.paused, state.promised_on = PauseReason.NONE, None
    _schedule(state, steps)
    state.save()
    return rows


def followup_client_resequence(*, client_id: int) -> int:
    """The client's sequence or kind changed (the admin): their open invoices move to
    the sequence that now applies, in their current cycle; how many moved."""
    steps = Steps()
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return 0
    profile = ClientBillingProfile.objects.filter(client=client).first()
    moved = 0
    states = FollowUpState.objects.filter(client=client, stopped_at__isnull=True).select_related(
        "invoice"
    )
    for state in states:
        has_plan = state.invoice.instalments.exists()
        wanted = sequence_for(client, profile, has_plan=has_plan, steps=steps)
        if wanted != state.sequence_id:
            state.sequence_id = wanted
            _schedule(state, steps)
            state.save(update_fields=["sequence", "next_touch_on", "updated_at"])
            moved += 1
    return moved


# --- The coordinator's tasks -------------------------------------------------------------


@transaction.atomic
def billing_task_done(*, task_id: int, user: object, note: str) -> BillingTask:
    """Close a call task with what came of it (a dispute's task closes with the dispute)."""
    task = BillingTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise ApplicationError("That task does not exist.")
    if task.kind == BillingTaskKind.DISPUTE and task.is_open:
        raise ApplicationError("Resolve the dispute itself: its task closes with it.")
    if task.is_open:
        task.status = BillingTaskStatus.DONE
        task.done_at = timezone.now()
        task.done_by = user if getattr(user, "pk", None) else None  # type: ignore[assignment]
        task.outcome_note = note.strip()[:500]
        task.save()
    return task
