"""Database triggers that move ``StaffMember.open_work_seq`` whenever the work a person
holds changes, in the transaction that changes it.

Dispatch keeps every person's open work between dispatches (``dispatch.roster``) and
reads again only the people whose number moved; under a person's row lock the number
says whether their work changed since it was read (``dispatch.services``). So the
number must move on every change, whichever code (or SQL) makes it — hence triggers
rather than application code:

| table | when | whose number moves |
|---|---|---|
| tasks | a held task (assigned, accepted, in progress) is inserted, updated or deleted, or a task becomes held | the holder before and after |
| engagements | its work type changes (the complexity weight of its tasks) | the holders of its held tasks |
| work types | the complexity weight changes | the holders of its held tasks |
| staff | an update would move the number backwards (a stale save) | kept where it was |

The number comes from a sequence on PostgreSQL (a person's next number is drawn
after any earlier writer of their row committed, so it only grows); SQLite
serialises writers, so one more than the highest will do. ``install`` is idempotent.
On PostgreSQL a migration installs them. On SQLite every ``migrate`` that runs anything
drops them first and installs them once it is done (``dispatch.apps``): SQLite alters a
table by rebuilding it, which drops that table's triggers and fails outright while
another table's trigger reads it (the engagement and work-type triggers read
``engagements_task``), so no migration order, fresh or upgrading, may meet them.
"""

from __future__ import annotations

from typing import Any

from engagements.choices import HELD_TASK_STATUSES

HELD = ", ".join(f"'{status.value}'" for status in HELD_TASK_STATUSES)

_POSTGRESQL = f"""
CREATE SEQUENCE IF NOT EXISTS staff_open_work_seq;

CREATE OR REPLACE FUNCTION staff_open_work_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE staff_staffmember SET open_work_seq = nextval('staff_open_work_seq')
    WHERE id IN (
        CASE WHEN TG_OP <> 'INSERT' AND OLD.status IN ({HELD}) THEN OLD.assignee_id END,
        CASE WHEN TG_OP <> 'DELETE' AND NEW.status IN ({HELD}) THEN NEW.assignee_id END
    );
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER staff_open_work_task_insert AFTER INSERT ON engagements_task
    FOR EACH ROW WHEN (NEW.status IN ({HELD})) EXECUTE FUNCTION staff_open_work_task();
CREATE OR REPLACE TRIGGER staff_open_work_task_update AFTER UPDATE ON engagements_task
    FOR EACH ROW WHEN (OLD.status IN ({HELD}) OR NEW.status IN ({HELD}))
    EXECUTE FUNCTION staff_open_work_task();
CREATE OR REPLACE TRIGGER staff_open_work_task_delete AFTER DELETE ON engagements_task
    FOR EACH ROW WHEN (OLD.status IN ({HELD})) EXECUTE FUNCTION staff_open_work_task();

CREATE OR REPLACE FUNCTION staff_open_work_engagement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE staff_staffmember SET open_work_seq = nextval('staff_open_work_seq')
    WHERE id IN (
        SELECT assignee_id FROM engagements_task
        WHERE engagement_id = NEW.id AND status IN ({HELD})
    );
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER staff_open_work_engagement AFTER UPDATE ON engagements_engagement
    FOR EACH ROW WHEN (OLD.work_type_id IS DISTINCT FROM NEW.work_type_id)
    EXECUTE FUNCTION staff_open_work_engagement();

CREATE OR REPLACE FUNCTION staff_open_work_work_type() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE staff_staffmember SET open_work_seq = nextval('staff_open_work_seq')
    WHERE id IN (
        SELECT t.assignee_id FROM engagements_task t
        JOIN engagements_engagement e ON e.id = t.engagement_id
        WHERE e.work_type_id = NEW.id AND t.status IN ({HELD})
    );
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER staff_open_work_work_type AFTER UPDATE ON engagements_worktype
    FOR EACH ROW WHEN (OLD.complexity_weight IS DISTINCT FROM NEW.complexity_weight)
    EXECUTE FUNCTION staff_open_work_work_type();

CREATE OR REPLACE FUNCTION staff_open_work_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.open_work_seq := OLD.open_work_seq;
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER staff_open_work_keep BEFORE UPDATE ON staff_staffmember
    FOR EACH ROW WHEN (NEW.open_work_seq < OLD.open_work_seq)
    EXECUTE FUNCTION staff_open_work_keep();
"""

_SQLITE_NEXT = "(SELECT COALESCE(MAX(open_work_seq), 0) + 1 FROM staff_staffmember)"
_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS staff_open_work_task_insert AFTER INSERT ON engagements_task
    WHEN NEW.status IN ({HELD})
    BEGIN
        UPDATE staff_staffmember SET open_work_seq = {_SQLITE_NEXT} WHERE id = NEW.assignee_id;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS staff_open_work_task_update AFTER UPDATE ON engagements_task
    WHEN OLD.status IN ({HELD}) OR NEW.status IN ({HELD})
    BEGIN
        UPDATE staff_staffmember SET open_work_seq = {_SQLITE_NEXT}
        WHERE id IN (
            CASE WHEN OLD.status IN ({HELD}) THEN OLD.assignee_id END,
            CASE WHEN NEW.status IN ({HELD}) THEN NEW.assignee_id END
        );
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS staff_open_work_task_delete AFTER DELETE ON engagements_task
    WHEN OLD.status IN ({HELD})
    BEGIN
        UPDATE staff_staffmember SET open_work_seq = {_SQLITE_NEXT} WHERE id = OLD.assignee_id;
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS staff_open_work_engagement
    AFTER UPDATE OF work_type_id ON engagements_engagement
    WHEN OLD.work_type_id IS NOT NEW.work_type_id
    BEGIN
        UPDATE staff_staffmember SET open_work_seq = {_SQLITE_NEXT}
        WHERE id IN (
            SELECT assignee_id FROM engagements_task
            WHERE engagement_id = NEW.id AND status IN ({HELD})
        );
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS staff_open_work_work_type
    AFTER UPDATE OF complexity_weight ON engagements_worktype
    WHEN OLD.complexity_weight IS NOT NEW.complexity_weight
    BEGIN
        UPDATE staff_staffmember SET open_work_seq = {_SQLITE_NEXT}
        WHERE id IN (
            SELECT t.assignee_id FROM engagements_task t
            JOIN engagements_engagement e ON e.id = t.engagement_id
            WHERE e.work_type_id = NEW.id AND t.status IN ({HELD})
        );
    END""",
    """CREATE TRIGGER IF NOT EXISTS staff_open_work_keep
    AFTER UPDATE OF open_work_seq ON staff_staffmember
    WHEN NEW.open_work_seq < OLD.open_work_seq
    BEGIN
        UPDATE staff_staffmember SET open_work_seq = OLD.open_work_seq WHERE id = NEW.id;
    END""",
]

_NAMES = (
    "staff_open_work_task_insert",
    "staff_open_work_task_update",
    "staff_open_work_task_delete",
    "staff_open_work_engagement",
    "staff_open_work_work_type",
    "staff_open_work_keep",
)
_TABLES = (
    "engagements_task",
    "engagements_task",
    "engagements_task",
    "engagements_engagement",
    "engagements_worktype",
    "staff_staffmember",
)


def install(connection: Any) -> None:
    """Create (or replace) the triggers on ``connection``'s database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRESQL)
        elif connection.vendor == "sqlite":
            for statement in _SQLITE:
                cursor.execute(statement)
        else:  # pragma: no cover - the two databases Closeloop runs on
            raise NotImplementedError(f"open-work triggers for {connection.vendor}")


def uninstall(connection: Any) -> None:
    with connection.cursor() as cursor:
        for name, table in zip(_NAMES, _TABLES, strict=True):
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if connection.vendor == "postgresql":
            for function in ("task", "engagement", "work_type", "keep"):
                cursor.execute(f"DROP FUNCTION IF EXISTS staff_open_work_{function}()")
            cursor.execute("DROP SEQUENCE IF EXISTS staff_open_work_seq")
