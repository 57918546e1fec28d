"""Manager pages: escalations, the team, and requested-staff confirmations."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from core.forms import MAX_ID, FirmForm
from core.roles import is_partner, require_manager
from dispatch import presenters, services
from dispatch import queue_selectors as selectors
from dispatch.forms import (
    BULK_ASSIGN,
    DeadlineForm,
    EscalationAssignForm,
    EscalationBulkForm,
    EscalationFilterForm,
    ThresholdForm,
)
from dispatch.models import DispatchDecision, Escalation
from dispatch.presenters import EscalationCard
from staff.selectors import staff_member_for_user

ESCALATIONS_PAGE = "dispatch/escalation_list.html"
# Each action's form, and the field a refusal from its service is about.
ACTION_FORMS: dict[str, tuple[type[forms.Form] | None, str | None]] = {
    "assign": (EscalationAssignForm, "staff_id"),
    "threshold": (ThresholdForm, "threshold_percent"),
    "deadline": (DeadlineForm, "due_date"),
    "informed": (None, None),
}


def _card_forms(card: EscalationCard, bound: dict[str, forms.Form] | None = None) -> None:
    """The card's forms, ids unique on the page; ``bound`` keeps a submitted one with
    its errors."""
    pk = card.escalation.pk
    for action, (form_class, _field) in ACTION_FORMS.items():
        if form_class is None:
            continue
        form = (bound or {}).get(action) or form_class(auto_id=f"esc{pk}-{action}-%s")
        card.forms[action] = form


def _listing(filters: EscalationFilterForm) -> list[EscalationCard]:
    data = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    work_type = data.get("work_type")
    sort = data.get("sort") or "due"
    cards = [
        presenters.escalation_card(escalation)
        for escalation in selectors.escalation_list(
            work_type_id=work_type.pk if work_type else None,
            due_by=data.get("due_by"),
            sort=sort,
        )
    ]
    if data.get("cause"):
        cards = [card for card in cards if card.cause_key == data["cause"]]
    if sort == "cause":
        cards.sort(key=lambda card: card.cause)
    for card in cards:
        _card_forms(card)
    return cards


def _page(
    request: HttpRequest,
    *,
    filters: EscalationFilterForm | None = None,
    bulk: EscalationBulkForm | None = None,
    replace: EscalationCard | None = None,
    status: int = 200,
) -> HttpResponse:
    filters = filters or EscalationFilterForm(request.GET or None)
    cards = _listing(filters)
    if replace is not None:
        cards = [replace if card.escalation.pk == replace.escalation.pk else card for card in cards]
    query = request.GET.copy()
    context = {
        "filters": filters,
        "cards": cards,
        "bulk": bulk or EscalationBulkForm(auto_id="bulk-%s"),
        "query": query.urlencode(),
        "sort_links": presenters.sort_links(query, current=query.get("sort") or "due"),
        "total": selectors.escalation_count(),
    }
    partial = request.htmx and not request.htmx.boosted
    template = ESCALATIONS_PAGE + "#escalation-list" if partial else ESCALATIONS_PAGE
    return render(request, template, context, status=status)


@require_GET
@vary_on_headers("HX-Request")
def escalations(request: HttpRequest) -> HttpResponse:
    require_manager(request.user)
    filters = EscalationFilterForm(request.GET or None)
    if filters.is_bound and not filters.is_valid():
        return _page(request, filters=filters, status=400)
    return _page(request, filters=filters)


def _back(request: HttpRequest) -> HttpResponse:
    url = reverse("dispatch:escalations")
    return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)


def _answer_card(request: HttpRequest, escalation_id: int, note: str) -> HttpResponse:
    """HTMX: the card again (re-dispatched, still open) or its resolved note, and the count."""
    escalation = next(iter(selectors.escalation_list(ids=[escalation_id])), None)
    card = presenters.escalation_card(escalation) if escalation is not None else None
    if card is not None:
        _card_forms(card)
    context = {
        "card": card,
        "card_note": note,
        "resolved_id": escalation_id,
        "query": request.GET.urlencode(),
        "total": selectors.escalation_count(),
        "oob": True,
    }
    html = render_to_string(ESCALATIONS_PAGE + "#escalation-card", context, request=request)
    html += render_to_string(ESCALATIONS_PAGE + "#escalation-count", context, request=request)
    return HttpResponse(html)


@require_POST
def escalation_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Resolve an escalation: assign a listed person, raise the threshold, move the
    internal deadline, or record that the client was told. A refusal comes back next
    to the field it is about, in the card it came from."""
    require_manager(request.user)
    escalation = get_object_or_404(Escalation, pk=pk)
    if action not in ACTION_FORMS:
        raise Http404("No such action.")
    form_class, field = ACTION_FORMS[action]
    form = form_class(request.POST, auto_id=f"esc{pk}-{action}-%s") if form_class else None
    note = ""
    try:
        if form is not None and not form.is_valid():
            raise _Invalid
        data = form.cleaned_data if form is not None else {}
        if action == "assign":
            record = services.escalation_assign(
                escalation_id=pk,
                staff_id=data["staff_id"],
                reason=data["reason"],
                actor=request.user,
            )
            note = f"Assigned to {record.assignee}; the escalation is resolved."
        elif action == "threshold":
            record = services.escalation_raise_threshold(
                escalation_id=pk, threshold_percent=data["threshold_percent"], actor=request.user
            )
            note = (
                f"Re-dispatched at {data['threshold_percent']} %: {presenters.outcome_note(record)}"
            )
        elif action == "deadline":
            record = services.escalation_extend_deadline(
                escalation_id=pk, due_date=data["due_date"], actor=request.user
            )
            note = f"Deadline moved and re-dispatched: {presenters.outcome_note(record)}"
        else:
            services.escalation_mark_client_informed(escalation_id=pk, actor=request.user)
            note = "Recorded that the client was informed."
    except services.DispatchError as exc:
        if form is None:
            messages.error(request, exc.user_message)
            return _back(request)
        form.add_error(field if escalation.status == "open" else None, exc.user_message)
    except _Invalid:
        pass
    else:
        if request.htmx:
            return _answer_card(request, pk, note)
        messages.success(request, note)
        return _back(request)
    # The form again, its errors next to its fields, in its own card.
    escalation = next(iter(selectors.escalation_list(ids=[pk])), None)
    if escalation is None:  # resolved meanwhile (another manager, another tab)
        note = "This escalation is already resolved; nothing was changed."
        if request.htmx:
            context = {"card": None, "card_note": note, "resolved_id": pk}
            return render(request, ESCALATIONS_PAGE + "#escalation-card", context, status=400)
        messages.error(request, note)
        return _page(request, status=400)
    card = presenters.escalation_card(escalation)
    _card_forms(card, bound={action: form} if form is not None else None)
    if request.htmx:
        context = {"card": card, "query": request.GET.urlencode()}
        return render(request, ESCALATIONS_PAGE + "#escalation-card", context, status=400)
    return _page(request, replace=card, status=400)


class _Invalid(Exception):
    """The submitted form did not validate."""


@require_POST
def escalation_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the ticked escalations, each through the single action's service."""
    require_manager(request.user)
    bulk = EscalationBulkForm(request.POST, auto_id="bulk-%s")
    if not bulk.is_valid():
        return _page(request, bulk=bulk, status=400)
    data = bulk.cleaned_data
    done: list[str] = []
    refused: list[str] = []
    for escalation in selectors.escalation_list(ids=[e.pk for e in data["escalations"]]):
        card = presenters.escalation_card(escalation)
        client = escalation.task.engagement.client.name
        try:
            if data["action"] == BULK_ASSIGN:
                if card.best is None:
                    raise services.DispatchError("nobody qualified is listed")
                record = services.escalation_assign(
                    escalation_id=escalation.pk,
                    staff_id=card.best[0],
                    reason=data["reason"],
                    actor=request.user,
                )
                done.append(f"{client}: assigned to {record.assignee}")
            else:
                record = services.escalation_raise_threshold(
                    escalation_id=escalation.pk,
                    threshold_percent=data["threshold_percent"],
                    actor=request.user,
                )
                done.append(f"{client}: {presenters.outcome_note(record)}")
        except services.DispatchError as exc:
            refused.append(f"{client}: {exc.user_message}")
    if done:
        messages.success(request, "Done — " + "; ".join(done) + ".")
    for line in refused:
        messages.error(request, f"Not done — {line}")
    if request.htmx:
        response = _page(request)
        response["HX-Trigger"] = "escalations-changed"
        return response
    return _back(request)


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
    rows = [presenters.confirmation_row(decision) for decision in selectors.confirmation_list()]
    return render(request, "dispatch/confirmation_list.html", {"rows": rows})


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
