from django.db import migrations


def install(apps, schema_editor):
    from dispatch import triggers

    if schema_editor.connection.vendor == "sqlite":
        # After the whole migrate (dispatch.apps): a later migration that rebuilds a
        # table these triggers name would fail on SQLite with them in place.
        return
    triggers.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from dispatch import triggers

    triggers.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    """The triggers that move ``StaffMember.open_work_seq`` (see ``dispatch.triggers``)."""

    dependencies = [
        ("dispatch", "0006_escalation_digest"),
        ("engagements", "0010_partners_do_not_prepare_routine_work"),
        ("staff", "0005_open_work_seq"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
