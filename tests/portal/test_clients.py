"""The client list and the client page: who sees which clients, and what a firm finds."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from clients.models import ClientContact
from dispatch.choices import DecisionOutcome, Trigger
from dispatch.models import DispatchDecision
from engagements.choices import TaskRole, TaskStatus
from engagements.models import DocumentUpload, EngagementMilestone, RecurringPlan, WorkType
from tests.factories import (
    ClientFactory,
    EngagementFactory,
    RequiredDocumentFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("portal:client-list")
TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return TODAY if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def detail(client_obj) -> str:
    return reverse("portal:client-detail", args=[client_obj.pk])


def close_for(client_obj, *, milestone="in_preparation", due=date(2026, 12, 10), **kwargs):
    return EngagementFactory(
        client=client_obj,
        work_type=WorkType.objects.get(code="month_end_close"),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        milestone=milestone,
        due_date=due,
        **kwargs,
    )


def names(response) -> list[str]:
    return [line.client.name for line in response.context["result"].lines]


def test_clients_need_a_login(client):
    response = client.get(LIST)

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_manager_sees_every_client_with_open_work_and_worst_risk(client, manager, alice):
    harbor = ClientFactory(name="Harbor Dental", contact_name="Hana Reyes")
    close_for(harbor, due=date(2026, 11, 18))  # past due: red
    close_for(harbor, due=date(2026, 12, 18))
    ClientFactory(name="Quiet Co")
    client.force_login(manager.user)

    response = client.get(LIST)

    assert response.status_code == 200
    assert names(response) == ["Harbor Dental", "Quiet Co"]
    body = response.content.decode()
    assert "2 engagements" in body and "Hana Reyes" in body
    assert "Month-end close: 3 business days past the deadline" in body
    assert f'href="{detail(harbor)}"' in body


def test_search_finds_clients_by_name_contact_or_email(client, manager):
    ClientFactory(name="Harbor Dental", contact_name="Hana Reyes", email="hana@harbor.example")
    ClientFactory(name="Pine Bakery", contact_name="Pat Pine", email="pat@pine.example")
    client.force_login(manager.user)

    assert names(client.get(LIST, {"q": "harb"})) == ["Harbor Dental"]
    assert names(client.get(LIST, {"q": "pat pine"})) == ["Pine Bakery"]
    assert names(client.get(LIST, {"q": "@harbor."})) == ["Harbor Dental"]
    assert "No clients match" in client.get(LIST, {"q": "nobody"}).content.decode()


def test_filters_partner_manager_work_type_and_open_risk(client, manager, partner, alice):
    mine = ClientFactory(name="Partner's", relationship_partner=partner)
    managed = ClientFactory(name="Managed")
    TaskFactory(
        engagement=close_for(managed),
        assignee=alice,  # reports to the manager
        status=TaskStatus.ACCEPTED,
    )
    late = ClientFactory(name="Late")
    close_for(late, due=date(2026, 11, 18))
    payroll = ClientFactory(name="Payroll only")
    RecurringPlan.objects.create(
        client=payroll, work_type=WorkType.objects.get(code="payroll"), starts_on=date(2026, 1, 1)
    )
    client.force_login(manager.user)
    close = WorkType.objects.get(code="month_end_close").pk

    assert names(client.get(LIST, {"partner": partner.pk})) == ["Partner's"]
    assert names(client.get(LIST, {"manager": manager.pk})) == ["Managed"]
    assert names(client.get(LIST, {"work_type": close})) == ["Late", "Managed"]
    assert names(client.get(LIST, {"work_type": payroll.recurring_plans.get().work_type_id})) == [
        "Payroll only"
    ]
    assert names(client.get(LIST, {"risk": "red"})) == ["Late"]
    assert names(client.get(LIST, {"risk": "green"})) == ["Managed"]
    assert mine


def test_sort_by_next_due_date(client, manager):
    close_for(ClientFactory(name="A later"), due=date(2026, 12, 20))
    close_for(ClientFactory(name="B sooner"), due=date(2026, 12, 1))
    ClientFactory(name="C nothing open")
    client.force_login(manager.user)

    assert names(client.get(LIST, {"sort": "due"})) == ["B sooner", "A later", "C nothing open"]


def test_bad_filter_is_a_400_with_words(client, manager):
    client.force_login(manager.user)

    response = client.get(LIST, {"partner": "abc", "q": "x" * 101})

    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a whole number." in body
    assert "at most 100 characters" in body


def test_list_pages_by_25_and_keeps_the_filters_in_the_links(client, manager):
    for index in range(30):
        ClientFactory(name=f"Client {index:02d}", contact_name="Same Contact")
    client.force_login(manager.user)

    first = client.get(LIST, {"q": "same"})
    second = client.get(LIST, {"q": "same", "page": 2})

    assert len(names(first)) == 25 and len(names(second)) == 5
    assert "30 clients · page 1 of 2" in first.content.decode()
    assert 'href="?q=same&amp;page=2"' in first.content.decode()


def test_list_queries_do_not_grow_with_clients(
    client, manager, alice, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for _ in range(n):
            engagement = close_for(ClientFactory())
            TaskFactory(engagement=engagement, assignee=alice, status=TaskStatus.ACCEPTED)
            RequiredDocumentFactory(engagement=engagement)

    client.force_login(manager.user)
    add(3)
    # Warm: the capacity policy and the effort factors are cached for the day.
    client.get(LIST)
    with django_assert_max_num_queries(16) as small:
        client.get(LIST)
    add(20)
    with django_assert_max_num_queries(16) as large:
        client.get(LIST)
    with django_assert_max_num_queries(16) as risky:
        client.get(LIST, {"risk": "green"})

    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(risky.captured_queries) <= len(small.captured_queries) + 1


def test_staff_see_only_the_clients_they_work_on(client, alice, bob):
    worked = ClientFactory(name="Worked on")
    TaskFactory(
        engagement=close_for(worked),
        assignee=alice,
        status=TaskStatus.COMPLETED,
        completed_at=timezone.now(),
    )
    preferred = ClientFactory(name="Asked for Alice", preferred_staff=alice)
    ClientFactory(name="Bob's")
    TaskFactory(engagement=close_for(ClientFactory(name="Bob's only")), assignee=bob)
    client.force_login(alice.user)

    response = client.get(LIST)

    assert names(response) == ["Asked for Alice", "Worked on"]
    assert "The clients you work on." in response.content.decode()
    assert 'name="partner"' not in response.content.decode()  # firm-wide filters are not hers
    assert preferred


def test_other_staff_cannot_open_a_client_they_do_not_work_on(client, alice, bob):
    theirs = ClientFactory(name="Alice's client")
    TaskFactory(engagement=close_for(theirs), assignee=alice)
    client.force_login(bob.user)

    response = client.get(detail(theirs))

    assert response.status_code == 404
    assert "Alice's client" not in response.content.decode()


def test_client_page_shows_contacts_people_work_documents_and_decisions(
    client, manager, alice, partner
):
    harbor = ClientFactory(
        name="Harbor Dental",
        contact_name="Hana Reyes",
        email="hana@harbor.example",
        mobile="+12125550123",
        relationship_partner=partner,
        preferred_staff=alice,
    )
    open_work = close_for(harbor)
    task = TaskFactory(
        engagement=open_work, role=TaskRole.PREPARER, assignee=alice, status=TaskStatus.ACCEPTED
    )
    bank = RequiredDocumentFactory(engagement=open_work, name="Bank statements")
    RequiredDocumentFactory(engagement=open_work, name="Payroll register")
    bank.received_at = timezone.now()
    bank.save()
    upload = DocumentUpload(
        engagement=open_work,
        required_document=bank,
        original_name="october-bank.pdf",
        content_type="application/pdf",
        size=4,
        sha256="0" * 64,
    )
    upload.file.save("test.pdf", ContentFile(b"%PDF"), save=True)
    past = close_for(harbor, milestone="closed")
    EngagementMilestone.objects.create(
        engagement=past,
        milestone="delivered",
        reached_at=datetime(2026, 11, 6, 15, tzinfo=ZoneInfo("UTC")),
    )
    DispatchDecision.objects.create(
        task=task,
        trigger=Trigger.DOCUMENTS_RECEIVED,
        outcome=DecisionOutcome.ASSIGNED,
        assignee=alice,
        reasons=["Alice Associate: 40 % now, 12 h free before the deadline"],
    )
    client.force_login(manager.user)

    response = client.get(detail(harbor))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Hana Reyes" in body and 'href="mailto:hana@harbor.example"' in body
    assert 'href="tel:+12125550123"' in body
    assert 'Pat Partner</strong> <span class="muted">— relationship partner' in body
    assert 'Alice Associate</strong> <span class="muted">— preferred staff, preparer' in body
    page = response.context["page"]
    assert [row.pk for row in page.open_rows] == [open_work.pk]
    assert [e.pk for e in page.past] == [past.pk]
    assert "Nov 6, 2026" in body  # when the past engagement was delivered
    assert page.outstanding_documents == 1
    assert "Documents requested" in body and "1 outstanding" in body
    download = reverse("engagements:document-download", args=[open_work.pk, upload.pk])
    assert f'href="{download}" download>october-bank.pdf</a>' in body
    assert "Required documents all received" in body  # the decision's trigger
    assert "40 % now" in body  # managers see why


def test_staff_client_page_shows_only_their_work_and_their_decisions(client, alice, bob):
    shared = ClientFactory(name="Shared")
    hers = close_for(shared)
    her_task = TaskFactory(engagement=hers, assignee=alice, status=TaskStatus.ACCEPTED)
    his = close_for(shared, due=date(2026, 12, 18))
    his_task = TaskFactory(engagement=his, assignee=bob, status=TaskStatus.ACCEPTED)
    for task, person in ((her_task, alice), (his_task, bob)):
        DispatchDecision.objects.create(
            task=task,
            trigger=Trigger.ENGAGEMENT_CREATED,
            outcome=DecisionOutcome.ASSIGNED,
            assignee=person,
            reasons=[f"{person.display_name}: 55 % now"],
        )
    client.force_login(alice.user)

    response = client.get(detail(shared))

    page = response.context["page"]
    assert [row.pk for row in page.open_rows] == [hers.pk]
    assert [d.task_id for d in page.decisions] == [her_task.pk]
    body = response.content.decode()
    assert "Bob Associate" not in body
    assert "55 % now" not in body  # utilization and reasons are for managers


def test_client_page_queries_do_not_grow_with_engagements(
    client, manager, alice, django_assert_max_num_queries
):
    harbor = ClientFactory(name="Harbor")

    def add(n: int) -> None:
        for _ in range(n):
            engagement = close_for(harbor)
            TaskFactory(engagement=engagement, assignee=alice, status=TaskStatus.ACCEPTED)
            RequiredDocumentFactory(engagement=engagement)
            close_for(harbor, milestone="closed")

    client.force_login(manager.user)
    add(2)
    # Warm: the capacity policy and the effort factors are cached for the day.
    client.get(detail(harbor))
    with django_assert_max_num_queries(25) as small:
        client.get(detail(harbor))
    add(10)
    with django_assert_max_num_queries(25) as large:
        client.get(detail(harbor))

    assert len(large.captured_queries) == len(small.captured_queries)


def test_navigation_offers_clients_to_staff_and_managers(client, alice, manager):
    for person in (alice, manager):
        client.force_login(person.user)
        assert f'href="{LIST}"' in client.get(reverse("portal:home")).content.decode()


def test_other_contacts_show_on_the_page_and_find_their_client(client, manager):
    harbor = ClientFactory(name="Harbor Dental", contact_name="Hana Reyes")
    ClientContact.objects.create(
        client=harbor,
        name="Omar Lindqvist",
        role="Controller",
        email="omar@harbor.example",
        phone="+12125550199",
    )
    ClientFactory(name="Pine Bakery")
    client.force_login(manager.user)

    page = client.get(detail(harbor)).content.decode()
    found = client.get(LIST, {"q": "lindqvist"})
    by_email = client.get(LIST, {"q": "omar@harbor"})

    assert "Other contacts" in page
    assert '<strong>Omar Lindqvist</strong> <span class="muted">— Controller</span>' in page
    assert 'href="mailto:omar@harbor.example"' in page and 'href="tel:+12125550199"' in page
    assert names(found) == ["Harbor Dental"] and names(by_email) == ["Harbor Dental"]
