"""The firm's administrator edits the capacity seasons (DESIGN: "admin: ... rules,
seasons") and can see and clear login lockouts; the admin role's group lacked both."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = [
    ("capacity", "add_capacityrule"),
    ("capacity", "change_capacityrule"),
    ("capacity", "delete_capacityrule"),
    ("capacity", "view_capacityrule"),
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accesslog"),
    ("axes", "view_accessfailurelog"),
]


def ensure_permissions(apps):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None


def grant(apps, schema_editor):
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin = Group.objects.filter(name="admin").first()
    if admin is None:
        return
    for app_label, codename in GRANTS:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            admin.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin = Group.objects.filter(name="admin").first()
    if admin is None:
        return
    for app_label, codename in GRANTS:
        admin.permissions.remove(
            *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0007_certified_until_in_firm_range"),
        ("capacity", "0002_seed_rules"),
        ("axes", "0009_add_session_hash"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
