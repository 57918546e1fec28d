from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html

from core.forms import FirmForm
from integrations.delivery_log import delivery_log, inbound_record_label, inbound_record_url
from integrations.inbox import inbound_event_replay
from integrations.models import (
    ApiToken,
    DeliveryLog,
    InboundEvent,
    InboundRequest,
    Integration,
    StaffExternalId,
    StatusMapping,
    WorkTypeMapping,
)
from integrations.services import api_token_create, api_token_revoke
from notifications.webhooks import webhook_delivery_replay


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens for the REST API: the plain token is shown once, when it is created."""

    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["user", "name", "expires_at", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    raw_id_fields = ["user"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, plain = api_token_create(user=obj.user, name=obj.name, expires_at=obj.expires_at)
        obj.pk = token.pk
        obj.prefix = token.prefix
        obj.key_hash = token.key_hash
        obj.created_at = token.created_at
        obj._state.adding = False
        messages.warning(
            request,
            f"The token for {obj.name}: {plain} — copy it now; it is not shown again.",
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = sum(api_token_revoke(token_id=pk) for pk in queryset.values_list("pk", flat=True))
        messages.success(request, f"Revoked {count} token(s).")


class StatusMappingInline(admin.TabularInline):
    model = StatusMapping
    extra = 1


class WorkTypeMappingInline(admin.TabularInline):
    model = WorkTypeMapping
    extra = 1


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    """A connected system: its endpoint, secrets (two during a rotation), API credentials
    and the mappings from its statuses and work types to Closeloop's."""

    list_display = ["name", "source", "slug", "endpoint", "active", "api_base_url"]
    list_filter = ["source", "active"]
    search_fields = ["name", "slug"]
    inlines = [StatusMappingInline, WorkTypeMappingInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "source", "slug", "active"]}),
        (
            "Signing",
            {
                "fields": [
                    "secret",
                    "previous_secret",
                    "timestamp_tolerance_seconds",
                    "max_body_bytes",
                ]
            },
        ),
        (
            "Vendor API (fetching what thin notifications name)",
            {"fields": ["api_base_url", "api_token", "api_key", "api_requests_per_minute"]},
        ),
        (
            "Pulled time (Harvest, QuickBooks Time: every 15 minutes)",
            {"fields": ["pull_cursor", "pull_not_before", "last_pull_at", "last_pull_note"]},
        ),
    ]
    readonly_fields = ["last_pull_at", "last_pull_note"]

    @admin.display(description="Endpoint")
    def endpoint(self, obj: Integration) -> str:
        return f"/webhooks/{obj.slug}/"


@admin.register(StaffExternalId)
class StaffExternalIdAdmin(admin.ModelAdmin):
    list_display = ["staff_member", "source", "external_id"]
    list_filter = ["source"]
    search_fields = ["external_id", "staff_member__user__last_name"]
    raw_id_fields = ["staff_member"]


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    """Every event received. Exceptions (signed, well formed, not applicable until a person
    fixes a mapping) and failures are replayed from here once fixed."""

    list_display = [
        "received_at",
        "integration",
        "event_type",
        "status",
        "engagement_link",
        "short_detail",
        "attempts",
    ]
    list_filter = ["status", "integration", "event_type"]
    search_fields = ["event_id", "resource_id", "detail"]
    date_hierarchy = "received_at"
    actions = ["replay"]
    readonly_fields = [f.name for f in InboundEvent._meta.fields] + ["engagement_link"]
    list_select_related = ["integration", "engagement__client", "invoice__client"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the audit trail of what other systems sent

    @admin.display(description="Record")
    def engagement_link(self, obj: InboundEvent) -> str:
        """The engagement it opened or moved, or the invoice a payment was recorded on."""
        url = inbound_record_url(obj)
        if url is None:
            return "—"
        return format_html('<a href="{}">{}</a>', url, inbound_record_label(obj))

    @admin.display(description="Detail")
    def short_detail(self, obj: InboundEvent) -> str:
        return obj.detail[:120]

    @admin.action(description="Replay the selected events (after fixing what stopped them)")
    def replay(self, request: HttpRequest, queryset: QuerySet[InboundEvent]) -> None:
        count = sum(
            inbound_event_replay(event_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        messages.success(request, f"{count} event(s) queued again.")


@admin.register(InboundRequest)
class InboundRequestAdmin(admin.ModelAdmin):
    """Every request the webhook endpoints received, refused ones included, with the body."""

    list_display = [
        "received_at",
        "endpoint",
        "status_code",
        "verdict",
        "reason",
        "event_count",
        "body_size",
    ]
    list_filter = ["verdict", "status_code", "integration"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundRequest._meta.fields if f.name != "body"] + [
        "body_text"
    ]
    exclude = ["body"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the audit trail of what other systems sent

    @admin.display(description="Body (as received)")
    def body_text(self, obj: InboundRequest) -> str:
        return bytes(obj.body).decode("utf-8", errors="replace")[:20000]


@admin.register(DeliveryLog)
class DeliveryLogAdmin(admin.ModelAdmin):
    """Both directions in one list: what came in (and the engagement it changed), what went
    out (and the record it reports), each with a replay button where one makes sense."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("integrations.view_inboundevent")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "POST":
            form = ReplayForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Choose a row to replay.")
            elif form.cleaned_data["kind"] == "inbound":
                done = inbound_event_replay(event_id=form.cleaned_data["pk"])
                messages.success(request, "Queued again." if done else "Nothing to replay.")
            else:
                done = webhook_delivery_replay(delivery_id=form.cleaned_data["pk"])
                messages.success(request, "Queued again." if done else "Nothing to replay.")
            return redirect(request.get_full_path())
        direction = request.GET.get("direction", "")
        context = {
            **self.admin_site.each_context(request),
            "title": "Delivery log (both directions)",
            "opts": self.model._meta,
            "rows": delivery_log(direction=direction if direction in ("in", "out") else ""),
            "direction": direction,
        }
        return TemplateResponse(request, "admin/integrations/delivery_log.html", context)


class ReplayForm(FirmForm):
    kind = forms.ChoiceField(choices=[("inbound", "inbound"), ("outbound", "outbound")])
    pk = forms.IntegerField(min_value=1, max_value=2**63 - 1)
