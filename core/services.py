from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import WorkerHeartbeat


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
