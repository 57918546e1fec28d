from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ApplicationError, NotPermitted
from core.roles import is_manager, require_manager
from dispatch import lifecycle, presenters, selectors, services
from dispatch.choices import EscalationStatus
from dispatch.forms import CompleteForm, EstimateForm, ManualAssignForm
from dispatch.models import DispatchDecision
from engagements.models import Task
from staff.selectors import staff_member_for_user


def _task_or_404(request: HttpRequest, pk: int) -> Task:
    task = selectors.task_get_for_user(user=request.user, pk=pk)
    if task is None:
        raise Http404("No such task in your queue.")
    return task


def _render_task(
    request: HttpRequest,
    task: Task,
    *,
    assign_form: ManualAssignForm | None = None,
    estimate_form: EstimateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    manager = is_manager(request.user)
    me = staff_member_for_user(user=request.user)
    # Colleagues' figures and why they were passed over are for managers and partners.
    scope = presenters.DecisionLogScope(me=me.pk if me else None, sees_colleagues=manager)
    log = selectors.decision_log_for_task(task=task)
    open_escalation = next(
        (e for e in log.escalations.values() if e.status == EscalationStatus.OPEN), None
    )
    context = {
        "task": task,
        "decisions": presenters.decision_log(role=task.role, log=log, scope=scope),
        "asked_off": [
            presenters.asked_off_text(request)
            for request in log.asked_off
            if manager or (me is not None and request.staff_member_id == me.pk)
        ],
        "open_escalation": open_escalation,
        "escalation_conflict": (
            presenters.escalation_conflict(open_escalation) if open_escalation else ""
        ),
        "is_manager": manager,
        "actions": task.actions_for(staff_id=me.pk if me else None, is_manager=manager),
        "assign_form": assign_form or (ManualAssignForm() if manager else None),
        "estimate_form": estimate_form or (EstimateForm() if manager else None),
    }
    return render(request, "dispatch/task_detail.html", context, status=status)


@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_task(request, _task_or_404(request, pk))


@require_POST
def task_assign(request: HttpRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    task = _task_or_404(request, pk)
    form = ManualAssignForm(request.POST)
    if not form.is_valid():
        return _render_task(request, task, assign_form=form, status=400)
    try:
        services.task_assign_manual(
            task_id=task.pk,
            staff_id=form.cleaned_data["staff_member"].pk,
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except ApplicationError as exc:
        form.add_error(None, exc.user_message)
        return _render_task(request, task, assign_form=form, status=400)
    messages.success(request, f"Assigned to {form.cleaned_data['staff_member']}.")
    return redirect("dispatch:task-detail", pk=task.pk)


@require_POST
def task_estimate(request: HttpRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    task = _task_or_404(request, pk)
    form = EstimateForm(request.POST)
    if not form.is_valid():
        return _render_task(request, task, estimate_form=form, status=400)
    try:
        task = lifecycle.task_estimate_set(task_id=task.pk, hours=form.cleaned_data["hours"])
    except ApplicationError as exc:
        # The estimate form shows only on held tasks; say it where every page says things.
        messages.error(request, exc.user_message)
        return _render_task(request, task, estimate_form=form, status=400)
    if task.dispatch_requested_at is not None:
        messages.success(request, "Estimate saved; the task will be dispatched now.")
    else:
        messages.success(
            request, "Estimate saved; the task is dispatched once it is ready to start."
        )
    return redirect("dispatch:task-detail", pk=task.pk)


@require_http_methods(["GET", "POST"])
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """The assignee (or a manager) marks a task done; a finished preparation sends the review out.

    GET asks first (what completing sets off); the POST carries the confirmation.
    """
    task = _task_or_404(request, pk)
    me = staff_member_for_user(user=request.user)
    manager = is_manager(request.user)
    form = CompleteForm(request.POST if request.method == "POST" else None)
    refused = presenters.complete_refusal(
        task, is_assignee=me is not None and task.assignee_id == me.pk, is_manager=manager
    )
    # A refused POST answers through the service as before (403, or the reason).
    if request.method == "GET" or (not refused and not form.is_valid()):
        context = {
            "task": task,
            "form": form if request.method == "POST" else CompleteForm(),
            "action": reverse("dispatch:task-complete", args=[task.pk]),
            "back": reverse("dispatch:task-detail", args=[task.pk]),
            "refusal": refused,
            "consequence": presenters.complete_consequence(task),
        }
        status = 400 if request.method == "POST" else 200
        return render(request, "dispatch/task_complete_confirm.html", context, status=status)
    try:
        lifecycle.task_complete(task_id=task.pk, staff=me, is_manager=manager)
    except NotPermitted as exc:
        raise PermissionDenied(exc.user_message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.user_message)
    else:
        messages.success(request, "Task completed.")
    return redirect("dispatch:task-detail", pk=task.pk)


@require_POST
def decision_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    decision = get_object_or_404(DispatchDecision, pk=pk)
    try:
        services.decision_confirm_requested(decision_id=decision.pk, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.user_message)
    else:
        messages.success(request, f"Confirmed: {decision.assignee} takes the task.")
    return redirect("dispatch:task-detail", pk=decision.task_id)
