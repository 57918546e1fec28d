"""Reads about clients that other apps share."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from clients.models import ClientContact


def client_search_q(query: str) -> Q:
    """Clients a search box means: ``query`` in the name, the primary contact's name or
    email, or any other contact's name or email."""
    others = ClientContact.objects.filter(client=OuterRef("pk")).filter(
        Q(name__icontains=query) | Q(email__icontains=query)
    )
    return (
        Q(name__icontains=query)
        | Q(contact_name__icontains=query)
        | Q(email__icontains=query)
        | Q(Exists(others))
    )
