"""The capacity heatmap in a real browser, under the Content-Security-Policy: a click on
a cell swaps in the tasks behind it (htmx), and a filter swaps only the grid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from engagements.choices import TaskStatus
from tests.e2e.test_login import log_in
from tests.factories import PASSWORD, TaskFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def team(live_server, manager, alice):
    due = timezone.localdate() + dt.timedelta(days=14)
    TaskFactory(
        assignee=alice,
        status=TaskStatus.ACCEPTED,
        title="Prepare the Harbor 1040",
        estimated_hours=Decimal("12"),
        due_date=due,
    )
    return manager


def test_a_cell_opens_its_tasks_and_a_filter_swaps_the_grid(live_server, team, page: Page):
    log_in(page, live_server.url, team.user.username, PASSWORD)
    page.goto(f"{live_server.url}/capacity/")

    row = page.locator("tbody tr", has_text="Alice Associate")
    row.locator("td a").first.click()
    detail = page.locator("#cell-detail")
    expect(detail).to_contain_text("Prepare the Harbor 1040")
    assert page.url.endswith("/capacity/")  # swapped in place, no navigation

    page.get_by_label("Role").select_option("manager")
    expect(page.locator("#heatmap")).not_to_contain_text("Alice Associate")
    expect(page.locator("#heatmap")).to_contain_text("Mia Manager")
    assert "role=manager" in page.url  # the filtered view has its own address
