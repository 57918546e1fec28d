"""Logged hours from QuickBooks Time (formerly TSheets): its timesheets pulled on a beat
schedule.

Per active integration of source QuickBooks Time (API base URL
``https://rest.tsheets.com/api/v1``, ``api_token`` the access token, sent as a Bearer
token; QuickBooks Time allows about 300 requests per 5 minutes, 60 a minute here):

1. ``GET timesheets?modified_since=<cursor>&limit=200&page=N`` (a first pull, without a
   cursor: ``start_date`` ``FIRST_PULL_DAYS`` back), page by page while ``more`` is true.
   ``results.timesheets`` is keyed by id; ``supplemental_data`` carries the page's users
   and job codes.
2. ``GET timesheets_deleted?modified_since=<cursor>&limit=200&page=N`` the same way: the
   drafts of deleted timesheets are removed (once there is a cursor; before the first
   pull nothing is stored).
Each timesheet becomes a ``TrackedTime``: the person is its ``user_id`` (``Staff external
ids``, source QuickBooks Time), the client its ``jobcode_id`` or, for a job code under a
customer, the nearest parent job code mapped (``Client external ids``; the parents come
from the page's supplemental job codes), the hours its ``duration`` in seconds, the day
its ``date``; a timesheet still ``on_the_clock`` waits until it is clocked out, and one on
a job code of type ``pto``, ``paid_break`` or ``unpaid_break`` is not work (skipped).
Storing, mapping, exceptions, last-modified order and the cursor are
``integrations.time_pull``'s, shared with Harvest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone

from integrations import time_pull, vendor_api
from integrations.choices import Source
from integrations.models import Integration
from integrations.time_pull import PullResult, Removal, TrackedTime

LIMIT = 200  # QuickBooks Time's largest page
MAX_PAGES = 500
FIRST_PULL_DAYS = 92  # a first pull reaches back a quarter (set the cursor for more)
MAX_JOB_DEPTH = 10
TRACKER = time_pull.TRACKERS[Source.QBTIME]


def _id(value: object) -> str:
    """A QuickBooks Time id as text; "" for none (its "no job code" is 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return ""
    text = str(value).strip()
    return "" if text in ("", "0") else text[:64]


def _keyed(results: object, name: str) -> list[dict[str, Any]]:
    """``results[name]``: an object keyed by id (an empty list when there are none)."""
    found = results.get(name) if isinstance(results, dict) else None
    if isinstance(found, dict):
        return [row for row in found.values() if isinstance(row, dict)]
    if isinstance(found, list):
        return [row for row in found if isinstance(row, dict)]
    raise vendor_api.VendorRefused(f"QuickBooks Time answered without {name}")


def _job_chain(jobcode_id: str, jobcodes: dict[str, Any]) -> tuple[str, ...]:
    """The job code and its parents, nearest first (a sub-job's customer is its parent)."""
    chain: list[str] = []
    current = jobcode_id
    while current and current not in chain and len(chain) < MAX_JOB_DEPTH:
        chain.append(current)
        job = jobcodes.get(current)
        current = _id(job.get("parent_id")) if isinstance(job, dict) else ""
    return tuple(chain)


def _who(user: object) -> str:
    if not isinstance(user, dict):
        return ""
    name = f"{user.get('first_name') or ''} {user.get('last_name') or ''}".strip()
    return (name or str(user.get("username") or ""))[:100]


def record_from(sheet: dict[str, Any], supplemental: dict[str, Any]) -> TrackedTime:
    """One QuickBooks Time timesheet as Closeloop reads it."""
    users = supplemental.get("users") if isinstance(supplemental.get("users"), dict) else {}
    found = supplemental.get("jobcodes")
    jobcodes: dict[str, Any] = found if isinstance(found, dict) else {}
    user_id = _id(sheet.get("user_id"))
    jobcode_id = _id(sheet.get("jobcode_id"))
    job = jobcodes.get(jobcode_id)
    kind = job.get("type") if isinstance(job, dict) else None
    notes = sheet.get("notes")
    return TrackedTime(
        external_id=_id(sheet.get("id")),
        user_id=user_id,
        client_ids=_job_chain(jobcode_id, jobcodes),
        hours=time_pull.hours_from(sheet.get("duration"), per_hour=3600),
        day=time_pull.day_from(sheet.get("date")),
        notes=notes if isinstance(notes, str) else "",
        running=sheet.get("on_the_clock") is True,
        modified_at=time_pull.time_from(sheet.get("last_modified")),
        who=_who(users.get(user_id) if isinstance(users, dict) else None),
        not_work="" if kind in (None, "regular") else "time off and breaks",
    )


def _pages(
    integration: Integration, resource: str, params: dict[str, object]
) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """One resource's rows and supplemental data, page by page while ``more`` is true."""
    page = 1
    while True:
        if page > MAX_PAGES:
            raise vendor_api.VendorRefused(
                f"QuickBooks Time has more than {MAX_PAGES} pages of {resource}: the rest "
                "were not pulled; the next pull starts again from the same cursor."
            )
        data = vendor_api.vendor_get(
            integration,
            f"{resource}?" + urlencode({**params, "limit": LIMIT, "page": page}),
            wait_for_slot=time_pull.SLOT_WAIT,
        )
        supplemental = data.get("supplemental_data")
        yield (
            _keyed(data.get("results"), resource),
            supplemental if isinstance(supplemental, dict) else {},
        )
        if data.get("more") is not True:
            return
        page += 1


def _since(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def changed_pages(integration: Integration, since: datetime | None) -> Iterator[list[TrackedTime]]:
    """``timesheets`` modified since ``since`` (a first pull: ``FIRST_PULL_DAYS`` back)."""
    if since is not None:
        params: dict[str, object] = {"modified_since": _since(since)}
    else:
        start = timezone.localdate() - timedelta(days=FIRST_PULL_DAYS)
        params = {"start_date": start.isoformat()}
    for sheets, supplemental in _pages(integration, "timesheets", params):
        yield [record_from(sheet, supplemental) for sheet in sheets]


def removed_pages(integration: Integration, since: datetime) -> Iterator[list[Removal]]:
    """``timesheets_deleted`` since ``since``."""
    params: dict[str, object] = {"modified_since": _since(since)}
    for sheets, _ in _pages(integration, "timesheets_deleted", params):
        yield [
            Removal(_id(sheet.get("id")), time_pull.time_from(sheet.get("last_modified")))
            for sheet in sheets
        ]


def timesheets_pull(*, integration_id: int) -> PullResult:
    """Pull one QuickBooks Time integration's timesheets changed since its cursor."""
    return time_pull.pull(TRACKER, changed_pages, removed_pages, integration_id=integration_id)


def timesheets_pull_all() -> int:
    """Beat: every active QuickBooks Time integration; how many were pulled."""
    return time_pull.pull_all(Source.QBTIME, timesheets_pull)
