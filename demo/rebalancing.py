"""The demo firm's rebalancing proposal, made the way a real one is.

Documents arrive for several clients at once (``required_document_receive``, as an
upload would record them), and a manager hands the work, by hand
(``task_assign_manual``, the manager's override path), to the busiest qualified
person, who ends the week over their threshold; then the rebalancing loop runs
(``rebalance_run``, the beat job's service) and proposes moving some of that
not-yet-accepted work to colleagues with room. Nothing here writes a proposal itself.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from dispatch.engine.eligibility import eligibility_problem
from dispatch.models import DispatchDecision
from dispatch.plan_services import rebalance_run
from dispatch.planning import EMPTY_POOL, firm_work, troubled_people
from dispatch.roster import roster_forget
from dispatch.selectors import DispatchSnapshot, task_to_place, tasks_for_dispatch
from dispatch.services import task_assign_manual
from engagements.choices import Milestone, TaskRole, TaskStatus, TriggerEvent
from engagements.models import Task
from engagements.services import required_document_receive
from staff.choices import Role
from staff.models import StaffMember

OVER_BY = 0.15  # hand out rush work until the person is this far past their threshold
MAX_RUSH_TASKS = 6
RUSH_REASON = "Rush: the client's statements came in early and they asked for it this week."


def demo_rebalance(*, today: date) -> int:
    """Overload one person by hand and run the loop; returns the proposals made.
    Idempotent: a firm whose rush work was already handed out is left alone."""
    if DispatchDecision.objects.filter(override_reason=RUSH_REASON).exists():
        return 0  # the story was told on an earlier run
    manager = (
        StaffMember.objects.filter(role=Role.MANAGER, active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if manager is None:
        return 0
    # Unassigned preparation waiting only for the client's documents.
    waiting = (Milestone.NEW, Milestone.DOCUMENTS_REQUESTED)
    on_documents = (TriggerEvent.DOCUMENTS_COMPLETE, TriggerEvent.MONTHLY_CALENDAR)
    # The firm was just written in bulk: read it afresh, not from a roster kept from before.
    roster_forget()
    # Not ``plannable_tasks``: work waiting on documents due past the sweep's horizon is
    # not in the week's plan until the documents come in, which is what the story does.
    # Whatever this morning's replay already received and dispatched is no longer waiting.
    tasks = list(
        tasks_for_dispatch(
            Task.objects.filter(
                status=TaskStatus.UNASSIGNED,
                role=TaskRole.PREPARER,
                engagement__milestone__in=waiting,
                engagement__work_type__trigger_event__in=on_documents,
            )
        ).order_by("due_date", "pk")
    )
    firm = firm_work(today=today, task_ids=[t.pk for t in tasks])

    def utilization(staff_id: int) -> float:
        profile = firm.snapshots[staff_id].profile(today)
        return profile.committed_week / profile.available_week if profile.available_week else 0.0

    staff = [
        pk for pk in firm.snapshots if firm.staff.members[pk].seniority <= 3
    ]  # someone who prepares routine work
    for staff_id in sorted(staff, key=lambda pk: (-utilization(pk), pk)):
        snapshot = firm.snapshots[staff_id]
        fitting = []
        for task in tasks:
            spec = task_to_place(
                task,
                policy=firm.policy,
                snapshot=DispatchSnapshot(
                    policy=firm.policy,
                    candidates=EMPTY_POOL,
                    open_work_seqs={},
                    required_skills=firm.staff.requirements.get(task.engagement.work_type_id, ()),
                    asked_off=frozenset(),
                    client_history={},
                ),
            )
            if spec.estimated_hours and eligibility_problem(spec, snapshot, today) is None:
                fitting.append(task)
        if len(fitting) < 2:
            continue
        for task in fitting[:MAX_RUSH_TASKS]:
            with transaction.atomic():
                for document_id in task.engagement.required_documents.filter(
                    received_at__isnull=True
                ).values_list("pk", flat=True):
                    required_document_receive(document_id=document_id)
            task_assign_manual(
                task_id=task.pk,
                staff_id=staff_id,
                reason=RUSH_REASON,
                actor=manager.user,
                today=today,
            )
            firm = firm_work(today=today)
            if utilization(staff_id) > firm.snapshots[staff_id].threshold + OVER_BY:
                break
        if staff_id in troubled_people(firm):
            return rebalance_run(today=today).proposed
    return 0
