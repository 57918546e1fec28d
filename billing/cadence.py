"""Which touch of a sequence is due, as plain arithmetic over dates (no Django, no clock).

A sequence is a list of steps, each a position (touch 1, 2, 3 ...) and a day counted
from the cycle's anchor (the due date, an instalment's due date, or the day a
partial payment, a broken promise or a resolved dispute restarted it).

1. The touch due on ``today`` is the *latest* step whose day has come and that this
   cycle has not sent yet. Steps passed over while nothing ran (the scheduler was
   down) are never sent late in a burst: catching up sends the one touch due now.
2. After a touch, the next is the first later step; its date is when the daily run
   looks at the invoice again (``next_touch_on``). None: the sequence is spent.
3. A restart (new cycle) skips the steps before the anchor (a payment plan's
   "upcoming instalment" reminders are about a date that has passed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class StepAt:
    position: int
    day: int


def due_step(
    steps: Sequence[StepAt], *, anchor: date, last_position: int, today: date
) -> StepAt | None:
    """The step to send today, or None (``steps`` in position order)."""
    due = None
    for step in steps:
        if step.position <= last_position:
            continue
        if anchor + timedelta(days=step.day) <= today:
            due = step  # a later one that has come replaces an earlier one: no burst
    return due


def next_touch_on(steps: Sequence[StepAt], *, anchor: date, last_position: int) -> date | None:
    """When the first step after ``last_position`` falls due; None when none is left."""
    for step in steps:
        if step.position > last_position:
            return anchor + timedelta(days=step.day)
    return None


def restart_position(steps: Sequence[StepAt], *, anchor: date, today: date) -> int:
    """The position a new cycle starts after: steps before its anchor that are already
    past (reminders ahead of a date that has come) count as spent."""
    spent = 0
    for step in steps:
        if step.day <= 0 and anchor + timedelta(days=step.day) < today:
            spent = step.position
    return spent
