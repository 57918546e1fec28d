"""Plan the week and the rebalancing loop, through the database and the dispatch service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from capacity.models import MoveStatus, PlanMove, PlanScenario, ScenarioKind, ScenarioStatus
from dispatch.choices import Trigger
from dispatch.lifecycle import task_accept
from dispatch.models import DispatchDecision
from dispatch.plan_services import (
    proposal_approve,
    proposal_decline,
    proposals_decide_all,
    rebalance_run,
    scenario_apply,
    week_plan_create,
)
from engagements.choices import TaskStatus
from engagements.models import Task, WorkType
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from tests.dispatch.builders import FRIDAY, TODAY, bookkeeping_task, load_up
from tests.factories import ClientFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(skilled, frozen_now):
    ana = skilled("ana", "bookkeeping")
    raj = skilled("raj", "bookkeeping")
    return ana, raj


def assigned(member, hours: str, client_name: str = "Smith LLC") -> Task:
    """Work given to ``member`` and not yet accepted: the loop may move it."""
    return TaskFactory(
        assignee=member,
        status=TaskStatus.ASSIGNED,
        estimated_hours=Decimal(hours),
        due_date=FRIDAY,
        engagement__client=ClientFactory(name=client_name),
        engagement__work_type=WorkType.objects.get(code="monthly_bookkeeping"),
    )


@pytest.fixture
def overloaded(team):
    """Ana at 100 % this week (threshold 80 %): 20 h accepted, two 10 h tasks not yet
    accepted (weight 0.8 each); Raj empty."""
    ana, raj = team
    load_up(ana, "20")
    first = assigned(ana, "10", "Smith LLC")
    second = assigned(ana, "10", "Jones & Co")
    return ana, raj, first, second


def test_a_seeded_overload_yields_a_proposal_that_clears_it(overloaded):
    ana, raj, first, second = overloaded
    run = rebalance_run(today=TODAY)
    assert run.proposed == 1  # one move is enough: the smallest set
    move = PlanMove.objects.get(status=MoveStatus.PENDING)
    assert move.from_staff == ana and move.to_staff == raj
    assert move.task in (first, second)
    assert move.summary.startswith(
        f"Move {move.task.engagement.client.name} monthly bookkeeping from Ana Test to Raj Test: Ana Test 100 % → 75 %, Raj Test 0 % → 25 %"
    )
    assert move.summary.endswith("deadline risk unchanged, 1 change")
    assert "Ana Test is at 100 % this week (threshold 80 %)" == move.reason
    # Nothing moved yet: work never moves silently.
    move.task.refresh_from_db()
    assert move.task.assignee == ana


def test_running_the_loop_again_proposes_nothing_twice(overloaded):
    rebalance_run(today=TODAY)
    again = rebalance_run(today=TODAY)
    assert again.proposed == 0
    assert PlanMove.objects.filter(status=MoveStatus.PENDING).count() == 1


def test_approving_moves_the_task_through_dispatch_and_tells_both(overloaded, manager):
    ana, raj, *_ = overloaded
    rebalance_run(today=TODAY)
    move = PlanMove.objects.get(status=MoveStatus.PENDING)
    proposal_approve(move_id=move.pk, actor=manager.user)
    move.refresh_from_db()
    task = move.task
    task.refresh_from_db()
    assert move.status == MoveStatus.APPLIED and move.decided_by == manager.user
    assert task.assignee == raj and task.status == TaskStatus.ASSIGNED
    decision = DispatchDecision.objects.filter(task=task).latest("created_at")
    assert decision.trigger == Trigger.REBALANCE and decision.actor == manager.user
    told = set(
        Notification.objects.filter(task_id=task.pk).values_list("template", "staff_member_id")
    )
    assert (NotificationTemplate.TASK_ASSIGNED, raj.pk) in told
    assert (NotificationTemplate.TASK_MOVED, ana.pk) in told
    # The scenario is settled, and the next run finds Ana within her threshold.
    assert move.scenario.__class__.objects.get(pk=move.scenario_id).status == ScenarioStatus.APPLIED
    assert rebalance_run(today=TODAY).proposed == 0


def test_a_declined_move_is_not_proposed_again(overloaded, manager):
    rebalance_run(today=TODAY)
    move = PlanMove.objects.get(status=MoveStatus.PENDING)
    proposal_decline(move_id=move.pk, actor=manager.user)
    rebalance_run(today=TODAY)
    # The other task may be proposed instead, but never the declined move again.
    again = PlanMove.objects.filter(status=MoveStatus.PENDING)
    assert all((m.task_id, m.to_staff_id) != (move.task_id, move.to_staff_id) for m in again)


def test_a_proposal_whose_situation_changed_expires(overloaded, manager):
    ana, *_ = overloaded
    rebalance_run(today=TODAY)
    move = PlanMove.objects.get(status=MoveStatus.PENDING)
    task_accept(task_id=move.task_id, staff=ana)  # accepted work is pinned
    rebalance_run(today=TODAY)
    move.refresh_from_db()
    assert move.status == MoveStatus.EXPIRED
    assert "accepted" in move.outcome


def test_approving_a_stale_proposal_expires_it_and_moves_nothing(overloaded, manager):
    ana, *_ = overloaded
    rebalance_run(today=TODAY)
    move = PlanMove.objects.get(status=MoveStatus.PENDING)
    task_accept(task_id=move.task_id, staff=ana)
    proposal_approve(move_id=move.pk, actor=manager.user)
    move.refresh_from_db()
    assert move.status == MoveStatus.EXPIRED and "changed since the plan" in move.outcome
    assert Task.objects.get(pk=move.task_id).assignee == ana


def test_approve_all(overloaded, manager):
    rebalance_run(today=TODAY)
    result = proposals_decide_all(actor=manager.user, approve=True)
    assert result.applied == 1
    assert not PlanMove.objects.filter(status=MoveStatus.PENDING).exists()


def test_started_work_is_never_proposed(team):
    ana, raj = team
    load_up(ana, "40", status=TaskStatus.IN_PROGRESS)
    load_up(ana, "10", status=TaskStatus.ACCEPTED)
    assert rebalance_run(today=TODAY).proposed == 0


def test_plan_the_week_places_unassigned_work_and_applies_it(team, client_co, manager):
    ana, raj = team
    soon = date(2026, 11, 25)  # within the sweep's horizon: plannable whatever its trigger
    tasks = [bookkeeping_task(client_co, due_date=soon) for _ in range(3)]
    assert all(t.status == TaskStatus.UNASSIGNED and t.estimated_hours for t in tasks)
    scenario = week_plan_create(actor=manager.user, today=TODAY)
    assert scenario.kind == ScenarioKind.WEEK_PLAN
    lines = list(scenario.moves.all())
    assert {line.task_id for line in lines} == {t.pk for t in tasks}
    assert scenario.bound is not None and scenario.bound <= scenario.objective + 1e-9
    # One of the tasks changed meanwhile (a manager placed it by hand): it is skipped.
    Task.objects.filter(pk=tasks[0].pk).update(status=TaskStatus.CANCELLED)
    result = scenario_apply(scenario_id=scenario.pk, actor=manager.user)
    assert result.applied == 2 and result.skipped == 1
    skipped = scenario.moves.get(task=tasks[0])
    assert skipped.status == MoveStatus.SKIPPED and "changed since the plan" in skipped.outcome
    placed = Task.objects.filter(pk__in=[t.pk for t in tasks[1:]])
    assert all(t.assignee in (ana, raj) and t.status == TaskStatus.ASSIGNED for t in placed)
    assert PlanScenario.objects.get(pk=scenario.pk).status == ScenarioStatus.APPLIED
