"""How a stored notification leaves the building: email (with ICS), Slack or SMS (Twilio)."""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
import requests
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from notifications import registry
from notifications.choices import Channel
from notifications.models import Notification, TeamsWebhook


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


def sms_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM)


def e164(number: object) -> str:
    """``number`` (a PhoneNumber or text) in E.164 when it is a valid number, else ""."""
    if not number:
        return ""
    try:
        parsed = (
            number
            if isinstance(number, phonenumbers.PhoneNumber)
            else phonenumbers.parse(str(number), None)
        )
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _twilio() -> TwilioClient:
    """Twilio's official client, with our timeout; ``TWILIO_API_BASE`` points it at a
    local server in tests (never the real network)."""
    client = TwilioClient(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS),
    )
    client.api.base_url = settings.TWILIO_API_BASE
    return client


def send_sms(notification: Notification) -> None:
    """One text message through Twilio's REST API (the ``twilio`` package), body as stored.

    Twilio has no idempotency key for sending; the outbox's claim is what makes a
    text go out at most once, and a send whose outcome is unknown is never retried
    blindly (the reaper marks it failed for a person to decide). Throttled (429) or a
    Twilio outage (5xx), or unreachable: retried; any other refusal: failed, in words.
    """
    try:
        _twilio().messages.create(
            to=notification.recipient, from_=settings.TWILIO_FROM, body=notification.body
        )
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise TransientSendError(f"Twilio answered {exc.status}") from exc
        raise PermanentSendError(f"Twilio refused the text: {exc.status} {exc.msg}") from exc
    except requests.RequestException as exc:
        raise TransientSendError(f"Twilio unreachable: {exc}") from exc


TEAMS_CACHE_KEY = "notifications:teams-targets"


def teams_targets() -> tuple[bool, frozenset[int]]:
    """(the firm has a Teams channel webhook, staff ids with one of their own), cached so a
    notification costs no query for it; ``TeamsWebhook.save`` forgets the cache."""
    cached = cache.get(TEAMS_CACHE_KEY)
    if cached is None:
        ids = list(TeamsWebhook.objects.values_list("staff_member_id", flat=True))
        cached = (None in ids, frozenset(pk for pk in ids if pk is not None))
        cache.set(TEAMS_CACHE_KEY, cached, timeout=300)
    return cached


def _teams_url(notification: Notification) -> str | None:
    rows = dict(
        TeamsWebhook.objects.filter(
            Q(staff_member_id=notification.staff_member_id) | Q(staff_member__isnull=True)
        ).values_list("staff_member_id", "url")
    )
    return rows.get(notification.staff_member_id) or rows.get(None)


def teams_card(notification: Notification) -> dict[str, object]:
    """An Adaptive Card message, as Teams Workflows' "post to a channel or chat when a
    webhook request is received" expects it."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": notification.subject,
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                        },
                        {
                            "type": "TextBlock",
                            "text": f"For {notification.recipient}",
                            "isSubtle": True,
                            "wrap": True,
                        },
                        {"type": "TextBlock", "text": notification.body[:20000], "wrap": True},
                    ],
                },
            }
        ],
    }


def send_teams(notification: Notification) -> None:
    url = _teams_url(notification)
    if not url:
        raise PermanentSendError("No Teams webhook for this person and no channel webhook.")
    try:
        response = requests.post(
            url,
            json=teams_card(notification),
            headers={"X-Closeloop-Idempotency-Key": notification.identity},
            timeout=settings.TEAMS_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise TransientSendError(f"Teams unreachable: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientSendError(f"Teams answered {response.status_code}")
    if response.status_code >= 400:
        raise PermanentSendError(
            f"Teams refused the message: {response.status_code} {response.text[:200]}"
        )


SENDERS: dict[str, Callable[[Notification], None]] = {
    Channel.EMAIL: send_email,
    Channel.SLACK: send_slack,
    Channel.SMS: send_sms,
    Channel.TEAMS: send_teams,
}
