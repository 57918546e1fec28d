"""Default ceilings: partners do not prepare bookkeeping, payroll or close work."""

from django.db import migrations

SENIOR_MANAGER = 5
ROUTINE = ("monthly_bookkeeping", "payroll", "month_end_close")


def forwards(apps, schema_editor):
    WorkType = apps.get_model("engagements", "WorkType")
    WorkType.objects.filter(code__in=ROUTINE, preparer_max_seniority__isnull=True).update(
        preparer_max_seniority=SENIOR_MANAGER
    )


def backwards(apps, schema_editor):
    WorkType = apps.get_model("engagements", "WorkType")
    WorkType.objects.filter(code__in=ROUTINE, preparer_max_seniority=SENIOR_MANAGER).update(
        preparer_max_seniority=None
    )


class Migration(migrations.Migration):
    dependencies = [("engagements", "0009_work_type_max_seniority")]
    operations = [migrations.RunPython(forwards, backwards)]
