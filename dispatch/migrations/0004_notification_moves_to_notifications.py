"""The Notification model moves to the notifications app; its table stays (renamed there)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0003_notification_templates_documents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
