"""Every form of the project is a FirmForm: NUL refused in any field, text, numbers and
dates bounded. The generated bad-input test (tests/test_bad_input.py) posts hostile
values through every URL; this one checks the classes, so a new form that forgets a
limit fails here before any page uses it."""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal

import pytest
from django import forms
from django.apps import apps
from django.db import models

from core.dates import validate_firm_date
from core.forms import (
    DEFAULT_TEXT_MAX_LENGTH,
    NUL_MESSAGE,
    FirmForm,
    FirmFormMixin,
    form_field_problems,
)
from staff.models import SkillTag

PROJECT_APPS = [
    "core",
    "staff",
    "clients",
    "notifications",
    "engagements",
    "capacity",
    "dispatch",
    "billing",
    "integrations",
    "portal",
    "demo",
]


def project_form_classes() -> list[type[forms.BaseForm]]:
    """Every form class defined in the project's apps (each module imported first)."""
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" in module.name or ".management" in module.name:
                continue
            importlib.import_module(module.name)
    found: list[type[forms.BaseForm]] = []
    todo: list[type] = [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.split(".")[0] in PROJECT_APPS and cls.__module__ != "core.forms":
            found.append(cls)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__qualname__}")


FORMS = project_form_classes()


def test_the_project_has_forms_to_check():
    names = {cls.__name__ for cls in FORMS}
    assert {"EngagementCreateForm", "ManualAssignForm", "DocumentUploadForm"} <= names


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_form_is_a_firm_form_with_bounded_fields(form_class):
    assert issubclass(form_class, FirmFormMixin), (
        f"{form_class.__qualname__}: subclass core.forms.FirmForm / FirmModelForm"
    )
    assert form_field_problems(form_class) == []


# --- Models: what their admin and model forms inherit ---------------------------------

# Written by the system, never typed into a form (the admin shows them read-only).
SYSTEM_TEXT = {
    "dispatch.Escalation.summary",
    "dispatch.Escalation.resolution",
    "notifications.Notification.body",
    "notifications.Notification.html_body",
    "notifications.Notification.calendar",
    "notifications.Notification.last_error",
    # What the inbound worker wrote about an event (cut to 4,000 characters there).
    "integrations.InboundEvent.detail",
    "integrations.DeliveryLog.detail",
}


def test_every_text_field_a_person_types_has_a_max_length():
    unbounded = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        for field in model._meta.get_fields()
        if isinstance(field, models.TextField) and field.max_length is None
    ]

    assert sorted(set(unbounded) - SYSTEM_TEXT) == []


# Dates only a service writes (from dates already checked: a task's completion, an
# approval, the invoice's terms); the admin shows them read-only.
SYSTEM_DATES = {
    "billing.Invoice.period",
    "billing.Invoice.issued_on",
    "billing.Invoice.due_on",
    "billing.LateFeeCharge.charged_on",
    # The follow-up run's own dates (from the invoice's due date and the sequence's
    # steps); the state's promise is a copy of a checked PromiseToPay.promised_on.
    "billing.FollowUpState.anchor_on",
    "billing.FollowUpState.next_touch_on",
    "billing.FollowUpState.promised_on",
    "billing.FollowUpMessage.sent_on",
    "billing.FollowUpTouch.sent_on",
    # The day a plan was computed for: the planner's today.
    "capacity.PlanScenario.planned_for",
}


def test_every_date_a_person_types_is_in_the_firm_range():
    unchecked = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        for field in model._meta.get_fields()
        if isinstance(field, models.DateField)
        and not isinstance(field, models.DateTimeField)
        and field.editable
        and validate_firm_date not in field.validators
    ]

    assert sorted(set(unchecked) - SYSTEM_DATES) == []


# --- The base class -------------------------------------------------------------------


class Sample(FirmForm):
    note = forms.CharField(max_length=20)
    free = forms.CharField()  # no limit of its own
    choice = forms.ChoiceField(choices=[("a", "A")])
    tag = forms.ModelChoiceField(queryset=SkillTag.objects.all(), to_field_name="slug")
    hours = forms.DecimalField(min_value=Decimal("0"), max_value=Decimal("10"))
    day = forms.DateField(validators=[validate_firm_date])
    many = forms.MultipleChoiceField(choices=[("a", "A")])


VALID = {"note": "ok", "free": "ok", "choice": "a", "tag": "bookkeeping", "hours": "1"}
VALID |= {"day": "2026-11-20", "many": ["a"]}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["note", "free", "choice", "tag", "hours", "day", "many"])
def test_a_nul_byte_is_refused_next_to_any_field_before_it_reads_it(name):
    data = dict(VALID)
    data[name] = ["a\x00"] if name == "many" else "bookkeeping\x00"

    form = Sample(data)

    assert not form.is_valid()
    assert form.errors == {name: [NUL_MESSAGE]}


@pytest.mark.django_db
def test_a_valid_sample_passes_and_text_without_a_limit_gets_the_default():
    form = Sample(VALID)

    assert form.is_valid(), form.errors
    long = Sample(VALID | {"free": "x" * (DEFAULT_TEXT_MAX_LENGTH + 1)})
    assert not long.is_valid() and list(long.errors) == ["free"]
    assert form.fields["free"].widget.attrs["maxlength"] == str(DEFAULT_TEXT_MAX_LENGTH)


def test_the_problem_finder_names_each_unbounded_field():
    class Loose(forms.Form):
        text = forms.CharField()
        count = forms.IntegerField(min_value=0)
        day = forms.DateField()
        fine = forms.CharField(max_length=5)

    assert form_field_problems(Loose) == [
        "text: a text field needs a max_length",
        "count: a number needs a min_value and a max_value",
        "day: a date needs validators=[validate_firm_date]",
    ]
