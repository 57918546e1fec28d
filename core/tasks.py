from __future__ import annotations

import socket

from celery import shared_task

from core.services import heartbeat_record


@shared_task(name="core.tasks.heartbeat_record_task")
def heartbeat_record_task(hostname: str | None = None) -> None:
    heartbeat_record(hostname=hostname or socket.gethostname())
