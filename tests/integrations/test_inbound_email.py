"""The inbound-email endpoint for billing disputes: the parsed-email posts of Postmark,
SendGrid and Mailgun, authenticated, stored before acknowledged, then handed to billing's
dispute intake (the coordinator's page shares it)."""

from __future__ import annotations

import base64
import json
import time
from decimal import Decimal

import pytest
from django.test import Client, TestCase

from billing.choices import BillingTaskKind, DisputeStatus, InvoiceOrigin, LineKind, PauseReason
from billing.invoices import invoice_approve, invoice_recompute
from billing.models import BillingTask, ClientBillingProfile, FollowUpState, Invoice, InvoiceLine
from integrations.choices import EventStatus, Source, Verdict
from integrations.inbound_email import mailgun_sign, reply_only
from integrations.inbox import inbound_event_process, inbound_event_replay
from integrations.models import InboundEvent, InboundRequest
from integrations.signatures import closeloop_sign
from tests.factories import ClientFactory
from tests.integrations.webhook_helpers import make_integration

pytestmark = pytest.mark.django_db

SECRET = "parse-hook-password"
REMINDER_QUOTE = (
    "On Mon, Dec 7, 2026 at 9:00 AM Closeloop Billing <billing@firm.example>\nwrote:\n"
    "> Invoice {number} is 15 days past due.\n"
    "> Already paid? Thank you. A question about an invoice? Reply to this email.\n"
)


@pytest.fixture
def inbox(db):
    return make_integration(Source.EMAIL, slug="billing-replies", secret=SECRET)


@pytest.fixture
def invoice(partner):
    client = ClientFactory(name="Harbor Dental", email="ap@harbor.example")
    draft = Invoice.objects.create(client=client, origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=draft,
        kind=LineKind.FEE,
        description="Monthly close",
        quantity=Decimal("1"),
        unit_price=Decimal("1200.00"),
        amount=Decimal("1200.00"),
        position=1,
    )
    invoice_recompute(draft)
    return invoice_approve(invoice_id=draft.pk, user=partner.user).invoice


def basic(password: str = SECRET) -> dict[str, str]:
    token = base64.b64encode(f"postmark:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def post(inbox, data, *, content_type="application/json", **headers):
    body = json.dumps(data).encode() if isinstance(data, dict) else data
    with TestCase.captureOnCommitCallbacks(execute=True):
        if content_type == "multipart":  # the test client builds the form and its boundary
            return Client().post(f"/webhooks/{inbox.slug}/", data, **headers)
        return Client().post(f"/webhooks/{inbox.slug}/", body, content_type=content_type, **headers)


def postmark(number: str, text: str, sender: str = "ap@harbor.example", **extra) -> dict:
    """Postmark's inbound JSON (the fields Closeloop reads, as Postmark names them)."""
    return {
        "From": f"Dana Reyes <{sender}>",
        "FromFull": {"Email": sender, "Name": "Dana Reyes", "MailboxHash": ""},
        "To": "billing@firm.example",
        "OriginalRecipient": "billing@firm.example",
        "Subject": f"Re: Payment reminder — Invoice {number}",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "Date": "Mon, 7 Dec 2026 09:30:00 -0500",
        "TextBody": text + "\n\n" + REMINDER_QUOTE.format(number=number),
        "HtmlBody": "<p>" + text + "</p>",
        "StrippedTextReply": text,
        "Headers": [{"Name": "X-Spam-Status", "Value": "No"}],
        "Attachments": [],
        **extra,
    }


def process() -> list[str]:
    return [
        inbound_event_process(event_id=pk)
        for pk in InboundEvent.objects.values_list("pk", flat=True)
    ]


def test_a_postmark_reply_saying_incorrect_opens_a_dispute_once(inbox, invoice, broker):
    body = postmark(invoice.number, "The hours on this invoice look incorrect to us.")
    response = post(inbox, body, **basic())
    assert response.status_code == 200 and response.json()["new"] == 1
    event = InboundEvent.objects.get()  # stored before the answer, applied by the worker
    assert event.status == EventStatus.PENDING and event.event_type == "email.received"
    assert InboundRequest.objects.get().body == json.dumps(body).encode()
    assert "HTTP_AUTHORIZATION" not in str(InboundRequest.objects.get().headers)
    assert post(inbox, body, **basic()).json()["new"] == 0  # Postmark retried: stored once
    assert process() == [EventStatus.APPLIED]
    event.refresh_from_db()
    assert event.invoice_id == invoice.pk and invoice.number in event.detail
    dispute = invoice.disputes.get()
    assert dispute.status == DisputeStatus.OPEN and dispute.sender == "ap@harbor.example"
    assert FollowUpState.objects.get(invoice=invoice).paused == PauseReason.DISPUTE
    task = BillingTask.objects.get(kind=BillingTaskKind.DISPUTE)
    assert task.title.startswith("Billing dispute — Harbor Dental — Invoice")


def test_a_sendgrid_thank_you_quoting_our_reminder_opens_nothing(inbox, invoice, broker):
    """The quoted reminder says "question": only the client's own words count."""
    form = {
        "from": "Dana Reyes <ap@harbor.example>",
        "to": "billing@firm.example",
        "subject": f"Re: Payment reminder — Invoice {invoice.number}",
        "text": "Paid yesterday by ACH, thanks!\n\n" + REMINDER_QUOTE.format(number=invoice.number),
        "headers": "Message-ID: <CAF=abc123@mail.gmail.com>\nSubject: Re: Payment reminder\n",
        "envelope": json.dumps({"to": ["billing@firm.example"], "from": "ap@harbor.example"}),
        "charsets": json.dumps({"from": "UTF-8", "subject": "UTF-8", "text": "UTF-8"}),
        "SPF": "pass",
    }
    response = post(inbox, form, content_type="multipart", **basic())
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.event_id == "<CAF=abc123@mail.gmail.com>"
    assert process() == [EventStatus.IGNORED]
    assert not invoice.disputes.exists() and not BillingTask.objects.exists()


def mailgun_form(inbox, text: str, *, at: int | None = None, key: str = SECRET) -> bytes:
    at = int(time.time()) if at is None else at
    token = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    from urllib.parse import urlencode

    return urlencode(
        {
            "recipient": "billing@firm.example",
            "sender": "bounces+dana@harbor.example",
            "from": "Dana Reyes <AP@harbor.example>",
            "subject": "Question about my bill",
            "body-plain": text + "\n\n> earlier message",
            "stripped-text": text,
            "Message-Id": "<20261207093000.1.ABC@harbor.example>",
            "timestamp": str(at),
            "token": token,
            "signature": mailgun_sign(secret=key, timestamp=at, token=token),
        }
    ).encode()


def test_a_mailgun_route_signed_with_its_key_is_applied(inbox, invoice, broker):
    body = mailgun_form(inbox, "I have a question: is the second line a duplicate?")
    response = post(inbox, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert process() == [EventStatus.APPLIED]
    assert invoice.disputes.get().subject == "Question about my bill"


@pytest.mark.parametrize(
    ("why", "key", "age"),
    [("another key", "not-the-key", 0), ("an old timestamp", SECRET, 3600)],
)
def test_a_mailgun_post_with_a_bad_signature_is_refused(inbox, invoice, broker, why, key, age):
    body = mailgun_form(inbox, "Disputed.", at=int(time.time()) - age, key=key)
    response = post(inbox, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401, why
    assert set(response.json()) == {"type", "code", "message", "field"}
    assert not InboundEvent.objects.exists()
    assert InboundRequest.objects.get().status_code == 401


def test_a_script_signs_with_the_generic_header(inbox, invoice, broker):
    body = json.dumps(
        {
            "from": "ap@harbor.example",
            "subject": f"Invoice {invoice.number}",
            "text": "We dispute the travel charge.",
            "message_id": "script-1",
        }
    ).encode()
    header = closeloop_sign(secret=SECRET, body=body, timestamp=int(time.time()))
    assert post(inbox, body, HTTP_CLOSELOOP_SIGNATURE=header).status_code == 200
    assert process() == [EventStatus.APPLIED]


def test_an_unknown_sender_is_an_exception_until_the_address_is_added(inbox, invoice, broker):
    body = postmark(invoice.number, "This is incorrect.", sender="controller@harbor.example")
    post(inbox, body, **basic())
    assert process() == [EventStatus.EXCEPTION]
    event = InboundEvent.objects.get()
    assert "controller@harbor.example" in event.detail and "replay" in event.detail
    ClientBillingProfile.objects.create(
        client=invoice.client, billing_email="controller@harbor.example"
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert inbound_event_replay(event_id=event.pk)
    assert process() == [EventStatus.APPLIED]
    assert invoice.disputes.get().sender == "controller@harbor.example"


@pytest.mark.parametrize(
    ("why", "body", "content_type", "headers", "status", "field"),
    [
        ("a wrong password", {"From": "a@b.example"}, "application/json", basic("nope"), 401, None),
        ("no credentials", {"From": "a@b.example"}, "application/json", {}, 401, None),
        ("a JSON scalar", b"42", "application/json", basic(), 400, None),
        ("not JSON", b"{From:", "application/json", basic(), 400, None),
        ("invalid UTF-8", b'{"From": "\xff"}', "application/json", basic(), 400, None),
        (
            "no sender",
            {"Subject": "hi", "TextBody": "x"},
            "application/json",
            basic(),
            400,
            "sender",
        ),
        (
            "a bad sender",
            {"From": "nobody", "TextBody": "x"},
            "application/json",
            basic(),
            400,
            "sender",
        ),
        (
            "a NUL in the text",
            {"From": "a@b.example", "TextBody": "dis\x00pute"},
            "application/json",
            basic(),
            400,
            "text",
        ),
        ("plain text", b"From: a@b.example", "text/plain", basic(), 415, None),
        ("over the limit", b"{" + b" " * 2_000 + b"}", "application/json", basic(), 413, None),
    ],
)
def test_bad_input_is_refused_in_the_one_error_shape(
    inbox, broker, why, body, content_type, headers, status, field
):
    inbox.max_body_bytes = 1_000
    inbox.save()
    response = post(inbox, body, content_type=content_type, **headers)
    assert response.status_code == status, why
    error = response.json()
    assert set(error) == {"type", "code", "message", "field"} and error["field"] == field
    assert error["message"]
    assert not InboundEvent.objects.exists()
    assert InboundRequest.objects.get().verdict != Verdict.ACCEPTED


@pytest.mark.parametrize(
    "quoted",
    [
        "On Mon, Dec 7, 2026 at 9:00 AM Billing <b@f.example> wrote:\n> A question?",
        "-----Original Message-----\nFrom: Billing\nA question about an invoice?",
        "From: Billing <b@f.example>\nSent: Monday, December 7, 2026 9:00 AM\nA question?",
        "________________________________\nFrom: Billing\nA question?",
        "> A question about an invoice? Reply to this email.",
    ],
)
def test_the_quoted_message_is_not_the_clients_words(quoted):
    assert reply_only(f"Paid, thanks.\n\n{quoted}").strip() == "Paid, thanks."
