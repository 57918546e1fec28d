"""The Content-Security-Policy in a real browser: every role's pages and the admin load
on the demo firm without Chromium refusing anything (the ``page`` fixture fails the
test on any violation it reports), and htmx still swaps under the policy."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from demo.specs import DEMO_PASSWORD
from dispatch.links import action_token
from engagements.choices import HELD_TASK_STATUSES
from engagements.models import Engagement, Task
from engagements.upload_links import upload_token
from staff.models import StaffMember
from tests.e2e.test_login import log_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 500, f"{url}: {response and response.status}"
    assert response.headers.get("content-security-policy"), f"{url}: no CSP header"
    page.wait_for_load_state("load")


def visit_navigation(page: Page, base: str) -> list[str]:
    """Every page the role's navigation offers; returns their paths."""
    hrefs = page.locator("header nav a").evaluate_all("links => links.map(a => a.href)")
    for href in hrefs:
        visit(page, href)
    return [href.removeprefix(base) for href in hrefs]


def test_pages_and_admin_load_under_the_policy(live_server, demo_logins, page: Page) -> None:
    base = live_server.url
    task = Task.objects.filter(status__in=HELD_TASK_STATUSES).order_by("pk").first()
    engagement = Engagement.objects.filter(tasks__isnull=False).first()
    assert task is not None and engagement is not None

    # Logged out: the login page, a client's upload link, an email's Accept link.
    visit(page, f"{base}/login/")
    upload = reverse(
        "engagements:document-upload", args=[upload_token(engagement_id=engagement.pk)]
    )
    visit(page, base + upload)
    token = action_token(
        task_id=task.pk, staff_id=task.assignee_id, action="accept", assigned_at=task.assigned_at
    )
    visit(page, base + reverse("dispatch:task-action", args=[token]))

    # The associate: their navigation, a task of theirs, and an Accept through htmx.
    associate = StaffMember.objects.get(user__username=demo_logins["associate"])
    log_in(page, base, associate.user.username, DEMO_PASSWORD)
    assert "/queue/" in visit_navigation(page, base)
    visit(page, f"{base}/queue/")
    accept = page.get_by_role("button", name="Accept")
    if accept.count():
        # The row by its id: a locator "the row with an Accept button" would move on to
        # the next such row once this one is accepted.
        row_id = page.locator("tr", has=accept.first).first.get_attribute("id")
        accept.first.click()
        expect(page.locator(f"#{row_id}")).to_contain_text("Accepted")
    visit(page, f"{base}/no-such-page/")  # the 404 page
    page.get_by_role("button", name="Log out").click()

    # The manager and the partner: everything in their navigation, a task and an
    # engagement page, and the close board's live poll (htmx, every 3 s).
    for role in ("manager", "partner"):
        log_in(page, base, demo_logins[role], DEMO_PASSWORD)
        paths = visit_navigation(page, base)
        assert "/close/" in paths and "/escalations/" in paths, paths
        visit(page, base + reverse("dispatch:task-detail", args=[task.pk]))
        visit(page, base + reverse("engagements:engagement-detail", args=[engagement.pk]))
        visit(page, base + reverse("notifications:failed"))
        page.get_by_role("button", name="Log out").click()
    log_in(page, base, demo_logins["partner"], DEMO_PASSWORD)
    visit(page, f"{base}/close/")
    with page.expect_response(re.compile(r"/close/\?.*since=")):
        pass  # the poll fired under the policy

    # The admin: the index, lists, change and add forms with their widgets.
    page.get_by_role("button", name="Log out").click()
    log_in(page, base, demo_logins["admin"], DEMO_PASSWORD)
    admin_pages = [
        reverse("admin:index"),
        reverse("admin:staff_staffmember_changelist"),
        reverse("admin:staff_staffmember_change", args=[associate.pk]),
        reverse("admin:engagements_worktype_change", args=[engagement.work_type_id]),
        reverse("admin:engagements_worktype_add"),
        reverse("admin:engagements_engagement_changelist"),
        reverse("admin:engagements_task_change", args=[task.pk]),
        reverse("admin:engagements_recurringplan_add"),
        reverse("admin:auth_user_change", args=[associate.user_id]),
    ]
    for path in admin_pages:
        visit(page, base + path)
