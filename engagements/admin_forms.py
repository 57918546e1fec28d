"""The work type's admin form: the document checklist and the milestone template edited
as lists, not as raw JSON, with every problem said in words next to the field.

- The checklist is a text box, one document per line.
- The milestone template is a table of steps (position, code, label, what happens on
  entering it) with empty rows to add steps; clearing a row removes its step.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count

from core.forms import FirmModelForm
from engagements.choices import Milestone
from engagements.models import (
    Engagement,
    WorkType,
    validate_checklist,
    validate_milestone_template,
)

CHECKLIST_MAX_ITEMS = 50
DOCUMENT_NAME_MAX_LENGTH = 200
STEP_CODE_MAX_LENGTH = 32  # Engagement.milestone holds a step's code
STEP_LABEL_MAX_LENGTH = 80
STEPS_MAX = 30
EMPTY_STEP_ROWS = 3
STEP_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
ACTION_LABELS = {
    "": "Nothing",
    "dispatch_preparer": "Dispatch the preparer",
    "dispatch_reviewer": "Dispatch the reviewer",
    "invoice": "Draft the invoice",
    "close": "Close the engagement",
}


class ChecklistField(forms.CharField):
    """A list of document names, typed one per line."""

    widget = forms.Textarea(attrs={"rows": 6})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", CHECKLIST_MAX_ITEMS * (DOCUMENT_NAME_MAX_LENGTH + 1))
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value: object) -> list[str]:
        text = super().clean(value)
        names = [line.strip() for line in str(text).splitlines() if line.strip()]
        if len(names) > CHECKLIST_MAX_ITEMS:
            raise ValidationError(f"A checklist holds at most {CHECKLIST_MAX_ITEMS} documents.")
        for name in names:
            if len(name) > DOCUMENT_NAME_MAX_LENGTH:
                raise ValidationError(
                    f"“{name[:40]}…” is longer than {DOCUMENT_NAME_MAX_LENGTH} characters; "
                    "shorten the document's name."
                )
        validate_checklist(names)
        return names


class StepsWidget(forms.Widget):
    """The template's steps as rows of inputs, plus a few empty rows to add steps."""

    template_name = "engagements/widgets/milestone_steps.html"

    def format_value(self, value: object) -> list[dict[str, str]]:  # type: ignore[override]
        steps = value if isinstance(value, list) else []
        return [
            {
                "code": str(step.get("code", "")),
                "label": str(step.get("label", "")),
                "on_enter": str(step.get("on_enter") or ""),
            }
            for step in steps
            if isinstance(step, dict)
        ]

    def get_context(self, name: str, value: object, attrs: dict[str, Any] | None) -> Any:
        context = super().get_context(name, value, attrs)
        rows = self.format_value(value)
        blank = {"code": "", "label": "", "on_enter": ""}
        rows += [dict(blank) for _ in range(EMPTY_STEP_ROWS)]
        context["widget"]["rows"] = rows[: STEPS_MAX + EMPTY_STEP_ROWS]
        context["widget"]["actions"] = list(ACTION_LABELS.items())
        context["widget"]["code_max"] = STEP_CODE_MAX_LENGTH
        context["widget"]["label_max"] = STEP_LABEL_MAX_LENGTH
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[dict[str, str]]:
        try:
            count = min(int(data.get(f"{name}-count", 0)), STEPS_MAX + EMPTY_STEP_ROWS)
        except (TypeError, ValueError):
            count = 0
        return [
            {
                part: str(data.get(f"{name}-{index}-{part}", "")).strip()
                for part in ("position", "code", "label", "on_enter")
            }
            for index in range(max(count, 0))
        ]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}-count" not in data


class StepsField(forms.Field):
    """The ordered milestone steps: ``[{"code", "label", "on_enter"?}, ...]``."""

    widget = StepsWidget
    # The codes the work type has now: kept even if older than the naming rule, since
    # engagements may stand at them.
    existing_codes: frozenset[str] = frozenset()

    def clean(self, value: object) -> list[dict[str, str]]:
        rows = value if isinstance(value, list) else []
        filled = [
            (index, row)
            for index, row in enumerate(rows, start=1)
            if isinstance(row, dict) and (row.get("code") or row.get("label"))
        ]
        ordered = sorted(filled, key=lambda item: _place(item[0], item[1]))
        steps: list[dict[str, str]] = []
        for number, (_, row) in enumerate(ordered, start=1):
            code, label, action = row.get("code", ""), row.get("label", ""), row.get("on_enter", "")
            if not code or not label:
                raise ValidationError(f"Step {number} needs both a code and a label.")
            if code not in self.existing_codes and (
                len(code) > STEP_CODE_MAX_LENGTH or not STEP_CODE.match(code)
            ):
                raise ValidationError(
                    f"Step {number}'s code “{code[:40]}” must start with a lowercase letter and "
                    f"use only lowercase letters, digits and underscores, up to "
                    f"{STEP_CODE_MAX_LENGTH} characters (e.g. in_review)."
                )
            if len(label) > STEP_LABEL_MAX_LENGTH:
                raise ValidationError(
                    f"Step {number}'s label is longer than {STEP_LABEL_MAX_LENGTH} characters."
                )
            if action not in ACTION_LABELS:
                raise ValidationError(f"Step {number}: choose what happens from the list.")
            step = {"code": code, "label": label}
            if action:
                step["on_enter"] = action
            steps.append(step)
        if len(steps) > STEPS_MAX:
            raise ValidationError(f"A template has at most {STEPS_MAX} steps.")
        validate_milestone_template(steps)
        return steps


def _place(index: int, row: dict[str, str]) -> tuple[int, int, int]:
    """Where a row goes: by its position number; a row moved to a taken number goes
    before the one standing there ("2" puts it second), and blank numbers keep rows
    where they stand."""
    try:
        position = int(row.get("position") or index)
    except ValueError:
        position = index
    return position, 0 if position != index else 1, index


class WorkTypeForm(FirmModelForm):
    document_checklist = ChecklistField(
        required=False,
        label="Document checklist",
        help_text="The documents the client must send, one per line.",
    )
    milestone_template = StepsField(
        label="Milestone template",
        help_text=(
            "The steps an engagement of this type moves through, in order. Clear a row to "
            "remove its step, fill an empty row to add one, and change the positions to "
            "reorder them. Codes are kept on engagements: rename a step's label, not its code."
        ),
    )

    class Meta:
        model = WorkType
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.milestone_template if self.instance.pk else []
        steps_field = self.fields["milestone_template"]
        assert isinstance(steps_field, StepsField)
        steps_field.existing_codes = frozenset(
            step["code"] for step in current if isinstance(step, dict) and "code" in step
        )

    def clean_milestone_template(self) -> list[dict[str, str]]:
        """A step that engagements stand at stays: they would be lost between steps."""
        steps: list[dict[str, str]] = self.cleaned_data["milestone_template"]
        if not self.instance.pk:
            return steps
        kept = {step["code"] for step in steps} | {Milestone.NEW}
        stranded = (
            Engagement.objects.filter(work_type=self.instance)
            .exclude(milestone__in=kept)
            .values("milestone")
            .annotate(count=Count("id"))
            .order_by("milestone")
        )
        labels = {step.get("code"): step.get("label") for step in self.instance.milestone_template}
        problems = [
            f"{row['count']} engagement{'s' if row['count'] != 1 else ''} stand at "
            f"“{labels.get(row['milestone'], row['milestone'])}”"
            for row in stranded
        ]
        if problems:
            raise ValidationError(
                f"Keep the steps engagements stand at: {'; '.join(problems)}. Rename a step's "
                "label instead of removing it."
            )
        return steps
