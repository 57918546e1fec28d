from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import WorkerHeartbeat
from engagements.choices import TaskStatus
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def test_home_requires_login(client):
    response = client.get(reverse("portal:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_healthz_is_open_and_checks_the_database(client):
    response = client.get(reverse("portal:healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_login_page_is_styled_and_logs_in(client, alice, password):
    page = client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": "alice", "password": password})

    assert page.status_code == 200
    assert b"Log in to Closeloop" in page.content
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_login_wrong_password_shows_error(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_logout_requires_post_and_ends_session(client, alice):
    client.force_login(alice.user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302


def test_home_shows_only_my_tasks_to_staff(client, alice, bob):
    mine = TaskFactory(
        assignee=alice, status=TaskStatus.ASSIGNED, engagement__client__name="Mine Co"
    )
    TaskFactory(assignee=bob, status=TaskStatus.ASSIGNED, engagement__client__name="Theirs Co")
    client.force_login(alice.user)

    response = client.get(reverse("portal:home"))

    body = response.content.decode()
    assert mine.engagement.client.name in body
    assert "Theirs Co" not in body
    assert "Firm at a glance" not in body
    assert ">Admin<" not in body


def test_home_shows_firm_snapshot_to_managers(client, manager):
    TaskFactory(status=TaskStatus.UNASSIGNED, ready_at=timezone.now())
    TaskFactory(status=TaskStatus.UNASSIGNED)  # waits for its trigger: not "ready"
    client.force_login(manager.user)

    response = client.get(reverse("portal:home"))

    assert "Firm at a glance" in response.content.decode()
    assert response.context["firm"]["unassigned"] == 1


def test_home_navigation_shows_admin_only_to_admins(client, firm_admin):
    client.force_login(firm_admin.user)

    response = client.get(reverse("portal:home"))

    assert ">Admin<" in response.content.decode()


def test_home_reports_worker_state(client, alice):
    client.force_login(alice.user)
    assert "has not reported yet" in client.get(reverse("portal:home")).content.decode()

    WorkerHeartbeat.objects.create(hostname="w1", last_seen_at=timezone.now())
    assert "Background worker running" in client.get(reverse("portal:home")).content.decode()

    WorkerHeartbeat.objects.filter(hostname="w1").update(
        last_seen_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert "paused" in client.get(reverse("portal:home")).content.decode()


def test_home_query_count_does_not_grow_with_tasks(client, alice, django_assert_max_num_queries):
    TaskFactory.create_batch(25, assignee=alice, status=TaskStatus.ACCEPTED)
    client.force_login(alice.user)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("portal:home"))

    assert response.status_code == 200
    assert len(response.context["my_tasks"]) == 10
