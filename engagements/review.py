"""Reviewer exceptions: a discrepancy flagged during review, asked of the client, resolved.

The engagement stays in review while an exception is open (the state machine
refuses to move past review); resolving the last one returns it to the reviewer.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from core.services import change_stamp_bump
from core.types import User
from engagements.choices import CLOSE_STAMP, Milestone, TaskRole
from engagements.messages import notify_clarification_request
from engagements.models import Engagement, ReviewException


@transaction.atomic
def review_exception_raise(*, engagement_id: int, note: str, actor: User | None) -> ReviewException:
    note = note.strip()
    if not note:
        raise ApplicationError("Describe the discrepancy so the client can clarify it.")
    engagement = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("client", "work_type")
        .get(pk=engagement_id)
    )
    if engagement.milestone != Milestone.IN_REVIEW:
        raise ApplicationError(
            "Exceptions are raised during review; this engagement is not in review."
        )
    reviewer_task = engagement.tasks.filter(role=TaskRole.REVIEWER).first()
    exception = ReviewException.objects.create(
        engagement=engagement,
        task=reviewer_task,
        note=note,
        raised_by=actor,
        raised_at=timezone.now(),
    )
    if engagement.client.email:
        notify_clarification_request(exception=exception)
    change_stamp_bump(CLOSE_STAMP)
    return exception


@transaction.atomic
def review_exception_resolve(
    *, exception_id: int, resolution: str, actor: User | None
) -> ReviewException:
    resolution = resolution.strip()
    if not resolution:
        raise ApplicationError("Say how the discrepancy was resolved.")
    exception = ReviewException.objects.select_for_update().get(pk=exception_id)
    if exception.resolved_at is not None:
        raise ApplicationError("This exception is already resolved.")
    exception.resolved_at = timezone.now()
    exception.resolved_by = actor
    exception.resolution = resolution
    exception.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    change_stamp_bump(CLOSE_STAMP)
    return exception
