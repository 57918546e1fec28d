from django.db import models


class Trigger(models.TextChoices):
    ENGAGEMENT_CREATED = "engagement_created", "Engagement created"
    DOCUMENTS_RECEIVED = "documents_received", "Required documents all received"
    PRIOR_TASK_COMPLETED = "prior_task_completed", "Prior task completed"
    DEADLINE_PROXIMITY = "deadline_proximity", "Deadline approaching (sweep)"
    ESTIMATE_SUPPLIED = "estimate_supplied", "Estimate supplied"
    SEASON_ENDED = "season_ended", "Suppression season ended"
    HOLD_RELEASED = "hold_released", "Client's account hold released"
    MANUAL = "manual", "Manual assignment"
    CONFIRMATION = "confirmation", "Manager confirmed requested staffer"
    REASSIGNMENT = "reassignment", "Reassignment requested"
    ESCALATION_ACTION = "escalation_action", "Manager acted on an escalation"
    PLAN = "plan", "Plan the week (applied by a manager)"
    REBALANCE = "rebalance", "Rebalancing (approved by a manager)"


class DecisionOutcome(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    ESCALATED = "escalated", "Escalated"
    HELD_MISSING_ESTIMATE = "held_missing_estimate", "Held: estimate needed"
    NEEDS_CONFIRMATION = "needs_confirmation", "Waiting for manager confirmation"
    SUPPRESSED = "suppressed", "Held for the season"
    HELD_ACCOUNT_HOLD = "held_account_hold", "Held: client on account hold"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Checkpoint(models.TextChoices):
    NOT_STARTED_48H = "not_started_48h", "Not started 48 hours after assignment"
    DUE_IN_3_DAYS = "due_in_3_days", "Due date minus 3 days"
    PAST_DUE = "past_due", "Past due with no completion"
    REVIEW_OVERDUE = "review_overdue", "Review not done 2 business days after assignment"
