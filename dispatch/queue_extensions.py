"""An explicit extension point for the staff queue's rows.

An upper layer (billing's timer) registers a ``QueueRowExtension`` when its app
is ready: a template included in every row's actions cell and a loader that
reads, once per page, what that template needs for the signed-in person. The
queue view merges the loaders' context; dispatch never imports the layer above.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from staff.models import StaffMember


@dataclass(frozen=True)
class QueueRowExtension:
    name: str
    template: str  # rendered inside each row (``task`` is in its context)
    load: Callable[[StaffMember], dict[str, object]]  # one read per page, not per row


_extensions: dict[str, QueueRowExtension] = {}


def register(extension: QueueRowExtension) -> None:
    """Add (or replace, by name) an extension."""
    _extensions[extension.name] = extension


def registered() -> tuple[QueueRowExtension, ...]:
    return tuple(_extensions.values())


def extension_context(staff: StaffMember) -> dict[str, object]:
    """What the registered extensions add to the queue page's context."""
    context: dict[str, object] = {
        "row_extension_templates": [e.template for e in _extensions.values()]
    }
    for extension in _extensions.values():
        context.update(extension.load(staff))
    return context
