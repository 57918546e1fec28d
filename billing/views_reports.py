"""The billing reports' pages and their CSV downloads.

Managers, partners, administrators and the billing coordinator read them; a manager
sees their clients only (``billing.reports.client_scope``), everyone else the firm;
staff get 403. Each page takes its period through ``ReportPeriodForm`` (a GET form;
a bad date answers 400 with the reason next to the field) and swaps only its
``report-body`` region for HTMX; the CSV link carries the same period.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from billing import reports
from billing.forms import ReportPeriodForm
from core.csv_export import csv_response
from core.roles import is_billing_coordinator, is_manager


def _scope(request: HttpRequest) -> list[int] | None:
    if not (is_manager(request.user) or is_billing_coordinator(request.user)):
        raise PermissionDenied("Reports are for managers, partners and the billing coordinator.")
    return reports.client_scope(request.user)


def _render(
    request: HttpRequest, template: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    if request.htmx and not request.htmx.boosted:
        template = f"{template}#report-body"
    return render(request, template, {**context, "query": request.GET.urlencode()}, status=status)


def _period(
    request: HttpRequest, *, default_days: int
) -> tuple[ReportPeriodForm, tuple[date, date] | None]:
    """The period form and the period it asks for (None when a date is refused)."""
    form = ReportPeriodForm(request.GET or None)
    today = timezone.localdate()
    if form.is_bound and not form.is_valid():
        return form, None
    if not form.is_bound:
        form = ReportPeriodForm({})
        form.is_valid()
    return form, form.period(default_start=today - timedelta(days=default_days), default_end=today)


def _stamp(day: date) -> str:
    return f"{day:%Y-%m-%d}"


# --- AR aging ---------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def aging(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    report = reports.ar_aging(client_ids=scope, as_of=timezone.localdate())
    return _render(
        request, "billing/report_aging.html", {"report": report, "scoped": scope is not None}
    )


@require_GET
def aging_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    report = reports.ar_aging(client_ids=scope, as_of=timezone.localdate())
    header = ["Client", "Open invoices", *(label for _, label in reports.BUCKETS), "Total"]
    rows = [[r.client_name, r.invoices, *r.amounts, r.total] for r in report.rows]
    rows.append(["Total", sum(r.invoices for r in report.rows), *report.totals, report.total])
    return csv_response(f"ar-aging-{_stamp(report.as_of)}.csv", header, rows)


# --- WIP --------------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def wip(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    report = reports.wip(client_ids=scope)
    return _render(
        request, "billing/report_wip.html", {"report": report, "scoped": scope is not None}
    )


@require_GET
def wip_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    report = reports.wip(client_ids=scope)
    header = ["Client", "Engagement", "Hours", "Value", "Oldest entry"]
    rows = [
        [client.client_name, line.label, line.hours, line.value, line.oldest]
        for client in report.clients
        for line in client.lines
    ]
    rows.append(["Total", "", report.hours, report.value, None])
    return csv_response(f"wip-{_stamp(timezone.localdate())}.csv", header, rows)
