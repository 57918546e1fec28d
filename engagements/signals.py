"""Engagement events other apps react to; sent inside the writing transaction.

Receivers must queue their work with ``transaction.on_commit``.
"""

from django.dispatch import Signal

# task_ids: tasks whose trigger has fired; trigger: a dispatch.choices.Trigger value.
work_ready = Signal()

# engagement_id, milestone: sent after commit whenever an engagement enters a step
# (the dashboard's version stamp and billing listen).
milestone_changed = Signal()

# exception_id: sent after commit when a reviewer flags a discrepancy; the client
# is asked to clarify (dispatch.notifications).
review_exception_raised = Signal()
