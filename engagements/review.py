"""Reviewer exceptions: a discrepancy flagged during review, asked of the client, resolved.

The engagement stays in review while an exception is open (the state machine
refuses to move past review); resolving the last one returns it to the reviewer.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from engagements.choices import Milestone, TaskRole
from engagements.models import Engagement, ReviewException
from engagements.signals import review_exception_raised


@transaction.atomic
def review_exception_raise(
    *, engagement_id: int, note: str, actor: AbstractBaseUser | None
) -> ReviewException:
    note = note.strip()
    if not note:
        raise ValidationError("Describe the discrepancy so the client can clarify it.")
    engagement = Engagement.objects.select_for_update().get(pk=engagement_id)
    if engagement.milestone != Milestone.IN_REVIEW:
        raise ValidationError(
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
    transaction.on_commit(
        lambda: review_exception_raised.send(sender=ReviewException, exception_id=exception.pk)
    )
    return exception


@transaction.atomic
def review_exception_resolve(
    *, exception_id: int, resolution: str, actor: AbstractBaseUser | None
) -> ReviewException:
    resolution = resolution.strip()
    if not resolution:
        raise ValidationError("Say how the discrepancy was resolved.")
    exception = ReviewException.objects.select_for_update().get(pk=exception_id)
    if exception.resolved_at is not None:
        raise ValidationError("This exception is already resolved.")
    exception.resolved_at = timezone.now()
    exception.resolved_by = actor
    exception.resolution = resolution
    exception.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return exception
