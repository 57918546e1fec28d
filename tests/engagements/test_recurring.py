"""Recurring work generation: periods, events, bounds, the firm's calendar and time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from config.celery import app as celery_app
from engagements.choices import DeadlineBasis, EngagementSource, TriggerEvent
from engagements.models import Engagement, RecurringPlan, WorkType
from engagements.recurring import (
    Occurrence,
    recurring_due,
    recurring_generate,
    schedule_problem,
)
from engagements.tasks import RECURRING_LOCK, recurring_generate_task
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

BIWEEKLY_FRIDAYS = "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"


@pytest.fixture(autouse=True)
def _firm_in_new_york(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture(autouse=True)
def _no_stale_lock():
    cache.delete(RECURRING_LOCK)
    yield
    cache.delete(RECURRING_LOCK)


def work_type(code: str) -> WorkType:
    return WorkType.objects.get(code=code)


def make_plan(code: str, *, starts_on: date, **fields: object) -> RecurringPlan:
    return RecurringPlan.objects.create(
        client=fields.pop("client", None) or ClientFactory(),
        work_type=work_type(code),
        starts_on=starts_on,
        **fields,
    )


def recurring() -> list[Engagement]:
    return list(
        Engagement.objects.filter(source=EngagementSource.RECURRING).order_by(
            "period_end", "due_date", "pk"
        )
    )


def periods(engagements: list[Engagement]) -> list[tuple[date | None, date | None]]:
    return [(e.period_start, e.period_end) for e in engagements]


def freeze_utc(monkeypatch, moment: datetime) -> None:
    """Freeze Django's clock; timezone.localdate() then reads it in the firm's zone."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: moment)


# --- Monthly periods across month ends -----------------------------------------


def test_monthly_bookkeeping_on_the_1st_opens_the_previous_month():
    plan = make_plan("monthly_bookkeeping", starts_on=date(2026, 1, 1))

    due = recurring_due(plan, today=date(2026, 2, 1))

    # Jan 31 is a Saturday: five business days after it is Friday Feb 6.
    assert due == [
        Occurrence(
            period_key="2026-01-01/2026-01-31",
            due_date=date(2026, 2, 6),
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
        )
    ]


def test_monthly_bookkeeping_waits_until_the_month_has_ended():
    plan = make_plan("monthly_bookkeeping", starts_on=date(2026, 1, 1))

    assert recurring_due(plan, today=date(2026, 1, 31)) == []


def test_monthly_bookkeeping_across_the_year_change_skips_new_years_day():
    plan = make_plan("monthly_bookkeeping", starts_on=date(2026, 11, 1))

    due = recurring_due(plan, today=date(2027, 1, 1))

    assert [(o.period_start, o.period_end, o.due_date) for o in due] == [
        (date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 7)),
        # Dec 31 is a Thursday and Jan 1 a holiday: Jan 4-8, not Jan 1-7.
        (date(2026, 12, 1), date(2026, 12, 31), date(2027, 1, 8)),
    ]


def test_monthly_bookkeeping_february_in_a_leap_year_ends_on_the_29th():
    plan = make_plan("monthly_bookkeeping", starts_on=date(2028, 2, 1))

    on_the_29th = recurring_due(plan, today=date(2028, 2, 29))
    on_march_1st = recurring_due(plan, today=date(2028, 3, 1))

    assert on_the_29th == []
    assert [(o.period_start, o.period_end, o.due_date) for o in on_march_1st] == [
        (date(2028, 2, 1), date(2028, 2, 29), date(2028, 3, 7))
    ]


def test_generate_opens_the_engagement_with_the_plans_details(alice):
    plan = make_plan(
        "monthly_bookkeeping",
        starts_on=date(2026, 1, 1),
        estimated_hours=Decimal("9.5"),
        requested_staff=alice,
    )

    created = recurring_generate(today=date(2026, 2, 1))

    [engagement] = recurring()
    assert created == 1
    assert engagement.client_id == plan.client_id
    assert engagement.work_type == plan.work_type
    assert engagement.external_id == f"plan{plan.pk}:2026-01-01/2026-01-31"
    assert (engagement.period_start, engagement.period_end) == (date(2026, 1, 1), date(2026, 1, 31))
    assert engagement.due_date == date(2026, 2, 6)
    assert engagement.estimated_hours == Decimal("9.5")
    assert engagement.requested_staff == alice
    assert engagement.tasks.count() == 1  # bookkeeping needs no reviewer


def test_a_three_monthly_rule_covers_calendar_quarters():
    quarterly = WorkType.objects.create(
        code="quarterly_review",
        name="Quarterly review",
        trigger_event=TriggerEvent.MONTHLY_CALENDAR,
        deadline_basis=DeadlineBasis.PERIOD_END,
        period_end_offset_business_days=10,
        recurrence_rule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1",
        reviewer_required=False,
    )
    plan = RecurringPlan.objects.create(
        client=ClientFactory(), work_type=quarterly, starts_on=date(2026, 2, 15)
    )

    in_march = recurring_due(plan, today=date(2026, 3, 1))
    on_april_1st = recurring_due(plan, today=date(2026, 4, 1))

    assert in_march == []
    assert [(o.period_start, o.period_end) for o in on_april_1st] == [
        (date(2026, 1, 1), date(2026, 3, 31))
    ]


# --- Holidays -------------------------------------------------------------------


@pytest.fixture
def weekly_reconciliation() -> WorkType:
    """A weekly period rule (finer than a month): periods are the days since the last run."""
    return WorkType.objects.create(
        code="weekly_reconciliation",
        name="Weekly reconciliation",
        trigger_event=TriggerEvent.MONTHLY_CALENDAR,
        deadline_basis=DeadlineBasis.PERIOD_END,
        period_end_offset_business_days=3,
        recurrence_rule="FREQ=WEEKLY;BYDAY=WE",
        default_estimated_hours=Decimal("1"),
        reviewer_required=False,
    )


@pytest.mark.parametrize(
    ("today", "period_start", "period_end", "due"),
    [
        # Thanksgiving (Thu Nov 26): Nov 25, 27, 30 — not Nov 27.
        (date(2026, 11, 25), date(2026, 11, 18), date(2026, 11, 24), date(2026, 11, 30)),
        # Christmas (Fri Dec 25): Dec 23, 24, 28 — not Dec 25.
        (date(2026, 12, 23), date(2026, 12, 16), date(2026, 12, 22), date(2026, 12, 28)),
    ],
    ids=["thanksgiving", "christmas"],
)
def test_period_ending_before_a_holiday_is_due_on_business_days_only(
    weekly_reconciliation, today, period_start, period_end, due
):
    plan = RecurringPlan.objects.create(
        client=ClientFactory(), work_type=weekly_reconciliation, starts_on=period_start
    )

    occurrences = recurring_due(plan, today=today)

    assert [(o.period_start, o.period_end, o.due_date) for o in occurrences] == [
        (period_start, period_end, due)
    ]


@pytest.mark.parametrize(
    ("run", "due"),
    [
        # Mon Nov 30 run: Nov 27, (Thanksgiving), 25, 24.
        (date(2026, 11, 30), date(2026, 11, 24)),
        # Tue Dec 29 run: Dec 28, (Christmas), 24, 23.
        (date(2026, 12, 29), date(2026, 12, 23)),
    ],
    ids=["thanksgiving", "christmas"],
)
def test_payroll_due_three_business_days_before_the_run_skips_holidays(run, due):
    plan = make_plan(
        "payroll", starts_on=date(2026, 1, 1), event_rule=f"FREQ=MONTHLY;BYMONTHDAY={run.day}"
    )

    occurrences = recurring_due(plan, today=run - timedelta(days=10))

    assert [(o.event_date, o.due_date) for o in occurrences] == [(run, due)]


# --- The firm's time zone, DST -----------------------------------------------------


@pytest.mark.parametrize(
    ("now_utc", "opened"),
    [
        # 22:00 EST on Nov 30: December's run has not happened in New York yet.
        (datetime(2026, 12, 1, 3, 0, tzinfo=UTC), []),
        (datetime(2026, 12, 1, 4, 59, tzinfo=UTC), []),
        # 00:00 EST on Dec 1.
        (datetime(2026, 12, 1, 5, 0, tzinfo=UTC), [(date(2026, 11, 1), date(2026, 11, 30))]),
    ],
    ids=["nov30-22h-local", "nov30-23h59-local", "dec1-midnight-local"],
)
def test_the_1st_is_the_1st_in_new_york_not_utc(monkeypatch, now_utc, opened):
    make_plan("monthly_bookkeeping", starts_on=date(2026, 11, 1))
    freeze_utc(monkeypatch, now_utc)

    recurring_generate()

    assert periods(recurring()) == opened


@pytest.mark.parametrize(
    ("now_utc", "opened"),
    [
        # 23:30 EDT on Oct 31.
        (datetime(2026, 11, 1, 3, 30, tzinfo=UTC), []),
        # 00:30 EDT on Nov 1, the day the clocks go back.
        (datetime(2026, 11, 1, 4, 30, tzinfo=UTC), [(date(2026, 10, 1), date(2026, 10, 31))]),
        # 01:30 EST — the second 01:30 of the night.
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), [(date(2026, 10, 1), date(2026, 10, 31))]),
    ],
    ids=["oct31-23h30-edt", "nov1-00h30-edt", "nov1-01h30-est"],
)
def test_dst_ends_on_the_1st_of_november(monkeypatch, now_utc, opened):
    make_plan("monthly_bookkeeping", starts_on=date(2026, 10, 1))
    freeze_utc(monkeypatch, now_utc)

    recurring_generate_task()

    assert periods(recurring()) == opened


@pytest.mark.parametrize(
    ("now_utc", "opened"),
    [
        # 23:30 EST on Mar 7: the Mar 22 run is 15 days away.
        (datetime(2026, 3, 8, 4, 30, tzinfo=UTC), []),
        # 00:30 EST on Mar 8, the day the clocks go forward: 14 days away.
        (datetime(2026, 3, 8, 5, 30, tzinfo=UTC), [(date(2026, 3, 22), date(2026, 3, 18))]),
        # 03:30 EDT, after the switch.
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), [(date(2026, 3, 22), date(2026, 3, 18))]),
    ],
    ids=["mar7-23h30-est", "mar8-00h30-est", "mar8-03h30-edt"],
)
def test_dst_starts_on_march_8th(monkeypatch, now_utc, opened):
    plan = make_plan("payroll", starts_on=date(2026, 1, 1), event_rule="FREQ=MONTHLY;BYMONTHDAY=22")
    freeze_utc(monkeypatch, now_utc)

    recurring_generate_task()

    assert [(e.name, e.due_date) for e in recurring()] == [
        ("Payroll processing Mar 22, 2026", due) for _, due in opened
    ]
    assert [e.external_id for e in recurring()] == [
        f"plan{plan.pk}:{event.isoformat()}" for event, _ in opened
    ]


# --- Idempotency --------------------------------------------------------------------


def test_generate_twice_opens_each_period_once():
    make_plan("monthly_bookkeeping", starts_on=date(2025, 12, 1))
    make_plan("1099", starts_on=date(2025, 1, 1))

    first = recurring_generate(today=date(2026, 1, 1))
    second = recurring_generate(today=date(2026, 1, 1))

    assert (first, second) == (2, 0)
    assert len(recurring()) == 2


def test_work_already_entered_by_other_means_is_not_opened_again():
    plan = make_plan("monthly_bookkeeping", starts_on=date(2025, 12, 1))
    payroll = make_plan(
        "payroll", starts_on=date(2026, 1, 1), event_rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"
    )
    Engagement.objects.create(
        client=plan.client,
        work_type=plan.work_type,
        period_start=date(2025, 12, 1),
        period_end=date(2025, 12, 31),
        due_date=date(2026, 1, 8),
        source=EngagementSource.MANUAL,
    )
    first_run = recurring_generate(today=date(2026, 1, 1))
    manual_runs = {e.due_date for e in recurring() if e.work_type_id == payroll.work_type_id}
    Engagement.objects.filter(source=EngagementSource.RECURRING).update(
        source=EngagementSource.DEMO
    )

    second_run = recurring_generate(today=date(2026, 1, 1))

    assert not any(e.client_id == plan.client_id for e in recurring())
    assert manual_runs and first_run == len(manual_runs)
    assert second_run == 0


def test_task_twice_opens_each_period_once(monkeypatch):
    make_plan("monthly_bookkeeping", starts_on=date(2026, 1, 1))
    freeze_utc(monkeypatch, datetime(2026, 2, 1, 12, 0, tzinfo=UTC))

    first = recurring_generate_task()
    second = recurring_generate_task()

    assert (first, second) == (1, 0)
    assert len(recurring()) == 1


def test_a_concurrent_run_that_got_there_first_is_not_duplicated(monkeypatch):
    make_plan("monthly_bookkeeping", starts_on=date(2026, 1, 1))
    recurring_generate(today=date(2026, 2, 1))
    # The other run's engagement committed after this run's batch lookup.
    monkeypatch.setattr("engagements.recurring._existing_external_ids", lambda ids: set())

    recurring_generate(today=date(2026, 2, 1))

    assert len(recurring()) == 1


def test_task_skips_while_another_run_holds_the_lock():
    make_plan("monthly_bookkeeping", starts_on=date(2026, 1, 1))
    cache.add(RECURRING_LOCK, "1", timeout=60)

    result = recurring_generate_task()

    assert result is None
    assert recurring() == []


# --- Plan bounds and catching up ------------------------------------------------------


def test_daily_runs_over_a_year_open_each_month_of_the_plan_once():
    make_plan("monthly_bookkeeping", starts_on=date(2026, 3, 10), ends_on=date(2026, 5, 15))

    day = date(2026, 1, 1)
    while day <= date(2026, 12, 31):
        recurring_generate(today=day)
        day += timedelta(days=1)

    # Starting mid-March covers March; ending mid-May covers May; nothing else.
    assert periods(recurring()) == [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 5, 31)),
    ]


def test_nothing_opens_before_the_plan_starts():
    plan = make_plan("monthly_bookkeeping", starts_on=date(2026, 3, 10))

    assert recurring_due(plan, today=date(2026, 3, 15)) == []


def test_nothing_opens_after_the_plan_ended():
    plan = make_plan("monthly_bookkeeping", starts_on=date(2026, 1, 1), ends_on=date(2026, 5, 31))

    assert [o.period_end for o in recurring_due(plan, today=date(2026, 6, 1))] == [
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    assert recurring_due(plan, today=date(2026, 8, 1)) == []


def test_a_new_plan_does_not_back_fill_a_year():
    make_plan("monthly_bookkeeping", starts_on=date(2025, 1, 1))

    recurring_generate(today=date(2026, 3, 15))

    assert periods(recurring()) == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
    ]


def test_a_stopped_beat_catches_up_on_the_months_it_missed():
    make_plan("monthly_bookkeeping", starts_on=date(2025, 1, 1))
    recurring_generate(today=date(2026, 1, 15))

    # The beat was down from mid-January until March 2.
    recurring_generate(today=date(2026, 3, 2))

    assert [p[1] for p in periods(recurring())] == [
        date(2025, 11, 30),
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]


# --- Annual work ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "tax_year", "due"),
    [
        # Jan 25, 2026 is a Sunday: the Friday before.
        (date(2026, 1, 1), 2025, date(2026, 1, 23)),
        (date(2027, 1, 1), 2026, date(2027, 1, 25)),
    ],
)
def test_1099s_open_on_january_1st_for_the_previous_year(today, tax_year, due):
    plan = make_plan("1099", starts_on=date(2025, 1, 1))

    occurrences = recurring_due(plan, today=today)

    assert occurrences == [
        Occurrence(
            period_key=f"{tax_year}-01-01/{tax_year}-12-31",
            due_date=due,
            period_start=date(tax_year, 1, 1),
            period_end=date(tax_year, 12, 31),
        )
    ]


def test_1099s_do_not_open_again_during_the_year():
    plan = make_plan("1099", starts_on=date(2025, 1, 1))

    assert recurring_due(plan, today=date(2025, 12, 31)) == []


@pytest.mark.parametrize(
    ("code", "due"),
    [
        # Apr 15 less 21 calendar days.
        ("1040", date(2026, 3, 25)),
        # Mar 15 less 30 calendar days.
        ("1120", date(2026, 2, 13)),
    ],
)
def test_returns_recur_every_tax_year_with_their_buffer(code, due):
    plan = make_plan(code, starts_on=date(2025, 1, 1))

    on_jan_1 = recurring_due(plan, today=date(2026, 1, 1))
    in_may = recurring_due(plan, today=date(2026, 5, 10))

    assert [(o.period_start, o.period_end, o.due_date) for o in on_jan_1] == [
        (date(2025, 1, 1), date(2025, 12, 31), due)
    ]
    # Too late for a plan entered after the filing season to open last year's return.
    assert in_may == []


# --- Event-dated work -------------------------------------------------------------------


def test_payroll_opens_each_run_within_the_next_two_weeks():
    plan = make_plan("payroll", starts_on=date(2026, 3, 6), event_rule=BIWEEKLY_FRIDAYS)

    before_first = recurring_due(plan, today=date(2026, 3, 2))
    before_second = recurring_due(plan, today=date(2026, 3, 9))

    assert [(o.event_date, o.due_date) for o in before_first] == [
        (date(2026, 3, 6), date(2026, 3, 3))
    ]
    # Mar 6 has passed; Mar 20 is 11 days out (the cadence follows the plan's start).
    assert [(o.event_date, o.due_date) for o in before_second] == [
        (date(2026, 3, 20), date(2026, 3, 17))
    ]
    assert before_second[0].period_start is None


def test_payroll_runs_after_the_plan_ends_do_not_open():
    plan = make_plan(
        "payroll",
        starts_on=date(2026, 3, 6),
        ends_on=date(2026, 3, 19),
        event_rule=BIWEEKLY_FRIDAYS,
    )

    assert recurring_due(plan, today=date(2026, 3, 9)) == []


def test_advisory_sessions_fall_back_to_the_work_types_rule():
    plan = make_plan("cfo_advisory", starts_on=date(2026, 1, 1))

    occurrences = recurring_due(plan, today=date(2026, 4, 6))

    # Wed Apr 15 session, 48 hours' buffer: two business days before.
    assert [(o.event_date, o.due_date) for o in occurrences] == [
        (date(2026, 4, 15), date(2026, 4, 13))
    ]


def test_payroll_without_an_event_rule_opens_nothing_and_says_why():
    plan = make_plan("payroll", starts_on=date(2026, 1, 1))

    opened = recurring_generate(today=date(2026, 3, 2))

    assert opened == 0
    assert recurring_due(plan, today=date(2026, 3, 2)) == []
    assert "event rule" in schedule_problem(work_type=plan.work_type)


def test_work_due_per_engagement_cannot_recur():
    assert "per engagement" in schedule_problem(work_type=work_type("audit"))


# --- What is ignored ----------------------------------------------------------------------


def test_inactive_plans_are_ignored():
    make_plan("monthly_bookkeeping", starts_on=date(2026, 1, 1), active=False)

    assert recurring_generate(today=date(2026, 2, 1)) == 0
    assert recurring() == []


def test_plans_for_inactive_work_types_are_ignored():
    make_plan("monthly_bookkeeping", starts_on=date(2026, 1, 1))
    WorkType.objects.filter(code="monthly_bookkeeping").update(active=False)

    assert recurring_generate(today=date(2026, 2, 1)) == 0


# --- Query budget ---------------------------------------------------------------------------


def _plans(count: int) -> None:
    """A mix of monthly, annual and event-dated plans, all started on January 1, 2026."""
    for index in range(count):
        code = ("monthly_bookkeeping", "1099", "payroll")[index % 3]
        rule = "FREQ=MONTHLY;BYMONTHDAY=1" if code == "payroll" else ""
        make_plan(code, starts_on=date(2026, 1, 1), event_rule=rule)


def test_run_with_nothing_due_query_count_does_not_grow_with_plans(
    django_assert_max_num_queries,
):
    # Jan 15: December is before the plans, the Feb 1 payroll is 17 days away.
    today = date(2026, 1, 15)
    _plans(3)
    with django_assert_max_num_queries(2) as small:
        assert recurring_generate(today=today) == 0
    _plans(27)
    with django_assert_max_num_queries(2) as large:
        assert recurring_generate(today=today) == 0

    assert len(small) == len(large)
    assert recurring() == []


def test_hourly_rerun_query_count_does_not_grow_with_plans(django_assert_max_num_queries):
    # Feb 1: January's books and the Feb 1 payroll are owed — and opened by the first run.
    today = date(2026, 2, 1)
    _plans(3)
    assert recurring_generate(today=today) == 2
    with django_assert_max_num_queries(3) as small:
        assert recurring_generate(today=today) == 0
    _plans(27)
    assert recurring_generate(today=today) == 18
    with django_assert_max_num_queries(3) as large:
        assert recurring_generate(today=today) == 0

    assert len(small) == len(large)
    assert len(recurring()) == 20


# --- Beat and admin ---------------------------------------------------------------------------


def test_beat_runs_recurring_generation_hourly_with_an_expiry():
    entry = celery_app.conf.beat_schedule["hourly-engagements-recurring-generate"]

    assert entry["task"] == "engagements.tasks.recurring_generate_task"
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] == 3600
    assert 0 < entry["options"]["expires"] < entry["schedule"]


@pytest.fixture
def admin_web(client):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(superuser)
    return client


def test_admin_refuses_a_payroll_plan_without_an_event_rule(admin_web):
    client = ClientFactory()

    response = admin_web.post(
        reverse("admin:engagements_recurringplan_add"),
        {"client": client.pk, "work_type": work_type("payroll").pk, "starts_on": "2026-01-01"},
    )

    assert response.status_code == 200
    assert "give the plan an event rule" in response.content.decode()
    assert not RecurringPlan.objects.exists()


def test_admin_lists_and_searches_plans(admin_web, alice):
    plan = make_plan(
        "monthly_bookkeeping",
        starts_on=date(2026, 1, 1),
        client=ClientFactory(name="Harbor Bakery"),
        requested_staff=alice,
    )

    listing = admin_web.get(reverse("admin:engagements_recurringplan_changelist"), {"q": "harbor"})
    change = admin_web.get(reverse("admin:engagements_recurringplan_change", args=[plan.pk]))

    assert listing.status_code == 200
    assert "Harbor Bakery" in listing.content.decode()
    assert change.status_code == 200
