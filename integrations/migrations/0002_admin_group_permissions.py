"""The admin role manages integrations, API tokens, outbound webhooks and Teams URLs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

NOTIFICATION_MODELS = [
    "webhooksubscription",
    "webhookallowedhost",
    "webhookdelivery",
    "webhookattempt",
    "webhookevent",
    "teamswebhook",
]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin, _ = Group.objects.get_or_create(name="admin")
    admin.permissions.add(
        *Permission.objects.filter(content_type__app_label="integrations"),
        *Permission.objects.filter(
            content_type__app_label="notifications", content_type__model__in=NOTIFICATION_MODELS
        ),
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin = Group.objects.filter(name="admin").first()
    if admin is not None:
        admin.permissions.remove(
            *Permission.objects.filter(content_type__app_label="integrations"),
            *Permission.objects.filter(
                content_type__app_label="notifications",
                content_type__model__in=NOTIFICATION_MODELS,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("notifications", "0007_webhooks_and_teams"),
        ("staff", "0003_role_groups"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
