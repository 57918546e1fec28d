"""The client list, the client page and the engagement list (reads; who sees what is
decided in portal.clients and portal.engagement_list)."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.calendar import firm_calendar
from core.forms import MAX_ID, FirmForm
from engagements.selectors import ENGAGEMENT_STATES
from portal import clients as selectors
from portal import engagement_list as engagements_selectors
from portal.engagement_list import EngagementFilters
from portal.engagement_rows import AMBER, GREEN, RED

LIST_PAGE = "portal/client_list.html"
ENGAGEMENTS_PAGE = "portal/engagement_list.html"


class ClientFilterForm(FirmForm):
    q = forms.CharField(required=False, max_length=100, label="Search")
    partner = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    manager = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    work_type = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    risk = forms.ChoiceField(
        required=False,
        choices=[("", "Any"), (RED, "Red"), (AMBER, "Amber"), (GREEN, "Green")],
        label="Open risk",
    )
    sort = forms.ChoiceField(required=False, choices=list(selectors.SORTS.items()))
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def filters(self) -> selectors.ClientFilters:
        data = self.cleaned_data
        return selectors.ClientFilters(
            q=data["q"],
            partner_id=data["partner"],
            manager_id=data["manager"],
            work_type_id=data["work_type"],
            risk=data["risk"] or None,
            sort=data["sort"] or "name",
            page=data["page"] or 1,
        )


@require_GET
def client_list(request: HttpRequest) -> HttpResponse:
    form = ClientFilterForm(request.GET)
    if not form.is_valid():
        return render(request, LIST_PAGE, {"form": form, "result": None}, status=400)
    filters = form.filters()
    today = timezone.localdate()
    result = selectors.client_list(
        user=request.user, filters=filters, today=today, calendar=firm_calendar()
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "result": result,
        "query": query.urlencode(),
        "firm_wide": selectors.viewer_for(request.user).firm_wide,
        "today": today,
    }
    return render(request, LIST_PAGE, context)


@require_GET
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = selectors.client_get_for_user(user=request.user, pk=pk)
    if client is None:
        raise Http404("No such client among yours.")
    page = selectors.client_page(
        user=request.user, client=client, today=timezone.localdate(), calendar=firm_calendar()
    )
    return render(request, "portal/client_detail.html", {"page": page, "client": client})


class EngagementFilterForm(FirmForm):
    q = forms.CharField(required=False, max_length=100, label="Search")
    milestone = forms.CharField(required=False, max_length=120)
    state = forms.ChoiceField(
        required=False, choices=[("", "Any"), *ENGAGEMENT_STATES.items()], label="State"
    )
    work_type = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    partner = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    client = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def filters(self) -> EngagementFilters:
        data = self.cleaned_data
        return EngagementFilters(
            q=data["q"],
            milestone=data["milestone"],
            state=data["state"],
            work_type_id=data["work_type"],
            partner_id=data["partner"],
            client_id=data["client"],
            page=data["page"] or 1,
        )


@require_GET
def engagement_list(request: HttpRequest) -> HttpResponse:
    form = EngagementFilterForm(request.GET)
    if not form.is_valid():
        return render(request, ENGAGEMENTS_PAGE, {"form": form, "result": None}, status=400)
    filters = form.filters()
    result = engagements_selectors.engagement_list(
        user=request.user, filters=filters, today=timezone.localdate(), calendar=firm_calendar()
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "filters": filters, "result": result, "query": query.urlencode()}
    return render(request, ENGAGEMENTS_PAGE, context)
