"""A partner approves an invoice draft on the dashboard in one click; the client's email,
PDF attached, is in the outbox; the client opens the invoice link logged out."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Browser, expect

from billing import services
from billing.choices import InvoiceStatus, TimeEntryStatus
from billing.models import Invoice, TimeEntry
from dispatch import lifecycle
from engagements.models import Task, WorkType
from engagements.services import engagement_create
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from notifications.services import notification_send
from staff.choices import Role, Seniority
from tests.e2e.test_login import log_in
from tests.factories import PASSWORD, ClientFactory, StaffMemberFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def reviewed(live_server):
    """A corporate return through preparation and review: its invoice draft awaits Pat."""
    StaffMemberFactory(
        user=UserFactory(username="pat", first_name="Pat", last_name="Partner"),
        role=Role.PARTNER,
        seniority=Seniority.PARTNER,
    )
    alice = StaffMemberFactory(user=UserFactory(username="alice"), bill_rate=Decimal("160"))
    bob = StaffMemberFactory(user=UserFactory(username="bob"), seniority=Seniority.MANAGER)
    engagement = engagement_create(
        client=ClientFactory(name="Juniper Street Bakery", email="owner@juniper.example"),
        work_type=WorkType.objects.get(code="1120"),
        due_date=timezone.localdate() + timezone.timedelta(days=30),
        estimated_hours=Decimal("6"),
    )
    now = timezone.now()
    for task, member in zip(engagement.tasks.order_by("role"), (alice, bob), strict=True):
        Task.objects.filter(pk=task.pk).update(
            assignee=member, status="in_progress", assigned_at=now, accepted_at=now, started_at=now
        )
        lifecycle.task_complete(task_id=task.pk, staff=member)
    for entry in TimeEntry.objects.filter(engagement=engagement, status=TimeEntryStatus.DRAFT):
        services.time_entry_approve(entry_id=entry.pk, staff=entry.staff_member)
    invoice = Invoice.objects.get(engagement=engagement)
    assert invoice.status == InvoiceStatus.DRAFT and invoice.total > 0
    return invoice


def test_partner_approves_on_the_dashboard_and_the_client_opens_the_link(
    live_server, reviewed, browser: Browser
):
    partner_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(partner_page, live_server.url, "pat", PASSWORD)
    partner_page.goto(f"{live_server.url}/close/")
    card = partner_page.locator(f"#invoice-draft-{reviewed.pk}")
    expect(card).to_contain_text("Juniper Street Bakery")
    url_before = partner_page.url
    card.get_by_role("button", name="Approve invoice").click()
    expect(card).to_contain_text("emailed to the client")
    assert partner_page.url == url_before  # one click, no reload

    reviewed.refresh_from_db()
    assert reviewed.status == InvoiceStatus.ISSUED and reviewed.number
    notification = Notification.objects.get(template=NotificationTemplate.INVOICE_ISSUED)
    assert notification_send(notification_id=notification.pk) == "sent"
    [email] = mail.outbox
    assert email.to == ["owner@juniper.example"]
    assert email.attachments[0][0] == f"invoice-{reviewed.number}.pdf"
    assert email.attachments[0][1][:5] == b"%PDF-"
    link = re.search(r"http\S+/i/\S+/", email.body)
    assert link is not None

    client_page = browser.new_context().new_page()  # no session: logged out
    client_page.goto(live_server.url + "/i/" + link.group(0).split("/i/", 1)[1])
    expect(client_page.get_by_text(f"Invoice {reviewed.number}").first).to_be_visible()
    expect(client_page.get_by_role("link", name="Download PDF")).to_be_visible()
    expect(client_page.get_by_text("How to pay")).to_be_visible()
