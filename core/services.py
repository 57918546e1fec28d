from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import ChangeStamp, WorkerHeartbeat


@transaction.atomic
def heartbeat_record(*, hostname: str, now: datetime | None = None) -> WorkerHeartbeat:
    """Record that the worker on ``hostname`` is alive (one row per host)."""
    now = now or timezone.now()
    heartbeat, created = WorkerHeartbeat.objects.get_or_create(
        hostname=hostname, defaults={"last_seen_at": now, "beats": 1}
    )
    if not created:
        WorkerHeartbeat.objects.filter(pk=heartbeat.pk).update(
            last_seen_at=now, beats=F("beats") + 1
        )
        heartbeat.refresh_from_db()
    return heartbeat


def change_stamp_bump(name: str) -> None:
    """Bump ``name``'s version once the current transaction commits.

    After commit, so the hot row's lock is held for one statement, never for a
    whole business transaction.
    """

    def bump() -> None:
        updated = ChangeStamp.objects.filter(name=name).update(version=F("version") + 1)
        if not updated:
            ChangeStamp.objects.get_or_create(name=name, defaults={"version": 1})

    transaction.on_commit(bump)
