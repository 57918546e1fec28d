"""The words the decision log uses (``dispatch.presenters``): figures, the ranking, the
conflict of an escalation, and who may read colleagues' figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dispatch.choices import DecisionOutcome, Trigger
from dispatch.models import DispatchDecision, Escalation, ReassignmentRequest
from dispatch.presenters import OVER as OVER_THRESHOLD
from dispatch.presenters import SHORT as SHORT_OF_HOURS
from dispatch.presenters import SLIP as DEADLINES_SLIP
from dispatch.presenters import (
    DecisionLogScope,
    decision_view,
    escalation_conflict,
    free_text,
    hours,
    seniority_label,
    utilization_text,
)
from engagements.choices import TaskRole
from tests.factories import EngagementFactory, StaffMemberFactory, TaskFactory, UserFactory

MANAGER = DecisionLogScope(me=None, sees_colleagues=True)


def row(staff_id: int, name: str, **figures: object) -> dict[str, object]:
    base = {
        "staff_id": staff_id,
        "name": name,
        "seniority": 1,
        "utilization": 0.5,
        "utilization_after": 0.6,
        "threshold": 0.8,
        "available_before_deadline": 20.0,
        "familiarity": 0,
        "qualified": True,
        "kept": True,
        "reason": "passes every rule",
        "rule": "qualified with room, ranked lower",
        "committed_week": 20.0,
        "available_week": 40.0,
        "task_week": 4.0,
    }
    return {**base, **figures}


def decision(*rows: dict[str, object], **fields: object) -> DispatchDecision:
    defaults: dict[str, object] = {
        "pk": 1,
        "trigger": Trigger.DOCUMENTS_RECEIVED,
        "outcome": DecisionOutcome.ASSIGNED,
        "reasons": ["Ann Lee at 60% this week with the task (threshold 80%)."],
        "rule_path": ["skill", "guardrail", "reviewer", "capacity", "deadline-fit", "rank"],
        "candidates": list(rows),
        "candidate_count": len(rows),
    }
    return DispatchDecision(**{**defaults, **fields})


# --- Figures ---------------------------------------------------------------------------


def test_hours_read_one_way():
    assert hours(1.5) == "1.5 h"
    assert hours(21.04) == "21 h"
    assert hours(0) == "0 h"
    assert hours(None) == "—"


def test_utilization_reads_as_percent_and_hours():
    assert utilization_text(0.524, 21, 40) == "52 % — 21 of 40 h"
    assert utilization_text(0.524, None, None) == "52 %"  # a decision logged before hours


def test_negative_free_hours_read_as_over_by():
    assert free_text(12.0) == "12 h free"
    assert free_text(-8.04) == "over by 8 h"
    assert free_text(0.01) == "none free"


def test_seniority_and_roles_have_human_labels():
    assert seniority_label(2) == "Senior associate"
    assert seniority_label(6) == "Partner"
    assert seniority_label(None) == "—"


# --- The ranking ---------------------------------------------------------------------


def test_the_ranking_says_why_the_chosen_person_beat_the_next_in_words():
    ann = row(1, "Ann Lee", familiarity=3, available_before_deadline=10.0)
    bob = row(2, "Bob Ng", familiarity=0, available_before_deadline=30.0)
    view = decision_view(
        decision(ann, bob, assignee_id=1), scope=MANAGER, role=TaskRole.PREPARER, requested_id=None
    )

    assert [r.name for r in view.ranking] == ["Ann Lee", "Bob Ng"]
    assert view.ranking[0].keys == (
        "3 earlier tasks for this client",
        "seniority fit: Associate",
        "10 h free before the due date",
    )
    assert view.why_first == (
        "Ann Lee ranked above Bob Ng: more history with this client (3 earlier tasks against 0)."
    )


def test_the_ranking_names_the_request_and_the_free_hours_when_they_decide():
    ann = row(1, "Ann Lee", available_before_deadline=10.0)
    bob = row(2, "Bob Ng", available_before_deadline=30.0)
    requested = decision_view(
        decision(ann, bob, assignee_id=1), scope=MANAGER, role=TaskRole.PREPARER, requested_id=1
    )
    assert requested.ranking[0].keys[0] == "requested by the client"
    assert requested.why_first == "Ann Lee ranked above Bob Ng: the client asked for Ann Lee."

    by_hours = decision_view(
        decision(ann, bob, assignee_id=2), scope=MANAGER, role=TaskRole.PREPARER, requested_id=None
    )
    assert [r.name for r in by_hours.ranking] == ["Bob Ng", "Ann Lee"]
    assert by_hours.why_first.endswith("(30 h free against 10 h free).")


def test_the_candidate_table_speaks_in_labels_and_hours():
    over = row(
        3,
        "Cy Park",
        seniority=4,
        kept=False,
        utilization_after=0.84,
        rule=OVER_THRESHOLD,
        available_before_deadline=-8.0,
    )
    view = decision_view(
        decision(row(1, "Ann Lee"), over, assignee_id=1),
        scope=MANAGER,
        role=TaskRole.PREPARER,
        requested_id=None,
    )

    chosen, cy = view.candidates
    assert chosen.verdict == "Chosen" and chosen.now == "50 % — 20 of 40 h"
    assert chosen.with_task == "60 % — 24 of 40 h"
    assert cy.seniority == "Manager"
    assert cy.free == "over by 8 h"
    assert cy.verdict == "Would be at 84 % with this task (threshold 80 %)"


def test_seniority_refusals_name_the_firms_titles_not_levels():
    junior = row(
        2,
        "Bo Yu",
        kept=False,
        qualified=False,
        rule="seniority below 3",
        reason="seniority 1 < required 3",
    )
    partner = row(
        4,
        "Pat Ro",
        seniority=6,
        kept=False,
        qualified=False,
        rule="over-qualified (seniority above 5)",
        reason="over-qualified: seniority 6 > 5 for the preparer of this work",
    )
    record = decision(
        row(1, "Ann Lee"),
        junior,
        partner,
        assignee_id=1,
        rejections=[["seniority below 3", 40], ["over-qualified (seniority above 5)", 3]],
    )
    view = decision_view(record, scope=MANAGER, role=TaskRole.PREPARER, requested_id=None)

    verdicts = {candidate.name: candidate.verdict for candidate in view.candidates}
    assert verdicts["Bo Yu"] == "Associate: this work needs at least Senior"
    assert verdicts["Pat Ro"] == (
        "Over-qualified: a Partner does not prepare this work (at most Senior manager)"
    )
    assert view.not_listed == (
        "Not listed one by one: 40 × below Senior; 3 × over-qualified (above Senior manager)"
    )


# --- Who may read what --------------------------------------------------------------


def test_staff_see_their_own_figures_only():
    ann = row(1, "Ann Lee")
    bob = row(2, "Bob Ng", kept=False, rule=OVER_THRESHOLD, utilization_after=0.95)
    view = decision_view(
        decision(ann, bob, assignee_id=1, candidate_count=14),
        scope=DecisionLogScope(me=1, sees_colleagues=False),
        role=TaskRole.PREPARER,
        requested_id=None,
    )

    assert [c.name for c in view.candidates] == ["Ann Lee"]
    assert [r.name for r in view.ranking] == ["Ann Lee"]
    assert view.why_first == ""
    assert view.not_listed == (
        "13 colleagues also considered; their figures are for managers and partners."
    )


def test_staff_do_not_read_a_colleagues_figures_in_an_earlier_decision():
    view = decision_view(
        decision(row(2, "Bob Ng"), assignee_id=2),
        scope=DecisionLogScope(me=1, sees_colleagues=False),
        role=TaskRole.PREPARER,
        requested_id=None,
    )
    assert view.candidates == [] and view.reasons == []


# --- Escalations, confirmations, asking off ----------------------------------------------


@pytest.mark.django_db
def test_an_escalation_says_what_the_conflict_is_by_cause():
    task = TaskFactory(
        engagement=EngagementFactory(work_type__complexity_weight=Decimal("1.00")),
        estimated_hours=Decimal("9"),
        due_date=date(2026, 11, 24),
    )

    def conflict(*rows: dict[str, object]) -> str:
        record = decision(*rows, outcome=DecisionOutcome.ESCALATED)
        return escalation_conflict(Escalation(task=task, decision=record))

    assert conflict(
        row(1, "Ann Lee", kept=False, rule=OVER_THRESHOLD, utilization_after=0.95),
        row(2, "Bob Ng", kept=False, rule=OVER_THRESHOLD, utilization_after=0.9),
    ) == (
        "Everyone qualified would pass their threshold with this task: the least busy, "
        "Bob Ng, would be at 90 % (threshold 80 %)."
    )
    assert (
        conflict(
            row(1, "Ann Lee", kept=False, rule=OVER_THRESHOLD),
            row(2, "Bob Ng", kept=False, rule=SHORT_OF_HOURS, available_before_deadline=6.0),
        )
        == "Not enough time before Tue Nov 24: the most free, Bob Ng, has 6 h free of the 9 h it needs."
    )
    assert "would make another of their deadlines slip" in conflict(
        row(2, "Bob Ng", kept=False, rule=DEADLINES_SLIP, available_before_deadline=30.0)
    )
    assert (
        conflict(
            row(1, "Ann Lee", kept=False, qualified=False, rule="seniority below 6"),
            row(2, "Bob Ng", kept=False, qualified=False, rule="seniority below 6"),
        )
        == "Nobody holds the skills and seniority: 2 below Partner."
    )
    assert "gap" not in conflict(row(1, "Ann Lee", kept=False, rule=OVER_THRESHOLD))


@pytest.mark.django_db
def test_the_log_says_who_confirmed_a_requested_staffer_and_who_asked_off():
    nadia = UserFactory(first_name="Nadia", last_name="Adeyemi")
    olivia = StaffMemberFactory(user=UserFactory(first_name="Olivia", last_name="Torres"))
    record = decision(
        row(olivia.pk, "Olivia Torres"),
        outcome=DecisionOutcome.NEEDS_CONFIRMATION,
        assignee=olivia,
        confirmed_by=nadia,
        confirmed_at=DispatchDecision._meta.get_field("created_at").to_python(
            "2026-11-20T14:05:00+00:00"
        ),
    )
    asked = ReassignmentRequest(staff_member=olivia, reason="On the audit all week")
    asked.created_at = record.confirmed_at

    view = decision_view(
        record, scope=MANAGER, role=TaskRole.PREPARER, requested_id=olivia.pk, asked_off=[asked]
    )

    assert view.headline == "Olivia Torres proposed: the client asked for them"
    assert view.confirmation.startswith("Confirmed by Nadia Adeyemi on Nov 20, ")
    assert view.asked_off == [
        f"Olivia Torres asked to be taken off it on {view.confirmation.split(' on ')[1][:-1]}: "
        "“On the audit all week”"
    ]
