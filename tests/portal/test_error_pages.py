"""Error pages in the app's layout with a way back, not Django's bare defaults."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_missing_page_says_so_in_the_layout_with_a_way_home(client, alice):
    client.force_login(alice.user)

    response = client.get("/no-such-page/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "That page isn't here" in body
    assert f'href="{reverse("portal:home")}"' in body
    assert 'class="topbar"' in body


def test_a_forbidden_page_explains_why(client, alice):
    client.force_login(alice.user)

    response = client.get(reverse("dispatch:escalations"))  # managers only

    body = response.content.decode()
    assert response.status_code == 403
    assert "You can't open this page" in body
    assert "Back to the home page" in body


def test_the_server_error_page_renders_without_a_request_or_database():
    body = render_to_string("500.html")

    assert "Something went wrong on our side" in body
    assert "favicon.svg" in body and "app.css" in body


def test_a_refused_request_is_logged_on_one_line_and_each_line_once(client, alice):
    import io
    import logging

    from core.log_filters import ClientErrorsOnOneLine

    django_logger = logging.getLogger("django")
    console = [
        h
        for h in django_logger.handlers
        if any(isinstance(f, ClientErrorsOnOneLine) for f in h.filters)
    ]
    assert len(console) == 1 and not django_logger.propagate  # printed once, not twice
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for log_filter in console[0].filters:
        handler.addFilter(log_filter)
    logging.getLogger("django.request").addHandler(handler)
    client.force_login(alice.user)
    try:
        client.get(reverse("dispatch:escalations"))
    finally:
        logging.getLogger("django.request").removeHandler(handler)

    logged = stream.getvalue()
    assert "Forbidden" in logged
    assert "Traceback" not in logged
    assert len(logged.strip().splitlines()) == 1


def test_a_page_without_an_icon_link_still_gets_the_apps_icon(client, caplog):
    """Browsers ask for /favicon.ico on the admin and API docs pages: no 404 in the log."""
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith("img/favicon.svg")
    assert not [record for record in caplog.records if "Not Found" in record.getMessage()]
