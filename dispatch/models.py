from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from dispatch.choices import Checkpoint, DecisionOutcome, EscalationStatus, Trigger

# A reason a person types (assigning by hand, asking off a task): a sentence or two;
# the forms that take one say the same (dispatch/forms.py).
REASON_MAX_LENGTH = 500

# A requested staffer the rule flagged, still waiting for a manager's yes or no.
AWAITING_CONFIRMATION = Q(outcome=DecisionOutcome.NEEDS_CONFIRMATION, confirmed_at__isnull=True)


class DecisionQuerySet(models.QuerySet["DispatchDecision"]):
    def awaiting_confirmation(self) -> DecisionQuerySet:
        return self.filter(AWAITING_CONFIRMATION)


class DispatchDecision(models.Model):
    """Every assignment decision, automated or manual, with what it saw and why."""

    task = models.ForeignKey(
        "engagements.Task", on_delete=models.CASCADE, related_name="dispatch_decisions"
    )
    trigger = models.CharField(max_length=24, choices=Trigger.choices)
    outcome = models.CharField(max_length=24, choices=DecisionOutcome.choices)
    assignee = models.ForeignKey(
        "staff.StaffMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dispatch_decisions",
        help_text="Who got the task (or, awaiting confirmation, who was proposed).",
    )
    reasons = models.JSONField(default=list)
    rule_path = models.JSONField(default=list)
    candidates = models.JSONField(
        default=list, help_text="The people the log lists: the top of the ranking first."
    )
    candidate_count = models.PositiveIntegerField(
        default=0, help_text="Everyone the rule looked at, listed or not."
    )
    rejections = models.JSONField(
        default=list, help_text="[reason, count] for the people not listed one by one."
    )
    duration_ms = models.FloatField(default=0)
    is_override = models.BooleanField(
        default=False, help_text="A manager's manual assignment, outside the rule."
    )
    urgent_override = models.BooleanField(default=False)
    requested_override = models.BooleanField(default=False)
    over_threshold = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True, max_length=REASON_MAX_LENGTH)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a manager confirmed or declined a requested staffer."
    )
    declined = models.BooleanField(default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["outcome", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(
                    outcome__in=[DecisionOutcome.ASSIGNED, DecisionOutcome.NEEDS_CONFIRMATION]
                )
                | Q(assignee__isnull=False),
                name="decision_assignment_names_assignee",
            ),
            models.CheckConstraint(
                condition=Q(is_override=False) | ~Q(override_reason=""),
                name="decision_override_has_reason",
                violation_error_message="A manual assignment needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        who = f" → {self.assignee}" if self.assignee_id else ""
        return (
            f"{self.get_outcome_display()}{who} ({self.get_trigger_display()}, task {self.task_id})"
        )

    @property
    def awaiting_confirmation(self) -> bool:
        return self.outcome == DecisionOutcome.NEEDS_CONFIRMATION and self.confirmed_at is None


class Escalation(models.Model):
    """A task nobody fits: open until a manager acts or a later dispatch places it."""

    task = models.ForeignKey(
        "engagements.Task", on_delete=models.CASCADE, related_name="escalations"
    )
    decision = models.ForeignKey(
        DispatchDecision, on_delete=models.CASCADE, related_name="escalations"
    )
    status = models.CharField(
        max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    summary = models.TextField()
    gap_hours = models.FloatField(null=True, blank=True)
    notified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When managers were told (at once, or in the sweep's digest).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True)
    client_informed_at = models.DateTimeField(null=True, blank=True)
    client_informed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(status=EscalationStatus.OPEN),
                name="escalation_one_open_per_task",
            ),
            models.CheckConstraint(
                condition=Q(status=EscalationStatus.OPEN) | Q(resolved_at__isnull=False),
                name="escalation_resolved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Escalation for task {self.task_id} ({self.get_status_display()})"


class CheckpointFiring(models.Model):
    """A status checkpoint that fired for a task: at most once per (task, checkpoint)."""

    task = models.ForeignKey(
        "engagements.Task", on_delete=models.CASCADE, related_name="checkpoint_firings"
    )
    checkpoint = models.CharField(max_length=20, choices=Checkpoint.choices)
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fired_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "checkpoint"], name="checkpoint_fires_once_per_task"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_checkpoint_display()} · task {self.task_id}"


class ReassignmentRequest(models.Model):
    """A staff member asked to be taken off a task: feedback on the decision that chose them."""

    task = models.ForeignKey(
        "engagements.Task", on_delete=models.CASCADE, related_name="reassignment_requests"
    )
    staff_member = models.ForeignKey(
        "staff.StaffMember", on_delete=models.CASCADE, related_name="reassignment_requests"
    )
    decision = models.ForeignKey(
        DispatchDecision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reassignment_requests",
    )
    reason = models.TextField(max_length=REASON_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "staff_member"], name="reassignment_once_per_task_and_person"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="reassignment_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_member} asked off task {self.task_id}"
