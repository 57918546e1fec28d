"""The capacity pages: the heatmap (weeks and days) and the tasks behind a cell.

Composed here because they read capacity (the ledger), engagements (deadlines,
documents) and dispatch (requested staffers awaiting confirmation) at once. Who sees
what is decided in ``capacity.heatmap`` from the viewer's ``Reach``: staff their own
row, managers their team (the firm on request), partners the firm.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from capacity.distribution import (
    DEFAULT_HORIZON_DAYS,
    HORIZON_DAYS,
    deadline_day_tasks,
    deadline_distribution,
)
from capacity.heatmap import (
    BAND_LABELS,
    BAND_ORDER,
    SPAN_DAYS,
    SPAN_WEEKS,
    HeatmapFilters,
    Reach,
    capacity_heatmap,
    heatmap_cell,
)
from capacity.selectors import hours_by_day
from core.roles import is_manager, is_partner, require_manager
from dispatch.metrics import (
    DEFAULT_WEEKS,
    REASSIGNED_FLAG_SHARE,
    REASSIGNED_MIN_SAMPLE,
    WEEK_CHOICES,
    engine_metrics,
)
from dispatch.queue_selectors import awaiting_confirmation_staff
from portal.capacity_charts import distribution_chart, metrics_charts
from portal.capacity_forms import (
    FIRM,
    CellForm,
    DeadlineDayForm,
    DeadlineFilterForm,
    HeatmapFilterForm,
    MetricsForm,
)
from staff.choices import Weekday
from staff.forms import WorkingPatternForm
from staff.models import StaffMember
from staff.selectors import staff_member_for_user, staff_member_hours_access
from staff.services import working_pattern_add, working_pattern_remove

HEATMAP_PAGE = "capacity/heatmap.html"
CELL_PAGE = "capacity/heatmap_cell.html"
DEADLINES_PAGE = "capacity/deadlines.html"
DEADLINE_DAY_PAGE = "capacity/deadline_day.html"
METRICS_PAGE = "capacity/metrics.html"


def viewer_reach(request: HttpRequest) -> Reach:
    member = staff_member_for_user(user=request.user)
    return Reach(
        viewer_id=member.pk if member else None,
        sees_others=is_manager(request.user),
        starts_with_firm=is_partner(request.user),
    )


def _partial(request: HttpRequest, page: str, name: str) -> str:
    return f"{page}#{name}" if request.htmx and not request.htmx.boosted else page


@require_GET
@vary_on_headers("HX-Request")
def heatmap(request: HttpRequest, span: str = SPAN_WEEKS) -> HttpResponse:
    """Staff x the next eight weeks (``span`` days: the next fourteen days)."""
    form = HeatmapFilterForm(request.GET)
    reach = viewer_reach(request)
    valid = form.is_valid()
    result = capacity_heatmap(
        reach=reach,
        filters=form.filters() if valid else HeatmapFilters(),
        span=span,
        today=timezone.localdate(),
        proposed=awaiting_confirmation_staff(),
    )
    people = result.people
    context = {
        "form": form,
        "heatmap": result,
        "reach": reach,
        "team_value": FIRM if people.firm else (people.team or ""),
        "cell_url": reverse("portal:capacity-cell"),
        "bands": [(band, BAND_LABELS[band]) for band in BAND_ORDER],
        "query": form.data.urlencode() if hasattr(form.data, "urlencode") else "",
    }
    return render(
        request, _partial(request, HEATMAP_PAGE, "heatmap"), context, status=200 if valid else 400
    )


@require_GET
def heatmap_days(request: HttpRequest) -> HttpResponse:
    return heatmap(request, span=SPAN_DAYS)


@require_GET
@vary_on_headers("HX-Request")
def heatmap_cell_detail(request: HttpRequest) -> HttpResponse:
    """The tasks behind one cell: a fragment for the heatmap, a page without JavaScript."""
    today = timezone.localdate()
    form = CellForm(request.GET, today=today)
    if not form.is_valid():
        return render(
            request, _partial(request, CELL_PAGE, "cell-detail"), {"form": form}, status=400
        )
    data = form.cleaned_data
    detail = heatmap_cell(
        reach=viewer_reach(request),
        staff_id=data["staff"],
        first=data["start"],
        span=data["span"],
        today=today,
        proposed=awaiting_confirmation_staff(),
    )
    if detail is None:
        raise Http404("No such person.")
    back = reverse("portal:capacity-days" if data["span"] == SPAN_DAYS else "portal:capacity")
    return render(
        request,
        _partial(request, CELL_PAGE, "cell-detail"),
        {"form": form, "detail": detail, "back": back},
    )


@require_GET
@vary_on_headers("HX-Request")
def deadlines(request: HttpRequest) -> HttpResponse:
    """For each upcoming deadline date, whose work falls on it: a chart and its table."""
    reach = viewer_reach(request)
    if not reach.sees_others:
        raise PermissionDenied("The deadline distribution is for managers and partners.")
    form = DeadlineFilterForm(request.GET)
    valid = form.is_valid()
    result = deadline_distribution(
        reach=reach,
        filters=form.filters() if valid else HeatmapFilters(),
        today=timezone.localdate(),
        horizon_days=form.cleaned_data.get("days") or DEFAULT_HORIZON_DAYS,
        proposed=awaiting_confirmation_staff(),
    )
    people = result.people
    query = request.GET.copy()
    context = {
        "form": form,
        "distribution": result,
        "chart": distribution_chart(result),
        "reach": reach,
        "people": people,
        "team_value": FIRM if people.firm else (people.team or ""),
        "horizons": HORIZON_DAYS,
        "horizon": form.cleaned_data.get("days") or DEFAULT_HORIZON_DAYS,
        "day_url": reverse("portal:capacity-deadline-day"),
        "query": query.urlencode(),
    }
    return render(
        request,
        _partial(request, DEADLINES_PAGE, "deadlines"),
        context,
        status=200 if valid else 400,
    )


@require_GET
@vary_on_headers("HX-Request")
def deadline_day(request: HttpRequest) -> HttpResponse:
    """The tasks behind one deadline date: a fragment for the page, a page without JS."""
    reach = viewer_reach(request)
    if not reach.sees_others:
        raise PermissionDenied("The deadline distribution is for managers and partners.")
    form = DeadlineDayForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            _partial(request, DEADLINE_DAY_PAGE, "deadline-day"),
            {"form": form},
            status=400,
        )
    day = form.cleaned_data["day"]
    rows = deadline_day_tasks(
        reach=reach,
        filters=form.filters(),
        day=day,
        today=timezone.localdate(),
        proposed=awaiting_confirmation_staff(),
    )
    query = request.GET.copy()
    query.pop("day", None)
    return render(
        request,
        _partial(request, DEADLINE_DAY_PAGE, "deadline-day"),
        {"form": form, "day": day, "rows": rows, "back_query": query.urlencode()},
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The engine's weekly figures and the work types that need tuning."""
    require_manager(request.user)
    form = MetricsForm(request.GET)
    valid = form.is_valid()
    weeks = form.cleaned_data.get("weeks") or DEFAULT_WEEKS
    result = engine_metrics(today=timezone.localdate(), weeks=weeks)
    context = {
        "form": form,
        "metrics": result,
        "charts": metrics_charts(result),
        "reach": viewer_reach(request),
        "weeks": weeks,
        "week_choices": WEEK_CHOICES,
        "flag_percent": round(REASSIGNED_FLAG_SHARE * 100),
        "min_sample": REASSIGNED_MIN_SAMPLE,
    }
    return render(request, METRICS_PAGE, context, status=200 if valid else 400)


HOURS_PAGE = "capacity/staff_hours.html"


def _hours_context(
    request: HttpRequest, member: StaffMember, may_edit: bool, form: WorkingPatternForm
) -> dict[str, object]:
    patterns = list(member.working_patterns.order_by("starts_on", "pk"))
    labels = [label for _, label in Weekday.choices]
    return {
        "member": member,
        "may_edit": may_edit,
        "form": form,
        # Each pattern with its hours by weekday label (a phone shows the labels).
        "patterns": [(p, list(zip(labels, p.day_hours, strict=True))) for p in patterns],
        "days": hours_by_day(member=member, patterns=patterns, today=timezone.localdate()),
        "weekday_labels": labels,
    }


@require_http_methods(["GET", "POST"])
def staff_hours(request: HttpRequest, staff_id: int) -> HttpResponse:
    """A person's working patterns (hours per weekday) and their next two weeks of hours;
    their manager, a partner or an admin adds a pattern here."""
    access = staff_member_hours_access(user=request.user, staff_id=staff_id)
    if access is None:
        raise Http404("No such person.")
    member, may_edit = access
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only their manager or a partner can change their hours.")
        form = WorkingPatternForm(request.POST)
        if form.is_valid():
            try:
                working_pattern_add(staff_member=member, form=form)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Working pattern “{form.cleaned_data['name']}” added.")
                return redirect("portal:capacity-hours", staff_id=member.pk)
        return render(
            request, HOURS_PAGE, _hours_context(request, member, may_edit, form), status=400
        )
    return render(
        request, HOURS_PAGE, _hours_context(request, member, may_edit, WorkingPatternForm())
    )


@require_POST
def staff_hours_remove(request: HttpRequest, staff_id: int, pattern_id: int) -> HttpResponse:
    """Remove one working pattern (a button on the hours page)."""
    access = staff_member_hours_access(user=request.user, staff_id=staff_id)
    if access is None:
        raise Http404("No such person.")
    member, may_edit = access
    if not may_edit:
        raise PermissionDenied("Only their manager or a partner can change their hours.")
    if not working_pattern_remove(staff_member=member, pattern_id=pattern_id):
        raise Http404("No such working pattern.")
    messages.success(request, "Working pattern removed.")
    return redirect("portal:capacity-hours", staff_id=member.pk)
