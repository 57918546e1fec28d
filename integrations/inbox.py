"""The inbound inbox: store events before acknowledging them, then apply each at most once.

Receiving (``inbound_request_store``, called by the webhook view):
1. One ``InboundRequest`` row per HTTP request (accepted or refused) with the exact
   body, the audit headers and the verdict.
2. One ``InboundEvent`` row per event, unique per (integration, event id): a
   delivery seen before stores nothing new and is acknowledged all the same.
3. Both commit before the answer is sent; after commit the worker is asked to
   drain the inbox (``inbound_events_kick``: one cache write, and a broker message
   only when no drain is waiting to start). Best effort: ``inbound_events_requeue``
   finds what the broker lost.

Draining (``inbound_events_drain``, the worker): apply the pending events oldest
first, each as below, for a few seconds at most, then ask for another turn. A
broker message per event cost the acknowledgement as much as storing the event;
events that arrive while a drain runs ask for the next one, so none waits for the
requeue job.

Processing (``inbound_event_process``, the worker):
1. Claim the row by a conditional update (pending/retrying -> processing): a
   duplicate message finds nothing to claim.
2. Fetch what a thin notification names from the vendor's API (outside any
   transaction; rate-limited per integration).
3. In one transaction, feed the same service a button would (open an engagement,
   move a milestone, record a payment: ``integrations.payments``, open a billing
   dispute from a client's email: ``integrations.inbound_email``; store a time
   tracker's entry that was an exception: ``integrations.time_pull``) and mark the
   event applied: both commit or neither does.
4. A signed event that cannot be applied (an unknown client, an unmapped work
   type, a payment for an invoice Closeloop does not have) becomes an *exception* a person sees
   in the admin and replays once fixed; a vendor that is down or rate-limits us
   means *retrying* later with backoff, then *failed*.
Out of order: a job's last-modified time is kept per record; an older version
never overwrites a newer one, and milestones only move forward, so any order of
arrival ends in the same state.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing.models import Invoice
from clients.models import ClientExternalId
from core import queue  # queue.publish, looked up at call time (tests stand in for it)
from core.bulk import insert_with_children
from core.exceptions import ApplicationError
from core.queue import enqueue
from engagements import milestones
from engagements.choices import EngagementSource
from engagements.models import Engagement, MilestoneSource, WorkType
from engagements.services import engagement_create
from integrations import inbound_email, payments, time_pull, vendor_api
from integrations.choices import PULLED_SOURCES, REPLAYABLE_STATUSES, EventStatus, Source, Verdict
from integrations.models import (
    ExternalRecordVersion,
    InboundEvent,
    InboundRequest,
    Integration,
    StatusMapping,
    WorkTypeMapping,
)
from integrations.parsing import EventSpec, NotApplicable, Unapplicable, parse_time

logger = logging.getLogger(__name__)

PROCESS_TASK = "integrations.tasks.inbound_event_process_task"
DRAIN_TASK = "integrations.tasks.inbound_events_drain_task"
KICK_KEY = "integrations:inbox-kick"
# A drain asked for and lost (a worker killed before it started) holds the kick this long.
KICK_SECONDS = 30
DRAIN_BATCH = 100
# A drain hands its worker process back after this long (dispatch and notification
# tasks queued behind it run), asking for another turn if events are left.
DRAIN_SECONDS = 3.0
# A retry due within this long waits in the broker; later ones are the requeue job's.
COUNTDOWN_LIMIT = 60
MAX_ATTEMPTS = 8
# 30 s, 2 min, 8 min, 32 min, ~2 h, then 6 h: a vendor outage of a day is ridden out.
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 6 * 3600
STUCK_AFTER = timedelta(minutes=10)
REQUEUE_BATCH = 500
ENDPOINTS_VERSION_KEY = "integrations:endpoints-version"
ENDPOINTS_CHECK_SECONDS = 1.0
_endpoints: dict[str, Any] = {}  # this process's copy: {"version": ..., "integrations": {...}}
REQUEST_FIELDS = (
    "integration",
    "endpoint",
    "received_at",
    "verdict",
    "status_code",
    "headers",
    "body",
    "body_size",
    "event_count",
)
EVENT_FIELDS = (  # "request" is filled in by insert_with_children
    "integration",
    "event_id",
    "event_type",
    "resource_type",
    "resource_id",
    "occurred_at",
    "payload",
    "received_at",
)

ENGAGEMENT_SOURCES = {
    Source.KARBON: EngagementSource.KARBON,
    Source.TAXDOME: EngagementSource.TAXDOME,
    Source.CANOPY: EngagementSource.CANOPY,
    Source.FINANCIAL_CENTS: EngagementSource.FINANCIAL_CENTS,
}


# --- Receiving --------------------------------------------------------------------------------


def endpoint_integration(slug: str) -> Integration | None:
    """The active integration behind ``/webhooks/<slug>/`` (time trackers are pulled:
    they have none). Each web process keeps them while the cache's version stamp
    stands, and reads the stamp at most once a second: no query and, mostly, no cache
    read per delivery. Saving or deleting an integration drops the stamp, so every
    process reads them again within the second (secrets stay out of the cache)."""
    now = time.monotonic()
    if now >= _endpoints.get("check_after", 0.0):
        version = cache.get(ENDPOINTS_VERSION_KEY)
        if version is None:
            cache.add(ENDPOINTS_VERSION_KEY, uuid.uuid4().hex, None)
            version = cache.get(ENDPOINTS_VERSION_KEY)
        if version is None or _endpoints.get("version") != version:
            _endpoints["integrations"] = {
                integration.slug: integration
                for integration in Integration.objects.filter(active=True).exclude(
                    source__in=PULLED_SOURCES
                )
            }
            _endpoints["version"] = version
        _endpoints["check_after"] = now + ENDPOINTS_CHECK_SECONDS
    integrations: dict[str, Integration] = _endpoints["integrations"]
    return integrations.get(slug)


def endpoints_forget_here() -> None:
    """Forget this process's copy of the endpoints (tests: their rows rolled back)."""
    _endpoints.clear()


def endpoints_forget(**_: object) -> None:
    """Forget the endpoints here and everywhere, now and again once the change commits
    (a signal receiver): a process that read them in between reads them once more."""
    endpoints_forget_here()
    cache.delete(ENDPOINTS_VERSION_KEY)
    transaction.on_commit(lambda: cache.delete(ENDPOINTS_VERSION_KEY))


def inbound_request_store(
    *,
    integration: Integration,
    endpoint: str,
    headers: dict[str, str],
    body: bytes,
    events: list[EventSpec],
) -> tuple[int, int]:
    """Store an accepted request and its events; returns the request's id and how many
    events were new (one seen before is acknowledged, not stored or applied again).
    One statement on PostgreSQL (``core.bulk``): at hundreds of deliveries a second the
    round trips and the ORM's own work per row were most of the acknowledgement's time."""
    now = timezone.now()
    request_id, new = insert_with_children(
        InboundRequest,
        REQUEST_FIELDS,
        (
            integration.pk,
            endpoint,
            now,
            Verdict.ACCEPTED,
            200,
            headers,
            body,
            len(body),
            len(events),
        ),
        InboundEvent,
        "request",
        EVENT_FIELDS,
        [
            (
                integration.pk,
                spec.event_id,
                spec.event_type[:120],
                spec.resource_type[:60],
                spec.resource_id[:128],
                spec.occurred_at,
                spec.payload,
                now,
            )
            for spec in events
        ],
    )
    if new:
        transaction.on_commit(inbound_events_kick, robust=True)
    return request_id, new


def inbound_events_kick() -> None:
    """After a commit that stored new events: make sure a drain will start after it.
    One cache write per acknowledgement; a broker message only when no drain is
    waiting to start (a drain clears the kick as it starts)."""
    if cache.add(KICK_KEY, 1, KICK_SECONDS) and not queue.publish(DRAIN_TASK):
        cache.delete(KICK_KEY)  # the broker is away: the next delivery asks again


def inbound_request_refuse(
    *,
    integration: Integration | None,
    endpoint: str,
    verdict: str,
    status_code: int,
    reason: str,
    headers: dict[str, str],
    body: bytes,
    body_size: int,
) -> InboundRequest:
    """Log a refused request (its body too, as far as it was read) so it can be looked at."""
    return InboundRequest.objects.create(
        integration=integration,
        endpoint=endpoint[:60],
        received_at=timezone.now(),
        verdict=verdict,
        status_code=status_code,
        reason=reason[:300],
        headers=headers,
        body=body[: settings.WEBHOOK_REFUSED_BODY_KEEP_BYTES],
        body_size=body_size,
    )


# --- Processing ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What an event will do, decided (and fetched) before the transaction."""

    kind: str  # "job", "payments", "email", "time", "ignore"
    detail: str = ""
    job: JobRecord | None = None
    fetched: dict[str, Any] | None = None
    payments: list[payments.PaymentReport] = field(default_factory=list)


@dataclass(frozen=True)
class JobRecord:
    """A practice-management job as Closeloop reads it, from any source."""

    external_id: str
    client_external_id: str
    work_type: str
    status: tuple[str, ...] = ()  # most specific first (Karbon: WorkStatus, PrimaryStatus)
    due_date: date | None = None
    name: str = ""
    modified_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def _claim(event_id: int, now: datetime) -> bool:
    return bool(
        InboundEvent.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
            pk=event_id,
            status__in=[EventStatus.PENDING, EventStatus.RETRYING],
        ).update(status=EventStatus.PROCESSING, attempts=F("attempts") + 1, claimed_at=now)
    )


def retry_delay(attempts: int) -> int:
    return int(min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 4 ** max(0, attempts - 1)))


def inbound_event_process(*, event_id: int) -> str:
    """Apply one stored event at most once (steps in the module docstring); its status after."""
    now = timezone.now()
    if not _claim(event_id, now):
        return (
            InboundEvent.objects.filter(pk=event_id).values_list("status", flat=True).first()
            or "missing"
        )
    event = InboundEvent.objects.select_related("integration").get(pk=event_id)
    try:
        plan = _plan(event)
        with transaction.atomic():
            status, detail, record = _carry_out(event, plan)
            _finish(event, status, detail, record=record, fetched=plan.fetched)
    except vendor_api.VendorUnavailable as exc:
        return _retry(event, str(exc), exc.retry_after)
    except (vendor_api.VendorRefused, Unapplicable) as exc:
        _finish(event, EventStatus.EXCEPTION, str(exc))
    except OperationalError as exc:
        return _retry(event, f"Database: {exc}", None)
    except Exception as exc:  # a bug: retried, then shown as failed with the error
        logger.exception("inbound event %s: unexpected error", event.pk)
        return _retry(event, f"{type(exc).__name__}: {exc}", None)
    return str(InboundEvent.objects.values_list("status", flat=True).get(pk=event.pk))


def _finish(
    event: InboundEvent,
    status: str,
    detail: str,
    *,
    record: Engagement | Invoice | None = None,
    fetched: dict[str, Any] | None = None,
) -> None:
    fields: dict[str, Any] = {
        "status": status,
        "detail": detail[:4000],
        "processed_at": timezone.now(),
        "next_attempt_at": None,
    }
    if isinstance(record, Engagement):
        fields["engagement"] = record
    elif isinstance(record, Invoice):
        fields["invoice"] = record
    if fetched is not None:
        fields["fetched"] = fetched
    InboundEvent.objects.filter(pk=event.pk, status=EventStatus.PROCESSING).update(**fields)


def _retry(event: InboundEvent, error: str, retry_after: float | None) -> str:
    if event.attempts >= MAX_ATTEMPTS:
        _finish(event, EventStatus.FAILED, f"Gave up after {event.attempts} attempts: {error}")
        return EventStatus.FAILED
    delay = max(retry_delay(event.attempts), int(retry_after or 0))
    InboundEvent.objects.filter(pk=event.pk, status=EventStatus.PROCESSING).update(
        status=EventStatus.RETRYING,
        detail=error[:4000],
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return EventStatus.RETRYING


def _plan(event: InboundEvent) -> Plan:
    try:
        return _plan_for(event)
    except NotApplicable as exc:
        return Plan("ignore", str(exc))


def _plan_for(event: InboundEvent) -> Plan:
    integration = event.integration
    source = integration.source
    kind = event.event_type.lower()
    payload = event.payload
    if source == Source.KARBON:
        if event.resource_type.lower() not in ("work", "workitem"):
            return Plan("ignore", f"Karbon {event.resource_type} events are not used.")
        if kind.endswith(".deleted"):
            return Plan("ignore", "A deleted Karbon work item leaves its engagement in Closeloop.")
        item = vendor_api.karbon_work_item(integration, event.resource_id)
        return Plan("job", job=_karbon_job(item, event), fetched=item)
    if source in (Source.TAXDOME, Source.CANOPY, Source.FINANCIAL_CENTS):
        if not kind.startswith("job."):
            return Plan("ignore", f"{event.event_type} events are not used.")
        return Plan("job", job=_generic_job(payload, event))
    if source == Source.QBO:
        if event.resource_type != "payment":
            return Plan("ignore", f"QuickBooks {event.resource_type or kind} events are not used.")
        if "delete" in kind or "void" in kind:
            return Plan(
                "ignore", "A deleted or voided QuickBooks payment: correct Closeloop by hand."
            )
        realm = str(payload.get("intuitaccountid") or payload.get("realmId") or "")
        if not (integration.api_base_url and realm and event.resource_id):
            raise Unapplicable(
                "QuickBooks sends only the payment's id: set this integration's API base URL "
                "and token (and the event needs its company id), then replay."
            )
        fetched = vendor_api.qbo_entity(integration, realm, "payment", event.resource_id)
        return Plan("payments", fetched=fetched, payments=payments.qbo_reports(event, fetched))
    if source == Source.XERO:
        if event.resource_type != "invoice":
            return Plan("ignore", f"Xero {event.resource_type} events are not used.")
        if not integration.api_base_url:
            raise Unapplicable(
                "Xero sends only the invoice's id: set this integration's API base URL and "
                "token, then replay."
            )
        fetched = vendor_api.xero_resource(
            integration, str(payload.get("tenantId", "")), "invoice", event.resource_id
        )
        return Plan("payments", fetched=fetched, payments=payments.xero_reports(event, fetched))
    if source == Source.STRIPE:
        return Plan("payments", payments=payments.stripe_reports(event))
    if source == Source.EMAIL:
        return Plan("email")
    if source in PULLED_SOURCES:  # a pulled time entry that was an exception, replayed
        return Plan("time")
    return Plan("ignore", f"{source} events are not used.")


def _carry_out(event: InboundEvent, plan: Plan) -> tuple[str, str, Engagement | Invoice | None]:
    if plan.kind == "ignore":
        return EventStatus.IGNORED, plan.detail, None
    if plan.kind == "payments":
        applied = payments.payments_apply(event, plan.payments)
        return EventStatus.APPLIED, applied.detail, applied.payments[0].invoice
    if plan.kind == "email":
        return inbound_email.email_apply(event)
    if plan.kind == "time":
        status, detail = time_pull.event_apply(event)
        return status, detail, None
    assert plan.job is not None
    return _apply_job(event.integration, plan.job)


def _date(value: object) -> date | None:
    moment = parse_time(value) if value else None
    return moment.date() if moment else None


def _karbon_job(item: dict[str, Any], event: InboundEvent) -> JobRecord:
    key = item.get("WorkItemKey") or event.resource_id
    if not item.get("ClientKey") or not item.get("WorkType"):
        raise Unapplicable(f"Karbon work item {key} has no client or no work type.")
    return JobRecord(
        external_id=str(key),
        client_external_id=str(item["ClientKey"]),
        work_type=str(item["WorkType"]),
        status=tuple(str(s) for s in (item.get("WorkStatus"), item.get("PrimaryStatus")) if s),
        due_date=_date(item.get("DueDate")),
        name=str(item.get("Title") or "")[:200],
        modified_at=event.occurred_at,
        raw=item,
    )


def _generic_job(payload: dict[str, Any], event: InboundEvent) -> JobRecord:
    data = payload.get("data") or {}
    status = data.get("status")
    return JobRecord(
        external_id=str(data["job_id"]),
        client_external_id=str(data["client_id"]),
        work_type=str(data["work_type"]),
        status=(str(status),) if status else (),
        due_date=_date(data.get("due_date")),
        name=str(data.get("name") or "")[:200],
        modified_at=parse_time(data.get("updated_at")) or event.occurred_at,
        raw=data,
    )


def _work_type(integration: Integration, name: str) -> WorkType:
    mapped = (
        WorkTypeMapping.objects.select_related("work_type")
        .filter(integration=integration, external_type__iexact=name)
        .first()
    )
    if mapped is not None:
        return mapped.work_type
    by_code = WorkType.objects.filter(
        Q(code__iexact=name) | Q(name__iexact=name), active=True
    ).first()
    if by_code is None:
        raise Unapplicable(
            f"No work type matches {name!r}: map it under {integration.name} → work type "
            "mappings, then replay."
        )
    return by_code


def _milestone(integration: Integration, statuses: tuple[str, ...]) -> str | None:
    for status in statuses:
        mapped = StatusMapping.objects.filter(
            integration=integration, external_status__iexact=status
        ).first()
        if mapped is not None:
            return mapped.milestone
    return None


def _apply_job(integration: Integration, job: JobRecord) -> tuple[str, str, Engagement | None]:
    """Open the engagement for a job (once) and move it to the mapped milestone.

    Call inside a transaction: the version row is locked so two versions of one
    job applied at once are applied one after the other.
    """
    version = (
        ExternalRecordVersion.objects.select_for_update()
        .filter(integration=integration, resource_type="job", resource_id=job.external_id)
        .first()
    )
    engagement_source = ENGAGEMENT_SOURCES.get(Source(integration.source), EngagementSource.API)
    existing = Engagement.objects.filter(
        source=engagement_source, external_id=job.external_id
    ).first()
    if (
        version is not None
        and job.modified_at is not None
        and version.modified_at > job.modified_at
        and existing is not None
    ):
        return (
            EventStatus.APPLIED,
            f"Older than the version already applied ({version.modified_at:%Y-%m-%d %H:%M:%S}); nothing changed.",
            existing,
        )
    external = (
        ClientExternalId.objects.select_related("client")
        .filter(source=integration.source, external_id=job.client_external_id)
        .first()
    )
    if external is None:
        raise Unapplicable(
            f"No client has {integration.get_source_display()} id {job.client_external_id!r}: "
            "add it to the client's external ids, then replay."
        )
    work_type = _work_type(integration, job.work_type)
    try:
        engagement = existing or engagement_create(
            client=external.client,
            work_type=work_type,
            due_date=job.due_date,
            name=job.name,
            source=engagement_source,
            external_id=job.external_id,
        )
    except ApplicationError as exc:
        raise Unapplicable(f"The job cannot open an engagement: {exc.user_message}") from exc
    detail = "Engagement opened." if existing is None else "Engagement already open."
    milestone = _milestone(integration, job.status)
    if milestone:
        try:
            moved = milestones.advance_if_later(
                engagement_id=engagement.pk, to=milestone, source=MilestoneSource.WEBHOOK
            )
        except ApplicationError as exc:
            raise Unapplicable(f"The status cannot be applied: {exc.user_message}") from exc
        detail += f" Moved to {milestone}." if moved else f" Already at or past {milestone}."
    elif job.status:
        detail += f" Status {job.status[0]!r} is not mapped to a milestone."
    if job.modified_at is not None:
        ExternalRecordVersion.objects.update_or_create(
            integration=integration,
            resource_type="job",
            resource_id=job.external_id,
            defaults={"modified_at": job.modified_at},
        )
    return EventStatus.APPLIED, detail, engagement


# --- People and the beat -------------------------------------------------------------------------


def inbound_events_drain(*, seconds: float = DRAIN_SECONDS) -> dict[int, str]:
    """Apply the pending events, oldest first, until none is left or ``seconds`` have
    passed (then another drain is asked for); each event's status after, by id.

    The kick is cleared first: an event committed from now on asks for the next drain.
    Two drains at once share the work: each event is claimed by one of them (the
    other's claim finds nothing), and a retry soon is handed to the broker."""
    cache.delete(KICK_KEY)
    stop = time.monotonic() + seconds
    statuses: dict[int, str] = {}
    after = 0
    while True:
        ids = list(
            InboundEvent.objects.filter(
                status=EventStatus.PENDING, next_attempt_at__isnull=True, pk__gt=after
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:DRAIN_BATCH]
        )
        for event_id in ids:
            if time.monotonic() >= stop:
                inbound_events_kick()
                return statuses
            statuses[event_id] = status = inbound_event_process(event_id=event_id)
            if status == EventStatus.RETRYING:
                wait = inbound_event_retry_countdown(event_id)
                if wait is not None:
                    queue.publish(PROCESS_TASK, event_id, countdown=wait)
        if len(ids) < DRAIN_BATCH:
            return statuses
        after = ids[-1]


def inbound_event_retry_countdown(event_id: int) -> float | None:
    """Seconds until a retrying event is due, when that is soon enough for the broker
    to hold its message; None leaves it to the requeue job."""
    due = (
        InboundEvent.objects.filter(pk=event_id, status=EventStatus.RETRYING)
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if due is None:
        return None
    wait = max(0.0, (due - timezone.now()).total_seconds())
    return wait if wait <= COUNTDOWN_LIMIT else None


@transaction.atomic
def inbound_event_replay(*, event_id: int) -> bool:
    """Start an exception, failure or ignored event over (after the mapping was fixed)."""
    reset = InboundEvent.objects.filter(pk=event_id, status__in=REPLAYABLE_STATUSES).update(
        status=EventStatus.PENDING, attempts=0, next_attempt_at=None, detail=""
    )
    if reset:
        enqueue(PROCESS_TASK, event_id)
    return bool(reset)


def inbound_events_requeue(*, now: datetime | None = None) -> int:
    """Publish again what the broker lost and what is due for a retry; free stuck claims."""
    now = now or timezone.now()
    InboundEvent.objects.filter(
        status=EventStatus.PROCESSING, claimed_at__lt=now - STUCK_AFTER
    ).update(
        status=EventStatus.RETRYING, next_attempt_at=now, detail="The worker stopped; retried."
    )
    cutoff = now - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
    ids = list(
        InboundEvent.objects.filter(
            Q(status=EventStatus.PENDING, received_at__lte=cutoff)
            | Q(status=EventStatus.RETRYING, next_attempt_at__lte=now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:REQUEUE_BATCH]
    )
    for event_id in ids:
        enqueue(PROCESS_TASK, event_id)
    if ids:
        logger.info("re-queued %d inbound event(s)", len(ids))
    return len(ids)
