from __future__ import annotations

from django.contrib import admin

from clients.models import Client, ClientContact, ClientExternalId


class ClientContactInline(admin.TabularInline):
    model = ClientContact
    extra = 0
    fields = ["name", "role", "email", "phone"]


class ClientExternalIdInline(admin.TabularInline):
    model = ClientExternalId
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "entity_type",
        "value_tier",
        "billing_model",
        "relationship_partner",
        "preferred_staff",
        "account_hold",
    ]
    list_filter = [
        "entity_type",
        "value_tier",
        "billing_model",
        "account_hold",
        "payment_plan",
        "autopay",
        "industry_tags",
    ]
    list_select_related = ["relationship_partner__user", "preferred_staff__user"]
    search_fields = [
        "name",
        "contact_name",
        "email",
        "contacts__name",
        "contacts__email",
        "external_ids__external_id",
    ]
    autocomplete_fields = ["preferred_staff", "relationship_partner", "industry_tags"]
    inlines = [ClientContactInline, ClientExternalIdInline]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["name", "entity_type", "industry_tags", "notes"]}),
        (
            "Relationship",
            {"fields": ["value_tier", "min_seniority", "relationship_partner", "preferred_staff"]},
        ),
        ("Contact", {"fields": ["contact_name", "email", "mobile"]}),
        (
            "Billing",
            {
                "fields": [
                    "billing_model",
                    "retainer_amount",
                    "payment_plan",
                    "autopay",
                    "account_hold",
                ]
            },
        ),
    ]


@admin.register(ClientExternalId)
class ClientExternalIdAdmin(admin.ModelAdmin):
    list_display = ["external_id", "source", "client"]
    list_filter = ["source"]
    list_select_related = ["client"]
    search_fields = ["external_id", "client__name"]
    autocomplete_fields = ["client"]
    show_full_result_count = False
