from __future__ import annotations

from django import forms

from core.forms import MAX_ID, FirmForm
from dispatch.models import REASON_MAX_LENGTH
from engagements.lifecycle import MAX_ESTIMATE_HOURS, MIN_ESTIMATE_HOURS
from staff.models import StaffMember


class ManualAssignForm(FirmForm):
    staff_member = forms.ModelChoiceField(
        queryset=StaffMember.objects.none(), label="Assign to", empty_label="Choose a person"
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
        help_text="Logged with the assignment as an override.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["staff_member"].queryset = StaffMember.objects.filter(
            active=True
        ).select_related("user")

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason for assigning by hand.")
        return reason


class EstimateForm(FirmForm):
    hours = forms.DecimalField(
        min_value=MIN_ESTIMATE_HOURS,
        max_value=MAX_ESTIMATE_HOURS,
        decimal_places=2,
        label="Estimated hours",
    )


class HandBackForm(FirmForm):
    """Request reassignment: the reason is feedback on the decision that chose you."""

    reason = forms.CharField(max_length=REASON_MAX_LENGTH, strip=True)


class EscalationAssignForm(FirmForm):
    """Assign one of the people an escalation lists (the service checks they are listed)."""

    staff_id = forms.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        label="Person",
        error_messages={"required": "Choose a person to assign."},
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        label="Reason",
        error_messages={"required": "Give a reason for assigning by hand."},
    )
