"""Plan the people: the firm's roster (skills, capacity, time off) and its clients.

Pure Python over the reference data; every random choice comes from a stream
seeded from the seed, so the roster and the client list depend neither on the
date nor on each other's draws.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from clients.choices import BillingModel, EntityType, ValueTier
from demo import names as words
from demo.specs import (
    CERTIFICATIONS,
    RATES,
    WORK_ORDER,
    ClientSpec,
    DemoSize,
    Reference,
    SkillSpec,
    StaffSpec,
    TimeOffSpec,
    fictional_mobile,
    stream_rng,
)
from staff.choices import Role


class PeoplePlanner:
    """Staff and clients for one (seed, size, today)."""

    def __init__(self, *, seed: int, size: DemoSize, today: date, reference: Reference) -> None:
        self.seed = seed
        self.size = size
        self.today = today
        self.ref = reference

    # Staff ------------------------------------------------------------------------

    def plan_staff(self) -> list[StaffSpec]:
        """The roster: partners, managers (reporting to partners), then seniors and
        associates (reporting to managers), each with a track that decides skills."""
        size = self.size
        rng = stream_rng(self.seed, "staff")
        total = size.staff_count
        if size.username_suffix:
            firsts = [rng.choice(words.FIRST_NAMES) for _ in range(total)]
            lasts = [rng.choice(words.LAST_NAMES) for _ in range(total)]
        else:
            # Small firm: nobody shares a first or a last name, so logins stay obvious.
            firsts = rng.sample(words.FIRST_NAMES, total)
            lasts = rng.sample(words.LAST_NAMES, total)
        width = max(2, len(str(total)))
        layout = (
            (Role.PARTNER, size.partners, ("audit", "tax")),
            (Role.MANAGER, size.managers, ("audit", "tax", "advisory")),
            (Role.SENIOR, size.seniors, ("audit", "tax", "bookkeeping", "audit")),
            (Role.STAFF, size.associates, ("tax", "bookkeeping", "payroll")),
        )
        staff: list[StaffSpec] = []
        bosses: dict[str, list[str]] = {Role.PARTNER: [], Role.MANAGER: []}
        number = 0
        for role, count, tracks in layout:
            for n in range(count):
                number += 1
                first, last = firsts[number - 1], lasts[number - 1]
                username = f"{first}.{last}".lower()
                if size.username_suffix:
                    username = f"{username}.{number:0{width}d}"
                track = tracks[n % len(tracks)]
                seniority, title = self._seniority_and_title(role, n, track)
                if role == Role.PARTNER:
                    manager = None
                elif role == Role.MANAGER:
                    manager = bosses[Role.PARTNER][n % len(bosses[Role.PARTNER])]
                else:
                    manager = bosses[Role.MANAGER][n % len(bosses[Role.MANAGER])]
                capacity, working_days = self._capacity(role, n, rng)
                cost, bill = RATES[seniority]
                person = StaffSpec(
                    number=number,
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@{size.email_domain}",
                    role=role,
                    seniority=seniority,
                    title=title,
                    manager=manager,
                    track=track,
                    weekly_capacity_hours=capacity,
                    working_days=working_days,
                    cost_rate=Decimal(cost + rng.randint(-3, 3)),
                    bill_rate=Decimal(bill + rng.choice((-10, -5, 0, 5, 10))),
                    slack_member_id=f"U0{size.key_prefix.upper()}{number:0{width}d}",
                    mobile=fictional_mobile(rng),
                )
                person.skills = self._skills(person, rng)
                staff.append(person)
                if role in bosses:
                    bosses[role].append(username)
        self._expiring_certifications(staff, stream_rng(self.seed, "certifications"))
        self._time_off(staff, stream_rng(self.seed, "time-off"))
        return staff

    def _seniority_and_title(self, role: str, n: int, track: str) -> tuple[int, str]:
        """Every third manager is a senior manager, every third associate a senior associate."""
        if role == Role.PARTNER:
            return 6, "Managing Partner" if n == 0 else words.TITLES[(role, track)]
        if role == Role.MANAGER and n % 3 == 0:
            return 5, "Senior Manager"
        if role == Role.MANAGER:
            return 4, words.TITLES[(role, track)]
        if role == Role.SENIOR:
            return 3, words.TITLES[(role, track)]
        if n % 3 == 0:
            return 2, "Senior Associate"
        return 1, words.TITLES[(role, track)]

    def _capacity(self, role: str, n: int, rng: random.Random) -> tuple[Decimal, list[int]]:
        """40 h Monday to Friday, except a few part-timers among seniors and associates."""
        if not self.size.hand_placed:
            part_time = role in (Role.SENIOR, Role.STAFF) and rng.random() < 0.06
            if part_time and rng.random() < 0.5:
                return Decimal("32"), [0, 1, 2, 3]
            if part_time:
                return Decimal(rng.choice((24, 28, 30))), [0, 1, 2, 3, 4]
            return Decimal("40"), [0, 1, 2, 3, 4]
        if role == Role.SENIOR and n == 1:
            return Decimal("32"), [0, 1, 2, 3]
        if role == Role.STAFF and n == 4:
            return Decimal("24"), [0, 1, 2, 3, 4]
        return Decimal("40"), [0, 1, 2, 3, 4]

    # (slug, lowest level, highest level, probability) by role, then by track.
    BASE_SKILLS: dict[str, tuple[tuple[str, int, int, float], ...]] = {
        Role.STAFF: (
            ("individual_tax_certified", 2, 3, 1.0),
            ("bookkeeping", 2, 3, 1.0),
            ("payroll", 2, 3, 0.7),
            ("info_returns_1099", 2, 2, 0.8),
        ),
        Role.SENIOR: (
            ("individual_tax_certified", 3, 4, 1.0),
            ("corporate_tax", 3, 3, 1.0),
            ("bookkeeping", 3, 4, 1.0),
            ("payroll", 2, 3, 0.6),
            ("info_returns_1099", 3, 3, 1.0),
        ),
        Role.MANAGER: (
            ("cpa", 3, 4, 0.9),
            ("individual_tax_certified", 4, 4, 1.0),
            ("corporate_tax", 3, 4, 1.0),
            ("bookkeeping", 3, 4, 1.0),
            ("payroll", 3, 3, 0.5),
            ("info_returns_1099", 3, 4, 1.0),
        ),
        Role.PARTNER: (
            ("cpa", 5, 5, 1.0),
            ("individual_tax_certified", 4, 5, 1.0),
            ("corporate_tax", 4, 5, 1.0),
            ("bookkeeping", 3, 4, 1.0),
            ("info_returns_1099", 3, 3, 0.7),
            ("cfo_advisory", 4, 5, 1.0),
        ),
    }
    TRACK_SKILLS: dict[str, tuple[tuple[str, int, int, float], ...]] = {
        "audit": (("audit_trained", 3, 5, 1.0), ("cpa", 2, 4, 1.0), ("cisa", 2, 3, 0.25)),
        "tax": (
            ("corporate_tax", 3, 4, 1.0),
            ("individual_tax_certified", 3, 4, 1.0),
            ("enrolled_agent", 3, 4, 0.4),
        ),
        "advisory": (("cfo_advisory", 3, 4, 1.0), ("bookkeeping", 4, 5, 1.0)),
        "bookkeeping": (("bookkeeping", 3, 4, 1.0), ("payroll", 3, 4, 1.0)),
        "payroll": (("payroll", 3, 4, 1.0), ("bookkeeping", 2, 3, 1.0)),
    }

    def _skills(self, person: StaffSpec, rng: random.Random) -> dict[str, SkillSpec]:
        # Associates top out one level above their seniority: a first-year is not an expert.
        cap = person.seniority + 1 if person.role == Role.STAFF else 5
        skills: dict[str, SkillSpec] = {}
        for slug, low, high, chance in (
            self.BASE_SKILLS[person.role] + self.TRACK_SKILLS[person.track]
        ):
            if rng.random() >= chance:
                continue
            level = min(cap, rng.randint(low, high))
            if slug not in skills or skills[slug].level < level:
                skills[slug] = SkillSpec(slug, level)
        for slug in rng.sample(sorted(self.ref.industry_ids), rng.randint(0, 2)):
            skills[slug] = SkillSpec(slug, rng.randint(2, 4))
        for slug in CERTIFICATIONS:
            if slug in skills:
                skills[slug].certified_until = date(self.today.year + rng.randint(1, 2), 12, 31)
        return {slug: skills[slug] for slug in sorted(skills) if slug in self.ref.skill_ids}

    def _expiring_certifications(self, staff: list[StaffSpec], rng: random.Random) -> None:
        """A couple of licences that lapse within weeks (the renewal reminder's demo), kept
        off the audit track so the audits still have qualified people."""
        holders = [s for s in staff if "cpa" in s.skills and s.track != "audit"]
        count = min(len(holders), max(2, round(len(staff) * 0.02)))
        for person in rng.sample(holders, count):
            person.skills["cpa"].certified_until = self.today + timedelta(days=rng.randint(10, 45))

    def _time_off(self, staff: list[StaffSpec], rng: random.Random) -> None:
        christmas = date(self.today.year, 12, 25)
        if christmas < self.today:
            christmas = date(self.today.year + 1, 12, 25)
        first_friday = christmas.replace(day=1)
        while first_friday.weekday() != 4:
            first_friday += timedelta(days=1)
        eight = Decimal("8")
        blocks = [
            (christmas - timedelta(days=4), christmas - timedelta(days=1), eight, "Holiday travel"),
            (christmas + timedelta(days=3), christmas + timedelta(days=6), eight, "Vacation"),
            (first_friday, first_friday, eight, "Personal day"),
            (
                self.ref.calendar.add_business_days(self.today, 3),
                self.ref.calendar.add_business_days(self.today, 3),
                Decimal("4"),
                "Medical appointment",
            ),
        ]
        if self.size.hand_placed:
            # One block each for an associate, a senior, a manager and another associate.
            by_role = {role: [s for s in staff if s.role == role] for role in Role.values}
            associates, seniors = by_role[Role.STAFF], by_role[Role.SENIOR]
            takers = [associates[-1], seniors[-2], by_role[Role.MANAGER][1], associates[-3]]
            for person, (start, end, hours, reason) in zip(takers, blocks, strict=True):
                person.time_off.append(TimeOffSpec(start, end, hours, reason))
            return
        for person in staff:
            if rng.random() < 0.12:
                start, end, hours, reason = rng.choice(blocks)
                person.time_off.append(TimeOffSpec(start, end, hours, reason))

    # Clients ------------------------------------------------------------------

    ENTITY_MIX = (
        (EntityType.INDIVIDUAL, 0.40),
        (EntityType.S_CORP, 0.18),
        (EntityType.C_CORP, 0.10),
        (EntityType.PARTNERSHIP, 0.14),
        (EntityType.NONPROFIT, 0.10),
        (EntityType.TRUST, 0.08),
    )

    def plan_clients(self, staff: list[StaffSpec]) -> list[ClientSpec]:
        """Clients with exact shares of entity types and flags (so a small firm still shows
        every case), names unique within the firm."""
        rng = stream_rng(self.seed, "clients")
        n = self.size.clients
        kinds = [kind for kind, share in self.ENTITY_MIX[1:] for _ in range(round(n * share))]
        kinds += [EntityType.INDIVIDUAL] * (n - len(kinds))
        rng.shuffle(kinds)

        def pick(share: float, minimum: int = 1) -> set[int]:
            return set(rng.sample(range(n), max(minimum, round(n * share))))

        key_accounts, high_value = pick(0.10), pick(0.20)
        preferred, notes = pick(0.08), pick(0.12)
        payment_plans, autopays, holds = pick(0.04), pick(0.18), pick(0.02)
        partners = [s.username for s in staff if s.role == Role.PARTNER]
        juniors = [s for s in staff if s.role != Role.PARTNER]
        services = self._services(kinds, key_accounts, rng)
        used: set[str] = set()
        clients: list[ClientSpec] = []
        for i, kind in enumerate(kinds):
            name, contact, email, industries = self._client_identity(kind, rng, used)
            key = i in key_accounts
            tier = (
                ValueTier.KEY if key else ValueTier.HIGH if i in high_value else ValueTier.STANDARD
            )
            billing, retainer = self._billing(kind, services[i], rng)
            helper = rng.choice(juniors) if i in preferred else None
            clients.append(
                ClientSpec(
                    key=f"{self.size.key_prefix}-c{i + 1:05d}",
                    name=name,
                    entity_type=kind,
                    industries=industries,
                    value_tier=tier,
                    min_seniority=rng.choice((3, 4)) if key else None,
                    billing_model=billing,
                    retainer_amount=retainer,
                    contact_name=contact,
                    email=email,
                    mobile=fictional_mobile(rng) if rng.random() < 0.75 else "",
                    relationship_partner=rng.choice(partners),
                    preferred_staff=helper.username if helper else None,
                    payment_plan=i in payment_plans,
                    autopay=i in autopays and i not in payment_plans,
                    account_hold=i in holds,
                    notes=rng.choice(words.CLIENT_NOTES) if i in notes else "",
                    services=services[i],
                    fiscal_year_end_month=rng.choice(
                        (6, 6, 6, 9, 12) if kind == EntityType.NONPROFIT else (12, 12, 9, 6)
                    ),
                    payroll_biweekly=rng.random() < 0.4,
                )
            )
        return clients

    def _client_identity(
        self, kind: str, rng: random.Random, used: set[str]
    ) -> tuple[str, str, str, tuple[str, ...]]:
        """(name, contact, email, industry tags), retrying until the name is new."""
        for attempt in range(200):
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
            contact = f"{first} {last}"
            personal_email = f"{first}.{last}@example.com".lower()
            industries: tuple[str, ...] = ()
            if kind == EntityType.INDIVIDUAL:
                if rng.random() < 0.55:
                    partner = rng.choice(words.FIRST_NAMES)
                    name = f"{first} & {partner} {last}" if partner != first else f"{first} {last}"
                else:
                    name = f"{first} {last}"
                if rng.random() < 0.2:
                    industries = (
                        rng.choice(("real_estate", "professional_services", "healthcare")),
                    )
                email = personal_email
            elif kind == EntityType.TRUST:
                name = rng.choice(words.TRUST_FORMS).format(first=first, last=last)
                email = personal_email
            else:
                place = self._place(rng)
                if kind == EntityType.NONPROFIT:
                    noun = rng.choice(words.NONPROFIT_KINDS)
                    name = f"{place} {noun}"
                    industries = ("nonprofit_sector",)
                else:
                    industry = rng.choice(sorted(words.BUSINESS_NOUNS))
                    noun, suffix = rng.choice(words.BUSINESS_NOUNS[industry])
                    if kind == EntityType.C_CORP and suffix not in ("PC", "PA"):
                        suffix = rng.choice(("Inc.", "Corp.", "Corporation"))
                    elif kind == EntityType.PARTNERSHIP:
                        professional = industry in ("professional_services", "healthcare")
                        suffix = "LLP" if professional else rng.choice(("LLC", "LP"))
                    name = f"{place} {noun} {suffix}"
                    industries = (industry,)
                domain = "".join(ch for ch in f"{place}{noun}" if ch.isalnum())
                email = f"{first}@{domain}.example".lower()
            if attempt > 100:
                name = f"{name} ({attempt})"
            if name not in used:
                used.add(name)
                return name, contact, email, industries
        raise RuntimeError("Could not invent a unique client name")  # pragma: no cover

    def _place(self, rng: random.Random) -> str:
        first = rng.choice(words.PLACE_FIRST)
        second = rng.choice([w for w in words.PLACE_SECOND if w != first])
        return f"{first} {second}"

    # Share of each kind of client buying each service; "monthly" is bookkeeping or close.
    SERVICE_SHARES: dict[str, tuple[tuple[str, float], ...]] = {
        EntityType.INDIVIDUAL: (("1040", 1.0),),
        EntityType.TRUST: (("monthly_bookkeeping", 0.3), ("1099", 0.3)),
        EntityType.NONPROFIT: (("audit", 0.5), ("monthly", 0.55), ("payroll", 0.3), ("1099", 0.3)),
        EntityType.S_CORP: (
            ("1120", 0.95),
            ("monthly", 0.8),
            ("payroll", 0.3),
            ("1099", 0.5),
            ("cfo_advisory", 0.1),
        ),
        EntityType.C_CORP: (
            ("1120", 0.95),
            ("monthly", 0.8),
            ("payroll", 0.3),
            ("1099", 0.5),
            ("cfo_advisory", 0.1),
        ),
        EntityType.PARTNERSHIP: (
            ("monthly", 0.8),
            ("payroll", 0.3),
            ("1099", 0.5),
            ("cfo_advisory", 0.1),
        ),
    }

    def _services(
        self, kinds: list[str], key_accounts: set[int], rng: random.Random
    ) -> list[tuple[str, ...]]:
        """Which work each client buys, by exact quotas per kind of client so the firm's
        shape (and the engagement count) barely moves from one seed to the next."""
        chosen: list[set[str]] = [set() for _ in kinds]
        for kind, shares in self.SERVICE_SHARES.items():
            members = [i for i, k in enumerate(kinds) if k == kind]
            for code, share in shares:
                for i in rng.sample(members, round(len(members) * share)):
                    chosen[i].add(code)
        monthly = [i for i, codes in enumerate(chosen) if "monthly" in codes]
        close = set(rng.sample(monthly, round(len(monthly) * self.size.close_share)))
        for i in monthly:
            chosen[i].discard("monthly")
            # Key accounts get a real close with a review, whatever the quota says.
            closes = i in close or (i in key_accounts and kinds[i] != EntityType.TRUST)
            chosen[i].add("month_end_close" if closes else "monthly_bookkeeping")
        for i in sorted(key_accounts):
            if kinds[i] not in (EntityType.INDIVIDUAL, EntityType.TRUST) and rng.random() < 0.5:
                chosen[i].add("audit")
        return [
            tuple(code for code in WORK_ORDER if code in codes and code in self.ref.work_types)
            for codes in chosen
        ]

    def _billing(
        self, kind: str, services: tuple[str, ...], rng: random.Random
    ) -> tuple[str, Decimal | None]:
        roll = rng.random()
        if kind == EntityType.INDIVIDUAL:
            return (BillingModel.FIXED_FEE if roll < 0.8 else BillingModel.HOURLY), None
        if {"monthly_bookkeeping", "month_end_close"} & set(services):
            if roll < 0.55:
                return BillingModel.RETAINER, Decimal(rng.randrange(400, 4001, 50))
            return (BillingModel.HOURLY if roll < 0.85 else BillingModel.FIXED_FEE), None
        return (BillingModel.HOURLY if roll < 0.65 else BillingModel.FIXED_FEE), None
