"""The close-progress dashboard page and its cheap live poll."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from billing.selectors import approval_queue
from core.calendar import firm_calendar
from core.forms import MAX_ID, FirmForm
from core.roles import is_manager, is_partner
from portal.dashboard import AMBER, GREEN, RED, Filters, board_version, close_board, render_rows

PAGE = "portal/close_dashboard.html"


class BoardFilterForm(FirmForm):
    period = forms.CharField(required=False, max_length=7, help_text="YYYY-MM")
    partner = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    manager = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    work_type = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    milestone = forms.CharField(required=False, max_length=120)
    risk = forms.ChoiceField(
        required=False, choices=[("", "Any"), (RED, "Red"), (AMBER, "Amber"), (GREEN, "Green")]
    )

    def clean_period(self) -> date:
        value = self.cleaned_data["period"]
        if not value:
            today = timezone.localdate()
            # The close in progress is last month's.
            return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        try:
            year, month = (int(part) for part in value.split("-"))
            return date(year, month, 1)
        except ValueError as exc:
            raise forms.ValidationError("Give the period as YYYY-MM, e.g. 2026-10.") from exc


@require_GET
@vary_on_headers("HX-Request")
def close_dashboard(request: HttpRequest) -> HttpResponse:
    if not is_manager(request.user):
        raise PermissionDenied("The close dashboard is for managers and partners.")
    version = board_version()
    if request.htmx and request.GET.get("since") == str(version):
        return HttpResponse(status=204)  # nothing changed: no query for rows, no render
    form = BoardFilterForm(request.GET)
    if not form.is_valid():
        return render(request, PAGE, {"form": form, "board": None, "version": version}, status=400)
    data = form.cleaned_data
    filters = Filters(
        period=data["period"],
        partner_id=data["partner"],
        manager_id=data["manager"],
        work_type_id=data["work_type"],
        milestone=data["milestone"] or None,
        risk=data["risk"] or None,
    )
    board = close_board(filters=filters, today=timezone.localdate(), calendar=firm_calendar())
    # One reverse for the page, not one per row (500 rows are rendered).
    detail_prefix = reverse("engagements:engagement-detail", args=[0]).removesuffix("0/")
    query = request.GET.copy()
    query.pop("since", None)
    without_risk = query.copy()
    without_risk.pop("risk", None)
    context = {
        "form": form,
        "board": board,
        "filters": filters,
        "period": filters.period,
        "version": version,
        "query": query.urlencode(),
        "query_without_risk": without_risk.urlencode(),
        "rows_html": render_rows(board.rows, detail_prefix=detail_prefix),
    }
    if is_partner(request.user) and not (request.htmx and not request.htmx.boosted):
        # Partners approve invoice drafts here in one click (billing's own partial).
        context["approval_rows"] = approval_queue()
    template = PAGE + "#close-board" if request.htmx and not request.htmx.boosted else PAGE
    return render(request, template, context)
