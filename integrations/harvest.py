"""Logged hours from Harvest: its time entries pulled on a beat schedule.

Per active integration of source Harvest (API base URL ``https://api.harvestapp.com/v2``,
``api_token`` the personal access or OAuth token, ``api_key`` the Harvest-Account-Id):

1. ``GET time_entries?updated_since=<cursor>&per_page=2000&page=N``, page by page while
   ``next_page`` says so, through ``vendor_api.vendor_get``: timeouts, the integration's
   rate limit (Harvest allows 100 requests per 15 s), a 429 or 5xx stops the pull and
   the next run starts again from the same cursor (what was stored stays stored once).
2. Each entry, once per Harvest id, through ``billing.services.time_entry_import`` (a
   draft like a manual entry; capacity subtracts it from the task's estimate the same
   way; a later version updates the draft; approved time is left as it is):
   - the person: ``Staff external ids`` (source Harvest, the Harvest user id);
   - the task: the entry's ``external_reference.permalink`` when it is a Closeloop task
     page (time tracked with the Harvest button on that page), else the person's one
     open task for the client (``Client external ids``, the Harvest client id);
   - a running timer waits until it is stopped; an entry for nobody Closeloop knows,
     or a client it cannot find, is skipped and counted in the pull's note.
3. The cursor moves to the time the pull started once every page is stored.
Entries deleted in Harvest are not reported by ``updated_since``: remove their drafts by hand.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone

from billing.choices import TimeEntrySource
from billing.models import MAX_ENTRY_HOURS, MIN_ENTRY_HOURS
from billing.services import time_entry_import
from clients.models import Client, ClientExternalId
from core.dates import firm_date_problem
from core.exceptions import ApplicationError
from engagements.choices import HELD_TASK_STATUSES
from engagements.models import Task
from integrations import vendor_api
from integrations.choices import Source
from integrations.models import Integration, StaffExternalId
from integrations.parsing import Malformed, parse_time
from staff.models import StaffMember

logger = logging.getLogger(__name__)

PER_PAGE = 2000  # Harvest's largest page
MAX_PAGES = 50
OVERLAP = timedelta(minutes=5)  # clock skew between Harvest and us: a little is pulled twice
TASK_PAGE = re.compile(r"/tasks/(\d+)/?(?:[?#].*)?$")


@dataclass
class PullResult:
    pages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    @property
    def note(self) -> str:
        words = f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.skipped:
            words += "; skipped: " + ", ".join(f"{n} {why}" for why, n in self.skipped.items())
        return (words + (f"; stopped: {self.error}" if self.error else ""))[:500]


def _harvest_id(entry: dict[str, Any], name: str) -> str | None:
    value = entry.get(name)
    found = value.get("id") if isinstance(value, dict) else None
    return str(found) if isinstance(found, (int, str)) and not isinstance(found, bool) else None


def _permalink_task_id(entry: dict[str, Any]) -> int | None:
    reference = entry.get("external_reference")
    permalink = reference.get("permalink") if isinstance(reference, dict) else None
    match = TASK_PAGE.search(permalink) if isinstance(permalink, str) else None
    return int(match.group(1)) if match and len(match.group(1)) < 12 else None


@dataclass
class Lookups:
    """One page's people, clients and tasks, read in a few queries (not one per entry)."""

    staff: dict[str, StaffMember]
    clients: dict[str, Client]
    tasks: dict[int, Task]
    held: dict[tuple[int, int], list[Task]]

    @classmethod
    def for_page(cls, entries: list[Any]) -> Lookups:
        rows = [e for e in entries if isinstance(e, dict)]
        user_ids = {u for e in rows if (u := _harvest_id(e, "user"))}
        client_ids = {c for e in rows if (c := _harvest_id(e, "client"))}
        task_ids = {t for e in rows if (t := _permalink_task_id(e))}
        staff = {
            row.external_id: row.staff_member
            for row in StaffExternalId.objects.select_related("staff_member").filter(
                source=Source.HARVEST, external_id__in=user_ids
            )
        }
        clients = {
            row.external_id: row.client
            for row in ClientExternalId.objects.select_related("client").filter(
                source=Source.HARVEST, external_id__in=client_ids
            )
        }
        tasks = Task.objects.select_related("engagement__client", "engagement__work_type")
        held: dict[tuple[int, int], list[Task]] = {}
        for task in tasks.filter(
            assignee__in=list(staff.values()),
            engagement__client__in=list(clients.values()),
            status__in=HELD_TASK_STATUSES,
        ):
            assert task.assignee_id is not None
            held.setdefault((task.assignee_id, task.engagement.client_id), []).append(task)
        return cls(staff, clients, {t.pk: t for t in tasks.filter(pk__in=task_ids)}, held)

    def task_for(self, entry: dict[str, Any], staff: StaffMember) -> Task | None:
        task_id = _permalink_task_id(entry)
        if task_id is not None and task_id in self.tasks:
            return self.tasks[task_id]
        client = self.clients.get(_harvest_id(entry, "client") or "")
        held = self.held.get((staff.pk, client.pk), []) if client else []
        return held[0] if len(held) == 1 else None  # several: which one would be a guess


def _hours(value: object) -> Decimal | None:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    return hours if hours.is_finite() else None


def entry_apply(entry: Any, result: PullResult, lookups: Lookups) -> None:
    """Store one Harvest time entry (step 2 of the module docstring)."""
    if not isinstance(entry, dict) or entry.get("id") in (None, ""):
        result.skip("without an id")
        return
    if entry.get("is_running"):
        result.skip("timers still running")
        return
    staff = lookups.staff.get(_harvest_id(entry, "user") or "")
    if staff is None:
        result.skip("for a Harvest user not mapped to staff")
        return
    hours = _hours(entry.get("hours"))
    if hours is None or not (MIN_ENTRY_HOURS <= hours <= MAX_ENTRY_HOURS):
        result.skip("under 0.1 or over 24 hours")
        return
    try:
        spent = parse_time(entry.get("spent_date"))
    except Malformed:
        spent = None
    if spent is None or firm_date_problem(spent.date()):
        result.skip("with a date out of range")
        return
    task = lookups.task_for(entry, staff)
    client = (
        task.engagement.client
        if task is not None
        else lookups.clients.get(_harvest_id(entry, "client") or "")
    )
    if client is None:
        result.skip("for a client not mapped")
        return
    notes = entry.get("notes")
    try:
        imported = time_entry_import(
            source=TimeEntrySource.HARVEST,
            external_id=str(entry["id"])[:64],
            staff=staff,
            client=client,
            day=spent.date(),
            hours=hours,
            description=notes if isinstance(notes, str) else "",
            task=task,
        )
    except ApplicationError:
        result.skip("refused by billing")
        return
    if imported.outcome == "created":
        result.created += 1
    elif imported.outcome == "updated":
        result.updated += 1
    else:
        result.unchanged += 1


def time_entries_pull(*, integration_id: int) -> PullResult:
    """Pull one Harvest integration's entries changed since its cursor (the module docstring)."""
    integration = Integration.objects.get(pk=integration_id)
    started = timezone.now()
    since: datetime | None = integration.pull_cursor
    result = PullResult()
    params: dict[str, object] = {"per_page": PER_PAGE}
    if since is not None:
        params["updated_since"] = (since - OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")
    page: object = 1
    try:
        while isinstance(page, int) and 0 < page and result.pages < MAX_PAGES:
            data = vendor_api.vendor_get(
                integration, "time_entries?" + urlencode({**params, "page": page})
            )
            result.pages += 1
            entries = data.get("time_entries")
            if not isinstance(entries, list):
                raise vendor_api.VendorRefused("Harvest answered without time_entries")
            lookups = Lookups.for_page(entries)
            for entry in entries:
                entry_apply(entry, result, lookups)
            page = data.get("next_page")
    except (vendor_api.VendorUnavailable, vendor_api.VendorRefused) as exc:
        result.error = str(exc)
    fields: dict[str, object] = {"last_pull_at": started, "last_pull_note": result.note}
    if not result.error:
        fields["pull_cursor"] = started
    Integration.objects.filter(pk=integration.pk).update(**fields)
    return result


def time_entries_pull_all() -> int:
    """Beat: every active Harvest integration, one after the other; how many were pulled."""
    ids = list(
        Integration.objects.filter(Q(source=Source.HARVEST), active=True)
        .exclude(api_base_url="")
        .values_list("pk", flat=True)
    )
    for integration_id in ids:
        try:
            time_entries_pull(integration_id=integration_id)
        except Exception:  # one firm's broken integration never stops the others
            logger.exception("harvest pull for integration %s failed", integration_id)
    return len(ids)
