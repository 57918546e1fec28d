"""Recurring work: the engagements each client's recurring plan owes, opened by the beat.

A plan owes one engagement per period (monthly bookkeeping, 1099s, returns) or
per event (payroll runs, advisory sessions). Each is opened through
``engagement_create`` with the external id ``plan<pk>:<period key>``, which the
database keeps unique per source: running the job twice, or two workers at
once, never opens the same period twice.

Dates here are the firm's local dates (``timezone.localdate()``, TIME_ZONE), so
"the 1st" means the 1st in the firm's time zone, not in UTC. Business days and
holidays come from the firm calendar (python-holidays) through the work type's
deadline rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from dateutil.rrule import rrulebase, rrulestr
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from core.calendar import BusinessCalendar, firm_calendar
from engagements.choices import DeadlineBasis, EngagementSource
from engagements.deadlines import internal_due_date
from engagements.models import Engagement, RecurringPlan, WorkType
from engagements.services import engagement_create

logger = logging.getLogger(__name__)

# A stopped beat catches up on at most this many runs of a period rule, none
# older than LOOKBACK_DAYS: enough to cover a long weekend or a broken deploy,
# not enough for a new plan to back-fill a year of work.
LOOKBACK_RUNS = 2
LOOKBACK_DAYS = 62
# Event-dated work is opened once the event is this close (payroll is due three
# business days before the run, so two weeks leaves room to staff it).
EVENT_LOOKAHEAD_DAYS = 14
# Statutory work without a rule of its own (1040, 1120) recurs every tax year.
ANNUAL_RULE = "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1"
# Runs at least this far apart cover whole calendar months; closer runs (weekly,
# daily) cover the days since the previous run.
WHOLE_MONTHS_MIN_GAP = timedelta(days=28)
# Plans that ended longer ago than this owe nothing any more (no period is longer).
PLAN_END_HORIZON = timedelta(days=3 * 366)
# external_id__in lookups stay under SQLite's bound-parameter limit.
KEY_BATCH = 500


@dataclass(frozen=True)
class Occurrence:
    """One engagement a plan owes: the work for a period, or for an event."""

    period_key: str  # stable within the plan: "2026-01-01/2026-01-31" or "2026-03-13"
    due_date: date
    period_start: date | None = None
    period_end: date | None = None
    event_date: date | None = None


def schedule_problem(*, work_type: WorkType, event_rule: str = "") -> str | None:
    """Why a plan for ``work_type`` cannot generate work on its own, or None if it can."""
    basis = work_type.deadline_basis
    if basis == DeadlineBasis.ENGAGEMENT:
        return f"{work_type.name} is due on a date set per engagement, so it cannot recur."
    if basis == DeadlineBasis.EVENT_DATE and not (event_rule or work_type.recurrence_rule):
        return f"{work_type.name} is dated by its events: give the plan an event rule."
    if basis == DeadlineBasis.PERIOD_END and not work_type.recurrence_rule:
        return f"{work_type.name} has no recurrence rule."
    return None


def external_id_for(plan: RecurringPlan, occurrence: Occurrence) -> str:
    return f"plan{plan.pk}:{occurrence.period_key}"


def recurring_due(
    plan: RecurringPlan, *, today: date, calendar: BusinessCalendar | None = None
) -> list[Occurrence]:
    """The occurrences ``plan`` should have opened by ``today`` (the firm's local date).

    1. Event-dated work (payroll, advisory sessions): every date of the plan's
       event rule (else the work type's rule) from today through the next
       EVENT_LOOKAHEAD_DAYS, within starts_on..ends_on; the event date is the
       basis of the due date.
    2. Period work: the runs of the work type's rule (statutory work without
       one runs on January 1) up to today — the last LOOKBACK_RUNS at most, none
       older than LOOKBACK_DAYS. The rule is anchored on January 1 so intervals
       follow the calendar (INTERVAL=3 months = calendar quarters).
    3. Each run covers the time since the previous run; runs a month or more
       apart cover whole calendar months: the 1st → the month before, January 1
       → the year before.
    4. Keep the periods that overlap starts_on..ends_on (a plan starting mid-month
       covers that month) and date each with the work type's deadline rule.

    Returns an empty list for a plan whose work type cannot recur
    (``schedule_problem``). Raises ValueError for a rule that does not parse.
    """
    work_type = plan.work_type
    if schedule_problem(work_type=work_type, event_rule=plan.event_rule):
        return []
    calendar = calendar or firm_calendar()
    if work_type.deadline_basis == DeadlineBasis.EVENT_DATE:
        return _event_occurrences(plan, today=today, calendar=calendar)
    return _period_occurrences(plan, today=today, calendar=calendar)


def _event_occurrences(
    plan: RecurringPlan, *, today: date, calendar: BusinessCalendar
) -> list[Occurrence]:
    work_type = plan.work_type
    # Anchored on the plan's start: "every other Friday from March 6".
    rule = _rule(plan.event_rule or work_type.recurrence_rule, _midnight(plan.starts_on))
    first = max(today, plan.starts_on)
    last = today + timedelta(days=EVENT_LOOKAHEAD_DAYS)
    if plan.ends_on is not None:
        last = min(last, plan.ends_on)
    if last < first:
        return []
    occurrences = []
    for event_date in _dates(rule.between(_midnight(first), _end_of(last), inc=True)):
        occurrences.append(
            Occurrence(
                period_key=event_date.isoformat(),
                due_date=internal_due_date(work_type, calendar=calendar, event_date=event_date),
                event_date=event_date,
            )
        )
    return occurrences


def _period_occurrences(
    plan: RecurringPlan, *, today: date, calendar: BusinessCalendar
) -> list[Occurrence]:
    work_type = plan.work_type
    anchor = _midnight(date(plan.starts_on.year - 1, 1, 1))
    rule = _rule(work_type.recurrence_rule or ANNUAL_RULE, anchor)
    earliest = today - timedelta(days=LOOKBACK_DAYS)
    runs = _dates(rule.between(_midnight(earliest), _end_of(today), inc=True))[-LOOKBACK_RUNS:]
    occurrences = []
    for run in runs:
        previous = rule.before(_midnight(run))
        if previous is None:
            # The anchor's own run: the anchor is a year before the plan starts.
            continue
        period_start, period_end = _period(previous.date(), run)
        if period_end < plan.starts_on or (
            plan.ends_on is not None and period_start > plan.ends_on
        ):
            continue
        occurrences.append(
            Occurrence(
                period_key=f"{period_start.isoformat()}/{period_end.isoformat()}",
                due_date=internal_due_date(work_type, calendar=calendar, period_end=period_end),
                period_start=period_start,
                period_end=period_end,
            )
        )
    return occurrences


def period_containing(work_type: WorkType, *, period_end: date) -> tuple[date, date] | None:
    """The period the work type's recurrence would open that ends on ``period_end``
    (Nov 30 under a monthly rule: Nov 1 – Nov 30), or None when its rule gives no
    period ending that day (one-off work, event-dated work, an odd date)."""
    if work_type.deadline_basis not in (DeadlineBasis.STATUTORY_DATE, DeadlineBasis.PERIOD_END):
        return None
    text = work_type.recurrence_rule or (
        ANNUAL_RULE if work_type.deadline_basis == DeadlineBasis.STATUTORY_DATE else ""
    )
    if not text:
        return None
    try:
        rule = _rule(text, _midnight(date(period_end.year - 2, 1, 1)))
    except (ValueError, TypeError):
        return None
    run = rule.after(_midnight(period_end))
    previous = rule.before(run) if run is not None else None
    if run is None or previous is None:
        return None
    start, end = _period(previous.date(), run.date())
    return (start, end) if end == period_end else None


def _period(previous_run: date, run: date) -> tuple[date, date]:
    """The period a run covers: since the previous run, in whole months when they are a month apart."""
    # The month ends before each run: Feb 1 → Jan 31, Feb 5 → Jan 31 too.
    month_start = previous_run.replace(day=1)
    month_end = run.replace(day=1) - timedelta(days=1)
    if run - previous_run >= WHOLE_MONTHS_MIN_GAP and month_start <= month_end:
        return month_start, month_end
    # Weekly or daily rules (or a four-weekly one landing twice in a month).
    return previous_run, run - timedelta(days=1)


@lru_cache(maxsize=256)
def _rule(text: str, dtstart: datetime) -> rrulebase:
    # Plans share rules and anchors; the cached rule keeps the dates it has
    # already worked out, so the hourly run does not re-iterate them per plan.
    return rrulestr(text, dtstart=dtstart, ignoretz=True, cache=True)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max)


def _dates(moments: list[datetime]) -> list[date]:
    return sorted({moment.date() for moment in moments})


def recurring_generate(*, today: date | None = None) -> int:
    """Open every engagement the active plans owe by ``today``; returns how many it opened.

    1. ``today`` defaults to the firm's local date — at 03:00 UTC on December 1
       it is still November 30 in New York and December's run has not happened.
    2. Load the active plans of active work types with their client, work type
       and requested staff in one query.
    3. Work out each plan's due occurrences in Python; a plan that cannot recur
       or whose rule does not parse is logged and skipped, not fatal.
    4. Look up which external ids already exist (one query per KEY_BATCH ids),
       so the hourly run costs the same few queries however many plans there are.
    5. Open each missing one with ``engagement_create`` — its own transaction,
       idempotent by (source, external_id) even against a concurrent run, in
       which case the count here may include an engagement the other run opened.
    """
    today = today or timezone.localdate()
    calendar = firm_calendar()
    plans = (
        RecurringPlan.objects.filter(
            active=True,
            work_type__active=True,
            starts_on__lte=today + timedelta(days=EVENT_LOOKAHEAD_DAYS),
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today - PLAN_END_HORIZON))
        .select_related("client", "work_type", "requested_staff")
        .order_by("pk")
    )
    owed: list[tuple[RecurringPlan, Occurrence, str]] = []
    for plan in plans:
        problem = schedule_problem(work_type=plan.work_type, event_rule=plan.event_rule)
        if problem:
            logger.warning("Recurring plan %s skipped: %s", plan.pk, problem)
            continue
        try:
            occurrences = recurring_due(plan, today=today, calendar=calendar)
        except (ValueError, TypeError):
            logger.exception("Recurring plan %s skipped: its rule could not be evaluated", plan.pk)
            continue
        owed.extend((plan, occ, external_id_for(plan, occ)) for occ in occurrences)

    existing = _existing_external_ids([external_id for _, _, external_id in owed])
    covered = _already_covered([(plan, occ) for plan, occ, _ in owed])
    created = 0
    for plan, occurrence, external_id in owed:
        if external_id in existing or _cover_key(plan, occurrence) in covered:
            continue
        try:
            engagement_create(
                client=plan.client,
                work_type=plan.work_type,
                due_date=occurrence.due_date,
                period_start=occurrence.period_start,
                period_end=occurrence.period_end,
                event_date=occurrence.event_date,
                estimated_hours=plan.estimated_hours,
                requested_staff=plan.requested_staff,
                name=_name(plan.work_type, occurrence),
                source=EngagementSource.RECURRING,
                external_id=external_id,
            )
        except (ValidationError, ValueError, IntegrityError):
            # One bad plan must not hold up every other client's work.
            logger.exception("Recurring plan %s: could not open %s", plan.pk, external_id)
            continue
        created += 1
    return created


def _cover_key(plan: RecurringPlan, occurrence: Occurrence) -> tuple[int, int, str, date]:
    if occurrence.period_end is not None:
        return (plan.client_id, plan.work_type_id, "period", occurrence.period_end)
    return (plan.client_id, plan.work_type_id, "due", occurrence.due_date)


def _already_covered(
    owed: list[tuple[RecurringPlan, Occurrence]],
) -> set[tuple[int, int, str, date]]:
    """Occurrences some engagement already covers, whatever its source (entered by
    hand, imported, seeded): the same client and work type for the same period end,
    or for event work the same due date. One query."""
    if not owed:
        return set()
    rows = (
        Engagement.objects.filter(
            client_id__in={plan.client_id for plan, _ in owed},
            work_type_id__in={plan.work_type_id for plan, _ in owed},
        )
        .filter(
            Q(period_end__in={occ.period_end for _, occ in owed if occ.period_end})
            | Q(due_date__in={occ.due_date for _, occ in owed if occ.period_end is None})
        )
        .values_list("client_id", "work_type_id", "period_end", "due_date")
    )
    covered: set[tuple[int, int, str, date]] = set()
    for client_id, work_type_id, period_end, due_date in rows:
        if period_end is not None:
            covered.add((client_id, work_type_id, "period", period_end))
        covered.add((client_id, work_type_id, "due", due_date))
    return covered


def _existing_external_ids(external_ids: list[str]) -> set[str]:
    existing: set[str] = set()
    for start in range(0, len(external_ids), KEY_BATCH):
        existing.update(
            Engagement.objects.filter(
                source=EngagementSource.RECURRING,
                external_id__in=external_ids[start : start + KEY_BATCH],
            ).values_list("external_id", flat=True)
        )
    return existing


def _name(work_type: WorkType, occurrence: Occurrence) -> str:
    # Period work is named by its period (Engagement.__str__); an event needs its date.
    if occurrence.event_date is None:
        return ""
    day = occurrence.event_date
    return f"{work_type.name} {day:%b} {day.day}, {day.year}"
