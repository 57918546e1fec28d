from django.contrib import admin

from capacity.models import CapacityRule


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
