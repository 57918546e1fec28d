"""/api/v1/: the router's resources, the OpenAPI schema and its two readers."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from integrations.api import money, views
from integrations.api.errors import api_not_found

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False  # JSON only: no ".json" twins of every route
router.register("clients", views.ClientViewSet, basename="client")
router.register("staff", views.StaffViewSet, basename="staff")
router.register("skills", views.SkillViewSet, basename="skill")
router.register("work-types", views.WorkTypeViewSet, basename="work-type")
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("escalations", views.EscalationViewSet, basename="escalation")
router.register("time-entries", money.TimeEntryViewSet, basename="time-entry")
router.register("invoices", money.InvoiceViewSet, basename="invoice")
router.register("payments", money.PaymentViewSet, basename="payment")
router.register(
    "webhook-subscriptions", views.WebhookSubscriptionViewSet, basename="webhook-subscription"
)


# The two documentation readers (vendored, served from here) draw with injected styles
# and data: images, and Redoc renders in a blob: worker: allowed on these two pages only.
DOCS_CSP = {
    "style-src": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "worker-src": ["'self'", "blob:"],
}


def _open(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    """DRF authenticates API requests itself (tokens, sessions): the login-required
    middleware, which would redirect to a login page, stands aside."""
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(pattern.callback)
    return patterns


urlpatterns = _open(
    [
        *router.urls,
        path("schema/", SpectacularAPIView.as_view(), name="schema"),
        path(
            "docs/",
            csp_update(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
            name="docs",
        ),
        path(
            "redoc/",
            csp_update(DOCS_CSP)(SpectacularRedocView.as_view(url_name="api:schema")),
            name="redoc",
        ),
        re_path(r"^.*$", api_not_found, name="not-found"),
    ]
)
