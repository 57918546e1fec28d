"""Candidates as columns: each fact the rules read is one array over the people, so a
task is judged against a thousand of them in a few dozen array operations (numpy)
rather than a thousand rounds of Python.

A pool is built once from ``CandidateSnapshot``s and their load profiles
(``capacity.ledger.LoadProfile``) and then kept: the dispatch roster keeps one for
the whole firm and replaces only the people whose open work changed. Every figure
is read from the profile's own numbers with the same operations in the same order
as ``fit.capacity_fit``, so the two agree to the last bit (a property test holds
them to it); working days and available hours are integers, as in the ledger.

Layout (rows in staff-id order):
- per row: staff id, seniority, thresholds, skills (a level and a certification
  date per skill slug), effort factors (one column per work type someone has a
  factor for), the calendar's holiday group, and the load profile's figures for
  the week;
- ragged per-row lists (the calendar's periods of one weekly pattern each, time
  off, open work's due dates, deadlines) flattened into
  one sorted array each, keyed ``row * SPAN + ordinal``, so one ``searchsorted``
  answers "how many before this day" for every row at once; per-row running totals
  sit beside them (one extra slot per row where a list has a "none yet" entry).

A pool never changes once built (``replace`` and ``select`` return new pools sharing
what did not change), so a dispatch can keep reading one while another is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

import numpy as np
import numpy.typing as npt

from capacity.ledger import (
    EPSILON,
    UNITS_PER_HOUR,
    LoadProfile,
    OpenWork,
    utilization,
    week_prefix,
)
from dispatch.engine.types import CandidateSnapshot

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

Side = Literal["left", "right"]

SPAN = 1 << 22  # above date.max.toordinal(): ``row * SPAN + ordinal`` sorts by row, then day
NOT_HELD = -1  # skill level of someone without the skill
NEVER = np.iinfo(np.int64).max  # certification without an expiry; the key after every row


@dataclass(frozen=True)
class _Segment:
    """Ragged per-row lists flattened: ``keys`` sorted (``row * SPAN + ordinal``, then a
    sentinel), and values beside them: ``at_key`` one per key, ``per_row`` one per key
    plus one per row (the entry before the row's first key, or after its last)."""

    keys: Ints
    at_key: tuple[Floats, ...]
    per_row: tuple[Floats, ...]

    def positions(self, rows: Ints, ordinals: Ints | int, side: Side) -> Ints:
        found: Ints = np.searchsorted(self.keys, rows * SPAN + ordinals, side=side)
        return found

    def splice(
        self,
        row: int,
        keys: Sequence[int],
        at_key: Sequence[Sequence[float]],
        per_row: Sequence[Sequence[float]],
    ) -> _Segment:
        """This segment with ``row``'s lists replaced."""
        start = int(np.searchsorted(self.keys, row * SPAN, side="left"))
        end = int(np.searchsorted(self.keys, (row + 1) * SPAN, side="left"))
        new_keys = np.asarray([row * SPAN + k for k in keys], dtype=np.int64)
        return _Segment(
            keys=np.concatenate((self.keys[:start], new_keys, self.keys[end:])),
            at_key=tuple(
                np.concatenate((old[:start], np.asarray(new, dtype=np.float64), old[end:]))
                for old, new in zip(self.at_key, at_key, strict=True)
            ),
            per_row=tuple(
                np.concatenate(
                    (old[: start + row], np.asarray(new, dtype=np.float64), old[end + row + 1 :])
                )
                for old, new in zip(self.per_row, per_row, strict=True)
            ),
        )


def _segment(
    keys: list[int], at_key: Sequence[list[float]], per_row: Sequence[list[float]]
) -> _Segment:
    return _Segment(
        keys=np.asarray([*keys, NEVER], dtype=np.int64),
        at_key=tuple(np.asarray([*values, 0.0], dtype=np.float64) for values in at_key),
        per_row=tuple(np.asarray([*values, 0.0], dtype=np.float64) for values in per_row),
    )


@dataclass(frozen=True)
class _Calendars:
    """Every row's calendar as columns: its periods (one weekly pattern each, in
    units per weekday, with the units before the period starts), holiday group (the
    units each holiday takes off), and time off (units lost per day); running totals
    over all rows beside the sorted keys."""

    period_keys: Ints  # ``row * SPAN + first ordinal``, sorted, then a sentinel
    period_start: Ints  # per period: its first ordinal
    period_base: Ints  # per period: pattern units before it
    period_week: Ints  # per period: index into ``week_prefix``
    week_prefix: Ints  # per distinct week: units among the first k days (k = 0..7)
    holiday_group: Ints  # per row
    holiday_keys: Ints  # ``group * SPAN + ordinal``, sorted, then a sentinel
    holiday_before: Ints  # units lost before each holiday key (running total)
    away_keys: Ints  # ``row * SPAN + ordinal``, sorted, then a sentinel
    away_before: Ints  # units lost before each away key (running total over all rows)

    def _week_units(self, week: Ints, ordinals: Ints | int) -> Ints:
        weeks, rest = np.divmod(ordinals - 1, 7)
        units: Ints = weeks * self.week_prefix[week, 7] + self.week_prefix[week, rest]
        return units

    def units_before(self, rows: Ints, ordinals: Ints | int) -> Ints:
        """Pattern units from ordinal 1 up to, not including, ``ordinals`` (holidays and
        time off not taken off): ``CalendarIndex.units_before`` for every row."""
        period = np.searchsorted(self.period_keys, rows * SPAN + ordinals, side="right") - 1
        week = self.period_week[period]
        units: Ints = (
            self.period_base[period]
            + self._week_units(week, ordinals)
            - self._week_units(week, self.period_start[period])
        )
        return units

    def working_units(self, rows: Ints, lo: Ints | int, hi: Ints | int) -> Ints:
        """Working units from ``lo`` to ``hi``, both included, holidays excluded (0 when
        ``hi`` < ``lo``): ``StaffCalendar.working_units_between`` for every row."""
        group = self.holiday_group[rows] * SPAN
        after: Ints = np.searchsorted(self.holiday_keys, group + hi, side="right")
        before: Ints = np.searchsorted(self.holiday_keys, group + lo, side="left")
        pattern = self.units_before(rows, hi + 1) - self.units_before(rows, lo)
        lost = self.holiday_before[after] - self.holiday_before[before]
        units: Ints = np.where(hi < lo, 0, pattern - lost)
        return units

    def available_units(self, rows: Ints, lo: int, hi: Ints | int, working: Ints) -> Ints:
        """``StaffCalendar.available_units`` for every row from ``lo`` to ``hi`` (``lo``
        <= ``hi``), with ``working`` the working units between them."""
        key = rows * SPAN
        first = np.searchsorted(self.away_keys, key + lo, side="left")
        last = np.searchsorted(self.away_keys, key + hi, side="right")
        units: Ints = working - (self.away_before[last] - self.away_before[first])
        return units


def _running_before(values: list[int]) -> Ints:
    """0, then the running total of ``values``: one entry per key and its sentinel."""
    before: Ints = np.concatenate(([0], np.cumsum(values, dtype=np.int64))).astype(np.int64)
    return before


class CandidatePool:
    """The candidates for a dispatch as columns, as of ``today`` (see the module doc).

    Iterating a pool yields its selected people in staff-id order; ``len`` counts them.
    """

    __slots__ = (
        "calendars",
        "certified",
        "committed_week",
        "deadlines",
        "effort",
        "index",
        "landing",
        "landing_hours",
        "landing_in_window",
        "levels",
        "available_week",
        "breaks",
        "people",
        "rows",
        "seniority",
        "spread",
        "staff_ids",
        "threshold",
        "reviewer_threshold",
        "today",
        "utilization",
        "window_end",
        "window_start",
    )

    today: date
    people: tuple[CandidateSnapshot, ...]  # every row, in staff-id order
    index: dict[int, int]  # staff id -> row
    rows: Ints  # the selected rows (``select``), ascending
    staff_ids: Ints
    seniority: Ints
    threshold: Floats
    reviewer_threshold: Floats
    levels: dict[str, Ints]  # skill slug -> level per row (NOT_HELD without it)
    certified: dict[str, Ints]  # skill slug -> certified-until ordinal per row (NEVER)
    effort: dict[int, Floats]  # work type id -> effort factor per row (1.0 by default)
    calendars: _Calendars
    window_start: Ints  # the utilization window ("this week"), per row
    window_end: Ints
    available_week: Floats
    committed_week: Floats
    utilization: Floats  # this week, before any new task
    landing: Ints  # where work with no working day left lands (ordinal)
    landing_hours: Floats
    landing_in_window: Bools  # that day falls in the utilization window
    spread: _Segment  # open work's due dates; full-hours prefix, hours-per-day suffix
    deadlines: _Segment  # deadlines; hours due by, available until; least slack from
    breaks: Ints  # the first deadline that already breaks (local index; count if none)

    # Building ------------------------------------------------------------------------

    @classmethod
    def build(cls, people: Iterable[CandidateSnapshot], today: date) -> CandidatePool:
        """Columns for ``people`` (one row each, by staff id) as of ``today``."""
        self = cls()
        by_id = {person.staff_id: person for person in people}
        self.today = today
        self.people = tuple(by_id[pk] for pk in sorted(by_id))
        self.index = {person.staff_id: row for row, person in enumerate(self.people)}
        count = len(self.people)
        self.rows = np.arange(count, dtype=np.int64)
        self.staff_ids = np.asarray([p.staff_id for p in self.people], dtype=np.int64)
        self.seniority = np.asarray([p.seniority for p in self.people], dtype=np.int64)
        self.threshold = np.asarray([p.threshold for p in self.people], dtype=np.float64)
        self.reviewer_threshold = np.asarray(
            [p.reviewer_threshold for p in self.people], dtype=np.float64
        )
        self._build_skills()
        self._build_effort()
        self._build_calendars()
        self._build_profiles()
        return self

    def _build_skills(self) -> None:
        count = len(self.people)
        levels: dict[str, Ints] = {}
        certified: dict[str, Ints] = {}
        for row, person in enumerate(self.people):
            for slug, held in person.skills.items():
                if slug not in levels:
                    levels[slug] = np.full(count, NOT_HELD, dtype=np.int64)
                    certified[slug] = np.full(count, NEVER, dtype=np.int64)
                levels[slug][row] = held.level
                if held.certified_until is not None:
                    certified[slug][row] = held.certified_until.toordinal()
        self.levels, self.certified = levels, certified

    def _build_effort(self) -> None:
        count = len(self.people)
        effort: dict[int, Floats] = {}
        for row, person in enumerate(self.people):
            for work_type_id, factor in person.effort.items():
                if work_type_id not in effort:
                    effort[work_type_id] = np.ones(count, dtype=np.float64)
                effort[work_type_id][row] = factor
        self.effort = effort

    def _build_calendars(self) -> None:
        weeks: dict[tuple[int, ...], int] = {}
        groups: dict[tuple[tuple[int, ...], tuple[int, ...]], int] = {}
        seen: dict[int, tuple[list[tuple[int, int, int]], int]] = {}  # calendar id ->
        # ((first ordinal, base, week) per period, holiday group)
        period_keys: list[int] = []
        period_start: list[int] = []
        period_base: list[int] = []
        period_week: list[int] = []
        group: list[int] = []
        away_keys: list[int] = []
        away_lost: list[int] = []
        for row, person in enumerate(self.people):
            calendar = person.calendar
            index = calendar.index
            facts = seen.get(id(calendar))
            if facts is None:
                periods = [
                    (start, base, weeks.setdefault(week, len(weeks)))
                    for start, base, week in zip(
                        index.period_starts, index.period_base, index.period_weeks, strict=True
                    )
                ]
                facts = (
                    periods,
                    groups.setdefault((index.holidays, index.holiday_lost), len(groups)),
                )
                seen[id(calendar)] = facts
            base_key = row * SPAN
            for start, base, week in facts[0]:
                period_keys.append(base_key + start)
                period_start.append(start)
                period_base.append(base)
                period_week.append(week)
            group.append(facts[1])
            away_keys.extend(base_key + day for day in index.away_days)
            away_lost.extend(index.away_lost)
        holidays = sorted(
            (g * SPAN + day, lost)
            for (days, losts), g in groups.items()
            for day, lost in zip(days, losts, strict=True)
        )
        self.calendars = _Calendars(
            period_keys=np.asarray([*period_keys, NEVER], dtype=np.int64),
            period_start=np.asarray([*period_start, 1], dtype=np.int64),
            period_base=np.asarray([*period_base, 0], dtype=np.int64),
            period_week=np.asarray([*period_week, 0], dtype=np.int64),
            week_prefix=np.asarray(
                [week_prefix(week) for week in weeks] or [(0,) * 8], dtype=np.int64
            ),
            holiday_group=np.asarray(group, dtype=np.int64),
            holiday_keys=np.asarray([*(key for key, _ in holidays), NEVER], dtype=np.int64),
            holiday_before=_running_before([lost for _, lost in holidays]),
            away_keys=np.asarray([*away_keys, NEVER], dtype=np.int64),
            away_before=_running_before(away_lost),
        )

    def _build_profiles(self) -> None:
        today = self.today
        spread_keys: list[int] = []
        spread_values: tuple[list[float], list[float]] = ([], [])
        deadline_keys: list[int] = []
        deadline_at: tuple[list[float], list[float]] = ([], [])
        slack: list[float] = []
        figures = []
        for row, person in enumerate(self.people):
            profile = person.profile(today)
            figures.append(_figures(person, profile))
            base = row * SPAN
            spread_keys.extend(base + due for due in profile.spread_dues)
            spread_values[0].extend(profile.full_prefix)
            spread_values[1].extend(profile.rate_suffix)
            deadline_keys.extend(base + day for day in profile.deadlines)
            deadline_at[0].extend(profile.due_by)
            deadline_at[1].extend(profile.available_to)
            slack.extend(profile.slack_suffix_min)
        self.spread = _segment(spread_keys, (), spread_values)
        self.deadlines = _segment(deadline_keys, deadline_at, (slack,))
        self._set_figures(figures)

    def _set_figures(self, figures: list[_Figures]) -> None:
        columns = list(zip(*figures, strict=True)) if figures else [()] * 9
        self.window_start = np.asarray(columns[0], dtype=np.int64)
        self.window_end = np.asarray(columns[1], dtype=np.int64)
        self.available_week = np.asarray(columns[2], dtype=np.float64)
        self.committed_week = np.asarray(columns[3], dtype=np.float64)
        self.utilization = np.asarray(columns[4], dtype=np.float64)
        self.landing = np.asarray(columns[5], dtype=np.int64)
        self.landing_hours = np.asarray(columns[6], dtype=np.float64)
        self.landing_in_window = np.asarray(columns[7], dtype=np.bool_)
        self.breaks = np.asarray(columns[8], dtype=np.int64)

    def _copy(self) -> CandidatePool:
        other = CandidatePool()
        for name in CandidatePool.__slots__:
            setattr(other, name, getattr(self, name))
        return other

    def replace(self, people: Iterable[CandidateSnapshot]) -> CandidatePool:
        """This pool with these people's rows built again from their snapshots (new
        open work, skills, thresholds or calendar): their load profiles only, and the
        skill or calendar columns (cheap) when those changed. Someone new rebuilds the
        whole pool."""
        changed = list(people)
        if not changed:
            return self
        if any(p.staff_id not in self.index for p in changed):
            kept = {p.staff_id: p for p in self.people}
            kept.update((p.staff_id, p) for p in changed)
            rebuilt = CandidatePool.build(kept.values(), self.today)
            return rebuilt.select(self.staff_ids[self.rows].tolist())
        before = [self.people[self.index[p.staff_id]] for p in changed]
        other = self._copy()
        roster = list(self.people)
        columns = {
            name: getattr(self, name).copy()
            for name in (
                "seniority",
                "threshold",
                "reviewer_threshold",
                "window_start",
                "window_end",
                "available_week",
                "committed_week",
                "utilization",
                "landing",
                "landing_hours",
                "landing_in_window",
                "breaks",
            )
        }
        spread, deadlines = self.spread, self.deadlines
        for person in changed:
            row = self.index[person.staff_id]
            roster[row] = person
            profile = person.profile(self.today)
            columns["seniority"][row] = person.seniority
            columns["threshold"][row] = person.threshold
            columns["reviewer_threshold"][row] = person.reviewer_threshold
            names = (
                "window_start",
                "window_end",
                "available_week",
                "committed_week",
                "utilization",
                "landing",
                "landing_hours",
                "landing_in_window",
                "breaks",
            )
            for name, value in zip(names, _figures(person, profile), strict=True):
                columns[name][row] = value
            spread = spread.splice(
                row, profile.spread_dues, (), (profile.full_prefix, profile.rate_suffix)
            )
            deadlines = deadlines.splice(
                row,
                profile.deadlines,
                (profile.due_by, profile.available_to),
                (profile.slack_suffix_min,),
            )
        other.people = tuple(roster)
        for name, value in columns.items():
            setattr(other, name, value)
        other.spread, other.deadlines = spread, deadlines
        if any(p.skills != old.skills for p, old in zip(changed, before, strict=True)):
            other._build_skills()
        if any(p.effort != old.effort for p, old in zip(changed, before, strict=True)):
            other._build_effort()
        if any(p.calendar is not old.calendar for p, old in zip(changed, before, strict=True)):
            other._build_calendars()
        return other

    def select(self, staff_ids: Iterable[int]) -> CandidatePool:
        """The same columns with only these people selected (unknown ids are ignored)."""
        other = self._copy()
        rows = sorted({self.index[pk] for pk in staff_ids if pk in self.index})
        other.rows = np.asarray(rows, dtype=np.int64)
        return other

    # Reading -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[CandidateSnapshot]:
        people = self.people
        return (people[row] for row in self.rows.tolist())

    def __len__(self) -> int:
        return len(self.rows)

    def person(self, staff_id: int) -> CandidateSnapshot:
        return self.people[self.index[staff_id]]

    def level(self, slug: str, rows: Ints) -> Ints:
        levels = self.levels.get(slug)
        return np.full(len(rows), NOT_HELD, dtype=np.int64) if levels is None else levels[rows]

    def certified_until(self, slug: str, rows: Ints) -> Ints:
        until = self.certified.get(slug)
        return np.full(len(rows), NEVER, dtype=np.int64) if until is None else until[rows]

    def effort_for(self, work_type_id: int | None, rows: Ints) -> Floats:
        """Each row's effort factor for the work type (1.0 without one)."""
        column = self.effort.get(work_type_id) if work_type_id else None
        return np.ones(len(rows), dtype=np.float64) if column is None else column[rows]

    def committed_through(self, rows: Ints, ordinal: Ints | int, units: Ints) -> Floats:
        """``LoadProfile.committed_through`` for every row, for a day from today on, with
        ``units`` the working units from today to it."""
        position = self.spread.positions(rows, ordinal, "right") + rows
        full, rate = self.spread.per_row
        total = full[position] + rate[position] * units
        landed = (self.landing_hours[rows] > 0) & (self.landing[rows] <= ordinal)
        committed: Floats = total + np.where(landed, self.landing_hours[rows], 0.0)
        return committed

    def available(self, rows: Ints, lo: int, hi: Ints | int, units: Ints) -> Floats:
        """``StaffCalendar.available`` for every row (``lo`` <= ``hi``; ``units`` the
        working units between them)."""
        hours: Floats = self.calendars.available_units(rows, lo, hi, units) / UNITS_PER_HOUR
        return hours

    def deadline_fits(
        self,
        rows: Ints,
        work: OpenWork | Sequence[OpenWork],
        available: Floats,
        which: Ints | None = None,
        hours_of: Floats | None = None,
    ) -> Bools:
        """``LoadProfile.deadline_fit(work).fits`` for every row, with ``available`` the
        hours from today to the work's due date (or today). With ``which``, ``work`` is
        a list and row ``k`` is judged with ``work[which[k]]`` (many tasks at once, the
        planner). The rare row whose later deadlines come near the edge is walked by its
        profile, so the verdict is the profile's. ``hours_of``: the work's hours for each
        row (its effort factor applied) instead of the work's own."""
        if which is None:
            assert isinstance(work, OpenWork)
            items: Sequence[OpenWork] = (work,)
            hours: Floats | float = work.hours
            ordinal: Ints | int = max(work.due_date, self.today).toordinal()
        else:
            assert not isinstance(work, OpenWork)
            items = work
            today = self.today.toordinal()
            hours = np.asarray([w.hours for w in items], dtype=np.float64)[which]
            dues = np.asarray([w.due_date.toordinal() for w in items], dtype=np.int64)
            ordinal = np.maximum(dues, today)[which]
        if hours_of is not None:
            hours = hours_of
        deadlines = self.deadlines
        start = deadlines.positions(rows, 0, "left")
        at_key = deadlines.positions(rows, ordinal, "left")
        end = deadlines.positions(rows + 1, 0, "left")
        at = at_key - start
        due_by, available_to = deadlines.at_key
        (slack,) = deadlines.per_row
        broken = self.breaks[rows] < at
        shared = (at_key < end) & (deadlines.keys[at_key] == rows * SPAN + ordinal)
        before = np.where(at > 0, due_by[at_key - 1], 0.0)
        own_due = np.where(shared, due_by[at_key], before) + hours
        own_available = np.where(shared, available_to[at_key], available)
        fits = ~broken & ~(own_due > own_available + EPSILON)
        later = at_key + shared
        near = fits & (later < end) & (slack[later + rows] < hours + EPSILON)
        for position in np.flatnonzero(near).tolist():
            person = self.people[int(rows[position])]
            item = items[0] if which is None else items[int(which[position])]
            if hours_of is not None and float(hours_of[position]) != item.hours:
                item = replace(item, hours=float(hours_of[position]))
            fits[position] = person.profile(self.today).deadline_fit(item).fits
        return fits


_Figures = tuple[int, int, float, float, float, int, float, bool, int]


def _figures(person: CandidateSnapshot, profile: LoadProfile) -> _Figures:
    """A row's figures that do not depend on the task."""
    start, end = profile.window
    landing = profile.landing
    return (
        start.toordinal(),
        end.toordinal(),
        profile.available_week,
        profile.committed_week,
        utilization(profile.committed_week, profile.available_week),
        landing,
        profile.landing_hours,
        start.toordinal() <= _landing_day(person, profile) <= end.toordinal(),
        profile.breaks,
    )


def _landing_day(person: CandidateSnapshot, profile: LoadProfile) -> int:
    """Where new work with no working day left would land (the next working day)."""
    return person.calendar.next_working_day(profile.today).toordinal()


__all__ = ["CandidatePool", "SPAN"]
