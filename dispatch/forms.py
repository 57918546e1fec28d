from __future__ import annotations

from django import forms

from core.dates import validate_firm_date
from core.forms import MAX_ID, FirmForm
from dispatch.messages import CAUSE_CAPACITY, CAUSE_DEADLINE, CAUSE_SKILLS
from dispatch.models import REASON_MAX_LENGTH, Escalation
from engagements.lifecycle import MAX_ESTIMATE_HOURS, MIN_ESTIMATE_HOURS
from engagements.models import WorkType
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
        error_messages={
            "required": "Choose a person to assign.",
            "invalid": "Choose one of the qualified people listed.",
            "min_value": "Choose one of the qualified people listed.",
            "max_value": "Choose one of the qualified people listed.",
        },
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        label="Reason",
        error_messages={"required": "Give a reason for assigning by hand."},
    )


class DecideAllForm(FirmForm):
    """Approve or decline every pending rebalancing proposal (the button says which)."""

    decision = forms.ChoiceField(choices=[("approve", "Approve all"), ("decline", "Decline all")])


class ThresholdForm(FirmForm):
    threshold_percent = forms.IntegerField(
        min_value=1,
        max_value=150,
        label="Threshold for this task (%)",
        error_messages={
            "required": "Give the threshold in percent, e.g. 95.",
            "invalid": "Give the threshold as a whole number of percent, e.g. 95.",
            "min_value": "A threshold is at least 1 %%.",
            "max_value": "A threshold above 150 %% would plan more than a week and a half "
            "of work into a week.",
        },
    )


class DeadlineForm(FirmForm):
    due_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        label="New internal deadline",
        validators=[validate_firm_date],
        error_messages={
            "required": "Pick the new internal deadline.",
            "invalid": "Give the date as YYYY-MM-DD.",
        },
    )


class CompleteForm(FirmForm):
    """Completing a task is confirmed: the page or the queue row asked first."""

    confirm = forms.ChoiceField(
        choices=[("True", "Yes, complete")],
        widget=forms.HiddenInput,
        initial="True",
        error_messages={
            "required": "Confirm that the work is done.",
            "invalid_choice": "Confirm that the work is done.",
        },
    )


# --- The escalations page --------------------------------------------------------------

CAUSES = (
    ("skills", CAUSE_SKILLS),
    ("capacity", CAUSE_CAPACITY),
    ("deadline", CAUSE_DEADLINE),
)
SORTS = (
    ("due", "Due date, soonest first"),
    ("-due", "Due date, latest first"),
    ("client", "Client"),
    ("cause", "Reason"),
    ("-opened", "Newest first"),
)


class EscalationFilterForm(FirmForm):
    """Filter and sort the open escalations (a GET form: every choice is a link too)."""

    work_type = forms.ModelChoiceField(
        queryset=WorkType.objects.none(), required=False, empty_label="Any work type"
    )
    cause = forms.ChoiceField(choices=[("", "Any reason"), *CAUSES], required=False, label="Reason")
    due_by = forms.DateField(
        required=False,
        label="Due by",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_firm_date],
    )
    sort = forms.ChoiceField(choices=SORTS, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["work_type"].queryset = WorkType.objects.filter(active=True).order_by("name")  # type: ignore[attr-defined]


BULK_ASSIGN, BULK_THRESHOLD = "assign_best", "raise_threshold"


class EscalationBulkForm(FirmForm):
    """One action on several escalations; each goes through the single action's service."""

    escalations = forms.ModelMultipleChoiceField(
        queryset=Escalation.objects.none(),
        error_messages={
            "required": "Tick at least one escalation.",
            "invalid_choice": "One of the ticked escalations is already resolved; reload the page.",
        },
    )
    action = forms.ChoiceField(
        choices=[
            (BULK_ASSIGN, "Assign each to its best listed candidate"),
            (BULK_THRESHOLD, "Raise the threshold for each and re-dispatch"),
        ],
        error_messages={"required": "Choose what to do with the ticked escalations."},
    )
    threshold_percent = forms.IntegerField(
        min_value=1,
        max_value=150,
        required=False,
        label="New threshold (%)",
        error_messages={
            "invalid": "Give the threshold as a whole number of percent, e.g. 95.",
            "min_value": "A threshold is at least 1 %%.",
            "max_value": "A threshold above 150 %% would plan more than a week and a half "
            "of work into a week.",
        },
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        label="Reason (for assigning by hand)",
        help_text="Logged with each assignment.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["escalations"].queryset = Escalation.objects.filter(status="open")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        action = data.get("action")
        if action == BULK_THRESHOLD and not data.get("threshold_percent"):
            self.add_error("threshold_percent", "Give the new threshold in percent, e.g. 95.")
        if action == BULK_ASSIGN and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason: it is logged with each assignment.")
        return data
