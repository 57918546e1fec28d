"""The client's upload page, reached by the signed link in our emails (no login).

GET never changes anything. POST stores the files sent (one or many at once), each on
its own: every file is either stored or refused with its name and the reason. An htmx
post gets the upload panel back; a plain post that stored everything redirects
(POST-redirect-GET), so a refresh never uploads twice. A refusal re-renders the form
with the reasons and a 4xx.

A body larger than ``UPLOAD_MAX_REQUEST_BYTES`` is refused with 413 from its header,
before anything reads (and spools) it: ``core.middleware.RequestBodyLimitMiddleware``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import TooManyFilesSent, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.forms import FirmForm
from core.middleware import body_limit
from engagements.models import Engagement
from engagements.uploads import (
    ACCEPT_ATTRIBUTE,
    ALLOWED_TYPES_TEXT,
    UploadLinkError,
    document_upload_store,
    read_upload_token,
    safe_original_name,
    upload_engagement_get,
    upload_open,
)

PAGE = "engagements/document_upload.html"
INVALID = "engagements/upload_link_invalid.html"
OTHER = "other"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Every file sent under the field's name, as a list. Each file is checked (and
    stored or refused by name) by the service, not here: one bad file must not sink
    the others."""

    widget = MultipleFileInput

    def to_python(self, data: object) -> list[UploadedFile]:  # type: ignore[override]
        files = data if isinstance(data, list | tuple) else [data]
        return [f for f in files if isinstance(f, UploadedFile)]

    def clean(self, data: object, initial: object = None) -> list[UploadedFile]:  # type: ignore[override]
        files = self.to_python(data)
        if not files and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return files

    def bound_data(self, data: object, initial: object) -> object:
        return initial


class DocumentUploadForm(FirmForm):
    document = forms.ChoiceField(
        label="Which document is this?",
        error_messages={"required": "Choose which document this is."},
    )
    file = MultipleFileField(
        label="Files",
        error_messages={
            "required": "Choose a file to upload.",
            "empty": "This file is empty. Choose the file again.",
        },
    )

    def __init__(self, *args: object, engagement: Engagement, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        documents = list(engagement.required_documents.all())
        outstanding = [(str(d.pk), d.name) for d in documents if d.received_at is None]
        received = [(str(d.pk), d.name) for d in documents if d.received_at is not None]
        choices: list[tuple[str, object]] = [("", "Choose…")]
        if outstanding:
            choices.append(("Still needed", outstanding))
        if received:
            choices.append(("Already received (send a new copy)", received))
        choices.append((OTHER, "Something not on the list"))
        self.fields["document"].choices = choices
        self.fields["file"].widget.attrs["accept"] = ACCEPT_ATTRIBUTE
        self.fields["file"].help_text = (
            f"One or more files: {ALLOWED_TYPES_TEXT}, up to "
            f"{_megabytes(settings.UPLOAD_MAX_BYTES)} MB each and "
            f"{_megabytes(settings.UPLOAD_MAX_REQUEST_BYTES)} MB at a time."
        )

    @property
    def required_document_id(self) -> int | None:
        value = self.cleaned_data["document"]
        return None if value == OTHER else int(value)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _invalid(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request,
        INVALID,
        {"message": message, "firm_name": settings.FIRM_NAME},
        status=status,
    )


def _request_limit() -> int:
    return int(settings.UPLOAD_MAX_REQUEST_BYTES)


@dataclass
class UploadOutcome:
    stored: list[str] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # name, reason, code

    @property
    def status(self) -> int:
        if not self.refused:
            return 200
        return 413 if all(code == "too_large" for _, _, code in self.refused) else 400


def _store_each(
    engagement: Engagement, document_id: int | None, files: list[UploadedFile]
) -> UploadOutcome:
    """Store every file on its own; one refused never keeps another from being stored."""
    outcome = UploadOutcome()
    for uploaded in files:
        name = safe_original_name(uploaded.name or "") or "A file without a name"
        try:
            upload = document_upload_store(
                engagement=engagement, required_document_id=document_id, uploaded_file=uploaded
            )
        except ValidationError as exc:
            outcome.refused.append((name, exc.messages[0], exc.code or ""))
        else:
            outcome.stored.append(upload.original_name)
    return outcome


def _received_note(names: list[str]) -> str:
    return f"Thank you: we received {', '.join(names)}." if names else ""


@login_not_required
@body_limit(_request_limit)  # refused from the header, before CSRF reads the body
@never_cache
@require_http_methods(["GET", "POST"])
def document_upload(request: HttpRequest, token: str) -> HttpResponse:
    try:
        engagement_id = read_upload_token(token)
    except UploadLinkError as exc:
        return _invalid(request, exc.message, status=400)
    response = _upload_page(request, engagement_id)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _upload_page(request: HttpRequest, engagement_id: int) -> HttpResponse:
    engagement = upload_engagement_get(engagement_id=engagement_id)
    if engagement is None:
        return _invalid(
            request,
            "This link is for work we no longer have on file. Reply to our email if you still need to send something.",
            status=410,
        )
    if not upload_open(engagement):
        return _invalid(
            request,
            "This engagement is closed, so the link no longer takes files. Reply to our email if you need to send something.",
            status=410,
        )
    if request.method != "POST":
        return _render(request, engagement, DocumentUploadForm(engagement=engagement), "")
    try:
        form = DocumentUploadForm(request.POST, request.FILES, engagement=engagement)
    except TooManyFilesSent:
        form = DocumentUploadForm(engagement=engagement)
        form.errors["file"] = form.error_class(
            [
                f"Send at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files at a time; "
                "nothing was stored. Send them in smaller groups."
            ]
        )
        return _render(request, engagement, form, "", status=400)
    if not form.is_valid():
        return _render(request, engagement, form, "", status=400)
    outcome = _store_each(engagement, form.required_document_id, form.cleaned_data["file"])
    note = _received_note(outcome.stored)
    if not outcome.refused and not request.htmx:
        messages.success(request, note)
        return redirect(request.path)
    # The checklist may have changed; show it as it is now, the choice kept for a retry.
    engagement = upload_engagement_get(engagement_id=engagement_id) or engagement
    fresh = DocumentUploadForm(
        engagement=engagement, initial={"document": form.cleaned_data["document"]}
    )
    if outcome.refused:
        fresh.errors["file"] = fresh.error_class(
            [f"{name} was not stored: {reason}" for name, reason, _code in outcome.refused]
        )
    return _render(request, engagement, fresh, note, status=outcome.status)


def _render(
    request: HttpRequest,
    engagement: Engagement,
    form: DocumentUploadForm,
    note: str,
    status: int = 200,
) -> HttpResponse:
    documents = list(engagement.required_documents.all())
    context = {
        "engagement": engagement,
        "firm_name": settings.FIRM_NAME,
        "documents": documents,
        "outstanding_count": sum(1 for d in documents if d.received_at is None),
        "uploads": list(engagement.uploads.all()),
        "form": form,
        "note": note,
    }
    template = PAGE + "#upload-panel" if request.htmx and not request.htmx.boosted else PAGE
    return render(request, template, context, status=status)
