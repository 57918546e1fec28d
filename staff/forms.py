"""Staff forms shared by the admin and the pages."""

from __future__ import annotations

from django import forms

from core.dates import validate_firm_date
from core.forms import FirmForm, FirmModelForm
from staff.choices import SkillLevel
from staff.models import DAY_HOUR_FIELDS, SkillTag, WorkingPattern


class AddSkillForm(FirmForm):
    """The staff list's "Add a skill" action: one skill, at one level, for everyone chosen."""

    skill = forms.ModelChoiceField(queryset=SkillTag.objects.order_by("name"), label="Skill")
    level = forms.TypedChoiceField(
        choices=SkillLevel.choices, coerce=int, initial=SkillLevel.PROFICIENT, label="Level"
    )
    certified_until = forms.DateField(
        required=False,
        validators=[validate_firm_date],
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Certified until",
        help_text="Leave empty when the skill does not expire.",
    )


class WorkingPatternForm(FirmModelForm):
    """Hours per weekday over some dates (or always): the admin's inline and the
    manager's page both save through it (the model's ``clean`` checks the rest)."""

    class Meta:
        model = WorkingPattern
        fields = ["name", "starts_on", "ends_on", *DAY_HOUR_FIELDS]
