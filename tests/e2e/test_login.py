"""Logging in through the real form in a real browser, against the demo firm."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from demo.specs import DEMO_PASSWORD
from staff.choices import Role

pytestmark = [
    pytest.mark.e2e,
    # The live server needs committed data (transactional), and seed_demo needs the
    # rows the migrations create (role groups, work types), which an earlier
    # transactional test's flush may have removed: serialized_rollback restores them.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def demo_partner(live_server) -> User:
    """Seed the demo firm as ./scripts/run does; return the partner login it prints."""
    out = io.StringIO()
    call_command("seed_demo", "--today", timezone.localdate().isoformat(), stdout=out)
    # The logins table: "username  role  password", one login a line.
    usernames = [
        line.split()[0]
        for line in out.getvalue().splitlines()
        if len(line.split()) == 3 and line.split()[1:] == ["partner", DEMO_PASSWORD]
    ]
    assert usernames, f"seed_demo printed no partner login:\n{out.getvalue()}"
    user = User.objects.get(username=usernames[0])
    assert user.staff_member.role == Role.PARTNER
    return user


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_login_partner_sees_home_with_firm_at_a_glance(
    live_server, demo_partner: User, page: Page
) -> None:
    user = demo_partner

    log_in(page, live_server.url, user.username, DEMO_PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page).to_have_title(re.compile(r"^Home · Closeloop$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(user.first_name)
    expect(page.locator(".whoami")).to_contain_text(user.get_full_name())
    expect(page.get_by_role("heading", name="Firm at a glance")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_login_wrong_password_shows_form_error(live_server, demo_partner: User, page: Page) -> None:
    log_in(page, live_server.url, demo_partner.username, "not-the-password")

    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password"
    )
    expect(page.get_by_role("heading", name="Firm at a glance")).to_have_count(0)
