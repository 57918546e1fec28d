"""The assignment loop in a real browser: the queue, an escalation, the email link."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from dispatch.choices import Trigger
from dispatch.models import Escalation
from dispatch.services import task_dispatch
from engagements.choices import Priority, TaskRole, TaskStatus
from engagements.models import Task, WorkType
from engagements.services import engagement_create
from notifications.models import Notification
from notifications.services import notification_send
from staff.choices import Role, Seniority
from staff.models import SkillTag, StaffSkill
from tests.e2e.test_login import log_in
from tests.factories import PASSWORD, ClientFactory, StaffMemberFactory, TaskFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def person(username: str, *skills: str, seniority: int = Seniority.ASSOCIATE, **kwargs):
    member = StaffMemberFactory(
        user=UserFactory(username=username, first_name=username.title(), last_name="Demo"),
        seniority=seniority,
        **kwargs,
    )
    for slug in skills:
        StaffSkill.objects.create(
            staff_member=member, skill=SkillTag.objects.get(slug=slug), level=3
        )
    return member


def bookkeeping_task(client_name: str) -> Task:
    engagement = engagement_create(
        client=ClientFactory(name=client_name),
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        due_date=timezone.localdate() + timezone.timedelta(days=21),
        estimated_hours=Decimal("4"),
    )
    task = engagement.tasks.get(role=TaskRole.PREPARER)
    task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED)
    task.refresh_from_db()
    return task


@pytest.fixture
def team(live_server):
    """Alice (associate) gets the work first; Bob (senior associate) is next in line."""
    manager = person("mia", role=Role.MANAGER, seniority=Seniority.MANAGER)
    alice = person("alice", "bookkeeping", manager=manager)
    bob = person("bob", "bookkeeping", seniority=Seniority.SENIOR_ASSOCIATE, manager=manager)
    first = bookkeeping_task("Harbor Point Dental")
    second = bookkeeping_task("Juniper Street Bakery")
    assert first.assignee == alice and second.assignee == alice
    return {"manager": manager, "alice": alice, "bob": bob, "first": first, "second": second}


def test_staff_accepts_one_task_and_hands_back_another_from_the_queue(
    live_server, team, page: Page
):
    first, second = team["first"], team["second"]
    log_in(page, live_server.url, "alice", PASSWORD)
    page.goto(f"{live_server.url}/queue/")
    url_before = page.url

    first_row = page.locator(f"#task-row-{first.pk}")
    first_row.get_by_role("button", name="Accept").click()
    expect(first_row).to_contain_text("Accepted")
    expect(page.locator("#queue-counts")).to_contain_text("1 awaiting acceptance")

    second_row = page.locator(f"#task-row-{second.pk}")
    second_row.get_by_role("button", name="Request reassignment").click()
    expect(second_row).to_contain_text("Say why you need the task reassigned")
    second_row.get_by_placeholder("Reason (required)").fill("On leave the week it is due")
    second_row.get_by_role("button", name="Request reassignment").click()
    expect(page.locator(f"#task-row-{second.pk}")).to_contain_text("now with Bob Demo")
    expect(page.locator("#queue-counts")).to_contain_text("0 awaiting acceptance")

    assert page.url == url_before  # no reload, no navigation
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == TaskStatus.ACCEPTED
    assert second.assignee == team["bob"] and second.status == TaskStatus.ASSIGNED
    page.reload()
    expect(page.locator(f"#task-row-{second.pk}")).to_have_count(0)


def test_manager_resolves_escalation_by_assigning_a_listed_person(live_server, page: Page):
    manager = person("mia", role=Role.MANAGER, seniority=Seniority.MANAGER)
    busy = person("carol", "individual_tax_certified", manager=manager)
    TaskFactory(
        assignee=busy,
        status=TaskStatus.ACCEPTED,
        estimated_hours=Decimal("80"),
        due_date=timezone.localdate() + timezone.timedelta(days=9),
    )
    engagement = engagement_create(
        client=ClientFactory(name="Alvarez Household"),
        work_type=WorkType.objects.get(code="1040"),
        due_date=timezone.localdate() + timezone.timedelta(days=7),
        priority=Priority.NORMAL,
    )
    task = engagement.tasks.get(role=TaskRole.PREPARER)
    task_dispatch(task_id=task.pk, trigger=Trigger.DEADLINE_PROXIMITY)
    escalation = Escalation.objects.get(task=task, status="open")

    log_in(page, live_server.url, "mia", PASSWORD)
    page.goto(f"{live_server.url}/escalations/")
    card = page.locator(f"#escalation-{escalation.pk}")
    expect(card).to_contain_text("Carol Demo")
    expect(card.locator(".conflict")).to_contain_text("Carol Demo")  # the conflict in words
    expect(card).not_to_contain_text("gap")
    card.get_by_label("Person").select_option(value=str(busy.pk))
    card.get_by_label("Reason").fill("Carol knows the family; I will move her other work")
    card.get_by_role("button", name="Assign").click()

    # HTMX: the card becomes its note in place, the count in the heading follows.
    expect(card).to_contain_text("Assigned to Carol Demo; the escalation is resolved.")
    expect(page.locator("#escalation-count")).to_have_text("0 open")
    page.reload()
    expect(page.get_by_text("No open escalations.")).to_be_visible()
    task.refresh_from_db()
    escalation.refresh_from_db()
    assert task.assignee == busy
    assert escalation.status == "resolved"


def test_email_accept_link_works_logged_out_and_get_changes_nothing(live_server, team, page: Page):
    task = team["first"]
    # The assignment email was stored with the decision; the worker's send, by hand.
    for notification in Notification.objects.filter(
        task=task, channel="email", template="task_assigned"
    ):
        notification_send(notification_id=notification.pk)
    body = mail.outbox[-1].body
    link = re.search(r"Accept it:\s+(\S+)", body).group(1)
    path = link.split("://", 1)[1].split("/", 1)[1]

    page.goto(f"{live_server.url}/{path}")
    expect(page.get_by_role("heading", name="Accept this assignment?")).to_be_visible()
    expect(page.get_by_text("Harbor Point Dental")).to_be_visible()
    task.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED  # the GET changed nothing

    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("You accepted the task.")).to_be_visible()
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
