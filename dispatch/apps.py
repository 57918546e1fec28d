from django.apps import AppConfig
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_migrate,
    post_save,
    pre_migrate,
)


class DispatchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dispatch"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from capacity.models import CapacityRule
        from dispatch import messages  # noqa: F401  (registers its still-applies checks)
        from dispatch.roster import roster_changed
        from engagements.models import WorkType, WorkTypeSkill
        from staff.models import SkillTag, StaffMember, StaffSkill, TimeOff, WorkingPattern

        # What the dispatch roster is built from: any change moves its stamp.
        models = (
            get_user_model(),
            StaffMember,
            StaffSkill,
            TimeOff,
            WorkingPattern,
            SkillTag,
            WorkType,
            WorkTypeSkill,
            CapacityRule,  # the roster keeps the capacity policy it built thresholds from
        )
        for model in models:
            post_save.connect(roster_changed, sender=model, weak=False)
            post_delete.connect(roster_changed, sender=model, weak=False)
        m2m_changed.connect(roster_changed, sender=CapacityRule.skills.through, weak=False)
        # SQLite drops a table's triggers when a migration rebuilds it: put them back.
        post_migrate.connect(_install_triggers, sender=self, weak=False)
        # And SQLite refuses to rename a rebuilt table while a trigger on another table
        # names it ("error in trigger ...: no such table"): off while migrating there.
        pre_migrate.connect(_drop_triggers_on_sqlite, sender=self, weak=False)


def _drop_triggers_on_sqlite(*, using: str, plan: object = None, **_: object) -> None:
    from django.db import connections

    from dispatch import triggers

    connection = connections[using]
    if connection.vendor == "sqlite" and plan:
        triggers.uninstall(connection)


def _install_triggers(*, using: str, plan: object = None, **_: object) -> None:
    from django.db import connections

    from dispatch import triggers

    connection = connections[using]
    if not plan:  # no migration ran: nothing was rebuilt
        return
    with connection.cursor() as cursor:
        if "staff_staffmember" not in connection.introspection.table_names(cursor):
            return
        columns = connection.introspection.get_table_description(cursor, "staff_staffmember")
    if any(column.name == "open_work_seq" for column in columns):  # not migrated back
        triggers.install(connection)
