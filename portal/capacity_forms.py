"""The capacity pages' query forms: every parameter has a type, a range and a message."""

from __future__ import annotations

from datetime import date

from django import forms

from capacity.distribution import DEFAULT_HORIZON_DAYS, HORIZON_DAYS
from capacity.heatmap import SPAN_DAYS, SPAN_WEEKS, HeatmapFilters, window_for
from core.dates import validate_firm_date
from core.forms import FirmForm
from dispatch.metrics import DEFAULT_WEEKS, WEEK_CHOICES
from staff.choices import Role

FIRM = "firm"


class HeatmapFilterForm(FirmForm):
    """Team (a manager's id, or "firm"), skill and role; all optional."""

    team = forms.CharField(required=False, max_length=12)
    skill = forms.SlugField(required=False, max_length=64)
    role = forms.ChoiceField(required=False, choices=[("", "Any role"), *Role.choices])

    def clean_team(self) -> str:
        value = self.cleaned_data["team"].strip()
        if value in ("", FIRM) or (value.isdigit() and 0 < int(value) < 2**31):
            return value
        raise forms.ValidationError("Choose a team from the list, or the whole firm.")

    def filters(self) -> HeatmapFilters:
        data = self.cleaned_data
        team = data["team"]
        return HeatmapFilters(
            team=int(team) if team.isdigit() else None,
            firm=team == FIRM,
            skill=data["skill"] or "",
            role=data["role"] or "",
        )


class CellForm(FirmForm):
    """Which cell: a person (empty: the work nobody holds yet), a first day and a span."""

    staff = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    start = forms.DateField(validators=[validate_firm_date])
    span = forms.ChoiceField(choices=[(SPAN_WEEKS, "week"), (SPAN_DAYS, "day")])

    def __init__(self, *args: object, today: date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = today

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, span = data.get("start"), data.get("span")
        if isinstance(start, date) and span in (SPAN_WEEKS, SPAN_DAYS):
            if window_for(first=start, span=span, today=self.today).end < self.today:
                what = "day" if span == SPAN_DAYS else "week"
                self.add_error("start", f"That {what} has passed: pick one from today on.")
        return data


class DeadlineFilterForm(HeatmapFilterForm):
    """The heatmap's filters and how far ahead to look."""

    days = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=DEFAULT_HORIZON_DAYS,
        choices=[(str(days), f"{days} days") for days in HORIZON_DAYS],
        label="Next",
    )


class DeadlineDayForm(HeatmapFilterForm):
    """One deadline date's tasks, with the filters of the page it came from."""

    day = forms.DateField(validators=[validate_firm_date])


class MetricsForm(FirmForm):
    weeks = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=DEFAULT_WEEKS,
        choices=[(str(weeks), f"{weeks} weeks") for weeks in WEEK_CHOICES],
        label="Last",
    )
