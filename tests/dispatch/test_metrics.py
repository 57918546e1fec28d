"""Engine metrics over a hand-built history: the week of Nov 30 and this week (Dec 7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dispatch.choices import DecisionOutcome, EscalationStatus, Trigger
from dispatch.metrics import engine_metrics
from dispatch.models import DispatchDecision, Escalation, ReassignmentRequest
from engagements.choices import TaskRole, TaskStatus
from engagements.models import Task, WorkType
from tests.dispatch.builders import firm_time
from tests.factories import EngagementFactory, RequiredDocumentFactory, TaskFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 7)  # Monday
NOV30, DEC7 = dt.date(2026, 11, 30), dt.date(2026, 12, 7)


def _task(code: str = "1040", **kwargs) -> Task:
    engagement = EngagementFactory(work_type=WorkType.objects.get(code=code))
    return TaskFactory(engagement=engagement, **kwargs)


def _at(model, pk: int, **times) -> None:
    model.objects.filter(pk=pk).update(**times)


def _decision(task: Task, assignee, at: dt.datetime, **kwargs) -> DispatchDecision:
    decision = DispatchDecision.objects.create(
        task=task,
        trigger=kwargs.pop("trigger", Trigger.DOCUMENTS_RECEIVED),
        outcome=kwargs.pop("outcome", DecisionOutcome.ASSIGNED),
        assignee=assignee,
        **kwargs,
    )
    _at(DispatchDecision, decision.pk, created_at=at)
    return decision


def _completed(code: str, due: dt.date, done: dt.datetime, assignee) -> None:
    _task(
        code,
        assignee=assignee,
        status=TaskStatus.COMPLETED,
        due_date=due,
        completed_at=done,
        assigned_at=done - dt.timedelta(hours=2),
    )


@pytest.fixture
def history(alice, bob, manager):
    # On-time completion, week of Nov 30: 1040 2 of 2 (and three below), payroll 1 of 2.
    _completed("1040", dt.date(2026, 12, 4), firm_time(2026, 12, 3, 17), alice)
    _completed("1040", dt.date(2026, 12, 2), firm_time(2026, 12, 2, 23, 30), alice)
    _completed("payroll", dt.date(2026, 12, 1), firm_time(2026, 12, 1, 9), bob)
    _completed("payroll", dt.date(2026, 12, 1), firm_time(2026, 12, 2, 9), bob)

    # Escalations: two opened in the week of Nov 30 (one resolved), one this week.
    for at, status in (
        (firm_time(2026, 12, 1, 10), EscalationStatus.RESOLVED),
        (firm_time(2026, 12, 2, 10), EscalationStatus.OPEN),
        (firm_time(2026, 12, 7, 8), EscalationStatus.OPEN),
    ):
        task = _task("payroll")
        decision = _decision(task, None, at, outcome=DecisionOutcome.ESCALATED)
        escalation = Escalation.objects.create(
            task=task,
            decision=decision,
            status=status,
            summary="Nobody fits",
            resolved_at=at if status == EscalationStatus.RESOLVED else None,
        )
        _at(Escalation, escalation.pk, created_at=at)

    # Auto-assignments in the week of Nov 30. 1040: 2 of 5 reassigned (7 with the two
    # document-receipt assignments below: 29 %, flagged);
    # payroll 1 of 5 (20 %: not above); bookkeeping 1 of 2 (too few to judge).
    monday = firm_time(2026, 11, 30, 10)
    for code, count, undone in (("1040", 5, 2), ("payroll", 5, 1), ("monthly_bookkeeping", 2, 1)):
        for k in range(count):
            task = _task(
                code, assignee=alice, status=TaskStatus.ACCEPTED, due_date=dt.date(2027, 3, 1)
            )
            decision = _decision(task, alice, monday + dt.timedelta(hours=k))
            if k >= undone:
                continue
            if code == "1040" and k == 1:
                _decision(
                    task,
                    bob,
                    monday + dt.timedelta(days=1),
                    trigger=Trigger.MANUAL,
                    is_override=True,
                    override_reason="Client asked for Bob",
                )
            else:
                ReassignmentRequest.objects.create(
                    task=task,
                    staff_member=alice,
                    decision=decision,
                    reason=f"Conflict of interest ({code})",
                )
    # A manager's own assignment is not the engine's: never counted.
    manual = _task("1040")
    _decision(manual, bob, monday, trigger=Trigger.MANUAL, is_override=True, override_reason="x")

    # Document receipt to assignment: 2 h and 10 h.
    for docs, assigned in (
        ((firm_time(2026, 11, 30, 9), firm_time(2026, 12, 1, 10)), firm_time(2026, 12, 1, 12)),
        ((firm_time(2026, 12, 2, 8),), firm_time(2026, 12, 2, 18)),
    ):
        task = _task(
            "1040",
            role=TaskRole.PREPARER,
            assignee=alice,
            status=TaskStatus.COMPLETED,
            due_date=dt.date(2026, 12, 4),
            assigned_at=assigned + dt.timedelta(days=1),  # reassigned a day later
            completed_at=assigned + dt.timedelta(days=1, hours=2),
        )
        for k, at in enumerate(docs):
            RequiredDocumentFactory(engagement=task.engagement, name=f"Doc {k}", received_at=at)
        _decision(task, alice, assigned)  # the first assignment, not the later assigned_at

    # Utilization on Monday mornings: Alice held 20 h due Friday Dec 4 (done Dec 3);
    # Bob holds 30 h due Dec 11 from Dec 2.
    _task(
        "1040",
        assignee=alice,
        status=TaskStatus.COMPLETED,
        estimated_hours=Decimal("20"),
        due_date=dt.date(2026, 12, 4),
        assigned_at=firm_time(2026, 11, 25, 9),
        completed_at=firm_time(2026, 12, 3, 15),
    )
    _task(
        "1040",
        assignee=bob,
        status=TaskStatus.ACCEPTED,
        estimated_hours=Decimal("30"),
        due_date=dt.date(2026, 12, 11),
        assigned_at=firm_time(2026, 12, 2, 9),
    )


def test_weekly_figures(history):
    metrics = engine_metrics(today=TODAY, weeks=2)
    before, now = metrics.weeks

    assert (before.week, now.week) == (NOV30, DEC7) and now.current
    # Four people with 40 h: Alice at 50 % on Nov 30, Bob at 75 % on Dec 7.
    assert before.people == 4
    assert before.utilization_mean == pytest.approx(0.5 / 4)
    assert (before.utilization_low, before.utilization_high) == (0, pytest.approx(0.5))
    assert now.utilization_mean == pytest.approx(0.75 / 4)
    assert now.spread == pytest.approx(0.75)
    assert before.over_threshold == now.over_threshold == 0

    assert (before.on_time.part, before.on_time.whole, before.on_time.percent) == (6, 7, 86)
    assert now.on_time.whole == 0 and now.on_time.percent is None
    assert (before.escalations, before.escalations_resolved, now.escalations) == (2, 1, 1)
    assert metrics.open_escalations == 2

    assert sorted(before.receipt_to_assignment.hours) == pytest.approx([2.0, 10.0])
    assert before.receipt_to_assignment.median == pytest.approx(6.0)
    assert before.receipt_to_assignment.p90 == pytest.approx(9.2)

    assert (before.reassigned.part, before.reassigned.whole) == (4, 14)


def test_by_work_type_the_reassigned_share_above_twenty_percent_is_flagged_with_why(history):
    metrics = engine_metrics(today=TODAY, weeks=2)
    types = {t.name: t for t in metrics.work_types}
    individual = types["1040 individual return"]
    payroll = types["Payroll processing"]
    bookkeeping = types["Monthly bookkeeping"]

    assert (individual.reassigned.part, individual.reassigned.whole) == (2, 7)  # 29 %
    assert individual.needs_tuning
    assert dict(individual.reasons_by_kind) == {
        "Asked off by the assignee": 1,
        "Reassigned by a manager": 1,
    }
    assert {r.text for r in individual.reasons} == {
        "Conflict of interest (1040)",
        "Client asked for Bob",
    }
    assert (payroll.reassigned.part, payroll.reassigned.whole) == (1, 5)
    assert not payroll.needs_tuning  # 20 % is not above 20 %
    assert bookkeeping.reassigned.percent == 50 and bookkeeping.too_few
    assert not bookkeeping.needs_tuning
    assert metrics.flagged == (individual,)
    assert metrics.work_types[0] is individual  # flagged first

    assert (individual.on_time.part, individual.on_time.whole) == (5, 5)
    assert (payroll.on_time.part, payroll.on_time.whole) == (1, 2)
    assert payroll.escalations == 3
    assert individual.receipt_to_assignment.count == 2


def test_the_queries_do_not_grow_with_the_history(history, alice, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    engine_metrics(today=TODAY, weeks=2)  # the capacity policy, cached from here on
    with CaptureQueriesContext(connection) as small:
        engine_metrics(today=TODAY, weeks=2)
    for k in range(30):
        task = _task(
            "payroll",
            assignee=alice,
            status=TaskStatus.COMPLETED,
            due_date=dt.date(2026, 12, 1),
            completed_at=firm_time(2026, 12, 1, 9),
        )
        _decision(task, alice, firm_time(2026, 12, 1, 9) + dt.timedelta(minutes=k))
    with django_assert_num_queries(len(small)):
        engine_metrics(today=TODAY, weeks=8)
    assert len(small) == 11
