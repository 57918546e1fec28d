from __future__ import annotations

import pytest

from core.models import WorkerHeartbeat
from core.tasks import heartbeat_record_task

pytestmark = pytest.mark.django_db


def test_heartbeat_task_keeps_one_row_per_host_and_counts_beats():
    heartbeat_record_task(hostname="worker-a")
    heartbeat_record_task(hostname="worker-a")
    heartbeat_record_task(hostname="worker-b")

    rows = dict(WorkerHeartbeat.objects.values_list("hostname", "beats"))

    assert rows == {"worker-a": 2, "worker-b": 1}
