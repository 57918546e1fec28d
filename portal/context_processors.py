from __future__ import annotations

from django.http import HttpRequest

from portal.navigation import navigation_for


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else None
    return {
        "nav_items": [
            {"label": item.label, "url_name": item.url_name, "current": item.is_current(view_name)}
            for item in navigation_for(user)
        ]
    }
