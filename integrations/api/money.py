"""Billing over the API: time entries, invoices (approve) and payments.

The rules are the pages' (``billing.views_time``, ``billing.views_invoices``), through
the same services:

| resource | read | write |
| time entries | your own; managers and partners all | create and approve your own (staff) |
| invoices | managers and partners | approve: partners (numbered, issued, emailed) |
| payments | managers and partners | record: partners (``payment_record``, as the page's form) |
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from billing import invoices, payments
from billing import services as time_services
from billing.choices import InvoiceStatus, PaymentMethod, TimeEntryStatus
from billing.models import (
    MAX_ENTRY_HOURS,
    MIN_ENTRY_HOURS,
    Invoice,
    InvoiceLine,
    Payment,
    TimeEntry,
)
from billing.selectors import recent_clients_for, recent_engagements_for
from clients.models import Client
from core.dates import validate_firm_date
from core.roles import is_partner
from engagements.models import Engagement, Task
from engagements.selectors import task_list_for_user
from integrations.api.base import ViewSet
from integrations.api.serializers import EmptySerializer

# --- Serializers -----------------------------------------------------------------------


class TimeEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = TimeEntry
        fields = [
            "id",
            "staff_member",
            "client",
            "engagement",
            "task",
            "work_type",
            "date",
            "hours",
            "description",
            "source",
            "external_id",
            "status",
            "internal_only",
            "invoice",
            "approved_at",
            "created_at",
            "updated_at",
        ]


class TimeEntryCreateSerializer(serializers.Serializer):
    """Your own time: on one of your tasks, or an engagement or client you worked for
    lately (the page's choices); a draft you approve later."""

    task = serializers.PrimaryKeyRelatedField(
        queryset=Task.objects.none(), required=False, allow_null=True, default=None
    )
    engagement = serializers.PrimaryKeyRelatedField(
        queryset=Engagement.objects.none(), required=False, allow_null=True, default=None
    )
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.none(), required=False, allow_null=True, default=None
    )
    date = serializers.DateField(validators=[validate_firm_date])
    hours = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=MIN_ENTRY_HOURS, max_value=MAX_ENTRY_HOURS
    )
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        member = self.context.get("staff")
        if request is None or member is None:
            return
        today = timezone.localdate()
        fields: Any = self.fields
        fields["task"].queryset = task_list_for_user(user=request.user).filter(assignee=member)
        fields["engagement"].queryset = recent_engagements_for(staff=member, today=today)
        fields["client"].queryset = recent_clients_for(staff=member, today=today)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("task") or attrs.get("engagement") or attrs.get("client")):
            raise serializers.ValidationError(
                {"task": "Say what the time was for: a task, an engagement or a client."}
            )
        return attrs


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["id", "kind", "description", "quantity", "unit_price", "amount", "position"]


class InvoiceSerializer(serializers.ModelSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    balance = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "client",
            "engagement",
            "origin",
            "status",
            "period",
            "issued_on",
            "due_on",
            "terms_days",
            "total",
            "amount_paid",
            "balance",
            "disputed_amount",
            "hours",
            "approved_at",
            "sent_at",
            "payment_url",
            "lines",
            "created_at",
            "updated_at",
        ]


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "amount",
            "received_on",
            "method",
            "source",
            "external_id",
            "status",
            "note",
            "applied_at",
            "created_at",
        ]


class PaymentCreateSerializer(serializers.Serializer):
    """A payment recorded by hand, as on the invoice page (a draft's is held until approval)."""

    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.all())
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=payments.MAX_PAYMENT
    )
    received_on = serializers.DateField(validators=[validate_firm_date])
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="", help_text="Check number."
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# --- Filters -----------------------------------------------------------------------------


class TimeEntryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TimeEntryStatus.choices)
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = TimeEntry
        fields = ["status", "staff_member", "client", "engagement", "task"]


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InvoiceStatus.choices)
    number = django_filters.CharFilter(max_length=32)
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = Invoice
        fields = ["status", "client", "engagement", "number"]


# --- Views --------------------------------------------------------------------------------


def _require_partner(request: Request) -> None:
    if not is_partner(request.user):
        raise PermissionDenied("Only partners approve invoices and record payments.")


@extend_schema_view(
    list=extend_schema(summary="List time entries", tags=["billing"]),
    retrieve=extend_schema(summary="A time entry", tags=["billing"]),
)
class TimeEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """Time entries: staff see and approve their own; managers and partners see all."""

    serializer_class = TimeEntrySerializer
    queryset = TimeEntry.objects.none()  # per request: get_queryset
    filterset_class = TimeEntryFilter
    ordering_fields = ["id", "date", "created_at"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Any]:
        entries = TimeEntry.objects.all()
        if self.is_manager():
            return entries
        member = self.me()
        return entries.filter(staff_member=member) if member else entries.none()

    @extend_schema(
        summary="Record your time (a draft)",
        request=TimeEntryCreateSerializer,
        responses={201: TimeEntrySerializer},
        tags=["billing"],
    )
    def create(self, request: Request) -> Response:
        member = self.require_me()
        serializer = TimeEntryCreateSerializer(
            data=request.data, context={"request": request, "staff": member}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        engagement = data["engagement"]
        entry = time_services.time_entry_create(
            staff=member,
            client=engagement.client if engagement is not None else data["client"],
            engagement=engagement,
            task=data["task"],
            day=data["date"],
            hours=data["hours"],
            description=data["description"],
        )
        return Response(TimeEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve your draft for billing",
        request=EmptySerializer,
        responses={200: TimeEntrySerializer},
        tags=["billing"],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        entry = self.get_object()
        entry = time_services.time_entry_approve(entry_id=entry.pk, staff=self.require_me())
        return Response(TimeEntrySerializer(entry).data)


@extend_schema_view(
    list=extend_schema(summary="List invoices (managers)", tags=["billing"]),
    retrieve=extend_schema(summary="An invoice with its lines (managers)", tags=["billing"]),
)
class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """Invoices: managers and partners read them; partners approve drafts."""

    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.none()  # per request: get_queryset
    filterset_class = InvoiceFilter
    ordering_fields = ["id", "due_on", "issued_on", "created_at"]
    ordering = ["id"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.is_manager():
            raise PermissionDenied("Invoices are for managers and partners.")

    def get_queryset(self) -> QuerySet[Any]:
        return Invoice.objects.prefetch_related("lines")

    @extend_schema(
        summary="Approve a draft (partners): numbered, issued and sent to the client",
        description="Approving an issued invoice again changes nothing (200).",
        request=EmptySerializer,
        responses={200: InvoiceSerializer},
        tags=["billing"],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        invoice = self.get_object()
        _require_partner(request)
        invoices.invoice_approve(invoice_id=invoice.pk, user=request.user)
        return Response(InvoiceSerializer(self.get_queryset().get(pk=invoice.pk)).data)


@extend_schema_view(
    list=extend_schema(summary="List payments (managers)", tags=["billing"]),
    retrieve=extend_schema(summary="A payment (managers)", tags=["billing"]),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """Payments: managers and partners read them; partners record them by hand."""

    serializer_class = PaymentSerializer
    queryset = Payment.objects.all()
    filterset_fields = ["invoice", "source", "status", "method"]
    ordering_fields = ["id", "received_on", "created_at"]
    ordering = ["id"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.is_manager():
            raise PermissionDenied("Payments are for managers and partners.")

    @extend_schema(
        summary="Record a payment (partners)",
        description=(
            "Through the same service as the invoice page: more than is owed, or on a void "
            "invoice, is refused with the reason; on a draft it is held until approval."
        ),
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer},
        tags=["billing"],
    )
    def create(self, request: Request) -> Response:
        _require_partner(request)
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        note = " · ".join(
            x for x in (f"Ref {data['reference']}" if data["reference"] else "", data["note"]) if x
        )
        recorded = payments.payment_record(
            invoice_id=data["invoice"].pk,
            amount=data["amount"],
            received_on=data["received_on"],
            method=data["method"],
            note=note,
            user=request.user,
        )
        return Response(PaymentSerializer(recorded.payment).data, status=status.HTTP_201_CREATED)
