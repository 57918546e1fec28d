"""Helpers every app's forms share."""

from __future__ import annotations

from django import forms


def first_error(form: forms.Form) -> str:
    """The first problem with a submitted form, in words, with the field it is about
    (for pages that answer a POST with a message rather than the form again)."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return "The form could not be read."
