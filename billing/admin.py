"""Billing in the admin: the rate card and per-client controls are edited here; time,
invoices and payments are shown read-only (they change only through the services, so
numbering, totals and balances stay right)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from billing.followups import followup_client_resequence
from billing.models import (
    CardSurcharge,
    ClientBillingProfile,
    FollowUpSequence,
    FollowUpStep,
    Invoice,
    InvoiceLine,
    LateFeeCharge,
    Payment,
    RateOverride,
    TimeEntry,
    TimeEntryDefault,
)
from billing.surcharges import payment_pages_refresh_for_client


@admin.register(RateOverride)
class RateOverrideAdmin(admin.ModelAdmin):
    list_display = ["client", "work_type", "staff_member", "hourly_rate", "fixed_fee", "note"]
    list_filter = ["work_type"]
    search_fields = ["client__name", "staff_member__user__last_name", "note"]
    raw_id_fields = ["client", "staff_member"]


@admin.register(TimeEntryDefault)
class TimeEntryDefaultAdmin(admin.ModelAdmin):
    list_display = ["work_type", "role", "hours"]
    list_filter = ["role"]


@admin.register(ClientBillingProfile)
class ClientBillingProfileAdmin(admin.ModelAdmin):
    list_display = [
        "client",
        "billing_email",
        "terms_days",
        "late_fee_mode",
        "card_surcharge_mode",
        "card_surcharge_percent",
        "exclude_from_reminders",
        "min_reminder_balance",
    ]
    list_filter = ["late_fee_mode", "card_surcharge_mode", "exclude_from_reminders"]
    search_fields = ["client__name", "billing_email"]
    raw_id_fields = ["client"]

    def save_model(self, request: HttpRequest, obj: ClientBillingProfile, form, change) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        # A sequence chosen (or cleared) here applies to the client's open invoices too.
        followup_client_resequence(client_id=obj.client_id)
        # New surcharge terms: the client's open payment pages are made again (a worker).
        if form.has_changed() and {"card_surcharge_mode", "card_surcharge_percent"} & set(
            form.changed_data
        ):
            payment_pages_refresh_for_client(client_id=obj.client_id)


class FollowUpStepInline(admin.StackedInline):
    model = FollowUpStep
    extra = 0
    fields = [
        ("position", "day", "label"),
        ("send_email", "send_sms", "payment_link", "autopay_offer"),
        ("set_account_hold", "coordinator_call"),
        "email_subject",
        "email_body",
        "sms_text",
    ]


@admin.register(FollowUpSequence)
class FollowUpSequenceAdmin(admin.ModelAdmin):
    """The cadences are data: steps, days, channels and words are edited here and the
    next daily run uses them (a touch already sent is never sent again)."""

    list_display = ["name", "kind", "is_default", "description"]
    list_filter = ["kind", "is_default"]
    inlines = [FollowUpStepInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "date",
        "staff_member",
        "client",
        "work_type",
        "hours",
        "status",
        "source",
        "internal_only",
        "invoice",
    ]
    list_filter = ["status", "source", "internal_only", "date"]
    search_fields = ["client__name", "description", "staff_member__user__last_name"]
    date_hierarchy = "date"
    list_select_related = ["staff_member__user", "client", "work_type", "invoice"]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ["kind", "description", "quantity", "unit_price", "amount"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    fields = ["received_on", "amount", "method", "source", "external_id", "status", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = [
        "display_number",
        "client",
        "status",
        "origin",
        "issued_on",
        "due_on",
        "total",
        "amount_paid",
        "balance",
    ]
    list_filter = ["status", "origin"]
    search_fields = ["number", "client__name"]
    list_select_related = ["client"]
    inlines = [InvoiceLineInline, PaymentInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "amount", "received_on", "method", "source", "external_id", "status"]
    list_filter = ["status", "source", "method"]
    search_fields = ["external_id", "invoice__number", "invoice__client__name"]
    list_select_related = ["invoice__client"]


@admin.register(LateFeeCharge)
class LateFeeChargeAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "period", "charged_on", "base"]


@admin.register(CardSurcharge)
class CardSurchargeAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "payment", "percent", "amount", "funding", "outcome", "refund_id"]
    list_filter = ["outcome", "funding"]
    search_fields = ["invoice__number", "payment__external_id", "refund_id"]
    list_select_related = ["invoice", "payment"]
