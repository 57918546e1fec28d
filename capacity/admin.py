from django.contrib import admin
from django.http import HttpRequest

from capacity.models import CapacityRule, PlanMove, PlanScenario


@admin.register(CapacityRule)
class CapacityRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "start_month",
        "start_day",
        "end_month",
        "end_day",
        "threshold_percent",
        "reviewer_threshold_percent",
        "suppress_flagged_work_types",
        "active",
    ]
    list_filter = ["active", "suppress_flagged_work_types"]
    search_fields = ["name"]
    autocomplete_fields = ["skills"]


class PlanMoveInline(admin.TabularInline):
    model = PlanMove
    extra = 0
    can_delete = False
    fields = ["task", "from_staff", "to_staff", "status", "summary", "outcome", "decided_by"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PlanScenario)
class PlanScenarioAdmin(admin.ModelAdmin):
    """Saved plans are made by the planner and applied from their page; the admin reads."""

    list_display = ["title", "kind", "status", "planned_for", "objective", "bound", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["title"]
    readonly_fields = [f.name for f in PlanScenario._meta.fields]
    inlines = [PlanMoveInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PlanMove)
class PlanMoveAdmin(admin.ModelAdmin):
    list_display = ["summary", "kind", "status", "decided_by", "decided_at"]
    list_filter = ["kind", "status"]
    search_fields = ["summary", "task__engagement__client__name"]
    list_select_related = ["decided_by"]
    readonly_fields = [f.name for f in PlanMove._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
