"""The rate card resolver: every precedence step, and where each answer came from."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError

from billing.models import RateOverride
from billing.rates import money, rate_card_for, standard_rate
from clients.choices import BillingModel
from engagements.models import WorkType
from tests.factories import ClientFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def corporate():
    return WorkType.objects.get(code="1120")  # standard rate $225


def test_bill_rate_is_the_persons_rate_without_a_client_deal(corporate):
    client = ClientFactory()
    member = StaffMemberFactory(bill_rate=Decimal("180"))
    rate = rate_card_for(client).bill_rate(work_type=corporate, staff=member)
    assert rate.amount == Decimal("180")
    assert "bill rate" in rate.source


def test_bill_rate_falls_back_to_the_work_types_standard_rate(corporate):
    member = StaffMemberFactory(bill_rate=Decimal("0"))
    rate = rate_card_for(ClientFactory()).bill_rate(work_type=corporate, staff=member)
    assert rate.amount == Decimal("225")
    assert rate.source == "1120 corporate return standard rate"


def test_client_overrides_take_precedence_most_specific_first(corporate):
    client = ClientFactory()
    member = StaffMemberFactory(bill_rate=Decimal("180"))
    card = lambda: rate_card_for(client)  # noqa: E731
    RateOverride.objects.create(client=client, work_type=corporate, hourly_rate=Decimal("200"))
    assert card().bill_rate(work_type=corporate, staff=member).amount == Decimal("200")
    RateOverride.objects.create(client=client, staff_member=member, hourly_rate=Decimal("160"))
    assert card().bill_rate(work_type=corporate, staff=member).amount == Decimal("160")
    RateOverride.objects.create(
        client=client, work_type=corporate, staff_member=member, hourly_rate=Decimal("150")
    )
    rate = card().bill_rate(work_type=corporate, staff=member)
    assert rate.amount == Decimal("150")
    assert member.display_name in rate.source and "1120" in rate.source
    # Another client's deal never leaks in; the standard rate ignores every deal.
    assert rate_card_for(ClientFactory()).bill_rate(work_type=corporate, staff=member).amount == 180
    assert standard_rate(work_type=corporate, staff=member).amount == Decimal("180")


def test_pricing_fixed_fee_from_work_type_or_client(corporate):
    individual = WorkType.objects.get(code="1040")  # fixed fee $650
    client = ClientFactory()
    assert rate_card_for(client).pricing(individual).fixed_fee == Decimal("650")
    assert rate_card_for(client).pricing(corporate).is_fixed_fee is False
    RateOverride.objects.create(client=client, work_type=corporate, fixed_fee=Decimal("1800"))
    RateOverride.objects.create(client=client, work_type=individual, hourly_rate=Decimal("140"))
    card = rate_card_for(client)
    assert card.pricing(corporate).fixed_fee == Decimal("1800")
    assert card.pricing(individual).is_fixed_fee is False
    assert card.internal_only(corporate) is True
    assert card.internal_only(individual) is False


def test_retainer_clients_time_is_internal_only(corporate):
    client = ClientFactory(billing_model=BillingModel.RETAINER, retainer_amount=Decimal("900"))
    assert rate_card_for(client).internal_only(corporate) is True


@pytest.mark.parametrize(
    "fields",
    [
        {},  # no scope
        {"work_type": "wt"},  # no price
        {"work_type": "wt", "hourly_rate": Decimal("1"), "fixed_fee": Decimal("1")},
        {"staff_member": "sm", "fixed_fee": Decimal("100")},  # a fee is per work type
        {"work_type": "wt", "hourly_rate": Decimal("-5")},
    ],
)
def test_rate_override_constraints_refuse_nonsense(corporate, fields):
    resolved = {
        key: corporate if value == "wt" else StaffMemberFactory() if value == "sm" else value
        for key, value in fields.items()
    }
    with pytest.raises(IntegrityError):
        RateOverride.objects.create(client=ClientFactory(), **resolved)


def test_one_override_per_client_and_scope(corporate):
    client = ClientFactory()
    RateOverride.objects.create(client=client, work_type=corporate, hourly_rate=Decimal("1"))
    with pytest.raises(IntegrityError):
        RateOverride.objects.create(client=client, work_type=corporate, fixed_fee=Decimal("2"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.005", "1.01"), ("2.675", "2.68"), ("37.525", "37.53"), ("0.004", "0.00"), ("10", "10.00")],
)
def test_money_rounds_half_away_from_zero_to_the_cent(value, expected):
    assert money(Decimal(value)) == Decimal(expected)
