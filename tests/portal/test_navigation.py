"""The main navigation has no dead links: every item it offers a role opens for that role."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

NAV_LINK = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)


def _navigation(client) -> dict[str, str]:
    """The main navigation of the home page: label -> path."""
    page = client.get(reverse("portal:home"))
    assert page.status_code == 200
    menu = NAV_LINK.search(page.content.decode())
    assert menu, "the home page has no main navigation"
    return {
        label.strip(): href
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', menu.group(1))
    }


@pytest.mark.parametrize("persona", ["alice", "manager", "partner", "firm_admin"])
def test_every_navigation_item_opens_for_the_role_that_sees_it(client, persona, request):
    member = request.getfixturevalue(persona)
    client.force_login(member.user)

    links = _navigation(client)

    assert "Home" in links and "Clients" in links
    refused = {
        label: status
        for label, path in links.items()
        if (status := client.get(path).status_code) != 200
    }
    assert not refused, refused


def test_a_superuser_without_a_staff_profile_is_not_offered_my_work_or_my_time(client):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(root)

    links = _navigation(client)

    assert "My work" not in links and "My time" not in links and "My capacity" not in links
    assert {"Close", "Team", "Admin"} <= links.keys()
    refused = {
        label: status
        for label, path in links.items()
        if (status := client.get(path).status_code) != 200
    }
    assert not refused, refused


def test_a_superuser_with_a_staff_profile_keeps_their_own_work(client, alice):
    alice.user.is_superuser = True
    alice.user.is_staff = True
    alice.user.save(update_fields=["is_superuser", "is_staff"])
    client.force_login(alice.user)

    links = _navigation(client)

    assert {"My work", "My time"} <= links.keys()
    assert client.get(links["My work"]).status_code == 200
