from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.dates import month_day_problem, validate_firm_date
from core.models import TimeStampedModel
from engagements.choices import (
    BufferUnit,
    Complexity,
    DeadlineBasis,
    EngagementSource,
    Milestone,
    Priority,
    TaskRole,
    TaskStatus,
    TriggerEvent,
)
from engagements.lifecycle import (
    MAX_ESTIMATE_HOURS,
    MIN_ESTIMATE_HOURS,
    AvailableActions,
    available_actions,
)
from engagements.rrules import rrule_problem
from staff.choices import Seniority, SkillLevel
from staff.models import HOURLY_RATE_VALIDATORS

# Every estimate in hours, wherever it is typed (page, admin, API), within one range.
ESTIMATE_HOURS_VALIDATORS = [
    MinValueValidator(MIN_ESTIMATE_HOURS, f"An estimate is at least {MIN_ESTIMATE_HOURS} hours."),
    MaxValueValidator(MAX_ESTIMATE_HOURS, f"An estimate is at most {MAX_ESTIMATE_HOURS:,} hours."),
]
# A note typed for a person to read (instructions, a reviewer's note, a description):
# a few paragraphs, which also fit a card and an email.
NOTE_MAX_LENGTH = 2000


def validate_rrule(value: str) -> None:
    """A recurrence rule a firm can mean, or the reason it is not, in words."""
    problem = rrule_problem(value, today=timezone.localdate())
    if problem:
        raise ValidationError(problem, code="rrule")


def validate_checklist(value: object) -> None:
    if not isinstance(value, list) or any(
        not isinstance(item, str) or not item.strip() for item in value
    ):
        raise ValidationError("The document checklist must be a list of document names.")
    if len({item.strip().lower() for item in value}) != len(value):
        raise ValidationError("The document checklist names a document twice.")


MILESTONE_ACTIONS = ("dispatch_preparer", "dispatch_reviewer", "invoice", "close")


def default_milestone_template() -> list[dict[str, str]]:
    """Steps for a work type nobody has described yet: the preparer is dispatched as
    the engagement opens, the reviewer when preparation is complete."""
    return [
        {"code": "opened", "label": "Opened", "on_enter": "dispatch_preparer"},
        {"code": "in_preparation", "label": "In preparation"},
        {
            "code": "preparation_complete",
            "label": "Preparation complete",
            "on_enter": "dispatch_reviewer",
        },
        {"code": "in_review", "label": "In review"},
        {"code": "review_complete", "label": "Review complete"},
        {"code": "closed", "label": "Closed"},
    ]


def validate_milestone_template(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("The milestone template must be a list of steps.")
    if not value:
        raise ValidationError("A work type needs at least one milestone step.")
    codes = []
    for step in value:
        if not isinstance(step, dict) or not step.get("code") or not step.get("label"):
            raise ValidationError("Every milestone step needs a code and a label.")
        if step.get("on_enter") not in (None, "", *MILESTONE_ACTIONS):
            raise ValidationError(
                f"Unknown on_enter action {step['on_enter']!r}; use one of {', '.join(MILESTONE_ACTIONS)}."
            )
        codes.append(step["code"])
    if len(set(codes)) != len(codes):
        raise ValidationError("A milestone code appears twice in the template.")
    if Milestone.NEW in codes:
        raise ValidationError('"new" is the state before the first step; do not list it.')
    if not any(step.get("on_enter") == "dispatch_preparer" for step in value):
        raise ValidationError(
            "One step must dispatch the preparer (on_enter: dispatch_preparer), "
            "or the work is never assigned."
        )


class WorkType(TimeStampedModel):
    """A kind of work and the rules that drive it — data the admin edits, not code."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    required_skills = models.ManyToManyField(
        "staff.SkillTag", through="WorkTypeSkill", related_name="work_types", blank=True
    )
    default_estimated_hours = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, validators=ESTIMATE_HOURS_VALIDATORS
    )
    # When a manager last took the estimate that logged time suggested ("use this"):
    # only tasks created since were estimated from the current default.
    default_estimate_calibrated_at = models.DateTimeField(null=True, blank=True, editable=False)
    complexity_weight = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[
            MinValueValidator(Decimal("0.1"), "A complexity weight is at least 0.1."),
            MaxValueValidator(
                Decimal("5"), "A complexity weight is at most 5 (five times the hours)."
            ),
        ],
        help_text="Multiplies committed hours in the capacity model (1.00 = plain hours).",
    )
    min_seniority = models.PositiveSmallIntegerField(
        choices=Seniority.choices,
        null=True,
        blank=True,
        help_text="Seniority guardrail for high-complexity work of this type.",
    )
    trigger_event = models.CharField(max_length=32, choices=TriggerEvent.choices)
    qualifying_condition = models.CharField(max_length=200, blank=True)
    deadline_basis = models.CharField(max_length=20, choices=DeadlineBasis.choices)
    statutory_month = models.PositiveSmallIntegerField(null=True, blank=True)
    statutory_day = models.PositiveSmallIntegerField(null=True, blank=True)
    period_end_offset_business_days = models.PositiveSmallIntegerField(
        default=0, help_text="For period-end deadlines: business days after the period ends."
    )
    deadline_buffer = models.PositiveSmallIntegerField(
        default=0, help_text="Internal deadline this far before the basis date."
    )
    deadline_buffer_unit = models.CharField(
        max_length=16, choices=BufferUnit.choices, default=BufferUnit.BUSINESS_DAYS
    )
    recurrence_rule = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_rrule],
        help_text="RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYMONTHDAY=1. Empty for one-off work.",
    )
    reviewer_required = models.BooleanField(default=True)
    reviewer_min_seniority = models.PositiveSmallIntegerField(
        choices=Seniority.choices, null=True, blank=True
    )
    preparer_max_seniority = models.PositiveSmallIntegerField(
        choices=Seniority.choices,
        null=True,
        blank=True,
        help_text=(
            "Nobody more senior prepares this work (partners do not prepare bookkeeping): "
            "when only they have room the task escalates. A client's requested staffer is "
            "the exception."
        ),
    )
    reviewer_max_seniority = models.PositiveSmallIntegerField(
        choices=Seniority.choices,
        null=True,
        blank=True,
        help_text="Nobody more senior reviews this work (empty: no ceiling).",
    )
    standard_rate = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=HOURLY_RATE_VALIDATORS,
        help_text="Hourly rate.",
    )
    fixed_fee = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0"), "A fee cannot be negative."),
            MaxValueValidator(Decimal("10000000"), "A fixed fee is at most 10,000,000."),
        ],
    )
    document_checklist = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_checklist],
        help_text="Documents the client must send, one name per item.",
    )
    milestone_template = models.JSONField(
        default=default_milestone_template,
        validators=[validate_milestone_template],
        help_text=(
            'Ordered steps: [{"code": "documents_received", "label": "Documents received", '
            '"on_enter": "dispatch_preparer"}, ...]. on_enter is one of dispatch_preparer, '
            "dispatch_reviewer, invoice, close."
        ),
    )
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    suppressed_in_december = models.BooleanField(
        default=False, help_text="Hold from auto-assignment in December (low-priority work)."
    )
    active = models.BooleanField(default=True)
    # What one client upload link takes in a day (a rolling 24 hours): enough for a
    # shoebox of scans, not for a script filling the disk.
    upload_files_per_day = models.PositiveSmallIntegerField(
        default=100,
        validators=[
            MinValueValidator(1, "A link takes at least 1 file a day."),
            MaxValueValidator(1000, "A link takes at most 1,000 files a day."),
        ],
        help_text="Files one client upload link takes in 24 hours.",
    )
    upload_megabytes_per_day = models.PositiveIntegerField(
        default=500,
        validators=[
            MinValueValidator(1, "A link takes at least 1 MB a day."),
            MaxValueValidator(20000, "A link takes at most 20,000 MB a day."),
        ],
        help_text="Megabytes one client upload link takes in 24 hours.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(complexity_weight__gt=0),
                name="worktype_complexity_weight_positive",
                violation_error_message="Complexity weight must be greater than zero.",
            ),
            models.CheckConstraint(
                condition=Q(default_estimated_hours__isnull=True)
                | Q(default_estimated_hours__gt=0),
                name="worktype_default_hours_positive",
                violation_error_message="A default estimate must be more than zero hours.",
            ),
            models.CheckConstraint(
                condition=~Q(deadline_basis=DeadlineBasis.STATUTORY_DATE)
                | (
                    Q(statutory_month__isnull=False, statutory_day__isnull=False)
                    & Q(statutory_month__gte=1)
                    & Q(statutory_month__lte=12)
                    & Q(statutory_day__gte=1)
                    & Q(statutory_day__lte=31)
                ),
                name="worktype_statutory_date_complete",
                violation_error_message="A statutory deadline needs a month (1–12) and a day (1–31).",
            ),
            models.CheckConstraint(
                condition=Q(reviewer_required=False) | Q(reviewer_min_seniority__isnull=False),
                name="worktype_reviewer_seniority_when_required",
                violation_error_message="Set the reviewer's minimum seniority when a review is required.",
            ),
            models.CheckConstraint(
                condition=Q(reviewer_max_seniority__isnull=True)
                | Q(reviewer_min_seniority__isnull=True)
                | Q(reviewer_max_seniority__gte=F("reviewer_min_seniority")),
                name="worktype_reviewer_seniority_range",
                violation_error_message="The reviewer's maximum seniority is below the minimum.",
            ),
            models.CheckConstraint(
                condition=Q(preparer_max_seniority__isnull=True)
                | Q(min_seniority__isnull=True)
                | Q(preparer_max_seniority__gte=F("min_seniority")),
                name="worktype_preparer_seniority_range",
                violation_error_message="The preparer's maximum seniority is below the minimum.",
            ),
            models.CheckConstraint(
                condition=Q(standard_rate__isnull=True) | Q(fixed_fee__isnull=True),
                name="worktype_rate_or_fee_not_both",
                violation_error_message="Price a work type by hourly rate or by fixed fee, not both.",
            ),
            models.CheckConstraint(
                condition=(Q(standard_rate__isnull=True) | Q(standard_rate__gte=0))
                & (Q(fixed_fee__isnull=True) | Q(fixed_fee__gte=0)),
                name="worktype_prices_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A statutory deadline that falls every year: no February 30 (nor 29)."""
        if self.statutory_month and self.statutory_day:
            problem = month_day_problem(self.statutory_month, self.statutory_day, leap_day=False)
            if problem:
                raise ValidationError({"statutory_day": problem})


class WorkTypeSkill(models.Model):
    work_type = models.ForeignKey(WorkType, on_delete=models.CASCADE, related_name="skill_rules")
    skill = models.ForeignKey("staff.SkillTag", on_delete=models.PROTECT)
    min_level = models.PositiveSmallIntegerField(
        choices=SkillLevel.choices, default=SkillLevel.WORKING
    )

    class Meta:
        ordering = ["skill__name"]
        verbose_name = "required skill"
        constraints = [
            models.UniqueConstraint(
                fields=["work_type", "skill"],
                name="worktypeskill_unique",
                violation_error_message="This skill is already required by the work type.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_type}: {self.skill} ≥ {self.min_level}"


class Engagement(TimeStampedModel):
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="engagements"
    )
    work_type = models.ForeignKey(WorkType, on_delete=models.PROTECT, related_name="engagements")
    name = models.CharField(max_length=200, blank=True)
    period_start = models.DateField(null=True, blank=True, validators=[validate_firm_date])
    period_end = models.DateField(null=True, blank=True, validators=[validate_firm_date])
    milestone = models.CharField(
        max_length=32,
        default=Milestone.NEW,
        help_text="A step of the work type's milestone template (moved by the state machine).",
    )
    due_date = models.DateField(validators=[validate_firm_date])
    estimated_hours = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=ESTIMATE_HOURS_VALIDATORS
    )
    complexity = models.CharField(
        max_length=8, choices=Complexity.choices, default=Complexity.MEDIUM
    )
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    requested_staff = models.ForeignKey(
        "staff.StaffMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_engagements",
        help_text="A staff member the client asked for on this engagement.",
    )
    special_instructions = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    source = models.CharField(
        max_length=20, choices=EngagementSource.choices, default=EngagementSource.MANUAL
    )
    external_id = models.CharField(max_length=128, blank=True)
    submission_token = models.UUIDField(
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text=(
            "The new-engagement form that opened it: the same form sent again (a double "
            "click, back and resubmit) finds this engagement instead of opening another."
        ),
    )

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="engagement_external_id_unique_per_source",
                violation_error_message="An engagement with this id from that source already exists.",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=F("period_start")),
                name="engagement_period_ordered",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(estimated_hours__isnull=True) | Q(estimated_hours__gt=0),
                name="engagement_estimate_positive",
                violation_error_message="An estimate must be more than zero hours.",
            ),
        ]
        indexes = [
            models.Index(fields=["milestone", "due_date"]),
            models.Index(fields=["period_end"]),
        ]

    @property
    def milestone_label(self) -> str:
        """The current step's label from the work type's template (the one labeller,
        ``engagements.milestones.step_label``, that every page uses)."""
        from engagements.milestones import step_label, template_for  # milestones imports models

        return step_label(template_for(self.work_type), self.milestone)

    def __str__(self) -> str:
        label = self.name or self.work_type.name
        period = f" {self.period_end:%b %Y}" if self.period_end else ""
        return f"{self.client} · {label}{period}"


class EngagementMilestone(models.Model):
    """When an engagement reached each milestone (one timestamp per milestone)."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="milestone_times"
    )
    milestone = models.CharField(max_length=32)
    reached_at = models.DateTimeField()

    class Meta:
        ordering = ["reached_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "milestone"],
                name="engagement_milestone_reached_once",
                violation_error_message="This engagement already has a time for that milestone.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone} at {self.reached_at:%Y-%m-%d %H:%M}"


class Task(TimeStampedModel):
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="tasks")
    role = models.CharField(max_length=10, choices=TaskRole.choices, default=TaskRole.PREPARER)
    title = models.CharField(max_length=200, blank=True)
    assignee = models.ForeignKey(
        "staff.StaffMember",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    estimated_hours = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=ESTIMATE_HOURS_VALIDATORS
    )
    # Hours recorded against the task (draft or approved time entries), kept by the
    # billing service that writes them; capacity counts the estimate less these.
    logged_hours = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("0"), editable=False
    )
    status = models.CharField(
        max_length=12, choices=TaskStatus.choices, default=TaskStatus.UNASSIGNED
    )
    due_date = models.DateField(validators=[validate_firm_date])
    threshold_override_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="A manager's capacity threshold for this task only (resolving an escalation).",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the task's trigger fired (documents in, the prior task done).",
    )
    # The dispatch outbox: set with the change that makes a dispatch due, cleared by
    # the dispatch that decides it; a beat job re-queues what the broker lost.
    dispatch_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    dispatch_trigger = models.CharField(max_length=24, blank=True, editable=False)

    class Meta:
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "role", "title"],
                name="task_unique_role_title_per_engagement",
                violation_error_message="This engagement already has that task.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[TaskStatus.UNASSIGNED, TaskStatus.CANCELLED])
                | Q(assignee__isnull=False),
                name="task_assigned_statuses_need_assignee",
                violation_error_message="An assigned, accepted, started or completed task needs an assignee.",
            ),
            models.CheckConstraint(
                condition=~Q(status=TaskStatus.COMPLETED) | Q(completed_at__isnull=False),
                name="task_completed_has_timestamp",
                violation_error_message="A completed task needs its completion time.",
            ),
            models.CheckConstraint(
                condition=Q(estimated_hours__isnull=True) | Q(estimated_hours__gt=0),
                name="task_estimate_positive",
                violation_error_message="An estimate must be more than zero hours.",
            ),
            models.CheckConstraint(
                condition=Q(logged_hours__gte=0), name="task_logged_hours_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["status", "due_date"]),
            models.Index(
                fields=["dispatch_requested_at"],
                condition=Q(dispatch_requested_at__isnull=False),
                name="task_dispatch_pending",
            ),
        ]

    def __str__(self) -> str:
        label = self.title or self.get_role_display()
        return f"{label} — {self.engagement}"

    def actions_for(self, *, staff_id: int | None, is_manager: bool) -> AvailableActions:
        """What this person may do with the task now (see engagements.lifecycle)."""
        return available_actions(
            status=self.status,
            is_assignee=staff_id is not None and staff_id == self.assignee_id,
            is_manager=is_manager,
        )

    @property
    def assignee_actions(self) -> AvailableActions:
        """The assignee's buttons (their own queue)."""
        return self.actions_for(staff_id=self.assignee_id, is_manager=False)


class RequiredDocument(models.Model):
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="required_documents"
    )
    name = models.CharField(max_length=200)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "name"],
                name="requireddocument_unique_per_engagement",
                violation_error_message="This document is already on the engagement's checklist.",
            ),
        ]

    def __str__(self) -> str:
        state = "received" if self.received_at else "outstanding"
        return f"{self.name} ({state})"


class MilestoneSource(models.TextChoices):
    BUTTON = "button", "Button"
    WEBHOOK = "webhook", "Webhook"
    BEAT = "beat", "Scheduled job"
    SYSTEM = "system", "System"


class MilestoneTransition(models.Model):
    """Every milestone move: who, when, from, to and through which door."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="transitions")
    from_milestone = models.CharField(max_length=32)
    to_milestone = models.CharField(max_length=32)
    source = models.CharField(max_length=10, choices=MilestoneSource.choices)
    actor = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["engagement", "at"])]

    def __str__(self) -> str:
        return f"{self.engagement_id}: {self.from_milestone} → {self.to_milestone}"


class ReviewException(models.Model):
    """A discrepancy the reviewer found: logged, shown, and sent to the client to clarify."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="exceptions")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(max_length=NOTE_MAX_LENGTH)
    raised_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="reviewexception_has_note"),
        ]

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return f"Exception on {self.engagement} ({state})"


class RecurringPlan(models.Model):
    """A client's standing order for recurring work of one type (monthly bookkeeping, 1099s, ...)."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="recurring_plans"
    )
    work_type = models.ForeignKey(
        WorkType, on_delete=models.PROTECT, related_name="recurring_plans"
    )
    starts_on = models.DateField(validators=[validate_firm_date])
    ends_on = models.DateField(null=True, blank=True, validators=[validate_firm_date])
    event_rule = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_rrule],
        help_text="For event-dated work (payroll runs, sessions): an RRULE for the event dates.",
    )
    estimated_hours = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True, validators=ESTIMATE_HOURS_VALIDATORS
    )
    requested_staff = models.ForeignKey(
        "staff.StaffMember", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["client__name", "work_type__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "work_type"],
                name="recurringplan_one_per_client_and_type",
                violation_error_message="This client already has a plan for that work type.",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="recurringplan_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.work_type}"


class DocumentUpload(models.Model):
    """A file a client sent through their upload link, stored under a safe name."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="uploads")
    required_document = models.ForeignKey(
        RequiredDocument, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )
    file = models.FileField(upload_to="uploads/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.size} bytes)"
