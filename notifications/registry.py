"""Per-template extension points the sender asks, never learning what a subject is.

- Which templates still apply when their send comes round: one check per template.
  A template with no check always applies.
- Which files go with an email (an invoice's PDF): one provider per template, run
  at send time, so the file shows the subject as it is when it leaves.

The app that owns a message's subject registers beside its builder
(``dispatch/messages.py``, ``engagements/messages.py``, ``billing/messages.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from notifications.models import Notification

StillApplies = Callable[[Notification], bool]

_checks: dict[str, StillApplies] = {}


def still_applies(*templates: str) -> Callable[[StillApplies], StillApplies]:
    """Register the decorated function as the check for ``templates``."""

    def register(check: StillApplies) -> StillApplies:
        for template in templates:
            existing = _checks.get(template)
            if existing is not None and existing is not check:
                raise ValueError(f"{template!r} already has a still-applies check")
            _checks[template] = check
        return check

    return register


def applies(notification: Notification) -> bool:
    check = _checks.get(notification.template)
    return True if check is None else check(notification)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


AttachmentsFor = Callable[[Notification], list[Attachment]]

_attachments: dict[str, AttachmentsFor] = {}


def attaches(*templates: str) -> Callable[[AttachmentsFor], AttachmentsFor]:
    """Register the decorated function as the file provider for ``templates``' emails."""

    def register(provider: AttachmentsFor) -> AttachmentsFor:
        for template in templates:
            existing = _attachments.get(template)
            if existing is not None and existing is not provider:
                raise ValueError(f"{template!r} already has an attachment provider")
            _attachments[template] = provider
        return provider

    return register


def attachments(notification: Notification) -> list[Attachment]:
    provider = _attachments.get(notification.template)
    return [] if provider is None else provider(notification)
