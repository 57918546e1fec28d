from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from staff.choices import ROLE_GROUPS, Role
from staff.models import StaffMember

ALL_ROLE_GROUPS = ("staff", "manager", "partner", "admin")


@transaction.atomic
def staff_member_sync_role(*, staff_member: StaffMember) -> None:
    """Make the user's auth groups and admin access follow their role.

    Called whenever a role changes (admin form, seed, import) so permissions
    never drift from what the staff page says.
    """
    user = staff_member.user
    wanted = set(ROLE_GROUPS[Role(staff_member.role)])
    groups = {group.name: group for group in Group.objects.filter(name__in=ALL_ROLE_GROUPS)}
    missing = wanted - groups.keys()
    if missing:
        raise RuntimeError(f"Role groups missing (run migrations): {sorted(missing)}")
    current = set(user.groups.filter(name__in=ALL_ROLE_GROUPS).values_list("name", flat=True))
    if current - wanted:
        user.groups.remove(*(groups[name] for name in current - wanted))
    if wanted - current:
        user.groups.add(*(groups[name] for name in wanted - current))
    is_admin = staff_member.role == Role.ADMIN
    if user.is_staff != is_admin and not user.is_superuser:
        user.is_staff = is_admin
        user.save(update_fields=["is_staff"])
    if not staff_member.active and user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif staff_member.active and not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
