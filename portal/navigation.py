"""The navigation each role sees: pages add themselves here as they land."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from core.roles import ADMIN, BILLING, MANAGER, PARTNER, STAFF, user_groups
from staff.models import StaffMember


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    # Other pages that belong under this item (a client's page under "Clients").
    also: tuple[str, ...] = ()

    def is_current(self, view_name: str | None) -> bool:
        return view_name == self.url_name or view_name in self.also


def _has_staff_profile(user: AbstractBaseUser) -> bool:
    return StaffMember.objects.filter(user_id=user.pk).exists()


def navigation_for(user: AbstractBaseUser) -> list[NavItem]:
    """The navigation a role sees, in order."""
    items = [NavItem("Home", "portal:home")]
    groups = user_groups(user)
    # A superuser holds every role's group but may have no staff profile: without one
    # My work, My time and My capacity would each answer 403, so they are left out.
    if STAFF in groups and (not user.is_superuser or _has_staff_profile(user)):
        items.append(NavItem("My work", "dispatch:queue"))
        items.append(NavItem("My time", "billing:time-week"))
        if not groups & {MANAGER, PARTNER, ADMIN}:
            items.append(NavItem("My capacity", "portal:capacity"))
    if groups:
        # Staff see the clients they work on; managers and up, the firm's.
        items.append(NavItem("Clients", "portal:client-list", also=("portal:client-detail",)))
    if groups & {MANAGER, PARTNER, ADMIN}:
        items += [
            NavItem("Close", "portal:close-dashboard"),
            NavItem("Team", "dispatch:team"),
            # The heatmap, with the deadline distribution and engine metrics beside it.
            NavItem("Capacity", "portal:capacity"),
            NavItem("Escalations", "dispatch:escalations"),
            NavItem("Confirmations", "dispatch:confirmations"),
            NavItem("Rebalancing", "dispatch:rebalancing"),
            NavItem("Plans", "dispatch:plans"),
            # Managers and up hold engagements.add_engagement (the role migration);
            # reading the groups already loaded avoids two permission queries a page.
            NavItem("New engagement", "engagements:engagement-create"),
            NavItem("Invoices", "billing:invoice-list"),
            NavItem("Follow-ups", "billing:followups"),
        ]
    elif BILLING in groups:
        items += [
            NavItem("Invoices", "billing:invoice-list"),
            NavItem("Follow-ups", "billing:followups"),
        ]
    if groups & {BILLING, PARTNER, ADMIN}:
        items.append(NavItem("Billing tasks", "billing:tasks"))
    if groups & {PARTNER, ADMIN}:
        items.append(NavItem("Approve invoices", "billing:approvals"))
    if user.is_staff:
        items.append(NavItem("Admin", "admin:index"))
    return items
