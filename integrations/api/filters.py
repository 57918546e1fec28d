"""Query filters per resource (django-filter); a value that cannot be read is a 400."""

from __future__ import annotations

import django_filters

from clients.models import Client
from dispatch.choices import EscalationStatus
from dispatch.models import Escalation
from engagements.choices import EngagementSource, TaskRole, TaskStatus
from engagements.models import Engagement, Task
from staff.choices import Role
from staff.models import StaffMember


class ClientFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", max_length=200)
    external_source = django_filters.CharFilter(field_name="external_ids__source", max_length=20)
    external_id = django_filters.CharFilter(field_name="external_ids__external_id", max_length=128)

    class Meta:
        model = Client
        fields = ["name", "entity_type", "value_tier", "billing_model", "account_hold"]


class StaffFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = StaffMember
        fields = ["role", "seniority", "active", "manager"]


class EngagementFilter(django_filters.FilterSet):
    source = django_filters.ChoiceFilter(choices=EngagementSource.choices)
    external_id = django_filters.CharFilter(max_length=128)
    milestone = django_filters.CharFilter(max_length=32)
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Engagement
        fields = ["client", "work_type", "milestone", "source", "external_id", "priority"]


class TaskFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices)
    role = django_filters.ChoiceFilter(choices=TaskRole.choices)
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Task
        fields = ["status", "role", "engagement", "assignee"]


class EscalationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EscalationStatus.choices)

    class Meta:
        model = Escalation
        fields = ["status", "task"]
