"""The hosted payment page against a local server standing in for Stripe's API (no
network): made once per balance with idempotency keys, carried by the email, refreshed
when the balance changes, switched off once paid."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from billing import invoices, payments, stripe_pages
from billing.choices import InvoiceOrigin, LineKind
from billing.invoices import PAYMENT_PAGE_TASK, SEND_TASK
from billing.models import Invoice, InvoiceLine
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


class FakeStripe:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, list[str]], str | None]] = []
        self.by_key: dict[str, dict[str, object]] = {}
        self.count = 0


def _handler(state: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            key = self.headers.get("Idempotency-Key")
            state.calls.append(("POST", self.path, form, key))
            if key and key in state.by_key:
                body = state.by_key[key]
            else:
                state.count += 1
                if self.path == "/v1/prices":
                    body = {
                        "id": f"price_{state.count}",
                        "object": "price",
                        "unit_amount": int(form["unit_amount"][0]),
                    }
                elif self.path == "/v1/payment_links":
                    body = {
                        "id": f"plink_{state.count}",
                        "object": "payment_link",
                        "active": True,
                        "url": f"https://buy.stripe.test/plink_{state.count}",
                    }
                else:
                    body = {
                        "id": self.path.rsplit("/", 1)[-1],
                        "object": "payment_link",
                        "active": form.get("active") != ["false"],
                    }
                if key:
                    state.by_key[key] = body
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def fake_stripe(settings) -> Iterator[FakeStripe]:
    state = FakeStripe()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_SECRET_KEY = "sk_test_closeloop"
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        import stripe

        stripe.api_base = "https://api.stripe.com"


def _issued(partner) -> Invoice:
    invoice = Invoice.objects.create(client=ClientFactory(), origin=InvoiceOrigin.MANUAL)
    InvoiceLine.objects.create(
        invoice=invoice,
        kind=LineKind.FEE,
        description="Work",
        quantity=Decimal("1"),
        unit_price=Decimal("640.50"),
        amount=Decimal("640.50"),
        position=1,
    )
    invoices.invoice_recompute(invoice)
    return invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user).invoice


def test_sent_invoice_gets_one_payment_page_for_its_balance(
    fake_stripe, partner, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = _issued(partner)
    assert invoice.sent_at is None  # the email waits for the page, in a worker
    assert broker.named(SEND_TASK) == [(invoice.pk,)]
    assert invoices.invoice_send(invoice_id=invoice.pk) is True
    assert invoices.invoice_send(invoice_id=invoice.pk) is False  # a retried task: nothing new
    invoice.refresh_from_db()
    assert invoice.payment_url == "https://buy.stripe.test/plink_2"
    assert invoice.payment_page_amount == Decimal("640.50")
    paths = [(path, form.get("unit_amount")) for _, path, form, _ in fake_stripe.calls]
    assert paths == [("/v1/prices", ["64050"]), ("/v1/payment_links", None)]
    keys = [key for *_, key in fake_stripe.calls]
    assert all(key and key.startswith(f"closeloop-invoice-{invoice.pk}-64050-") for key in keys)
    email = Notification.objects.get(template=NotificationTemplate.INVOICE_ISSUED)
    assert "https://buy.stripe.test/plink_2" in email.body
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)  # balance unchanged: no call
    assert len(fake_stripe.calls) == 2


def test_a_retried_call_gets_the_same_page_back(fake_stripe, partner, broker):
    invoice = _issued(partner)
    first_try = Invoice.objects.get(pk=invoice.pk)
    retry = Invoice.objects.get(pk=invoice.pk)  # the row as the redelivered task finds it
    stripe_pages.payment_page_ensure(first_try)
    first = first_try.payment_page_id
    # The worker died after Stripe answered, before its transaction committed: the
    # retry reads the row as it was, sends the same keys and gets the same page.
    stripe_pages.payment_page_ensure(retry)
    again = retry
    assert again.payment_page_id == first
    assert fake_stripe.count == 2  # one price, one link, ever


def test_the_page_follows_the_balance_and_is_switched_off_when_paid(
    fake_stripe, partner, broker, django_capture_on_commit_callbacks
):
    invoice = _issued(partner)
    invoices.invoice_send(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    old_link = invoice.payment_page_id
    with django_capture_on_commit_callbacks(execute=True):
        payments.payment_record(
            invoice_id=invoice.pk, amount=Decimal("140.50"), received_on=timezone.localdate()
        )
    assert (invoice.pk,) in broker.named(PAYMENT_PAGE_TASK)
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.payment_page_amount == Decimal("500.00") and invoice.payment_page_id != old_link
    assert ("POST", f"/v1/payment_links/{old_link}") in [(m, p) for m, p, _, _ in fake_stripe.calls]
    payments.payment_record(
        invoice_id=invoice.pk, amount=Decimal("500"), received_on=timezone.localdate()
    )
    stripe_pages.payment_page_refresh(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.payment_url == "" and invoice.payment_page_id == ""
    assert fake_stripe.calls[-1][2].get("active") == ["false"]
