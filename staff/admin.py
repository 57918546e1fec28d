from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from core.forms import FirmModelForm
from staff.choices import Weekday
from staff.forms import AddSkillForm, WorkingPatternForm
from staff.models import SkillTag, StaffMember, StaffSkill, TimeOff, WorkingPattern
from staff.services import staff_member_sync_role, staff_skill_grant


class StaffMemberForm(FirmModelForm):
    working_days = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="Days this person works.",
    )

    class Meta:
        model = StaffMember
        fields = [
            "user",
            "title",
            "role",
            "seniority",
            "manager",
            "active",
            "weekly_capacity_hours",
            "working_days",
            "cost_rate",
            "bill_rate",
            "mobile",
            "slack_member_id",
        ]

    def clean_working_days(self) -> list[int]:
        return sorted(self.cleaned_data["working_days"])


class StaffSkillInline(admin.TabularInline):
    model = StaffSkill
    extra = 1
    autocomplete_fields = ["skill"]
    fields = ["skill", "level", "certified_until"]


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0
    fields = ["start_date", "end_date", "hours_per_day", "reason"]


class WorkingPatternInline(admin.TabularInline):
    model = WorkingPattern
    form = WorkingPatternForm
    extra = 0
    fields = [
        "name",
        "starts_on",
        "ends_on",
        "monday_hours",
        "tuesday_hours",
        "wednesday_hours",
        "thursday_hours",
        "friday_hours",
        "saturday_hours",
        "sunday_hours",
    ]
    verbose_name = "working pattern (hours per weekday)"


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    form = StaffMemberForm
    list_display = [
        "display_name",
        "role",
        "seniority",
        "manager",
        "skill_list",
        "weekly_capacity_hours",
        "bill_rate",
        "active",
    ]
    list_filter = ["role", "seniority", "active", "skills"]
    list_select_related = ["user", "manager__user"]
    search_fields = ["user__first_name", "user__last_name", "user__username", "user__email"]
    autocomplete_fields = ["user", "manager"]
    inlines = [StaffSkillInline, WorkingPatternInline, TimeOffInline]
    actions = ["add_skill"]
    fieldsets = [
        (None, {"fields": ["user", "title", "role", "seniority", "manager", "active"]}),
        ("Capacity", {"fields": ["weekly_capacity_hours", "working_days"]}),
        ("Rates", {"fields": ["cost_rate", "bill_rate"]}),
        ("Contact", {"fields": ["mobile", "slack_member_id"]}),
    ]

    @admin.display(description="Name", ordering="user__last_name")
    def display_name(self, obj: StaffMember) -> str:
        return obj.display_name

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffMember]:
        return super().get_queryset(request).prefetch_related("staff_skills__skill")

    @admin.display(description="Skills")
    def skill_list(self, obj: StaffMember) -> str:
        return ", ".join(f"{s.skill.name} ({s.level})" for s in obj.staff_skills.all()) or "—"

    @admin.action(description="Add a skill to the selected people", permissions=["change"])
    def add_skill(
        self, request: HttpRequest, queryset: QuerySet[StaffMember]
    ) -> TemplateResponse | None:
        """Ask which skill and level, then give it to everyone selected (one page, not
        one change form per person)."""
        people = list(queryset.select_related("user"))
        form = AddSkillForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            count = staff_skill_grant(
                staff_members=people,
                skill=data["skill"],
                level=data["level"],
                certified_until=data["certified_until"],
            )
            self.message_user(
                request,
                f"{data['skill'].name} at level {data['level']} given to {count} "
                f"{'person' if count == 1 else 'people'}.",
                messages.SUCCESS,
            )
            return None  # back to the list
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a skill",
            "opts": self.model._meta,
            "form": form,
            "people": people,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/staff/staffmember/add_skill.html", context)

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        # The role decides the auth groups; keep them in step on every save.
        staff_member_sync_role(staff_member=form.instance)


@admin.register(SkillTag)
class SkillTagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category"]
    list_filter = ["category"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(StaffSkill)
class StaffSkillAdmin(admin.ModelAdmin):
    list_display = ["staff_member", "skill", "level", "certified_until"]
    list_filter = ["skill__category", "level", "skill"]
    list_select_related = ["staff_member__user", "skill"]
    search_fields = [
        "staff_member__user__first_name",
        "staff_member__user__last_name",
        "skill__name",
    ]
    autocomplete_fields = ["staff_member", "skill"]
    date_hierarchy = "certified_until"


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["staff_member", "start_date", "end_date", "hours_per_day", "reason"]
    list_select_related = ["staff_member__user"]
    search_fields = ["staff_member__user__first_name", "staff_member__user__last_name", "reason"]
    autocomplete_fields = ["staff_member"]
    date_hierarchy = "start_date"
