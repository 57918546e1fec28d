"""Engagement events other apps may react to, sent after commit.

Receivers hold no rules: what must happen with a change happens in the service
that makes it (dispatch owed, messages stored, the dashboard stamp bumped).
"""

from django.dispatch import Signal

# engagement_id, milestone: sent after commit whenever an engagement enters a step
# (billing will listen).
milestone_changed = Signal()
