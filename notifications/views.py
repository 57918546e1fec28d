"""Failed notifications, for managers: what did not go out, why, and a retry button."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.roles import require_manager
from notifications import selectors, services


@require_GET
def failed_notifications(request: HttpRequest) -> HttpResponse:
    require_manager(request.user)
    return render(
        request,
        "notifications/notification_failed_list.html",
        {"notifications": selectors.failed_notification_list()},
    )


@require_POST
def notification_retry(request: HttpRequest, pk: int) -> HttpResponse:
    require_manager(request.user)
    if services.notification_retry(notification_id=pk):
        messages.success(request, "Sending it again.")
    else:
        messages.error(request, "That notification is not in a failed state.")
    return redirect("notifications:failed")
