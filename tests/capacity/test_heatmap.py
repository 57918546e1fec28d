"""The capacity heatmap's figures, cell by cell, for the hand-built firm (conftest)."""

from __future__ import annotations

import datetime as dt

import pytest

from capacity.heatmap import (
    AWAY,
    NEAR,
    OVER,
    OVERBOOKED,
    ROOM,
    SPAN_DAYS,
    SPAN_WEEKS,
    HeatmapFilters,
    Reach,
    capacity_heatmap,
    load_band,
)
from dispatch.queue_selectors import awaiting_confirmation_staff
from tests.capacity.conftest import TODAY

pytestmark = pytest.mark.django_db

PER_DAY_1099 = 7 / 32  # 10 h x 0.7 over the 32 working days Dec 7 - Jan 22 (3 holidays)


def _map(reach: Reach, span: str = SPAN_WEEKS, **filters: object):
    return capacity_heatmap(
        reach=reach,
        filters=HeatmapFilters(**filters),  # type: ignore[arg-type]
        span=span,
        today=TODAY,
        proposed=awaiting_confirmation_staff(),
    )


def _rows(heatmap):
    return {row.name: row for row in heatmap.rows}


def test_the_weeks_start_this_week_from_today_and_run_eight_weeks(firm):
    heatmap = _map(Reach(firm.partner.pk, sees_others=True, starts_with_firm=True))

    assert [w.first for w in heatmap.windows] == [
        dt.date(2026, 12, 7) + dt.timedelta(weeks=k) for k in range(8)
    ]
    assert heatmap.windows[0].current and not heatmap.windows[1].current


def test_alice_week_by_week_solid_tentative_documents_time_off_holidays_and_season(firm):
    alice = _rows(_map(Reach(firm.partner.pk, sees_others=True, starts_with_firm=True)))[
        "Alice Associate"
    ]
    week1, week2, week3, week4, week5, _, week7, week8 = alice.cells

    # Week of Dec 7: 20 h accepted + the 1099 share solid, 8 h awaiting acceptance.
    assert week1.available == pytest.approx(40)
    assert week1.solid == pytest.approx(20 + 5 * PER_DAY_1099)
    assert week1.awaiting_acceptance == pytest.approx(8)
    assert week1.awaiting_confirmation == 0
    assert week1.committed == pytest.approx(28 + 5 * PER_DAY_1099)
    assert week1.waiting_on_documents == pytest.approx(5 * PER_DAY_1099)
    assert week1.percent == 73
    assert week1.threshold == pytest.approx(0.80)
    assert week1.band == NEAR
    assert week1.deadlines == ()

    # Dec 14-18 off: nothing available, the 1099's share still lands there.
    assert week2.available == 0
    assert week2.time_off
    assert week2.committed == pytest.approx(5 * PER_DAY_1099)
    assert week2.band == OVERBOOKED

    # Christmas: four working days; New Year's week is still December's 80 %.
    assert week3.holiday and week3.available == pytest.approx(32)
    assert week3.committed == pytest.approx(4 * PER_DAY_1099)
    assert week3.band == ROOM
    assert week4.threshold == pytest.approx(0.80)

    # January: the tax-season surge raises a 1040-trained person's threshold to 90 %.
    assert week5.threshold == pytest.approx(0.90)
    assert week5.committed == pytest.approx(5 * PER_DAY_1099)
    assert week7.available == pytest.approx(32)  # Martin Luther King Jr. Day

    # The 1099s' statutory date, January 25, falls in the last week, after the work.
    assert week8.deadlines == (dt.date(2027, 1, 25),)
    assert week8.committed == 0
    assert week8.waiting_on_documents == 0


def test_bob_overbooked_with_a_requested_assignment_awaiting_confirmation_apart(firm):
    bob = _rows(_map(Reach(firm.partner.pk, sees_others=True, starts_with_firm=True)))[
        "Bob Associate"
    ]
    week1, week2 = bob.cells[:2]

    assert week1.available == pytest.approx(32)  # Monday to Thursday
    assert week1.solid == pytest.approx(20 + 15)
    assert week1.awaiting_acceptance == 0
    assert week1.awaiting_confirmation == pytest.approx(12)  # not counted by dispatch
    assert week1.committed == pytest.approx(35)
    assert week1.tentative == pytest.approx(12)
    assert week1.band == OVERBOOKED
    assert week2.solid == pytest.approx(15)
    assert week2.band == ROOM


def test_the_manager_over_threshold_and_the_partner_with_room(firm):
    rows = _rows(_map(Reach(firm.partner.pk, sees_others=True, starts_with_firm=True)))

    assert rows["Mia Manager"].cells[0].committed == pytest.approx(34)
    assert rows["Mia Manager"].cells[0].band == OVER
    assert rows["Pat Partner"].cells[0].committed == 0
    assert rows["Pat Partner"].cells[0].band == ROOM


def test_work_nobody_holds_by_due_week_with_overdue_first_and_documents_apart(firm):
    heatmap = _map(Reach(firm.partner.pk, sees_others=True, starts_with_firm=True))
    demand = heatmap.demand

    # Overdue (3 h) and the task without an estimate; the requested one is Bob's.
    assert (demand[0].hours, demand[0].tasks, demand[0].without_estimate) == (3, 2, 1)
    assert demand[0].waiting_on_documents == 0
    assert (demand[3].hours, demand[3].tasks, demand[3].waiting_on_documents) == (5, 1, 5)
    assert sum(d.tasks for d in demand) == 3

    total = heatmap.totals[0]
    assert total.available == pytest.approx(40 + 40 + 40 + 32)
    assert total.committed == pytest.approx(34 + 28 + 5 * PER_DAY_1099 + 35)
    assert total.awaiting_confirmation == pytest.approx(12)


def test_the_day_view_covers_fourteen_days_with_weekends_and_days_off(firm):
    heatmap = _map(Reach(firm.partner.pk, sees_others=True, starts_with_firm=True), SPAN_DAYS)
    rows = _rows(heatmap)

    assert len(heatmap.windows) == 14
    assert heatmap.windows[5].weekend
    friday = rows["Bob Associate"].cells[4]
    assert friday.available == 0 and friday.band == AWAY and friday.band_label == "not working"
    assert rows["Alice Associate"].cells[7].band_label == "overbooked"  # Dec 14, away
    monday = rows["Alice Associate"].cells[0]
    assert monday.solid == pytest.approx(4 + PER_DAY_1099)
    assert monday.awaiting_acceptance == pytest.approx(1.6)


def test_a_manager_sees_their_team_by_default_and_the_firm_on_request(firm):
    reach = Reach(firm.manager.pk, sees_others=True)

    team = _map(reach)
    firm_wide = _map(reach, firm=True)
    other_team = _map(reach, team=firm.partner.pk)

    assert [r.name for r in team.rows] == ["Alice Associate", "Bob Associate", "Mia Manager"]
    assert team.people.scope_label == "Mia Manager's team"
    assert len(firm_wide.rows) == 4 and firm_wide.people.firm
    assert [r.name for r in other_team.rows] == ["Mia Manager", "Pat Partner"]


def test_filters_by_skill_and_role(firm):
    reach = Reach(firm.partner.pk, sees_others=True, starts_with_firm=True)

    assert [r.name for r in _map(reach, skill="individual_tax_certified").rows] == [
        "Alice Associate"
    ]
    assert [r.name for r in _map(reach, role="manager").rows] == ["Mia Manager"]
    assert _map(reach, skill="no-such-skill").rows == ()


def test_a_staff_member_sees_only_their_own_row_without_managers_open_questions(firm):
    heatmap = _map(Reach(firm.bob.pk, sees_others=False), firm=True)

    assert [r.name for r in heatmap.rows] == ["Bob Associate"]
    assert heatmap.demand is None
    assert heatmap.rows[0].cells[0].awaiting_confirmation == 0


@pytest.mark.parametrize(
    ("committed", "available", "threshold", "band"),
    [
        (0, 0, 0.8, AWAY),
        (1, 0, 0.8, OVERBOOKED),
        (25.9, 40, 0.8, ROOM),
        (26, 40, 0.8, NEAR),
        (32, 40, 0.8, NEAR),
        (32.1, 40, 0.8, OVER),
        (40, 40, 0.8, OVER),
        (40.1, 40, 0.8, OVERBOOKED),
        (42, 40, 1.1, NEAR),
        (44.1, 40, 1.1, OVERBOOKED),
    ],
)
def test_bands_against_the_threshold(committed, available, threshold, band):
    assert load_band(committed, available, threshold) == band


def test_at_the_weekend_both_views_start_on_monday():
    from capacity.heatmap import heatmap_windows

    saturday = dt.date(2026, 12, 12)
    assert heatmap_windows(span=SPAN_WEEKS, today=saturday)[0].first == dt.date(2026, 12, 14)
    assert heatmap_windows(span=SPAN_DAYS, today=saturday)[0].first == dt.date(2026, 12, 14)
    assert heatmap_windows(span=SPAN_DAYS, today=TODAY)[0].first == TODAY


def test_hours_already_logged_come_off_the_estimate_as_in_dispatch(firm):
    from decimal import Decimal

    from engagements.models import Task

    Task.objects.filter(pk=firm.tasks["A accepted"].pk).update(logged_hours=Decimal("5"))

    alice = _rows(_map(Reach(firm.partner.pk, sees_others=True, starts_with_firm=True)))[
        "Alice Associate"
    ]
    assert alice.cells[0].solid == pytest.approx(15 + 5 * PER_DAY_1099)
