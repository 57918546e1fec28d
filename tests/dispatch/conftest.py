from __future__ import annotations

from decimal import Decimal

import pytest

from staff.choices import Role, Seniority
from staff.models import SkillTag, StaffSkill
from tests.factories import ClientFactory, StaffMemberFactory, UserFactory

# Monday 2026-11-23: a plain week apart from Thanksgiving on Thursday.
TODAY_ISO = "2026-11-23"


@pytest.fixture
def skilled(db):
    """Make a staff member holding the given skill slugs at a level."""

    def make(name: str, *slugs: str, level: int = 3, seniority: int = Seniority.ASSOCIATE, **kw):
        member = StaffMemberFactory(
            user=UserFactory(username=name, first_name=name.title(), last_name="Test"),
            seniority=seniority,
            role=kw.pop("role", Role.STAFF),
            **kw,
        )
        for slug in slugs:
            StaffSkill.objects.create(
                staff_member=member, skill=SkillTag.objects.get(slug=slug), level=level
            )
        return member

    return make


@pytest.fixture
def client_co(db):
    return ClientFactory(name="Harbor Point Dental")


def hours(value: str | int | float) -> Decimal:
    return Decimal(str(value))
