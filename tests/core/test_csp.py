"""The Content-Security-Policy: strict on every response, and no page that needs it loosened.

The authorization matrix (tests/test_authorization_matrix.py) checks the header and the
absence of inline code on every URL for every role; the browser test
(tests/e2e/test_csp.py) checks that Chromium refuses nothing. Here: the policy itself,
the error pages, and the templates' source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse

from config import urls as config_urls

pytestmark = pytest.mark.django_db

# What a strict policy refuses, as it would appear in HTML.
INLINE_CODE = {
    "an inline <script>": re.compile(
        r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*\btype\s*=\s*[\"']application/json)[^>]*>", re.I
    ),
    "a <style> element": re.compile(r"<style\b", re.I),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "an on* handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "an hx-on handler, which needs eval": re.compile(r"\shx-on\b", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def inline_code(html: str) -> list[str]:
    """What in ``html`` the policy would refuse, e.g. ``['a style attribute (<td style=...)']``."""
    found = []
    for what, pattern in INLINE_CODE.items():
        for match in pattern.finditer(html):
            found.append(f"{what} ({match.group(0)[:80]})")
    return found


def page_templates() -> list[Path]:
    """Every HTML template of the project except emails (mail clients need inline styles)."""
    base = Path(settings.BASE_DIR)
    roots = [base / "templates", *base.glob("*/templates")]
    return sorted(
        template
        for root in roots
        if ".venv" not in root.parts
        for template in root.rglob("*.html")
        if "emails" not in template.relative_to(root).parts
    )


def test_the_policy_is_strict(client, alice):
    client.force_login(alice.user)

    header = client.get(reverse("portal:home"))["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in header.split(";"))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    assert "unsafe" not in header


def test_the_inline_code_finder_finds_each_kind():
    html = (
        '<script>alert(1)</script><script src="/static/a.js"></script>'
        '<script id="d" type="application/json">{}</script>'
        '<style>p{}</style><p style="color:red" onclick="x()" hx-on:click="y()">'
        '<a href="javascript:void(0)">'
    )

    kinds = [entry.split(" (")[0] for entry in inline_code(html)]

    assert kinds == [
        "an inline <script>",
        "a <style> element",
        "a style attribute",
        "an on* handler",
        "an hx-on handler, which needs eval",
        "a javascript: URL",
    ]


def test_no_page_template_has_inline_script_or_style():
    templates = page_templates()
    assert len(templates) > 10

    found = {
        str(template.relative_to(settings.BASE_DIR)): inline_code(template.read_text())
        for template in templates
    }

    assert not {name: code for name, code in found.items() if code}, (
        "Move scripts to static/js/ and styles to static/css/ (the CSP refuses inline code)"
    )


def test_emails_keep_their_inline_styles_and_are_not_pages():
    emails = Path(settings.BASE_DIR) / "templates" / "emails"
    assert any("style=" in t.read_text() for t in emails.glob("*.html"))


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("no")


urlpatterns = [path("boom/", _boom), path("forbidden/", _forbidden), *config_urls.urlpatterns]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url,status", [("/boom/", 500), ("/forbidden/", 403), ("/gone/", 404)])
def test_error_pages_carry_the_policy_too(alice, url, status):
    browser = Client(raise_request_exception=False)
    browser.force_login(alice.user)

    response = browser.get(url)

    assert response.status_code == status
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert not inline_code(response.content.decode())
