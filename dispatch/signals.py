"""What dispatch announces after commit; notifications (email, ICS, Slack) subscribe here."""

from django.dispatch import Signal

task_assigned = Signal()  # decision_id
staff_overloaded = Signal()  # decision_id: an urgent override pushed someone past threshold
confirmation_needed = Signal()  # decision_id: a requested staffer over threshold
escalation_opened = Signal()  # escalation_id
