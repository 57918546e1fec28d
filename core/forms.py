"""The base classes every Closeloop form uses, and helpers they share.

Every POST goes through a form built on ``FirmForm`` or ``FirmModelForm`` (instead of
django.forms' ``Form`` and ``ModelForm``). Before any field reads its value:

1. a NUL byte anywhere in a field's submitted value is refused with a message next to
   that field (PostgreSQL refuses NUL in text; a lookup carrying one was a 500);
2. a text field's ``max_length`` is enforced on the raw text, however it was set (one
   left without is capped at ``DEFAULT_TEXT_MAX_LENGTH``, a safety net:
   ``form_field_problems`` makes every form of the project state its own).

``form_field_problems`` lists the fields of a form class without a range a firm can
mean: text without a maximum length, numbers without a minimum and a maximum, dates
without ``core.dates.validate_firm_date``. A test runs it over every form of the
project (tests/core/test_forms.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from core.dates import validate_firm_date

NUL = "\x00"
NUL_MESSAGE = "This contains an invisible NUL character, which cannot be saved. Type it again."
# The safety net for a text field that forgot its own limit: a few paragraphs.
DEFAULT_TEXT_MAX_LENGTH = 2000
# The largest id a form takes (PostgreSQL's bigint); larger is not a record of ours.
MAX_ID = 2**63 - 1


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(item) for item in value.values())
    name = getattr(value, "name", None)  # an uploaded file: its name is client input
    return isinstance(name, str) and NUL in name


def _text_limit(field: forms.Field) -> int | None:
    """The length a text field's submitted value may have, or None for other fields.

    Checked on the raw text, before the field converts it: a ``max_length`` set after
    the field was built (Django's login form sets its user name's in ``__init__``) has
    no validator behind it, and a 100 kB user name reached the login throttle's table
    (varchar 255) and failed there. A UUID's format bounds it already.
    """
    if not isinstance(field, forms.CharField) or isinstance(field, forms.UUIDField):
        return None
    return field.max_length or DEFAULT_TEXT_MAX_LENGTH


def _guarded(clean: Callable[..., Any], limit: int | None) -> Callable[..., Any]:
    def clean_guarded(value: Any, *args: Any) -> Any:  # a FileField's takes ``initial``
        if _holds_nul(value):
            raise ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise ValidationError(
                f"Keep this to at most {limit:,} characters (it has {len(value):,}).",
                code="max_length",
            )
        return clean(value, *args)

    return clean_guarded


class FirmFormMixin:
    """Refuses NUL in every field and over-long text (see the module docstring)."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # this form's own copies of the fields
            limit = _text_limit(field)
            field.clean = _guarded(field.clean, limit)  # type: ignore[method-assign]
            if limit is not None:
                field.widget.attrs.setdefault("maxlength", str(limit))


class FirmForm(FirmFormMixin, forms.Form):
    pass


class FirmModelForm(FirmFormMixin, forms.ModelForm):
    pass


def _model_validators(form_class: type[forms.BaseForm], name: str) -> list[Any]:
    meta = getattr(form_class, "_meta", None)
    model = getattr(meta, "model", None)
    if model is None:
        return []
    try:
        return list(model._meta.get_field(name).validators)
    except FieldDoesNotExist:
        return []


def form_field_problems(form_class: type[forms.BaseForm]) -> list[str]:
    """The fields of ``form_class`` without a range a firm can mean, in words.

    A model form's field counts its model field's validators (the model checks them
    on save). Choice fields are bounded by their choices; files by the upload limits.
    """
    problems = []
    for name, field in form_class.base_fields.items():
        validators = list(field.validators) + _model_validators(form_class, name)
        if _text_limit(field) is not None and field.max_length is None:
            problems.append(f"{name}: a text field needs a max_length")
        elif isinstance(field, forms.IntegerField | forms.FloatField):  # DecimalField too
            low = getattr(field, "min_value", None) is not None or any(
                isinstance(v, MinValueValidator) for v in validators
            )
            high = getattr(field, "max_value", None) is not None or any(
                isinstance(v, MaxValueValidator) for v in validators
            )
            if not (low and high):
                problems.append(f"{name}: a number needs a min_value and a max_value")
        elif isinstance(field, forms.DateField) and validate_firm_date not in validators:
            problems.append(f"{name}: a date needs validators=[validate_firm_date]")
    return problems


def first_error(form: forms.BaseForm) -> str:
    """The first problem with a submitted form, in words, with the field it is about
    (for pages that answer a POST with a message rather than the form again)."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return "The form could not be read."
