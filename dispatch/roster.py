"""The firm's staff as the dispatch engine sees them, kept between dispatches: their
facts, and their open work as the engine's columns (``CandidatePool``).

At a 1,000-person firm every dispatch would otherwise read everyone's name, skills,
hours, time off and open work again and build their calendars and load profiles again.

- **Facts** (the capacity policy; names, skills, hours, working patterns, time off, effort
  factors per work type (``capacity.estimates``, from its cache); the skills each
  work type needs) are built again when the ``staff-roster`` change stamp moved (a
  save or delete of a staff member, their user, skills, working patterns or time off, a skill tag, a
  work type or its skill rules, a capacity rule or its skills bumps it after commit,
  ``dispatch.apps``; it is read with the task, in the same query), when the day
  changed, and after ``ROSTER_MAX_AGE`` seconds (writes that bypass signals;
  ``seed_demo`` bumps it).
- **Open work** is kept exactly: the database moves a person's ``open_work_seq``
  whenever the work they hold changes (``dispatch.triggers``), so each dispatch reads,
  in one query, only the people whose number passed the highest it has seen, with the
  sum of everyone's numbers: numbers only grow, so the sum matches the kept ones
  exactly when nothing else changed. When it does not (a change that drew its number
  earlier committed later, as concurrent dispatches do), everyone's numbers are read
  and the work of those whose number moved. Only the rows of the people who changed
  are rebuilt in the pool.

The chosen person's number is read again under their row lock (``dispatch.services``):
if it moved since the snapshot, their open work is read again and the engine decides
again, so the roster never pushes anyone past their threshold.
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from capacity.estimates import effort_factors_cached
from capacity.ledger import OpenWork, StaffCalendar, WorkingPattern
from capacity.policy import Policy, Thresholds
from capacity.selectors import capacity_policy, remaining_weighted_hours, working_patterns
from core.calendar import firm_calendar
from core.services import change_stamp_bump
from dispatch.engine import CandidateSnapshot, HeldSkill, SkillRequirement
from dispatch.engine.pool import CandidatePool
from dispatch.triggers import HELD
from engagements.choices import TaskStatus
from engagements.models import WorkTypeSkill
from staff.models import StaffMember, TimeOff

ROSTER_STAMP = "staff-roster"
ROSTER_MAX_AGE = 600.0  # seconds
# Time off and holidays are loaded this far ahead: past the furthest date a firm can
# enter (five years), so no due date reads an absence as available time.
REACH = timedelta(days=366 * 6)


@dataclass(frozen=True)
class Member:
    """One active person's facts that do not depend on their open work."""

    staff_id: int
    name: str
    seniority: int
    manager_id: int | None
    calendar: StaffCalendar
    skills: Mapping[str, HeldSkill]
    thresholds: Thresholds
    effort: Mapping[int, float]  # work type id -> effort factor (``capacity.estimates``)


@dataclass(frozen=True)
class OpenWorkState:
    """Everyone's open work as last read, and the numbers that say it is current."""

    seqs: Mapping[int, int]  # staff id -> ``open_work_seq`` as read (every staff row)
    total: int  # their sum
    watermark: int  # the highest of them
    pool: CandidatePool  # every active member with this open work


@dataclass(frozen=True)
class OpenWorkRead:
    """What one dispatch reads besides the task: the pool as it stands, the numbers it
    was built from, and how many tasks each person has held for the task's client."""

    pool: CandidatePool
    seqs: Mapping[int, int]
    client_history: dict[int, int]


@dataclass
class Roster:
    key: tuple[int, date]
    built_at: float
    policy: Policy
    members: dict[int, Member]
    holders: dict[str, frozenset[int]]  # skill slug -> who holds it
    requirements: dict[int, tuple[SkillRequirement, ...]]  # work type id -> skills it needs
    today: date
    work: OpenWorkState | None = None
    # Staff id -> their effort factors per work type, for those who have any.
    effort: Mapping[int, Mapping[int, float]] = field(default_factory=dict)

    def candidate_ids(self, slugs: Iterable[str], also: int | None = None) -> list[int]:
        """Active staff holding at least one of ``slugs`` (everyone when none), in id order."""
        wanted = list(slugs)
        if wanted:
            ids: set[int] = set()
            for slug in wanted:
                ids |= self.holders.get(slug, frozenset())
        else:
            ids = set(self.members)
        if also is not None and also in self.members:
            ids.add(also)
        return sorted(ids)

    def snapshot(self, staff_id: int, open_work: tuple[OpenWork, ...]) -> CandidateSnapshot:
        """The person with this open work, as the engine reads them."""
        member = self.members[staff_id]
        return CandidateSnapshot(
            staff_id=staff_id,
            name=member.name,
            seniority=member.seniority,
            calendar=member.calendar,
            skills=member.skills,
            open_work=open_work,
            threshold=member.thresholds.preparer,
            reviewer_threshold=member.thresholds.reviewer,
            manager_id=member.manager_id,
            effort=member.effort,
        )

    def open_work(self, *, task_id: int, client_id: int) -> OpenWorkRead:
        """Everyone's open work as it stands now and the client's history: one query
        (the people whose number passed the highest seen, the sum of everyone's
        numbers, the history). When the sums differ, a number below the highest seen
        committed late: everyone's numbers are read (one small query) and the work of
        those whose number moved (one more)."""
        state = self.work
        since = state.watermark if state is not None else -1
        effort = self.effort
        changed, total, history = _read_open_work(
            since=since, client_id=client_id, task_id=task_id, effort=effort
        )
        if state is None:
            seqs = {staff_id: seq for staff_id, (seq, _) in changed.items()}
            fresh = self._state(changed, seqs)
        else:
            seqs = {**state.seqs, **{staff_id: seq for staff_id, (seq, _) in changed.items()}}
            if sum(seqs.values()) != total:
                numbers = _read_numbers()
                moved = [pk for pk, seq in numbers.items() if seqs.get(pk) != seq]
                seqs = {pk: seqs[pk] for pk in numbers if pk in seqs}  # the deleted go
                late, _, _ = _read_open_work(staff_ids=moved, effort=effort)
                changed.update(late)
                seqs.update((staff_id, seq) for staff_id, (seq, _) in late.items())
            fresh = self._apply(state, changed, seqs)
        current = self.work
        if current is None or fresh.total >= current.total:
            self.work = fresh  # never back to an older reading (another thread's)
        return OpenWorkRead(pool=fresh.pool, seqs=fresh.seqs, client_history=history)

    def _state(
        self, rows: dict[int, tuple[int, list[OpenWork]]], seqs: dict[int, int]
    ) -> OpenWorkState:
        people = [
            self.snapshot(pk, _ordered(rows[pk][1]) if pk in rows else ()) for pk in self.members
        ]
        return OpenWorkState(
            seqs=seqs,
            total=sum(seqs.values()),
            watermark=max(seqs.values(), default=0),
            pool=CandidatePool.build(people, self.today),
        )

    def _apply(
        self,
        state: OpenWorkState,
        changed: dict[int, tuple[int, list[OpenWork]]],
        seqs: dict[int, int],
    ) -> OpenWorkState:
        if not changed and seqs == state.seqs:
            return state
        people = [
            self.snapshot(pk, _ordered(work))
            for pk, (_, work) in changed.items()
            if pk in self.members
        ]
        return OpenWorkState(
            seqs=seqs,
            total=sum(seqs.values()),
            watermark=max(seqs.values(), default=0),
            pool=state.pool.replace(people),
        )


def _ordered(work: list[OpenWork]) -> tuple[OpenWork, ...]:
    return tuple(sorted(work, key=lambda w: (w.due_date, w.task_id)))


# One statement: the people whose number passed ``since`` (or those named), each with
# their held tasks (a person holding nothing comes back once, with no task); the sum of
# everyone's numbers, read in the same snapshot; and who has held the client's tasks.
_OPEN_WORK_SQL = f"""
SELECT 1, s.id, s.open_work_seq, t.id, t.due_date, t.estimated_hours, t.weight, t.logged_hours,
    t.work_type_id
FROM staff_staffmember s
LEFT JOIN {{lateral}} (
    SELECT t.id, t.assignee_id, t.due_date, t.estimated_hours, w.complexity_weight AS weight,
        t.logged_hours, e.work_type_id
    FROM engagements_task t
    JOIN engagements_engagement e ON e.id = t.engagement_id
    JOIN engagements_worktype w ON w.id = e.work_type_id
    WHERE t.status IN ({HELD}) {{correlated}}
) t ON t.assignee_id = s.id
WHERE {{people}}
UNION ALL
SELECT 2, NULL, (SELECT CAST(SUM(open_work_seq) AS BIGINT) FROM staff_staffmember),
    NULL, NULL, NULL, NULL, NULL, NULL
"""
# PostgreSQL: a lateral subquery it may not flatten (OFFSET 0), so each person's tasks
# are an index read whatever the planner guesses about how many people changed (with
# no statistics on the numbers it guessed a third of the firm and scanned every held
# task). SQLite has no LATERAL and reads by index anyway.
_LATERAL = {
    "postgresql": ("LATERAL", "AND t.assignee_id = s.id OFFSET 0"),
    "sqlite": ("", ""),
}
_HISTORY_SQL = """
UNION ALL
SELECT 3, t.assignee_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM engagements_task t JOIN engagements_engagement e ON e.id = t.engagement_id
WHERE e.client_id = %s AND t.assignee_id IS NOT NULL AND t.status <> %s AND t.id <> %s
"""


def _read_open_work(
    *,
    since: int | None = None,
    staff_ids: list[int] | None = None,
    client_id: int | None = None,
    task_id: int | None = None,
    effort: Mapping[int, Mapping[int, float]] | None = None,
) -> tuple[dict[int, tuple[int, list[OpenWork]]], int, dict[int, int]]:
    """(staff id -> (number, held work)) for those whose number passed ``since`` or for
    ``staff_ids``, the sum of everyone's numbers, and (with a client) how many of the
    client's tasks each person has held besides ``task_id``. Raw SQL: one statement
    whatever the firm's size, and no query to compile on every dispatch. A task's hours
    are what it would take its holder (their ``effort`` factor for its work type)."""
    params: list[object]
    if staff_ids is not None:
        if not staff_ids:
            return {}, 0, {}
        people = f"s.id IN ({', '.join(['%s'] * len(staff_ids))})"
        params = list(staff_ids)
    else:
        people, params = "s.open_work_seq > %s", [since if since is not None else -1]
    lateral, correlated = _LATERAL[connection.vendor]
    sql = _OPEN_WORK_SQL.format(people=people, lateral=lateral, correlated=correlated)
    if client_id is not None:
        sql += _HISTORY_SQL
        params += [client_id, TaskStatus.CANCELLED.value, task_id or 0]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    changed: dict[int, tuple[int, list[OpenWork]]] = {}
    history: dict[int, int] = defaultdict(int)
    total = 0
    factors = effort or {}
    for kind, staff_id, seq, pk, due, estimate, weight, logged, work_type in rows:
        if kind == 1:
            entry = changed.get(staff_id)
            if entry is None:
                entry = changed[staff_id] = (int(seq), [])
            if pk is not None:
                hours = remaining_weighted_hours(
                    _decimal(estimate),
                    _decimal(weight),
                    _decimal(logged),
                    factors.get(staff_id, {}).get(work_type, 1.0),
                )
                entry[1].append(OpenWork(task_id=pk, due_date=_date(due), hours=hours))
        elif kind == 2:
            total = int(seq or 0)
        else:
            history[staff_id] += 1
    return changed, total, dict(history)


def _read_numbers() -> dict[int, int]:
    """Everyone's ``open_work_seq`` (staff id -> number)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, open_work_seq FROM staff_staffmember")
        return {staff_id: int(seq) for staff_id, seq in cursor.fetchall()}


def _decimal(value: object) -> Decimal | None:
    """SQLite hands back decimals as numbers: the same Decimal Django would build."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


_current: Roster | None = None
_building = threading.Lock()


def roster(*, version: int, today: date) -> Roster:
    """The roster for this stamp version and day (built when it is not)."""
    global _current
    key = (version, today)
    current = _current
    if current is not None and current.key == key:
        if time.monotonic() - current.built_at < ROSTER_MAX_AGE:
            return current
    with _building:
        current = _current
        if (
            current is None
            or current.key != key
            or (time.monotonic() - current.built_at >= ROSTER_MAX_AGE)
        ):
            current = _current = _build(key, today)
            # The roster lives for many dispatches: move it (and whatever else is
            # long-lived by now) out of the collector's way, so collections in the
            # middle of a dispatch do not walk a thousand people each time.
            gc.freeze()
        return current


def roster_changed(*, update_fields: frozenset[str] | None = None, **_: object) -> None:
    """A signal receiver: what the roster is built from changed; move the stamp after
    commit. A login (only ``last_login`` saved) changes nothing the engine reads."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    change_stamp_bump(ROSTER_STAMP)


def roster_forget() -> None:
    """Drop the roster (tests roll the stamp back with the rows it counted)."""
    global _current
    _current = None


def _build(key: tuple[int, date], today: date) -> Roster:
    """The capacity policy, everyone active with all their skills, their time off and
    working patterns, and the skills each work type needs: six queries; the effort
    factors come from their cache (one more query when it is cold)."""
    policy = capacity_policy(day=today, fresh=True)
    effort = effort_factors_cached(today=today)
    rows = (
        StaffMember.objects.filter(active=True)
        .annotate(working_days_text=Cast("working_days", TextField()))
        .order_by("pk")
        .values_list(
            "pk",
            "user__first_name",
            "user__last_name",
            "user__username",
            "seniority",
            "weekly_capacity_hours",
            "working_days_text",
            "manager_id",
            "staff_skills__skill__slug",
            "staff_skills__level",
            "staff_skills__certified_until",
        )
    )
    facts: dict[int, tuple[str, int, float, frozenset[int], int | None]] = {}
    skills: dict[int, dict[str, HeldSkill]] = defaultdict(dict)
    for pk, first, last, username, seniority, weekly, days, manager, slug, level, until in rows:
        if pk not in facts:
            name = f"{first} {last}".strip() or username
            facts[pk] = (name, seniority, float(weekly), frozenset(json.loads(days)), manager)
        if slug is not None:
            skills[pk][slug] = HeldSkill(level=level, certified_until=until)
    horizon = today + REACH
    time_off = _time_off(list(facts), today, horizon)
    patterns = working_patterns(list(facts), today)
    holidays = frozenset(firm_calendar().holidays_between(today, horizon))
    shared: dict[tuple[float, frozenset[int], tuple[WorkingPattern, ...]], StaffCalendar] = {}
    members: dict[int, Member] = {}
    holders: dict[str, set[int]] = defaultdict(set)
    for pk, (name, seniority, weekly, days, manager) in facts.items():
        away = time_off.get(pk)
        weeks = patterns.get(pk, ())
        if away:
            calendar = StaffCalendar(weekly, days, holidays, away, weeks)
        else:
            # Everyone with the same hours, days and patterns and no time off shares
            # one calendar, so the engine counts their windows once.
            calendar = shared.setdefault(
                (weekly, days, weeks), StaffCalendar(weekly, days, holidays, {}, weeks)
            )
        held = skills.get(pk, {})
        members[pk] = Member(
            staff_id=pk,
            name=name,
            seniority=seniority,
            manager_id=manager,
            calendar=calendar,
            skills=held,
            thresholds=policy.thresholds_for(held),
            effort=effort.get(pk, {}),
        )
        for slug in held:
            holders[slug].add(pk)
    requirements: dict[int, list[SkillRequirement]] = defaultdict(list)
    for work_type_id, slug, level in WorkTypeSkill.objects.order_by("pk").values_list(
        "work_type_id", "skill__slug", "min_level"
    ):
        requirements[work_type_id].append(SkillRequirement(slug, level))
    return Roster(
        key=key,
        built_at=time.monotonic(),
        policy=policy,
        members=members,
        holders={slug: frozenset(ids) for slug, ids in holders.items()},
        requirements={pk: tuple(rules) for pk, rules in requirements.items()},
        today=today,
        effort={pk: factors for pk, factors in effort.items() if pk in members},
    )


def _time_off(ids: list[int], today: date, horizon: date) -> dict[int, dict[date, float]]:
    days: dict[int, dict[date, float]] = defaultdict(dict)
    for staff_id, start, end, hours in TimeOff.objects.filter(
        staff_member_id__in=ids, end_date__gte=today, start_date__lte=horizon
    ).values_list("staff_member_id", "start_date", "end_date", "hours_per_day"):
        person = days[staff_id]
        day = max(start, today)
        while day <= min(end, horizon):
            person[day] = person.get(day, 0.0) + float(hours)
            day += timedelta(days=1)
    return days
