"""REST API resources. Each action calls the same service as the page's button.

Who sees what is decided by the selectors the pages use (staff: their own tasks
and the engagements and clients those belong to; managers and partners: all),
so an object outside a caller's reach is a 404, not a 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from clients.models import Client
from core.roles import is_manager, is_partner
from dispatch import lifecycle
from dispatch import services as dispatch_services
from dispatch.models import Escalation
from dispatch.selectors import escalation_list_for_user
from engagements import milestones
from engagements import services as engagement_services
from engagements.choices import EngagementSource
from engagements.models import Engagement, MilestoneSource, Task, WorkType
from engagements.selectors import (
    client_list_for_user,
    engagement_list_for_user,
    task_list_for_user,
)
from integrations.api import filters
from integrations.api import serializers as s
from integrations.api.base import ReadOnlyViewSet, ViewSet
from notifications import webhooks
from notifications.choices import DeliveryStatus
from notifications.models import WebhookDelivery, WebhookSubscription
from staff.models import SkillTag, StaffMember


@extend_schema_view(
    list=extend_schema(summary="List clients", tags=["clients"]),
    retrieve=extend_schema(summary="A client", tags=["clients"]),
)
class ClientViewSet(ReadOnlyViewSet):
    """Clients: staff see the clients of their own tasks; managers and partners see all."""

    serializer_class = s.ClientSerializer
    queryset = Client.objects.none()  # per request: get_queryset
    filterset_class = filters.ClientFilter
    ordering_fields = ["id", "name", "created_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Any]:
        return client_list_for_user(user=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List staff", tags=["staff"]),
    retrieve=extend_schema(summary="A staff member", tags=["staff"]),
)
class StaffViewSet(ReadOnlyViewSet):
    """The firm's people, their roles and skills (no rates)."""

    serializer_class = s.StaffSerializer
    filterset_class = filters.StaffFilter
    ordering_fields = ["id", "seniority", "created_at"]
    ordering = ["id"]
    queryset = StaffMember.objects.select_related("user").prefetch_related("staff_skills__skill")


@extend_schema_view(
    list=extend_schema(summary="List skills", tags=["reference"]),
    retrieve=extend_schema(summary="A skill", tags=["reference"]),
)
class SkillViewSet(ReadOnlyViewSet):
    serializer_class = s.SkillSerializer
    filterset_fields = ["category", "slug"]
    ordering_fields = ["id", "slug", "name"]
    ordering = ["id"]
    queryset = SkillTag.objects.all()


@extend_schema_view(
    list=extend_schema(summary="List work types", tags=["reference"]),
    retrieve=extend_schema(summary="A work type and its milestones", tags=["reference"]),
)
class WorkTypeViewSet(ReadOnlyViewSet):
    serializer_class = s.WorkTypeSerializer
    filterset_fields = ["code", "active"]
    ordering_fields = ["id", "code", "name"]
    ordering = ["id"]
    queryset = WorkType.objects.all()


@extend_schema_view(
    list=extend_schema(summary="List engagements", tags=["engagements"]),
    retrieve=extend_schema(summary="An engagement", tags=["engagements"]),
)
class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """Engagements: staff see those they hold a task on; managers open them and move milestones."""

    serializer_class = s.EngagementSerializer
    queryset = Engagement.objects.none()  # per request: get_queryset
    filterset_class = filters.EngagementFilter
    ordering_fields = ["id", "due_date", "created_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Any]:
        return engagement_list_for_user(user=self.request.user).select_related("work_type")

    @extend_schema(
        summary="Open an engagement",
        description=(
            "Opens it through the same service as the page: its tasks are created and the "
            "first one dispatched. Managers and partners only. Sending an external_id already "
            "used returns the existing engagement (200) instead of opening a second."
        ),
        request=s.EngagementCreateSerializer,
        responses={201: s.EngagementSerializer, 200: s.EngagementSerializer},
        tags=["engagements"],
    )
    def create(self, request: Request) -> Response:
        self.require_manager()
        if not request.user.has_perm("engagements.add_engagement"):
            self.permission_denied(request, "You may not open engagements.")
        data = self.validated(s.EngagementCreateSerializer, request)
        existing = bool(
            data["external_id"]
            and Engagement.objects.filter(
                source=EngagementSource.API, external_id=data["external_id"]
            ).exists()
        )
        engagement = engagement_services.engagement_create(**data, source=EngagementSource.API)
        engagement = self.get_queryset().get(pk=engagement.pk)
        return Response(
            s.EngagementSerializer(engagement).data,
            status=status.HTTP_200_OK if existing else status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Move to the next milestone",
        description="One step forward at a time, as the page's button does. Managers only.",
        request=s.TransitionSerializer,
        responses={200: s.EngagementSerializer},
        tags=["engagements"],
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        engagement = self.get_object()
        self.require_manager()
        data = self.validated(s.TransitionSerializer, request)
        milestones.engagement_transition(
            engagement_id=engagement.pk,
            to=data["to"],
            source=MilestoneSource.BUTTON,
            actor=request.user,
            note=data["note"],
        )
        return Response(s.EngagementSerializer(self.get_queryset().get(pk=engagement.pk)).data)

    def validated(self, serializer_class: type[BaseSerializer[Any]], request: Request) -> Any:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary="List tasks", tags=["tasks"]),
    retrieve=extend_schema(summary="A task", tags=["tasks"]),
)
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """Tasks: staff see and act on their own; the actions follow ``engagements.lifecycle``."""

    serializer_class = s.TaskSerializer
    queryset = Task.objects.none()  # per request: get_queryset
    filterset_class = filters.TaskFilter
    ordering_fields = ["id", "due_date", "created_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Any]:
        return task_list_for_user(user=self.request.user)

    def _answer(self, task_id: int) -> Response:
        return Response(s.TaskSerializer(Task.objects.get(pk=task_id)).data)

    @extend_schema(
        summary="Accept the task (its assignee)",
        request=s.EmptySerializer,
        responses={200: s.TaskSerializer},
        tags=["tasks"],
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        lifecycle.task_accept(task_id=task.pk, staff=self.require_me())
        return self._answer(task.pk)

    @extend_schema(
        summary="Start the task (its assignee)",
        request=s.EmptySerializer,
        responses={200: s.TaskSerializer},
        tags=["tasks"],
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        lifecycle.task_start(task_id=task.pk, staff=self.require_me())
        return self._answer(task.pk)

    @extend_schema(
        summary="Complete the task (its assignee or a manager)",
        request=s.EmptySerializer,
        responses={200: s.TaskSerializer},
        tags=["tasks"],
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        lifecycle.task_complete(
            task_id=task.pk, staff=self.me(), is_manager=is_manager(request.user)
        )
        return self._answer(task.pk)

    @extend_schema(
        summary="Request reassignment (its assignee)",
        description="Hands the task back with a reason; it is dispatched again without you.",
        request=s.ReassignmentSerializer,
        responses={200: s.TaskSerializer},
        tags=["tasks"],
    )
    @action(detail=True, methods=["post"], url_path="request-reassignment")
    def request_reassignment(self, request: Request, pk: str | None = None) -> Response:
        task = self.get_object()
        serializer = s.ReassignmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lifecycle.task_hand_back(
            task_id=task.pk, staff=self.require_me(), reason=serializer.validated_data["reason"]
        )
        return self._answer(task.pk)


@extend_schema_view(
    list=extend_schema(summary="List escalations (managers)", tags=["escalations"]),
    retrieve=extend_schema(summary="An escalation (managers)", tags=["escalations"]),
)
class EscalationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """Tasks nobody fits, and the manager's ways to resolve them (as on the page)."""

    serializer_class = s.EscalationSerializer
    queryset = Escalation.objects.none()  # per request: get_queryset
    filterset_class = filters.EscalationFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require_manager()

    def get_queryset(self) -> QuerySet[Any]:
        return escalation_list_for_user(user=self.request.user)

    def _answer(self, escalation_id: int) -> Response:
        return Response(s.EscalationSerializer(self.get_queryset().get(pk=escalation_id)).data)

    def _data(self, serializer_class: type[BaseSerializer[Any]]) -> Any:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Assign one of the qualified people listed",
        request=s.EscalationAssignSerializer,
        responses={200: s.EscalationSerializer},
        tags=["escalations"],
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        escalation: Escalation = self.get_object()
        data = self._data(s.EscalationAssignSerializer)
        dispatch_services.escalation_assign(
            escalation_id=escalation.pk,
            staff_id=data["staff_id"],
            reason=data["reason"],
            actor=request.user,
        )
        return self._answer(escalation.pk)

    @extend_schema(
        summary="Raise the capacity threshold for this task and dispatch again",
        request=s.EscalationThresholdSerializer,
        responses={200: s.EscalationSerializer},
        tags=["escalations"],
    )
    @action(detail=True, methods=["post"], url_path="raise-threshold")
    def raise_threshold(self, request: Request, pk: str | None = None) -> Response:
        escalation: Escalation = self.get_object()
        data = self._data(s.EscalationThresholdSerializer)
        dispatch_services.escalation_raise_threshold(
            escalation_id=escalation.pk,
            threshold_percent=data["threshold_percent"],
            actor=request.user,
        )
        return self._answer(escalation.pk)

    @extend_schema(
        summary="Move the internal deadline later and dispatch again",
        request=s.EscalationDeadlineSerializer,
        responses={200: s.EscalationSerializer},
        tags=["escalations"],
    )
    @action(detail=True, methods=["post"], url_path="extend-deadline")
    def extend_deadline(self, request: Request, pk: str | None = None) -> Response:
        escalation: Escalation = self.get_object()
        data = self._data(s.EscalationDeadlineSerializer)
        dispatch_services.escalation_extend_deadline(
            escalation_id=escalation.pk, due_date=data["due_date"], actor=request.user
        )
        return self._answer(escalation.pk)

    @extend_schema(
        summary="Record that the client was informed",
        request=s.EmptySerializer,
        responses={200: s.EscalationSerializer},
        tags=["escalations"],
    )
    @action(detail=True, methods=["post"], url_path="client-informed")
    def client_informed(self, request: Request, pk: str | None = None) -> Response:
        escalation: Escalation = self.get_object()
        dispatch_services.escalation_mark_client_informed(
            escalation_id=escalation.pk, actor=request.user
        )
        return self._answer(escalation.pk)


@extend_schema_view(
    list=extend_schema(summary="List webhook subscriptions (partners)", tags=["webhooks"]),
    retrieve=extend_schema(summary="A webhook subscription (partners)", tags=["webhooks"]),
    partial_update=extend_schema(
        summary="Change a subscription (a new URL is checked; active=true re-enables it)",
        tags=["webhooks"],
    ),
    destroy=extend_schema(summary="Delete a subscription", tags=["webhooks"]),
)
class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ViewSet,
):
    """Outbound webhooks (Standard Webhooks signatures): partners and admins manage them."""

    serializer_class = s.WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.all()
    filterset_fields = ["active"]
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not is_partner(request.user):
            self.permission_denied(request, "Only partners and admins manage webhooks.")

    def _refuse_url(self, exc: Exception) -> None:
        raise ValidationError({"url": [str(exc)]})

    @extend_schema(
        summary="Subscribe an endpoint (the secret is shown once)",
        request=s.WebhookSubscriptionSerializer,
        responses={201: s.WebhookSubscriptionSecretSerializer},
        tags=["webhooks"],
    )
    def create(self, request: Request) -> Response:
        serializer = s.WebhookSubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            subscription = webhooks.webhook_subscription_create(
                name=data["name"],
                url=data["url"],
                event_types=data["event_types"],
                owner=request.user,
            )
        except webhooks.AddressRefused as exc:
            self._refuse_url(exc)
        return Response(
            s.WebhookSubscriptionSecretSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        serializer = s.WebhookSubscriptionSerializer(subscription, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            subscription = webhooks.webhook_subscription_update(
                subscription_id=subscription.pk, **serializer.validated_data
            )
        except webhooks.AddressRefused as exc:
            self._refuse_url(exc)
        return Response(s.WebhookSubscriptionSerializer(subscription).data)

    @extend_schema(
        summary="Rotate the secret (the old one keeps signing beside it for 24 hours)",
        request=s.EmptySerializer,
        responses={200: s.WebhookSubscriptionSecretSerializer},
        tags=["webhooks"],
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        subscription = webhooks.webhook_subscription_rotate_secret(
            subscription_id=self.get_object().pk
        )
        return Response(s.WebhookSubscriptionSecretSerializer(subscription).data)

    @extend_schema(
        summary="Deliver again every event since a time (re-enables the subscription)",
        request=s.ReplaySerializer,
        responses={200: s.ReplayResultSerializer},
        tags=["webhooks"],
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        serializer = s.ReplaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        queued = webhooks.webhook_subscription_replay_since(
            subscription_id=subscription.pk, since=serializer.validated_data["since"]
        )
        return Response({"queued": queued})

    @extend_schema(
        summary="Events not (yet) delivered to this subscription, oldest first",
        responses={200: s.UndeliveredSerializer(many=True)},
        tags=["webhooks"],
    )
    @action(detail=True, methods=["get"], filterset_fields=[], ordering_fields=["id"])
    def undelivered(self, request: Request, pk: str | None = None) -> Response:
        subscription = self.get_object()
        queryset = (
            WebhookDelivery.objects.filter(subscription=subscription)
            .exclude(status=DeliveryStatus.DELIVERED)
            .select_related("event")
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.UndeliveredSerializer(page, many=True).data)
