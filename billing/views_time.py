"""Time pages: the weekly review (HTMX, works without JavaScript) and the queue's timer.

HTMX posts get back the fragment they changed (the entry's row, the list) with the
week's totals out of band; plain posts redirect back to the week (POST-redirect-GET).
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from billing import selectors, services
from billing.forms import TimeEntryForm, TimeEntryNewForm, WeekForm
from core.exceptions import ApplicationError, NotPermitted
from core.forms import first_error
from dispatch.queue_extensions import QueueRowExtension
from engagements.models import Task
from staff.models import StaffMember
from staff.selectors import staff_member_for_user

PAGE = "billing/time_week.html"
TIMER = "billing/_queue_timer.html"


def _me(request: HttpRequest) -> StaffMember:
    member = staff_member_for_user(user=request.user)
    if member is None:
        raise PermissionDenied("Only staff members record time.")
    return member


def _week_start(request: HttpRequest, source: object) -> date:
    form = WeekForm(source)  # type: ignore[arg-type]
    day = form.cleaned_data.get("week") if form.is_valid() else None
    return selectors.week_start(day or timezone.localdate())


def _week_url(start: date) -> str:
    return reverse("billing:time-week") + f"?week={start:%Y-%m-%d}"


def _context(me: StaffMember, start: date, **extra: object) -> dict[str, object]:
    today = timezone.localdate()
    return {
        "week": selectors.time_week(staff=me, start=start),
        "today": today,
        "new_form": extra.pop("new_form", None)
        or TimeEntryNewForm(staff=me, today=today, initial={"date": today}),
        **extra,
    }


@require_GET
@vary_on_headers("HX-Request")
def time_week(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    start = _week_start(request, request.GET)
    template = PAGE + "#entry-list" if request.htmx and not request.htmx.boosted else PAGE
    return render(request, template, _context(me, start))


def _row(
    request: HttpRequest, me: StaffMember, entry_id: int, start: date, **extra: object
) -> HttpResponse:
    entry = selectors.time_entry_get_for_staff(staff=me, pk=entry_id)
    context = _context(me, start, entry=entry, entry_id=entry_id, oob=True, **extra)
    html = render_to_string(PAGE + "#entry-row", context, request=request)
    html += render_to_string(PAGE + "#week-summary", context, request=request)
    status = 400 if extra.get("form") is not None or extra.get("row_error") else 200
    return HttpResponse(html, status=status)


def _edit(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    me = _me(request)
    entry = selectors.time_entry_get_for_staff(staff=me, pk=pk)
    if entry is None:
        raise PermissionDenied("That time entry is not yours.")
    start = selectors.week_start(entry.date)
    form = TimeEntryForm(request.POST)
    error = ""
    if entry.is_draft and not form.is_valid():
        if request.htmx:
            return _row(request, me, pk, start, form=form)
        messages.error(request, first_error(form))
        return redirect(_week_url(start))
    try:
        if entry.is_draft:
            services.time_entry_update(
                entry_id=pk,
                staff=me,
                day=form.cleaned_data["date"],
                hours=form.cleaned_data["hours"],
                description=form.cleaned_data["description"],
            )
        if approve:
            services.time_entry_approve(entry_id=pk, staff=me)
    except ApplicationError as exc:
        error = exc.user_message
    note = "" if error else ("Approved." if approve else "Saved.")
    if request.htmx:
        return _row(request, me, pk, start, row_error=error, row_note=note)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, note)
    return redirect(_week_url(start))


@require_POST
def time_entry_save(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, pk, approve=False)


@require_POST
def time_entry_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a draft as shown: edits in the row are saved first."""
    return _edit(request, pk, approve=True)


@require_POST
def time_week_approve(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    form = WeekForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return HttpResponse(first_error(form), status=400)
        messages.error(request, first_error(form))
        return redirect("billing:time-week")
    start = selectors.week_start(form.cleaned_data["week"] or timezone.localdate())
    count = services.time_entries_approve_week(staff=me, week_start=start)
    note = (
        f"Approved {count} entr{'y' if count == 1 else 'ies'}."
        if count
        else "No drafts to approve."
    )
    if request.htmx:
        context = _context(me, start, list_note=note, oob=True)
        html = render_to_string(PAGE + "#entry-list", context, request=request)
        html += render_to_string(PAGE + "#week-summary", context, request=request)
        return HttpResponse(html)
    messages.success(request, note)
    return redirect(_week_url(start))


@require_POST
def time_entry_new(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    today = timezone.localdate()
    form = TimeEntryNewForm(request.POST, staff=me, today=today)
    start = selectors.week_start(today)
    if form.is_valid():
        data = form.cleaned_data
        engagement = data.get("engagement")
        client = engagement.client if engagement is not None else data["client"]
        try:
            entry = services.time_entry_create(
                staff=me,
                client=client,
                engagement=engagement,
                day=data["date"],
                hours=data["hours"],
                description=data["description"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc)
        else:
            start = selectors.week_start(entry.date)
            if request.htmx:
                context = _context(me, start, list_note="Added as a draft.", oob=True)
                html = render_to_string(PAGE + "#entry-list", context, request=request)
                html += render_to_string(PAGE + "#week-summary", context, request=request)
                html += render_to_string(PAGE + "#new-entry", context, request=request)
                response = HttpResponse(html)
                response["HX-Retarget"] = "#entry-list"
                response["HX-Reswap"] = "outerHTML"
                return response
            messages.success(request, "Added as a draft.")
            return redirect(_week_url(start))
    if request.htmx:
        html = render_to_string(
            PAGE + "#new-entry", _context(me, start, new_form=form), request=request
        )
        return HttpResponse(html, status=400)
    return render(request, PAGE, _context(me, start, new_form=form), status=400)


# --- The timer on the queue ---------------------------------------------------------------


def _timer_load(staff: StaffMember) -> dict[str, object]:
    return {"running_timer": selectors.running_timer(staff=staff)}


timer_row_extension = QueueRowExtension(name="billing-timer", template=TIMER, load=_timer_load)


def _timer_fragment(
    request: HttpRequest,
    me: StaffMember,
    task_ids: list[int],
    note: str,
    error: str = "",
    status: int = 400,
) -> HttpResponse:
    running = selectors.running_timer(staff=me)
    html = ""
    for task in Task.objects.filter(pk__in=task_ids).order_by("pk"):
        html += render_to_string(
            TIMER,
            {
                "task": task,
                "running_timer": running,
                "timer_note": note if task.pk == task_ids[0] else "",
                "timer_error": error if task.pk == task_ids[0] else "",
                "oob": task.pk != task_ids[0],  # the other task's timer, stopped
            },
            request=request,
        )
    return HttpResponse(html, status=status if error else 200)


@require_POST
def timer_start(request: HttpRequest, task_pk: int) -> HttpResponse:
    me = _me(request)
    error = note = ""
    ids = [task_pk]
    try:
        stopped = services.timer_start(staff=me, task_id=task_pk)
    except NotPermitted as exc:
        if not request.htmx:
            raise PermissionDenied(exc.user_message) from exc
        return _timer_fragment(request, me, [task_pk], "", exc.user_message, status=403)
    except ApplicationError as exc:
        error = exc.user_message
    else:
        note = "Timer running."
        if stopped is not None:
            ids.append(stopped.task_id)
            note = f"Timer running; the other one stopped ({stopped.entry.hours} h drafted)."
    if request.htmx:
        return _timer_fragment(request, me, ids, note, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, note)
    return redirect("dispatch:queue")


@require_POST
def timer_stop(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    stopped = services.timer_stop(staff=me)
    note = (
        f"Stopped: {stopped.entry.hours} h drafted for your weekly review."
        if stopped is not None
        else "No timer was running."
    )
    if request.htmx and stopped is not None:
        return _timer_fragment(request, me, [stopped.task_id], note)
    messages.success(request, note)
    return redirect("dispatch:queue")
