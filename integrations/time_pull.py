"""Logged hours from the firm's time tracker: what Harvest and QuickBooks Time share.

Each tracker's module (``integrations.harvest``, ``integrations.qbtime``) reads its API
page by page into ``TrackedTime`` records (and, where the tracker reports them, the ids
of deleted entries); this module does the rest, the same way for both:

1. The pull: from the integration's cursor (less ``OVERLAP``), every page, through
   ``vendor_api.vendor_get`` (timeouts, the integration's rate limit). A 429 or 5xx stops
   the pull: the cursor stays, and a ``Retry-After`` is kept as ``pull_not_before`` so
   the beat leaves the tracker alone until then. The cursor moves to the time the pull
   started once every page is stored.
2. Each record, once per tracker id, through ``billing.services.time_entry_import`` (a
   draft like a manual entry; capacity subtracts it from the task's estimate the same
   way; a later version updates the draft; approved time is settled), in the order of
   the tracker's last-modified time (``ExternalRecordVersion``: an older version is
   never applied over a newer one):
   - the person: ``Staff external ids`` (the tracker's user id);
   - the task: the Closeloop task the record names (Harvest's button on a task page),
     else the person's one open task for the client (``Client external ids``: the
     tracker's client id, or for QuickBooks Time its job code or a parent job code);
   - a running timer waits until it is stopped.
3. A record for a user or a client Closeloop cannot map is an *exception* in the admin's
   inbound events (one row per tracker id, the record kept as its payload): map the user
   or client, then replay it there. Records that are not time at all (no id, no job,
   hours or a date out of range) are skipped; every skip is counted in the pull's note.
4. A record the tracker deleted removes its draft (approved time is settled).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.choices import TimeEntrySource
from billing.models import MAX_ENTRY_HOURS, MIN_ENTRY_HOURS
from billing.services import time_entry_import, time_entry_import_remove
from clients.models import Client, ClientExternalId
from core.dates import firm_date_problem
from core.exceptions import ApplicationError
from engagements.choices import HELD_TASK_STATUSES
from engagements.models import Task
from integrations import vendor_api
from integrations.choices import EventStatus, Source
from integrations.models import ExternalRecordVersion, InboundEvent, Integration, StaffExternalId
from integrations.parsing import Malformed, Unapplicable, parse_time
from staff.models import StaffMember

logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)  # clock skew between the tracker and us: a little is pulled twice
# A pull has no one waiting on it: over the integration's requests a minute, a page waits
# for the next minute (``vendor_api.vendor_get``'s ``wait_for_slot``) instead of stopping.
SLOT_WAIT = 65.0


@dataclass(frozen=True)
class Tracker:
    """What differs between trackers once their records are read."""

    source: Source
    entry_source: TimeEntrySource  # billing's TimeEntry.source
    resource: str  # the record's name: ExternalRecordVersion and exception rows
    label: str


TRACKERS = {
    Source.HARVEST: Tracker(Source.HARVEST, TimeEntrySource.HARVEST, "time_entry", "Harvest"),
    Source.QBTIME: Tracker(Source.QBTIME, TimeEntrySource.QBTIME, "timesheet", "QuickBooks Time"),
}


@dataclass(frozen=True)
class TrackedTime:
    """One tracker entry as Closeloop reads it (None where the tracker's value is unusable)."""

    external_id: str
    user_id: str
    client_ids: tuple[str, ...]  # the tracker's client or job ids, most specific first
    hours: Decimal | None
    day: date | None
    notes: str = ""
    task_id: int | None = None  # a Closeloop task the entry names
    running: bool = False
    modified_at: datetime | None = None
    who: str = ""  # the tracker's name for the person, for an exception's message
    not_work: str = ""  # why the tracker's own record says it is not work (time off, a break)

    def to_payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["client_ids"] = list(self.client_ids)
        data["hours"] = None if self.hours is None else str(self.hours)
        data["day"] = None if self.day is None else self.day.isoformat()
        data["modified_at"] = None if self.modified_at is None else self.modified_at.isoformat()
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> TrackedTime:
        try:
            return cls(
                external_id=str(data["external_id"]),
                user_id=str(data["user_id"]),
                client_ids=tuple(str(c) for c in data.get("client_ids") or ()),
                hours=hours_from(data.get("hours")),
                day=date.fromisoformat(data["day"]) if data.get("day") else None,
                notes=str(data.get("notes") or ""),
                task_id=int(data["task_id"]) if data.get("task_id") else None,
                running=bool(data.get("running")),
                modified_at=parse_time(data.get("modified_at")),
                who=str(data.get("who") or ""),
                not_work=str(data.get("not_work") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Unapplicable(f"The stored record cannot be read: {exc}") from exc


@dataclass(frozen=True)
class Removal:
    """An entry the tracker deleted."""

    external_id: str
    modified_at: datetime | None = None


def hours_from(value: object, per_hour: int = 1) -> Decimal | None:
    """Hours to the hundredth from a number of hours (or of seconds, ``per_hour=3600``)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        hours = (Decimal(str(value)) / per_hour).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    return hours if hours.is_finite() else None


def time_from(value: object) -> datetime | None:
    try:
        return parse_time(value)
    except Malformed:
        return None


def day_from(value: object) -> date | None:
    moment = time_from(value)
    return moment.date() if moment else None


@dataclass
class PullResult:
    pages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    exceptions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    error: str = ""
    retry_after: float | None = None

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    @property
    def note(self) -> str:
        words = f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.removed:
            words += f", {self.removed} removed"
        if self.exceptions:
            words += f"; {self.exceptions} exception(s) to map in inbound events"
        if self.skipped:
            words += "; skipped: " + ", ".join(f"{n} {why}" for why, n in self.skipped.items())
        return (words + (f"; stopped: {self.error}" if self.error else ""))[:500]


class _Skip(Exception):
    """Not time Closeloop records (the reason is counted in the pull's note)."""


@dataclass
class Lookups:
    """One page's people, clients and tasks, read in a few queries (not one per record)."""

    staff: dict[str, StaffMember]
    clients: dict[str, Client]
    tasks: dict[int, Task]
    held: dict[tuple[int, int], list[Task]]

    @classmethod
    def for_records(cls, source: str, records: Iterable[TrackedTime]) -> Lookups:
        rows = list(records)
        staff = {
            row.external_id: row.staff_member
            for row in StaffExternalId.objects.select_related("staff_member").filter(
                source=source, external_id__in={r.user_id for r in rows if r.user_id}
            )
        }
        clients = {
            row.external_id: row.client
            for row in ClientExternalId.objects.select_related("client").filter(
                source=source, external_id__in={c for r in rows for c in r.client_ids}
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
        task_ids = {r.task_id for r in rows if r.task_id}
        return cls(staff, clients, {t.pk: t for t in tasks.filter(pk__in=task_ids)}, held)

    def client_for(self, record: TrackedTime) -> Client | None:
        return next((self.clients[c] for c in record.client_ids if c in self.clients), None)

    def task_for(self, record: TrackedTime, staff: StaffMember) -> Task | None:
        if record.task_id is not None and record.task_id in self.tasks:
            return self.tasks[record.task_id]
        client = self.client_for(record)
        held = self.held.get((staff.pk, client.pk), []) if client else []
        return held[0] if len(held) == 1 else None  # several: which one would be a guess


def _resolve(
    tracker: Tracker, record: TrackedTime, lookups: Lookups
) -> tuple[StaffMember, Client, Task | None]:
    """The person, client and task of a record; ``_Skip`` or ``Unapplicable`` if none."""
    if not record.external_id:
        raise _Skip("without an id")
    if record.running:
        raise _Skip("timers still running")
    if record.not_work:
        raise _Skip(record.not_work)
    staff = lookups.staff.get(record.user_id)
    if staff is None:
        who = f" ({record.who})" if record.who else ""
        raise Unapplicable(
            f"{tracker.label} user {record.user_id}{who} is not mapped to staff: add it to "
            "the staff member's external ids, then replay."
        )
    if record.hours is None or not (MIN_ENTRY_HOURS <= record.hours <= MAX_ENTRY_HOURS):
        raise _Skip("under 0.1 or over 24 hours")
    if record.day is None or firm_date_problem(record.day):
        raise _Skip("with a date out of range")
    task = lookups.task_for(record, staff)
    client = task.engagement.client if task is not None else lookups.client_for(record)
    if client is None:
        if not record.client_ids:
            raise _Skip("without a client or job")
        raise Unapplicable(
            f"No client has {tracker.label} id {' or '.join(record.client_ids)}: add it to "
            "the client's external ids, then replay."
        )
    return staff, client, task


def _newer_applied(
    integration: Integration, tracker: Tracker, record_id: str, at: datetime | None
) -> bool:
    """Whether a newer version of the record was applied already (locks its version row)."""
    version = (
        ExternalRecordVersion.objects.select_for_update()
        .filter(integration=integration, resource_type=tracker.resource, resource_id=record_id)
        .first()
    )
    return version is not None and at is not None and version.modified_at > at


def _version_store(
    integration: Integration, tracker: Tracker, record_id: str, at: datetime | None
) -> None:
    if at is not None:
        ExternalRecordVersion.objects.update_or_create(
            integration=integration,
            resource_type=tracker.resource,
            resource_id=record_id,
            defaults={"modified_at": at},
        )


def _exceptions_settle(
    integration: Integration, tracker: Tracker, record_id: str, detail: str
) -> None:
    """An exception row for the record is done with: a later version applied or it is gone."""
    InboundEvent.objects.filter(
        integration=integration,
        event_id=f"{tracker.resource}:{record_id}",
        status=EventStatus.EXCEPTION,
    ).update(status=EventStatus.IGNORED, detail=detail, processed_at=timezone.now())


def _store(
    integration: Integration,
    tracker: Tracker,
    record: TrackedTime,
    staff: StaffMember,
    client: Client,
    task: Task | None,
) -> str:
    """Apply one resolved record (inside a transaction); billing's outcome."""
    if _newer_applied(integration, tracker, record.external_id, record.modified_at):
        return "unchanged"
    assert record.day is not None and record.hours is not None
    imported = time_entry_import(
        source=tracker.entry_source,
        external_id=record.external_id[:64],
        staff=staff,
        client=client,
        day=record.day,
        hours=record.hours,
        description=record.notes,
        task=task,
    )
    _version_store(integration, tracker, record.external_id, record.modified_at)
    _exceptions_settle(
        integration, tracker, record.external_id, "A later pull of the record applied it."
    )
    return imported.outcome


def _exception_store(
    integration: Integration, tracker: Tracker, record: TrackedTime, detail: str
) -> None:
    now = timezone.now()
    InboundEvent.objects.update_or_create(
        integration=integration,
        event_id=f"{tracker.resource}:{record.external_id}",
        defaults={
            "event_type": f"{tracker.resource}.pulled",
            "resource_type": tracker.resource,
            "resource_id": record.external_id[:128],
            "occurred_at": record.modified_at,
            "payload": record.to_payload(),
            "received_at": now,
            "status": EventStatus.EXCEPTION,
            "attempts": 0,
            "next_attempt_at": None,
            "processed_at": now,
            "detail": detail[:4000],
        },
    )


def record_apply(
    tracker: Tracker,
    integration: Integration,
    record: TrackedTime,
    result: PullResult,
    lookups: Lookups,
) -> None:
    """Store one pulled record, or count why not (steps 2 and 3 of the module docstring)."""
    try:
        staff, client, task = _resolve(tracker, record, lookups)
        with transaction.atomic():
            outcome = _store(integration, tracker, record, staff, client, task)
    except _Skip as skip:
        result.skip(str(skip))
        return
    except Unapplicable as exc:
        result.skip(
            f"for a {tracker.label} user not mapped to staff"
            if record.user_id not in lookups.staff
            else "for a client not mapped"
        )
        result.exceptions += 1
        _exception_store(integration, tracker, record, str(exc))
        return
    except ApplicationError:
        result.skip("refused by billing")
        return
    if outcome == "created":
        result.created += 1
    elif outcome == "updated":
        result.updated += 1
    else:
        result.unchanged += 1


def event_apply(event: InboundEvent) -> tuple[str, str]:
    """Replay a pulled record that was an exception (the inbox's worker, in its transaction):
    the status and detail; ``Unapplicable`` while the user or client is still not mapped."""
    tracker = TRACKERS[Source(event.integration.source)]
    record = TrackedTime.from_payload(event.payload)
    try:
        staff, client, task = _resolve(
            tracker, record, Lookups.for_records(tracker.source, [record])
        )
    except _Skip as skip:
        return EventStatus.IGNORED, f"Not recorded: an entry {skip}."
    try:
        outcome = _store(event.integration, tracker, record, staff, client, task)
    except ApplicationError as exc:
        raise Unapplicable(f"Billing refused the entry: {exc.user_message}") from exc
    return (
        EventStatus.APPLIED,
        f"Time entry {outcome} for {staff} ({record.hours} h on {record.day}).",
    )


def record_remove(
    tracker: Tracker, integration: Integration, removal: Removal, result: PullResult
) -> None:
    """The tracker deleted an entry: its draft goes (step 4 of the module docstring)."""
    if not removal.external_id:
        result.skip("deletions without an id")
        return
    with transaction.atomic():
        if _newer_applied(integration, tracker, removal.external_id, removal.modified_at):
            result.unchanged += 1
            return
        outcome = time_entry_import_remove(
            source=tracker.entry_source, external_id=removal.external_id[:64]
        )
        _version_store(integration, tracker, removal.external_id, removal.modified_at)
        _exceptions_settle(
            integration, tracker, removal.external_id, f"Deleted in {tracker.label}."
        )
    if outcome == "removed":
        result.removed += 1
    elif outcome == "settled":
        result.skip(f"deleted in {tracker.label} but approved here: left as it is")


Changed = Callable[[Integration, datetime | None], Iterator[list[TrackedTime]]]
Removed = Callable[[Integration, datetime], Iterator[list[Removal]]]


def pull(
    tracker: Tracker, changed: Changed, removed: Removed | None, *, integration_id: int
) -> PullResult:
    """Pull one integration's records changed since its cursor (step 1 of the module
    docstring): ``changed`` yields pages of records, ``removed`` pages of deletions."""
    integration = Integration.objects.get(pk=integration_id)
    started = timezone.now()
    since = integration.pull_cursor - OVERLAP if integration.pull_cursor else None
    result = PullResult()
    try:
        for records in changed(integration, since):
            result.pages += 1
            lookups = Lookups.for_records(tracker.source, records)
            for record in records:
                record_apply(tracker, integration, record, result, lookups)
        if removed is not None and since is not None:  # nothing to remove before a first pull
            for removals in removed(integration, since):
                result.pages += 1
                for removal in removals:
                    record_remove(tracker, integration, removal, result)
    except vendor_api.VendorUnavailable as exc:
        result.error, result.retry_after = str(exc), exc.retry_after
    except vendor_api.VendorRefused as exc:
        result.error = str(exc)
    fields: dict[str, object] = {"last_pull_at": started, "last_pull_note": result.note}
    if not result.error:
        fields["pull_cursor"] = started
    if result.retry_after:
        fields["pull_not_before"] = timezone.now() + timedelta(seconds=result.retry_after)
    Integration.objects.filter(pk=integration.pk).update(**fields)
    return result


def pull_all(source: Source, pull_one: Callable[..., PullResult]) -> int:
    """Beat: every active integration of a tracker not told to wait, one after the other;
    how many were pulled."""
    now = timezone.now()
    ids = list(
        Integration.objects.filter(
            Q(pull_not_before__isnull=True) | Q(pull_not_before__lte=now),
            source=source,
            active=True,
        )
        .exclude(api_base_url="")
        .values_list("pk", flat=True)
    )
    for integration_id in ids:
        try:
            pull_one(integration_id=integration_id)
        except Exception:  # one firm's broken integration never stops the others
            logger.exception("%s pull for integration %s failed", source, integration_id)
    return len(ids)
