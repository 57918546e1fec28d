"""Plan each client's standing orders (``RecurringPlan``) for the recurring work it buys.

Every client on monthly bookkeeping or month-end close has a plan for it, every
payroll client one with the rule its pay dates follow, and some 1099 clients one
for the yearly run.

A monthly plan starts with the first period the demo builds: the recurring beat
catches up a couple of missed periods, and a plan older than the demo's history
would make it open closes for months the demo never had.
"""

from __future__ import annotations

from datetime import date, timedelta

from demo.specs import (
    ClientSpec,
    DemoSize,
    EngagementSpec,
    RecurringPlanSpec,
    WorkTypeRules,
    add_months,
    half_hours,
    stream_rng,
)

# RFC 5545 rules for the pay dates ``WorkPlanner._pay_runs`` plans. A biweekly plan
# starts on one of the client's pay Fridays, so INTERVAL=2 lands on the right weeks.
BIWEEKLY_FRIDAYS = "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"
SEMIMONTHLY = "FREQ=MONTHLY;BYMONTHDAY=15,-1"
MONTHLY_WORK = ("monthly_bookkeeping", "month_end_close")
ANNUAL_1099_SHARE = 0.3  # of the 1099 clients, those on a standing yearly order
REQUESTED_SHARE = 0.12  # plans asking for the person who did the latest engagement


def plan_recurring(
    *,
    seed: int,
    size: DemoSize,
    today: date,
    work_types: dict[str, WorkTypeRules],
    clients: list[ClientSpec],
    engagements: list[EngagementSpec],
) -> list[RecurringPlanSpec]:
    """One plan per (client, work type) at most, in client order; deterministic."""
    rng = stream_rng(seed, "recurring-plans")
    regulars: dict[tuple[str, str], str] = {}
    for engagement in engagements:  # in period order per client: the latest one wins
        preparer = engagement.tasks[0].assignee
        if preparer:
            regulars[(engagement.client.key, engagement.work_type)] = preparer
    this_month = today.replace(day=1)
    first_pay_window = today - timedelta(days=size.payroll_days_back)
    annual = [c.key for c in clients if "1099" in c.services]
    annual_keys = set(
        rng.sample(annual, min(len(annual), max(3, round(len(annual) * ANNUAL_1099_SHARE))))
    )
    plans: list[RecurringPlanSpec] = []
    for client in clients:
        for code in client.services:
            if code in MONTHLY_WORK:
                starts_on = add_months(this_month, -size.months_back)
                rule = ""
            elif code == "payroll":
                weeks_back = rng.randint(4, 150)
                if client.payroll_biweekly:
                    starts_on = _pay_friday(client, first_pay_window - timedelta(weeks=weeks_back))
                    rule = BIWEEKLY_FRIDAYS
                else:
                    starts_on = add_months(this_month, -(weeks_back // 4 + 2))
                    rule = SEMIMONTHLY
            elif code == "1099" and client.key in annual_keys:
                season = today.year if today.month >= 7 else today.year - 1
                starts_on = date(season - size.tax_years_back - rng.randint(0, 5), 1, 1)
                rule = ""
            else:
                continue
            default = work_types[code].work_type.default_estimated_hours
            hours = half_hours(float(default) * rng.uniform(0.8, 1.4)) if default else None
            regular = regulars.get((client.key, code))
            plans.append(
                RecurringPlanSpec(
                    client_key=client.key,
                    work_type=code,
                    starts_on=starts_on,
                    event_rule=rule,
                    estimated_hours=hours,
                    requested_staff=regular if rng.random() < REQUESTED_SHARE else None,
                )
            )
    return plans


def _pay_friday(client: ClientSpec, on_or_before: date) -> date:
    """The client's pay Friday on or before a day (same week parity as ``_pay_runs``)."""
    parity = int(client.key[-1]) % 2
    friday = on_or_before - timedelta(days=(on_or_before.weekday() - 4) % 7)
    if (friday.toordinal() // 7) % 2 != parity:
        friday -= timedelta(days=7)
    return friday
