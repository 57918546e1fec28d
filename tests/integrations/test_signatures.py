"""Each vendor's signature, checked as the vendor signs it (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.signatures import (
    Check,
    body_sign,
    body_signature_ok,
    closeloop_sign,
    closeloop_signature_ok,
    stripe_sign,
    stripe_signature_ok,
)

PAYLOADS = Path(__file__).parent / "payloads"
NOW = 1_750_000_000


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def test_qbo_published_vector_verifies():
    """A QuickBooks legacy body with its published HMAC (base64) and verifier token."""
    body = (
        b'{"eventNotifications":[{"realmId":"123456","dataChangeEvent":{"entities":'
        b'[{"name":"Customer","id":"1","operation":"Create"}]}}]}'
    )
    signature = "Z4nW8Pf8RTZ0UAs1umqJT2AhaK+BmTZ9oUxNluw0o+w="

    assert (
        body_signature_ok(
            header=signature, body=body, secrets=["test-secret-key"], encoding="base64"
        )
        == Check.OK
    )
    assert (
        body_signature_ok(
            header=signature, body=body + b" ", secrets=["test-secret-key"], encoding="base64"
        )
        == Check.BAD
    )


@pytest.mark.parametrize(
    "name,encoding",
    [
        ("qbo_legacy_customer_create_signed_vector.json", "base64"),
        ("qbo_account_created_cloudevents.json", "base64"),
        ("xero_invoice_webhook.json", "base64"),
        ("karbon_work_item_status_changed.json", "hex"),
    ],
)
def test_body_signatures_verify_and_refuse_tampering_and_wrong_secrets(name, encoding):
    body = payload(name)
    header = body_sign(secret="verifier-token", body=body, encoding=encoding)

    assert (
        body_signature_ok(header=header, body=body, secrets=["verifier-token"], encoding=encoding)
        == Check.OK
    )
    tampered = body.replace(b"1", b"2", 1)
    assert (
        body_signature_ok(
            header=header, body=tampered, secrets=["verifier-token"], encoding=encoding
        )
        == Check.BAD
    )
    assert (
        body_signature_ok(header=header, body=body, secrets=["other"], encoding=encoding)
        == Check.BAD
    )
    assert (
        body_signature_ok(header=None, body=body, secrets=["verifier-token"], encoding=encoding)
        == Check.MISSING
    )
    assert (
        body_signature_ok(header="%%%", body=body, secrets=["verifier-token"], encoding=encoding)
        == Check.BAD
    )


def test_either_of_two_secrets_verifies_during_a_rotation():
    body = payload("xero_contact_update_webhook.json")
    old = body_sign(secret="old-key", body=body, encoding="base64")

    assert (
        body_signature_ok(header=old, body=body, secrets=["new-key", "old-key"], encoding="base64")
        == Check.OK
    )


def test_stripe_signature_as_stripe_computes_it():
    """HMAC-SHA256 of "<t>.<body>" with the whole whsec_ secret, lowercase hex."""
    import hashlib
    import hmac

    body = payload("stripe_event_envelope_openapi_fixture.json")
    secret = "whsec_test_secret"
    expected = hmac.new(secret.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()

    assert stripe_sign(secret=secret, body=body, timestamp=NOW) == f"t={NOW},v1={expected}"
    header = f"t={NOW},v1={'0' * 64},v1={expected},v0=ignored"
    assert stripe_signature_ok(header=header, body=body, secrets=[secret], now=NOW + 10) == Check.OK


def test_stripe_refuses_stale_tampered_and_wrong_secret_but_not_a_future_timestamp():
    body = payload("stripe_event_envelope_openapi_fixture.json")
    header = stripe_sign(secret="whsec_a", body=body, timestamp=NOW)

    assert (
        stripe_signature_ok(header=header, body=body, secrets=["whsec_a"], now=NOW + 301)
        == Check.STALE
    )
    assert (
        stripe_signature_ok(header=header, body=body + b"\n", secrets=["whsec_a"], now=NOW)
        == Check.BAD
    )
    assert stripe_signature_ok(header=header, body=body, secrets=["whsec_b"], now=NOW) == Check.BAD
    assert (
        stripe_signature_ok(header=header, body=body, secrets=["whsec_a"], now=NOW - 600)
        == Check.OK
    )
    assert (
        stripe_signature_ok(header="t=abc,v1=00", body=body, secrets=["whsec_a"], now=NOW)
        == Check.BAD
    )
    assert (
        stripe_signature_ok(header=f"t={NOW}", body=body, secrets=["whsec_a"], now=NOW) == Check.BAD
    )


def test_closeloop_generic_format_refuses_either_direction_out_of_tolerance():
    body = b'{"id":"evt-1","type":"job.created","data":{}}'
    header = closeloop_sign(secret="s3cret", body=body, timestamp=NOW)

    assert (
        closeloop_signature_ok(header=header, body=body, secrets=["s3cret"], now=NOW + 299)
        == Check.OK
    )
    assert (
        closeloop_signature_ok(header=header, body=body, secrets=["s3cret"], now=NOW + 301)
        == Check.STALE
    )
    assert (
        closeloop_signature_ok(header=header, body=body, secrets=["s3cret"], now=NOW - 301)
        == Check.STALE
    )
    assert (
        closeloop_signature_ok(header=None, body=body, secrets=["s3cret"], now=NOW) == Check.MISSING
    )
