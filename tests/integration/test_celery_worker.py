"""A real Celery worker, through Redis, writing to the shared PostgreSQL test database."""

from __future__ import annotations

import time
import uuid

import pytest

from core.models import WorkerHeartbeat
from core.tasks import heartbeat_record_task
from tests.integration.conftest import WorkerProcess

pytestmark = pytest.mark.integration

WAIT_SECONDS = 30


def wait_for_beats(worker: WorkerProcess, hostname: str, beats: int) -> WorkerHeartbeat | None:
    """Poll until the heartbeat row for ``hostname`` has ``beats`` (or the worker dies)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        row = WorkerHeartbeat.objects.filter(hostname=hostname).first()
        if row is not None and row.beats >= beats:
            return row
        if time.monotonic() > deadline or worker.process.poll() is not None:
            return row
        time.sleep(0.2)


def test_worker_records_heartbeat_once_per_message(celery_worker: WorkerProcess) -> None:
    hostname = f"it-{uuid.uuid4().hex[:12]}"

    heartbeat_record_task.apply_async(kwargs={"hostname": hostname}, queue=celery_worker.queue)
    first = wait_for_beats(celery_worker, hostname, beats=1)

    assert first is not None, (
        f"no heartbeat for {hostname} within {WAIT_SECONDS} s\n{celery_worker.describe()}"
    )
    assert first.beats == 1, celery_worker.describe()

    heartbeat_record_task.apply_async(kwargs={"hostname": hostname}, queue=celery_worker.queue)
    second = wait_for_beats(celery_worker, hostname, beats=2)

    assert second is not None and second.beats == 2, (
        f"expected beats == 2, got {second and second.beats}\n{celery_worker.describe()}"
    )
    assert WorkerHeartbeat.objects.filter(hostname=hostname).count() == 1
    assert second.pk == first.pk
    assert second.last_seen_at >= first.last_seen_at
