from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from staff.choices import Role, Seniority
from staff.models import StaffMember
from staff.services import staff_member_sync_role, staff_members_sync_roles_bulk
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


# --- In bulk (seeding, imports) ---------------------------------------------------


def _unsynced(username: str, role: str, **fields: object) -> StaffMember:
    # Created directly, not through the factories: no group yet, and no password to hash.
    user = get_user_model().objects.create(username=username)
    return StaffMember.objects.create(user=user, role=role, seniority=Seniority.SENIOR, **fields)


def _groups(member: StaffMember) -> set[str]:
    return set(member.user.groups.values_list("name", flat=True))


def test_sync_roles_bulk_matches_the_single_member_service():
    roles = [Role.STAFF, Role.SENIOR, Role.MANAGER, Role.PARTNER, Role.ADMIN]
    one_by_one = [_unsynced(f"single-{role}", role) for role in roles]
    in_bulk = [_unsynced(f"bulk-{role}", role) for role in roles]
    for member in one_by_one:
        staff_member_sync_role(staff_member=member)

    staff_members_sync_roles_bulk(staff_members=in_bulk)

    for single, bulk in zip(one_by_one, in_bulk, strict=True):
        bulk.user.refresh_from_db()
        assert _groups(bulk) == _groups(single)
        assert bulk.user.is_staff == (bulk.role == Role.ADMIN)


def test_sync_roles_bulk_removes_groups_a_demoted_member_no_longer_has():
    member = _unsynced("demoted", Role.PARTNER)
    staff_member_sync_role(staff_member=member)
    member.role = Role.STAFF
    member.save()

    added = staff_members_sync_roles_bulk(staff_members=[member])

    assert added == 0
    assert _groups(member) == {"staff"}


def test_sync_roles_bulk_deactivates_users_of_inactive_members():
    member = _unsynced("leaver", Role.STAFF, active=False)

    staff_members_sync_roles_bulk(staff_members=[member])

    member.user.refresh_from_db()
    assert member.user.is_active is False


def test_sync_roles_bulk_leaves_other_groups_alone():
    member = _unsynced("volunteer", Role.STAFF)
    member.user.groups.add(Group.objects.create(name="fire wardens"))

    staff_members_sync_roles_bulk(staff_members=[member])

    assert _groups(member) == {"staff", "fire wardens"}


def test_sync_roles_bulk_query_count_does_not_grow_with_people(django_assert_max_num_queries):
    members = [_unsynced(f"person{n}", Role.MANAGER) for n in range(60)]

    with django_assert_max_num_queries(8):
        added = staff_members_sync_roles_bulk(staff_members=members)

    assert added == 120
