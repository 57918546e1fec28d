from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.forms import FirmModelForm
from notifications.choices import WebhookEventType
from notifications.models import (
    Notification,
    TeamsWebhook,
    WebhookAllowedHost,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from notifications.webhooks import (
    AddressRefused,
    new_secret,
    url_check,
    webhook_delivery_replay,
    webhook_subscription_replay_since,
    webhook_subscription_rotate_secret,
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "template",
        "channel",
        "recipient",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "channel", "template", "subject_type"]
    search_fields = ["recipient", "subject"]
    list_select_related = ["task__engagement__client", "task__engagement__work_type"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # written by the notification service only


class WebhookSubscriptionForm(FirmModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "event_types", "owner", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            url_check(url)
        except AddressRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Outbound webhooks. The signing secret is shown once, when it is made (or rotated)."""

    form = WebhookSubscriptionForm
    list_display = ["name", "url", "active", "failing_since", "disabled_reason", "owner"]
    list_filter = ["active"]
    raw_id_fields = ["owner"]
    actions = ["rotate_secret", "replay_day", "replay_week"]

    def save_model(
        self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool
    ) -> None:
        if not change:
            obj.secret = new_secret()
            messages.warning(request, f"Signing secret for {obj.name}: {obj.secret} — copy it now.")
        super().save_model(request, obj, form, change)

    @admin.action(description="Rotate the secret (the old one signs beside it for a day)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            subscription = webhook_subscription_rotate_secret(subscription_id=pk)
            messages.warning(request, f"New secret for {subscription.name}: {subscription.secret}")

    def _replay(
        self, request: HttpRequest, queryset: QuerySet[WebhookSubscription], days: int
    ) -> None:
        since = timezone.now() - timedelta(days=days)
        queued = sum(
            webhook_subscription_replay_since(subscription_id=pk, since=since)
            for pk in queryset.values_list("pk", flat=True)
        )
        messages.success(request, f"{queued} delivery(ies) queued.")

    @admin.action(description="Replay since 24 hours ago (re-enables)")
    def replay_day(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        self._replay(request, queryset, 1)

    @admin.action(description="Replay since 7 days ago (re-enables)")
    def replay_week(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        self._replay(request, queryset, 7)


@admin.register(WebhookAllowedHost)
class WebhookAllowedHostAdmin(admin.ModelAdmin):
    list_display = ["host", "note"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["attempted_at", "status_code", "duration_ms", "response_excerpt", "error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
    ]
    list_filter = ["status", "subscription"]
    list_select_related = ["event", "subscription"]
    inlines = [WebhookAttemptInline]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the log of what was sent

    @admin.action(description="Send the selected failed deliveries again")
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = sum(
            webhook_delivery_replay(delivery_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        messages.success(request, f"{count} delivery(ies) queued.")


@admin.register(TeamsWebhook)
class TeamsWebhookAdmin(admin.ModelAdmin):
    """Teams Workflows incoming-webhook URLs: one per person, or none for the firm's channel."""

    list_display = ["__str__", "staff_member", "label"]
    raw_id_fields = ["staff_member"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
