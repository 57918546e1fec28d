from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"

    def ready(self) -> None:
        """Plug billing into the layers below through their explicit extension points:
        completed tasks draft time, billing milestones draft invoices (``engagements.hooks``),
        the queue rows get the timer (``dispatch.queue_extensions``), and the outbox learns
        the invoice email's PDF (``billing.messages`` registers on import)."""
        from billing import messages  # noqa: F401  (registers the outbox checks)
        from billing.invoices import invoice_on_milestone
        from billing.services import time_entry_draft_for_task
        from billing.views_time import timer_row_extension
        from dispatch.queue_extensions import register
        from engagements.hooks import on_milestone_entered, on_task_completed

        on_task_completed(time_entry_draft_for_task)
        on_milestone_entered(invoice_on_milestone)
        register(timer_row_extension)
