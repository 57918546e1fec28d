"""The engagement state machine, driven by the work type's milestone template.

Rules:
1. Steps come in the template's order; "new" is the state before the first.
2. A person (source "button") moves one step forward at a time.
3. The system, a webhook or a beat job may move further forward: every step
   passed on the way is recorded (with the same time), and each step's
   ``on_enter`` action fires — so nothing is skipped silently.
4. Nothing moves backward, nothing leaves a review with an open exception, and a
   refused move raises ``TransitionRefused`` with the reason, changing nothing.
5. Actions: dispatch_preparer / dispatch_reviewer mark the role's tasks ready
   and owe them a dispatch (``engagements.readiness``), invoice records the
   billing milestone, close moves on to the template's last step. Entering
   documents_requested stores the client's document request in the outbox.
6. Every transition bumps the close dashboard's change stamp.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from core.services import change_stamp_bump
from core.types import User
from engagements import hooks
from engagements.choices import CLOSE_STAMP, Milestone, ReadyReason, TaskRole
from engagements.messages import notify_document_request
from engagements.models import (
    Engagement,
    EngagementMilestone,
    MilestoneSource,
    MilestoneTransition,
    WorkType,
)
from engagements.readiness import tasks_mark_ready
from engagements.signals import milestone_changed
from notifications.choices import WebhookEventType
from notifications.webhooks import webhook_event_record


class TransitionRefused(Conflict):
    """The move is not allowed from where the engagement stands; the message says why."""


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    on_enter: str | None = None


def template_for(work_type: WorkType) -> list[Step]:
    return [
        Step(code=s["code"], label=s["label"], on_enter=s.get("on_enter") or None)
        for s in work_type.milestone_template
    ]


def step_label(steps: Iterable[Step], code: str) -> str:
    """A milestone's words: the work type's own label for the step, "New" before the
    first, and the code in words for a step its template no longer has."""
    for step in steps:
        if step.code == code:
            return step.label
    if code == Milestone.NEW:
        return Milestone.NEW.label
    return code.replace("_", " ").capitalize()


def position(work_type: WorkType, code: str) -> int:
    """0 for "new", then 1..n along the template; -1 for a code not in it."""
    if code == Milestone.NEW:
        return 0
    codes = [step.code for step in template_for(work_type)]
    return codes.index(code) + 1 if code in codes else -1


def has_step(work_type: WorkType, code: str) -> bool:
    return position(work_type, code) > 0


def _run_action(engagement: Engagement, step: Step, at: datetime) -> None:
    reason = {
        "dispatch_preparer": ReadyReason.DOCUMENTS_RECEIVED
        if step.code == Milestone.DOCUMENTS_RECEIVED
        else ReadyReason.ENGAGEMENT_CREATED,
        "dispatch_reviewer": ReadyReason.PRIOR_TASK_COMPLETED,
    }.get(step.on_enter or "")
    if reason is None:
        return  # "invoice": billing drafts the invoice from its milestone_entered hook
    role = TaskRole.PREPARER if step.on_enter == "dispatch_preparer" else TaskRole.REVIEWER
    ready = engagement.tasks.filter(role=role).values_list("pk", flat=True)
    tasks_mark_ready(task_ids=ready, trigger=reason, at=at)


@transaction.atomic
def engagement_transition(
    *,
    engagement_id: int,
    to: str,
    source: str,
    actor: User | None = None,
    at: datetime | None = None,
    note: str = "",
) -> Engagement:
    """Move an engagement to ``to`` under the rules above; returns it, moved."""
    at = at or timezone.now()
    engagement = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("work_type", "client")
        .get(pk=engagement_id)
    )
    steps = template_for(engagement.work_type)
    codes = [step.code for step in steps]
    if to not in codes:
        raise TransitionRefused(
            f"{engagement.work_type.name} has no milestone {to!r}; its steps are: {', '.join(codes)}."
        )
    current = position(engagement.work_type, engagement.milestone)
    target = codes.index(to) + 1
    if target <= current:
        raise TransitionRefused(
            f"{engagement} is already at {engagement.milestone_label}; "
            "milestones only move forward."
        )
    if source == MilestoneSource.BUTTON and target != current + 1:
        raise TransitionRefused(f"Next is {steps[current].label}; steps cannot be skipped by hand.")
    review_codes = {Milestone.IN_REVIEW}
    if (
        engagement.milestone in review_codes
        and engagement.exceptions.filter(resolved_at__isnull=True).exists()
    ):
        raise TransitionRefused("Resolve the open review exceptions before moving past review.")
    for number, step in enumerate(steps[current:target], start=current + 1):
        if position(engagement.work_type, engagement.milestone) >= number:
            continue  # a "close" step already moved past it
        _enter(engagement, step, source=source, actor=actor, at=at, note=note)
    return engagement


def _enter(
    engagement: Engagement,
    step: Step,
    *,
    source: str,
    actor: User | None,
    at: datetime,
    note: str,
) -> None:
    previous = engagement.milestone
    engagement.milestone = step.code
    engagement.save(update_fields=["milestone", "updated_at"])
    MilestoneTransition.objects.create(
        engagement=engagement,
        from_milestone=previous,
        to_milestone=step.code,
        source=source,
        actor=actor,
        at=at,
        note=note[:300],
    )
    EngagementMilestone.objects.get_or_create(
        engagement=engagement, milestone=step.code, defaults={"reached_at": at}
    )
    webhook_event_record(
        event_type=WebhookEventType.MILESTONE_CHANGED,
        record_type="engagement",
        record_id=engagement.pk,
        data={
            "engagement": {
                "id": engagement.pk,
                "client_id": engagement.client_id,
                "work_type": engagement.work_type.code,
                "external_id": engagement.external_id,
                "source": engagement.source,
            },
            "from": previous,
            "to": step.code,
            "label": step.label,
            "changed_by": source,
        },
    )
    _run_action(engagement, step, at)
    hooks.milestone_entered(engagement, step.code, step.on_enter, at)
    if step.code == Milestone.DOCUMENTS_REQUESTED and engagement.client.email:
        notify_document_request(engagement=engagement)
    change_stamp_bump(CLOSE_STAMP)
    transaction.on_commit(
        lambda: milestone_changed.send(
            sender=Engagement, engagement_id=engagement.pk, milestone=step.code
        )
    )
    if step.on_enter == "close":
        steps = template_for(engagement.work_type)
        index = [s.code for s in steps].index(step.code)
        if index + 1 < len(steps):
            _enter(
                engagement,
                steps[index + 1],
                source=MilestoneSource.SYSTEM,
                actor=None,
                at=at,
                note="",
            )


def advance_if_later(
    *, engagement_id: int, to: str, source: str = MilestoneSource.SYSTEM, at: datetime | None = None
) -> bool:
    """System events (a task started or finished, documents in) move the engagement
    to ``to`` when its template has that step and it is not there yet; else nothing."""
    engagement = Engagement.objects.select_related("work_type").get(pk=engagement_id)
    target = position(engagement.work_type, to)
    if target <= 0 or target <= position(engagement.work_type, engagement.milestone):
        return False
    engagement_transition(engagement_id=engagement_id, to=to, source=source, at=at)
    return True


@dataclass(frozen=True)
class MilestoneLabel:
    """One milestone label as the pages show it, and the (work type, step) pairs that
    carry it: "In bookkeeping" is the close's and the bookkeeping's in_preparation."""

    label: str
    steps: tuple[tuple[int, str], ...]  # (work type id, milestone code)
    codes: frozenset[str]


def milestone_labels(work_types: list[WorkType]) -> list[MilestoneLabel]:
    """Every label the work types' templates use, "New" first, in the order work moves
    through them (the mean of each label's place along its templates), so a firm-wide
    count by label accounts for every state an engagement can be in."""
    places: dict[str, list[float]] = {Milestone.NEW.label: [0.0]}
    steps: dict[str, list[tuple[int, str]]] = {Milestone.NEW.label: []}
    for work_type in work_types:
        template = template_for(work_type)
        steps[Milestone.NEW.label].append((work_type.pk, Milestone.NEW))
        for index, step in enumerate(template, start=1):
            places.setdefault(step.label, []).append(index / len(template))
            steps.setdefault(step.label, []).append((work_type.pk, step.code))
    ordered = sorted(places, key=lambda label: sum(places[label]) / len(places[label]))
    return [
        MilestoneLabel(
            label=label,
            steps=tuple(steps[label]),
            codes=frozenset(code for _, code in steps[label]),
        )
        for label in ordered
    ]
