"""Signed one-click links in emails: bound to one task, one staff member, one action."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.exceptions import ApplicationError

SALT = "closeloop.dispatch.task-action"
ACTIONS = ("accept", "reassign")


class LinkError(ApplicationError):
    """The link is tampered with, expired or malformed; ``message`` says which."""


@dataclass(frozen=True)
class TaskAction:
    task_id: int
    staff_id: int
    action: str


def action_token(*, task_id: int, staff_id: int, action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    return signing.dumps({"t": task_id, "s": staff_id, "a": action}, salt=SALT, compress=True)


def action_url(*, task_id: int, staff_id: int, action: str) -> str:
    token = action_token(task_id=task_id, staff_id=staff_id, action=action)
    return settings.SITE_URL + reverse("dispatch:task-action", args=[token])


def read_action_token(token: str) -> TaskAction:
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.ACTION_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise LinkError("This link has expired. Open the task from your queue instead.") from exc
    except signing.BadSignature as exc:
        raise LinkError("This link is not valid. It may have been cut short or altered.") from exc
    if not isinstance(data, dict) or data.get("a") not in ACTIONS:
        raise LinkError("This link is not valid.")
    try:
        return TaskAction(task_id=int(data["t"]), staff_id=int(data["s"]), action=data["a"])
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("This link is not valid.") from exc
