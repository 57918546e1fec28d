from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.roles import is_manager, is_partner
from core.types import User
from staff.models import StaffMember


def staff_member_for_user(*, user: User | AbstractBaseUser | AnonymousUser) -> StaffMember | None:
    if not user.is_authenticated:
        return None
    return (
        StaffMember.objects.select_related("user", "manager__user").filter(user_id=user.pk).first()
    )


def staff_member_hours_access(
    *, user: User | AbstractBaseUser | AnonymousUser, staff_id: int
) -> tuple[StaffMember, bool] | None:
    """The person whose working hours ``user`` may see, and whether they may change
    them; None when they may not see them (the page answers 404).

    Everyone sees their own; managers see everyone's (as on the heatmap) and change
    their direct reports'; partners and admins change everyone's.
    """
    viewer = staff_member_for_user(user=user)
    member = StaffMember.objects.select_related("user").filter(pk=staff_id).first()
    if member is None:
        return None
    if is_partner(user):
        return member, True
    if is_manager(user):
        return member, viewer is not None and member.manager_id == viewer.pk
    if viewer is not None and viewer.pk == member.pk:
        return member, False
    return None
