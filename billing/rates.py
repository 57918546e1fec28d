"""The rate card, read in one place: what an hour of someone's work costs a client, and
whether a client's work of a type is billed by the hour or for a fixed fee.

Precedence (the first that applies wins; every answer says where it came from):

| question | 1 | 2 | 3 | 4 | 5 |
| bill rate (what the invoice charges an hour) | client rate for this person on this work type | client rate for this person | client rate for this work type | the person's bill rate | the work type's standard rate |
| standard rate (what realization compares against) | the person's bill rate | the work type's standard rate | | | |
| pricing of a client's work type | the client's fixed fee or hourly rate for it | the work type's fixed fee | hourly | | |

A person's bill rate of 0 means "not set". A client on a monthly retainer has its
engagements' time recorded internal-only: the retainer pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billing.models import RateOverride
from clients.choices import BillingModel
from clients.models import Client
from engagements.models import WorkType
from staff.models import StaffMember

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(value: Decimal) -> Decimal:
    """Round to the cent, halves away from zero (as PostgreSQL's ``round`` does)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rate:
    amount: Decimal
    source: str  # in words, for the invoice draft's explanation


@dataclass(frozen=True)
class Pricing:
    fixed_fee: Decimal | None
    source: str

    @property
    def is_fixed_fee(self) -> bool:
        return self.fixed_fee is not None


class RateCard:
    """One client's rate card: loaded with one query, then answered in Python."""

    def __init__(self, client: Client, overrides: list[RateOverride]) -> None:
        self.client = client
        self._by_scope = {(o.work_type_id, o.staff_member_id): o for o in overrides}

    def _hourly(self, work_type_id: int | None, staff_id: int | None) -> Decimal | None:
        override = self._by_scope.get((work_type_id, staff_id))
        return override.hourly_rate if override is not None else None

    def pricing(self, work_type: WorkType) -> Pricing:
        override = self._by_scope.get((work_type.pk, None))
        if override is not None and override.fixed_fee is not None:
            return Pricing(
                override.fixed_fee, f"{self.client.name}'s fixed fee for {work_type.name}"
            )
        if override is not None:
            return Pricing(None, f"{self.client.name}'s hourly rate for {work_type.name}")
        if work_type.fixed_fee is not None:
            return Pricing(work_type.fixed_fee, f"{work_type.name} fixed fee")
        return Pricing(None, f"{work_type.name} is billed by the hour")

    def internal_only(self, work_type: WorkType | None) -> bool:
        """Time that is recorded but never billed by the hour (fixed fee, retainer)."""
        if self.client.billing_model == BillingModel.RETAINER:
            return True
        return work_type is not None and self.pricing(work_type).is_fixed_fee

    def bill_rate(self, *, work_type: WorkType | None, staff: StaffMember) -> Rate:
        wt_id = work_type.pk if work_type is not None else None
        name = staff.display_name
        if wt_id is not None:
            amount = self._hourly(wt_id, staff.pk)
            if amount is not None:
                return Rate(amount, f"{self.client.name}'s rate for {name} on {work_type.name}")  # type: ignore[union-attr]
        amount = self._hourly(None, staff.pk)
        if amount is not None:
            return Rate(amount, f"{self.client.name}'s rate for {name}")
        if wt_id is not None:
            amount = self._hourly(wt_id, None)
            if amount is not None:
                return Rate(amount, f"{self.client.name}'s rate for {work_type.name}")  # type: ignore[union-attr]
        return standard_rate(work_type=work_type, staff=staff)


def standard_rate(*, work_type: WorkType | None, staff: StaffMember) -> Rate:
    """The firm's list price for an hour of this person's work, before any client's deal."""
    if staff.bill_rate and staff.bill_rate > 0:
        return Rate(staff.bill_rate, f"{staff.display_name}'s bill rate")
    if work_type is not None and work_type.standard_rate is not None:
        return Rate(work_type.standard_rate, f"{work_type.name} standard rate")
    return Rate(ZERO, "no rate on the card")


def rate_card_for(client: Client) -> RateCard:
    """The client's rate card (one query)."""
    return RateCard(client, list(RateOverride.objects.filter(client=client)))
