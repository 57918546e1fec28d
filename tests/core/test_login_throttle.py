"""Failed logins are throttled per user name and per address, on the app's and the
admin's login (issue 10: 50 wrong passwords in 16 s were accepted)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fail(client, username: str, url: str, address: str = "203.0.113.7"):
    return client.post(url, {"username": username, "password": "wrong"}, REMOTE_ADDR=address)


@override_settings(AXES_FAILURE_LIMIT=3)
@pytest.mark.parametrize("url", [reverse("login"), reverse("admin:login")])
def test_a_user_name_is_locked_after_the_limit_even_with_the_right_password(client, password, url):
    user = UserFactory(username="ann", password=password, is_staff=True)

    for _ in range(2):
        assert fail(client, user.username, url).status_code == 200  # the form again
    assert fail(client, user.username, url).status_code == 429  # the third failure locks

    locked = client.post(
        url, {"username": user.username, "password": password}, REMOTE_ADDR="203.0.113.7"
    )

    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_an_address_guessing_many_names_is_locked(client, password):
    UserFactory(username="ben", password=password)

    for name in ("a1", "a2", "a3"):
        fail(client, name, reverse("login"))
    response = client.post(
        reverse("login"), {"username": "ben", "password": password}, REMOTE_ADDR="203.0.113.7"
    )

    assert response.status_code == 429


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_success_before_the_limit_resets_the_count(client, password):
    user = UserFactory(username="cy", password=password)
    for _ in range(2):
        fail(client, user.username, reverse("login"))

    ok = client.post(
        reverse("login"), {"username": "cy", "password": password}, REMOTE_ADDR="203.0.113.7"
    )
    client.logout()
    for _ in range(2):
        fail(client, user.username, reverse("login"))
    again = client.post(
        reverse("login"), {"username": "cy", "password": password}, REMOTE_ADDR="203.0.113.7"
    )

    assert ok.status_code == 302 and again.status_code == 302
