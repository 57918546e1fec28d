"""How each sender signs, checked exactly as that sender signs (plain Python, no Django).

| source   | header                | signed bytes                 | encoding | timestamp |
| Stripe   | Stripe-Signature      | "<t>." + raw body            | hex      | t older than tolerance refused; several v1 accepted, v0 ignored |
| Xero     | x-xero-signature      | raw body                     | base64   | none |
| QBO      | intuit-signature      | raw body                     | base64   | none |
| Karbon   | Signature             | raw body                     | hex      | none |
| generic  | Closeloop-Signature   | "<t>." + raw body            | hex      | refused when more than tolerance away from now, either way |

The key is the secret string's UTF-8 bytes (Stripe's ``whsec_…`` included, as
Stripe's libraries do). Every comparison is constant-time; any of the
integration's active secrets (two during a rotation) may match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from enum import Enum

CLOSELOOP_SIGNATURE_HEADER = "Closeloop-Signature"


class Check(str, Enum):
    OK = "ok"
    MISSING = "missing"
    BAD = "bad"
    STALE = "stale"


def _mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def body_signature_ok(
    *, header: str | None, body: bytes, secrets: Iterable[str], encoding: str
) -> Check:
    """Xero and QuickBooks (base64) and Karbon (hex): HMAC-SHA256 of the raw body."""
    if not header:
        return Check.MISSING
    value = header.strip()
    try:
        given = (
            base64.b64decode(value, validate=True) if encoding == "base64" else bytes.fromhex(value)
        )
    except (binascii.Error, ValueError):
        return Check.BAD
    for secret in secrets:
        if hmac.compare_digest(_mac(secret, body), given):
            return Check.OK
    return Check.BAD


def _timestamped(
    *,
    header: str | None,
    body: bytes,
    secrets: Sequence[str],
    now: float,
    tolerance: int,
    both_ways: bool,
) -> Check:
    if not header:
        return Check.MISSING
    timestamp: int | None = None
    signatures: list[bytes] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return Check.BAD
        elif key == "v1":
            try:
                signatures.append(bytes.fromhex(value))
            except ValueError:
                continue  # a malformed extra signature does not spoil a good one
    if timestamp is None or not signatures:
        return Check.BAD
    signed = str(timestamp).encode() + b"." + body
    if not any(
        hmac.compare_digest(_mac(secret, signed), given)
        for secret in secrets
        for given in signatures
    ):
        return Check.BAD
    age = now - timestamp
    if age > tolerance or (both_ways and -age > tolerance):
        return Check.STALE
    return Check.OK


def stripe_signature_ok(
    *, header: str | None, body: bytes, secrets: Sequence[str], now: float, tolerance: int = 300
) -> Check:
    """Stripe: ``t=<unix>,v1=<hex>[,v1=…]``; like stripe-python, only an *old* t is refused."""
    return _timestamped(
        header=header, body=body, secrets=secrets, now=now, tolerance=tolerance, both_ways=False
    )


def closeloop_signature_ok(
    *, header: str | None, body: bytes, secrets: Sequence[str], now: float, tolerance: int = 300
) -> Check:
    """Closeloop's generic format: Stripe's scheme, refused when too far from now either way."""
    return _timestamped(
        header=header, body=body, secrets=secrets, now=now, tolerance=tolerance, both_ways=True
    )


def closeloop_sign(*, secret: str, body: bytes, timestamp: int) -> str:
    """The ``Closeloop-Signature`` header value a sender puts on ``body``."""
    signed = str(timestamp).encode() + b"." + body
    return f"t={timestamp},v1={_mac(secret, signed).hex()}"


def stripe_sign(*, secret: str, body: bytes, timestamp: int) -> str:
    """A ``Stripe-Signature`` header as Stripe computes it (for tests and tools)."""
    return closeloop_sign(secret=secret, body=body, timestamp=timestamp)


def body_sign(*, secret: str, body: bytes, encoding: str) -> str:
    """Xero/QuickBooks (base64) or Karbon (hex) signature of ``body``."""
    mac = _mac(secret, body)
    return base64.b64encode(mac).decode() if encoding == "base64" else mac.hex()
