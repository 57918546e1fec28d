"""The partner's approvals (page and close dashboard), invoice pages, payments by hand,
the leakage list and the client's signed link."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from billing import invoices
from billing.choices import InvoiceOrigin, InvoiceStatus, LineKind
from billing.links import SALT, invoice_token
from billing.models import Invoice, InvoiceLine, Payment
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

APPROVALS = reverse("billing:approvals")
HTMX = {"HTTP_HX_REQUEST": "true"}


def draft(amount: str = "1200.00", client=None) -> Invoice:
    invoice = Invoice.objects.create(client=client or ClientFactory(), origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.TIME,
        description="1120 corporate return — Alice Associate",
        quantity=Decimal("8"),
        unit_price=Decimal(amount) / 8,
        amount=Decimal(amount),
        position=1,
    )
    invoices.invoice_recompute(invoice)
    # As if 8 h of time at a $187.50 standard rate were attached.
    Invoice.objects.filter(pk=invoice.pk).update(standard_amount=Decimal("1500"), hours=8)
    invoice.refresh_from_db()
    return invoice


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("manager", 403), ("partner", 200)])
def test_approvals_page_is_for_partners(client, alice, manager, partner, who, status):
    client.force_login({"alice": alice, "manager": manager, "partner": partner}[who].user)
    assert client.get(APPROVALS).status_code == status


def test_approvals_show_client_lines_hours_amount_and_realization(client, partner):
    invoice = draft()
    client.force_login(partner.user)
    body = client.get(APPROVALS).content.decode()
    assert f'id="invoice-draft-{invoice.pk}"' in body
    assert invoice.client.name in body
    assert "1120 corporate return — Alice Associate" in body
    assert "$1,200.00" in body and "80%" in body  # 1,200 of a 1,500 standard value


def test_approvals_query_budget_does_not_grow_with_drafts(
    client, partner, django_assert_max_num_queries
):
    client.force_login(partner.user)
    for _ in range(2):
        draft()
    with django_assert_max_num_queries(12) as few:
        client.get(APPROVALS)
    for _ in range(15):
        draft()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(APPROVALS)
    assert response.content.decode().count('class="card invoice-draft"') == 17


@pytest.mark.parametrize("who", ["alice", "bob", "manager"])
def test_approve_is_refused_to_everyone_but_partners(client, alice, bob, manager, who, broker):
    invoice = draft()
    client.force_login({"alice": alice, "bob": bob, "manager": manager}[who].user)
    response = client.post(reverse("billing:invoice-approve", args=[invoice.pk]), **HTMX)
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT


def test_partner_approves_in_one_click_and_gets_the_card_back(client, partner, broker):
    invoice = draft()
    client.force_login(partner.user)
    response = client.post(reverse("billing:invoice-approve", args=[invoice.pk]), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(
        f'<section class="card invoice-draft done" id="invoice-draft-{invoice.pk}"'
    )
    assert "emailed to the client" in body and "<html" not in body
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED


def test_reject_needs_a_note(client, partner):
    invoice = draft()
    client.force_login(partner.user)
    url = reverse("billing:invoice-reject", args=[invoice.pk])
    response = client.post(url, {"note": ""}, **HTMX)
    assert response.status_code == 400 and "Say why." in response.content.decode()
    response = client.post(url, {"note": "Hours look high"}, **HTMX)
    assert response.status_code == 200
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REJECTED and invoice.rejection_note == "Hours look high"


def test_bad_line_edits_are_refused_in_words(client, partner):
    invoice = draft()
    line = invoice.lines.get()
    client.force_login(partner.user)
    url = reverse("billing:invoice-line-edit", args=[invoice.pk, line.pk])
    for data in (
        {"description": "x", "quantity": "0", "unit_price": "10"},
        {"description": "x", "quantity": "1", "unit_price": "1e9"},
        {"description": "x\x00", "quantity": "1", "unit_price": "10"},
    ):
        response = client.post(url, data, **HTMX)
        assert response.status_code == 400
    invoice.refresh_from_db()
    assert invoice.total == Decimal("1200.00")


def test_close_dashboard_shows_partners_the_drafts(client, partner, manager):
    invoice = draft()
    client.force_login(partner.user)
    body = client.get(reverse("portal:close-dashboard")).content.decode()
    assert f'id="invoice-draft-{invoice.pk}"' in body and "Approve invoice" in body
    client.force_login(manager.user)
    assert "Approve invoice" not in client.get(reverse("portal:close-dashboard")).content.decode()


def test_recording_a_payment_by_hand_and_an_overpayment_in_words(client, partner, manager, broker):
    invoice = invoices.invoice_approve(invoice_id=draft().pk, user=partner.user).invoice
    url = reverse("billing:payment-create", args=[invoice.pk])
    today = timezone.localdate().isoformat()
    client.force_login(manager.user)
    assert (
        client.post(url, {"amount": "10", "received_on": today, "method": "check"}).status_code
        == 403
    )
    client.force_login(partner.user)
    response = client.post(url, {"amount": "2000", "received_on": today, "method": "check"})
    assert response.status_code == 400
    assert "an overpayment is not recorded" in response.content.decode()
    response = client.post(
        url, {"amount": "200", "received_on": today, "method": "check", "reference": "1042"}
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.amount == Decimal("200") and "1042" in payment.note
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("1000.00")


def test_invoice_pages_for_managers_not_staff(client, alice, manager, partner, broker):
    invoice = invoices.invoice_approve(invoice_id=draft().pk, user=partner.user).invoice
    client.force_login(alice.user)
    for url in (
        reverse("billing:invoice-list"),
        reverse("billing:invoice-detail", args=[invoice.pk]),
        reverse("billing:invoice-pdf", args=[invoice.pk]),
        reverse("billing:leakage"),
    ):
        assert client.get(url).status_code == 403
    client.force_login(manager.user)
    assert invoice.number in client.get(reverse("billing:invoice-list")).content.decode()
    detail = client.get(reverse("billing:invoice-detail", args=[invoice.pk])).content.decode()
    assert "Record a payment" not in detail  # managers read; partners act
    pdf = client.get(reverse("billing:invoice-pdf", args=[invoice.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"


def test_client_opens_the_invoice_link_logged_out(client, partner, broker):
    invoice = invoices.invoice_approve(invoice_id=draft().pk, user=partner.user).invoice
    token = invoice_token(invoice_id=invoice.pk)
    response = client.get(reverse("billing:invoice-public", args=[token]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Invoice {invoice.number}" in body and "How to pay" in body and "Log out" not in body
    pdf = client.get(reverse("billing:invoice-public-pdf", args=[token]))
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_invoice_links_that_cannot_be_used(client, settings):
    invoice = draft()  # a draft is never shown to a client
    response = client.get(
        reverse("billing:invoice-public", args=[invoice_token(invoice_id=invoice.pk)])
    )
    assert response.status_code == 404
    response = client.get(reverse("billing:invoice-public", args=["not-a-token"]))
    assert response.status_code == 400 and "not valid" in response.content.decode()
    old = signing.dumps({"i": invoice.pk}, salt=SALT, compress=True)
    settings.INVOICE_LINK_MAX_AGE_SECONDS = -1
    response = client.get(reverse("billing:invoice-public", args=[old]))
    assert response.status_code == 400 and "expired" in response.content.decode()
