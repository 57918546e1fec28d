from __future__ import annotations

from uuid import uuid4

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import ApplicationError
from core.forms import first_error
from core.roles import is_manager
from engagements import milestones, review, selectors, services
from engagements.choices import TaskRole
from engagements.forms import (
    ClientLookupForm,
    DatesPreviewForm,
    EngagementCreateForm,
    ExceptionRaiseForm,
    ExceptionResolveForm,
    MilestoneAdvanceForm,
)
from engagements.models import DocumentUpload, Engagement, MilestoneSource, ReviewException

CREATE_PAGE = "engagements/engagement_create.html"
# Buttons of the new-engagement form that only look things up (no JavaScript needed).
LOOKUP_ACTIONS = {"find", "preview"}


@permission_required("engagements.add_engagement", raise_exception=True)
def engagement_create(request: HttpRequest) -> HttpResponse:
    """The new-engagement page. "Find" and "Show the dates" re-render it with the client
    matches and the dates the rules give; "Open engagement" saves."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if request.method == "POST" and action not in LOOKUP_ACTIONS:
        form = EngagementCreateForm(request.POST)
        if form.is_valid():
            return _engagement_open(request, form)
        status = 400
    elif request.method == "POST":
        # Keep what was typed, without complaining about what is not filled in yet.
        form = EngagementCreateForm(initial=request.POST.dict())
        status = 200
    else:
        form = EngagementCreateForm(initial={"submission_token": uuid4(), **request.GET.dict()})
        status = 200
    return render(request, CREATE_PAGE, _create_context(request, form), status=status)


def _field_value(form: EngagementCreateForm, name: str) -> str:
    value = form[name].value()
    return "" if value is None else str(value)


def _create_context(request: HttpRequest, form: EngagementCreateForm) -> dict[str, object]:
    lookup = ClientLookupForm(
        {
            "client_search": _field_value(form, "client_search"),
            "client": _field_value(form, "client"),
        }
    )
    valid = lookup.is_valid()
    query = lookup.cleaned_data.get("client_search", "") if valid else ""
    clients, matched = selectors.client_search(
        query=query, keep_id=lookup.cleaned_data.get("client") if valid else None
    )
    form.show_clients(clients)
    return {
        "form": form,
        "client_matches": matched,
        "clients_shown": len(clients),
        "client_query": query,
        "client_search_errors": [] if valid else lookup.errors.get("client_search", []),
        "preview": _preview(form),
    }


def _preview(form: EngagementCreateForm) -> selectors.DatesPreview | None:
    """The dates for what the form holds now, read through a lookup form so a half-typed
    date is simply not there yet."""
    lookup = DatesPreviewForm(
        {name: _field_value(form, name) for name in DatesPreviewForm.base_fields}
    )
    return lookup.preview() if lookup.is_valid() else None


@require_GET
@permission_required("engagements.add_engagement", raise_exception=True)
def engagement_create_clients(request: HttpRequest) -> HttpResponse:
    """The client list for what was typed in the search box (htmx, as you type)."""
    form = EngagementCreateForm(initial=request.GET.dict())
    context = _create_context(request, form)
    return render(request, CREATE_PAGE + "#client-options", context)


@require_GET
@permission_required("engagements.add_engagement", raise_exception=True)
def engagement_create_preview(request: HttpRequest) -> HttpResponse:
    """The dates the rules give for the form's current work type and period (htmx)."""
    lookup = DatesPreviewForm(request.GET)
    preview = lookup.preview() if lookup.is_valid() else None
    return render(request, CREATE_PAGE + "#dates-preview", {"preview": preview})


def _engagement_open(request: HttpRequest, form: EngagementCreateForm) -> HttpResponse:
    data = form.cleaned_data
    try:
        engagement, created = services.engagement_open(
            submission_token=data["submission_token"],
            client=data["client"],
            work_type=data["work_type"],
            name=data["name"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            event_date=data["event_date"],
            due_date=data["due_date"],
            estimated_hours=data["estimated_hours"],
            complexity=data["complexity"],
            priority=data["priority"] or None,
            requested_staff=data["requested_staff"],
            special_instructions=data["special_instructions"],
        )
    except ApplicationError as exc:
        # A date the rule worked out can still fall outside the firm's range.
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.user_message)
        return render(request, CREATE_PAGE, _create_context(request, form), status=400)
    if created:
        messages.success(request, f"Opened {engagement}; its first task is being dispatched.")
    else:
        messages.info(
            request,
            f"{engagement} was already opened when this form was first sent; "
            "sending it again opened nothing new.",
        )
    preparer = engagement.tasks.filter(role=TaskRole.PREPARER).first()
    if preparer is not None:
        return redirect("dispatch:task-detail", pk=preparer.pk)
    return redirect("engagements:engagement-detail", pk=engagement.pk)


def _engagement_or_404(request: HttpRequest, pk: int) -> Engagement:
    engagement = selectors.engagement_get_for_user(user=request.user, pk=pk)
    if engagement is None:
        raise Http404("No such engagement.")
    return engagement


def _is_reviewer(request: HttpRequest, engagement: Engagement) -> bool:
    return engagement.tasks.filter(role=TaskRole.REVIEWER, assignee__user=request.user).exists()


@require_GET
def engagement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement_or_404(request, pk)
    manager = is_manager(request.user)
    context = {
        "engagement": engagement,
        **selectors.engagement_timeline(engagement=engagement),
        "can_advance": manager,
        "can_review": manager or _is_reviewer(request, engagement),
    }
    return render(request, "engagements/engagement_detail.html", context)


@require_GET
def document_download(request: HttpRequest, pk: int, upload_pk: int) -> HttpResponse:
    """A client's file, for whoever may see the engagement: always as a download under
    its original name, never shown inline (a file is the client's, not a page of ours)."""
    engagement = _engagement_or_404(request, pk)
    upload = get_object_or_404(DocumentUpload, pk=upload_pk, engagement=engagement)
    try:
        handle = upload.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("This file is no longer stored.") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=upload.original_name,
        content_type=upload.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def engagement_advance(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement_or_404(request, pk)
    if not is_manager(request.user):
        raise PermissionDenied("Only managers and partners move milestones by hand.")
    form = MilestoneAdvanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("engagements:engagement-detail", pk=engagement.pk)
    try:
        milestones.engagement_transition(
            engagement_id=engagement.pk,
            to=form.cleaned_data["to"],
            source=MilestoneSource.BUTTON,
            actor=request.user,
        )
    except milestones.TransitionRefused as exc:
        messages.error(request, exc.messages[0])
        return redirect("engagements:engagement-detail", pk=engagement.pk)
    messages.success(request, "Milestone updated.")
    return redirect("engagements:engagement-detail", pk=engagement.pk)


@require_POST
def exception_raise(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement_or_404(request, pk)
    if not (is_manager(request.user) or _is_reviewer(request, engagement)):
        raise PermissionDenied("Only the reviewer or a manager flags review exceptions.")
    form = ExceptionRaiseForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("engagements:engagement-detail", pk=engagement.pk)
    try:
        review.review_exception_raise(
            engagement_id=engagement.pk, note=form.cleaned_data["note"], actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Exception logged; the client is asked to clarify.")
    return redirect("engagements:engagement-detail", pk=engagement.pk)


@require_POST
def exception_resolve(request: HttpRequest, pk: int, exception_pk: int) -> HttpResponse:
    engagement = _engagement_or_404(request, pk)
    if not (is_manager(request.user) or _is_reviewer(request, engagement)):
        raise PermissionDenied("Only the reviewer or a manager resolves review exceptions.")
    exception = get_object_or_404(ReviewException, pk=exception_pk, engagement=engagement)
    form = ExceptionResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("engagements:engagement-detail", pk=engagement.pk)
    try:
        review.review_exception_resolve(
            exception_id=exception.pk,
            resolution=form.cleaned_data["resolution"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Exception resolved; the engagement is back with the reviewer.")
    return redirect("engagements:engagement-detail", pk=engagement.pk)
