"""The capacity heatmap: each person's committed against available hours, week by week
(the next eight) or day by day (the next two weeks), with the layers a manager reads
beside the load: tentative work, statutory deadlines and work waiting on client
documents.

Every figure is the capacity ledger's (``capacity.ledger``), over the same open work
and calendars dispatch reads: no second copy of a capacity rule lives here.

1. People: the active staff the viewer may see (``heatmap_people``): a staff member
   only their own row; a manager their team (themselves and their direct reports)
   unless they ask for the firm or another team; a partner the firm. Skill and role
   filters narrow it.
2. Work, in one query: every task someone holds, every unassigned task due by the
   last window (the demand still to place), and the unassigned tasks a manager still
   has to confirm for a requested staffer (``proposed``, an expression dispatch
   supplies: capacity sits below dispatch and does not read its tables).
3. Per person and window, with the ledger over that person's calendar:
   - committed hours (what dispatch counts: accepted, started and awaiting
     acceptance) split into solid (accepted or started) and awaiting acceptance;
   - hours awaiting a manager's confirmation, placed as if confirmed: tentative,
     shown apart and not counted by dispatch until confirmed;
   - the part of all that waiting on client documents;
   - the statutory deadlines of their engagements falling in the window;
   - the band: committed against the person's threshold for that window's season.
4. The work nobody holds yet, by the window its due date falls in.

Queries: four (people, their skills, the work, time off), and two for the capacity
policy when its cache is cold, whatever the number of people or windows; the page
adds the session, the user, their groups and their staff record (ten at most).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q

from capacity.ledger import EPSILON, StaffCalendar, committed_between, utilization
from capacity.policy import Policy
from capacity.selectors import capacity_policy, staff_calendars
from capacity.work_items import (
    HELD_STATUSES,
    SOLID_STATUSES,
    WorkItem,
    work_items,
    work_queryset,
)
from core.calendar import BusinessCalendar, firm_calendar
from engagements.choices import TaskStatus
from engagements.models import RequiredDocument, Task
from staff.choices import Role
from staff.models import StaffMember, StaffSkill, TimeOff

WEEKS = 8
DAYS = 14
SPAN_WEEKS, SPAN_DAYS = "weeks", "days"

# Within this many points below the threshold a person reads as "near" it.
NEAR_MARGIN = 0.15

# The bands a cell is coloured with (CSS class ``band-<name>``), each with its words:
# the colour is never the only way to tell.
AWAY, ROOM, NEAR, OVER, OVERBOOKED = "away", "room", "near", "over", "overbooked"
BAND_LABELS = {
    AWAY: "no hours",
    ROOM: "room",
    NEAR: "near threshold",
    OVER: "over threshold",
    OVERBOOKED: "overbooked",
}
BAND_ORDER = (ROOM, NEAR, OVER, OVERBOOKED, AWAY)


def load_band(committed: float, available: float, threshold: float) -> str:
    """The band of ``committed`` hours against ``available`` at ``threshold``.

    room below threshold minus 15 points; near up to the threshold; over above it;
    overbooked past every available hour (or past a threshold above 100 %).
    """
    if available <= EPSILON:
        return AWAY if committed <= EPSILON else OVERBOOKED
    share = committed / available
    if share > max(1.0, threshold) + EPSILON:
        return OVERBOOKED
    if share > threshold + EPSILON:
        return OVER
    if share >= threshold - NEAR_MARGIN - EPSILON:
        return NEAR
    return ROOM


def hours_text(hours: float) -> str:
    """Hours as a page shows them: whole numbers bare, else one decimal (7.5)."""
    rounded = round(hours, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


def _step(share: float) -> int:
    """A share of the cell's bar as a width class: 0 to 100 in steps of 5."""
    return max(0, min(100, int(round(share * 20)) * 5))


@dataclass(frozen=True)
class Window:
    """The days one column covers: ``start`` (today in the current week) to ``end``."""

    first: date  # the column's first calendar day (Monday, or the day)
    start: date
    end: date
    current: bool
    weekend: bool = False

    @property
    def span(self) -> str:
        return SPAN_DAYS if self.first == self.end else SPAN_WEEKS

    @property
    def key(self) -> str:
        """The column's first day as a URL parameter (YYYY-MM-DD)."""
        return self.first.isoformat()


def heatmap_windows(*, span: str, today: date) -> tuple[Window, ...]:
    """The next eight weeks (this one from today) or the next fourteen days; at the
    weekend both start on Monday."""
    monday = today - timedelta(days=today.weekday())
    if today.weekday() >= 5:
        monday += timedelta(days=7)
    if span == SPAN_DAYS:
        first = max(today, monday)
        return tuple(
            Window(
                first=day,
                start=day,
                end=day,
                current=day == today,
                weekend=day.weekday() >= 5,
            )
            for day in (first + timedelta(days=i) for i in range(DAYS))
        )
    windows = []
    for i in range(WEEKS):
        first = monday + timedelta(weeks=i)
        windows.append(
            Window(
                first=first,
                start=max(first, today),
                end=first + timedelta(days=6),
                current=first <= today <= first + timedelta(days=6),
            )
        )
    return tuple(windows)


@dataclass(frozen=True)
class Cell:
    """One person in one window: hours by kind, the layers, and the band."""

    window: Window
    available: float
    solid: float  # accepted or started
    awaiting_acceptance: float  # assigned, not accepted yet
    awaiting_confirmation: float  # a requested staffer a manager has still to confirm
    waiting_on_documents: float  # of all the above, on engagements missing client documents
    deadlines: tuple[date, ...]  # statutory deadlines of their engagements in the window
    threshold: float
    time_off: bool
    holiday: bool
    working: bool  # the window holds at least one of their working days
    season_change: bool = False  # the threshold differs from the window before

    @property
    def committed(self) -> float:
        """What dispatch counts against them: accepted, started and awaiting acceptance."""
        return self.solid + self.awaiting_acceptance

    @property
    def tentative(self) -> float:
        return self.awaiting_acceptance + self.awaiting_confirmation

    @property
    def utilization(self) -> float:
        return utilization(self.committed, self.available)

    @property
    def utilization_with_proposals(self) -> float:
        return utilization(self.committed + self.awaiting_confirmation, self.available)

    @property
    def band(self) -> str:
        return load_band(self.committed, self.available, self.threshold)

    @property
    def band_label(self) -> str:
        if self.band == AWAY:
            if not self.working:
                return "not working"
            return "holiday" if self.holiday and not self.time_off else "time off"
        return BAND_LABELS[self.band]

    @property
    def percent(self) -> int | None:
        """Committed as a whole percentage of available; None with no hours available."""
        if self.available <= EPSILON:
            return None
        return round(self.committed / self.available * 100)

    @property
    def crosses_with_proposals(self) -> bool:
        """Confirming the proposals would take them over the threshold."""
        return (
            self.awaiting_confirmation > EPSILON
            and self.utilization <= self.threshold + EPSILON
            and self.utilization_with_proposals > self.threshold + EPSILON
        )

    @property
    def solid_width(self) -> int:
        return _step(self.solid / self.available) if self.available > EPSILON else 0

    @property
    def tentative_width(self) -> int:
        if self.available <= EPSILON:
            return 0
        # The bar holds at most the available hours: tentative fills what solid left.
        return min(_step(self.tentative / self.available), 100 - self.solid_width)

    @property
    def hours_label(self) -> str:
        return f"{hours_text(self.committed)} / {hours_text(self.available)} h"

    @property
    def tentative_label(self) -> str:
        return hours_text(self.tentative) if self.tentative >= 0.05 else ""

    @property
    def documents_label(self) -> str:
        return hours_text(self.waiting_on_documents) if self.waiting_on_documents >= 0.05 else ""

    @property
    def threshold_percent(self) -> int:
        return round(self.threshold * 100)


@dataclass(frozen=True)
class HeatmapRow:
    staff_id: int
    name: str
    role: str
    threshold: float  # in the first window's season
    cells: tuple[Cell, ...]

    @property
    def threshold_percent(self) -> int:
        return round(self.threshold * 100)


@dataclass(frozen=True)
class DemandCell:
    """Work nobody holds yet whose due date falls in the window (overdue: the first)."""

    window: Window
    hours: float
    tasks: int
    waiting_on_documents: float
    without_estimate: int
    deadlines: tuple[date, ...]

    @property
    def hours_label(self) -> str:
        return hours_text(self.hours)

    @property
    def documents_label(self) -> str:
        return hours_text(self.waiting_on_documents) if self.waiting_on_documents >= 0.05 else ""


@dataclass(frozen=True)
class TotalCell:
    window: Window
    available: float
    committed: float
    awaiting_confirmation: float

    @property
    def percent(self) -> int | None:
        if self.available <= EPSILON:
            return None
        return round(self.committed / self.available * 100)

    @property
    def hours_label(self) -> str:
        return f"{hours_text(self.committed)} / {hours_text(self.available)} h"


@dataclass(frozen=True)
class HeatmapFilters:
    """What the viewer asked for; a staff member's are ignored (their own row only)."""

    team: int | None = None  # a manager's staff id: them and their direct reports
    firm: bool = False  # the whole firm
    skill: str = ""
    role: str = ""


@dataclass(frozen=True)
class Reach:
    """Whom the viewer may see: managers and partners anyone, staff only themselves.
    Partners start from the firm, managers from their own team."""

    viewer_id: int | None
    sees_others: bool
    starts_with_firm: bool = False


@dataclass(frozen=True)
class People:
    """The people a heatmap shows and the choices its filters offer."""

    members: list[StaffMember]
    skills: dict[int, frozenset[str]]  # staff id -> skill slugs held
    scope_label: str
    team: int | None  # the team shown (its manager's id), None for the firm or own row
    firm: bool
    team_options: list[tuple[int, str]] = field(default_factory=list)
    skill_options: list[tuple[str, str]] = field(default_factory=list)
    role_options: list[tuple[str, str]] = field(default_factory=list)


# A person's skills with their tags in one query (the tags decide seasonal thresholds).
_SKILLS = Prefetch("staff_skills", queryset=StaffSkill.objects.select_related("skill"))


def heatmap_people(*, reach: Reach, filters: HeatmapFilters) -> People:
    """The active staff the viewer may see, narrowed by the filters (two queries).

    Everyone active is read once: the team, skill and role choices come from the same
    rows, so the filters never offer an empty team or a skill nobody holds.
    """
    members = list(
        StaffMember.objects.filter(active=True).select_related("user").prefetch_related(_SKILLS)
    )
    by_id = {m.pk: m for m in members}
    skills: dict[int, frozenset[str]] = {}
    skill_names: dict[str, str] = {}
    for member in members:
        held: list[StaffSkill] = list(member.staff_skills.all())
        skills[member.pk] = frozenset(s.skill.slug for s in held)
        skill_names.update((s.skill.slug, s.skill.name) for s in held)
    if not reach.sees_others:
        own = [by_id[reach.viewer_id]] if reach.viewer_id in by_id else []
        return People(own, skills, "Your own hours", None, False)

    leads = {m.manager_id for m in members if m.manager_id in by_id}
    team = filters.team if filters.team in leads else None
    firm = filters.firm or (filters.team is not None and team is None)
    if team is None and not firm and not reach.starts_with_firm and reach.viewer_id in leads:
        team = reach.viewer_id
    chosen = members
    if team is not None:
        chosen = [m for m in members if m.pk == team or m.manager_id == team]
        scope = f"{by_id[team].display_name}'s team"
    else:
        firm = True
        scope = "Whole firm"
    if filters.skill:
        chosen = [m for m in chosen if filters.skill in skills[m.pk]]
    if filters.role:
        chosen = [m for m in chosen if m.role == filters.role]
    return People(
        members=chosen,
        skills=skills,
        scope_label=scope,
        team=team,
        firm=firm,
        team_options=sorted(
            ((pk, f"{by_id[pk].display_name}'s team") for pk in leads), key=lambda o: o[1]
        ),
        skill_options=sorted(skill_names.items(), key=lambda o: o[1]),
        role_options=[(value, str(label)) for value, label in Role.choices],
    )


def open_work(
    *, holder_ids: Sequence[int], demand_until: date | None, today: date, proposed: Any = None
) -> list[WorkItem]:
    """The work ``holder_ids`` hold or are proposed for, and (``demand_until``) the
    unassigned work due by then: one query."""
    held = Q(status__in=HELD_STATUSES, assignee_id__in=holder_ids)
    wanted = held | Q(status=TaskStatus.UNASSIGNED, proposed_to__in=holder_ids)
    if demand_until is not None:
        wanted |= Q(status=TaskStatus.UNASSIGNED, due_date__lte=demand_until)
    return work_items(work_queryset(proposed=proposed).filter(wanted), today=today)


@dataclass(frozen=True)
class Heatmap:
    span: str
    today: date
    windows: tuple[Window, ...]
    people: People
    rows: tuple[HeatmapRow, ...]
    demand: tuple[DemandCell, ...] | None  # None: the viewer sees only their own row
    totals: tuple[TotalCell, ...]


def _in(day: date | None, window: Window) -> bool:
    return day is not None and window.first <= day <= window.end


def person_cells(
    *,
    calendar: StaffCalendar,
    items: Sequence[WorkItem],
    windows: Sequence[Window],
    today: date,
    policy: Policy,
    skills: Iterable[str],
) -> tuple[Cell, ...]:
    """One person's cells: the ledger's committed hours for each kind of work."""
    solid = [i.work for i in items if i.status in SOLID_STATUSES and not i.proposed]
    acceptance = [i.work for i in items if i.status == TaskStatus.ASSIGNED]
    confirmation = [i.work for i in items if i.proposed]
    documents = [i.work for i in items if i.waiting_on_documents]
    statutory = {i.engagement_id: i.statutory for i in items if i.statutory is not None}
    held_skills = frozenset(skills)
    away_days = [d for d, hours in calendar.time_off.items() if hours > 0]
    holidays = [d for d in calendar.holidays if calendar.works_on(d)]
    cells: list[Cell] = []
    for window in windows:
        start, end = window.start, window.end
        season = Policy(seasons=policy.seasons, day=start)
        threshold = season.thresholds_for(held_skills).preparer
        cells.append(
            Cell(
                window=window,
                available=calendar.available(start, end),
                solid=committed_between(calendar, solid, today, start, end),
                awaiting_acceptance=committed_between(calendar, acceptance, today, start, end),
                awaiting_confirmation=committed_between(calendar, confirmation, today, start, end),
                waiting_on_documents=committed_between(calendar, documents, today, start, end),
                deadlines=tuple(sorted(d for d in statutory.values() if _in(d, window))),
                threshold=threshold,
                time_off=any(start <= d <= end and calendar.works_on(d) for d in away_days),
                holiday=any(start <= d <= end for d in holidays),
                working=any(
                    calendar.works_on(start + timedelta(days=k))
                    for k in range(min(7, (end - start).days + 1))
                ),
                season_change=bool(cells) and abs(cells[-1].threshold - threshold) > EPSILON,
            )
        )
    return tuple(cells)


def demand_cells(
    items: Sequence[WorkItem], windows: Sequence[Window], today: date
) -> tuple[DemandCell, ...]:
    """Unassigned work by the window its due date falls in; overdue work in the first."""
    buckets: dict[int, list[WorkItem]] = defaultdict(list)
    for item in items:
        due = max(item.due_date, windows[0].first)
        index = next((k for k, w in enumerate(windows) if w.first <= due <= w.end), None)
        if index is not None:
            buckets[index].append(item)
    cells = []
    for k, window in enumerate(windows):
        bucket = buckets.get(k, [])
        deadlines = {i.engagement_id: i.statutory for i in items if _in(i.statutory, window)}
        cells.append(
            DemandCell(
                window=window,
                hours=sum(i.hours for i in bucket),
                tasks=len(bucket),
                waiting_on_documents=sum(i.hours for i in bucket if i.waiting_on_documents),
                without_estimate=sum(1 for i in bucket if not i.has_estimate),
                deadlines=tuple(sorted(d for d in deadlines.values() if d is not None)),
            )
        )
    return tuple(cells)


def capacity_heatmap(
    *,
    reach: Reach,
    filters: HeatmapFilters,
    span: str,
    today: date,
    proposed: Any = None,
    calendar: BusinessCalendar | None = None,
    policy: Policy | None = None,
) -> Heatmap:
    """The heatmap the viewer may see (module docstring: steps and query count)."""
    calendar = calendar or firm_calendar()
    policy = policy or capacity_policy(day=today)
    if not reach.sees_others:
        proposed = None  # a manager's open question, not yet the person's work
    windows = heatmap_windows(span=span, today=today)
    people = heatmap_people(reach=reach, filters=filters)
    ids = [m.pk for m in people.members]
    shows_demand = reach.sees_others
    items = open_work(
        holder_ids=ids,
        demand_until=windows[-1].end if shows_demand else None,
        today=today,
        proposed=proposed,
    )
    shown = set(ids)
    by_holder: dict[int, list[WorkItem]] = defaultdict(list)
    demand: list[WorkItem] = []
    for item in items:
        if item.holder_id is not None and item.holder_id in shown:
            by_holder[item.holder_id].append(item)
        elif not item.proposed and item.status == TaskStatus.UNASSIGNED:
            # Work awaiting confirmation is the proposed person's, shown or not.
            demand.append(item)
    # The calendars reach every due date: work spreads over working days up to it.
    horizon = max([windows[-1].end, *(i.due_date for i in items)])
    calendars = staff_calendars(
        members=people.members, today=today, horizon=horizon, calendar=calendar
    )
    rows = []
    for member in people.members:
        cells = person_cells(
            calendar=calendars[member.pk],
            items=by_holder.get(member.pk, []),
            windows=windows,
            today=today,
            policy=policy,
            skills=people.skills.get(member.pk, frozenset()),
        )
        rows.append(
            HeatmapRow(
                staff_id=member.pk,
                name=member.display_name,
                role=member.get_role_display(),
                threshold=cells[0].threshold,
                cells=cells,
            )
        )
    totals = tuple(
        TotalCell(
            window=window,
            available=sum(r.cells[k].available for r in rows),
            committed=sum(r.cells[k].committed for r in rows),
            awaiting_confirmation=sum(r.cells[k].awaiting_confirmation for r in rows),
        )
        for k, window in enumerate(windows)
    )
    return Heatmap(
        span=span,
        today=today,
        windows=windows,
        people=people,
        rows=tuple(rows),
        demand=demand_cells(demand, windows, today) if shows_demand else None,
        totals=totals,
    )


# The tasks behind one cell -------------------------------------------------------


def window_for(*, first: date, span: str, today: date) -> Window:
    """The column holding ``first``: its week (from today in the current one), or the day."""
    if span == SPAN_DAYS:
        return Window(
            first=first,
            start=first,
            end=first,
            current=first == today,
            weekend=first.weekday() >= 5,
        )
    monday = first - timedelta(days=first.weekday())
    sunday = monday + timedelta(days=6)
    return Window(
        first=monday, start=max(monday, today), end=sunday, current=monday <= today <= sunday
    )


@dataclass(frozen=True)
class CellTask:
    """A task behind a cell, with its hours in the cell's window."""

    item: WorkItem
    hours: float
    task: Task
    documents: tuple[str, ...]  # the client documents its engagement still waits for


@dataclass(frozen=True)
class CellDetail:
    window: Window
    staff_id: int | None  # None: the work nobody holds yet
    name: str
    cell: Cell | None
    demand: DemandCell | None
    tasks: tuple[CellTask, ...]
    time_off: tuple[TimeOff, ...]


def _cell_tasks(items: Sequence[WorkItem], hours: dict[int, float]) -> tuple[CellTask, ...]:
    """The tasks' display facts and outstanding documents (two queries)."""
    ids = [i.task_id for i in items]
    tasks = Task.objects.select_related("engagement__client", "engagement__work_type").in_bulk(ids)
    documents: dict[int, list[str]] = defaultdict(list)
    for engagement_id, name in RequiredDocument.objects.filter(
        engagement_id__in={i.engagement_id for i in items}, received_at__isnull=True
    ).values_list("engagement_id", "name"):
        documents[engagement_id].append(name)
    ordered = sorted(items, key=lambda i: (i.due_date, i.task_id))
    return tuple(
        CellTask(
            item=i,
            hours=hours.get(i.task_id, 0.0),
            task=tasks[i.task_id],
            documents=tuple(documents.get(i.engagement_id, ())),
        )
        for i in ordered
        if i.task_id in tasks
    )


def heatmap_cell(
    *,
    reach: Reach,
    staff_id: int | None,
    first: date,
    span: str,
    today: date,
    proposed: Any = None,
    calendar: BusinessCalendar | None = None,
    policy: Policy | None = None,
) -> CellDetail | None:
    """The tasks behind one cell: a person's (``staff_id``) or the unassigned work's
    (None). None when the person does not exist or is inactive.

    Raises PermissionDenied for a staff member asking for anyone's cell but their own,
    or for the unassigned work (managers and partners only).
    """
    window = window_for(first=first, span=span, today=today)
    if not reach.sees_others:
        if staff_id is None or staff_id != reach.viewer_id:
            raise PermissionDenied("You can see only your own hours.")
        proposed = None  # a manager's open question, not yet the person's work
    if staff_id is None:
        first_column = heatmap_windows(span=span, today=today)[0]
        overdue = window.first == first_column.first
        wanted = Q(status=TaskStatus.UNASSIGNED, due_date__lte=window.end)
        wanted &= Q() if overdue else Q(due_date__gte=window.first)
        items = [
            i
            for i in work_items(work_queryset(proposed=proposed).filter(wanted), today=today)
            if not i.proposed
        ]
        demand = demand_cells(items, (window,), today)[0]
        hours = {i.task_id: i.hours for i in items}
        return CellDetail(
            window=window,
            staff_id=None,
            name="Not yet assigned",
            cell=None,
            demand=demand,
            tasks=_cell_tasks(items, hours),
            time_off=(),
        )
    member = (
        StaffMember.objects.filter(pk=staff_id, active=True)
        .select_related("user")
        .prefetch_related(_SKILLS)
        .first()
    )
    if member is None:
        return None
    calendar = calendar or firm_calendar()
    policy = policy or capacity_policy(day=today)
    items = open_work(holder_ids=[member.pk], demand_until=None, today=today, proposed=proposed)
    horizon = max([window.end, *(i.due_date for i in items)])
    staff_calendar = staff_calendars(
        members=[member], today=today, horizon=horizon, calendar=calendar
    )[member.pk]
    cell = person_cells(
        calendar=staff_calendar,
        items=items,
        windows=(window,),
        today=today,
        policy=policy,
        skills=(s.skill.slug for s in member.staff_skills.all()),
    )[0]
    hours = {
        i.task_id: committed_between(staff_calendar, (i.work,), today, window.start, window.end)
        for i in items
    }
    behind = [i for i in items if hours[i.task_id] > EPSILON or _in(i.statutory, window)]
    time_off = TimeOff.objects.filter(
        staff_member=member, start_date__lte=window.end, end_date__gte=window.first
    ).order_by("start_date")
    return CellDetail(
        window=window,
        staff_id=member.pk,
        name=member.display_name,
        cell=cell,
        demand=None,
        tasks=_cell_tasks(behind, hours),
        time_off=tuple(time_off),
    )
