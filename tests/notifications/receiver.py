"""A local webhook receiver: verifies every delivery with the ``standardwebhooks`` package."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    # Answers to give, in order, before answering 200 for good: (status, headers, delay).
    script: list[tuple[int, dict[str, str], float]] = field(default_factory=list)
    received: list[dict[str, object]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)

    def fail_next(
        self, *statuses: int, headers: dict[str, str] | None = None, delay: float = 0
    ) -> None:
        self.script.extend((status, headers or {}, delay) for status in statuses)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                status, extra, delay = state.script.pop(0) if state.script else (200, {}, 0)
            if delay:
                time.sleep(delay)
            try:
                payload = Webhook(state.secret).verify(body, headers) if state.secret else None
                ok = True
            except WebhookVerificationError:
                payload, ok = None, False
            with lock:
                state.verified.append(ok)
                state.received.append(
                    {"status": status, "headers": headers, "body": body, "payload": payload}
                )
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()
