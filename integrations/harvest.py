"""Logged hours from Harvest: its time entries pulled on a beat schedule.

Per active integration of source Harvest (API base URL ``https://api.harvestapp.com/v2``,
``api_token`` the personal access or OAuth token, ``api_key`` the Harvest-Account-Id):
``GET time_entries?updated_since=<cursor>&per_page=2000&page=N``, page by page while
``next_page`` says so (Harvest allows 100 requests per 15 s). Each entry becomes a
``TrackedTime``: the person is the entry's ``user.id``, the client its ``client.id``,
the task the entry's ``external_reference.permalink`` when it is a Closeloop task page
(time tracked with the Harvest button on that page). Storing, mapping, exceptions and
the cursor are ``integrations.time_pull``'s, shared with QuickBooks Time.
Entries deleted in Harvest are not reported by ``updated_since``: remove their drafts by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from integrations import time_pull, vendor_api
from integrations.choices import Source
from integrations.models import Integration
from integrations.time_pull import PullResult, TrackedTime

PER_PAGE = 2000  # Harvest's largest page
MAX_PAGES = 50
TASK_PAGE = re.compile(r"/tasks/(\d+)/?(?:[?#].*)?$")
TRACKER = time_pull.TRACKERS[Source.HARVEST]


def _harvest_id(entry: dict[str, Any], name: str) -> str | None:
    value = entry.get(name)
    found = value.get("id") if isinstance(value, dict) else None
    return str(found) if isinstance(found, (int, str)) and not isinstance(found, bool) else None


def _permalink_task_id(entry: dict[str, Any]) -> int | None:
    reference = entry.get("external_reference")
    permalink = reference.get("permalink") if isinstance(reference, dict) else None
    match = TASK_PAGE.search(permalink) if isinstance(permalink, str) else None
    return int(match.group(1)) if match and len(match.group(1)) < 12 else None


def record_from(entry: Any) -> TrackedTime:
    """One Harvest time entry as Closeloop reads it."""
    if not isinstance(entry, dict):
        return TrackedTime("", "", (), None, None)
    user = entry.get("user")
    notes = entry.get("notes")
    client_id = _harvest_id(entry, "client")
    return TrackedTime(
        external_id=str(entry.get("id") or ""),
        user_id=_harvest_id(entry, "user") or "",
        client_ids=(client_id,) if client_id else (),
        hours=time_pull.hours_from(entry.get("hours")),
        day=time_pull.day_from(entry.get("spent_date")),
        notes=notes if isinstance(notes, str) else "",
        task_id=_permalink_task_id(entry),
        running=bool(entry.get("is_running")),
        modified_at=time_pull.time_from(entry.get("updated_at")),
        who=str(user.get("name") or "")[:100] if isinstance(user, dict) else "",
    )


def changed_pages(integration: Integration, since: datetime | None) -> Iterator[list[TrackedTime]]:
    """``time_entries`` updated since ``since`` (all without one), one list per page."""
    params: dict[str, object] = {"per_page": PER_PAGE}
    if since is not None:
        params["updated_since"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    page: object = 1
    pages = 0
    while isinstance(page, int) and 0 < page and pages < MAX_PAGES:
        data = vendor_api.vendor_get(
            integration,
            "time_entries?" + urlencode({**params, "page": page}),
            wait_for_slot=time_pull.SLOT_WAIT,
        )
        pages += 1
        entries = data.get("time_entries")
        if not isinstance(entries, list):
            raise vendor_api.VendorRefused("Harvest answered without time_entries")
        yield [record_from(entry) for entry in entries]
        page = data.get("next_page")


def time_entries_pull(*, integration_id: int) -> PullResult:
    """Pull one Harvest integration's entries changed since its cursor."""
    return time_pull.pull(TRACKER, changed_pages, None, integration_id=integration_id)


def time_entries_pull_all() -> int:
    """Beat: every active Harvest integration; how many were pulled."""
    return time_pull.pull_all(Source.HARVEST, time_entries_pull)
