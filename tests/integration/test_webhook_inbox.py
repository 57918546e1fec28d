"""A real worker on PostgreSQL and Redis: 1,000 webhook events, every one delivered twice
in shuffled order, end with each applied exactly once and every job in its newest state."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from clients.models import ClientExternalId
from engagements.models import Engagement, MilestoneTransition
from integrations.choices import EventStatus, Source
from integrations.models import InboundEvent, StatusMapping
from integrations.signatures import closeloop_sign
from tests.factories import ClientFactory
from tests.integration.conftest import WorkerProcess, wait_until
from tests.integrations.webhook_helpers import make_integration

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def worker_env() -> dict[str, str]:
    # The outbox's re-queue runs every 2 s: a publish the broker lost is repaired quickly.
    return {
        "CLOSELOOP_OUTBOX_REQUEUE_AFTER_SECONDS": "5",
        "CLOSELOOP_OUTBOX_REQUEUE_INTERVAL_SECONDS": "2",
    }


@pytest.fixture
def worker_args(tmp_path) -> list[str]:
    return ["-B", "--schedule", str(tmp_path / "celerybeat-schedule")]


JOBS = 50
VERSIONS = 20  # 50 jobs x 20 versions = 1,000 events


def event_body(job: int, version: int, due: str) -> bytes:
    # Versions 0-9 say "Kickoff", 10-19 "Fieldwork": the newest puts every job in fieldwork.
    status = "Fieldwork" if version >= VERSIONS // 2 else "Kickoff"
    return json.dumps(
        {
            "id": f"job-{job}-v{version}",
            "type": "job.status_changed",
            "occurred_at": "2026-11-20T10:00:00Z",
            "data": {
                "job_id": f"J-{job}",
                "client_id": "C-1",
                "work_type": "audit",
                "status": status,
                "due_date": due,
                "updated_at": f"2026-11-20T10:{version:02d}:00Z",
            },
        }
    ).encode()


def test_a_thousand_events_sent_twice_out_of_order_are_applied_exactly_once(
    celery_worker: WorkerProcess,
):
    integration = make_integration(Source.TAXDOME)
    ClientExternalId.objects.create(
        client=ClientFactory(), source=Source.TAXDOME, external_id="C-1"
    )
    StatusMapping.objects.create(
        integration=integration, external_status="Kickoff", milestone="kickoff_signed"
    )
    StatusMapping.objects.create(
        integration=integration, external_status="Fieldwork", milestone="in_preparation"
    )
    due = (timezone.localdate() + timedelta(days=60)).isoformat()
    bodies = [event_body(job, version, due) for job in range(JOBS) for version in range(VERSIONS)]
    deliveries = bodies * 2
    random.Random(13).shuffle(deliveries)
    client = Client()

    started = time.monotonic()
    for body in deliveries:
        header = closeloop_sign(secret=integration.secret, body=body, timestamp=int(time.time()))
        response = client.post(
            f"/webhooks/{integration.slug}/",
            body,
            content_type="application/json",
            HTTP_CLOSELOOP_SIGNATURE=header,
        )
        assert response.status_code == 200, response.content
    sent_in = time.monotonic() - started

    def settled() -> bool:
        return not InboundEvent.objects.exclude(status__in=[EventStatus.APPLIED]).exists()

    assert wait_until(settled, celery_worker, seconds=300), (
        f"{InboundEvent.objects.exclude(status=EventStatus.APPLIED).count()} events unsettled; "
        + celery_worker.describe()[-3000:]
    )
    assert InboundEvent.objects.count() == JOBS * VERSIONS
    engagements = Engagement.objects.filter(source="taxdome")
    assert engagements.count() == JOBS
    assert set(engagements.values_list("milestone", flat=True)) == {"in_preparation"}
    for milestone in ("kickoff_signed", "in_preparation"):
        per_engagement = MilestoneTransition.objects.filter(
            engagement__in=engagements, to_milestone=milestone
        ).count()
        assert per_engagement == JOBS, f"{milestone}: {per_engagement} transitions for {JOBS} jobs"
    print(f"sent {len(deliveries)} deliveries in {sent_in:.1f} s")
