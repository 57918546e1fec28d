"""Staff forms shared by the admin and the pages."""

from __future__ import annotations

from core.forms import FirmModelForm
from staff.models import DAY_HOUR_FIELDS, WorkingPattern


class WorkingPatternForm(FirmModelForm):
    """Hours per weekday over some dates (or always): the admin's inline and the
    manager's page both save through it (the model's ``clean`` checks the rest)."""

    class Meta:
        model = WorkingPattern
        fields = ["name", "starts_on", "ends_on", *DAY_HOUR_FIELDS]
