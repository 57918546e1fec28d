from django.contrib import admin

from notifications.models import Notification


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
