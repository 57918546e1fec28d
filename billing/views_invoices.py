"""Invoice pages: the partner's approvals (HTMX; also on the close dashboard), the
invoice list and page with payments, the leakage list, and the client's signed link.

Partners approve, edit, reject and void; the billing coordinator (and partners) record
payments and act on follow-ups (``views_followups``); managers read. An HTMX post
gets back the draft's card; a plain post redirects (POST-redirect-GET).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from billing import invoices, payments, selectors
from billing.choices import InvoiceStatus
from billing.forms import (
    AdjustmentForm,
    DisputeForm,
    DisputeResolveForm,
    InstalmentPlanForm,
    InvoiceLineForm,
    PaymentForm,
    PromiseForm,
    RejectForm,
    VoidForm,
)
from billing.links import InvoiceLinkError, read_invoice_token
from billing.pdf import invoice_pdf, invoice_pdf_filename
from core.exceptions import ApplicationError
from core.forms import FirmForm, first_error
from core.roles import is_billing_coordinator, is_manager, is_partner, require_billing_coordinator
from core.types import AuthenticatedHttpRequest

APPROVALS = "billing/invoice_approvals.html"
ROW = "billing/_approval_row.html"


def _require_partner(request: HttpRequest) -> None:
    if not is_partner(request.user):
        raise PermissionDenied("Only partners approve invoices and record payments.")


def _require_manager(request: HttpRequest) -> None:
    if not (is_manager(request.user) or is_billing_coordinator(request.user)):
        raise PermissionDenied("Invoices are for managers, partners and the billing coordinator.")


@require_GET
@vary_on_headers("HX-Request")
def approvals(request: HttpRequest) -> HttpResponse:
    _require_partner(request)
    return render(request, APPROVALS, {"approval_rows": selectors.approval_queue()})


def _row_response(
    request: HttpRequest, invoice_id: int, *, note: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    row = selectors.approval_row(invoice_id=invoice_id)
    context = {"row": row, "row_note": note, "row_error": error, "invoice_id": invoice_id}
    return render(request, ROW, context, status=400 if error else status)


def _done(request: HttpRequest, invoice_id: int, note: str, error: str = "") -> HttpResponse:
    if request.htmx:
        return _row_response(request, invoice_id, note=note, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, note)
    back = "portal:close-dashboard" if request.POST.get("next") == "close" else "billing:approvals"
    return redirect(back)


@require_POST
def invoice_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_partner(request)
    try:
        approved = invoices.invoice_approve(invoice_id=pk, user=request.user)
    except ApplicationError as exc:
        return _done(request, pk, "", exc.user_message)
    invoice = approved.invoice
    if approved.emailed:
        note = f"Approved: {invoice.number} emailed to the client."
    elif invoice.sent_at is None and invoices.stripe_configured():
        note = f"Approved: {invoice.number} goes out with its payment link in a moment."
    elif invoice.sent_at is None:
        note = f"Approved: {invoice.number}. No email on file: send the PDF yourself."
    else:
        note = f"{invoice.number} was already approved."
    return _done(request, pk, note)


@require_POST
def invoice_reject(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_partner(request)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _done(request, pk, "", first_error(form))
    try:
        invoices.invoice_reject(invoice_id=pk, user=request.user, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        return _done(request, pk, "", exc.user_message)
    return _done(request, pk, "Rejected; its time is back among the unbilled.")


@require_POST
def invoice_line_edit(request: AuthenticatedHttpRequest, pk: int, line_pk: int) -> HttpResponse:
    _require_partner(request)
    form = InvoiceLineForm(request.POST)
    if not form.is_valid():
        return _done(request, pk, "", first_error(form))
    try:
        invoices.invoice_line_update(
            invoice_id=pk, line_id=line_pk, user=request.user, **form.cleaned_data
        )
    except ApplicationError as exc:
        return _done(request, pk, "", exc.user_message)
    return _done(request, pk, "Line saved.")


@require_POST
def invoice_line_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_partner(request)
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        return _done(request, pk, "", first_error(form))
    try:
        invoices.invoice_line_add(invoice_id=pk, user=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return _done(request, pk, "", exc.user_message)
    return _done(request, pk, "Adjustment added.")


class StatusFilterForm(FirmForm):
    status = forms.ChoiceField(choices=[("", "All"), *InvoiceStatus.choices], required=False)


@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = StatusFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    context = {"invoices": selectors.invoice_list(status=status or None), "form": form}
    return render(
        request, "billing/invoice_list.html", context, status=200 if form.is_valid() else 400
    )


FORMS = {
    "payment_form": PaymentForm,
    "void_form": VoidForm,
    "promise_form": PromiseForm,
    "plan_form": InstalmentPlanForm,
    "resolve_form": DisputeResolveForm,
}


def _detail(request: HttpRequest, pk: int, **extra: object) -> HttpResponse:
    invoice = selectors.invoice_for_document(invoice_id=pk)
    if invoice is None:
        raise Http404("No such invoice.")
    forms_: dict[str, object] = {
        name: extra.pop(name, None) or form() for name, form in FORMS.items()
    }
    forms_["dispute_form"] = extra.pop("dispute_form", None) or DisputeForm(invoice_id=pk)
    context = {
        **selectors.invoice_document_context(invoice),
        "can_act": is_partner(request.user),
        "can_chase": is_billing_coordinator(request.user),
        "timeline": selectors.invoice_timeline(invoice=invoice),
        "dispute": selectors.open_dispute(invoice=invoice),
        "state": getattr(invoice, "followup", None),  # reverse one-to-one: None if none
        **forms_,
        **extra,
    }
    status = 400 if any(getattr(f, "errors", None) for f in forms_.values()) else 200
    return render(request, "billing/invoice_detail.html", context, status=status)


@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    return _detail(request, pk)


@require_POST
def payment_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_billing_coordinator(request.user)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        note = " · ".join(
            x for x in (f"Ref {data['reference']}" if data["reference"] else "", data["note"]) if x
        )
        try:
            recorded = payments.payment_record(
                invoice_id=pk,
                amount=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                note=note,
                user=request.user,
            )
        except ApplicationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.user_message)
        else:
            held = (
                " (held until the draft is approved)" if recorded.payment.status == "held" else ""
            )
            messages.success(request, f"Payment of ${recorded.payment.amount} recorded{held}.")
            return redirect("billing:invoice-detail", pk=pk)
    return _detail(request, pk, payment_form=form)


@require_POST
def invoice_void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_partner(request)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            invoices.invoice_void(
                invoice_id=pk, user=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.user_message)
        else:
            messages.success(request, "Invoice void.")
            return redirect("billing:invoice-detail", pk=pk)
    return _detail(request, pk, void_form=form)


def _pdf_response(invoice_id: int) -> HttpResponse:
    invoice = selectors.invoice_for_document(invoice_id=invoice_id)
    if invoice is None:
        raise Http404("No such invoice.")
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice_pdf_filename(invoice)}"'
    return response


@require_GET
def invoice_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    return _pdf_response(pk)


@require_GET
def leakage(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    return render(request, "billing/leakage_list.html", {"reminders": selectors.leakage_list()})


# --- The client's signed link (no login) ----------------------------------------------------

PUBLIC_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PAID, InvoiceStatus.VOID)


def _public_invoice_id(request: HttpRequest, token: str) -> int | HttpResponse:
    try:
        invoice_id = read_invoice_token(token)
    except InvoiceLinkError as exc:
        return render(
            request, "billing/invoice_link_invalid.html", {"message": exc.user_message}, status=400
        )
    invoice = selectors.invoice_for_document(invoice_id=invoice_id)
    if invoice is None or invoice.status not in PUBLIC_STATUSES:
        return render(
            request,
            "billing/invoice_link_invalid.html",
            {"message": "This invoice is not available. Reply to our email and we will help."},
            status=404,
        )
    return invoice_id


@login_not_required
@never_cache
@require_GET
def invoice_public(request: HttpRequest, token: str) -> HttpResponse:
    found = _public_invoice_id(request, token)
    if isinstance(found, HttpResponse):
        return found
    invoice = selectors.invoice_for_document(invoice_id=found)
    assert invoice is not None
    context = {**selectors.invoice_document_context(invoice), "token": token}
    return render(request, "billing/invoice_public.html", context)


@login_not_required
@never_cache
@require_GET
def invoice_public_pdf(request: HttpRequest, token: str) -> HttpResponse:
    found = _public_invoice_id(request, token)
    if isinstance(found, HttpResponse):
        return found
    return _pdf_response(found)
