"""The invariants hold in the database itself, not only in forms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from clients.choices import BillingModel
from engagements.choices import TaskStatus
from engagements.models import Engagement, WorkType
from tests.factories import (
    ClientFactory,
    EngagementFactory,
    RequiredDocumentFactory,
    StaffMemberFactory,
    StaffSkillFactory,
    TaskFactory,
    TimeOffFactory,
)

pytestmark = pytest.mark.django_db


def assert_rejected(factory, **kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**kwargs)


def test_client_retainer_needs_amount_and_others_take_none():
    assert_rejected(ClientFactory, billing_model=BillingModel.RETAINER, retainer_amount=None)
    assert_rejected(
        ClientFactory, billing_model=BillingModel.HOURLY, retainer_amount=Decimal("500")
    )
    assert ClientFactory(billing_model=BillingModel.RETAINER, retainer_amount=Decimal("900"))


def test_staff_capacity_and_rates_are_bounded():
    assert_rejected(StaffMemberFactory, weekly_capacity_hours=Decimal("90"))
    assert_rejected(StaffMemberFactory, bill_rate=Decimal("-1"))


def test_staff_skill_is_unique_per_staff_member():
    skill = StaffSkillFactory()

    assert_rejected(StaffSkillFactory, staff_member=skill.staff_member, skill=skill.skill)


def test_time_off_cannot_end_before_it_starts():
    assert_rejected(TimeOffFactory, start_date=date(2026, 12, 5), end_date=date(2026, 12, 1))


def test_task_in_assigned_status_needs_an_assignee():
    assert_rejected(TaskFactory, status=TaskStatus.ASSIGNED, assignee=None)


def test_completed_task_needs_completion_time():
    assert_rejected(TaskFactory, status=TaskStatus.COMPLETED, assignee=StaffMemberFactory())


def test_engagement_external_id_unique_per_source_but_blank_allowed_many_times():
    EngagementFactory(source="karbon", external_id="WI-1")
    EngagementFactory(source="karbon", external_id="")
    EngagementFactory(source="karbon", external_id="")
    EngagementFactory(source="taxdome", external_id="WI-1")

    assert_rejected(EngagementFactory, source="karbon", external_id="WI-1")
    assert Engagement.objects.count() == 4


def test_required_document_unique_per_engagement():
    document = RequiredDocumentFactory()

    assert_rejected(RequiredDocumentFactory, engagement=document.engagement, name=document.name)


def test_work_type_cannot_have_both_rate_and_fixed_fee():
    work_type = WorkType.objects.get(code="1040")
    work_type.standard_rate = Decimal("100")

    with pytest.raises(IntegrityError), transaction.atomic():
        work_type.save()


def test_seeded_work_types_cover_the_seed_table():
    codes = set(WorkType.objects.values_list("code", flat=True))

    assert codes >= {
        "1040",
        "1120",
        "monthly_bookkeeping",
        "payroll",
        "audit",
        "cfo_advisory",
        "1099",
        "month_end_close",
    }
    assert (
        WorkType.objects.get(code="1040")
        .required_skills.filter(slug="individual_tax_certified")
        .exists()
    )
