"""Signed upload links: one per engagement, no login, the signature is the credential."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.exceptions import ApplicationError
from engagements.models import Engagement

SALT = "closeloop.engagements.upload-link"


class UploadLinkError(ApplicationError):
    """The upload link is tampered with, expired or malformed; ``message`` says which."""


def upload_token(*, engagement_id: int) -> str:
    return signing.dumps({"e": engagement_id}, salt=SALT, compress=True)


def upload_url(engagement: Engagement) -> str:
    token = upload_token(engagement_id=engagement.pk)
    return settings.SITE_URL + reverse("engagements:document-upload", args=[token])


def read_upload_token(token: str) -> int:
    """The engagement id the link was made for; UploadLinkError when it cannot be used."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.UPLOAD_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise UploadLinkError(
            "This upload link has expired. Reply to our last email and we will send you a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise UploadLinkError(
            "This upload link is not valid. It may have been cut short when it was copied: "
            "open it straight from our email, or reply and ask for a new one."
        ) from exc
    try:
        return int(data["e"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError) as exc:
        raise UploadLinkError("This upload link is not valid.") from exc
