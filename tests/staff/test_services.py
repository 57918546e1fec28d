from __future__ import annotations

import pytest

from staff.choices import Role
from staff.services import staff_member_sync_role
from tests.factories import StaffMemberFactory

pytestmark = pytest.mark.django_db


def groups_of(member) -> set[str]:
    return set(member.user.groups.values_list("name", flat=True))


def test_role_groups_follow_role_changes():
    member = StaffMemberFactory(role=Role.PARTNER)
    assert groups_of(member) == {"staff", "manager", "partner"}

    member.role = Role.STAFF
    member.save()
    staff_member_sync_role(staff_member=member)

    assert groups_of(member) == {"staff"}


def test_admin_role_grants_admin_site_access():
    member = StaffMemberFactory(role=Role.ADMIN)

    assert member.user.is_staff
    assert member.user.has_perm("engagements.change_worktype")


def test_staff_role_can_view_but_not_edit_clients():
    member = StaffMemberFactory(role=Role.STAFF)

    assert member.user.has_perm("clients.view_client")
    assert not member.user.has_perm("clients.change_client")
    assert not member.user.is_staff


def test_deactivating_a_staff_member_blocks_login():
    member = StaffMemberFactory()
    member.active = False
    member.save()

    staff_member_sync_role(staff_member=member)

    member.user.refresh_from_db()
    assert not member.user.is_active
