"""Manager pages for the planner: plan the week, saved plans, and the rebalancing
proposals (approve or decline each, or all, in one click; HTMX with a no-JS path)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from capacity.models import MoveStatus, ScenarioKind, ScenarioStatus
from core.exceptions import ApplicationError
from core.roles import require_manager
from dispatch import plan_selectors as selectors
from dispatch import plan_services as services
from dispatch.forms import DecideAllForm

REBALANCING = "dispatch/rebalancing.html"


@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    require_manager(request.user)
    return render(request, "dispatch/plan_list.html", {"scenarios": selectors.scenario_list()})


@require_POST
def plan_week(request: HttpRequest) -> HttpResponse:
    """Plan every unassigned task jointly and open the proposal (nothing is assigned yet)."""
    require_manager(request.user)
    scenario = services.week_plan_create(actor=request.user)
    messages.success(request, "Proposed plan saved: review it, then apply it.")
    return redirect("dispatch:plan-detail", pk=scenario.pk)


@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    scenario = selectors.scenario_get(pk=pk)
    if scenario is None:
        raise Http404("No such plan.")
    lines, people = selectors.scenario_detail(scenario=scenario)
    context = {
        "scenario": scenario,
        "lines": lines,
        "people": people,
        "can_apply": scenario.status == ScenarioStatus.PROPOSED
        and any(line.move.status == MoveStatus.PENDING for line in lines),
        "is_rebalance": scenario.kind == ScenarioKind.REBALANCE,
        "gap_pct": _gap_pct(scenario.objective, scenario.bound),
    }
    return render(request, "dispatch/plan_detail.html", context)


def _gap_pct(objective: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9) * 100


@require_POST
def plan_apply(request: HttpRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    try:
        result = services.scenario_apply(scenario_id=pk, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.user_message)
    else:
        note = f"Applied {result.applied} line{'s' if result.applied != 1 else ''}"
        if result.skipped:
            note += f"; {result.skipped} skipped because their task changed (see each line)"
        messages.success(request, note + ".")
    return redirect("dispatch:plan-detail", pk=pk)


def _rebalancing_context(extra_ids: list[int] | None = None) -> dict[str, object]:
    lines = selectors.pending_proposals()
    return {
        "lines": lines,
        "loads": selectors.proposal_loads(lines=lines, extra_ids=extra_ids or []),
    }


@require_GET
def rebalancing(request: HttpRequest) -> HttpResponse:
    require_manager(request.user)
    return render(request, REBALANCING, _rebalancing_context())


@require_POST
def rebalancing_run(request: HttpRequest) -> HttpResponse:
    """Run the loop now (the same service as the beat job)."""
    require_manager(request.user)
    run = services.rebalance_run()
    if run.proposed:
        messages.success(request, f"{run.proposed} new proposal{'s' if run.proposed != 1 else ''}.")
    else:
        messages.success(request, "Nothing new to propose: nobody over threshold has movable work.")
    return redirect("dispatch:rebalancing")


@require_POST
def proposal_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve or decline one proposal; HTMX gets its row and the loads back."""
    require_manager(request.user)
    if action not in ("approve", "decline"):
        raise Http404("Unknown action.")
    line = selectors.proposal_get(pk=pk)
    if line is None:
        raise Http404("No such proposal.")
    error = note = ""
    try:
        if action == "approve":
            move = services.proposal_approve(move_id=pk, actor=request.user)
            if move.status == MoveStatus.APPLIED:
                note = f"Approved: moved to {move.to_staff}."
            else:
                error = f"Not moved: {move.outcome}"
        else:
            services.proposal_decline(move_id=pk, actor=request.user)
            note = "Declined: this move will not be proposed again for a while."
    except ApplicationError as exc:
        error = exc.user_message
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, note)
        return redirect("dispatch:rebalancing")
    people = [p for p in (line.move.from_staff_id, line.move.to_staff_id) if p]
    context = {
        **_rebalancing_context(extra_ids=people),
        "line": selectors.proposal_get(pk=pk),
        "row_note": note,
        "row_error": error,
        "oob": True,
    }
    html = render_to_string(REBALANCING + "#proposal-row", context, request=request)
    html += render_to_string(REBALANCING + "#rebalance-loads", context, request=request)
    return HttpResponse(html, status=400 if error and not note else 200)


@require_POST
def proposals_decide_all(request: HttpRequest) -> HttpResponse:
    require_manager(request.user)
    form = DecideAllForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve all or decline all.")
        return redirect("dispatch:rebalancing")
    approve = form.cleaned_data["decision"] == "approve"
    result = services.proposals_decide_all(actor=request.user, approve=approve)
    if approve:
        note = f"Approved {result.applied}"
        if result.skipped:
            note += f"; {result.skipped} expired because their situation changed"
    else:
        note = f"Declined {result.applied}"
    messages.success(request, note + ".")
    return redirect("dispatch:rebalancing")
