"""The firm's staff as the dispatch engine sees them, kept between dispatches.

At a 1,000-person firm every dispatch would otherwise read everyone's name, skills,
hours and time off again and build their calendars and load profiles again (about
70 ms of a dispatch). The roster keeps them in the process and is built again when:

- the ``staff-roster`` change stamp moved: a save or delete of a staff member, their
  user, their skills or time off, a skill tag, a work type or its skill rules bumps it
  after commit
  (``dispatch.apps``), and the stamp is read with the task, in the same query;
- the day or the capacity policy changed;
- it is older than ``ROSTER_MAX_AGE`` seconds, for writes that bypass signals
  (bulk loads such as ``seed_demo``, which also bumps the stamp).

Open work is never taken from the roster: each dispatch reads it again (one query
without joins), and a person's snapshot, with the load profile the engine built for
it, is reused only while their open work is exactly the same. The chosen person's
open work is read once more under their row lock (``dispatch.services``), so the
roster can never push anyone past their threshold.
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

from django.db.models import TextField
from django.db.models.functions import Cast

from capacity.ledger import OpenWork, StaffCalendar
from capacity.policy import Policy, Season, Thresholds
from core.calendar import firm_calendar
from core.services import change_stamp_bump
from dispatch.engine import CandidateSnapshot, HeldSkill, SkillRequirement
from engagements.models import Engagement, WorkTypeSkill
from staff.models import StaffMember, TimeOff

ROSTER_STAMP = "staff-roster"
ROSTER_MAX_AGE = 60.0  # seconds
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


@dataclass
class Roster:
    key: tuple[int, date, tuple[Season, ...]]
    built_at: float
    members: dict[int, Member]
    holders: dict[str, frozenset[int]]  # skill slug -> who holds it
    requirements: dict[int, tuple[SkillRequirement, ...]]  # work type id -> skills it needs
    # engagement id -> (client id, complexity weight), filled as open work names them
    engagements: dict[int, tuple[int, Decimal]] = field(default_factory=dict)
    # open-work row as read -> the item built from it (rows are immutable values)
    open_work_items: dict[tuple[object, ...], OpenWork] = field(default_factory=dict)
    _snapshots: dict[int, CandidateSnapshot] = field(default_factory=dict)

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
        """The person with this open work; the same object (and load profile) as last
        time while their open work has not changed."""
        kept = self._snapshots.get(staff_id)
        if kept is not None and kept.open_work == open_work:
            return kept
        member = self.members[staff_id]
        snapshot = CandidateSnapshot(
            staff_id=staff_id,
            name=member.name,
            seniority=member.seniority,
            calendar=member.calendar,
            skills=member.skills,
            open_work=open_work,
            threshold=member.thresholds.preparer,
            reviewer_threshold=member.thresholds.reviewer,
            manager_id=member.manager_id,
        )
        self._snapshots[staff_id] = snapshot
        return snapshot

    def engagement_facts(self, engagement_ids: Iterable[int]) -> dict[int, tuple[int, Decimal]]:
        """Client and complexity weight of each engagement (one query for those not seen)."""
        missing = [pk for pk in set(engagement_ids) if pk not in self.engagements]
        if missing:
            for pk, client_id, weight in Engagement.objects.filter(pk__in=missing).values_list(
                "pk", "client_id", "work_type__complexity_weight"
            ):
                self.engagements[pk] = (client_id, weight)
        return self.engagements


_current: Roster | None = None
_building = threading.Lock()


def roster(*, version: int, today: date, policy: Policy) -> Roster:
    """The roster for this stamp version, day and policy (built when it is not)."""
    global _current
    key = (version, today, policy.seasons)
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
            current = _current = _build(key, today, policy)
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


def _build(key: tuple[int, date, tuple[Season, ...]], today: date, policy: Policy) -> Roster:
    """Everyone active with all their skills, their time off, and the skills each work
    type needs: three queries."""
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
    holidays = frozenset(firm_calendar().holidays_between(today, horizon))
    shared: dict[tuple[float, frozenset[int]], StaffCalendar] = {}
    members: dict[int, Member] = {}
    holders: dict[str, set[int]] = defaultdict(set)
    for pk, (name, seniority, weekly, days, manager) in facts.items():
        away = time_off.get(pk)
        if away:
            calendar = StaffCalendar(weekly, days, holidays, away)
        else:
            # Everyone with the same hours and days and no time off shares one
            # calendar, so the engine counts their windows once.
            calendar = shared.setdefault((weekly, days), StaffCalendar(weekly, days, holidays))
        held = skills.get(pk, {})
        members[pk] = Member(
            staff_id=pk,
            name=name,
            seniority=seniority,
            manager_id=manager,
            calendar=calendar,
            skills=held,
            thresholds=policy.thresholds_for(held),
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
        members=members,
        holders={slug: frozenset(ids) for slug, ids in holders.items()},
        requirements={pk: tuple(rules) for pk, rules in requirements.items()},
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
