from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from phonenumber_field.modelfields import PhoneNumberField

from core.dates import validate_firm_date
from core.models import TimeStampedModel
from staff.choices import Role, Seniority, SkillCategory, SkillLevel, Weekday

# An hourly cost or bill rate a firm can mean (partners at large firms bill ~1,500).
HOURLY_RATE_VALIDATORS = [
    MinValueValidator(Decimal("0"), "A rate cannot be negative."),
    MaxValueValidator(Decimal("5000"), "A rate is at most 5,000 an hour."),
]

MONDAY_TO_FRIDAY = [0, 1, 2, 3, 4]


def default_working_days() -> list[int]:
    return list(MONDAY_TO_FRIDAY)


def validate_working_days(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(day, int) or day not in Weekday.values for day in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            "Working days must be a non-empty list of distinct weekdays (0 = Monday … 6 = Sunday)."
        )


class SkillTag(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=SkillCategory.choices)
    description = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class StaffMember(TimeStampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_member"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    seniority = models.PositiveSmallIntegerField(
        choices=Seniority.choices, default=Seniority.ASSOCIATE
    )
    title = models.CharField(max_length=120, blank=True)
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="direct_reports",
    )
    weekly_capacity_hours = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("40"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("80"))],
        help_text="Hours available in a normal week, before time off and holidays.",
    )
    working_days = models.JSONField(
        default=default_working_days,
        validators=[validate_working_days],
        help_text="Weekdays worked: 0 = Monday … 6 = Sunday.",
    )
    cost_rate = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("0"), validators=HOURLY_RATE_VALIDATORS
    )
    bill_rate = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("0"), validators=HOURLY_RATE_VALIDATORS
    )
    slack_member_id = models.CharField(max_length=32, blank=True)
    mobile = PhoneNumberField(blank=True)
    active = models.BooleanField(default=True)
    skills = models.ManyToManyField(SkillTag, through="StaffSkill", related_name="staff_members")
    # Moved by the database whenever the work this person holds changes (triggers on
    # tasks, engagements and work types, ``dispatch.triggers``), in the transaction that
    # changes it, and never backwards: dispatch keeps everyone's open work between
    # dispatches and reads again only the people whose number moved.
    open_work_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekly_capacity_hours__gte=0) & Q(weekly_capacity_hours__lte=80),
                name="staff_capacity_0_to_80_hours",
                violation_error_message="Weekly capacity must be between 0 and 80 hours.",
            ),
            models.CheckConstraint(
                condition=Q(cost_rate__gte=0) & Q(bill_rate__gte=0),
                name="staff_rates_not_negative",
                violation_error_message="Cost and bill rates cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(seniority__gte=1) & Q(seniority__lte=6),
                name="staff_seniority_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(manager=F("pk")),
                name="staff_not_own_manager",
                violation_error_message="A staff member cannot be their own manager.",
            ),
            models.UniqueConstraint(
                fields=["slack_member_id"],
                condition=~Q(slack_member_id=""),
                name="staff_unique_slack_member_id",
                violation_error_message="Another staff member already has this Slack member id.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_manager_or_above(self) -> bool:
        return self.role in {Role.MANAGER, Role.PARTNER, Role.ADMIN}


class StaffSkill(models.Model):
    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="staff_skills"
    )
    skill = models.ForeignKey(SkillTag, on_delete=models.PROTECT, related_name="staff_skills")
    level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, default=SkillLevel.PROFICIENT
    )
    certified_until = models.DateField(
        null=True,
        blank=True,
        validators=[validate_firm_date],
        help_text="Leave empty when the skill does not expire.",
    )

    class Meta:
        ordering = ["skill__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff_member", "skill"],
                name="staffskill_unique_per_staff",
                violation_error_message="This staff member already has this skill.",
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=5), name="staffskill_level_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_member} · {self.skill} (level {self.level})"


class TimeOff(models.Model):
    staff_member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    start_date = models.DateField(validators=[validate_firm_date])
    end_date = models.DateField(validators=[validate_firm_date])
    hours_per_day = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("8"),
        help_text="Hours away on each working day of the range (8 = a full day).",
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-start_date"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="timeoff_end_not_before_start",
                violation_error_message="Time off cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(hours_per_day__gt=0) & Q(hours_per_day__lte=24),
                name="timeoff_hours_per_day_1_to_24",
                violation_error_message="Hours per day must be more than 0 and at most 24.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.staff_member}: {self.start_date} – {self.end_date} ({self.hours_per_day} h/day)"
        )


DAY_HOURS_VALIDATORS = [
    MinValueValidator(Decimal("0"), "Hours on a day cannot be negative."),
    MaxValueValidator(Decimal("24"), "A day has at most 24 hours."),
]
DAY_HOUR_FIELDS = (
    "monday_hours",
    "tuesday_hours",
    "wednesday_hours",
    "thursday_hours",
    "friday_hours",
    "saturday_hours",
    "sunday_hours",
)


def _day_hours(label: str) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=4,
        decimal_places=2,
        default=Decimal("0"),
        validators=DAY_HOURS_VALIDATORS,
    )


class WorkingPattern(models.Model):
    """A person's hours per weekday (part time, 4 x 10 h, busy-season overtime) from
    ``starts_on`` through ``ends_on`` (either empty: without bound). Where none
    applies, their weekly capacity is spread evenly over their working days; where
    two overlap, the one starting later wins (the season over the usual week)."""

    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="working_patterns"
    )
    name = models.CharField(
        max_length=120, help_text="What this pattern is, e.g. “4 × 10 h” or “Busy season”."
    )
    starts_on = models.DateField(
        null=True,
        blank=True,
        validators=[validate_firm_date],
        help_text="Leave empty when it has always applied.",
    )
    ends_on = models.DateField(
        null=True,
        blank=True,
        validators=[validate_firm_date],
        help_text="Leave empty when it applies until changed.",
    )
    monday_hours = _day_hours("Monday")
    tuesday_hours = _day_hours("Tuesday")
    wednesday_hours = _day_hours("Wednesday")
    thursday_hours = _day_hours("Thursday")
    friday_hours = _day_hours("Friday")
    saturday_hours = _day_hours("Saturday")
    sunday_hours = _day_hours("Sunday")

    class Meta:
        ordering = ["staff_member", "starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="workingpattern_end_not_before_start",
                violation_error_message="A working pattern cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(
                    monday_hours__gte=0,
                    monday_hours__lte=24,
                    tuesday_hours__gte=0,
                    tuesday_hours__lte=24,
                    wednesday_hours__gte=0,
                    wednesday_hours__lte=24,
                    thursday_hours__gte=0,
                    thursday_hours__lte=24,
                    friday_hours__gte=0,
                    friday_hours__lte=24,
                    saturday_hours__gte=0,
                    saturday_hours__lte=24,
                    sunday_hours__gte=0,
                    sunday_hours__lte=24,
                ),
                name="workingpattern_day_hours_0_to_24",
                violation_error_message="Hours on a day are between 0 and 24.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_member}: {self.name} ({self.summary})"

    @property
    def day_hours(self) -> tuple[Decimal, ...]:
        return tuple(getattr(self, name) for name in DAY_HOUR_FIELDS)

    @property
    def weekly_hours(self) -> Decimal:
        return sum(self.day_hours, Decimal("0"))

    @property
    def summary(self) -> str:
        """The week in words: "Mon–Thu 10 h" style, one entry per weekday with hours."""
        labels = [label for _, label in Weekday.choices]
        worked = [
            f"{labels[k]} {hours.normalize():f} h"
            for k, hours in enumerate(self.day_hours)
            if hours
        ]
        return ", ".join(worked) or "no hours"

    def clean(self) -> None:
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "A working pattern cannot end before it starts."})
        if not any(self.day_hours):
            raise ValidationError("Give at least one day some hours (time off is entered apart).")
