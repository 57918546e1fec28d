"""Role groups (staff, manager, partner, admin) and what each may do.

Row-level scoping (a staff member sees only their own queue) lives in the
selectors; these model permissions decide which kinds of records a role may
view or change at all.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

STAFF_PERMS = [
    "clients.view_client",
    "engagements.view_engagement",
    "engagements.view_engagementmilestone",
    "engagements.view_requireddocument",
    "engagements.view_task",
    "engagements.change_task",
    "engagements.view_worktype",
    "staff.view_skilltag",
    "staff.view_staffmember",
]
MANAGER_PERMS = STAFF_PERMS + [
    "clients.change_client",
    "clients.view_clientexternalid",
    "engagements.add_engagement",
    "engagements.change_engagement",
    "engagements.add_requireddocument",
    "engagements.change_requireddocument",
    "engagements.add_task",
    "staff.view_staffskill",
    "staff.view_timeoff",
    "staff.add_timeoff",
    "staff.change_timeoff",
]
PARTNER_PERMS = MANAGER_PERMS + [
    "clients.add_client",
    "clients.add_clientexternalid",
    "clients.change_clientexternalid",
    "engagements.delete_engagement",
    "engagements.change_worktype",
]
ADMIN_APPS = ["clients", "staff", "engagements", "core"]

GROUPS = {"staff": STAFF_PERMS, "manager": MANAGER_PERMS, "partner": PARTNER_PERMS}


def ensure_permissions(apps):
    # Permissions are normally made by post_migrate, after every migration has run;
    # make them now so the groups below can point at them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None


def seed(apps, schema_editor):
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(names):
        found = []
        for name in names:
            app_label, codename = name.split(".")
            found.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return found

    for group_name, names in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set(perms(names))
    admin, _ = Group.objects.get_or_create(name="admin")
    admin.permissions.set(
        Permission.objects.filter(content_type__app_label__in=ADMIN_APPS + ["auth"])
    )


def unseed(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["staff", "manager", "partner", "admin"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("staff", "0002_seed_skill_tags"),
        ("clients", "0001_initial"),
        ("engagements", "0002_seed_work_types"),
        ("core", "0001_initial"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
