from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from capacity.policy import season_applies
from core.dates import month_day_problem


class CapacityRule(models.Model):
    """A threshold season the admin edits: when it applies, to whom, and how full is full.

    Several rules can apply on one day; a person's threshold is the highest of the
    rules that apply to them (a surge tier raises it for tax-trained staff), and a
    rule with ``suppress_flagged_work_types`` holds work types marked
    "suppressed in December" from auto-assignment while it is in force.
    """

    name = models.CharField(max_length=120, unique=True)
    start_month = models.PositiveSmallIntegerField(default=1)
    start_day = models.PositiveSmallIntegerField(default=1)
    end_month = models.PositiveSmallIntegerField(default=12)
    end_day = models.PositiveSmallIntegerField(default=31)
    threshold_percent = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Utilization above which staff are skipped for new work (e.g. 80).",
    )
    reviewer_threshold_percent = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="The (lower) threshold for reviewers drawn from the senior pool.",
    )
    skills = models.ManyToManyField(
        "staff.SkillTag",
        blank=True,
        help_text="Applies only to staff holding any of these skills; empty = everyone.",
    )
    suppress_flagged_work_types = models.BooleanField(
        default=False,
        help_text="Hold work types marked 'suppressed in December' from auto-assignment.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["start_month", "start_day", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    start_month__gte=1, start_month__lte=12, end_month__gte=1, end_month__lte=12
                )
                & Q(start_day__gte=1, start_day__lte=31, end_day__gte=1, end_day__lte=31),
                name="capacityrule_dates_valid",
                violation_error_message="Months run 1–12 and days 1–31.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(threshold_percent__isnull=True)
                    | Q(threshold_percent__gt=0, threshold_percent__lte=200)
                )
                & (
                    Q(reviewer_threshold_percent__isnull=True)
                    | Q(reviewer_threshold_percent__gt=0, reviewer_threshold_percent__lte=200)
                ),
                name="capacityrule_thresholds_in_range",
                violation_error_message="Thresholds are percentages between 0 and 200.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_month}/{self.start_day}–{self.end_month}/{self.end_day})"

    def clean(self) -> None:
        """Both ends of the season are days that exist (a season may end on February 29)."""
        problems = {
            field: problem
            for field, month, day in (
                ("start_day", self.start_month, self.start_day),
                ("end_day", self.end_month, self.end_day),
            )
            if month is not None
            and day is not None
            and (problem := month_day_problem(month, day, leap_day=True))
        }
        if problems:
            raise ValidationError(problems)

    def applies_on(self, day: date) -> bool:
        return season_applies(
            (self.start_month, self.start_day), (self.end_month, self.end_day), day
        )


class ScenarioKind(models.TextChoices):
    WEEK_PLAN = "week_plan", "Plan the week"
    REBALANCE = "rebalance", "Rebalancing"


class ScenarioStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPLIED = "applied", "Applied"
    DISCARDED = "discarded", "Discarded"


class MoveStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a manager"
    APPLIED = "applied", "Applied"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired (the situation changed)"
    SKIPPED = "skipped", "Skipped when applying"


class PlanScenario(models.Model):
    """A proposed plan, saved and shared: what the planner proposed, its cost and bound,
    and each person's utilization before and after (``figures``). Anyone with a
    manager's or partner's role can open it, compare it with the live plan and apply it.

    ``figures``: ``{"people": [{"staff_id", "name", "before", "after", "threshold"}],
    "skipped": [[task id, reason]], "weights": {...}}``.
    """

    kind = models.CharField(max_length=16, choices=ScenarioKind.choices)
    status = models.CharField(
        max_length=12, choices=ScenarioStatus.choices, default=ScenarioStatus.PROPOSED
    )
    title = models.CharField(max_length=200)
    planned_for = models.DateField(help_text="The day the plan was made for.")
    objective = models.FloatField(default=0)
    bound = models.FloatField(null=True, blank=True, help_text="The proven lower bound.")
    greedy_objective = models.FloatField(
        null=True, blank=True, help_text="The engine one task at a time, on the same data."
    )
    solver_status = models.CharField(max_length=12, blank=True)
    solve_seconds = models.FloatField(default=0)
    figures = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class PlanMove(models.Model):
    """One line of a scenario: a task to (re)assign, why, and at what cost, in words.

    ``expected_assignee``/``expected_status``: the task as the planner saw it; a task
    that no longer matches is skipped (a plan) or expires (a proposal). At most one
    pending rebalancing proposal per task (the unique constraint): the loop running
    twice proposes nothing twice.
    """

    scenario = models.ForeignKey(PlanScenario, on_delete=models.CASCADE, related_name="moves")
    kind = models.CharField(max_length=16, choices=ScenarioKind.choices)
    task = models.ForeignKey(
        "engagements.Task", on_delete=models.CASCADE, related_name="plan_moves"
    )
    from_staff = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_staff = models.ForeignKey("staff.StaffMember", on_delete=models.CASCADE, related_name="+")
    expected_status = models.CharField(max_length=12)
    status = models.CharField(max_length=10, choices=MoveStatus.choices, default=MoveStatus.PENDING)
    reason = models.CharField(max_length=300, help_text="Why the move is proposed.")
    summary = models.CharField(
        max_length=500, help_text="The move and its cost in words, as the manager reads it."
    )
    cost = models.FloatField(default=0)
    outcome = models.CharField(max_length=300, blank=True, help_text="Why skipped or expired.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scenario_id", "id"]
        indexes = [models.Index(fields=["kind", "status", "task"])]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(kind="rebalance", status="pending"),
                name="planmove_one_pending_proposal_per_task",
                violation_error_message="This task already has a pending rebalancing proposal.",
            ),
            models.CheckConstraint(
                condition=~Q(from_staff=models.F("to_staff")),
                name="planmove_moves_somewhere",
            ),
        ]

    def __str__(self) -> str:
        return self.summary
