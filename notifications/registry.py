"""Which templates still apply when their send comes round: one check per template.

The app that owns a message's subject registers its check beside its builder
(``dispatch/messages.py``, ``engagements/messages.py``); the sender asks here and
never learns what a task or an engagement is. A template with no check always
applies.
"""

from __future__ import annotations

from collections.abc import Callable

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
