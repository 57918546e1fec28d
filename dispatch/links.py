"""Signed one-click links in emails: bound to one task, one staff member, one action,
and the one assignment the email announced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    assignment: int  # the assignment it was made for: ``assignment_stamp(task.assigned_at)``


def assignment_stamp(assigned_at: datetime | None) -> int:
    """One assignment of a task, as a number: when it was made, in microseconds.

    Every assignment (dispatch, by hand, a confirmation, given back after a hand-back)
    sets ``assigned_at`` afresh, so a link made for one assignment stops working at
    the next, even when the task comes back to the same person.
    """
    return round(assigned_at.timestamp() * 1_000_000) if assigned_at else 0


def action_token(*, task_id: int, staff_id: int, action: str, assigned_at: datetime | None) -> str:
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    data = {"t": task_id, "s": staff_id, "a": action, "at": assignment_stamp(assigned_at)}
    return signing.dumps(data, salt=SALT, compress=True)


def action_url(*, task_id: int, staff_id: int, action: str, assigned_at: datetime | None) -> str:
    token = action_token(task_id=task_id, staff_id=staff_id, action=action, assigned_at=assigned_at)
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
        return TaskAction(
            task_id=int(data["t"]),
            staff_id=int(data["s"]),
            action=data["a"],
            assignment=int(data["at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkError("This link is not valid.") from exc
