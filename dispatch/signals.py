"""What dispatch announces after commit; notifications (email, ICS, Slack) subscribe here."""

from django.dispatch import Signal

task_assigned = Signal()  # decision_id (urgent overloads are told to the manager from here)
confirmation_needed = Signal()  # decision_id: a requested staffer over threshold
escalation_opened = Signal()  # escalation_id
