from __future__ import annotations

from uuid import uuid4

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.forms import first_error
from core.roles import is_manager
from engagements import milestones, review, selectors, services
from engagements.choices import TaskRole
from engagements.forms import (
    EngagementCreateForm,
    ExceptionRaiseForm,
    ExceptionResolveForm,
    MilestoneAdvanceForm,
)
from engagements.models import Engagement, MilestoneSource, ReviewException


@permission_required("engagements.add_engagement", raise_exception=True)
def engagement_create(request: HttpRequest) -> HttpResponse:
    form = EngagementCreateForm(request.POST or None, initial={"submission_token": uuid4()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
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
        return redirect("portal:home")
    status = 400 if request.method == "POST" else 200
    return render(request, "engagements/engagement_create.html", {"form": form}, status=status)


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
