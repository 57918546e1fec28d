"""Manager pages: escalations, the team, and requested-staff confirmations."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core.dates import validate_firm_date
from core.forms import MAX_ID, FirmForm, first_error
from core.roles import is_partner, require_manager
from dispatch import queue_selectors as selectors
from dispatch import services
from dispatch.forms import EscalationAssignForm
from dispatch.models import DispatchDecision, Escalation
from staff.selectors import staff_member_for_user


@require_GET
def escalations(request: HttpRequest) -> HttpResponse:
    require_manager(request.user)
    return render(
        request, "dispatch/escalation_list.html", {"escalations": selectors.escalation_list()}
    )


class ThresholdForm(FirmForm):
    threshold_percent = forms.IntegerField(
        min_value=1, max_value=150, label="Threshold for this task (%)"
    )


class DeadlineForm(FirmForm):
    due_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        label="New internal deadline",
        validators=[validate_firm_date],
    )


@require_POST
def escalation_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Resolve an escalation: assign a listed person, raise the threshold, move the
    internal deadline, or record that the client was told."""
    require_manager(request.user)
    escalation = get_object_or_404(Escalation, pk=pk)
    try:
        if action == "assign":
            form = EscalationAssignForm(request.POST)
            if not form.is_valid():
                raise services.DispatchError(first_error(form))
            services.escalation_assign(
                escalation_id=escalation.pk,
                staff_id=form.cleaned_data["staff_id"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
            messages.success(request, "Assigned; the escalation is resolved.")
        elif action == "threshold":
            form = ThresholdForm(request.POST)
            if not form.is_valid():
                raise services.DispatchError(first_error(form))
            decision = services.escalation_raise_threshold(
                escalation_id=escalation.pk,
                threshold_percent=form.cleaned_data["threshold_percent"],
                actor=request.user,
            )
            messages.success(
                request,
                f"Re-dispatched with the higher threshold: {decision.get_outcome_display().lower()}.",
            )
        elif action == "deadline":
            form = DeadlineForm(request.POST)
            if not form.is_valid():
                raise services.DispatchError(first_error(form))
            decision = services.escalation_extend_deadline(
                escalation_id=escalation.pk,
                due_date=form.cleaned_data["due_date"],
                actor=request.user,
            )
            messages.success(
                request,
                f"Deadline moved and re-dispatched: {decision.get_outcome_display().lower()}.",
            )
        elif action == "informed":
            services.escalation_mark_client_informed(
                escalation_id=escalation.pk, actor=request.user
            )
            messages.success(request, "Recorded that the client was informed.")
        else:
            raise services.DispatchError("Unknown action.")
    except (services.DispatchError, ValueError) as exc:
        messages.error(request, getattr(exc, "messages", [str(exc)])[0])
        return render(
            request,
            "dispatch/escalation_list.html",
            {"escalations": selectors.escalation_list()},
            status=400,
        )
    return redirect("dispatch:escalations")


class TeamFilterForm(FirmForm):
    team = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    q = forms.CharField(required=False, max_length=100, label="Search")
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)


@require_GET
def team(request: HttpRequest) -> HttpResponse:
    """Direct reports for a manager; the whole firm (or one team) for partners."""
    require_manager(request.user)
    form = TeamFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "dispatch/team.html", {"form": form, "team": None}, status=400)
    firm_wide = is_partner(request.user)
    data = form.cleaned_data
    page = selectors.team_page(
        viewer=staff_member_for_user(user=request.user),
        firm_wide=firm_wide,
        today=timezone.localdate(),
        team_id=data["team"] if firm_wide else None,
        query=data["q"],
        page=data["page"] or 1,
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "team": page, "query": query.urlencode(), "filters": data}
    return render(request, "dispatch/team.html", context)


@require_GET
def confirmations(request: HttpRequest) -> HttpResponse:
    require_manager(request.user)
    return render(
        request, "dispatch/confirmation_list.html", {"decisions": selectors.confirmation_list()}
    )


@require_POST
def confirmation_decline(request: HttpRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    decision = get_object_or_404(DispatchDecision, pk=pk)
    try:
        services.decision_decline_requested(decision_id=decision.pk, actor=request.user)
    except services.DispatchError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Declined; the task was dispatched by the normal rule.")
    return redirect("dispatch:confirmations")
