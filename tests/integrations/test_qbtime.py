"""Logged hours from QuickBooks Time: ``timesheets`` pulled (responses in QuickBooks Time's
documented shape, served by a local HTTP server), mapped to staff and tasks, counted by
capacity as Closeloop's own time entries are, once per timesheet id; deleted timesheets
removed; an unmapped user an exception a person replays once mapped."""

from __future__ import annotations

import copy
import json
from datetime import UTC, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from billing.choices import TimeEntrySource
from billing.models import TimeEntry
from billing.services import time_entry_approve
from clients.models import ClientExternalId
from config.celery import app as celery_app
from engagements.choices import TaskStatus
from integrations import time_pull, vendor_api
from integrations.choices import EventStatus, Source
from integrations.inbox import inbound_event_process, inbound_event_replay
from integrations.models import InboundEvent, Integration, StaffExternalId
from integrations.qbtime import timesheets_pull, timesheets_pull_all
from integrations.tasks import qbtime_time_pull_task
from tests.factories import ClientFactory, StaffMemberFactory, TaskFactory
from tests.integrations.webhook_helpers import make_integration, payload

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() - timedelta(days=2)
SHEETS = "/api/v1/timesheets"
DELETED = "/api/v1/timesheets_deleted"


@pytest.fixture
def firm(vendor_server):
    """Alexander (QuickBooks Time user 1242515) holds one open task for ABC Corp, whose
    customer job code is 17288283 (its sub-job 17288285 is not mapped by itself)."""
    qbtime = make_integration(
        Source.QBTIME,
        api_base_url=vendor_server.url + "/api/v1",
        api_token="qbt-access-token",
        api_requests_per_minute=60,
    )
    alex = StaffMemberFactory()
    StaffExternalId.objects.create(staff_member=alex, source=Source.QBTIME, external_id="1242515")
    abc = ClientFactory(name="ABC Corp")
    ClientExternalId.objects.create(client=abc, source=Source.QBTIME, external_id="17288283")
    task = TaskFactory(engagement__client=abc, assignee=alex, status=TaskStatus.IN_PROGRESS)
    return qbtime, alex, task


def documented(changes: dict[str, dict] | None = None, only: list[str] | None = None) -> dict:
    """The documented list, dated this week; ``changes`` per timesheet id, ``only`` some."""
    body = json.loads(payload("qbtime_timesheets_list.json"))
    sheets = body["results"]["timesheets"]
    for key, sheet in list(sheets.items()):
        if only is not None and key not in only:
            del sheets[key]
            continue
        sheet["date"] = DAY.isoformat()
        sheet.update((changes or {}).get(key, {}))
    return body


def no_deletions() -> dict:
    return {"results": {"timesheets_deleted": []}, "more": False, "supplemental_data": {}}


def two_pages(vendor_server, changes: dict[str, dict] | None = None) -> None:
    first, second = documented(changes), documented(changes)
    keys = list(first["results"]["timesheets"])
    for key in keys[2:]:
        del first["results"]["timesheets"][key]
    for key in keys[:2]:
        del second["results"]["timesheets"][key]
    first["more"] = True
    vendor_server.serve(SHEETS + "?page=1", first)
    vendor_server.serve(SHEETS + "?page=2", second)


def query(path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path).query)


def test_a_pull_follows_the_pages_and_stores_each_mapped_timesheet_on_its_task(firm, vendor_server):
    qbtime, alex, task = firm
    two_pages(vendor_server)

    result = timesheets_pull(integration_id=qbtime.pk)

    assert (result.pages, result.created) == (2, 2)
    assert result.skipped == {
        "for a QuickBooks Time user not mapped to staff": 1,  # Charles Ashley
        "timers still running": 1,
    }
    entries = {e.external_id: e for e in TimeEntry.objects.filter(source=TimeEntrySource.QBTIME)}
    assert set(entries) == {"135288482", "135288514"}
    assert entries["135288482"].hours == Decimal("6.88")  # 24,780 seconds
    assert entries["135288482"].task == task  # its job code's parent is ABC Corp
    assert entries["135288514"].hours == Decimal("1.50") and entries["135288514"].is_draft
    assert entries["135288514"].description == "Client call"
    assert entries["135288482"].date == DAY and entries["135288482"].staff_member == alex
    task.refresh_from_db()
    assert task.logged_hours == Decimal("8.38")
    first, second = (query(path) for path, _ in vendor_server.requests)
    assert first == {
        "start_date": [(timezone.localdate() - timedelta(days=92)).isoformat()],
        "limit": ["200"],
        "page": ["1"],
    }
    assert second["page"] == ["2"]
    assert len(vendor_server.requests) == 2  # no deletions asked for before a first cursor
    assert vendor_server.requests[0][1]["Authorization"] == "Bearer qbt-access-token"
    qbtime.refresh_from_db()
    assert qbtime.pull_cursor is not None and qbtime.last_pull_note.startswith("2 new")


def test_an_edited_timesheet_pulled_again_updates_the_hours_once(firm, vendor_server):
    qbtime, alex, task = firm
    vendor_server.serve(SHEETS, documented())
    vendor_server.serve(DELETED, no_deletions())
    timesheets_pull(integration_id=qbtime.pk)
    qbtime.refresh_from_db()
    cursor = qbtime.pull_cursor
    edited = {"135288514": {"duration": 9000, "last_modified": "2026-12-03T09:00:00+00:00"}}
    vendor_server.serve(SHEETS, documented(edited))

    result = timesheets_pull(integration_id=qbtime.pk)
    again = timesheets_pull(integration_id=qbtime.pk)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    sheets_asked = [query(p) for p, _ in vendor_server.requests if urlsplit(p).path == SHEETS]
    since = (cursor - timedelta(minutes=5)).astimezone(UTC)
    assert sheets_asked[1]["modified_since"] == [since.isoformat(timespec="seconds")]
    assert TimeEntry.objects.filter(source=TimeEntrySource.QBTIME).count() == 2
    task.refresh_from_db()
    assert task.logged_hours == Decimal("9.38")  # 6.88 + 2.50, not 6.88 + 1.50 + 2.50


def test_an_older_version_never_overwrites_a_newer_one(firm, vendor_server):
    qbtime, alex, task = firm
    newer = {"135288514": {"duration": 9000, "last_modified": "2026-12-03T09:00:00+00:00"}}
    vendor_server.serve(SHEETS, documented(newer))
    vendor_server.serve(DELETED, no_deletions())
    timesheets_pull(integration_id=qbtime.pk)

    vendor_server.serve(SHEETS, documented())  # the version of 30 November, late
    result = timesheets_pull(integration_id=qbtime.pk)

    assert result.updated == 0
    assert TimeEntry.objects.get(external_id="135288514").hours == Decimal("2.50")


def test_a_deleted_timesheet_takes_its_hours_off_the_task(firm, vendor_server):
    qbtime, alex, task = firm
    vendor_server.serve(SHEETS, documented())
    vendor_server.serve(DELETED, no_deletions())
    timesheets_pull(integration_id=qbtime.pk)
    vendor_server.serve(SHEETS, {"results": {"timesheets": []}, "more": False})
    vendor_server.serve(DELETED, json.loads(payload("qbtime_timesheets_deleted_list.json")))

    result = timesheets_pull(integration_id=qbtime.pk)
    again = timesheets_pull(integration_id=qbtime.pk)

    assert (result.removed, again.removed) == (1, 0)
    assert not TimeEntry.objects.filter(external_id="135288514").exists()
    task.refresh_from_db()
    assert task.logged_hours == Decimal("6.88")
    deleted_asked = [query(p) for p, _ in vendor_server.requests if urlsplit(p).path == DELETED]
    assert deleted_asked[-1]["limit"] == ["200"] and "modified_since" in deleted_asked[-1]
    assert "1 removed" in result.note

    vendor_server.serve(SHEETS, documented(only=["135288514"]))  # an old page served late
    timesheets_pull(integration_id=qbtime.pk)
    assert not TimeEntry.objects.filter(external_id="135288514").exists()


def test_approved_time_deleted_in_the_tracker_is_left_as_it_is(firm, vendor_server):
    qbtime, alex, task = firm
    vendor_server.serve(SHEETS, documented())
    vendor_server.serve(DELETED, no_deletions())
    timesheets_pull(integration_id=qbtime.pk)
    entry = TimeEntry.objects.get(external_id="135288514")
    time_entry_approve(entry_id=entry.pk, staff=alex)
    vendor_server.serve(DELETED, json.loads(payload("qbtime_timesheets_deleted_list.json")))

    result = timesheets_pull(integration_id=qbtime.pk)

    assert result.removed == 0 and TimeEntry.objects.filter(pk=entry.pk).exists()
    assert "approved here: left as it is" in " ".join(result.skipped)


def test_an_unmapped_user_is_an_exception_a_person_replays_once_mapped(firm, vendor_server):
    qbtime, alex, task = firm
    vendor_server.serve(SHEETS, documented())

    result = timesheets_pull(integration_id=qbtime.pk)

    assert result.exceptions == 1 and not result.error
    event = InboundEvent.objects.get(integration=qbtime)
    assert (event.status, event.resource_id) == (EventStatus.EXCEPTION, "135288522")
    assert "1242509 (Charles Ashley) is not mapped to staff" in event.detail
    qbtime.refresh_from_db()
    assert "1 exception(s)" in qbtime.last_pull_note

    charles = StaffMemberFactory()
    StaffExternalId.objects.create(
        staff_member=charles, source=Source.QBTIME, external_id="1242509"
    )
    assert inbound_event_replay(event_id=event.pk)
    assert inbound_event_process(event_id=event.pk) == EventStatus.APPLIED

    entry = TimeEntry.objects.get(external_id="135288522")
    assert (entry.staff_member, entry.hours, entry.date) == (charles, Decimal("2.50"), DAY)
    assert entry.client == task.engagement.client and entry.task is None  # not Charles's task
    assert inbound_event_process(event_id=event.pk) == EventStatus.APPLIED  # once
    assert TimeEntry.objects.filter(external_id="135288522").count() == 1


def test_a_replay_still_unmapped_stays_an_exception(firm, vendor_server):
    qbtime, alex, task = firm
    vendor_server.serve(SHEETS, documented(only=["135288522"]))
    timesheets_pull(integration_id=qbtime.pk)
    event = InboundEvent.objects.get(integration=qbtime)

    inbound_event_replay(event_id=event.pk)

    assert inbound_event_process(event_id=event.pk) == EventStatus.EXCEPTION
    assert not TimeEntry.objects.filter(external_id="135288522").exists()


def test_a_later_pull_that_applies_the_timesheet_settles_its_exception(firm, vendor_server):
    qbtime, alex, task = firm
    vendor_server.serve(SHEETS, documented(only=["135288522"]))
    vendor_server.serve(DELETED, no_deletions())
    timesheets_pull(integration_id=qbtime.pk)
    StaffExternalId.objects.create(
        staff_member=StaffMemberFactory(), source=Source.QBTIME, external_id="1242509"
    )
    edited = {"135288522": {"notes": "Prep", "last_modified": "2026-12-03T09:00:00+00:00"}}
    vendor_server.serve(SHEETS, documented(edited, only=["135288522"]))

    timesheets_pull(integration_id=qbtime.pk)

    assert InboundEvent.objects.get(integration=qbtime).status == EventStatus.IGNORED
    assert TimeEntry.objects.get(external_id="135288522").description == "Prep"


def test_a_429_stops_the_pull_and_its_retry_after_is_respected(firm, vendor_server):
    qbtime, alex, task = firm
    vendor_server.serve(
        SHEETS,
        {"error": {"code": 429, "message": "Too Many Requests"}},
        status=429,
        headers={"Retry-After": "120"},
    )

    assert timesheets_pull_all() == 1

    qbtime.refresh_from_db()
    assert qbtime.pull_cursor is None and "429" in qbtime.last_pull_note
    assert qbtime.pull_not_before >= timezone.now() + timedelta(seconds=110)
    assert not TimeEntry.objects.filter(source=TimeEntrySource.QBTIME).exists()
    asked = len(vendor_server.requests)
    vendor_server.serve(SHEETS, documented())

    assert timesheets_pull_all() == 0  # still inside the Retry-After
    assert len(vendor_server.requests) == asked

    Integration.objects.filter(pk=qbtime.pk).update(pull_not_before=timezone.now())
    assert timesheets_pull_all() == 1
    assert TimeEntry.objects.filter(source=TimeEntrySource.QBTIME).count() == 2


def test_over_its_requests_a_minute_a_pull_waits_for_the_next_minute(
    firm, vendor_server, monkeypatch
):
    qbtime, alex, task = firm
    Integration.objects.filter(pk=qbtime.pk).update(api_requests_per_minute=1)
    two_pages(vendor_server)

    class Clock:
        now = 1_800_000_010.0
        slept: list[float] = []

        def time(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.slept.append(seconds)
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(vendor_api, "time", clock)

    result = timesheets_pull(integration_id=qbtime.pk)

    assert (result.pages, result.created, result.error) == (2, 2, "")
    assert clock.slept == [51.0]  # to the next minute (and a second), not a stopped pull


def test_the_beat_pulls_quickbooks_time_every_15_minutes(firm, vendor_server):
    entry = celery_app.conf.beat_schedule["every-15-minutes-integrations-qbtime-pull"]
    assert entry["task"] == "integrations.tasks.qbtime_time_pull_task"
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == 15 * 60 and 0 < entry["options"]["expires"] < entry["schedule"]
    vendor_server.serve(SHEETS, documented())

    qbtime_time_pull_task()

    assert TimeEntry.objects.filter(source=TimeEntrySource.QBTIME).count() == 2


def test_one_firms_broken_integration_does_not_stop_the_others(firm, vendor_server):
    make_integration(Source.QBTIME, slug="other-firm", api_base_url="http://127.0.0.1:9/api/v1")
    vendor_server.serve(SHEETS, documented())

    assert timesheets_pull_all() == 2

    assert TimeEntry.objects.filter(source=TimeEntrySource.QBTIME).count() == 2


def test_a_quickbooks_time_integration_has_no_webhook_endpoint(firm, client):
    response = client.post(f"/webhooks/{firm[0].slug}/", b"{}", content_type="application/json")
    assert response.status_code == 404


def test_the_admin_sets_its_credentials_and_shows_the_last_pull(firm, client):
    qbtime = firm[0]
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-1234")
    client.force_login(superuser)
    url = reverse("admin:integrations_integration_change", args=[qbtime.pk])
    form = client.get(url).content.decode()
    for field in ("api_base_url", "api_token", "api_requests_per_minute", "pull_not_before_0"):
        assert f'name="{field}"' in form
    assert "Pulled time (Harvest, QuickBooks Time" in form

    response = client.post(
        url,
        {
            "name": qbtime.name,
            "source": Source.QBTIME,
            "slug": qbtime.slug,
            "active": "on",
            "secret": qbtime.secret,
            "timestamp_tolerance_seconds": 300,
            "max_body_bytes": 1024 * 1024,
            "api_base_url": "https://rest.tsheets.com/api/v1",
            "api_token": "S.1__rotated",
            "api_requests_per_minute": 60,
            "status_mappings-TOTAL_FORMS": 0,
            "status_mappings-INITIAL_FORMS": 0,
            "work_type_mappings-TOTAL_FORMS": 0,
            "work_type_mappings-INITIAL_FORMS": 0,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    qbtime.refresh_from_db()
    assert (qbtime.api_base_url, qbtime.api_token) == (
        "https://rest.tsheets.com/api/v1",
        "S.1__rotated",
    )


def test_a_payload_round_trips_for_a_replay():
    record = time_pull.TrackedTime(
        external_id="1",
        user_id="2",
        client_ids=("3", "4"),
        hours=Decimal("1.25"),
        day=DAY,
        notes="n",
        modified_at=timezone.now().replace(microsecond=0),
    )
    assert time_pull.TrackedTime.from_payload(copy.deepcopy(record.to_payload())) == record


def test_time_off_and_breaks_are_not_logged_work(firm, vendor_server):
    qbtime, alex, task = firm
    body = documented({"135288514": {"jobcode_id": 17288290}}, only=["135288482", "135288514"])
    body["supplemental_data"]["jobcodes"]["17288290"] = {
        "id": 17288290,
        "parent_id": 0,
        "type": "pto",
        "name": "Vacation",
        "has_children": False,
        "active": True,
    }
    vendor_server.serve(SHEETS, body)

    result = timesheets_pull(integration_id=qbtime.pk)

    assert (result.created, result.skipped, result.exceptions) == (
        1,
        {"time off and breaks": 1},
        0,
    )
    assert not TimeEntry.objects.filter(external_id="135288514").exists()


def test_the_exception_is_listed_in_the_admin_with_its_replay(firm, vendor_server, client):
    qbtime = firm[0]
    vendor_server.serve(SHEETS, documented(only=["135288522"]))
    timesheets_pull(integration_id=qbtime.pk)
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-1234")
    client.force_login(superuser)

    listing = client.get(
        reverse("admin:integrations_inboundevent_changelist") + "?status__exact=exception"
    )
    log = client.get(reverse("admin:integrations_deliverylog_changelist"))

    page = listing.content.decode()
    assert listing.status_code == 200 and "timesheet.pulled" in page
    assert "1242509 (Charles Ashley) is not mapped to staff" in page
    assert 'value="replay"' in page
    assert log.status_code == 200 and "timesheet.pulled" in log.content.decode()
