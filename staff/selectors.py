from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from staff.models import StaffMember


def staff_member_for_user(*, user: AbstractBaseUser | AnonymousUser) -> StaffMember | None:
    if not user.is_authenticated:
        return None
    return StaffMember.objects.select_related("user", "manager__user").filter(user=user).first()
