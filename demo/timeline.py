"""Where each step of a work type's milestone template falls in a demo engagement's life.

The planner decides one time per *phase* of the work (opened, everything in hand,
preparation started and finished, review started and finished, invoiced,
delivered, closed); the template decides which steps exist and in what order.
Reading the template rather than a fixed list keeps the demo right for every
work type (an audit starts at "kickoff signed" and has no delivery step) and
for templates an admin has edited.

Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engagements.choices import Milestone, TriggerEvent
from engagements.milestones import Step

OPENED, READY, PREP_STARTED, PREP_DONE, REVIEW_STARTED, REVIEW_DONE = range(6)
INVOICED, DELIVERED, CLOSED = range(6, 9)
PHASES = 9

# The step codes the seeded templates use, by the phase that reaches them. The
# first step of every template is entered when the engagement opens.
STEP_PHASES: dict[str, int] = {
    Milestone.DOCUMENTS_REQUESTED: OPENED,
    "kickoff_signed": OPENED,
    "session_confirmed": OPENED,
    "headcount_change": OPENED,
    Milestone.DOCUMENTS_RECEIVED: READY,
    Milestone.IN_PREPARATION: PREP_STARTED,
    Milestone.PREPARATION_COMPLETE: PREP_DONE,
    Milestone.IN_REVIEW: REVIEW_STARTED,
    Milestone.REVIEW_COMPLETE: REVIEW_DONE,
    Milestone.INVOICED: INVOICED,
    Milestone.DELIVERED: DELIVERED,
    Milestone.CLOSED: CLOSED,
}

# Which task must have someone on it for a step to happen.
NEEDS_NOBODY, NEEDS_PREPARER, NEEDS_REVIEWER = 0, 1, 2


def step_phases(template: Sequence[Step]) -> list[int]:
    """The phase of each step; a code the demo does not know (an admin added it)
    shares the phase of the step before it."""
    phases = []
    previous = OPENED
    for step in template:
        previous = STEP_PHASES.get(step.code, previous)
        phases.append(previous)
    return phases


def plan_steps(
    template: Sequence[Step], times: Sequence[datetime]
) -> list[tuple[str, datetime, int]]:
    """(code, planned time, needs) for each step, ``times`` given per phase.

    1. Each step takes its phase's time (``step_phases``).
    2. Times never go backwards along the template, whatever order an admin chose.
    3. The step after a "close" step is reached at the same moment: the state
       machine moves on at once (delivered → closed).
    """
    steps: list[tuple[str, datetime, int]] = []
    closes = False
    for step, phase in zip(template, step_phases(template), strict=True):
        at = times[phase]
        if steps:
            previous = steps[-1][1]
            at = previous if closes else max(at, previous)
        if phase >= REVIEW_STARTED:
            needs = NEEDS_REVIEWER
        elif phase >= PREP_STARTED:
            needs = NEEDS_PREPARER
        else:
            needs = NEEDS_NOBODY
        steps.append((step.code, at, needs))
        closes = step.on_enter == "close"
    return steps


def dispatch_phase(template: Sequence[Step], trigger_event: str, has_checklist: bool) -> int:
    """When the preparer is sent to dispatch: on entering the template's
    ``dispatch_preparer`` step; without a template, at once, or when the documents
    are in for work triggered by them (engagements.services)."""
    for step, phase in zip(template, step_phases(template), strict=True):
        if step.on_enter == "dispatch_preparer":
            return min(phase, READY)
    if not template and trigger_event == TriggerEvent.DOCUMENTS_COMPLETE and has_checklist:
        return READY
    return OPENED


def reachable(steps: Sequence[tuple[str, datetime, int]], missing: int) -> int:
    """How many steps can happen when the task ``missing`` names has nobody on it."""
    for index, (_code, _at, needs) in enumerate(steps):
        if needs >= missing:
            return index
    return len(steps)
