from __future__ import annotations

from django import forms

from core.dates import validate_firm_date
from core.forms import FirmForm
from staff.choices import SkillLevel
from staff.models import SkillTag


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
