"""Celery tasks: ids in, one service call."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from billing import (
    followup_run,
    invoices,
    payments,
    reminders,
    stripe_pages,
    weekly_report,
)


@shared_task(name="billing.tasks.invoice_send_task")
def invoice_send_task(invoice_id: int) -> None:
    invoices.invoice_send(invoice_id=invoice_id)


@shared_task(name="billing.tasks.invoice_payment_page_task")
def invoice_payment_page_task(invoice_id: int) -> None:
    stripe_pages.payment_page_refresh(invoice_id=invoice_id)


@shared_task(name="billing.tasks.invoices_send_pending_task")
def invoices_send_pending_task() -> None:
    invoices.invoices_send_pending()


@shared_task(name="billing.tasks.retainer_invoices_create_task")
def retainer_invoices_create_task() -> None:
    invoices.retainer_invoices_create()


@shared_task(name="billing.tasks.late_fees_apply_task")
def late_fees_apply_task() -> None:
    payments.late_fees_apply()


@shared_task(name="billing.tasks.time_drafts_remind_task")
def time_drafts_remind_task() -> None:
    reminders.time_drafts_remind()


@shared_task(name="billing.tasks.leakage_remind_task")
def leakage_remind_task() -> None:
    reminders.leakage_remind()


@shared_task(name="billing.tasks.followups_run_task")
def followups_run_task() -> None:
    followup_run.followups_fan_out()


@shared_task(name="billing.tasks.followups_batch_task")
def followups_batch_task(client_ids: list[int], today: str) -> None:
    followup_run.followups_batch(client_ids=client_ids, today=date.fromisoformat(today))


@shared_task(name="billing.tasks.weekly_report_send_task")
def weekly_report_send_task() -> None:
    weekly_report.weekly_report_send()
