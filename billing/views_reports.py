"""The billing reports' pages and their CSV downloads.

Managers, partners, administrators and the billing coordinator read them; a manager
sees their clients only (``billing.reports.client_scope``), everyone else the firm;
staff get 403. Each page takes its period through ``ReportPeriodForm`` (a GET form;
a bad date answers 400 with the reason next to the field) and swaps only its
``report-body`` region for HTMX; the CSV link carries the same period.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from billing import reports
from billing.forms import ReportPeriodForm
from billing.rates import ZERO
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
    request: HttpRequest, default: tuple[date, date]
) -> tuple[ReportPeriodForm, tuple[date, date] | None]:
    """The period form and the period it asks for (None when a date is refused); the
    form shown holds the period reported, defaults filled in."""
    form = ReportPeriodForm(request.GET)
    if not form.is_valid():
        return form, None
    start, end = form.period(default_start=default[0], default_end=default[1])
    shown = ReportPeriodForm({"start": start.isoformat(), "end": end.isoformat()})
    shown.is_valid()
    return shown, (start, end)


def _last_days(days: int) -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=days), today


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


# --- The weekly leakage report ------------------------------------------------------------


def _leakage_period(request: HttpRequest) -> tuple[ReportPeriodForm, tuple[date, date] | None]:
    return _period(request, reports.last_full_week(timezone.localdate()))


@require_GET
@vary_on_headers("HX-Request")
def leakage(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, period = _leakage_period(request)
    report = None
    if period is not None:
        report = reports.leakage_report(client_ids=scope, start=period[0], end=period[1])
    context = {"report": report, "form": form, "scoped": scope is not None}
    return _render(request, "billing/report_leakage.html", context, 400 if period is None else 200)


@require_GET
def leakage_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, period = _leakage_period(request)
    if period is None:
        return HttpResponse(_errors(form), status=400, content_type="text/plain; charset=utf-8")
    r = reports.leakage_report(client_ids=scope, start=period[0], end=period[1])
    rows: list[list[object]] = [
        ["Time recorded for work done in the period", r.drafted.count, r.drafted.amount, "hours"],
        ["... approved since", r.drafted_approved.count, r.drafted_approved.amount, "hours"],
        ["... on an invoice since", r.drafted_invoiced.count, r.drafted_invoiced.amount, "hours"],
        ["Time approved in the period", r.approved.count, r.approved.amount, "hours"],
        [
            "Invoices drafted in the period",
            r.invoices_drafted.count,
            r.invoices_drafted.amount,
            "dollars",
        ],
        ["Completed tasks with no approved time", r.tasks_without_time.count, None, ""],
        [
            "Approved time never invoiced",
            r.approved_unbilled.count,
            r.approved_unbilled.amount,
            "hours",
        ],
        [
            "Approved invoices never sent",
            len(r.unsent),
            sum((u.total for u in r.unsent), ZERO),
            "dollars",
        ],
    ]
    rows += [[f"Write-downs: {w.reason}", w.lines, w.amount, "dollars"] for w in r.write_downs]
    return csv_response(
        f"leakage-{_stamp(r.start)}-to-{_stamp(r.end)}.csv",
        ["Measure", "Count", "Amount", "Unit"],
        rows,
    )


def _errors(form: ReportPeriodForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- Realization, collection, days to pay ----------------------------------------------------

REALIZATION_DAYS = 90


@require_GET
@vary_on_headers("HX-Request")
def realization(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, period = _period(request, _last_days(REALIZATION_DAYS))
    context: dict[str, object] = {"form": form, "scoped": scope is not None, "report": None}
    if period is not None:
        context["report"] = reports.realization_report(
            client_ids=scope, start=period[0], end=period[1]
        )
        context["days"] = reports.days_to_pay(client_ids=scope, start=period[0], end=period[1])
    return _render(
        request, "billing/report_realization.html", context, 400 if period is None else 200
    )


@require_GET
def realization_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    form, period = _period(request, _last_days(REALIZATION_DAYS))
    if period is None:
        return HttpResponse(_errors(form), status=400, content_type="text/plain; charset=utf-8")
    r = reports.realization_report(client_ids=scope, start=period[0], end=period[1])
    days = reports.days_to_pay(client_ids=scope, start=period[0], end=period[1])
    paid = {d.label: d for d in days.by_client}
    header = [
        "By", "Name", "Invoices", "Billed", "Collected", "Billed work", "Standard value",
        "Realization %", "Collection %", "Average days to pay",
    ]  # fmt: skip

    def line(by: str, f: reports.Figures, average: Decimal | None) -> list[object]:
        return [
            by, f.label, f.invoices, f.billed, f.collected, f.work, f.standard,
            _pct(f.realization), _pct(f.collection), average,
        ]  # fmt: skip

    rows = [line("Firm", r.firm, days.firm.average_days)]
    rows += [line("Work type", f, None) for f in r.by_work_type]
    rows += [line("Partner", f, None) for f in r.by_partner]
    rows += [
        line("Client", f, paid[f.label].average_days if f.label in paid else None)
        for f in r.by_client
    ]
    return csv_response(f"realization-{_stamp(r.start)}-to-{_stamp(r.end)}.csv", header, rows)


def _pct(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else (fraction * 100).quantize(Decimal("0.1"))


# --- Follow-up status by client ------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
def followups(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    rows = reports.followup_by_invoice(client_ids=scope, today=timezone.localdate())
    context = {
        "rows": rows,
        "capped": len(rows) >= reports.FOLLOWUP_ROWS,
        "scoped": scope is not None,
    }
    return _render(request, "billing/report_followups.html", context)


@require_GET
def followups_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope(request)
    rows = reports.followup_by_invoice(client_ids=scope, today=timezone.localdate())
    header = [
        "Client", "Invoice", "Due", "Days overdue", "Balance", "Sequence", "Touch",
        "Status", "Next touch", "Account hold",
    ]  # fmt: skip
    return csv_response(
        f"followups-{_stamp(timezone.localdate())}.csv",
        header,
        (
            [
                r.client_name,
                r.number,
                r.due_on,
                r.days_overdue,
                r.balance,
                r.sequence,
                r.touch,
                r.status,
                r.next_touch_on,
                r.on_hold,
            ]  # fmt: skip
            for r in rows
        ),
    )
