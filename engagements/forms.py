from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone

from clients.models import Client
from core.calendar import firm_calendar
from core.dates import validate_firm_date
from core.forms import MAX_ID, FirmForm, FirmModelForm
from engagements.choices import DeadlineBasis
from engagements.models import NOTE_MAX_LENGTH, Engagement, WorkType
from engagements.selectors import DatesPreview, engagement_dates_preview, engagement_period
from staff.models import StaffMember


class EngagementCreateForm(FirmModelForm):
    # Made when the form is shown; the engagement keeps it, so the same form sent twice
    # opens one engagement (engagements.services.engagement_open).
    submission_token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is missing its token: reload the page and fill it in again.",
            "invalid": "This form is missing its token: reload the page and fill it in again.",
        },
    )
    client_search = forms.CharField(
        required=False,
        max_length=100,
        label="Find the client",
        help_text="Part of the name, the contact or the email.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    event_date = forms.DateField(
        required=False,
        validators=[validate_firm_date],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Payroll run or session date, for work types whose deadline hangs on an event.",
    )

    class Meta:
        model = Engagement
        fields = [
            "client",
            "work_type",
            "name",
            "period_start",
            "period_end",
            "due_date",
            "estimated_hours",
            "complexity",
            "priority",
            "requested_staff",
            "special_instructions",
        ]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
            "due_date": forms.DateInput(attrs={"type": "date"}),
            "special_instructions": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "due_date": "Leave empty to use the work type's deadline rule.",
            "estimated_hours": "Leave empty to use the work type's default.",
            "priority": "Urgent work skips the capacity threshold (never the skill match).",
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Any client validates; the list shows the search's matches (a firm may have
        # thousands), see ``show_clients``.
        self.fields["client"].queryset = Client.objects.order_by("name")
        self.fields["client"].empty_label = "Choose a client…"
        self.fields["client"].help_text = "Search above, then choose from the matches."
        self.fields["work_type"].queryset = WorkType.objects.filter(active=True)
        self.fields["requested_staff"].queryset = StaffMember.objects.filter(
            active=True
        ).select_related("user")
        self.fields["work_type"].empty_label = "Choose a work type…"
        self.fields["requested_staff"].empty_label = "Nobody in particular"
        self.fields["due_date"].required = False
        self.fields["priority"].required = False

    def show_clients(self, clients: list[Client]) -> None:
        """Offer only ``clients`` in the client list (validation still takes any client)."""
        field = self.fields["client"]
        field.widget.choices = [("", field.empty_label)] + [
            (
                client.pk,
                f"{client.name} — {client.contact_name}" if client.contact_name else client.name,
            )
            for client in clients
        ]

    def clean(self) -> dict[str, object]:
        data = super().clean()
        work_type: WorkType | None = data.get("work_type")
        if work_type is None:
            return data
        data["period_start"], _ = engagement_period(
            work_type=work_type,
            period_start=data.get("period_start"),  # type: ignore[arg-type]
            period_end=data.get("period_end"),  # type: ignore[arg-type]
        )
        problem = deadline_input_problem(
            work_type=work_type,
            due_date=data.get("due_date"),
            period_end=data.get("period_end"),
            event_date=data.get("event_date"),
        )
        if problem:
            self.add_error(*problem)
        return data


class ClientLookupForm(FirmForm):
    """What the client search reads (as you type, or the Find button): a bad value is
    said in words and searches nothing, never reaches the database."""

    client_search = forms.CharField(required=False, max_length=100)
    client = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class DatesPreviewForm(FirmForm):
    """What the dates preview reads from the new-engagement form (a GET, so nothing is
    required: a field not filled in yet is simply left out)."""

    work_type = forms.ModelChoiceField(queryset=WorkType.objects.filter(active=True))
    period_start = forms.DateField(required=False, validators=[validate_firm_date])
    period_end = forms.DateField(required=False, validators=[validate_firm_date])
    event_date = forms.DateField(required=False, validators=[validate_firm_date])
    due_date = forms.DateField(required=False, validators=[validate_firm_date])

    def preview(self) -> DatesPreview:
        data = self.cleaned_data
        return engagement_dates_preview(
            work_type=data["work_type"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            event_date=data["event_date"],
            due_date=data["due_date"],
            today=timezone.localdate(),
            calendar=firm_calendar(),
        )


def deadline_input_problem(
    *,
    work_type: WorkType,
    due_date: date | None,
    period_end: date | None,
    event_date: date | None,
) -> tuple[str, str] | None:
    """(field, message) when the deadline cannot be worked out from what was given
    (shared by the page's form and the API's serializer)."""
    if due_date:
        return None
    basis = work_type.deadline_basis
    if basis == DeadlineBasis.ENGAGEMENT:
        return "due_date", "This work type needs a due date per engagement."
    if basis in (DeadlineBasis.STATUTORY_DATE, DeadlineBasis.PERIOD_END) and not period_end:
        return "period_end", "Give the period end so the deadline can be worked out."
    if basis == DeadlineBasis.EVENT_DATE and not event_date:
        return "event_date", "Give the event date so the deadline can be worked out."
    return None


# A reviewer's note goes to the client in an email and shows on a card: a few
# paragraphs, not a document (the model's limit).
REVIEW_TEXT_MAX = NOTE_MAX_LENGTH


class MilestoneAdvanceForm(FirmForm):
    to = forms.CharField(max_length=40, label="Milestone")


class ExceptionRaiseForm(FirmForm):
    note = forms.CharField(
        max_length=REVIEW_TEXT_MAX,
        label="Note",
        error_messages={"required": "Describe the discrepancy for the client."},
    )


class ExceptionResolveForm(FirmForm):
    resolution = forms.CharField(
        max_length=REVIEW_TEXT_MAX,
        label="Resolution",
        error_messages={"required": "Say how the discrepancy was resolved."},
    )
