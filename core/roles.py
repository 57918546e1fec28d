"""Who someone is in the firm, read from their auth groups (created by a migration)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied

STAFF, MANAGER, PARTNER, ADMIN = "staff", "manager", "partner", "admin"
ROLE_GROUP_NAMES = (STAFF, MANAGER, PARTNER, ADMIN)
# The billing coordinator: not a role of its own but a group granted beside one (an
# associate or a manager may chase invoices). Partners and administrators act as
# coordinators too. Coordinators record payments and promises to pay, flag and
# resolve disputes, release account holds, and get the call and dispute tasks.
BILLING = "billing"


def user_groups(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role groups, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_closeloop_groups", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names |= {*ROLE_GROUP_NAMES, BILLING}
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


def is_billing_coordinator(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user_groups(user) & {BILLING, PARTNER, ADMIN})


def require_billing_coordinator(user: AbstractBaseUser | AnonymousUser) -> None:
    """403 unless a billing coordinator (or a partner or admin)."""
    if not is_billing_coordinator(user):
        raise PermissionDenied("Only the billing coordinator and partners can do this.")
