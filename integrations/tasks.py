"""Celery tasks for integrations: ids in, one service call each."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from dispatch.tasks import locked
from integrations.choices import EventStatus
from integrations.harvest import time_entries_pull_all
from integrations.inbox import (
    inbound_event_process,
    inbound_event_retry_countdown,
    inbound_events_drain,
    inbound_events_requeue,
)
from integrations.qbtime import timesheets_pull_all
from integrations.services import idempotency_records_purge

REQUEUE_LOCK = "integrations:requeue-lock"
HARVEST_LOCK = "integrations:harvest-pull-lock"
QBTIME_LOCK = "integrations:qbtime-pull-lock"


@shared_task(
    bind=True,
    name="integrations.tasks.inbound_event_process_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def inbound_event_process_task(self, event_id: int) -> None:  # type: ignore[no-untyped-def]
    if inbound_event_process(event_id=event_id) == EventStatus.RETRYING:
        wait = inbound_event_retry_countdown(event_id)
        if wait is not None:
            raise self.retry(countdown=wait, max_retries=None)


@shared_task(
    name="integrations.tasks.inbound_events_drain_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def inbound_events_drain_task() -> None:
    inbound_events_drain()


@shared_task(name="integrations.tasks.inbound_events_requeue_task")
def inbound_events_requeue_task() -> None:
    locked(REQUEUE_LOCK, 5 * 60, inbound_events_requeue)


@shared_task(name="integrations.tasks.idempotency_records_purge_task")
def idempotency_records_purge_task() -> None:
    idempotency_records_purge()


@shared_task(name="integrations.tasks.harvest_time_pull_task")
def harvest_time_pull_task() -> None:
    locked(HARVEST_LOCK, 14 * 60, time_entries_pull_all)


@shared_task(name="integrations.tasks.qbtime_time_pull_task")
def qbtime_time_pull_task() -> None:
    locked(QBTIME_LOCK, 14 * 60, timesheets_pull_all)
