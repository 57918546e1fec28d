"""Billing's records: the rate card, time, invoices and the money that pays them.

Invariants live in the database where it can hold them:

| rule | held by |
| one draft time entry per completed task | ``timeentry_one_completion_draft_per_task`` |
| one running timer per person | ``RunningTimer.staff_member`` (one-to-one) |
| hours per entry 0.1 to 24 | ``timeentry_hours_in_range`` |
| invoice numbers unique, given once, in order | ``invoice_number_unique`` + ``InvoiceSequence`` row lock |
| an invoice never paid past its total, never paid while a draft | ``invoice_paid_within_total``, ``invoice_unpaid_until_issued`` |
| paid means paid in full | ``invoice_paid_means_settled`` |
| a line's amount is its quantity times its price, to the cent | ``invoiceline_amount_is_quantity_times_price`` |
| one automated draft per engagement, one retainer invoice per client and month | ``invoice_one_open_per_engagement``, ``invoice_one_retainer_per_month`` |
| one payment per (source, external id) | ``payment_external_id_once`` |
| one late fee per invoice and period | ``latefee_once_per_period`` |
| one card surcharge decision per payment; kept means a line, refunded a refund | ``CardSurcharge.payment`` (one-to-one), ``cardsurcharge_outcome_has_proof`` |
| a card surcharge rate above 0 and at most the legal cap (3 %) | ``billingprofile_surcharge_in_range``, ``invoice_page_surcharge_in_range`` |
| one leakage reminder per task | ``LeakageReminder.task`` (one-to-one) |

The invoice's total is the sum of its lines: ``billing.invoices`` is the only
writer of lines and re-adds them under the invoice's row lock.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from billing.choices import (
    CardFunding,
    InvoiceOrigin,
    InvoiceStatus,
    LateFeeMode,
    LineKind,
    PaymentMethod,
    PaymentSource,
    PaymentStatus,
    SurchargeMode,
    SurchargeOutcome,
    TimeEntrySource,
    TimeEntryStatus,
    WriteDownReason,
)
from core.dates import validate_firm_date
from core.models import TimeStampedModel
from engagements.choices import TaskRole

MIN_ENTRY_HOURS = Decimal("0.1")
MAX_ENTRY_HOURS = Decimal("24")
HALF_CENT = Decimal("0.00501")
# Card network rules (US): a surcharge of at most 3 %; a rate under a hundredth of a
# percent is not one a firm can mean. ``settings.CARD_SURCHARGE_MAX_PERCENT`` is the same cap.
SURCHARGE_MIN_PERCENT = Decimal("0.01")
SURCHARGE_MAX_PERCENT = Decimal("3.00")


class RateOverride(TimeStampedModel):
    """A client's deal on the rate card: an hourly rate for a work type, a person, or a
    person on a work type; or a fixed fee for a work type."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="rate_overrides"
    )
    work_type = models.ForeignKey(
        "engagements.WorkType", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    staff_member = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    hourly_rate = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    fixed_fee = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["client__name", "pk"]
        verbose_name = "client rate"
        constraints = [
            models.CheckConstraint(
                condition=Q(work_type__isnull=False) | Q(staff_member__isnull=False),
                name="rateoverride_has_scope",
                violation_error_message="Choose a work type, a staff member, or both.",
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate__isnull=False, fixed_fee__isnull=True)
                | Q(hourly_rate__isnull=True, fixed_fee__isnull=False),
                name="rateoverride_rate_or_fee",
                violation_error_message="Give an hourly rate or a fixed fee (one of them).",
            ),
            models.CheckConstraint(
                condition=Q(fixed_fee__isnull=True)
                | Q(work_type__isnull=False, staff_member__isnull=True),
                name="rateoverride_fee_per_work_type",
                violation_error_message="A fixed fee is for a work type, not for a person.",
            ),
            models.CheckConstraint(
                condition=(Q(hourly_rate__isnull=True) | Q(hourly_rate__gte=0))
                & (Q(fixed_fee__isnull=True) | Q(fixed_fee__gte=0)),
                name="rateoverride_not_negative",
                violation_error_message="Rates and fees cannot be negative.",
            ),
            models.UniqueConstraint(
                fields=["client", "work_type", "staff_member"],
                condition=Q(work_type__isnull=False, staff_member__isnull=False),
                name="rateoverride_unique_work_type_staff",
                violation_error_message="This client already has a rate for that person on that work type.",
            ),
            models.UniqueConstraint(
                fields=["client", "work_type"],
                condition=Q(staff_member__isnull=True),
                name="rateoverride_unique_work_type",
                violation_error_message="This client already has a rate for that work type.",
            ),
            models.UniqueConstraint(
                fields=["client", "staff_member"],
                condition=Q(work_type__isnull=True),
                name="rateoverride_unique_staff",
                violation_error_message="This client already has a rate for that person.",
            ),
        ]

    def __str__(self) -> str:
        scope = " · ".join(str(x) for x in (self.work_type, self.staff_member) if x)
        price = (
            f"${self.hourly_rate}/h" if self.hourly_rate is not None else f"${self.fixed_fee} fee"
        )
        return f"{self.client}: {scope} at {price}"


class TimeEntryDefault(models.Model):
    """The hours a draft time entry starts with for a work type and task role (seeds:
    individual return preparation, 3.5 h); without one, the task's estimate."""

    work_type = models.ForeignKey(
        "engagements.WorkType", on_delete=models.CASCADE, related_name="time_defaults"
    )
    role = models.CharField(max_length=10, choices=TaskRole.choices)
    hours = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["work_type__name", "role"]
        verbose_name = "draft time default"
        constraints = [
            models.UniqueConstraint(
                fields=["work_type", "role"],
                name="timeentrydefault_unique",
                violation_error_message="This work type already has a default for that role.",
            ),
            models.CheckConstraint(
                condition=Q(hours__gte=MIN_ENTRY_HOURS) & Q(hours__lte=MAX_ENTRY_HOURS),
                name="timeentrydefault_hours_in_range",
                violation_error_message="Between 0.1 and 24 hours.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_type} ({self.get_role_display()}): {self.hours} h"


class ClientBillingProfile(TimeStampedModel):
    """Per-client billing controls; every empty field means "the firm's default"."""

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="billing_profile"
    )
    billing_email = models.EmailField(
        blank=True, help_text="Where invoices go, when not the client's main address."
    )
    terms_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Days to pay (empty: the firm's terms)."
    )
    late_fee_mode = models.CharField(
        max_length=3, choices=LateFeeMode.choices, default=LateFeeMode.FIRM_DEFAULT, blank=True
    )
    late_fee_flat = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    late_fee_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Of the overdue balance."
    )
    late_fee_grace_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # The follow-up sequences.
    exclude_from_reminders = models.BooleanField(
        default=False, help_text="No follow-up touches for this client."
    )
    followup_sequence = models.ForeignKey(
        "billing.FollowUpSequence",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the default for the client's kind (payment plan, retainer, standard).",
    )
    min_reminder_balance = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        help_text="No reminder goes out for a balance under this.",
    )
    # The card surcharge on the online payment page (credit cards only).
    card_surcharge_mode = models.CharField(
        max_length=3,
        choices=SurchargeMode.choices,
        default=SurchargeMode.FIRM_DEFAULT,
        blank=True,
        help_text="Firm default, none for this client, or the rate below.",
    )
    card_surcharge_percent = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(SURCHARGE_MIN_PERCENT, "A surcharge is at least 0.01 %%."),
            MaxValueValidator(
                SURCHARGE_MAX_PERCENT, "Card network rules cap a surcharge at 3 %% of the payment."
            ),
        ],
        help_text="Of the balance paid by credit card, 0.01–3 % (used with the mode "
        "'card surcharge at the rate set here').",
    )

    class Meta:
        ordering = ["client__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(terms_days__isnull=True) | Q(terms_days__lte=365),
                name="billingprofile_terms_in_range",
                violation_error_message="Terms are at most 365 days.",
            ),
            models.CheckConstraint(
                condition=(Q(late_fee_flat__isnull=True) | Q(late_fee_flat__gte=0))
                & (
                    Q(late_fee_percent__isnull=True)
                    | (Q(late_fee_percent__gte=0) & Q(late_fee_percent__lte=25))
                )
                & (Q(late_fee_grace_days__isnull=True) | Q(late_fee_grace_days__lte=365)),
                name="billingprofile_late_fee_in_range",
                violation_error_message="Late fees: a flat amount of 0 or more, 0–25 %%, a grace period of at most 365 days.",
            ),
            models.CheckConstraint(
                condition=Q(min_reminder_balance__gte=0),
                name="billingprofile_min_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(card_surcharge_percent__isnull=True)
                | (
                    Q(card_surcharge_percent__gte=SURCHARGE_MIN_PERCENT)
                    & Q(card_surcharge_percent__lte=SURCHARGE_MAX_PERCENT)
                ),
                name="billingprofile_surcharge_in_range",
                violation_error_message="A card surcharge is 0.01–3 %% (the card networks' cap).",
            ),
            models.CheckConstraint(
                condition=~Q(card_surcharge_mode=SurchargeMode.ON)
                | Q(card_surcharge_percent__isnull=False),
                name="billingprofile_surcharge_on_has_rate",
                violation_error_message="Give the surcharge rate for this client, or choose "
                "the firm default or no surcharge.",
            ),
        ]

    def __str__(self) -> str:
        return f"Billing for {self.client}"


class TimeEntry(TimeStampedModel):
    """Time someone spent for a client: drafted for them, approved by them, then billed."""

    staff_member = models.ForeignKey(
        "staff.StaffMember", on_delete=models.PROTECT, related_name="time_entries"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    engagement = models.ForeignKey(
        "engagements.Engagement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_entries",
    )
    task = models.ForeignKey(
        "engagements.Task",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="time_entries",
    )
    work_type = models.ForeignKey(
        "engagements.WorkType", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(validators=[validate_firm_date])
    hours = models.DecimalField(max_digits=5, decimal_places=2)
    description = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=12, choices=TimeEntrySource.choices)
    status = models.CharField(
        max_length=10, choices=TimeEntryStatus.choices, default=TimeEntryStatus.DRAFT
    )
    internal_only = models.BooleanField(
        default=False,
        help_text="Fixed-fee or retainer work: recorded for realization, never billed by the hour.",
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="time_entries",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="The entry's id in the time tracker it came from."
    )

    class Meta:
        ordering = ["date", "pk"]
        verbose_name_plural = "time entries"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="timeentry_once_per_external_id",
                violation_error_message="This time tracker entry is already recorded.",
            ),
            models.CheckConstraint(
                condition=Q(hours__gte=MIN_ENTRY_HOURS) & Q(hours__lte=MAX_ENTRY_HOURS),
                name="timeentry_hours_in_range",
                violation_error_message="An entry is between 0.1 and 24 hours.",
            ),
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(source=TimeEntrySource.COMPLETION),
                name="timeentry_one_completion_draft_per_task",
                violation_error_message="This task already has its drafted entry.",
            ),
            models.CheckConstraint(
                condition=~Q(status=TimeEntryStatus.APPROVED) | Q(approved_at__isnull=False),
                name="timeentry_approved_has_time",
            ),
            models.CheckConstraint(
                condition=Q(invoice__isnull=True) | Q(status=TimeEntryStatus.APPROVED),
                name="timeentry_billed_only_when_approved",
                violation_error_message="Only approved time goes on an invoice.",
            ),
        ]
        indexes = [
            models.Index(fields=["staff_member", "date"]),
            models.Index(fields=["engagement", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.staff_member} · {self.client} · {self.date} · {self.hours} h"

    @property
    def is_draft(self) -> bool:
        return self.status == TimeEntryStatus.DRAFT


class RunningTimer(models.Model):
    """A timer someone started on a task from their queue; stopping it drafts an entry."""

    staff_member = models.OneToOneField(
        "staff.StaffMember", on_delete=models.CASCADE, related_name="running_timer"
    )
    task = models.ForeignKey("engagements.Task", on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.staff_member} on task {self.task_id} since {self.started_at:%H:%M}"


class InvoiceSequence(models.Model):
    """The last invoice number given: one row, locked while a number is taken, so
    numbers are sequential and never given twice, even by concurrent approvals."""

    name = models.CharField(max_length=32, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"


class Invoice(TimeStampedModel):
    number = models.CharField(max_length=32, blank=True)
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="invoices")
    engagement = models.ForeignKey(
        "engagements.Engagement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    origin = models.CharField(max_length=12, choices=InvoiceOrigin.choices)
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    period = models.DateField(
        null=True, blank=True, help_text="The month a retainer invoice is for (its first day)."
    )
    issued_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    terms_days = models.PositiveSmallIntegerField(default=30)
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the invoice email was stored for sending."
    )
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    balance = models.GeneratedField(
        expression=F("total") - F("amount_paid"),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
        db_persist=True,
    )
    disputed_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Part of the balance the client disputes: never chased, never charged late fees.",
    )
    hours = models.DecimalField(
        max_digits=9, decimal_places=2, default=Decimal("0"), help_text="Time it covers."
    )
    standard_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="That time at standard rates: realization is the billed work against it.",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_note = models.CharField(max_length=500, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)
    # The hosted payment page (Stripe), for the balance it was made for.
    payment_page_id = models.CharField(max_length=255, blank=True)
    payment_url = models.CharField(max_length=1000, blank=True)
    payment_page_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    # The card surcharge the page adds as its own line (credit cards only); null: none.
    payment_page_surcharge_percent = models.DecimalField(
        max_digits=4, decimal_places=2, null=True, blank=True
    )
    payment_page_surcharge = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="invoice_number_unique"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=F("total")),
                name="invoice_paid_within_total",
                violation_error_message="An invoice cannot be paid more than its total.",
            ),
            models.CheckConstraint(
                condition=Q(disputed_amount__gte=0) & Q(disputed_amount__lte=F("total")),
                name="invoice_disputed_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(status=InvoiceStatus.PAID) | Q(amount_paid=F("total")),
                name="invoice_paid_means_settled",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.REJECTED])
                | Q(amount_paid=0),
                name="invoice_unpaid_until_issued",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PAID])
                | (~Q(number="") & Q(issued_on__isnull=False) & Q(due_on__isnull=False)),
                name="invoice_issued_has_number_and_dates",
            ),
            models.CheckConstraint(
                condition=Q(due_on__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(due_on__gte=F("issued_on")),
                name="invoice_due_not_before_issue",
            ),
            models.CheckConstraint(
                condition=~Q(origin=InvoiceOrigin.RETAINER) | Q(period__isnull=False),
                name="invoice_retainer_has_period",
            ),
            models.UniqueConstraint(
                fields=["client", "period"],
                condition=Q(origin=InvoiceOrigin.RETAINER),
                name="invoice_one_retainer_per_month",
                violation_error_message="This client already has its retainer invoice for that month.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(payment_page_surcharge__isnull=True)
                    & Q(payment_page_surcharge_percent__isnull=True)
                )
                | (
                    Q(payment_page_surcharge__gt=0)
                    & Q(payment_page_surcharge_percent__gte=SURCHARGE_MIN_PERCENT)
                    & Q(payment_page_surcharge_percent__lte=SURCHARGE_MAX_PERCENT)
                    & Q(payment_page_amount__isnull=False)
                ),
                name="invoice_page_surcharge_in_range",
            ),
            models.UniqueConstraint(
                fields=["engagement"],
                condition=Q(
                    engagement__isnull=False,
                    origin__in=[InvoiceOrigin.MILESTONE, InvoiceOrigin.RETURN_FILED],
                )
                & ~Q(status__in=[InvoiceStatus.REJECTED, InvoiceStatus.VOID]),
                name="invoice_one_open_per_engagement",
                violation_error_message="This engagement already has its invoice.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["client", "status"]),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.display_number} · {self.client}"

    @property
    def display_number(self) -> str:
        return self.number or f"draft {self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_open(self) -> bool:
        """Issued and still owed: what payments, late fees and follow-ups act on."""
        return self.status == InvoiceStatus.ISSUED

    @property
    def is_partly_paid(self) -> bool:
        return self.status == InvoiceStatus.ISSUED and self.amount_paid > 0

    @property
    def chaseable_balance(self) -> Decimal:
        """The balance nobody disputes (follow-ups and late fees act on this)."""
        return max(Decimal("0"), self.total - self.amount_paid - self.disputed_amount)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=12, choices=LineKind.choices)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    staff_member = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)
    write_down_reason = models.CharField(
        max_length=10,
        choices=WriteDownReason.choices,
        default=WriteDownReason.NONE,
        blank=True,
        help_text="Why an adjustment or an edit took value off (the leakage report groups by it).",
    )
    written_down = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Value a partner's edits took off this line before approval (a write-down).",
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="invoiceline_quantity_positive"
            ),
            # Within half a cent: exact on PostgreSQL's numeric, and tolerant of SQLite
            # doing the product in floating point.
            models.CheckConstraint(
                condition=Q(amount__lte=F("quantity") * F("unit_price") + HALF_CENT)
                & Q(amount__gte=F("quantity") * F("unit_price") - HALF_CENT),
                name="invoiceline_amount_is_quantity_times_price",
            ),
            models.CheckConstraint(
                condition=Q(kind=LineKind.ADJUSTMENT) | Q(unit_price__gte=0),
                name="invoiceline_only_adjustments_negative",
            ),
            models.CheckConstraint(
                condition=Q(written_down__gte=0), name="invoiceline_written_down_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"

    @property
    def is_time(self) -> bool:
        return self.kind == LineKind.TIME


class LateFeeCharge(models.Model):
    """Proof that an invoice's late fee for one period was charged (at most once)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="late_fees")
    period = models.PositiveSmallIntegerField(help_text="1 for the first period past grace, ...")
    line = models.OneToOneField(InvoiceLine, on_delete=models.CASCADE, related_name="+")
    charged_on = models.DateField()
    base = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["invoice_id", "period"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "period"], name="latefee_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"Late fee {self.period} on invoice {self.invoice_id}"


class CardSurcharge(models.Model):
    """The card surcharge part of one online payment, and what was decided about it.

    | outcome | when | proof |
    | kept | paid by credit card | ``line``: a SURCHARGE line on the invoice, paid by the payment |
    | refunded | a debit or prepaid card, or not a card | ``refund_id``: Stripe's refund of the surcharge |
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="surcharges")
    # Part of its payment: it goes if the payment ever does (nothing in Closeloop deletes one).
    payment = models.OneToOneField(
        "billing.Payment", on_delete=models.CASCADE, related_name="surcharge"
    )
    line = models.OneToOneField(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    percent = models.DecimalField(max_digits=4, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    funding = models.CharField(max_length=8, choices=CardFunding.choices)
    outcome = models.CharField(max_length=8, choices=SurchargeOutcome.choices)
    refund_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(percent__gte=SURCHARGE_MIN_PERCENT)
                & Q(percent__lte=SURCHARGE_MAX_PERCENT),
                name="cardsurcharge_amount_and_rate_in_range",
            ),
            models.CheckConstraint(
                condition=(
                    Q(outcome=SurchargeOutcome.KEPT)
                    & Q(line__isnull=False)
                    & Q(refund_id="")
                    & Q(funding=CardFunding.CREDIT)
                )
                | (
                    Q(outcome=SurchargeOutcome.REFUNDED)
                    & Q(line__isnull=True)
                    & ~Q(refund_id="")
                    & ~Q(funding=CardFunding.CREDIT)
                ),
                name="cardsurcharge_outcome_has_proof",
            ),
        ]

    def __str__(self) -> str:
        return f"Card surcharge {self.amount} on invoice {self.invoice_id} ({self.outcome})"


class Payment(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    received_on = models.DateField(validators=[validate_firm_date])
    method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    source = models.CharField(
        max_length=8, choices=PaymentSource.choices, default=PaymentSource.MANUAL
    )
    external_id = models.CharField(
        max_length=128, blank=True, help_text="The payment's id in the system that reported it."
    )
    status = models.CharField(max_length=8, choices=PaymentStatus.choices)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="payment_external_id_once",
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.APPLIED) | Q(applied_at__isnull=False),
                name="payment_applied_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on invoice {self.invoice_id} ({self.get_status_display()})"


class LeakageReminder(models.Model):
    """A completed task with no approved time after two business days: its assignee was
    reminded once (this row is the proof), and it shows on the leakage list."""

    task = models.OneToOneField(
        "engagements.Task", on_delete=models.CASCADE, related_name="leakage_reminder"
    )
    staff_member = models.ForeignKey(
        "staff.StaffMember", on_delete=models.CASCADE, related_name="+"
    )
    reminded_at = models.DateTimeField()

    class Meta:
        ordering = ["-reminded_at"]

    def __str__(self) -> str:
        return f"Leakage: task {self.task_id}"


# The follow-up sequences' records live in their own module (this one was long enough).
from billing.models_followup import (  # noqa: E402
    BillingTask,
    Dispute,
    FollowUpMessage,
    FollowUpSequence,
    FollowUpState,
    FollowUpStep,
    FollowUpTouch,
    Instalment,
    PaymentPromise,
)

__all__ = [
    "BillingTask",
    "CardSurcharge",
    "ClientBillingProfile",
    "Dispute",
    "FollowUpMessage",
    "FollowUpSequence",
    "FollowUpState",
    "FollowUpStep",
    "FollowUpTouch",
    "Instalment",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "LateFeeCharge",
    "LeakageReminder",
    "Payment",
    "PaymentPromise",
    "RateOverride",
    "RunningTimer",
    "TimeEntry",
    "TimeEntryDefault",
]
