from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    SMS = "sms", "SMS"
    TEAMS = "teams", "Microsoft Teams"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed permanently"
    SKIPPED = "skipped", "Skipped (no longer applies)"


class SubjectType(models.TextChoices):
    """What a notification is about: with its id, one half of its identity."""

    TASK = "task", "Task"
    DECISION = "decision", "Dispatch decision"
    ESCALATION = "escalation", "Escalation"
    ENGAGEMENT = "engagement", "Engagement"
    REVIEW_EXCEPTION = "review_exception", "Review exception"
    STAFF = "staff", "Staff member (a digest addressed to them)"
    WEBHOOK_SUBSCRIPTION = "webhook_subscription", "Outbound webhook subscription"
    INVOICE = "invoice", "Invoice"
    FOLLOWUP = "followup", "Follow-up message (one client's invoices at a touch)"
    BILLING_TASK = "billing_task", "Billing coordinator's task"
    REPORT = "report", "Weekly report"
    LEGACY = "legacy", "Before identities (migrated)"


class NotificationTemplate(models.TextChoices):
    """Every message Closeloop sends; the builders live with the app owning the subject."""

    TASK_ASSIGNED = "task_assigned", "Task assigned to you"
    TASK_ASSIGNED_DIGEST = "task_assigned_digest", "Your new assignments from one run, in one email"
    TASK_MOVED = "task_moved", "Staff: a task moved off your plate"
    CLIENT_CONFIRMATION = "client_confirmation", "Client: your work is scheduled"
    STAFF_OVERLOADED = "staff_overloaded", "Manager: urgent work overloaded a report"
    CONFIRMATION_NEEDED = "confirmation_needed", "Manager: confirm a requested staffer"
    ESCALATION_OPENED = "escalation_opened", "Manager: nobody fits a task"
    ESCALATION_DIGEST = "escalation_digest", "Manager: the sweep's escalations, grouped by cause"
    CHECKPOINT_NOT_STARTED = "checkpoint_not_started", "Manager: work not started after 48 h"
    CHECKPOINT_DUE_SOON = "checkpoint_due_soon", "Assignee: due in 3 days"
    CHECKPOINT_PAST_DUE = "checkpoint_past_due", "Partner: past due"
    CHECKPOINT_REVIEW_OVERDUE = "checkpoint_review_overdue", "Managing partner: review overdue"
    CHECKPOINT_DIGEST = "checkpoint_digest", "Checkpoints from one run, in one email"
    DOCUMENT_REQUEST = "document_request", "Client: please send your documents"
    DOCUMENT_REMINDER = "document_reminder", "Client: documents still outstanding"
    CLARIFICATION_REQUEST = "clarification_request", "Client: the reviewer asks to clarify"
    WEBHOOK_DISABLED = "webhook_disabled", "Owner: a webhook subscription was disabled"
    INVOICE_ISSUED = "invoice_issued", "Client: your invoice (PDF attached)"
    TIME_DRAFTS_REMINDER = "time_drafts_reminder", "Staff: draft time to approve this week"
    TIME_LEAKAGE_REMINDER = "time_leakage_reminder", "Staff: completed work with no time approved"
    FOLLOWUP_TOUCH = "followup_touch", "Client: payment follow-up (a touch of the sequence)"
    PAYMENT_RECEIVED = "payment_received", "Client: partial payment received, balance restated"
    BILLING_TASK_ASSIGNED = (
        "billing_task_assigned",
        "Billing coordinator: a call or dispute to handle",
    )
    WEEKLY_BILLING_REPORT = "weekly_billing_report", "Partners: the weekly leakage and aging report"


class WebhookEventType(models.TextChoices):
    """What outbound webhook subscriptions can receive."""

    ASSIGNMENT_CREATED = "assignment.created", "Assignment created"
    TASK_ACCEPTED = "task.accepted", "Task accepted"
    REASSIGNMENT_REQUESTED = "task.reassignment_requested", "Reassignment requested"
    ESCALATION_OPENED = "escalation.opened", "Escalation opened"
    MILESTONE_CHANGED = "engagement.milestone_changed", "Milestone changed"
    INVOICE_APPROVED = "invoice.approved", "Invoice approved"
    PAYMENT_RECEIVED = "payment.received", "Payment received"
    PAYMENT_PARTIAL = "payment.partial", "Payment partial (a balance remains)"
    INVOICE_SENT = "invoice.sent", "Invoice sent"
    INVOICE_DISPUTED = "invoice.disputed", "Invoice disputed"
    INSTALMENT_MISSED = "invoice.instalment_missed", "Plan instalment missed"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERING = "delivering", "Delivering"
    RETRYING = "retrying", "Failed, will retry"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
