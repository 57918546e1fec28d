from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from core import selectors as core_selectors
from core.roles import is_manager
from dispatch import queue_selectors
from dispatch import selectors as dispatch_selectors
from engagements import selectors as engagement_selectors
from staff import selectors as staff_selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    member = staff_selectors.staff_member_for_user(user=request.user)
    context: dict[str, object] = {
        "member": member,
        "worker": core_selectors.worker_status(),
    }
    if member is not None:
        context["my_tasks"] = engagement_selectors.task_list_open_for_assignee(assignee=member)[:10]
        context["my_counts"] = queue_selectors.queue_counts(staff=member)
    if is_manager(request.user):
        context["firm"] = engagement_selectors.firm_snapshot()
        context["attention"] = dispatch_selectors.attention_summary()
    return render(request, "portal/home.html", context)


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico``, which browsers ask for on pages without an icon link (the
    admin, the API docs): the app's icon rather than a 404 in the log."""
    return HttpResponseRedirect(static("img/favicon.svg"))


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
