"""A partner watches the close dashboard while someone else completes a milestone."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Browser, expect

from engagements.models import WorkType
from staff.choices import Role, Seniority
from tests.e2e.test_login import log_in
from tests.factories import (
    PASSWORD,
    ClientFactory,
    EngagementFactory,
    StaffMemberFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def close_in_progress(live_server):
    partner = StaffMemberFactory(
        user=UserFactory(username="pat", first_name="Pat", last_name="Partner"),
        role=Role.PARTNER,
        seniority=Seniority.PARTNER,
    )
    manager = StaffMemberFactory(
        user=UserFactory(username="mia", first_name="Mia", last_name="Manager"),
        role=Role.MANAGER,
        seniority=Seniority.MANAGER,
    )
    engagement = EngagementFactory(
        client=ClientFactory(name="Harbor Point Dental", relationship_partner=partner),
        work_type=WorkType.objects.get(code="month_end_close"),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        milestone="in_preparation",
        due_date=date(2026, 12, 18),
    )
    return partner, manager, engagement


def test_dashboard_row_updates_within_five_seconds_without_reload(
    live_server, close_in_progress, browser: Browser
):
    partner, manager, engagement = close_in_progress
    watcher = browser.new_context().new_page()
    actor = browser.new_context().new_page()
    log_in(watcher, live_server.url, "pat", PASSWORD)
    watcher.goto(f"{live_server.url}/close/?period=2026-10")
    row = watcher.locator(f"#engagement-{engagement.pk}")
    expect(row).to_contain_text("In bookkeeping")
    watcher.evaluate("window.__stillThisPage = true")

    log_in(actor, live_server.url, "mia", PASSWORD)
    actor.goto(f"{live_server.url}/engagements/{engagement.pk}/")
    actor.get_by_role("button", name="Mark “Bookkeeper complete”").click()
    expect(actor.get_by_text("Milestone updated.")).to_be_visible()

    expect(row).to_contain_text("Bookkeeper complete", timeout=5_000)
    assert watcher.evaluate("window.__stillThisPage") is True  # no reload happened
    watcher.context.close()
    actor.context.close()
