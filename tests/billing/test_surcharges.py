"""Card surcharges on the hosted payment page (against the stand-in Stripe server): off by
default, the firm's rate or the client's own, a separate line on the page and never in
the balance, disclosed in the email, the PDF and the client's page, following the
balance; the admin refuses a rate a firm cannot charge."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from billing import invoices, payments, stripe_pages
from billing.choices import LineKind, SurchargeMode
from billing.invoices import PAYMENT_PAGE_TASK
from billing.links import invoice_public_url, statement_token
from billing.models import ClientBillingProfile, Invoice
from billing.selectors import invoice_document_context, invoice_for_document
from billing.surcharges import surcharge_amount, surcharge_percent_for
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from tests.factories import ClientFactory
from tests.html_forms import form_data
from tests.integrations.test_payments import issued_invoice

pytestmark = pytest.mark.django_db


def _issued(partner, amount: str = "640.50", *, client=None) -> Invoice:
    return issued_invoice(partner, amount, client=client)


def _sent(partner, amount: str = "640.50", *, client=None) -> Invoice:
    invoice = _issued(partner, amount, client=client)
    assert invoices.invoice_send(invoice_id=invoice.pk) is True
    invoice.refresh_from_db()
    return invoice


def _link_form(fake_stripe) -> dict[str, list[str]]:
    return fake_stripe.posts("/v1/payment_links")[-1]


def _profile(client, **fields) -> ClientBillingProfile:
    profile, _ = ClientBillingProfile.objects.update_or_create(client=client, defaults=fields)
    return profile


# --- The rate and its rounding -------------------------------------------------------------------


def test_surcharge_amount_rounds_half_up_to_the_cent():
    # 641.00 x 2.5 % = 16.025: half up gives 16.03 (half even would give 16.02).
    assert surcharge_amount(balance=Decimal("641.00"), percent=Decimal("2.50")) == Decimal("16.03")
    assert surcharge_amount(balance=Decimal("640.50"), percent=Decimal("3.00")) == Decimal("19.22")
    assert surcharge_amount(balance=Decimal("0"), percent=Decimal("3.00")) == Decimal("0")


def test_surcharge_percent_firm_default_client_off_and_client_rate(settings):
    client = ClientFactory()
    settings.CARD_SURCHARGE_PERCENT = Decimal("0")
    assert surcharge_percent_for(None) is None  # off by default
    settings.CARD_SURCHARGE_PERCENT = Decimal("3")
    assert surcharge_percent_for(None) == Decimal("3.00")
    assert surcharge_percent_for(_profile(client)) == Decimal("3.00")  # firm default
    off = _profile(client, card_surcharge_mode=SurchargeMode.OFF)
    assert surcharge_percent_for(off) is None
    own = _profile(
        client, card_surcharge_mode=SurchargeMode.ON, card_surcharge_percent=Decimal("1.75")
    )
    assert surcharge_percent_for(own) == Decimal("1.75")
    settings.CARD_SURCHARGE_PERCENT = Decimal("0")
    assert surcharge_percent_for(own) == Decimal("1.75")  # a client's own rate needs no firm one


# --- The payment page ----------------------------------------------------------------------------


def test_surcharge_off_page_is_for_the_balance_alone(fake_stripe, partner, broker):
    invoice = _sent(partner)

    assert [f["unit_amount"] for f in fake_stripe.posts("/v1/prices")] == [["64050"]]
    link = _link_form(fake_stripe)
    assert "line_items[1][price]" not in link and "payment_method_types[0]" not in link
    assert "metadata[closeloop_surcharge_cents]" not in link
    assert invoice.payment_page_amount == Decimal("640.50")
    assert invoice.payment_page_surcharge is None
    email = Notification.objects.get(template=NotificationTemplate.INVOICE_ISSUED)
    assert "surcharge" not in email.body.lower()


def test_surcharge_on_is_a_separate_line_for_cards_never_in_the_balance(
    fake_stripe, partner, broker, settings
):
    settings.CARD_SURCHARGE_PERCENT = Decimal("3")

    invoice = _sent(partner)

    balance_price, surcharge_price = fake_stripe.posts("/v1/prices")
    assert balance_price["unit_amount"] == ["64050"]
    assert surcharge_price["unit_amount"] == ["1922"]  # 19.215 rounded half up
    assert "Card surcharge 3.00 %" in surcharge_price["product_data[name]"][0]
    link = _link_form(fake_stripe)
    assert link["line_items[0][price]"] == ["price_1"]
    assert link["line_items[1][price]"] == ["price_2"]
    assert link["payment_method_types[0]"] == ["card"]  # bank transfer: the instructions
    for prefix in ("metadata", "payment_intent_data[metadata]"):
        assert link[f"{prefix}[closeloop_surcharge_cents]"] == ["1922"]
        assert link[f"{prefix}[closeloop_surcharge_percent]"] == ["3.00"]
        assert link[f"{prefix}[closeloop_invoice_id]"] == [str(invoice.pk)]
    # The invoice owes its balance; the surcharge lives on the page only.
    assert (invoice.total, invoice.balance) == (Decimal("640.50"), Decimal("640.50"))
    assert not invoice.lines.filter(kind=LineKind.SURCHARGE).exists()
    assert (invoice.payment_page_surcharge, invoice.payment_page_surcharge_percent) == (
        Decimal("19.22"),
        Decimal("3.00"),
    )
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)  # nothing changed: no call
    assert len(fake_stripe.posts("/v1/payment_links")) == 1


def test_client_override_off_and_own_rate(fake_stripe, partner, broker, settings):
    settings.CARD_SURCHARGE_PERCENT = Decimal("3")
    excused = ClientFactory()
    _profile(excused, card_surcharge_mode=SurchargeMode.OFF)
    own = ClientFactory()
    _profile(own, card_surcharge_mode=SurchargeMode.ON, card_surcharge_percent=Decimal("2.50"))

    first = _sent(partner, client=excused)
    assert first.payment_page_surcharge is None
    assert [f["unit_amount"] for f in fake_stripe.posts("/v1/prices")] == [["64050"]]

    second = _sent(partner, "641.00", client=own)
    assert (second.payment_page_surcharge, second.payment_page_surcharge_percent) == (
        Decimal("16.03"),
        Decimal("2.50"),
    )
    assert fake_stripe.posts("/v1/prices")[-1]["unit_amount"] == ["1603"]


def test_the_surcharge_follows_the_balance_and_the_clients_terms(
    fake_stripe, partner, broker, settings, django_capture_on_commit_callbacks
):
    settings.CARD_SURCHARGE_PERCENT = Decimal("3")
    invoice = _sent(partner, "1000.00")
    assert invoice.payment_page_surcharge == Decimal("30.00")

    with django_capture_on_commit_callbacks(execute=True):
        payments.payment_record(
            invoice_id=invoice.pk, amount=Decimal("400.00"), received_on=timezone.localdate()
        )
    assert (invoice.pk,) in broker.named(PAYMENT_PAGE_TASK)
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert (invoice.payment_page_amount, invoice.payment_page_surcharge) == (
        Decimal("600.00"),
        Decimal("18.00"),
    )
    assert fake_stripe.posts("/v1/prices")[-1]["unit_amount"] == ["1800"]

    # The client is excused from surcharges: the page is made again without one.
    _profile(invoice.client, card_surcharge_mode=SurchargeMode.OFF)
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.payment_page_amount == Decimal("600.00")
    assert invoice.payment_page_surcharge is None and invoice.payment_page_surcharge_percent is None
    assert "line_items[1][price]" not in _link_form(fake_stripe)


# --- Disclosure ----------------------------------------------------------------------------------

NOTICE = (
    "Card surcharge: paying online by credit card adds a surcharge of 3.00 % ($19.22) to the "
    "$640.50 balance, $659.72 in all"
)


def test_email_pdf_and_client_page_disclose_the_surcharge(
    fake_stripe, partner, broker, settings, client
):
    settings.CARD_SURCHARGE_PERCENT = Decimal("3")
    invoice = _sent(partner)

    email = Notification.objects.get(template=NotificationTemplate.INVOICE_ISSUED)
    assert NOTICE in email.body
    assert "no surcharge on debit or prepaid cards" in email.body
    assert "refunded to you automatically" in email.body
    document = invoice_for_document(invoice_id=invoice.pk)
    pdf_html = render_to_string("billing/invoice_pdf.html", invoice_document_context(document))
    assert NOTICE in pdf_html and "bank transfer or check" in pdf_html
    page = client.get(invoice_public_url(invoice_id=invoice.pk))
    assert page.status_code == 200 and NOTICE in page.content.decode()
    statement = client.get(
        reverse("billing:statement-public", args=[statement_token(client_id=invoice.client_id)])
    )
    assert statement.status_code == 200
    assert f"Invoice {invoice.number} — {NOTICE}" in statement.content.decode()


def test_no_disclosure_once_paid_or_without_a_surcharge(fake_stripe, partner, broker, settings):
    invoice = _sent(partner)
    document = invoice_for_document(invoice_id=invoice.pk)
    assert invoice_document_context(document)["surcharge_notice"] == ""

    settings.CARD_SURCHARGE_PERCENT = Decimal("3")
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)
    payments.payment_record(
        invoice_id=invoice.pk, amount=Decimal("640.50"), received_on=timezone.localdate()
    )
    document = invoice_for_document(invoice_id=invoice.pk)
    assert invoice_document_context(document)["surcharge_notice"] == ""


# --- The admin -----------------------------------------------------------------------------------


def _admin_form(web, profile: ClientBillingProfile) -> tuple[str, dict]:
    url = reverse("admin:billing_clientbillingprofile_change", args=[profile.pk])
    page = web.get(url)
    assert page.status_code == 200
    return url, form_data(page.content.decode(), form_id="clientbillingprofile_form")


@pytest.mark.parametrize(
    ("mode", "percent", "message"),
    [
        ("on", "3.50", "Card network rules cap a surcharge at 3 %"),
        ("on", "0", "A surcharge is at least 0.01 %"),
        ("on", "-1", "A surcharge is at least 0.01 %"),
        ("on", "", "Give the surcharge rate for this client"),
    ],
)
def test_admin_refuses_a_surcharge_out_of_range(client, firm_admin, mode, percent, message):
    profile = _profile(ClientFactory())
    client.force_login(firm_admin.user)
    url, data = _admin_form(client, profile)
    data.update(card_surcharge_mode=mode, card_surcharge_percent=percent)

    response = client.post(url, data)

    assert response.status_code == 200  # the form again, with the reason
    assert message in response.content.decode()
    profile.refresh_from_db()
    assert profile.card_surcharge_mode == SurchargeMode.FIRM_DEFAULT


def test_admin_saves_a_client_rate_and_remakes_open_pages(
    client, firm_admin, partner, fake_stripe, broker, django_capture_on_commit_callbacks
):
    customer = ClientFactory()
    invoice = _sent(partner, client=customer)
    profile = _profile(customer)
    client.force_login(firm_admin.user)
    url, data = _admin_form(client, profile)
    data.update(card_surcharge_mode="on", card_surcharge_percent="2.25")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.card_surcharge_mode, profile.card_surcharge_percent) == (
        SurchargeMode.ON,
        Decimal("2.25"),
    )
    assert (invoice.pk,) in broker.named(PAYMENT_PAGE_TASK)


def test_admin_refuses_a_late_fee_out_of_range_with_its_reason(client, firm_admin):
    # The constraint's message has a percent sign: it once broke Django's formatting (a 500).
    profile = _profile(ClientFactory())
    client.force_login(firm_admin.user)
    url, data = _admin_form(client, profile)
    data.update(late_fee_mode="on", late_fee_percent="30")

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Late fees: a flat amount of 0 or more, 0–25 %" in response.content.decode()


def test_a_reminder_linking_to_a_surcharged_page_discloses_it(
    fake_stripe, partner, broker, settings
):
    from billing import followups
    from tests.billing.test_followups import DUE, client_with, issue

    settings.CARD_SURCHARGE_PERCENT = Decimal("3")
    invoice = issue(partner, client=client_with(), amount="640.50")
    invoices.invoice_send(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    plain = issue(partner, client=client_with(email="other@client.example"), amount="100.00")

    followups.followups_run(today=DUE + timedelta(days=1))

    touches = Notification.objects.filter(template=NotificationTemplate.FOLLOWUP_TOUCH)
    surcharged = touches.get(recipient="ap@client.example")
    assert invoice.payment_url in surcharged.body and NOTICE in surcharged.body
    assert NOTICE in surcharged.html_body
    other = touches.get(recipient="other@client.example")
    assert plain.payment_url == "" and "surcharge" not in other.body.lower()


def test_a_partial_payment_acknowledgement_never_links_the_page_about_to_be_replaced(
    fake_stripe, partner, broker, settings
):
    settings.CARD_SURCHARGE_PERCENT = Decimal("3")
    invoice = _sent(partner, "1000.00")
    old_link = invoice.payment_url

    payments.payment_record(
        invoice_id=invoice.pk, amount=Decimal("400.00"), received_on=timezone.localdate()
    )

    ack = Notification.objects.get(template=NotificationTemplate.PAYMENT_RECEIVED)
    # That page charges $1,000 plus its surcharge; the client goes to the invoice page,
    # which shows the page for $600 once it is made.
    assert old_link not in ack.body and "Pay the balance online" not in ack.body
    assert "The invoice: http" in ack.body
