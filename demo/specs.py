"""The demo firm's vocabulary: sizes, the specs a plan is made of, and small pure helpers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import phonenumbers

from capacity.policy import Season
from core.calendar import BusinessCalendar
from demo import names as words
from dispatch.engine import Decision
from engagements.choices import Milestone, TaskStatus
from engagements.milestones import Step
from engagements.models import WorkType

DEMO_PASSWORD = "closeloop-demo"
ADMIN_USERNAME = "admin"
BATCH_SIZE = 2000
WORK_ORDER = (
    "1040",
    "1120",
    "monthly_bookkeeping",
    "month_end_close",
    "payroll",
    "audit",
    "cfo_advisory",
    "1099",
)
# Documents a client can send before the period ends; the rest arrive after it.
EARLY_DOCUMENTS = frozenset(
    {
        "Prior-year return",
        "Tax organizer questionnaire",
        "Countersigned engagement letter",
        "Contractor list with W-9s",
        "Headcount change form",
    }
)
CERTIFICATIONS = ("cpa", "enrolled_agent", "cisa")
# (cost, bill) per hour by seniority 1..6.
RATES = {1: (38, 125), 2: (46, 150), 3: (58, 185), 4: (74, 235), 5: (88, 275), 6: (125, 375)}


class DemoConflictError(Exception):
    """The database holds demo rows that this seed would have built differently."""


@dataclass(frozen=True)
class DemoSize:
    """How big a firm to build and how much history to give it."""

    name: str
    key_prefix: str  # prefix of client / engagement ids, and of Slack ids
    email_domain: str
    username_suffix: bool  # large firms repeat names: add the staff number
    partners: int
    managers: int
    seniors: int
    associates: int
    clients: int
    months_back: int  # completed months of bookkeeping / close before the current one
    payroll_days_back: int
    payroll_days_ahead: int
    advisory_months_back: int
    tax_years_back: int  # finished tax seasons before the current one
    close_share: float  # monthly-service clients on month-end close rather than bookkeeping
    candidate_sample: int  # staff weighed per assignment (everyone in the demo size)
    bulk_role_sync: bool  # group rows in bulk instead of staff_member_sync_role per person
    decision_log: bool  # write the history's dispatch decisions (a few kB each)

    @property
    def staff_count(self) -> int:
        return self.partners + self.managers + self.seniors + self.associates

    @property
    def hand_placed(self) -> bool:
        """Small enough to place part-timers and time off by position, so every case
        shows up exactly once; bigger firms draw them at random."""
        return self.staff_count <= 20


SIZES: dict[str, DemoSize] = {
    "demo": DemoSize(
        name="demo",
        key_prefix="demo",
        email_domain="demo-cpa.example",
        username_suffix=False,
        partners=2,
        managers=3,
        seniors=4,
        associates=6,
        clients=130,
        months_back=2,
        payroll_days_back=10,
        payroll_days_ahead=24,
        advisory_months_back=0,
        tax_years_back=0,
        close_share=0.35,
        candidate_sample=64,
        bulk_role_sync=False,
        decision_log=True,
    ),
    "large": DemoSize(
        name="large",
        key_prefix="large",
        email_domain="large-cpa.example",
        username_suffix=True,
        partners=133,
        managers=200,
        seniors=267,
        associates=400,
        clients=10_000,
        months_back=7,
        payroll_days_back=45,
        payroll_days_ahead=24,
        advisory_months_back=3,
        tax_years_back=1,
        close_share=0.6,
        candidate_sample=10,
        bulk_role_sync=True,
        decision_log=False,
    ),
}


# --- Specs: what the plan says should exist ----------------------------------


@dataclass(slots=True)
class SkillSpec:
    slug: str
    level: int
    certified_until: date | None = None


@dataclass(slots=True)
class TimeOffSpec:
    start_date: date
    end_date: date
    hours_per_day: Decimal
    reason: str


@dataclass(slots=True)
class StaffSpec:
    number: int
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    seniority: int
    title: str
    manager: str | None
    track: str
    weekly_capacity_hours: Decimal
    working_days: list[int]
    cost_rate: Decimal
    bill_rate: Decimal
    slack_member_id: str
    mobile: str
    skills: dict[str, SkillSpec] = field(default_factory=dict)
    time_off: list[TimeOffSpec] = field(default_factory=list)


@dataclass(slots=True)
class ClientSpec:
    key: str
    name: str
    entity_type: str
    industries: tuple[str, ...]
    value_tier: str
    min_seniority: int | None
    billing_model: str
    retainer_amount: Decimal | None
    contact_name: str
    email: str
    mobile: str
    relationship_partner: str
    preferred_staff: str | None
    payment_plan: bool
    autopay: bool
    account_hold: bool
    notes: str
    services: tuple[str, ...]
    fiscal_year_end_month: int
    payroll_biweekly: bool


@dataclass(slots=True)
class DecisionSpec:
    """One row of a history task's decision log: the engine's decision and who acted."""

    trigger: str
    decision: Decision
    at: datetime  # naive firm-local time
    actor: str | None = None  # username of the manager who acted
    threshold: float | None = None  # the threshold a manager raised the task to
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None


@dataclass(slots=True)
class TaskSpec:
    role: str
    title: str
    estimated_hours: Decimal | None
    due_date: date
    # Planned (assigned, accepted, started, completed), naive firm-local times.
    planned: tuple[datetime, datetime, datetime, datetime]
    trigger: str = ""  # what sends it to dispatch at the planned time (dispatch.choices)
    assignee: str | None = None
    status: str = TaskStatus.UNASSIGNED
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    decisions: list[DecisionSpec] = field(default_factory=list)


@dataclass(slots=True)
class ExceptionSpec:
    """A discrepancy the reviewer raised; open until ``resolved_at`` (cut at now by settle)."""

    note: str
    raised_at: datetime
    resolved_at: datetime | None = None
    resolution: str = ""


@dataclass(slots=True)
class EngagementSpec:
    key: str
    client: ClientSpec
    work_type: str
    name: str
    period_start: date | None
    period_end: date | None
    due_date: date
    estimated_hours: Decimal | None
    complexity: str
    priority: str
    requested_staff: str | None
    special_instructions: str
    # The work type's template steps with their planned times: (code, at, needs), where
    # needs says which task must have an assignee for the step to happen (see timeline).
    steps: list[tuple[str, datetime, int]]
    documents: list[tuple[str, datetime]]  # planned arrival of each checklist item
    tasks: list[TaskSpec]
    exceptions: list[ExceptionSpec] = field(default_factory=list)
    cap: int | None = None  # steps reachable, when nobody could take a task
    milestone: str = Milestone.NEW
    reached: list[tuple[str, datetime]] = field(default_factory=list)
    received: list[tuple[str, datetime | None]] = field(default_factory=list)


@dataclass(slots=True)
class RecurringPlanSpec:
    client_key: str
    work_type: str
    starts_on: date
    event_rule: str
    estimated_hours: Decimal | None
    requested_staff: str | None = None


@dataclass(frozen=True)
class WorkTypeRules:
    work_type: WorkType
    skills: tuple[tuple[str, int], ...]
    template: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Reference:
    """The rows the plan reads from the database (seeded by migrations, edited by admins)."""

    work_types: dict[str, WorkTypeRules]
    skill_ids: dict[str, int]
    industry_ids: dict[str, int]
    calendar: BusinessCalendar
    seasons: tuple[Season, ...] = ()  # the capacity policy's seasons (thresholds)


@dataclass
class DemoPlan:
    size: DemoSize
    seed: int
    today: date
    staff: list[StaffSpec]
    clients: list[ClientSpec]
    engagements: list[EngagementSpec]
    recurring_plans: list[RecurringPlanSpec] = field(default_factory=list)


@dataclass
class BuildResult:
    plan: DemoPlan
    planned: dict[str, int]
    created: dict[str, int]
    seconds: float


# --- Small helpers -------------------------------------------------------------


def month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month (negative goes back)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def half_hours(value: float) -> Decimal:
    """A positive estimate in half hours."""
    return Decimal(max(1, round(value * 2))) / 2


def long_date(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def stream_rng(seed: int, stream: str) -> random.Random:
    # String seeds hash with SHA-512: stable across processes and PYTHONHASHSEED.
    return random.Random(f"closeloop-demo/{seed}/{stream}")


def _valid_mobile(number: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(number))


def fictional_mobile(rng: random.Random) -> str:
    """A number from NANPA's 555-01xx block (reserved for fiction) that validates as E.164."""
    for _attempt in range(1000):
        number = f"+1{rng.choice(words.AREA_CODES)}55501{rng.randint(0, 99):02d}"
        if _valid_mobile(number):
            return number
    raise RuntimeError("No valid 555-01xx number in AREA_CODES: phonenumbers changed its data?")
