"""Adopt dispatch's notification table as it stands (no database change here)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("dispatch", "0004_notification_moves_to_notifications"),
        ("engagements", "0005_seed_milestone_templates"),
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("idempotency_key", models.CharField(max_length=200, unique=True)),
                        ("channel", models.CharField(max_length=10)),
                        ("template", models.CharField(max_length=40)),
                        ("recipient", models.CharField(max_length=254)),
                        ("subject", models.CharField(max_length=255)),
                        ("body", models.TextField()),
                        ("html_body", models.TextField(blank=True)),
                        ("status", models.CharField(default="pending", max_length=10)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                        ("send_after", models.DateTimeField(blank=True, null=True)),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("staff_member", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="notifications", to="staff.staffmember")),
                        ("task", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="notifications", to="engagements.task")),
                    ],
                    options={
                        "db_table": "dispatch_notification",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["status", "created_at"], name="dispatch_no_status_2fbeef_idx")],
                        "constraints": [models.CheckConstraint(condition=models.Q(models.Q(("status", "sent"), _negated=True), ("sent_at__isnull", False), _connector="OR"), name="notification_sent_has_time")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
