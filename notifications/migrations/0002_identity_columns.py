"""Identity as columns (subject type, subject id, template, step) instead of a key string.

Rows written before this carried a key like ``document_reminder:<engagement>:<n>:...``;
this migration reads it once to fill the columns, then drops it. Nothing parses a
key after this.
"""

from django.db import migrations, models

# The subject each old key's leading segment named, and which segment holds the step.
OLD_KEYS = {
    "task_assigned": ("decision", None),
    "staff_overloaded": ("decision", None),
    "confirmation_needed": ("decision", None),
    "escalation_opened": ("escalation", None),
    "client_confirmation": ("engagement", 2),
    "document_request": ("engagement", None),
    "document_reminder": ("engagement", 2),
    "clarification": ("review_exception", None),
}


def fill_identity(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for row in Notification.objects.only("pk", "idempotency_key", "task_id").iterator():
        parts = row.idempotency_key.split(":")
        subject_type, subject_id, step = "legacy", row.pk, 0
        try:
            if parts[0] == "checkpoint":
                subject_type, subject_id = "task", int(parts[2])
            elif parts[0] in OLD_KEYS:
                subject_type, step_at = OLD_KEYS[parts[0]]
                subject_id = int(parts[1])
                step = int(parts[step_at]) if step_at is not None else 0
        except (IndexError, ValueError):
            subject_type, subject_id, step = "legacy", row.pk, 0
        Notification.objects.filter(pk=row.pk).update(
            subject_type=subject_type, subject_id=subject_id, step=step
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="notification", table=None),
        migrations.AddField(
            model_name="notification",
            name="subject_type",
            field=models.CharField(default="legacy", max_length=20),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="subject_id",
            field=models.PositiveBigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification",
            name="step",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="notification",
            name="calendar",
            field=models.TextField(blank=True, help_text="An iCalendar attachment (assignment emails), when there is one."),
        ),
        migrations.RunPython(fill_identity, migrations.RunPython.noop),
        migrations.RemoveField(model_name="notification", name="idempotency_key"),
    ]
