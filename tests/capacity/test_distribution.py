"""Deadline distribution over the hand-built firm (conftest), plus a concentrated date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from capacity.distribution import deadline_day_tasks, deadline_distribution
from capacity.heatmap import HeatmapFilters, Reach
from dispatch.queue_selectors import awaiting_confirmation_staff
from engagements.choices import TaskStatus
from engagements.models import WorkType
from tests.capacity.conftest import TODAY
from tests.factories import EngagementFactory, TaskFactory

pytestmark = pytest.mark.django_db

JAN25 = dt.date(2027, 1, 25)


@pytest.fixture
def june_like(firm):
    """Five 1099s due January 25 held by Alice (3) and Bob (1), one nobody holds yet."""
    work_type = WorkType.objects.get(code="1099")
    for k, (who, status) in enumerate(
        [
            (firm.alice, TaskStatus.ACCEPTED),
            (firm.alice, TaskStatus.ASSIGNED),
            (firm.alice, TaskStatus.IN_PROGRESS),
            (firm.bob, TaskStatus.ACCEPTED),
            (None, TaskStatus.UNASSIGNED),
        ]
    ):
        engagement = EngagementFactory(
            work_type=work_type,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31),
            due_date=dt.date(2027, 1, 20),
        )
        TaskFactory(
            engagement=engagement,
            title=f"1099s {k}",
            assignee=who,
            status=status,
            estimated_hours=Decimal("2"),
            due_date=dt.date(2027, 1, 20),
        )
    return firm


def _dist(reach: Reach, **kwargs):
    return deadline_distribution(
        reach=reach,
        filters=HeatmapFilters(**kwargs),
        today=TODAY,
        horizon_days=90,
        proposed=awaiting_confirmation_staff(),
    )


def test_each_deadline_date_lists_whose_work_falls_on_it(june_like):
    firm = june_like
    result = _dist(Reach(firm.partner.pk, sees_others=True, starts_with_firm=True))
    days = {d.day: d for d in result.days}

    jan25 = days[JAN25]  # the statutory date, not the engagements' Jan 20 due date
    assert jan25.kinds == ("statutory",)
    assert jan25.tasks == 6  # the five above and Alice's 1099s waiting on a document
    assert [(h.name, h.tasks, h.tentative) for h in jan25.holdings] == [
        ("Alice Associate", 4, 1),
        ("Bob Associate", 1, 0),
        ("Not yet assigned", 1, 0),
    ]
    assert jan25.top_two_percent == 100 and jan25.concentrated
    assert jan25.waiting_on_documents == 1

    # The other work answers to April 15 or to March 25 due dates: beyond 90 days.
    assert [d.day for d in result.days] == [JAN25]
    assert result.concentrated == (jan25,)
    assert result.ranking[0][1] == "Alice Associate"


def test_the_overdue_unassigned_task_is_not_an_upcoming_deadline(june_like):
    result = _dist(Reach(june_like.partner.pk, sees_others=True, starts_with_firm=True))
    assert dt.date(2026, 12, 1) not in {d.day for d in result.days}


def test_a_team_view_keeps_only_the_teams_work_and_nobodys(june_like):
    firm = june_like
    result = _dist(Reach(firm.manager.pk, sees_others=True), team=firm.partner.pk)
    jan25 = next(d for d in result.days if d.day == JAN25)

    # Pat's team is Pat and Mia: nobody's work stays, Alice's and Bob's go.
    assert [h.name for h in jan25.holdings] == ["Not yet assigned"]


def test_the_tasks_behind_one_date(june_like):
    rows = deadline_day_tasks(
        reach=Reach(june_like.partner.pk, sees_others=True, starts_with_firm=True),
        filters=HeatmapFilters(),
        day=JAN25,
        today=TODAY,
        proposed=awaiting_confirmation_staff(),
    )
    assert [(r.holder, r.task.title) for r in rows][-1] == ("Not yet assigned", "1099s 4")
    assert len(rows) == 6


def test_staff_are_refused(june_like):
    with pytest.raises(PermissionDenied):
        _dist(Reach(june_like.alice.pk, sees_others=False))
