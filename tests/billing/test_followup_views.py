"""The follow-up pages: where each client stands (query budget), the invoice's timeline
with why each touch was sent, the coordinator's actions with their refusals in words,
holds released back to dispatch, the client's statement link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from billing import followups
from billing.choices import PauseReason, PromiseStatus
from billing.links import statement_token
from billing.models import BillingTask, Dispute, FollowUpState, PaymentPromise
from tests.billing.test_followups import DUE, client_with, issue

pytestmark = pytest.mark.django_db

FOLLOWUPS = reverse("billing:followups")


def test_status_page_shows_each_clients_touch_in_constant_queries(
    client, partner, broker, django_assert_max_num_queries
):
    client.force_login(partner.user)
    issue(partner)
    followups.followups_run(today=DUE + timedelta(days=15))
    with django_assert_max_num_queries(30) as few:
        client.get(FOLLOWUPS)
    for _ in range(6):
        issue(partner)
    followups.followups_run(today=DUE + timedelta(days=15))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(FOLLOWUPS)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("Touch 2 of Standard") == 7


def test_the_timeline_says_why_each_touch_was_sent(client, partner, broker):
    invoice = issue(partner)
    followups.followups_run(today=DUE + timedelta(days=1))
    client.force_login(partner.user)
    page = client.get(reverse("billing:invoice-detail", args=[invoice.pk])).content.decode()
    assert "Touch 1: Friendly reminder" in page
    assert "1 days past due" in page and "$1,000.00 undisputed balance" in page


def test_a_promise_in_the_past_is_refused_next_to_the_field(client, partner, broker):
    invoice = issue(partner)
    client.force_login(partner.user)
    url = reverse("billing:promise-create", args=[invoice.pk])
    response = client.post(url, {"promised_on": "2001-01-01"})
    assert response.status_code == 400
    assert PaymentPromise.objects.count() == 0


def test_a_promise_pauses_the_sequence(client, partner, broker):
    invoice = issue(partner)
    client.force_login(partner.user)
    from django.utils import timezone

    promised = timezone.localdate() + timedelta(days=7)
    response = client.post(
        reverse("billing:promise-create", args=[invoice.pk]), {"promised_on": promised.isoformat()}
    )
    assert response.status_code == 302
    state = FollowUpState.objects.get(invoice=invoice)
    assert state.paused == PauseReason.PROMISE
    assert state.next_touch_on == promised + timedelta(days=1)
    assert PaymentPromise.objects.get().status == PromiseStatus.OPEN


def test_flagging_a_dispute_opens_a_review_task(client, partner, broker):
    invoice = issue(partner)
    client.force_login(partner.user)
    response = client.post(
        reverse("billing:dispute-create", args=[invoice.pk]), {"note": "We were billed twice"}
    )
    assert response.status_code == 302
    dispute = Dispute.objects.get()
    assert dispute.whole_invoice
    task = BillingTask.objects.get(dispute=dispute)
    assert invoice.number in task.title
    assert FollowUpState.objects.get(invoice=invoice).next_touch_on is None


def test_releasing_a_hold_needs_a_reason_and_lifts_it(client, partner, broker):
    invoice = issue(partner)
    followups.followups_run(today=DUE + timedelta(days=30))
    held = invoice.client
    held.refresh_from_db()
    assert held.account_hold
    client.force_login(partner.user)
    url = reverse("billing:hold-release", args=[held.pk])
    client.post(url, {"reason": ""})
    held.refresh_from_db()
    assert held.account_hold
    client.post(url, {"reason": "Payment plan agreed"})
    held.refresh_from_db()
    assert not held.account_hold


def test_a_manager_reads_the_status_page_but_cannot_release(client, manager, partner, broker):
    invoice = issue(partner)
    followups.followups_run(today=DUE + timedelta(days=30))
    client.force_login(manager.user)
    page = client.get(FOLLOWUPS).content.decode()
    assert "Release hold" not in page
    response = client.post(
        reverse("billing:hold-release", args=[invoice.client_id]), {"reason": "because"}
    )
    assert response.status_code == 403


def test_not_delivered_shows_a_manager_their_clients_only(client, manager, alice, partner, broker):
    from notifications.choices import NotificationStatus, NotificationTemplate
    from notifications.models import Notification
    from tests.billing.conftest import hold, open_engagement, preparer

    mine = client_with(email="ap@mine.example")
    hold(preparer(open_engagement(client=mine)), alice)  # alice reports to the manager
    theirs = client_with(email="ap@theirs.example")
    issue(partner, client=mine)
    issue(partner, client=theirs)
    followups.followups_run(today=DUE + timedelta(days=1))
    assert (
        Notification.objects.filter(template=NotificationTemplate.FOLLOWUP_TOUCH).update(
            status=NotificationStatus.FAILED, last_error="550 mailbox unavailable"
        )
        == 2
    )

    client.force_login(manager.user)
    page = client.get(FOLLOWUPS).content.decode()
    assert "Not delivered (1)" in page
    assert "ap@mine.example" in page and "ap@theirs.example" not in page
    client.force_login(partner.user)
    page = client.get(FOLLOWUPS).content.decode()
    assert "Not delivered (2)" in page
    assert "ap@mine.example" in page and "ap@theirs.example" in page


def test_the_statement_link_lists_open_invoices_logged_out(client, partner, broker):
    customer = client_with()
    first = issue(partner, client=customer, amount="100.00")
    second = issue(partner, client=customer, amount="250.00")
    response = client.get(
        reverse("billing:statement-public", args=[statement_token(client_id=customer.pk)])
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert first.number in page and second.number in page
    assert "350.00" in page


def test_a_tampered_statement_link_is_refused_in_words(client):
    response = client.get(reverse("billing:statement-public", args=["not-a-token"]))
    assert response.status_code == 400
