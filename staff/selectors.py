from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.types import User
from staff.models import StaffMember


def staff_member_for_user(*, user: User | AbstractBaseUser | AnonymousUser) -> StaffMember | None:
    if not user.is_authenticated:
        return None
    return (
        StaffMember.objects.select_related("user", "manager__user").filter(user_id=user.pk).first()
    )
