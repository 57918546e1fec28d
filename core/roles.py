"""Who someone is in the firm, read from their auth groups (created by a migration)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied

STAFF, MANAGER, PARTNER, ADMIN = "staff", "manager", "partner", "admin"
ROLE_GROUP_NAMES = (STAFF, MANAGER, PARTNER, ADMIN)


def user_groups(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role groups, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_closeloop_groups", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names |= set(ROLE_GROUP_NAMES)
        cached = frozenset(names)
        user._closeloop_groups = cached  # type: ignore[union-attr]
    return cached


def is_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user_groups(user) & {MANAGER, PARTNER, ADMIN})


def is_partner(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user_groups(user) & {PARTNER, ADMIN})


def require_manager(user: AbstractBaseUser | AnonymousUser) -> None:
    """403 unless a manager, partner or admin: for the manager-only pages and actions."""
    if not is_manager(user):
        raise PermissionDenied("Only managers and partners can do this.")
