"""A body over the limit is refused with 413 from its Content-Length, before the CSRF
check (or anything) reads it: a 100 MB post was spooled to a temporary file first."""

from __future__ import annotations

import pytest
from django.http import multipartparser
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def unparsed(monkeypatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(multipartparser.MultiPartParser, "__init__", never)


def declaring(client: Client, url: str, length: int):
    return client.post(
        url,
        b"x" * 1024,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(length),
    )


def test_a_100_mb_post_to_any_page_is_refused_unread(unparsed, settings):
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("login"))  # a CSRF cookie: the check would read the body for its token

    response = declaring(browser, reverse("login"), 100 * 1024 * 1024)

    body = response.content.decode()
    assert response.status_code == 413
    assert "larger than 2.5 MB, so it was not read and nothing was saved" in body
    assert '<main id="main">' in body  # the app's layout, not a bare page


def test_a_body_within_the_limit_reaches_the_csrf_check(settings):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(reverse("login"), {"username": "ann", "password": "x"})

    assert response.status_code == 403  # read, and refused for its missing token


def test_the_limit_follows_djangos_form_memory_limit(unparsed, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

    response = declaring(Client(), reverse("login"), 2 * 1024 * 1024)

    assert response.status_code == 413
    assert "larger than 1 MB" in response.content.decode()
