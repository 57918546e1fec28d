"""Logged hours from Harvest: ``time_entries`` pulled (Harvest's documented list response,
served by a local HTTP server), mapped to staff and tasks, counted by capacity as
Closeloop's own time entries are, once per Harvest id."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from billing.choices import TimeEntrySource
from billing.models import TimeEntry
from billing.services import time_entry_approve
from clients.models import ClientExternalId
from engagements.choices import TaskStatus
from integrations.choices import EventStatus, Source
from integrations.harvest import time_entries_pull, time_entries_pull_all
from integrations.models import InboundEvent, StaffExternalId
from tests.factories import ClientFactory, StaffMemberFactory, TaskFactory
from tests.integrations.webhook_helpers import make_integration, payload

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() - timedelta(days=2)


@pytest.fixture
def firm(vendor_server):
    """Kim (Harvest user 1782959) holds one task for ABC Corp (Harvest client 5735774)
    and another, tracked with the Harvest button on its page, for a client not mapped."""
    harvest = make_integration(
        Source.HARVEST,
        api_base_url=vendor_server.url + "/v2",
        api_token="harvest-pat",
        api_key="123456",
        api_requests_per_minute=400,
    )
    kim = StaffMemberFactory()
    StaffExternalId.objects.create(staff_member=kim, source=Source.HARVEST, external_id="1782959")
    abc = ClientFactory(name="ABC Corp")
    ClientExternalId.objects.create(client=abc, source=Source.HARVEST, external_id="5735774")
    abc_task = TaskFactory(engagement__client=abc, assignee=kim, status=TaskStatus.ACCEPTED)
    button_task = TaskFactory(assignee=kim, status=TaskStatus.IN_PROGRESS)
    return harvest, kim, abc_task, button_task


def documented(button_task, changes: dict[int, dict] | None = None) -> dict:
    """Harvest's documented list, dated this week, the second entry tracked on our task page."""
    body = json.loads(payload("harvest_time_entries_list.json"))
    for entry in body["time_entries"]:
        entry["spent_date"] = DAY.isoformat()
        if entry.get("external_reference"):
            link = entry["external_reference"]["permalink"]
            entry["external_reference"]["permalink"] = link.replace("TASK_ID", str(button_task.pk))
        entry.update((changes or {}).get(entry["id"], {}))
    return body


def test_a_pull_stores_each_mapped_entry_as_logged_time_on_its_task(firm, vendor_server):
    harvest, kim, abc_task, button_task = firm
    vendor_server.serve("/v2/time_entries", documented(button_task))

    result = time_entries_pull(integration_id=harvest.pk)

    assert (result.created, result.pages) == (2, 1)
    assert result.skipped == {
        "for a Harvest user not mapped to staff": 1,  # Jason Dew
        "timers still running": 1,
    }
    entries = {e.external_id: e for e in TimeEntry.objects.filter(source=TimeEntrySource.HARVEST)}
    assert entries["636709355"].task == abc_task  # Kim's one open task for ABC Corp
    assert entries["636708723"].task == button_task  # the permalink names it
    assert entries["636709355"].hours == Decimal("2.11") and entries["636709355"].is_draft
    assert entries["636709355"].description == "Adding CSS styling"
    abc_task.refresh_from_db()
    button_task.refresh_from_db()
    assert (abc_task.logged_hours, button_task.logged_hours) == (Decimal("2.11"), Decimal("1.35"))
    path, headers = vendor_server.requests[0]
    assert parse_qs(urlsplit(path).query) == {"per_page": ["2000"], "page": ["1"]}
    assert headers["Authorization"] == "Bearer harvest-pat"
    assert headers["Harvest-Account-Id"] == "123456"
    assert headers["User-Agent"].startswith("Closeloop (")
    harvest.refresh_from_db()
    assert harvest.pull_cursor is not None and harvest.last_pull_note.startswith("2 new")


def test_the_next_pull_asks_for_changes_and_updates_drafts_once(firm, vendor_server):
    harvest, kim, abc_task, button_task = firm
    vendor_server.serve("/v2/time_entries", documented(button_task))
    time_entries_pull(integration_id=harvest.pk)
    harvest.refresh_from_db()
    cursor = harvest.pull_cursor

    vendor_server.serve("/v2/time_entries", documented(button_task, {636709355: {"hours": 3.0}}))
    result = time_entries_pull(integration_id=harvest.pk)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    since = parse_qs(urlsplit(vendor_server.requests[-1][0]).query)["updated_since"][0]
    assert since == (cursor - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert TimeEntry.objects.filter(source=TimeEntrySource.HARVEST).count() == 2
    abc_task.refresh_from_db()
    assert abc_task.logged_hours == Decimal("3.00")


def test_approved_time_is_settled_and_left_as_it_is(firm, vendor_server):
    harvest, kim, abc_task, button_task = firm
    vendor_server.serve("/v2/time_entries", documented(button_task))
    time_entries_pull(integration_id=harvest.pk)
    entry = TimeEntry.objects.get(external_id="636709355")
    time_entry_approve(entry_id=entry.pk, staff=kim)

    vendor_server.serve("/v2/time_entries", documented(button_task, {636709355: {"hours": 9}}))
    time_entries_pull(integration_id=harvest.pk)

    entry.refresh_from_db()
    assert entry.hours == Decimal("2.11") and not entry.is_draft


def test_pages_are_followed_until_harvest_says_there_are_no_more(firm, vendor_server):
    harvest, kim, abc_task, button_task = firm
    body = documented(button_task)
    first, second = dict(body), dict(body)
    first["time_entries"], first["next_page"] = body["time_entries"][:1], 2
    second["time_entries"], second["page"] = body["time_entries"][1:2], 2
    vendor_server.serve("/v2/time_entries?page=1", first)
    vendor_server.serve("/v2/time_entries?page=2", second)

    result = time_entries_pull(integration_id=harvest.pk)

    assert (result.pages, result.created) == (2, 2)


def test_a_rate_limited_pull_stops_and_the_cursor_stays(firm, vendor_server):
    harvest, kim, abc_task, button_task = firm
    vendor_server.serve(
        "/v2/time_entries", {"message": "throttled"}, status=429, headers={"Retry-After": "7"}
    )

    assert time_entries_pull_all() == 1

    harvest.refresh_from_db()
    assert harvest.pull_cursor is None and "429" in harvest.last_pull_note
    assert harvest.pull_not_before >= timezone.now() + timedelta(seconds=5)
    assert not TimeEntry.objects.filter(source=TimeEntrySource.HARVEST).exists()
    assert time_entries_pull_all() == 0  # Harvest said to wait 7 s


def test_two_open_tasks_for_the_client_keep_the_time_off_any_task(firm, vendor_server):
    harvest, kim, abc_task, button_task = firm
    TaskFactory(
        engagement__client=abc_task.engagement.client, assignee=kim, status=TaskStatus.ASSIGNED
    )
    vendor_server.serve("/v2/time_entries", documented(button_task))

    time_entries_pull(integration_id=harvest.pk)

    entry = TimeEntry.objects.get(external_id="636709355")
    assert entry.task is None and entry.client == abc_task.engagement.client


def test_a_harvest_integration_has_no_webhook_endpoint(firm, client):
    harvest = firm[0]
    response = client.post(f"/webhooks/{harvest.slug}/", b"{}", content_type="application/json")
    assert response.status_code == 404


def test_an_entry_for_a_harvest_user_not_mapped_is_an_exception_to_replay(firm, vendor_server):
    harvest, kim, abc_task, button_task = firm
    vendor_server.serve("/v2/time_entries", documented(button_task))

    time_entries_pull(integration_id=harvest.pk)

    event = InboundEvent.objects.get(integration=harvest)
    assert event.status == EventStatus.EXCEPTION
    assert "Harvest user 1795925 (Jason Dew) is not mapped to staff" in event.detail
