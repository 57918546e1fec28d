from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.models import ChangeStamp, WorkerHeartbeat

# Beat ticks the heartbeat every minute; three missed ticks means it is down.
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


def worker_status() -> dict[str, object]:
    latest = WorkerHeartbeat.objects.order_by("-last_seen_at").first()
    if latest is None:
        return {"state": "never", "last_seen_at": None}
    stale = timezone.now() - latest.last_seen_at > HEARTBEAT_STALE_AFTER
    return {"state": "stale" if stale else "ok", "last_seen_at": latest.last_seen_at}


def change_stamp(name: str) -> int:
    return ChangeStamp.objects.filter(name=name).values_list("version", flat=True).first() or 0
