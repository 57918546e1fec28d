"""Who someone is in the firm, read from their auth groups (created by a migration)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str


def navigation_for(user: AbstractBaseUser) -> list[NavItem]:
    """The navigation a role sees; pages add themselves here as they land."""
    items = [NavItem("Home", "core:home")]
    groups = user_groups(user)
    if STAFF in groups:
        items.append(NavItem("My work", "dispatch:queue"))
    if groups & {MANAGER, PARTNER, ADMIN}:
        items += [
            NavItem("Close", "engagements:close-dashboard"),
            NavItem("Team", "dispatch:team"),
            NavItem("Escalations", "dispatch:escalations"),
            NavItem("Confirmations", "dispatch:confirmations"),
            # Managers and up hold engagements.add_engagement (the role migration);
            # reading the groups already loaded avoids two permission queries a page.
            NavItem("New engagement", "engagements:engagement-create"),
        ]
    if user.is_staff:
        items.append(NavItem("Admin", "admin:index"))
    return items
