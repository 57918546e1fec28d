"""Every billing POST goes through one of these: bounded numbers, dates a firm can mean,
text with a length (Django's CharField refuses NUL bytes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from billing.choices import DisputeOutcome, PaymentMethod, WriteDownReason
from billing.models import MAX_ENTRY_HOURS, MIN_ENTRY_HOURS, InvoiceLine
from billing.selectors import recent_clients_for, recent_engagements_for
from clients.models import Client
from core.dates import validate_firm_date
from core.forms import FirmForm
from engagements.models import Engagement
from staff.models import StaffMember

HOURS_MESSAGE = "Enter between 0.1 and 24 hours."


class TimeEntryForm(FirmForm):
    date = forms.DateField(
        validators=[validate_firm_date],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2026-11-06.", "required": "Enter a date."},
    )
    hours = forms.DecimalField(
        min_value=MIN_ENTRY_HOURS,
        max_value=MAX_ENTRY_HOURS,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.1", "min": "0.1", "max": "24"}),
        error_messages={
            "min_value": HOURS_MESSAGE,
            "max_value": HOURS_MESSAGE,
            "invalid": HOURS_MESSAGE,
            "required": HOURS_MESSAGE,
            "max_decimal_places": "Use at most two decimals (1.25 h).",
            "max_digits": HOURS_MESSAGE,
        },
    )
    description = forms.CharField(max_length=500, required=False)


class TimeEntryNewForm(TimeEntryForm):
    engagement = forms.ModelChoiceField(
        queryset=Engagement.objects.none(), required=False, label="Engagement"
    )
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, label="or client (no engagement)"
    )

    def __init__(self, *args: Any, staff: StaffMember, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].queryset = recent_engagements_for(staff=staff, today=today)  # type: ignore[attr-defined]
        self.fields["client"].queryset = recent_clients_for(staff=staff, today=today)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("engagement") and not data.get("client"):
            self.add_error("engagement", "Choose the engagement (or the client) the time was for.")
        return data


class WeekForm(FirmForm):
    week = forms.DateField(required=False, validators=[validate_firm_date])


class InvoiceLineForm(FirmForm):
    description = forms.CharField(max_length=300)
    quantity = forms.DecimalField(
        min_value=Decimal("0.01"), max_value=Decimal("10000"), max_digits=9, decimal_places=2
    )
    unit_price = forms.DecimalField(
        min_value=Decimal("-1000000"),
        max_value=Decimal("1000000"),
        max_digits=10,
        decimal_places=2,
        label="Price",
    )


class AdjustmentForm(FirmForm):
    description = forms.CharField(max_length=300)
    amount = forms.DecimalField(
        min_value=Decimal("-1000000"), max_value=Decimal("1000000"), max_digits=10, decimal_places=2
    )
    write_down_reason = forms.ChoiceField(
        choices=WriteDownReason.choices, required=False, label="Reason (for a write-down)"
    )


class RejectForm(FirmForm):
    note = forms.CharField(max_length=500, label="Why", error_messages={"required": "Say why."})


class VoidForm(FirmForm):
    reason = forms.CharField(max_length=500, error_messages={"required": "Say why."})


class PaymentForm(FirmForm):
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_value=Decimal("10000000"),
        max_digits=12,
        decimal_places=2,
        error_messages={"min_value": "Enter an amount of more than $0."},
    )
    received_on = forms.DateField(
        validators=[validate_firm_date], widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.ChoiceField(choices=PaymentMethod.choices)
    reference = forms.CharField(
        max_length=128, required=False, help_text="Check number or bank reference (optional)."
    )
    note = forms.CharField(max_length=300, required=False)


class DisputeForm(FirmForm):
    """The coordinator flags a dispute: no lines chosen means the whole invoice."""

    lines = forms.ModelMultipleChoiceField(
        queryset=InvoiceLine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only these lines are disputed (none chosen: the whole invoice).",
    )
    note = forms.CharField(max_length=500, required=False, label="What the client said")

    def __init__(self, *args: Any, invoice_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if invoice_id is not None:
            self.fields["lines"].queryset = InvoiceLine.objects.filter(invoice_id=invoice_id)  # type: ignore[attr-defined]


class DisputeResolveForm(FirmForm):
    outcome = forms.ChoiceField(choices=DisputeOutcome.choices)
    note = forms.CharField(max_length=500, label="How it was resolved")


class PromiseForm(FirmForm):
    promised_on = forms.DateField(
        validators=[validate_firm_date],
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Promised to pay by",
    )
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_value=Decimal("10000000"),
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text="Optional: the amount promised.",
    )
    note = forms.CharField(max_length=300, required=False)


class InstalmentPlanForm(FirmForm):
    count = forms.IntegerField(min_value=2, max_value=24, label="Instalments")
    first_due_on = forms.DateField(
        validators=[validate_firm_date],
        widget=forms.DateInput(attrs={"type": "date"}),
        label="First due on",
    )
    every_days = forms.IntegerField(min_value=7, max_value=92, initial=30, label="Days apart")


class TaskDoneForm(FirmForm):
    note = forms.CharField(max_length=500, required=False, label="What came of it")


class HoldReleaseForm(FirmForm):
    reason = forms.CharField(max_length=300, label="Why the hold is lifted")
