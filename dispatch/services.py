"""Writes for assignment: dispatch a task, assign by hand, confirm or decline a request,
act on an escalation.

Every path runs the same way:
1. lock the task row and read the snapshot (the task's facts and every
   candidate's, as values, in a constant number of queries); run the pure engine;
2. lock only the person chosen and re-check their load under the lock: if it
   changed since the snapshot (another dispatch just gave them work), decide
   again with their fresh figures, so dispatches for different people run in
   parallel and two dispatches never push one person past their threshold
   (SQLite's IMMEDIATE transaction already serializes writers);
3. apply the decision — task, decision row, escalation, and the notifications it
   owes (outbox rows) — in the same transaction; sends are published after commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError, Conflict
from core.queue import enqueue
from core.types import User
from dispatch import messages
from dispatch.choices import EscalationStatus, Trigger
from dispatch.engine import Decision, Outcome, TaskToPlace, decide
from dispatch.engine.rules import evaluate
from dispatch.models import DispatchDecision, Escalation
from dispatch.selectors import (
    DispatchSnapshot,
    dispatch_snapshot,
    open_work_for,
    task_for_dispatch,
    task_to_place,
)
from engagements.choices import TaskStatus
from engagements.lifecycle import TaskAction, actors_for, refusal
from engagements.models import Task
from engagements.readiness import DISPATCH_TASK
from engagements.services import task_deadline_extend
from notifications.choices import WebhookEventType
from staff.models import StaffMember

logger = logging.getLogger(__name__)


class DispatchError(ApplicationError):
    """A dispatch action that cannot be carried out, with a message for the user."""


class EscalationClosed(DispatchError, Conflict):
    """The escalation was resolved since the page (or the caller) last looked."""


def _lock_member(staff_id: int) -> StaffMember:
    locked = (
        StaffMember.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=staff_id)
        .order_by()  # by primary key: no ORDER BY (the staff default sorts by name)
    )
    member = next(iter(locked), None)
    if member is None:
        raise DispatchError("That staff member no longer exists.")
    return member


def _decide_under_lock(
    spec: TaskToPlace, snapshot: DispatchSnapshot, today: date
) -> tuple[Decision, StaffMember | None]:
    """Decide on the snapshot, then lock the person chosen and confirm their load.

    The snapshot was read without staff locks; once the chosen person's row is locked
    nobody else can change their plate (the database moves their ``open_work_seq``,
    on their row, whenever it changes). If the number moved since the snapshot, their
    open work is read again and, if it changed, the engine decides again with the
    fresh figures. A person re-read stays locked, so their figures cannot change
    again: the loop ends within one round per candidate.
    """
    candidates, seqs = snapshot.candidates, snapshot.open_work_seqs
    fresh_ids: set[int] = set()
    for _ in range(len(candidates) + 1):
        decision = decide(spec, candidates, today)
        if decision.assignee_id is None:
            return decision, None
        staff_id = decision.assignee_id
        member = _lock_member(staff_id)
        if staff_id in fresh_ids or member.open_work_seq == seqs.get(staff_id):
            return decision, member
        fresh_ids.add(staff_id)
        chosen = candidates.person(staff_id)
        fresh = open_work_for(staff_id=staff_id, effort=chosen.effort)
        if fresh == chosen.open_work:
            return decision, member
        candidates = candidates.replace([replace(chosen, open_work=fresh, _profiles={})])
    raise AssertionError("every candidate is locked and re-read by now")


def _locked_task(task_id: int) -> Task:
    # By primary key: no ORDER BY for the planner to cost (the task query is planned
    # on every dispatch).
    locked = task_for_dispatch(task_id=task_id).select_for_update(of=("self",)).order_by()
    task = next(iter(locked), None)
    if task is None:
        raise DispatchError(f"Task {task_id} does not exist.")
    return task


def _record(
    *,
    task: Task,
    decision: Decision,
    trigger: str,
    started: float,
    actor: User | None = None,
    is_override: bool = False,
    override_reason: str = "",
) -> DispatchDecision:
    if task.dispatch_requested_at is not None and decision.outcome != Outcome.ASSIGNED:
        # This decision settles the dispatch the task was owed (an assignment
        # settles it in the same UPDATE that assigns).
        _settle_request(task)
    record = DispatchDecision.objects.create(
        task=task,
        trigger=trigger,
        outcome=decision.outcome.value,
        assignee_id=decision.assignee_id,
        reasons=list(decision.reasons),
        rule_path=list(decision.rule_path),
        candidates=[row.as_dict() for row in decision.candidates],
        candidate_count=decision.candidate_count or len(decision.candidates),
        rejections=[list(item) for item in decision.rejections],
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        is_override=is_override,
        urgent_override=decision.urgent_override,
        requested_override=decision.requested_override,
        over_threshold=decision.over_threshold,
        override_reason=override_reason,
        actor=actor,
    )
    logger.info(
        "dispatch task=%s trigger=%s outcome=%s assignee=%s",
        task.pk,
        trigger,
        record.outcome,
        record.assignee_id,
    )
    return record


def _assign(
    task: Task,
    assignee: StaffMember,
    record: DispatchDecision,
    actor: User | None,
    *,
    batch: bool = False,
) -> None:
    """Give ``task`` to ``assignee`` (whose row the caller holds locked)."""
    now = timezone.now()
    task.assignee = assignee
    task.status = TaskStatus.ASSIGNED
    task.assigned_at = now
    fields = ["assignee", "status", "assigned_at", "updated_at"]
    if task.dispatch_requested_at is not None:
        task.dispatch_requested_at = None  # the dispatch the task was owed is settled
        task.dispatch_trigger = ""
        fields += ["dispatch_requested_at", "dispatch_trigger"]
    task.save(update_fields=fields)
    if getattr(task, "has_open_escalation", True):
        Escalation.objects.filter(task=task, status=EscalationStatus.OPEN).update(
            status=EscalationStatus.RESOLVED,
            resolved_at=now,
            resolved_by=actor,
            resolution=f"Assigned to {assignee} ({record.get_trigger_display().lower()}).",
        )
    # The assignee's email (and the manager's, for an urgent overload) commit with it.
    # The close board sees the assignment through the assignee's open_work_seq (moved by
    # the database with the task): no stamp to bump, no second commit after this one.
    messages.notify_task_assigned(decision=record, task=task, assignee=assignee, batch=batch)
    messages.webhook_task_event(
        WebhookEventType.ASSIGNMENT_CREATED,
        task,
        decision={"id": record.pk, "trigger": record.trigger, "is_override": record.is_override},
    )


def _escalate(
    task: Task, record: DispatchDecision, decision: Decision, *, announce: bool = True
) -> None:
    summary = "\n".join(decision.reasons)
    updated = 0
    if getattr(task, "has_open_escalation", True):
        updated = Escalation.objects.filter(task=task, status=EscalationStatus.OPEN).update(
            decision=record, summary=summary, gap_hours=decision.deadline_gap_hours
        )
    if not updated:
        escalation = Escalation.objects.create(
            task=task,
            decision=record,
            summary=summary,
            gap_hours=decision.deadline_gap_hours,
            # Left unannounced, a sweep's escalations go out in its digest.
            notified_at=timezone.now() if announce else None,
        )
        if announce:
            messages.notify_escalation_opened(escalation=escalation, task=task)
        messages.webhook_task_event(
            WebhookEventType.ESCALATION_OPENED,
            task,
            escalation={
                "id": escalation.pk,
                "summary": escalation.summary,
                "gap_hours": escalation.gap_hours,
            },
        )


def task_dispatch(
    *,
    task_id: int,
    trigger: str,
    today: date | None = None,
    exclude_staff_ids: Iterable[int] = (),
    actor: User | None = None,
    ignore_requested: bool = False,
    only_if_requested: bool = False,
    batch: bool = False,
) -> DispatchDecision | None:
    """Run the engine for one unassigned task and apply its decision.

    Returns None when the task is no longer waiting (already assigned, completed or
    cancelled) or, with ``only_if_requested`` (the worker's path), when no dispatch
    is owed any more: a re-queued or duplicated message decides nothing twice.

    ``batch``: one of many dispatches in a row (a sweep): an escalation waits for the
    batch's digest and the assignee's email is held for the batch to fold with their
    others (``dispatch.digests.batch_announce``).
    """
    started = time.perf_counter()
    today = today or timezone.localdate()
    with transaction.atomic():
        task = _locked_task(task_id)
        if only_if_requested and task.dispatch_requested_at is None:
            return None
        if task.status != TaskStatus.UNASSIGNED:
            _settle_request(task)
            return None
        awaiting = task.is_awaiting_confirmation  # type: ignore[attr-defined]  # task_for_dispatch
        if awaiting and trigger != Trigger.REASSIGNMENT:
            _settle_request(task)
            return None
        snapshot = dispatch_snapshot(task=task, today=today)
        spec = task_to_place(
            task,
            policy=snapshot.policy,
            snapshot=snapshot,
            exclude_staff_ids=frozenset(exclude_staff_ids),
            ignore_requested=ignore_requested,
        )
        decision, assignee = _decide_under_lock(spec, snapshot, today)
        record = _record(
            task=task, decision=decision, trigger=trigger, started=started, actor=actor
        )
        if decision.outcome == Outcome.ASSIGNED:
            assert assignee is not None
            # Notifying the assignee also tells their manager when urgent work overloaded them.
            _assign(task, assignee, record, actor, batch=batch)
        elif decision.outcome == Outcome.ESCALATED:
            _escalate(task, record, decision, announce=not batch)
        elif decision.outcome == Outcome.NEEDS_CONFIRMATION:
            if assignee is not None:
                record.assignee = assignee  # loaded with the lock: the email names them
            messages.notify_confirmation_needed(decision=record, task=task)
        return record


def _settle_request(task: Task) -> None:
    if task.dispatch_requested_at is not None:
        Task.objects.filter(pk=task.pk).update(dispatch_requested_at=None, dispatch_trigger="")
        task.dispatch_requested_at = None
        task.dispatch_trigger = ""


def task_assign_manual(
    *,
    task_id: int,
    staff_id: int,
    reason: str,
    actor: User,
    today: date | None = None,
) -> DispatchDecision:
    """A manager assigns by hand: logged as an override with their reason, counted in capacity.

    The engine still runs so the log shows where the chosen person stood.
    """
    reason = reason.strip()
    if not reason:
        raise DispatchError("Give a reason for assigning by hand.")
    started = time.perf_counter()
    today = today or timezone.localdate()
    with transaction.atomic():
        task = _locked_task(task_id)
        refused = refusal(
            TaskAction.ASSIGN,
            status=task.status,
            actors=actors_for(is_assignee=False, is_manager=True),
        )
        if refused is not None:
            raise DispatchError(refused.message)
        member = StaffMember.objects.filter(pk=staff_id, active=True).first()
        if member is None:
            raise DispatchError("That staff member does not exist or is inactive.")
        member = _lock_member(staff_id)
        snapshot = dispatch_snapshot(task=task, today=today, also_staff_id=staff_id)
        spec = task_to_place(task, policy=snapshot.policy, snapshot=snapshot, ignore_requested=True)
        # A manager's choice: nobody is excluded and urgency overrides nothing.
        spec = replace(spec, urgent=False, excluded_staff_ids=frozenset())
        candidates = snapshot.candidates
        engine = decide(spec, candidates, today)
        chosen = candidates.person(staff_id)
        row = evaluate(spec, chosen, today)
        table = engine.candidates
        if all(r.staff_id != staff_id for r in table):
            table = (row, *table)
        reasons = [f"Assigned by hand to {member.display_name}: {reason}"]
        if not row.kept:
            reasons.append(f"The rule would not have chosen them: {row.reason}.")
        if engine.outcome == Outcome.HELD_ACCOUNT_HOLD:
            reasons.append(f"Assigned by hand despite the hold: {engine.reasons[0]}")
        decision = Decision(
            outcome=Outcome.ASSIGNED,
            assignee_id=staff_id,
            reasons=tuple(reasons),
            rule_path=("manual",),
            candidates=table,
            over_threshold=row.utilization_after > row.threshold,
            candidate_count=engine.candidate_count,
            rejections=engine.rejections,
        )
        record = _record(
            task=task,
            decision=decision,
            trigger=Trigger.MANUAL,
            started=started,
            actor=actor,
            is_override=True,
            override_reason=reason,
        )
        DispatchDecision.objects.awaiting_confirmation().filter(task=task).update(
            confirmed_at=timezone.now(), confirmed_by=actor
        )
        _assign(task, member, record, actor)
        return record


def task_assign_planned(
    *,
    task_id: int,
    staff_id: int,
    expected_assignee_id: int | None,
    trigger: str,
    reason: str,
    actor: User,
    today: date | None = None,
) -> DispatchDecision:
    """One line of a plan a manager approved (plan the week, or a rebalancing move):
    give the task to ``staff_id`` if it still stands as the plan saw it.

    Locks the task, then the person, and re-checks under the locks as a dispatch
    does: the task must still be unassigned (or, for a move, still with
    ``expected_assignee_id`` and not yet accepted); the person must still pass the
    engine's rules with their open work as it is now (skills, seniority, reviewer,
    threshold, deadline fit). Raises ``DispatchError`` saying what changed otherwise.
    Both people hear of a move (outbox rows in the same transaction).
    """
    started = time.perf_counter()
    today = today or timezone.localdate()
    with transaction.atomic():
        task = _locked_task(task_id)
        expected = TaskStatus.UNASSIGNED if expected_assignee_id is None else TaskStatus.ASSIGNED
        if task.assignee_id != expected_assignee_id or task.status != expected:
            raise DispatchError(
                f"The task changed since the plan was made: it is now {task.get_status_display().lower()}"
                + (f" with {task.assignee}" if task.assignee_id else "")
                + "."
            )
        if task.is_awaiting_confirmation:  # type: ignore[attr-defined]  # task_for_dispatch
            raise DispatchError("The task is waiting for a manager to confirm a requested staffer.")
        previous = task.assignee
        member = _lock_member(staff_id)
        if not member.active:
            raise DispatchError(f"{member.display_name} is no longer active.")
        snapshot = dispatch_snapshot(task=task, today=today, also_staff_id=staff_id)
        spec = task_to_place(task, policy=snapshot.policy, snapshot=snapshot)
        chosen = next((c for c in snapshot.candidates if c.staff_id == staff_id), None)
        if chosen is None:
            raise DispatchError(
                f"{member.display_name} no longer holds the skills this work needs."
            )
        # Their open work as it is under the lock, without this task (a move's holder
        # is someone else).
        fresh = tuple(
            w
            for w in open_work_for(staff_id=staff_id, effort=chosen.effort)
            if w.task_id != task.pk
        )
        chosen = replace(chosen, open_work=fresh, _profiles={})
        row = evaluate(spec, chosen, today)
        if not row.kept:
            raise DispatchError(f"{member.display_name} can no longer take it: {row.reason}.")
        decision = Decision(
            outcome=Outcome.ASSIGNED,
            assignee_id=staff_id,
            reasons=(reason,),
            rule_path=(trigger,),
            candidates=(row,),
            candidate_count=len(snapshot.candidates),
        )
        record = _record(
            task=task, decision=decision, trigger=trigger, started=started, actor=actor
        )
        _assign(task, member, record, actor)
        if previous is not None:
            messages.notify_task_moved(decision=record, task=task, previous=previous, to=member)
        return record


def decision_confirm_requested(*, decision_id: int, actor: User) -> DispatchDecision:
    """A manager confirms a client-requested staffer the rule flagged as over threshold."""
    with transaction.atomic():
        record = DispatchDecision.objects.select_for_update().get(pk=decision_id)
        if not record.awaiting_confirmation:
            raise DispatchError("This assignment is not waiting for confirmation.")
        task = _locked_task(record.task_id)
        if task.status != TaskStatus.UNASSIGNED:
            raise DispatchError("The task has already been placed.")
        assert record.assignee_id is not None
        member = _lock_member(record.assignee_id)
        record.confirmed_at = timezone.now()
        record.confirmed_by = actor
        record.save(update_fields=["confirmed_at", "confirmed_by"])
        _assign(task, member, record, actor)
        return record


def decision_decline_requested(*, decision_id: int, actor: User) -> DispatchDecision | None:
    """A manager declines the client-requested staffer: the normal rule places the task."""
    with transaction.atomic():
        record = DispatchDecision.objects.select_for_update().get(pk=decision_id)
        if not record.awaiting_confirmation:
            raise DispatchError("This assignment is not waiting for confirmation.")
        record.confirmed_at = timezone.now()
        record.confirmed_by = actor
        record.declined = True
        record.save(update_fields=["confirmed_at", "confirmed_by", "declined"])
        return task_dispatch(task_id=record.task_id, trigger=Trigger.CONFIRMATION, actor=actor)


def _open_escalation(escalation_id: int) -> Escalation:
    escalation = Escalation.objects.select_for_update().filter(pk=escalation_id).first()
    if escalation is None or escalation.status != EscalationStatus.OPEN:
        raise EscalationClosed("This escalation is already resolved.")
    return escalation


def escalation_assign(
    *, escalation_id: int, staff_id: int, reason: str, actor: User
) -> DispatchDecision:
    """Assign one of the qualified people the escalation lists (logged as an override)."""
    with transaction.atomic():
        escalation = _open_escalation(escalation_id)
        listed = {row["staff_id"] for row in escalation.decision.candidates if row.get("qualified")}
        if staff_id not in listed:
            raise DispatchError("Choose one of the qualified people listed for this escalation.")
        return task_assign_manual(
            task_id=escalation.task_id, staff_id=staff_id, reason=reason, actor=actor
        )


def _threshold_in_force(escalation: Escalation) -> int:
    """The threshold (percent) the escalated decision held its candidates to."""
    task = escalation.task
    if task.threshold_override_percent:
        return task.threshold_override_percent
    thresholds = [
        row["threshold"] for row in escalation.decision.candidates if row.get("qualified")
    ] or [row["threshold"] for row in escalation.decision.candidates]
    return round(max(thresholds, default=0) * 100)


def escalation_raise_threshold(
    *, escalation_id: int, threshold_percent: int, actor: User
) -> DispatchDecision:
    """Let this one task go to someone up to ``threshold_percent`` busy, and re-dispatch it.

    Only ever higher than the threshold the task was held to: "raise" never lowers it.
    """
    with transaction.atomic():
        escalation = _open_escalation(escalation_id)
        in_force = _threshold_in_force(escalation)
        if threshold_percent <= in_force:
            raise DispatchError(
                f"This task is already held to {in_force} %; raise the threshold above that."
            )
        Task.objects.filter(pk=escalation.task_id).update(
            threshold_override_percent=threshold_percent
        )
        record = task_dispatch(
            task_id=escalation.task_id, trigger=Trigger.ESCALATION_ACTION, actor=actor
        )
        if record is None:
            raise DispatchError("The task is no longer waiting to be placed.")
        return record


def escalation_extend_deadline(
    *, escalation_id: int, due_date: date, actor: User
) -> DispatchDecision:
    """Move the task's internal deadline later (its review and engagement with it, see
    ``engagements.services.task_deadline_extend``) and re-dispatch it."""
    with transaction.atomic():
        escalation = _open_escalation(escalation_id)
        task = (
            Task.objects.select_for_update(of=("self",))
            .select_related("engagement")
            .get(pk=escalation.task_id)
        )
        try:
            task_deadline_extend(task=task, due_date=due_date)
        except ApplicationError as exc:
            raise DispatchError(exc.user_message) from exc
        record = task_dispatch(task_id=task.pk, trigger=Trigger.ESCALATION_ACTION, actor=actor)
        if record is None:
            raise DispatchError("The task is no longer waiting to be placed.")
        return record


def escalation_mark_client_informed(*, escalation_id: int, actor: User) -> Escalation:
    with transaction.atomic():
        escalation = _open_escalation(escalation_id)
        escalation.client_informed_at = timezone.now()
        escalation.client_informed_by = actor
        escalation.save(update_fields=["client_informed_at", "client_informed_by"])
        return escalation


REQUEUE_BATCH = 500


def dispatch_requeue_pending(*, now: datetime | None = None) -> int:
    """Publish again the dispatches the broker lost (an outage at commit, a restart).

    Tasks still owed a dispatch more than ``OUTBOX_REQUEUE_AFTER_SECONDS`` after it was asked
    for. Harmless when the first message is merely slow: the worker's dispatch
    decides only while the request stands, under the task's row lock.
    """
    now = now or timezone.now()
    pending = list(
        Task.objects.filter(
            dispatch_requested_at__lte=now
            - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
        )
        .order_by("dispatch_requested_at", "pk")
        .values_list("pk", "dispatch_trigger")[:REQUEUE_BATCH]
    )
    for task_id, trigger in pending:
        enqueue(DISPATCH_TASK, task_id, trigger or Trigger.DEADLINE_PROXIMITY)
    if pending:
        logger.info("re-queued %d pending dispatch(es)", len(pending))
    return len(pending)
