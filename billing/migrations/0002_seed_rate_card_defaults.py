"""The invoice number sequence's one row, and the seeds' draft-time default:
individual return preparation starts at 3.5 hours. Data the admin edits from here on."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [("1040", "preparer", Decimal("3.5"))]


def seed(apps, schema_editor):
    InvoiceSequence = apps.get_model("billing", "InvoiceSequence")
    TimeEntryDefault = apps.get_model("billing", "TimeEntryDefault")
    WorkType = apps.get_model("engagements", "WorkType")
    InvoiceSequence.objects.get_or_create(name="invoice")
    for code, role, hours in DEFAULTS:
        work_type = WorkType.objects.filter(code=code).first()
        if work_type is not None:
            TimeEntryDefault.objects.get_or_create(
                work_type=work_type, role=role, defaults={"hours": hours}
            )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("engagements", "0012_task_logged_hours")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
