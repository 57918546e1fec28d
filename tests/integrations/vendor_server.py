"""A local HTTP server standing in for a vendor's REST API (Karbon, QuickBooks, Xero, Harvest)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest


@dataclass
class VendorServer:
    """Answers GET <path> from ``routes`` (status, JSON, headers); 404 otherwise; logs requests."""

    url: str = ""
    routes: dict[str, tuple[int, Any, dict[str, str]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def serve(
        self, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.routes[path] = (status, body, headers or {})

    def route(self, path: str) -> tuple[int, Any, dict[str, str]]:
        """The exact path (with its query), else its page (``?page=N``), else the bare path."""
        base, _, query = path.partition("?")
        page = parse_qs(query).get("page", [""])[0]
        for key in (path, f"{base}?page={page}" if page else None, base):
            if key is not None and key in self.routes:
                return self.routes[key]
        return 404, {"error": "not found"}, {}


@pytest.fixture
def vendor_server() -> Iterator[VendorServer]:
    state = VendorServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state.requests.append((self.path, dict(self.headers)))
            status, body, headers = state.route(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
