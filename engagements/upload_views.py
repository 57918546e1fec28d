"""The client's upload page, reached by the signed link in our emails (no login).

GET never changes anything. POST stores one file: an htmx post gets the upload
panel back; a plain post redirects (POST-redirect-GET), so a refresh never
uploads twice. A refused file re-renders the form with the reason and a 4xx.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from core.forms import FirmForm
from engagements.models import Engagement
from engagements.uploads import (
    ACCEPT_ATTRIBUTE,
    ALLOWED_TYPES_TEXT,
    UploadLinkError,
    document_upload_store,
    read_upload_token,
    upload_engagement_get,
    upload_open,
)

PAGE = "engagements/document_upload.html"
INVALID = "engagements/upload_link_invalid.html"
OTHER = "other"
# Multipart framing and the form's other fields, on top of the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


class DocumentUploadForm(FirmForm):
    document = forms.ChoiceField(
        label="Which document is this?",
        error_messages={"required": "Choose which document this is."},
    )
    file = forms.FileField(
        label="File",
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
        self.fields[
            "file"
        ].help_text = (
            f"{ALLOWED_TYPES_TEXT}, up to {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB."
        )

    @property
    def required_document_id(self) -> int | None:
        value = self.cleaned_data["document"]
        return None if value == OTHER else int(value)


def _invalid(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request,
        INVALID,
        {"message": message, "firm_name": settings.FIRM_NAME},
        status=status,
    )


def _declared_size(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@login_not_required
@csrf_exempt  # checked by csrf_protect on _upload_page, once the size is known to be sane
@never_cache
@require_http_methods(["GET", "POST"])
def document_upload(request: HttpRequest, token: str) -> HttpResponse:
    try:
        engagement_id = read_upload_token(token)
    except UploadLinkError as exc:
        return _invalid(request, exc.message, status=400)
    # Refuse an oversized body from its header, before anything reads (and spools) it.
    too_large = (
        request.method == "POST"
        and _declared_size(request) > settings.UPLOAD_MAX_BYTES + FORM_OVERHEAD_BYTES
    )
    response = _upload_page(request, engagement_id, too_large=too_large)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@csrf_protect
def _upload_page(request: HttpRequest, engagement_id: int, *, too_large: bool) -> HttpResponse:
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
    status = 200
    if too_large:
        form = DocumentUploadForm(engagement=engagement)
        form.errors["file"] = form.error_class(
            [
                f"This file is larger than {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB. "
                "Split it, or send a smaller scan."
            ]
        )
        status = 413
    elif request.method == "POST":
        form = DocumentUploadForm(request.POST, request.FILES, engagement=engagement)
        status = 400
        if form.is_valid():
            try:
                upload = document_upload_store(
                    engagement=engagement,
                    required_document_id=form.required_document_id,
                    uploaded_file=form.cleaned_data["file"],
                )
            except ValidationError as exc:
                field = "document" if exc.code == "document" else "file"
                form.add_error(field, exc.messages[0])
                status = 413 if exc.code == "too_large" else 400
            else:
                note = f"Thank you: we received {upload.original_name}."
                if not request.htmx:
                    messages.success(request, note)
                    return redirect(request.path)
                # The checklist changed; show it as it is now, with a fresh form.
                engagement = upload_engagement_get(engagement_id=engagement_id) or engagement
                return _render(request, engagement, DocumentUploadForm(engagement=engagement), note)
    else:
        form = DocumentUploadForm(engagement=engagement)
    return _render(request, engagement, form, "", status=status)


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
