from __future__ import annotations

from datetime import date

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
