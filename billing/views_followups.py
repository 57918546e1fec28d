"""Follow-up pages: where each client stands, the coordinator's tasks, the actions on an
invoice (dispute, resolve, promise, payment plan), holds, failed sends, and the
client's statement link.

The billing coordinator (the ``billing`` group, and partners and administrators)
acts; managers read. Every action posts a form and redirects (POST-redirect-GET);
a refused action shows its reason next to the form on the invoice page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing import disputes, followups, selectors
from billing.choices import InvoiceStatus
from billing.forms import (
    DisputeForm,
    DisputeResolveForm,
    HoldReleaseForm,
    InstalmentPlanForm,
    PromiseForm,
    TaskDoneForm,
)
from billing.links import InvoiceLinkError, read_statement_token
from billing.models import BillingTask, Dispute, Invoice
from clients.models import Client
from core.exceptions import ApplicationError
from core.forms import FirmForm, first_error
from core.roles import is_manager, require_billing_coordinator
from core.types import AuthenticatedHttpRequest
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from notifications.services import notification_retry


def _require_reader(request: HttpRequest) -> None:
    from core.roles import is_billing_coordinator

    if not (is_manager(request.user) or is_billing_coordinator(request.user)):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("Follow-ups are for the billing coordinator, managers and partners.")


@require_GET
def followup_status(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    from billing.reports import client_scope
    from core.roles import is_billing_coordinator

    client_ids = client_scope(request.user)
    context = {
        "rows": selectors.followup_status(client_ids=client_ids),
        "failed": selectors.failed_followups(client_ids=client_ids),
        "can_chase": is_billing_coordinator(request.user),
    }
    return render(request, "billing/followup_status.html", context)


@require_GET
def billing_tasks(request: HttpRequest) -> HttpResponse:
    require_billing_coordinator(request.user)
    return render(
        request,
        "billing/billing_tasks.html",
        {"tasks": selectors.billing_task_list(), "form": TaskDoneForm()},
    )


@require_POST
def billing_task_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_billing_coordinator(request.user)
    form = TaskDoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("billing:tasks")
    if not BillingTask.objects.filter(pk=pk).exists():
        raise Http404("No such task.")
    try:
        followups.billing_task_done(task_id=pk, user=request.user, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        messages.error(request, exc.user_message)
    else:
        messages.success(request, "Task done.")
    return redirect("billing:tasks")


def _invoice_action(
    request: AuthenticatedHttpRequest,
    pk: int,
    form: FirmForm,
    act: Callable[[dict[str, object]], str],
) -> HttpResponse:
    """Run ``act`` with the form's data for an invoice page's action: success redirects
    back with its note; a refusal shows the page again with the reason by the form."""
    from billing.views_invoices import _detail

    require_billing_coordinator(request.user)
    if not Invoice.objects.filter(pk=pk).exists():
        raise Http404("No such invoice.")
    if form.is_valid():
        try:
            note = act(form.cleaned_data)
        except ApplicationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.user_message)
        else:
            messages.success(request, note)
            return redirect("billing:invoice-detail", pk=pk)
    return _detail(request, pk, **{_FORM_NAMES[type(form)]: form})


_FORM_NAMES: dict[type, str] = {
    DisputeForm: "dispute_form",
    PromiseForm: "promise_form",
    InstalmentPlanForm: "plan_form",
    DisputeResolveForm: "resolve_form",
}


@require_POST
def dispute_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def act(data: dict[str, object]) -> str:
        lines = [line.pk for line in data["lines"]]  # type: ignore[attr-defined]
        dispute = disputes.dispute_open(
            invoice_id=pk, user=request.user, line_ids=lines, note=str(data["note"])
        )
        if dispute.whole_invoice:
            return "Dispute recorded: the follow-ups are paused and a review task is open."
        return f"Dispute of ${dispute.amount:,.2f} recorded: the rest is still followed up."

    return _invoice_action(request, pk, DisputeForm(request.POST, invoice_id=pk), act)


@require_POST
def dispute_resolve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    dispute = Dispute.objects.filter(pk=pk).first()
    if dispute is None:
        raise Http404("No such dispute.")

    def act(data: dict[str, object]) -> str:
        disputes.dispute_resolve(
            dispute_id=pk, user=request.user, outcome=str(data["outcome"]), note=str(data["note"])
        )
        return "Dispute resolved: the follow-ups start again from the first touch."

    return _invoice_action(request, dispute.invoice_id, DisputeResolveForm(request.POST), act)


@require_POST
def promise_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def act(data: dict[str, object]) -> str:
        promise = followups.promise_record(
            invoice_id=pk,
            user=request.user,
            promised_on=data["promised_on"],  # type: ignore[arg-type]
            amount=data["amount"],  # type: ignore[arg-type]
            note=str(data["note"]),
        )
        return f"Promise recorded: no follow-up until {promise.promised_on:%B %-d}."

    return _invoice_action(request, pk, PromiseForm(request.POST), act)


@require_POST
def plan_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def act(data: dict[str, object]) -> str:
        rows = followups.instalment_plan_create(
            invoice_id=pk,
            count=int(data["count"]),  # type: ignore[call-overload]
            first_due_on=data["first_due_on"],  # type: ignore[arg-type]
            every_days=int(data["every_days"]),  # type: ignore[call-overload]
        )
        return f"Payment plan of {len(rows)} instalments set up; reminders come before each."

    return _invoice_action(request, pk, InstalmentPlanForm(request.POST), act)


@require_POST
def hold_release(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    require_billing_coordinator(request.user)
    if not Client.objects.filter(pk=pk).exists():
        raise Http404("No such client.")
    form = HoldReleaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("billing:followups")
    queued = followups.account_hold_release(client_id=pk, reason=form.cleaned_data["reason"])
    messages.success(
        request,
        "Hold released" + (f": {queued} held task(s) go back to dispatch." if queued else "."),
    )
    return redirect("billing:followups")


@require_POST
def followup_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The coordinator sends a failed follow-up again (the outbox's own retry)."""
    require_billing_coordinator(request.user)
    if not Notification.objects.filter(
        pk=pk,
        template__in=[NotificationTemplate.FOLLOWUP_TOUCH, NotificationTemplate.PAYMENT_RECEIVED],
    ).exists():
        raise Http404("No such follow-up.")
    if notification_retry(notification_id=pk):
        messages.success(request, "Sending it again.")
    else:
        messages.error(request, "That message has not failed for good; it is still being tried.")
    return redirect("billing:followups")


# --- The client's statement (no login) ---------------------------------------------------


@login_not_required
@never_cache
@require_GET
def statement_public(request: HttpRequest, token: str) -> HttpResponse:
    try:
        client_id = read_statement_token(token)
    except InvoiceLinkError as exc:
        return render(
            request, "billing/invoice_link_invalid.html", {"message": exc.user_message}, status=400
        )
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return render(
            request,
            "billing/invoice_link_invalid.html",
            {"message": "This statement is not available. Reply to our email and we will help."},
            status=404,
        )
    from billing.links import invoice_public_url

    open_invoices = list(
        Invoice.objects.filter(client=client, status=InvoiceStatus.ISSUED).order_by("due_on", "pk")
    )
    from billing.selectors import surcharge_notice

    rows = [(i, invoice_public_url(invoice_id=i.pk), surcharge_notice(i)) for i in open_invoices]
    total = sum((i.total - i.amount_paid for i in open_invoices), 0)
    from django.conf import settings

    return render(
        request,
        "billing/statement_public.html",
        {
            "client": client,
            "rows": rows,
            "total": total,
            "payment_instructions": settings.PAYMENT_INSTRUCTIONS,
            "firm_name": settings.FIRM_NAME,
        },
    )
