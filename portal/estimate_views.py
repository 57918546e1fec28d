"""Estimates that learn: each work type's default estimate beside the median of what
logged time says, with a one-click "use this" (partners and admins: firm rules)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from capacity.estimates import CLOSE_ENOUGH, LOOKBACK, MIN_SAMPLE, estimate_calibrations
from core.roles import is_partner, require_manager
from dispatch.forms import EstimateForm
from engagements.models import WorkType
from engagements.services import work_type_default_estimate_set

ESTIMATES_PAGE = "capacity/estimates.html"


@require_GET
def estimates(request: HttpRequest) -> HttpResponse:
    require_manager(request.user)
    return render(
        request,
        ESTIMATES_PAGE,
        {
            "calibrations": estimate_calibrations(today=timezone.localdate()),
            "may_change": is_partner(request.user),
            "min_sample": MIN_SAMPLE,
            "lookback_days": LOOKBACK.days,
            "close_enough_percent": round(CLOSE_ENOUGH * 100),
        },
    )


@require_POST
def estimate_use(request: HttpRequest, work_type_id: int) -> HttpResponse:
    """Make the suggested hours the work type's default estimate."""
    if not is_partner(request.user):
        raise PermissionDenied("Partners and admins change a work type's default estimate.")
    work_type = get_object_or_404(WorkType, pk=work_type_id)
    form = EstimateForm(request.POST)
    if not form.is_valid():
        errors = " ".join(e for field in form.errors.values() for e in field)
        return HttpResponse(f"That estimate cannot be used: {errors}", status=400)
    work_type_default_estimate_set(work_type_id=work_type.pk, hours=form.cleaned_data["hours"])
    messages.success(
        request,
        f"{work_type.name}: new engagements start from {form.cleaned_data['hours']:f} h.",
    )
    return redirect("portal:capacity-estimates")
