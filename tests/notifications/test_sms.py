"""Texts through Twilio's official client, against a local HTTP server standing in for
api.twilio.com (never the real network): what is posted, and what each answer does to
the outbox row (sent; retried on 429/5xx or no answer; failed in words on a refusal)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from notifications.channels import e164
from notifications.choices import Channel, NotificationStatus, NotificationTemplate, SubjectType
from notifications.models import Notification
from notifications.services import notification_send

pytestmark = pytest.mark.django_db


class FakeTwilio:
    def __init__(self) -> None:
        self.status = 201
        self.posts: list[tuple[str, dict[str, list[str]], str]] = []


@pytest.fixture
def twilio(settings) -> Iterator[FakeTwilio]:
    fake = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            fake.posts.append((self.path, parse_qs(body), self.headers.get("Authorization", "")))
            if fake.status == 201:
                answer = {"sid": "SM1", "status": "queued", "to": "+12025550143"}
            else:
                answer = {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}
            payload = json.dumps(answer).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.TWILIO_FROM = "+15005550006"
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    settings.TWILIO_TIMEOUT_SECONDS = 5
    yield fake
    server.shutdown()
    server.server_close()


def text(**kwargs: object) -> Notification:
    defaults: dict[str, object] = {
        # A template with no "still applies" check: the channel is what is tested here
        # (a follow-up's own check is in tests/billing/test_followups.py).
        "subject_type": SubjectType.INVOICE,
        "subject_id": 1,
        "channel": Channel.SMS,
        "template": NotificationTemplate.PAYMENT_RECEIVED,
        "step": 2,
        "recipient": "+12025550143",
        "subject": "Invoice INV-1",
        "body": "Hi Dana, invoice INV-1 for $1,000.00 is 15 days past due.",
    }
    return Notification.objects.create(**{**defaults, **kwargs})


def test_a_text_is_posted_to_twilio_and_marked_sent(twilio):
    row = text()

    status = notification_send(notification_id=row.pk)

    assert status == NotificationStatus.SENT
    [(path, form, auth)] = twilio.posts
    assert path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert form == {
        "To": ["+12025550143"],
        "From": ["+15005550006"],
        "Body": ["Hi Dana, invoice INV-1 for $1,000.00 is 15 days past due."],
    }
    assert auth.startswith("Basic ")


def test_a_refused_number_fails_in_words_and_is_not_retried(twilio):
    twilio.status = 400
    row = text(recipient="+1202")

    status = notification_send(notification_id=row.pk)

    row.refresh_from_db()
    assert status == NotificationStatus.FAILED
    assert "Twilio refused the text: 400" in row.last_error
    assert "not valid" in row.last_error


@pytest.mark.parametrize("answer", [429, 503])
def test_throttled_or_down_is_retried(twilio, answer):
    twilio.status = answer
    row = text()

    status = notification_send(notification_id=row.pk)

    row.refresh_from_db()
    assert status == NotificationStatus.RETRYING
    assert str(answer) in row.last_error


def test_unreachable_is_retried(settings):
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.TWILIO_FROM = "+15005550006"
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    row = text()

    status = notification_send(notification_id=row.pk)

    row.refresh_from_db()
    assert status == NotificationStatus.RETRYING
    assert "Twilio unreachable" in row.last_error


def test_numbers_are_e164_or_nothing():
    assert e164("+1 (202) 555-0143") == "+12025550143"
    assert e164("555-0143") == ""
    assert e164("") == ""
