"""The Celery app and the one beat schedule (every periodic job is listed here)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Tasks that talk to the outside (SMTP, Slack): they run from the notifications
# queue, so a slow channel never holds up a dispatch.
SEND_TASKS = frozenset(
    {
        "notifications.tasks.notification_send_task",
        "notifications.tasks.notifications_send_task",
        # Outbound webhooks: a slow or failing endpoint (15 s timeout) never holds a dispatch.
        "notifications.tasks.webhook_delivery_send_task",
    }
)


def route_task(name: str, args: object, kwargs: object, options: object, **extra: Any) -> Any:
    """Celery router (``task_routes``): sends to the notifications queue, the rest by default.

    The queue name is read per message, from settings, so one process can be
    pointed at other queues (the integration tests give each worker its own).
    """
    if name in SEND_TASKS:
        from django.conf import settings

        return {"queue": settings.CELERY_NOTIFICATIONS_QUEUE}
    return None


app = Celery("closeloop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# How often the outbox jobs look for work the broker lost (read here, not from
# Django settings: this module loads while the settings are being imported).
OUTBOX_REQUEUE_INTERVAL = float(os.environ.get("CLOSELOOP_OUTBOX_REQUEUE_INTERVAL_SECONDS", "60"))

# How often the rebalancing loop looks for overloads (minutes; read here for the same reason).
REBALANCE_INTERVAL = 60 * float(os.environ.get("CLOSELOOP_REBALANCE_INTERVAL_MINUTES", "60"))

# Keyed by cadence and purpose; every entry expires so a backlog never replays.
app.conf.beat_schedule = {
    "every-minute-worker-heartbeat": {
        "task": "core.tasks.heartbeat_record_task",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "every-10-minutes-dispatch-checkpoints": {
        "task": "dispatch.tasks.checkpoints_run_task",
        "schedule": 10 * 60.0,
        "options": {"expires": 9 * 60},
    },
    # The outbox: publish again what the broker lost (an outage at commit, a restart).
    "every-minute-dispatch-requeue-pending": {
        "task": "dispatch.tasks.dispatch_requeue_pending_task",
        "schedule": OUTBOX_REQUEUE_INTERVAL,
        "options": {"expires": OUTBOX_REQUEUE_INTERVAL * 0.9},
    },
    "every-minute-notifications-requeue-pending": {
        "task": "notifications.tasks.notifications_requeue_pending_task",
        "schedule": OUTBOX_REQUEUE_INTERVAL,
        "options": {"expires": OUTBOX_REQUEUE_INTERVAL * 0.9},
    },
    # Inbound webhook events the broker lost, and those due for a retry.
    "every-minute-integrations-inbound-requeue": {
        "task": "integrations.tasks.inbound_events_requeue_task",
        "schedule": OUTBOX_REQUEUE_INTERVAL,
        "options": {"expires": OUTBOX_REQUEUE_INTERVAL * 0.9},
    },
    # Outbound webhook deliveries due for a retry (Svix's schedule) or lost by the broker.
    "every-30-seconds-notifications-webhook-deliveries": {
        "task": "notifications.tasks.webhook_deliveries_requeue_task",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "every-10-minutes-notifications-reap-stuck": {
        "task": "notifications.tasks.notifications_reap_stuck_task",
        "schedule": 10 * 60.0,
        "options": {"expires": 9 * 60},
    },
    # A sweep's escalations that missed its digest (the sweep died before the end).
    "every-5-minutes-dispatch-escalation-digest": {
        "task": "dispatch.tasks.escalation_digest_task",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
    "every-15-minutes-dispatch-deadline-sweep": {
        "task": "dispatch.tasks.dispatch_sweep_task",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    # The rebalancing loop: proposals for managers, never a silent move.
    "hourly-dispatch-rebalance": {
        "task": "dispatch.tasks.rebalance_run_task",
        "schedule": REBALANCE_INTERVAL,
        "options": {"expires": REBALANCE_INTERVAL * 0.9},
    },
    # Hourly, so the 1st is picked up within the hour after midnight in the firm's
    # time zone (the job works out the local date; the beat itself runs in UTC).
    "hourly-engagements-recurring-generate": {
        "task": "engagements.tasks.recurring_generate_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    # Logged hours from Harvest (integrations.harvest): entries changed since the last pull.
    "every-15-minutes-integrations-harvest-pull": {
        "task": "integrations.tasks.harvest_time_pull_task",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    # Logged hours from QuickBooks Time (integrations.qbtime): timesheets changed or
    # deleted since the last pull.
    "every-15-minutes-integrations-qbtime-pull": {
        "task": "integrations.tasks.qbtime_time_pull_task",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    # Idempotency-Key records are replayed for 24 hours, then dropped.
    "hourly-integrations-idempotency-purge": {
        "task": "integrations.tasks.idempotency_records_purge_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    # Billing: each job is idempotent (unique constraints); hourly so a firm-time
    # boundary (the 1st, Friday afternoon, a due date) is met within the hour.
    "hourly-billing-retainer-invoices": {
        "task": "billing.tasks.retainer_invoices_create_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    "hourly-billing-late-fees": {
        "task": "billing.tasks.late_fees_apply_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    "hourly-billing-time-drafts-reminder": {
        "task": "billing.tasks.time_drafts_remind_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    "hourly-billing-leakage-reminders": {
        "task": "billing.tasks.leakage_remind_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    # Follow-up sequences: a daily send, checked hourly so it goes out within the hour
    # after CLOSELOOP_FOLLOWUP_SEND_HOUR (firm time); before that hour and after
    # today's touches are stored the run does nothing (a unique constraint per
    # invoice, cycle and step).
    "hourly-billing-followups": {
        "task": "billing.tasks.followups_run_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    # The outbox for invoice emails waiting on their payment page (Stripe).
    "every-minute-billing-invoices-send-pending": {
        "task": "billing.tasks.invoices_send_pending_task",
        "schedule": OUTBOX_REQUEUE_INTERVAL,
        "options": {"expires": OUTBOX_REQUEUE_INTERVAL * 0.9},
    },
    # The weekly billing report for partners: checked hourly, sent on Monday from
    # CLOSELOOP_WEEKLY_REPORT_HOUR (firm time), once per partner and week (the outbox
    # identity's unique constraint).
    "hourly-billing-weekly-report": {
        "task": "billing.tasks.weekly_report_send_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
    "hourly-engagements-document-reminders": {
        "task": "engagements.tasks.document_reminders_run_task",
        "schedule": 60 * 60.0,
        "options": {"expires": 55 * 60},
    },
}


@worker_ready.connect
def _heartbeat_on_start(sender: object, **kwargs: object) -> None:
    """Report at once, so the home page does not say "not reported yet" for a minute."""
    app.send_task("core.tasks.heartbeat_record_task")
