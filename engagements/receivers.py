"""Keep the close dashboard's version stamp moving whenever what it shows changes."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from core.services import change_stamp_bump
from engagements.models import (
    Engagement,
    MilestoneTransition,
    RequiredDocument,
    ReviewException,
    Task,
)

CLOSE_STAMP = "close-dashboard"


def _bump(sender: object, **kwargs: object) -> None:
    change_stamp_bump(CLOSE_STAMP)


for model in (Engagement, Task, RequiredDocument, ReviewException, MilestoneTransition):
    post_save.connect(_bump, sender=model, dispatch_uid=f"close-stamp-save-{model.__name__}")
    post_delete.connect(_bump, sender=model, dispatch_uid=f"close-stamp-delete-{model.__name__}")
