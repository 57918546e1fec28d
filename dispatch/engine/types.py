from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import cached_property

from capacity.ledger import LoadProfile, OpenWork, StaffCalendar
from capacity.policy import DEFAULT_PREPARER_THRESHOLD, DEFAULT_REVIEWER_THRESHOLD

PREPARER, REVIEWER = "preparer", "reviewer"


class Outcome(str, Enum):
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    HELD_MISSING_ESTIMATE = "held_missing_estimate"
    NEEDS_CONFIRMATION = "needs_confirmation"
    SUPPRESSED = "suppressed"
    HELD_ACCOUNT_HOLD = "held_account_hold"


@dataclass(frozen=True)
class SkillRequirement:
    slug: str
    min_level: int


@dataclass(frozen=True)
class HeldSkill:
    level: int
    certified_until: date | None = None


@dataclass(frozen=True)
class TaskToPlace:
    """The facts about one task the rules read (the rules live in the engine's modules:
    ``eligibility`` reads the floors, the request and the season facts)."""

    task_id: int
    role: str  # "preparer" | "reviewer"
    client_id: int
    due_date: date
    estimated_hours: float | None
    weight: float = 1.0
    required_skills: tuple[SkillRequirement, ...] = ()
    complexity: str = "medium"  # "low" | "medium" | "high"
    client_min_seniority: int | None = None
    work_type_min_seniority: int | None = None  # preparers, on high-complexity work
    reviewer_min_seniority: int | None = None
    max_seniority: int | None = None  # nobody more senior takes this role on this work
    urgent: bool = False
    engagement_requested_staff_id: int | None = None
    client_preferred_staff_id: int | None = None
    request_declined: bool = False  # a manager declined the requested staffer here
    preparer_id: int | None = None
    excluded_staff_ids: frozenset[int] = frozenset()
    seasonal_work_type: bool = False  # the work type is flagged "suppressed in December"
    season_suppresses: bool = False  # a season holding flagged work is in force
    threshold_override: float | None = None  # a manager raised the threshold for this task
    client_name: str = ""
    client_on_hold: bool = False  # billing put the client on account hold
    client_hold_reason: str = ""  # why, in words (an unpaid invoice, usually)
    # Tasks each person has held for this client (staff id -> count): the client's
    # history, so a candidate's own facts stay the same whatever the task.
    client_history: Mapping[int, int] = field(default_factory=dict)
    work_type_id: int | None = None  # whose effort factors apply (``CandidateSnapshot.effort``)

    @property
    def weighted_hours(self) -> float:
        return (self.estimated_hours or 0.0) * self.weight

    def hours_for(self, candidate: CandidateSnapshot) -> float:
        """The hours this task would take ``candidate``: its weighted hours times their
        effort factor for the work type (1 until logged time says otherwise)."""
        factor = candidate.effort.get(self.work_type_id, 1.0) if self.work_type_id else 1.0
        return self.weighted_hours * factor

    def open_work_for(self, candidate: CandidateSnapshot) -> OpenWork:
        """This task as it would sit on ``candidate``'s plate (their hours for it)."""
        hours = self.hours_for(candidate)
        if hours == self.weighted_hours:
            return self.as_open_work
        return OpenWork(task_id=self.task_id, due_date=self.due_date, hours=hours)

    @cached_property
    def as_open_work(self) -> OpenWork:
        """This task as it would sit on someone's plate."""
        return OpenWork(task_id=self.task_id, due_date=self.due_date, hours=self.weighted_hours)


@dataclass(frozen=True)
class CandidateSnapshot:
    staff_id: int
    name: str
    seniority: int
    calendar: StaffCalendar
    skills: Mapping[str, HeldSkill] = field(default_factory=dict)
    open_work: tuple[OpenWork, ...] = ()
    threshold: float = DEFAULT_PREPARER_THRESHOLD
    reviewer_threshold: float = DEFAULT_REVIEWER_THRESHOLD
    manager_id: int | None = None
    # Work type id -> the person's effort factor (median logged / estimated hours,
    # ``capacity.estimates``): a task of that type takes them its hours times this.
    effort: Mapping[int, float] = field(default_factory=dict)
    _profiles: dict[date, LoadProfile] = field(default_factory=dict, compare=False, repr=False)

    def profile(self, today: date) -> LoadProfile:
        """This person's load as of ``today``, built once per snapshot and then read
        by every task placed against it."""
        profile = self._profiles.get(today)
        if profile is None:
            profile = LoadProfile.build(self.calendar, self.open_work, today)
            self._profiles[today] = profile
        return profile


class Problem(str):
    """Why a rule refuses someone, in words, and the class it is counted under when
    the decision log summarises the people it does not list one by one."""

    label: str

    def __new__(cls, text: str, label: str | None = None) -> Problem:
        problem = super().__new__(cls, text)
        problem.label = label or text
        return problem


@dataclass(frozen=True)
class CandidateRow:
    """One line of the candidate table: the person, their load, and the verdict."""

    staff_id: int
    name: str
    seniority: int
    utilization: float  # this week, before the task
    utilization_after: float  # this week, with the task
    threshold: float
    available_before_deadline: float  # free hours from today to the due date
    familiarity: int
    qualified: bool  # passed skill, guardrail and reviewer rules
    kept: bool  # passed every rule
    reason: str
    committed_week: float = 0.0  # hours this week before the task
    available_week: float = 0.0  # hours they can work this week
    task_week: float = 0.0  # the task's hours landing this week

    def as_dict(self) -> dict[str, object]:
        return {
            "staff_id": self.staff_id,
            "name": self.name,
            "seniority": self.seniority,
            "utilization": _round(self.utilization),
            "utilization_after": _round(self.utilization_after),
            "threshold": self.threshold,
            "available_before_deadline": _round(self.available_before_deadline),
            "familiarity": self.familiarity,
            "qualified": self.qualified,
            "kept": self.kept,
            "reason": self.reason,
            # The class of the reason (``Problem.label``): what summaries group by.
            "rule": getattr(self.reason, "label", self.reason),
            "committed_week": _round(self.committed_week),
            "available_week": _round(self.available_week),
            "task_week": _round(self.task_week),
        }


def _round(value: float) -> float | None:
    return None if value == float("inf") else round(value, 3)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    assignee_id: int | None
    reasons: tuple[str, ...]
    rule_path: tuple[str, ...]
    candidates: tuple[CandidateRow, ...]
    over_threshold: bool = False  # the assignee ends above their threshold (urgent)
    urgent_override: bool = False
    requested_override: bool = False
    deadline_gap_hours: float | None = None  # escalations: best qualified shortfall
    # Everyone the rule looked at, and those not in ``candidates`` counted by reason.
    candidate_count: int = 0
    rejections: tuple[tuple[str, int], ...] = ()

    @property
    def qualified(self) -> tuple[CandidateRow, ...]:
        return tuple(row for row in self.candidates if row.qualified)
