"""Celery tasks for integrations: ids in, one service call each."""

from __future__ import annotations

from celery import shared_task

from integrations.services import idempotency_records_purge


@shared_task(name="integrations.tasks.idempotency_records_purge_task")
def idempotency_records_purge_task() -> None:
    idempotency_records_purge()
