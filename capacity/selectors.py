"""Reads that turn the database into capacity figures, in a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import DecimalField, IntegerField, Prefetch, QuerySet, Value

from capacity.estimates import effort_factors_cached
from capacity.ledger import (
    DeadlineFit,
    OpenWork,
    StaffCalendar,
    WorkingPattern,
    committed_between,
    deadline_fit,
    utilization,
    utilization_window,
)
from capacity.models import CapacityRule
from capacity.policy import Policy, Season, Thresholds
from core.calendar import BusinessCalendar, firm_calendar
from engagements.choices import HELD_TASK_STATUSES
from engagements.models import Task
from staff.models import DAY_HOUR_FIELDS, StaffMember, StaffSkill, TimeOff
from staff.models import WorkingPattern as WorkingPatternRow

# utilization_window looks up to eight weeks ahead for a week with working time.
UTILIZATION_REACH = timedelta(weeks=9)


POLICY_CACHE_KEY = "capacity:seasons:v1"
POLICY_CACHE_SECONDS = 3600


def _seasons() -> tuple[Season, ...]:
    """One query: a row per (rule, skill it names), or one row for a rule naming none."""
    rows = (
        CapacityRule.objects.filter(active=True)
        .order_by("start_month", "start_day", "name", "pk")
        .values_list(
            "pk",
            "start_month",
            "start_day",
            "end_month",
            "end_day",
            "threshold_percent",
            "reviewer_threshold_percent",
            "suppress_flagged_work_types",
            "skills__slug",
        )
    )
    seasons: dict[int, Season] = {}
    skills: dict[int, set[str]] = defaultdict(set)
    for (
        pk,
        start_month,
        start_day,
        end_month,
        end_day,
        threshold,
        reviewer,
        suppresses,
        slug,
    ) in rows:
        seasons.setdefault(
            pk,
            Season(
                start=(start_month, start_day),
                end=(end_month, end_day),
                threshold=_fraction(threshold),
                reviewer_threshold=_fraction(reviewer),
                suppresses_flagged_work=suppresses,
            ),
        )
        if slug is not None:
            skills[pk].add(slug)
    return tuple(replace(season, skills=frozenset(skills[pk])) for pk, season in seasons.items())


def capacity_policy(*, day: date, fresh: bool = False) -> Policy:
    """The seasons the admin keeps as ``CapacityRule`` rows, as plain data.

    Read from the cache; one query when it is cold (or ``fresh``: the dispatch
    roster reads it once per build and keeps it). Any change to the rules or the
    skills they name forgets it (``capacity.apps``).
    """
    if fresh:
        return Policy(seasons=_seasons(), day=day)
    seasons = cache.get(POLICY_CACHE_KEY)
    if seasons is None:
        seasons = _seasons()
        cache.set(POLICY_CACHE_KEY, seasons, POLICY_CACHE_SECONDS)
    return Policy(seasons=seasons, day=day)


def capacity_policy_forget(**_: object) -> None:
    """Drop the cached policy once the change commits (a signal receiver; no rules here)."""
    transaction.on_commit(lambda: cache.delete(POLICY_CACHE_KEY))


def _fraction(percent: Decimal | None) -> float | None:
    return float(percent) / 100 if percent else None


@dataclass(frozen=True)
class StaffLoad:
    """One person's capacity as the engine and the pages see it."""

    member: StaffMember
    calendar: StaffCalendar
    open_work: tuple[OpenWork, ...]
    skills: tuple[StaffSkill, ...]
    thresholds: Thresholds
    available_week: float
    committed_week: float

    @property
    def utilization(self) -> float:
        return utilization(self.committed_week, self.available_week)

    def available(self, start: date, end: date) -> float:
        return self.calendar.available(start, end)


def remaining_weighted_hours(
    estimate: Decimal | None,
    weight: Decimal,
    logged: Decimal | None = None,
    effort: float = 1.0,
) -> float:
    """Estimate minus hours already logged (never below zero), times complexity weight.

    Logged hours are ``Task.logged_hours``, which billing keeps as it records time:
    what someone has already spent on a task no longer weighs on their week. With
    ``effort`` (the holder's factor for the work type, ``capacity.estimates``) the
    estimate is what the task would take them: the estimate times the factor.
    """
    planned = estimate or Decimal("0")
    if effort != 1.0:
        planned = planned * Decimal(repr(effort))
    remaining = planned - (logged or Decimal("0"))
    return float(max(Decimal("0"), remaining) * weight)


def _time_off(ids: list[int], today: date, horizon: date) -> dict[int, dict[date, float]]:
    time_off: dict[int, dict[date, float]] = defaultdict(dict)
    for entry in TimeOff.objects.filter(
        staff_member_id__in=ids, end_date__gte=today, start_date__lte=horizon
    ):
        day = max(entry.start_date, today)
        while day <= min(entry.end_date, horizon):
            bucket = time_off[entry.staff_member_id]
            bucket[day] = bucket.get(day, 0.0) + float(entry.hours_per_day)
            day += timedelta(days=1)
    return time_off


Absences = dict[int, dict[date, float]]
Patterns = dict[int, tuple[WorkingPattern, ...]]


def time_off_and_patterns(ids: list[int], today: date, horizon: date) -> tuple[Absences, Patterns]:
    """``_time_off`` and ``working_patterns`` in one query (a UNION ALL): the heatmap
    keeps to its budget of ten queries with the policy cache cold."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=4, decimal_places=2))
    away = (
        TimeOff.objects.filter(
            staff_member_id__in=ids, end_date__gte=today, start_date__lte=horizon
        )
        .order_by()  # SQLite allows no ORDER BY inside a UNION's parts
        .annotate(
            kind=Value(0, output_field=IntegerField()),
            a=zero,
            b=zero,
            c=zero,
            d=zero,
            e=zero,
            f=zero,
        )
        .values_list(
            "kind",
            "pk",
            "staff_member_id",
            "start_date",
            "end_date",
            "hours_per_day",
            "a",
            "b",
            "c",
            "d",
            "e",
            "f",
        )
    )
    weeks = (
        WorkingPatternRow.objects.filter(staff_member_id__in=ids)
        .exclude(ends_on__lt=today)
        .order_by()
        .annotate(kind=Value(1, output_field=IntegerField()))
        .values_list("kind", "pk", "staff_member_id", "starts_on", "ends_on", *DAY_HOUR_FIELDS)
    )
    time_off: Absences = defaultdict(dict)
    patterns: dict[int, list[WorkingPattern]] = defaultdict(list)
    for kind, _, staff_id, start, end, *hours in sorted(
        away.union(weeks, all=True), key=lambda row: (row[0], row[1])
    ):
        if kind == 0:
            day = max(start, today)
            bucket = time_off[staff_id]
            while day <= min(end, horizon):
                bucket[day] = bucket.get(day, 0.0) + float(hours[0])
                day += timedelta(days=1)
        else:
            week = tuple(float(h) for h in hours)
            patterns[staff_id].append(WorkingPattern(week, start, end))  # type: ignore[arg-type]
    return time_off, {pk: tuple(found) for pk, found in patterns.items()}


def working_patterns(ids: list[int], today: date) -> dict[int, tuple[WorkingPattern, ...]]:
    """Each person's working patterns still in force from ``today`` on, as the ledger
    reads them: one query, whatever the number of people."""
    patterns: dict[int, list[WorkingPattern]] = defaultdict(list)
    rows = (
        WorkingPatternRow.objects.filter(staff_member_id__in=ids)
        .exclude(ends_on__lt=today)
        .order_by("staff_member_id", "pk")
        .values_list("staff_member_id", "starts_on", "ends_on", *DAY_HOUR_FIELDS)
    )
    for staff_id, starts_on, ends_on, *hours in rows:
        week = tuple(float(h) for h in hours)
        patterns[staff_id].append(WorkingPattern(week, starts_on, ends_on))  # type: ignore[arg-type]
    return {pk: tuple(found) for pk, found in patterns.items()}


def _open_work(ids: list[int], today: date) -> dict[int, list[OpenWork]]:
    """Each person's held work, each task's hours what it would take them (their effort
    factor for its work type, ``capacity.estimates``): what the dispatch engine counts."""
    # values_list, not model instances: this runs for whole teams on every dashboard render.
    open_work: dict[int, list[OpenWork]] = defaultdict(list)
    rows = Task.objects.filter(assignee_id__in=ids, status__in=HELD_TASK_STATUSES).values_list(
        "assignee_id",
        "pk",
        "due_date",
        "estimated_hours",
        "engagement__work_type__complexity_weight",
        "logged_hours",
        "engagement__work_type_id",
    )
    effort = effort_factors_cached(today=today)
    for assignee_id, task_id, due_date, estimate, weight, logged, work_type_id in rows:
        factor = effort.get(assignee_id, {}).get(work_type_id, 1.0)
        open_work[assignee_id].append(
            OpenWork(
                task_id=task_id,
                due_date=due_date,
                hours=remaining_weighted_hours(estimate, weight, logged, factor),
            )
        )
    return open_work


def _staff_calendar(
    member: StaffMember | StaffHours,
    holidays: frozenset[date],
    time_off: dict[date, float],
    patterns: tuple[WorkingPattern, ...] = (),
) -> StaffCalendar:
    return StaffCalendar(
        weekly_hours=float(member.weekly_capacity_hours),
        working_days=frozenset(member.working_days),
        holidays=holidays,
        time_off=time_off,
        patterns=patterns,
    )


@dataclass(frozen=True)
class StaffHours:
    """A person's weekly hours and working days (their patterns by day, holidays and time
    off are read beside them)."""

    weekly_capacity_hours: Decimal
    working_days: list[int]


def staff_calendars(
    *,
    members: list[StaffMember],
    today: date,
    horizon: date,
    calendar: BusinessCalendar | None = None,
) -> dict[int, StaffCalendar]:
    """Each person's calendar (hours, working days and patterns, holidays, time off) from
    today through ``horizon``: one query, whatever the number of people. For pages that
    read open work themselves (the heatmap splits it by status) and then ask the ledger."""
    calendar = calendar or firm_calendar()
    ids = [m.pk for m in members]
    time_off, patterns = time_off_and_patterns(ids, today, horizon)
    holidays = frozenset(calendar.holidays_between(today, horizon))
    return {
        m.pk: _staff_calendar(m, holidays, time_off.get(m.pk, {}), patterns.get(m.pk, ()))
        for m in members
    }


def deadline_fits(
    *,
    staff_ids: list[int],
    today: date,
    calendar: BusinessCalendar | None = None,
    hours: dict[int, StaffHours] | None = None,
) -> dict[int, DeadlineFit]:
    """Whether each person can still finish all their open work on time: three queries,
    two when the caller already read their ``hours`` (weekly hours and working days)."""
    calendar = calendar or firm_calendar()
    if hours is None:
        hours = {
            pk: StaffHours(weekly, days)
            for pk, weekly, days in StaffMember.objects.filter(pk__in=staff_ids).values_list(
                "pk", "weekly_capacity_hours", "working_days"
            )
        }
    open_work = _open_work(staff_ids, today)
    horizon = max([today, *(w.due_date for work in open_work.values() for w in work)])
    time_off, patterns = time_off_and_patterns(staff_ids, today, horizon)
    holidays = frozenset(calendar.holidays_between(today, horizon))
    fits: dict[int, DeadlineFit] = {}
    for pk in staff_ids:
        member = hours.get(pk)
        if member is None:
            continue
        staff_calendar = _staff_calendar(
            member, holidays, time_off.get(pk, {}), patterns.get(pk, ())
        )
        fits[pk] = deadline_fit(staff_calendar, open_work.get(pk, []), today)
    return fits


def staff_loads(
    *,
    staff: QuerySet[StaffMember] | None = None,
    today: date,
    horizon: date | None = None,
    calendar: BusinessCalendar | None = None,
    policy: Policy | None = None,
) -> dict[int, StaffLoad]:
    """Capacity for many people at once: six queries whatever the team size.

    Time off and holidays are loaded through the latest of ``horizon`` (default:
    26 weeks out), the furthest week the utilization window can reach, and the
    latest due date of anyone's open work, so no figure reads an absence as
    available time.
    """
    calendar = calendar or firm_calendar()
    policy = policy or capacity_policy(day=today)
    horizon = horizon or today + timedelta(weeks=26)
    queryset = staff if staff is not None else StaffMember.objects.filter(active=True)
    members = list(
        queryset.select_related("user").prefetch_related(
            Prefetch("staff_skills", queryset=StaffSkill.objects.select_related("skill"))
        )
    )
    ids = [m.pk for m in members]
    open_work = _open_work(ids, today)
    # Everything the figures read must see the absences in it: the utilization
    # window (which may be a later week), every open task's due date, the horizon.
    horizon = max(
        [horizon, today + UTILIZATION_REACH]
        + [w.due_date for work in open_work.values() for w in work]
    )
    time_off, patterns = time_off_and_patterns(ids, today, horizon)
    holidays = frozenset(calendar.holidays_between(today, horizon))
    loads: dict[int, StaffLoad] = {}
    for member in members:
        staff_calendar = _staff_calendar(
            member, holidays, time_off.get(member.pk, {}), patterns.get(member.pk, ())
        )
        work = tuple(sorted(open_work.get(member.pk, []), key=lambda w: (w.due_date, w.task_id)))
        window = utilization_window(staff_calendar, today)
        skills = tuple(member.staff_skills.all())
        loads[member.pk] = StaffLoad(
            member=member,
            calendar=staff_calendar,
            open_work=work,
            skills=skills,
            thresholds=policy.thresholds_for(s.skill.slug for s in skills),
            available_week=staff_calendar.available(*window),
            committed_week=committed_between(staff_calendar, work, today, *window),
        )
    return loads


@dataclass(frozen=True)
class DayHours:
    day: date
    hours: float  # available: the pattern's hours, less holidays and time off
    source: str  # the pattern that sets the day's hours, or "Weekly hours"
    holiday: bool
    away: bool


def hours_by_day(
    *,
    member: StaffMember,
    patterns: list[WorkingPatternRow],
    today: date,
    days: int = 14,
    calendar: BusinessCalendar | None = None,
) -> list[DayHours]:
    """The next ``days`` days of ``member``'s hours as the ledger counts them (one
    query: time off; ``patterns`` are the rows the page already shows)."""
    calendar = calendar or firm_calendar()
    end = today + timedelta(days=days - 1)
    holidays = frozenset(calendar.holidays_between(today, end))
    time_off = _time_off([member.pk], today, end).get(member.pk, {})
    staff_calendar = _staff_calendar(
        member,
        holidays,
        time_off,
        tuple(
            WorkingPattern(
                tuple(float(h) for h in row.day_hours),  # type: ignore[arg-type]
                row.starts_on,
                row.ends_on,
            )
            for row in patterns
        ),
    )
    ranked = sorted(enumerate(patterns), key=lambda p: (p[1].starts_on or date.min, p[0]))
    result = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        source = next(
            (
                row.name
                for _, row in reversed(ranked)
                if (row.starts_on or date.min) <= day <= (row.ends_on or date.max)
            ),
            "Weekly hours",
        )
        result.append(
            DayHours(
                day=day,
                hours=staff_calendar.hours_on(day),
                source=source,
                holiday=day in holidays,
                away=time_off.get(day, 0.0) > 0,
            )
        )
    return result
