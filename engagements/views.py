from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.roles import is_manager
from engagements import services
from engagements.choices import TaskRole
from engagements.forms import EngagementCreateForm
from engagements.models import Task


@permission_required("engagements.add_engagement", raise_exception=True)
def engagement_create(request: HttpRequest) -> HttpResponse:
    form = EngagementCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        engagement = services.engagement_create(
            client=data["client"],
            work_type=data["work_type"],
            name=data["name"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            event_date=data["event_date"],
            due_date=data["due_date"],
            estimated_hours=data["estimated_hours"],
            complexity=data["complexity"],
            priority=data["priority"] or None,
            requested_staff=data["requested_staff"],
            special_instructions=data["special_instructions"],
        )
        messages.success(request, f"Opened {engagement}; its first task is being dispatched.")
        preparer = engagement.tasks.filter(role=TaskRole.PREPARER).first()
        if preparer is not None:
            return redirect("dispatch:task-detail", pk=preparer.pk)
        return redirect("core:home")
    status = 400 if request.method == "POST" else 200
    return render(request, "engagements/engagement_create.html", {"form": form}, status=status)


@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """The assignee (or a manager) marks a task done; a finished preparation sends the review out."""
    task = get_object_or_404(Task, pk=pk)
    is_assignee = task.assignee_id is not None and task.assignee.user_id == request.user.pk
    if not (is_assignee or is_manager(request.user)):
        raise PermissionDenied("Only the assignee or a manager can complete this task.")
    try:
        services.task_complete(task_id=task.pk)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, "Task completed.")
    return redirect("dispatch:task-detail", pk=task.pk)
