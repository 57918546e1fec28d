"""The staff queue ("My work") and the one-click email links.

HTMX posts get back the changed row plus the counts (out of band); plain posts
redirect back to the queue, so every button works without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ApplicationError, NotPermitted
from dispatch import lifecycle
from dispatch import queue_selectors as selectors
from dispatch.forms import CompleteForm, HandBackForm
from dispatch.links import LinkError, assignment_stamp, read_action_token
from dispatch.models import DispatchDecision
from dispatch.presenters import complete_consequence, complete_refusal
from dispatch.queue_extensions import extension_context
from engagements.models import Task
from staff.models import StaffMember
from staff.selectors import staff_member_for_user

PAGE = "dispatch/queue.html"
COMPLETE_PAGE = "dispatch/task_complete_confirm.html"


def _me(request: HttpRequest) -> StaffMember:
    member = staff_member_for_user(user=request.user)
    if member is None:
        raise PermissionDenied("Only staff members have a queue.")
    return member


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    context = {
        "tasks": list(selectors.queue_tasks(staff=me)),
        "counts": selectors.queue_counts(staff=me),
        "today": timezone.localdate(),
        **extension_context(me),
    }
    template = PAGE + "#queue-table" if request.htmx and not request.htmx.boosted else PAGE
    return render(request, template, context)


def _row_response(
    request: HttpRequest,
    me: StaffMember,
    task_id: int,
    *,
    error: str = "",
    note: str = "",
    status: int = 400,
) -> HttpResponse:
    task = selectors.queue_task_get(staff=me, pk=task_id)
    context = {
        "task": task,
        "task_id": task_id,
        "row_error": error,
        "row_note": note,
        "counts": selectors.queue_counts(staff=me),
        "oob": True,
        "today": timezone.localdate(),
        **extension_context(me),
    }
    html = render_to_string(PAGE + "#task-row", context, request=request)
    html += render_to_string(PAGE + "#queue-counts", context, request=request)
    return HttpResponse(html, status=status if error else 200)


def _hand_back(request: HttpRequest, pk: int, staff: StaffMember) -> str:
    form = HandBackForm(request.POST)
    if not form.is_valid():
        if form.has_error("reason", "required"):
            raise ApplicationError("Say why you need the task reassigned.")
        raise ApplicationError(" ".join(form.errors["reason"]))
    decision: DispatchDecision | None = lifecycle.task_hand_back(
        task_id=pk, staff=staff, reason=form.cleaned_data["reason"]
    )
    if decision is not None and decision.assignee:
        return f"Sent for reassignment: now with {decision.assignee}."
    return "Sent for reassignment; a manager will place it."


def _accept(request: HttpRequest, pk: int, staff: StaffMember) -> str:
    lifecycle.task_accept(task_id=pk, staff=staff)
    return "Accepted."


def _start(request: HttpRequest, pk: int, staff: StaffMember) -> str:
    lifecycle.task_start(task_id=pk, staff=staff)
    return "Started."


def _complete(request: HttpRequest, pk: int, staff: StaffMember) -> str:
    """Only once confirmed: the queue's Complete first asks (``queue_complete``)."""
    task = selectors.queue_task_get(staff=staff, pk=pk)
    if task is not None:  # otherwise the lifecycle says why (not yours, already done)
        refused = complete_refusal(task, is_assignee=True, is_manager=False)
        if refused:
            raise ApplicationError(refused)
        if not CompleteForm(request.POST).is_valid():
            raise ApplicationError("Confirm that the work is done: Complete, then Yes, complete.")
    lifecycle.task_complete(task_id=pk, staff=staff)
    return "Completed: it has left your queue."


ACTIONS = {"accept": _accept, "start": _start, "complete": _complete, "reassign": _hand_back}


@require_POST
def queue_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    me = _me(request)
    error = note = ""
    status = 400
    handler = ACTIONS.get(action)
    try:
        if handler is None:
            error = "Unknown action."
        else:
            note = handler(request, pk, me)
    except NotPermitted as exc:
        if not request.htmx:
            raise PermissionDenied(exc.user_message) from exc
        # Most often the page is stale: a manager moved the task since it loaded. Say
        # so in the row and refresh the counts, rather than a bare 403 page in the table.
        status = 403
        if selectors.queue_task_get(staff=me, pk=pk) is None:
            error = "This task has moved since the page loaded: it is no longer in your queue."
        else:
            error = f"{exc.user_message} The row now shows where it stands."
    except ApplicationError as exc:
        error = exc.user_message
    if request.htmx:
        return _row_response(request, me, pk, error=error, note=note, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, note)
    return redirect("dispatch:queue")


def _queued_or_404(me: StaffMember, pk: int) -> Task:
    task = selectors.queue_task_get(staff=me, pk=pk)
    if task is None:
        raise Http404("This task is not in your queue.")
    return task


@require_GET
def queue_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One row of the queue as it stands (HTMX: "Keep working" puts it back)."""
    me = _me(request)
    if not request.htmx:
        return redirect("dispatch:queue")
    _queued_or_404(me, pk)
    return _row_response(request, me, pk)


@require_http_methods(["GET", "POST"])
def queue_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Complete asks first: GET shows the question (in the row with HTMX, as a page
    without), POST with the confirmation completes."""
    me = _me(request)
    if request.method == "POST":
        return queue_action(request, pk, "complete")
    task = _queued_or_404(me, pk)
    if request.htmx:
        context = {
            "task": task,
            "task_id": pk,
            "confirming": True,
            "consequence": complete_consequence(task),
            "counts": selectors.queue_counts(staff=me),
            "today": timezone.localdate(),
            **extension_context(me),
        }
        return render(request, PAGE + "#task-row", context)
    return render(
        request,
        COMPLETE_PAGE,
        {
            "task": task,
            "form": CompleteForm(),
            "action": reverse("dispatch:queue-complete", args=[pk]),
            "back": reverse("dispatch:queue"),
            "refusal": complete_refusal(task, is_assignee=True, is_manager=False),
            "consequence": complete_consequence(task),
        },
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def task_action(request: HttpRequest, token: str) -> HttpResponse:
    """The email's one-click link: GET only shows a confirmation; POST acts.

    Mail scanners follow links, so a GET never changes anything. The signed
    token binds the task, the staff member and the action, and expires.
    """
    try:
        link = read_action_token(token)
    except LinkError as exc:
        return render(
            request, "dispatch/task_action_invalid.html", {"message": exc.message}, status=400
        )
    task = (
        Task.objects.select_related("engagement__client", "engagement__work_type", "assignee__user")
        .filter(pk=link.task_id)
        .first()
    )
    staff = StaffMember.objects.select_related("user").filter(pk=link.staff_id, active=True).first()
    if task is None or staff is None or task.assignee_id != staff.pk:
        return render(
            request,
            "dispatch/task_action_invalid.html",
            {"message": "This task is no longer assigned to you, so the link no longer works."},
            status=410,
        )
    if link.assignment != assignment_stamp(task.assigned_at):
        # Given back to them after a hand-back or a reassignment: this link answered
        # the earlier assignment; the newer email (or the queue) answers this one.
        return render(
            request,
            "dispatch/task_action_invalid.html",
            {
                "message": "This link was for an earlier assignment of this task, which has "
                "changed since. Use the link in the latest email, or open the task from your queue."
            },
            status=410,
        )
    signed_in_as_other = request.user.is_authenticated and request.user.pk != staff.user_id
    if signed_in_as_other:
        return render(
            request,
            "dispatch/task_action_invalid.html",
            {"message": "This link belongs to someone else. Log out first, or use your own queue."},
            status=403,
        )
    context = {"task": task, "staff": staff, "action": link.action, "token": token}
    if request.method == "GET":
        return render(request, "dispatch/task_action_confirm.html", context)
    try:
        if link.action == "accept":
            _accept(request, task.pk, staff)
            done = "You accepted the task."
        else:
            _hand_back(request, task.pk, staff)
            done = "The task has been sent for reassignment."
    except ApplicationError as exc:
        context["error"] = exc.user_message
        return render(request, "dispatch/task_action_confirm.html", context, status=400)
    if request.user.is_authenticated:
        messages.success(request, done)
        return redirect("dispatch:queue")
    return render(request, "dispatch/task_action_done.html", {"message": done, "task": task})
