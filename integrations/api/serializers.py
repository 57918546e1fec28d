"""Input and output serializers of the REST API. Rules stay in the services they call."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clients.models import Client, ClientExternalId
from core.dates import validate_firm_date
from dispatch.models import Escalation
from engagements.choices import Complexity, Priority
from engagements.forms import deadline_input_problem
from engagements.lifecycle import MAX_ESTIMATE_HOURS
from engagements.models import Engagement, Task, WorkType
from notifications.choices import WebhookEventType
from notifications.models import WebhookDelivery, WebhookSubscription
from staff.models import SkillTag, StaffMember, StaffSkill

TEXT_MAX = 500
NOTE_MAX = 300


class ErrorDetailSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one error shape (see ``integrations.api.errors``)."""

    type = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    errors = ErrorDetailSerializer(many=True, required=False)


# --- Reference data ------------------------------------------------------------


class SkillSerializer(serializers.ModelSerializer):
    class Meta:
        model = SkillTag
        fields = ["id", "slug", "name", "category", "description"]


class StaffSkillSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(source="skill.slug")
    name = serializers.CharField(source="skill.name")

    class Meta:
        model = StaffSkill
        fields = ["slug", "name", "level", "certified_until"]


class StaffSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    email = serializers.EmailField(source="user.email")
    skills = StaffSkillSerializer(source="staff_skills", many=True)

    class Meta:
        model = StaffMember
        fields = [
            "id",
            "name",
            "email",
            "role",
            "seniority",
            "title",
            "manager",
            "weekly_capacity_hours",
            "active",
            "skills",
        ]


class MilestoneStepSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    on_enter = serializers.CharField(allow_null=True)


class WorkTypeSerializer(serializers.ModelSerializer):
    milestones = serializers.SerializerMethodField()

    class Meta:
        model = WorkType
        fields = [
            "id",
            "code",
            "name",
            "description",
            "trigger_event",
            "deadline_basis",
            "reviewer_required",
            "default_estimated_hours",
            "priority",
            "document_checklist",
            "milestones",
            "active",
        ]

    @extend_schema_field(MilestoneStepSerializer(many=True))
    def get_milestones(self, work_type: WorkType) -> list[dict[str, Any]]:
        return [
            {"code": s["code"], "label": s["label"], "on_enter": s.get("on_enter") or None}
            for s in work_type.milestone_template
        ]


class ExternalIdSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClientExternalId
        fields = ["source", "external_id"]


class ClientSerializer(serializers.ModelSerializer):
    external_ids = ExternalIdSerializer(many=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "entity_type",
            "value_tier",
            "billing_model",
            "contact_name",
            "email",
            "relationship_partner",
            "preferred_staff",
            "account_hold",
            "external_ids",
            "created_at",
            "updated_at",
        ]


# --- Engagements and tasks --------------------------------------------------------


class EngagementSerializer(serializers.ModelSerializer):
    milestone_label = serializers.CharField(read_only=True)

    class Meta:
        model = Engagement
        fields = [
            "id",
            "client",
            "work_type",
            "name",
            "period_start",
            "period_end",
            "milestone",
            "milestone_label",
            "due_date",
            "estimated_hours",
            "complexity",
            "priority",
            "requested_staff",
            "special_instructions",
            "source",
            "external_id",
            "created_at",
            "updated_at",
        ]


class EngagementCreateSerializer(serializers.Serializer):
    """A new engagement, opened through the same service as the page (source "api")."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.all())
    work_type = serializers.PrimaryKeyRelatedField(queryset=WorkType.objects.filter(active=True))
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    period_start = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_firm_date]
    )
    period_end = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_firm_date]
    )
    event_date = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_firm_date]
    )
    due_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        validators=[validate_firm_date],
        help_text="Empty: the work type's deadline rule.",
    )
    estimated_hours = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0.25"),
        max_value=MAX_ESTIMATE_HOURS,
        required=False,
        allow_null=True,
        default=None,
    )
    complexity = serializers.ChoiceField(
        choices=Complexity.choices, required=False, default=Complexity.MEDIUM
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, allow_null=True, default=None
    )
    requested_staff = serializers.PrimaryKeyRelatedField(
        queryset=StaffMember.objects.filter(active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    special_instructions = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )
    external_id = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        help_text="Your id for it: sending the same id again returns the same engagement.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if (
            data["period_start"]
            and data["period_end"]
            and data["period_end"] < data["period_start"]
        ):
            raise serializers.ValidationError(
                {"period_end": "The period cannot end before it starts."}
            )
        problem = deadline_input_problem(
            work_type=data["work_type"],
            due_date=data["due_date"],
            period_end=data["period_end"],
            event_date=data["event_date"],
        )
        if problem:
            raise serializers.ValidationError({problem[0]: problem[1]})
        return data


class TransitionSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=40, help_text="The next milestone code.")
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class TaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = [
            "id",
            "engagement",
            "role",
            "title",
            "status",
            "assignee",
            "estimated_hours",
            "due_date",
            "assigned_at",
            "accepted_at",
            "started_at",
            "completed_at",
            "created_at",
            "updated_at",
        ]


class ReassignmentSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=TEXT_MAX, help_text="Why you need the task reassigned (goes in the log)."
    )


# --- Escalations ------------------------------------------------------------------------


class CandidateSerializer(serializers.Serializer):
    staff_id = serializers.IntegerField()
    name = serializers.CharField()
    qualified = serializers.BooleanField()
    utilization = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField()
    reason = serializers.CharField(allow_blank=True, allow_null=True)


class EscalationSerializer(serializers.ModelSerializer):
    candidates = serializers.SerializerMethodField()

    class Meta:
        model = Escalation
        fields = [
            "id",
            "task",
            "status",
            "summary",
            "gap_hours",
            "created_at",
            "resolved_at",
            "resolution",
            "client_informed_at",
            "candidates",
        ]

    @extend_schema_field(CandidateSerializer(many=True))
    def get_candidates(self, escalation: Escalation) -> list[dict[str, Any]]:
        return [
            {
                "staff_id": row.get("staff_id"),
                "name": row.get("name", ""),
                "qualified": bool(row.get("qualified")),
                "utilization": row.get("utilization"),
                "threshold": row.get("threshold", 0),
                "reason": str(row.get("reason") or ""),
            }
            for row in escalation.decision.candidates
        ]


class EscalationAssignSerializer(serializers.Serializer):
    staff_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    reason = serializers.CharField(max_length=TEXT_MAX)


class EscalationThresholdSerializer(serializers.Serializer):
    threshold_percent = serializers.IntegerField(min_value=1, max_value=150)


class EscalationDeadlineSerializer(serializers.Serializer):
    due_date = serializers.DateField(validators=[validate_firm_date])


class EmptySerializer(serializers.Serializer):
    """No body needed."""


# --- Outbound webhook subscriptions ----------------------------------------------------


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices),
        min_length=1,
        max_length=len(WebhookEventType.choices),
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "url",
            "event_types",
            "active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "created_at",
        ]
        read_only_fields = ["disabled_at", "disabled_reason", "failing_since", "created_at"]


class WebhookSubscriptionSecretSerializer(WebhookSubscriptionSerializer):
    """Returned once, on create and on rotation: the signing secret (``whsec_…``)."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class ReplaySerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Deliver again every event from this time on.")

    def validate_since(self, value: Any) -> Any:
        validate_firm_date(value.date())
        return value


class ReplayResultSerializer(serializers.Serializer):
    queued = serializers.IntegerField()


class UndeliveredSerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.message_id")
    event_type = serializers.CharField(source="event.event_type")
    sequence = serializers.IntegerField(source="event.sequence")
    payload = serializers.JSONField(source="event.payload")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "sequence",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "payload",
            "created_at",
        ]
