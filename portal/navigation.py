"""The navigation each role sees: pages add themselves here as they land."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from core.roles import ADMIN, BILLING, MANAGER, PARTNER, STAFF, user_groups


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str


def navigation_for(user: AbstractBaseUser) -> list[NavItem]:
    """The navigation a role sees, in order."""
    items = [NavItem("Home", "portal:home")]
    groups = user_groups(user)
    if STAFF in groups:
        items.append(NavItem("My work", "dispatch:queue"))
        items.append(NavItem("My time", "billing:time-week"))
        if not groups & {MANAGER, PARTNER, ADMIN}:
            items.append(NavItem("My capacity", "portal:capacity"))
    if groups & {MANAGER, PARTNER, ADMIN}:
        items += [
            NavItem("Close", "portal:close-dashboard"),
            NavItem("Team", "dispatch:team"),
            # The heatmap, with the deadline distribution and engine metrics beside it.
            NavItem("Capacity", "portal:capacity"),
            NavItem("Escalations", "dispatch:escalations"),
            NavItem("Confirmations", "dispatch:confirmations"),
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
