"""The plan and rebalancing pages: managers and partners act; staff are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from capacity.models import MoveStatus, PlanMove, PlanScenario
from dispatch.plan_services import rebalance_run
from engagements.choices import TaskStatus
from engagements.models import Task, WorkType
from tests.dispatch.builders import FRIDAY, TODAY, load_up
from tests.factories import ClientFactory, TaskFactory

pytestmark = pytest.mark.django_db

REBALANCING = reverse("dispatch:rebalancing")
PLANS = reverse("dispatch:plans")


def assigned(member, hours: str, client_name: str) -> Task:
    return TaskFactory(
        assignee=member,
        status=TaskStatus.ASSIGNED,
        estimated_hours=Decimal(hours),
        due_date=FRIDAY,
        engagement__client=ClientFactory(name=client_name),
        engagement__work_type=WorkType.objects.get(code="monthly_bookkeeping"),
    )


@pytest.fixture
def proposal(skilled, frozen_now, manager) -> PlanMove:
    ana = skilled("ana", "bookkeeping", manager=manager)
    skilled("raj", "bookkeeping", manager=manager)
    load_up(ana, "20")
    assigned(ana, "10", "Smith LLC")
    assigned(ana, "10", "Jones & Co")
    rebalance_run(today=TODAY)
    return PlanMove.objects.get(status=MoveStatus.PENDING)


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "dispatch:plans", []),
        ("post", "dispatch:plan-week", []),
        ("get", "dispatch:rebalancing", []),
        ("post", "dispatch:rebalancing-run", []),
        ("post", "dispatch:proposals-decide-all", []),
    ],
)
def test_staff_are_refused(client, alice, method, name, args):
    client.force_login(alice.user)
    response = getattr(client, method)(reverse(name, args=args), {"decision": "approve"})
    assert response.status_code == 403


def test_staff_cannot_approve_a_proposal_or_open_a_plan(client, alice, proposal):
    client.force_login(alice.user)
    approve = reverse("dispatch:proposal-decide", args=[proposal.pk, "approve"])
    assert client.post(approve).status_code == 403
    assert (
        client.get(reverse("dispatch:plan-detail", args=[proposal.scenario_id])).status_code == 403
    )
    assert (
        client.post(reverse("dispatch:plan-apply", args=[proposal.scenario_id])).status_code == 403
    )
    proposal.refresh_from_db()
    assert proposal.status == MoveStatus.PENDING


def test_anonymous_is_sent_to_log_in(client):
    assert client.get(REBALANCING).status_code == 302


def test_rebalancing_page_lists_the_proposal_in_words(client, manager, proposal):
    client.force_login(manager.user)
    response = client.get(REBALANCING)
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(proposal.summary) in html  # client names may hold an ampersand
    assert "Ana Test is at 100 % this week (threshold 80 %)" in html
    assert "100 %" in html  # Ana's load now, shown beside the proposals
    assert "style=" not in html and "<script>" not in html


def test_approving_with_htmx_swaps_the_row_and_the_loads(client, manager, proposal):
    client.force_login(manager.user)
    url = reverse("dispatch:proposal-decide", args=[proposal.pk, "approve"])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="proposal-{proposal.pk}"' in html and "Approved: moved to Raj Test." in html
    assert 'id="rebalance-loads" hx-swap-oob="true"' in html
    assert "75 %" in html  # Ana after the move
    assert "<html" not in html
    proposal.refresh_from_db()
    assert proposal.status == MoveStatus.APPLIED


def test_declining_without_javascript_redirects_back(client, manager, proposal):
    client.force_login(manager.user)
    url = reverse("dispatch:proposal-decide", args=[proposal.pk, "decline"])
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == REBALANCING
    proposal.refresh_from_db()
    assert proposal.status == MoveStatus.DECLINED


def test_an_unknown_action_is_a_404(client, manager, proposal):
    client.force_login(manager.user)
    assert (
        client.post(reverse("dispatch:proposal-decide", args=[proposal.pk, "nuke"])).status_code
        == 404
    )


def test_decide_all_needs_a_known_decision(client, manager, proposal):
    client.force_login(manager.user)
    response = client.post(reverse("dispatch:proposals-decide-all"), {"decision": "x" * 10_000})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == MoveStatus.PENDING


def test_partner_approves_all(client, partner, proposal):
    client.force_login(partner.user)
    response = client.post(reverse("dispatch:proposals-decide-all"), {"decision": "approve"})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == MoveStatus.APPLIED


def test_plan_the_week_saves_a_scenario_partners_can_open(
    client, manager, partner, skilled, frozen_now
):
    skilled("ana", "bookkeeping")
    client.force_login(manager.user)
    response = client.post(reverse("dispatch:plan-week"))
    scenario = PlanScenario.objects.get()
    assert response.status_code == 302
    client.force_login(partner.user)
    page = client.get(reverse("dispatch:plan-detail", args=[scenario.pk]))
    assert page.status_code == 200 and scenario.title in page.content.decode()
    assert client.get(PLANS).status_code == 200


def test_rebalancing_page_queries_do_not_grow_with_proposals(
    client, manager, skilled, frozen_now, django_assert_max_num_queries
):
    people = [skilled(f"p{i}", "bookkeeping", manager=manager) for i in range(6)]
    skilled("room", "bookkeeping", manager=manager)
    skilled("room2", "bookkeeping", manager=manager)
    for i, person in enumerate(people[:3]):
        load_up(person, "24")
        assigned(person, "10", f"Client {i}")
    rebalance_run(today=TODAY)
    assert PlanMove.objects.filter(status=MoveStatus.PENDING).count() >= 3
    client.force_login(manager.user)
    with django_assert_max_num_queries(16):
        response = client.get(REBALANCING)
    assert response.status_code == 200


def test_plan_detail_queries_are_bounded(client, manager, proposal, django_assert_max_num_queries):
    client.force_login(manager.user)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("dispatch:plan-detail", args=[proposal.scenario_id]))
    assert response.status_code == 200
