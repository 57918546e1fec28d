from django.db import models


class TriggerEvent(models.TextChoices):
    """What makes work of a type ready to dispatch (seeds: work type → trigger table)."""

    DOCUMENTS_COMPLETE = "documents_complete", "Client document upload complete"
    MONTHLY_CALENDAR = "monthly_calendar", "Calendar: 1st of month"
    HEADCOUNT_CHANGE = "headcount_change", "Client headcount change event"
    KICKOFF_SIGNED = "kickoff_signed", "Engagement kickoff signed"
    RECURRING_APPOINTMENT = "recurring_appointment", "Calendar: recurring appointment"
    ANNUAL_CALENDAR = "annual_calendar", "Calendar: annual date"
    ENGAGEMENT_CREATED = "engagement_created", "Engagement created"
    PRIOR_TASK_COMPLETED = "prior_task_completed", "Prior task completed"


class DeadlineBasis(models.TextChoices):
    STATUTORY_DATE = "statutory_date", "Statutory date"
    PERIOD_END = "period_end", "Period end"
    EVENT_DATE = "event_date", "Event date (payroll run, session)"
    ENGAGEMENT = "engagement", "Set per engagement"


class BufferUnit(models.TextChoices):
    BUSINESS_DAYS = "business_days", "Business days"
    CALENDAR_DAYS = "calendar_days", "Calendar days"
    HOURS = "hours", "Hours"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Complexity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Milestone(models.TextChoices):
    NEW = "new", "New"
    DOCUMENTS_REQUESTED = "documents_requested", "Documents requested"
    DOCUMENTS_RECEIVED = "documents_received", "Documents received"
    IN_PREPARATION = "in_preparation", "In preparation"
    PREPARATION_COMPLETE = "preparation_complete", "Preparation complete"
    IN_REVIEW = "in_review", "In review"
    REVIEW_COMPLETE = "review_complete", "Final review complete"
    INVOICED = "invoiced", "Invoiced"
    DELIVERED = "delivered", "Delivered"
    CLOSED = "closed", "Closed"


class EngagementSource(models.TextChoices):
    MANUAL = "manual", "Entered in Closeloop"
    RECURRING = "recurring", "Recurring schedule"
    DEMO = "demo", "Demo data"
    KARBON = "karbon", "Karbon"
    TAXDOME = "taxdome", "TaxDome"
    CANOPY = "canopy", "Canopy"
    FINANCIAL_CENTS = "financial_cents", "Financial Cents"
    API = "api", "REST API"


class TaskRole(models.TextChoices):
    PREPARER = "preparer", "Preparer"
    REVIEWER = "reviewer", "Reviewer"


class TaskStatus(models.TextChoices):
    UNASSIGNED = "unassigned", "Unassigned"
    ASSIGNED = "assigned", "Awaiting acceptance"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# Work someone holds: in their queue, counted in their capacity, watched by checkpoints.
HELD_TASK_STATUSES = (TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)

OPEN_TASK_STATUSES = (
    TaskStatus.UNASSIGNED,
    TaskStatus.ASSIGNED,
    TaskStatus.ACCEPTED,
    TaskStatus.IN_PROGRESS,
)


# The close dashboard's change stamp (core.ChangeStamp), bumped by the services that
# change what it shows.
CLOSE_STAMP = "close-dashboard"


class ReadyReason(models.TextChoices):
    """Why work became ready to dispatch (values shared with dispatch's triggers)."""

    ENGAGEMENT_CREATED = "engagement_created", "Engagement created"
    DOCUMENTS_RECEIVED = "documents_received", "Required documents all received"
    PRIOR_TASK_COMPLETED = "prior_task_completed", "Prior task completed"
