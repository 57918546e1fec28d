"""How a stored notification leaves the building: email (with ICS) or Slack."""

from __future__ import annotations

import re
from collections.abc import Callable

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from notifications import registry
from notifications.choices import Channel
from notifications.models import Notification


class TransientSendError(Exception):
    """A failure worth retrying (timeouts, 5xx, rate limits)."""


class PermanentSendError(Exception):
    """A failure retrying will not fix (bad address, revoked token)."""


def send_email(notification: Notification) -> None:
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        to=[notification.recipient],
        headers={
            "Message-ID": notification.message_id,
            "X-Closeloop-Notification": notification.identity,
        },
    )
    if notification.html_body:
        message.attach_alternative(notification.html_body, "text/html")
    if notification.calendar:
        message.attach("assignment.ics", notification.calendar, "text/calendar; method=PUBLISH")
    for attachment in registry.attachments(notification):
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    try:
        message.send(fail_silently=False)
    except (OSError, TimeoutError) as exc:
        raise TransientSendError(f"Mail server: {exc}") from exc


SLACK_MEMBER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def slack_configured() -> bool:
    return bool(settings.SLACK_BOT_TOKEN or settings.SLACK_WEBHOOK_URL)


def send_slack(notification: Notification) -> None:
    text = f"*{notification.subject}*\n{notification.body}"
    if settings.SLACK_BOT_TOKEN:
        url = settings.SLACK_API_URL
        payload: dict[str, object] = {"channel": notification.recipient, "text": text}
        headers = {"Authorization": f"Bearer {settings.SLACK_BOT_TOKEN}"}
    else:
        url = settings.SLACK_WEBHOOK_URL
        # Without a member id the recipient is a display name ("Uma Patel"): no mention.
        mention = (
            f"<@{notification.recipient}> "
            if SLACK_MEMBER_ID.fullmatch(notification.recipient)
            else ""
        )
        payload = {"text": mention + text}
        headers = {}
    headers["X-Closeloop-Idempotency-Key"] = notification.identity
    try:
        response = requests.post(
            url, json=payload, headers=headers, timeout=settings.SLACK_TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        raise TransientSendError(f"Slack unreachable: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientSendError(f"Slack answered {response.status_code}")
    if response.status_code >= 400:
        raise PermanentSendError(
            f"Slack refused the message: {response.status_code} {response.text[:200]}"
        )
    if settings.SLACK_BOT_TOKEN:
        body = response.json() if response.content else {}
        if not body.get("ok", False):
            raise PermanentSendError(f"Slack error: {body.get('error', 'unknown')}")


SENDERS: dict[str, Callable[[Notification], None]] = {
    Channel.EMAIL: send_email,
    Channel.SLACK: send_slack,
}
