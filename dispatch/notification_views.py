"""Failed notifications, for managers: what did not go out, why, and a retry button."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.roles import is_manager
from dispatch import notifications


def _require_manager(request: HttpRequest) -> None:
    if not is_manager(request.user):
        raise PermissionDenied("Only managers can see this page.")


@require_GET
def failed_notifications(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    return render(
        request,
        "dispatch/notification_failed_list.html",
        {"notifications": notifications.failed_notification_list()},
    )


@require_POST
def notification_retry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    if notifications.notification_retry(notification_id=pk):
        messages.success(request, "Sending it again.")
    else:
        messages.error(request, "That notification is not in a failed state.")
    return redirect("dispatch:notifications-failed")
