"""The rebalancing loop in a real browser: a manager approves a proposal and sees the
loads change, on the rebalancing page and in the capacity heatmap's colours."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from capacity.models import MoveStatus, PlanMove
from dispatch.plan_services import rebalance_run
from engagements.choices import TaskStatus
from engagements.models import WorkType
from staff.choices import Role, Seniority
from tests.e2e.test_assignment_loop import person
from tests.e2e.test_login import log_in
from tests.factories import PASSWORD, ClientFactory, TaskFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def work(member, hours: str, status: str, client: str):
    # Due in two weeks: whatever weekday this runs on, the share of it falling in
    # the utilization week is the same fraction of everyone's available hours.
    return TaskFactory(
        assignee=member,
        status=status,
        estimated_hours=Decimal(hours),
        due_date=timezone.localdate() + timedelta(days=14),
        engagement__client=ClientFactory(name=client),
        engagement__work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        engagement__complexity="low",
    )


def test_manager_approves_a_proposal_and_sees_the_loads_change(live_server, page: Page):
    manager = person("mia", role=Role.MANAGER, seniority=Seniority.MANAGER)
    ana = person("ana", "bookkeeping", manager=manager)
    person("raj", "bookkeeping", manager=manager)
    # 90 % of Ana's hours (threshold 80 %): 50 h accepted, 40 h given but not accepted
    # (x 0.8 weight), due in two weeks.
    work(ana, "62.5", TaskStatus.ACCEPTED, "Harbor Point Dental")
    work(ana, "25", TaskStatus.ASSIGNED, "Smith LLC")
    work(ana, "2.5", TaskStatus.ASSIGNED, "Juniper Street Bakery")
    assert rebalance_run().proposed >= 1
    move = PlanMove.objects.filter(status=MoveStatus.PENDING).order_by("pk").first()
    assert move is not None and move.from_staff == ana

    log_in(page, live_server.url, "mia", PASSWORD)
    # The cell of Ana's row for the week dispatch counts (this week; at a weekend, the
    # next one): over her threshold.
    page.goto(f"{live_server.url}/capacity/")
    week = 0 if timezone.localdate().weekday() < 5 else 1
    ana_cell = page.locator("tbody tr", has_text="Ana Demo").locator("td.hm").nth(week)
    expect(ana_cell).to_have_class(re.compile(r"\bband-over\b"))

    page.goto(f"{live_server.url}/rebalancing/")
    row = page.locator(f"#proposal-{move.pk}")
    expect(row).to_contain_text("from Ana Demo to Raj Demo")
    ana_load = page.locator(f"#load-{ana.pk} [data-utilization]")
    before = ana_load.inner_text()
    assert "(over)" in before

    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text("Approved: moved to Raj Demo")
    expect(ana_load).not_to_have_text(before)
    expect(ana_load).not_to_contain_text("(over)")
    move.refresh_from_db()
    assert move.status == MoveStatus.APPLIED

    # The heatmap cell changes colour: Ana is back under her threshold.
    page.goto(f"{live_server.url}/capacity/")
    expect(ana_cell).to_have_class(re.compile(r"\bband-(room|near)\b"))
