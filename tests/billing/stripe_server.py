"""A local server standing in for Stripe's API (no network), for the payment page and
card surcharge tests: prices, payment links, payment intents (how a card was funded),
refunds; idempotency keys honoured as Stripe does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


class FakeStripe:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, list[str]], str | None]] = []
        self.by_key: dict[str, dict[str, object]] = {}
        self.count = 0
        # PaymentIntent id -> (payment method type, card funding) its charge reports.
        self.intents: dict[str, tuple[str, str]] = {}
        self.fail_with: int | None = None  # answer every call with this status (503...)

    def posts(self, path: str) -> list[dict[str, list[str]]]:
        return [form for method, p, form, _ in self.calls if method == "POST" and p == path]


def _intent(state: FakeStripe, intent_id: str) -> dict[str, object]:
    kind, funding = state.intents.get(intent_id, ("card", "credit"))
    details: dict[str, object] = {"type": kind}
    if kind == "card":
        details["card"] = {"brand": "visa", "funding": funding, "last4": "4242"}
    return {
        "id": intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "latest_charge": {
            "id": f"ch_{intent_id}",
            "object": "charge",
            "payment_method_details": details,
        },
    }


def _handler(state: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _answer(self, body: dict[str, object], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            state.calls.append(("GET", url.path, parse_qs(url.query), None))
            if state.fail_with:
                return self._answer({"error": {"message": "down"}}, state.fail_with)
            if url.path.startswith("/v1/payment_intents/"):
                return self._answer(_intent(state, url.path.rsplit("/", 1)[-1]))
            return self._answer({"error": {"message": "no such thing"}}, 404)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            key = self.headers.get("Idempotency-Key")
            state.calls.append(("POST", self.path, form, key))
            if state.fail_with:
                return self._answer({"error": {"message": "down"}}, state.fail_with)
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
                elif self.path == "/v1/refunds":
                    body = {
                        "id": f"re_{state.count}",
                        "object": "refund",
                        "amount": int(form["amount"][0]),
                        "payment_intent": form["payment_intent"][0],
                        "status": "succeeded",
                    }
                else:
                    body = {
                        "id": self.path.rsplit("/", 1)[-1],
                        "object": "payment_link",
                        "active": form.get("active") != ["false"],
                    }
                if key:
                    state.by_key[key] = body
            self._answer(body)

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
