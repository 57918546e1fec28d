"""Signed invoice links: the client opens their invoice and its PDF without logging in;
the signature is the credential and it expires (``INVOICE_LINK_MAX_AGE_SECONDS``)."""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.encoding import force_bytes

from core.exceptions import ApplicationError

SALT = "closeloop.billing.invoice-link"


class InvoiceLinkError(ApplicationError):
    """The link is tampered with, expired or malformed; the message says which."""


def invoice_token(*, invoice_id: int) -> str:
    return signing.dumps({"i": invoice_id}, salt=SALT, compress=True)


def invoice_public_url(*, invoice_id: int) -> str:
    return settings.SITE_URL + reverse(
        "billing:invoice-public", args=[invoice_token(invoice_id=invoice_id)]
    )


def read_invoice_token(token: str) -> int:
    """The invoice id the link was made for; InvoiceLinkError when it cannot be used."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.INVOICE_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise InvoiceLinkError(
            "This invoice link has expired. Reply to our email and we will send a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise InvoiceLinkError(
            "This invoice link is not valid. Open it straight from our email, or reply and ask for a new one."
        ) from exc
    try:
        return int(data["i"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvoiceLinkError("This invoice link is not valid.") from exc


class _BatchSigner(signing.TimestampSigner):
    """Django's ``TimestampSigner`` for a batch of ids: the same tokens as
    ``sign_object({key: id})`` (the readers unsign them with ``signing.loads``), made
    without the per-call set-up: the derived key hashed once (``salted_hmac`` hashes the
    secret on every call), the JSON of ``{key: id}`` written directly, the timestamp
    encoded once a second."""

    def __init__(self, *, salt: str) -> None:
        super().__init__(salt=salt)
        assert self.algorithm == "sha256"
        derived = hashlib.sha256(force_bytes(self.salt + "signer") + force_bytes(self.key))
        self._mac = hmac.new(derived.digest(), digestmod=hashlib.sha256)
        self._second = -1
        self._stamp = ""

    def signature(self, value: str | bytes, key: str | bytes | None = None) -> str:
        if key is not None and key != self.key:
            return super().signature(value, key)
        mac = self._mac.copy()
        mac.update(force_bytes(value))
        return signing.b64_encode(mac.digest()).decode()

    def timestamp(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second, self._stamp = second, signing.b62_encode(second)
        return self._stamp

    def sign_id(self, key: str, pk: int) -> str:
        """``sign_object({key: pk})``: JSONSerializer writes ``{"key":pk}``."""
        payload = signing.b64_encode(b'{"%s":%d}' % (key.encode(), pk)).decode()
        value = f"{payload}{self.sep}{self.timestamp()}"
        return f"{value}{self.sep}{self.signature(value)}"


class PublicLinks:
    """``invoice_public_url`` and ``statement_public_url`` for a batch job: the signers
    and the URL around the token made once (``reverse`` and the signer's set-up cost
    more than the signature). Read by the same readers; not compressed (an id's JSON
    never gets shorter, so ``compress`` only costs a zlib attempt each)."""

    def __init__(self) -> None:
        self._invoice = _BatchSigner(salt=SALT)
        self._statement = _BatchSigner(salt=STATEMENT_SALT)
        self._invoice_url = _around("billing:invoice-public")
        self._statement_url = _around("billing:statement-public")

    def invoice(self, invoice_id: int) -> str:
        token = self._invoice.sign_id("i", invoice_id)
        return self._invoice_url[0] + token + self._invoice_url[1]

    def statement(self, client_id: int) -> str:
        token = self._statement.sign_id("c", client_id)
        return self._statement_url[0] + token + self._statement_url[1]


def _around(name: str) -> tuple[str, str]:
    before, _, after = (settings.SITE_URL + reverse(name, args=["TOKEN"])).partition("TOKEN")
    return before, after


# The client's statement: every open invoice of theirs, one total, one place to pay
# (the follow-up email that lists several invoices links here).
STATEMENT_SALT = "closeloop.billing.statement-link"


def statement_token(*, client_id: int) -> str:
    return signing.dumps({"c": client_id}, salt=STATEMENT_SALT, compress=True)


def statement_public_url(*, client_id: int) -> str:
    return settings.SITE_URL + reverse(
        "billing:statement-public", args=[statement_token(client_id=client_id)]
    )


def read_statement_token(token: str) -> int:
    """The client id the statement link was made for; InvoiceLinkError when unusable."""
    try:
        data = signing.loads(
            token, salt=STATEMENT_SALT, max_age=settings.INVOICE_LINK_MAX_AGE_SECONDS
        )
    except signing.SignatureExpired as exc:
        raise InvoiceLinkError(
            "This statement link has expired. Reply to our email and we will send a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise InvoiceLinkError("This statement link is not valid.") from exc
    try:
        return int(data["c"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvoiceLinkError("This statement link is not valid.") from exc
