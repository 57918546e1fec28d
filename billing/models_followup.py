"""The follow-up sequences' records: the sequences and their steps (data, edited in the
admin), each open invoice's place in its sequence, the touches sent, disputes,
promises to pay, instalment plans and the billing coordinator's tasks.

| rule | held by |
| a touch at most once per invoice, cycle and step | ``followuptouch_once_per_cycle_step`` |
| one follow-up state per invoice | ``FollowUpState.invoice`` (one-to-one) |
| one default sequence per kind | ``followupsequence_one_default_per_kind`` |
| steps numbered 1, 2, ... once per sequence, one per day | ``followupstep_position_unique``, ``followupstep_day_unique`` |
| one open dispute per invoice | ``dispute_one_open_per_invoice`` |
| one open promise per invoice | ``paymentpromise_one_open_per_invoice`` |
| one call task per follow-up message, one review task per dispute | ``BillingTask.message``, ``BillingTask.dispute`` (one-to-one) |
| instalments numbered once per invoice | ``instalment_number_unique`` |
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from billing.choices import (
    BillingTaskKind,
    BillingTaskStatus,
    DisputeOutcome,
    DisputeSource,
    DisputeStatus,
    PauseReason,
    PromiseStatus,
    SequenceKind,
)
from core.dates import validate_firm_date
from core.models import TimeStampedModel

MIN_STEP_DAY = -60
MAX_STEP_DAY = 365


class FollowUpSequence(TimeStampedModel):
    """A cadence of touches after an invoice's due date (or before each instalment)."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=SequenceKind.choices)
    is_default = models.BooleanField(
        default=False,
        help_text="The sequence every client of this kind gets unless told otherwise.",
    )
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = "follow-up sequence"
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(is_default=True),
                name="followupsequence_one_default_per_kind",
                violation_error_message="Another sequence is already the default for this kind.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class FollowUpStep(models.Model):
    """One touch of a sequence: on which day, through which channels, saying what.

    ``day`` counts from the invoice's due date (or the day a partial payment, a broken
    promise or a resolved dispute restarted the sequence); for payment plans from
    each instalment's due date, negative for a reminder before it. Subject, body and
    SMS text may use ``{client}``, ``{contact}``, ``{number}``, ``{numbers}``,
    ``{due_on}``, ``{amount}``, ``{days}``, ``{firm}``, ``{firm_phone}`` and, for
    payment plans, ``{instalment}`` and ``{instalment_due_on}``.
    """

    sequence = models.ForeignKey(FollowUpSequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="Touch 1, 2, 3 …")
    day = models.SmallIntegerField(
        help_text="Days after the due date (negative: before an instalment is due)."
    )
    label = models.CharField(max_length=80, help_text="e.g. Friendly reminder")
    send_email = models.BooleanField(default=True)
    send_sms = models.BooleanField(default=False, help_text="When a mobile number is on file.")
    payment_link = models.BooleanField(default=True, help_text="Include the pay-online link.")
    autopay_offer = models.BooleanField(default=False, help_text="Offer auto-pay enrollment.")
    set_account_hold = models.BooleanField(
        default=False, help_text="Put the client on account hold (no new non-urgent work)."
    )
    coordinator_call = models.BooleanField(
        default=False, help_text="Create a task for the billing coordinator to call the client."
    )
    email_subject = models.CharField(max_length=200, blank=True)
    email_body = models.TextField(max_length=4000, blank=True)
    sms_text = models.CharField(max_length=320, blank=True)

    class Meta:
        ordering = ["sequence_id", "position"]
        verbose_name = "follow-up step"
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "position"],
                name="followupstep_position_unique",
                violation_error_message="This sequence already has a step with that number.",
            ),
            models.UniqueConstraint(
                fields=["sequence", "day"],
                name="followupstep_day_unique",
                violation_error_message="This sequence already has a step on that day.",
            ),
            models.CheckConstraint(
                condition=Q(day__gte=MIN_STEP_DAY) & Q(day__lte=MAX_STEP_DAY),
                name="followupstep_day_in_range",
                violation_error_message="A step's day is between -60 and 365.",
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1) & Q(position__lte=20),
                name="followupstep_position_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} · touch {self.position} (day {self.day}): {self.label}"


class FollowUpState(models.Model):
    """Where one issued invoice stands in its sequence.

    ``next_touch_on`` is the day the next touch falls due (the daily run reads only
    states due by today, through an index): empty once the invoice is paid, while a
    dispute pauses it, or when the sequence has nothing left to send. A promise to pay
    sets it to the day after the promised date, when a broken promise restarts it.
    """

    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.CASCADE, related_name="followup"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    sequence = models.ForeignKey(FollowUpSequence, on_delete=models.PROTECT, related_name="+")
    cycle = models.PositiveIntegerField(default=1)
    anchor_on = models.DateField(help_text="Day 0 of this cycle: the due date, or the restart.")
    instalment = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Payment plans: the instalment this cycle is about."
    )
    last_position = models.PositiveSmallIntegerField(
        default=0, help_text="The last touch sent in this cycle (0: none yet)."
    )
    next_touch_on = models.DateField(null=True, blank=True, db_index=True)
    paused = models.CharField(
        max_length=8, choices=PauseReason.choices, default=PauseReason.NONE, blank=True
    )
    promised_on = models.DateField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="Paid in full or void.")
    restart_reason = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "follow-up state"
        indexes = [models.Index(fields=["client", "next_touch_on"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(paused=PauseReason.PROMISE) | Q(promised_on__isnull=False),
                name="followupstate_promise_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"Follow-up of invoice {self.invoice_id}: cycle {self.cycle}, touch {self.last_position}"


class FollowUpMessage(models.Model):
    """What one run sent one client: one email (and SMS) for all their invoices at a touch."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField()
    lead_step = models.ForeignKey(FollowUpStep, on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_on", "-pk"]
        verbose_name = "follow-up message"

    def __str__(self) -> str:
        return f"Follow-up to {self.client} on {self.sent_on}"


class FollowUpTouch(models.Model):
    """One touch on one invoice, with what triggered it ("why it was sent").

    Storing the row claims the touch: the unique constraint lets one run, however
    many run at once, store it once per invoice, cycle and step. Whether the email
    or SMS actually left is the outbox's business (its rows' status), never assumed.
    """

    invoice = models.ForeignKey("billing.Invoice", on_delete=models.CASCADE, related_name="touches")
    cycle = models.PositiveIntegerField()
    step = models.ForeignKey(FollowUpStep, on_delete=models.PROTECT, related_name="touches")
    message = models.ForeignKey(
        FollowUpMessage, on_delete=models.CASCADE, related_name="touches", null=True
    )
    sent_on = models.DateField()
    days_overdue = models.IntegerField()
    balance = models.DecimalField(max_digits=12, decimal_places=2, help_text="Undisputed, chased.")
    instalment = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=300, help_text="Why it was sent, in words.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_on", "pk"]
        verbose_name = "follow-up touch"
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "cycle", "step"], name="followuptouch_once_per_cycle_step"
            )
        ]

    def __str__(self) -> str:
        return f"Touch {self.step.position} on invoice {self.invoice_id} ({self.sent_on})"


class Dispute(TimeStampedModel):
    """A client questions an invoice (all of it, or named lines)."""

    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="disputes"
    )
    source = models.CharField(max_length=8, choices=DisputeSource.choices)
    status = models.CharField(
        max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="The part disputed.")
    whole_invoice = models.BooleanField(default=True)
    lines = models.ManyToManyField("billing.InvoiceLine", blank=True, related_name="+")
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(max_length=5000, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=8, choices=DisputeOutcome.choices, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status=DisputeStatus.OPEN),
                name="dispute_one_open_per_invoice",
                violation_error_message="This invoice already has an open dispute.",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="dispute_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Dispute on invoice {self.invoice_id} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == DisputeStatus.OPEN


class PaymentPromise(models.Model):
    """The client promised to pay by a date: the sequence waits until then."""

    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.CASCADE, related_name="promises"
    )
    promised_on = models.DateField(validators=[validate_firm_date])
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=8, choices=PromiseStatus.choices, default=PromiseStatus.OPEN
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status=PromiseStatus.OPEN),
                name="paymentpromise_one_open_per_invoice",
                violation_error_message="This invoice already has an open promise to pay.",
            )
        ]

    def __str__(self) -> str:
        return f"Promise to pay invoice {self.invoice_id} by {self.promised_on}"


class Instalment(models.Model):
    """One instalment of an invoice's payment plan. Instalment k is settled once the
    invoice's payments reach what was paid before the plan plus instalments 1..k
    (``settled_when_paid``): no allocation of payments to instalments needed."""

    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.CASCADE, related_name="instalments"
    )
    number = models.PositiveSmallIntegerField()
    due_on = models.DateField(validators=[validate_firm_date])
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    settled_when_paid = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="The invoice's amount paid at which this instalment is settled.",
    )

    class Meta:
        ordering = ["invoice_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "number"], name="instalment_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
        ]

    def __str__(self) -> str:
        return (
            f"Instalment {self.number} of invoice {self.invoice_id}: {self.amount} by {self.due_on}"
        )


class BillingTask(models.Model):
    """Work for the billing coordinator: call a client, review a dispute."""

    kind = models.CharField(max_length=8, choices=BillingTaskKind.choices)
    title = models.CharField(max_length=200)
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.OneToOneField(
        FollowUpMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="call_task"
    )
    dispute = models.OneToOneField(
        Dispute, null=True, blank=True, on_delete=models.CASCADE, related_name="task"
    )
    details = models.CharField(max_length=1000, blank=True)
    assignee = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=8, choices=BillingTaskStatus.choices, default=BillingTaskStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["status", "-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "assignee"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == BillingTaskStatus.OPEN
