"""The firm's administrator keeps the rate card and client billing controls in the admin
and reads time, invoices and payments there (their admin pages are read-only: those
change only through billing's services)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("billing")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin = Group.objects.filter(name="admin").first()
    if admin is not None:
        admin.permissions.add(*Permission.objects.filter(content_type__app_label="billing"))


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_seed_rate_card_defaults"), ("staff", "0003_role_groups")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
