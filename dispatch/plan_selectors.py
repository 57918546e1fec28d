"""Reads for the plan and rebalancing pages: saved scenarios, their lines, and the live
loads to compare them with (a constant number of queries whatever their size)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from capacity.models import MoveStatus, PlanMove, PlanScenario, ScenarioKind
from capacity.selectors import staff_loads
from staff.models import StaffMember


def scenario_list(*, limit: int = 30) -> list[PlanScenario]:
    """The latest saved plans, each with its lines counted by status."""
    return list(
        PlanScenario.objects.select_related("created_by", "applied_by")
        .annotate(
            line_count=Count("moves"),
            pending_count=Count("moves", filter=Q(moves__status=MoveStatus.PENDING)),
            applied_count=Count("moves", filter=Q(moves__status=MoveStatus.APPLIED)),
        )
        .order_by("-created_at", "-pk")[:limit]
    )


def scenario_get(*, pk: int) -> PlanScenario | None:
    return PlanScenario.objects.select_related("created_by", "applied_by").filter(pk=pk).first()


def _moves(queryset: QuerySet[PlanMove]) -> QuerySet[PlanMove]:
    return queryset.select_related(
        "task__engagement__client",
        "task__engagement__work_type",
        "task__assignee__user",
        "from_staff__user",
        "to_staff__user",
    ).order_by("pk")


@dataclass(frozen=True)
class LineView:
    move: PlanMove
    still_applies: bool  # the task stands as the plan saw it


def _line(move: PlanMove) -> LineView:
    task = move.task
    return LineView(
        move=move,
        still_applies=move.status == MoveStatus.PENDING
        and task.assignee_id == move.from_staff_id
        and task.status == move.expected_status,
    )


@dataclass(frozen=True)
class PersonView:
    staff_id: int
    name: str
    before: float
    planned: float
    live: float | None  # utilization this week as it stands now
    threshold: float

    @property
    def over(self) -> bool:
        return self.planned > self.threshold + 1e-9

    @property
    def live_over(self) -> bool:
        return self.live is not None and self.live > self.threshold + 1e-9


def live_utilization(*, staff_ids: list[int], today: date | None = None) -> dict[int, float]:
    """Utilization this week as it stands now for these people (six queries)."""
    if not staff_ids:
        return {}
    loads = staff_loads(
        staff=StaffMember.objects.filter(pk__in=staff_ids), today=today or timezone.localdate()
    )
    return {pk: load.utilization for pk, load in loads.items()}


def scenario_detail(*, scenario: PlanScenario) -> tuple[list[LineView], list[PersonView]]:
    """The plan's lines and, per person it changes, utilization before, planned and now."""
    lines = [_line(move) for move in _moves(scenario.moves.all())]
    rows = scenario.figures.get("people", [])
    live = live_utilization(staff_ids=[row["staff_id"] for row in rows])
    people = [
        PersonView(
            staff_id=row["staff_id"],
            name=row["name"],
            before=row["before"],
            planned=row["after"],
            live=live.get(row["staff_id"]),
            threshold=row["threshold"],
        )
        for row in rows
    ]
    return lines, people


def pending_proposals() -> list[LineView]:
    """Every rebalancing proposal waiting for a manager, oldest first."""
    moves = _moves(PlanMove.objects.filter(kind=ScenarioKind.REBALANCE, status=MoveStatus.PENDING))
    return [_line(move) for move in moves]


def proposal_get(*, pk: int) -> LineView | None:
    move = _moves(PlanMove.objects.filter(pk=pk, kind=ScenarioKind.REBALANCE)).first()
    return _line(move) if move is not None else None


@dataclass(frozen=True)
class LoadView:
    staff_id: int
    name: str
    utilization: float
    threshold: float

    @property
    def over(self) -> bool:
        return self.utilization > self.threshold + 1e-9


def proposal_loads(*, lines: list[LineView], extra_ids: Sequence[int] = ()) -> list[LoadView]:
    """This week's load, as it stands now, of everyone the proposals would move work
    between (and ``extra_ids``: people a decision just changed)."""
    ids = sorted(
        {line.move.from_staff_id for line in lines if line.move.from_staff_id}
        | {line.move.to_staff_id for line in lines}
        | set(extra_ids)
    )
    if not ids:
        return []
    loads = staff_loads(staff=StaffMember.objects.filter(pk__in=ids), today=timezone.localdate())
    return [
        LoadView(
            staff_id=pk,
            name=load.member.display_name,
            utilization=load.utilization,
            threshold=float(load.thresholds.preparer),
        )
        for pk, load in sorted(loads.items(), key=lambda item: item[1].member.display_name)
    ]


def pending_proposal_count() -> int:
    return PlanMove.objects.filter(kind=ScenarioKind.REBALANCE, status=MoveStatus.PENDING).count()
