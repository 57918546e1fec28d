from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from core.formatting import counted
from core.forms import FirmModelForm
from engagements.admin_forms import WorkTypeForm
from engagements.choices import DeadlineBasis
from engagements.models import (
    Engagement,
    EngagementMilestone,
    RecurringPlan,
    RequiredDocument,
    Task,
    WorkType,
    WorkTypeSkill,
)
from engagements.recurring import schedule_problem
from engagements.services import required_document_receive


class WorkTypeSkillInline(admin.TabularInline):
    model = WorkTypeSkill
    extra = 1
    autocomplete_fields = ["skill"]


@admin.register(WorkType)
class WorkTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "trigger_event",
        "deadline_basis",
        "default_estimated_hours",
        "complexity_weight",
        "priority",
        "suppressed_in_december",
        "active",
    ]
    list_filter = [
        "trigger_event",
        "deadline_basis",
        "priority",
        "suppressed_in_december",
        "active",
    ]
    form = WorkTypeForm
    search_fields = ["name", "code"]
    inlines = [WorkTypeSkillInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "active", "priority"]}),
        ("Trigger", {"fields": ["trigger_event", "qualifying_condition", "recurrence_rule"]}),
        (
            "Deadline",
            {
                "fields": [
                    "deadline_basis",
                    ("statutory_month", "statutory_day"),
                    "period_end_offset_business_days",
                    ("deadline_buffer", "deadline_buffer_unit"),
                ]
            },
        ),
        (
            "Effort and staffing",
            {
                "fields": [
                    "default_estimated_hours",
                    "complexity_weight",
                    ("min_seniority", "preparer_max_seniority"),
                    "reviewer_required",
                    ("reviewer_min_seniority", "reviewer_max_seniority"),
                    "suppressed_in_december",
                ]
            },
        ),
        ("Pricing", {"fields": ["standard_rate", "fixed_fee"]}),
        (
            "Client documents",
            {
                "fields": [
                    "document_checklist",
                    "upload_files_per_day",
                    "upload_megabytes_per_day",
                ]
            },
        ),
        ("Milestones", {"fields": ["milestone_template"]}),
    ]


class RequiredDocumentInline(admin.TabularInline):
    model = RequiredDocument
    extra = 0


# Status, assignee, estimate and milestone change only through the services (the
# task and engagement pages), which apply the lifecycle's rules, dispatch, notify
# and audit; the admin shows them and links there.
TASK_LIFECYCLE_FIELDS = [
    "status",
    "assignee",
    "estimated_hours",
    "assigned_at",
    "accepted_at",
    "started_at",
    "completed_at",
    "ready_at",
]


def _task_page(task: Task) -> str:
    if not task.pk:
        return "—"
    return format_html(
        '<a href="{}">Open the task page</a> to assign, estimate or complete it.',
        reverse("dispatch:task-detail", args=[task.pk]),
    )


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["role", "title", "assignee", "estimated_hours", "status", "due_date"]
    readonly_fields = ["role", "assignee", "estimated_hours", "status"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # tasks come with the engagement, from its service


class EngagementMilestoneInline(admin.TabularInline):
    model = EngagementMilestone
    extra = 0
    readonly_fields = ["milestone", "reached_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "work_type",
        "milestone",
        "due_date",
        "estimated_hours",
        "priority",
        "source",
    ]
    list_filter = ["milestone", "work_type", "priority", "complexity", "source"]
    list_select_related = ["client", "work_type"]
    search_fields = ["client__name", "name", "external_id"]
    autocomplete_fields = ["client", "requested_staff"]
    date_hierarchy = "due_date"
    inlines = [RequiredDocumentInline, TaskInline, EngagementMilestoneInline]
    show_full_result_count = False
    readonly_fields = ["milestone", "engagement_page"]

    @admin.display(description="Milestones")
    def engagement_page(self, engagement: Engagement) -> str:
        if not engagement.pk:
            return "—"
        return format_html(
            '<a href="{}">Open the engagement page</a> to move its milestones.',
            reverse("engagements:engagement-detail", args=[engagement.pk]),
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context=None
    ) -> HttpResponse:  # type: ignore[no-untyped-def]
        # One write path: new engagements get their checklist, tasks and dispatch
        # from the service behind the "New engagement" page.
        return HttpResponseRedirect(reverse("engagements:engagement-create"))


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "assignee", "status", "estimated_hours", "due_date"]
    list_filter = ["status", "role", "engagement__work_type"]
    list_select_related = ["engagement__client", "engagement__work_type", "assignee__user"]
    search_fields = [
        "title",
        "engagement__client__name",
        "assignee__user__first_name",
        "assignee__user__last_name",
    ]
    autocomplete_fields = ["engagement"]
    date_hierarchy = "due_date"
    show_full_result_count = False
    readonly_fields = ["engagement", "role", *TASK_LIFECYCLE_FIELDS, "task_page"]

    @admin.display(description="Lifecycle")
    def task_page(self, task: Task) -> str:
        return _task_page(task)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tasks come with their engagement, from its service


@admin.action(description="Mark selected documents received")
def mark_received(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
    completed = sum(
        1
        for pk in queryset.filter(received_at__isnull=True).values_list("pk", flat=True)
        if required_document_receive(document_id=pk)
    )
    modeladmin.message_user(
        request,
        "Marked received; "
        + (
            f"{counted(completed, 'engagement')} now have every document and were dispatched."
            if completed != 1
            else "1 engagement now has every document and was dispatched."
        ),
        messages.SUCCESS,
    )


@admin.register(RequiredDocument)
class RequiredDocumentAdmin(admin.ModelAdmin):
    actions = [mark_received]
    list_display = ["name", "engagement", "received_at"]
    list_select_related = ["engagement__client", "engagement__work_type"]
    search_fields = ["name", "engagement__client__name"]
    autocomplete_fields = ["engagement"]
    date_hierarchy = "received_at"
    show_full_result_count = False


@admin.register(EngagementMilestone)
class EngagementMilestoneAdmin(admin.ModelAdmin):
    list_display = ["engagement", "milestone", "reached_at"]
    list_filter = ["milestone"]
    list_select_related = ["engagement__client", "engagement__work_type"]
    search_fields = ["engagement__client__name"]
    autocomplete_fields = ["engagement"]
    date_hierarchy = "reached_at"
    show_full_result_count = False


class RecurringPlanForm(FirmModelForm):
    class Meta:
        model = RecurringPlan
        fields = [
            "client",
            "work_type",
            "active",
            "starts_on",
            "ends_on",
            "event_rule",
            "estimated_hours",
            "requested_staff",
        ]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        work_type = cleaned.get("work_type")
        if isinstance(work_type, WorkType):
            problem = schedule_problem(
                work_type=work_type, event_rule=cleaned.get("event_rule") or ""
            )
            if problem:
                self.add_error(
                    "event_rule"
                    if work_type.deadline_basis == DeadlineBasis.EVENT_DATE
                    else "work_type",
                    problem,
                )
        return cleaned


@admin.register(RecurringPlan)
class RecurringPlanAdmin(admin.ModelAdmin):
    form = RecurringPlanForm
    list_display = [
        "client",
        "work_type",
        "starts_on",
        "ends_on",
        "event_rule",
        "estimated_hours",
        "requested_staff",
        "active",
    ]
    list_filter = ["active", "work_type"]
    list_select_related = ["client", "work_type", "requested_staff__user"]
    search_fields = ["client__name", "work_type__name", "work_type__code"]
    autocomplete_fields = ["client", "work_type", "requested_staff"]
    date_hierarchy = "starts_on"
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["client", "work_type", "active"]}),
        (
            "Schedule",
            {
                "description": (
                    "Work is opened for every period (or event) from the start date to "
                    "the end date: a plan starting mid-month covers that month, and a "
                    "plan for last year's return starts on January 1 of that year. "
                    "Payroll and sessions need an event rule, e.g. "
                    "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR."
                ),
                "fields": [("starts_on", "ends_on"), "event_rule"],
            },
        ),
        ("Staffing", {"fields": ["estimated_hours", "requested_staff"]}),
    ]
