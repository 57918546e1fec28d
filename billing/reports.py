"""Billing reports: AR aging, WIP, the weekly leakage report, realization and collection,
days to pay, follow-up status. Reads only, each in a fixed number of queries.

Partners, administrators and the billing coordinator see the firm; a manager sees
their clients (those whose work they or their reports hold or held).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q

from clients.models import Client
from core.roles import is_billing_coordinator, is_partner
from engagements.models import Task


def client_scope(user: AbstractBaseUser | AnonymousUser) -> list[int] | None:
    """None: the whole firm; else the ids of the clients this manager looks after."""
    if is_partner(user) or is_billing_coordinator(user):
        return None
    member = getattr(user, "staff_member", None)
    if member is None:
        return []
    theirs = Task.objects.filter(engagement__client=OuterRef("pk")).filter(
        Q(assignee=member) | Q(assignee__manager=member)
    )
    return list(Client.objects.filter(Exists(theirs)).values_list("pk", flat=True))
