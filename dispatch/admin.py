from __future__ import annotations

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from dispatch.models import (
    CheckpointFiring,
    DispatchDecision,
    Escalation,
    ReassignmentRequest,
)
from dispatch.presenters import DecisionLogScope, decision_view


@admin.register(DispatchDecision)
class DispatchDecisionAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "task",
        "trigger",
        "outcome",
        "assignee",
        "is_override",
        "urgent_override",
        "over_threshold",
        "duration_ms",
    ]
    list_filter = ["outcome", "trigger", "is_override", "urgent_override", "over_threshold"]
    list_select_related = [
        "task__engagement__client",
        "task__engagement__work_type",
        "assignee__user",
    ]
    search_fields = ["task__engagement__client__name", "task__title"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in DispatchDecision._meta.fields] + ["candidate_table"]
    exclude = ["candidates"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False  # decisions are written by the dispatch service only

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    @admin.display(description="Candidates")
    def candidate_table(self, obj: DispatchDecision) -> SafeString:
        view = decision_view(
            obj,
            scope=DecisionLogScope(me=None, sees_colleagues=True),
            role=obj.task.role,
            requested_id=None,
        )
        return SafeString(
            render_to_string(
                "dispatch/_candidate_table.html",
                {"candidates": view.candidates, "not_listed": view.not_listed},
            )
        )


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["task", "status", "gap_hours", "created_at", "resolved_at"]
    list_filter = ["status"]
    list_select_related = ["task__engagement__client", "task__engagement__work_type"]
    search_fields = ["task__engagement__client__name", "summary"]
    date_hierarchy = "created_at"
    readonly_fields = ["task", "decision", "summary", "gap_hours", "created_at"]


@admin.register(CheckpointFiring)
class CheckpointFiringAdmin(admin.ModelAdmin):
    list_display = ["task", "checkpoint", "fired_at"]
    list_filter = ["checkpoint"]
    list_select_related = ["task__engagement__client", "task__engagement__work_type"]
    date_hierarchy = "fired_at"
    readonly_fields = ["task", "checkpoint", "fired_at"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(ReassignmentRequest)
class ReassignmentRequestAdmin(admin.ModelAdmin):
    list_display = ["task", "staff_member", "reason", "created_at"]
    list_select_related = [
        "task__engagement__client",
        "task__engagement__work_type",
        "staff_member__user",
    ]
    search_fields = ["reason", "staff_member__user__last_name"]
    date_hierarchy = "created_at"
    readonly_fields = ["task", "staff_member", "decision", "reason", "created_at"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
