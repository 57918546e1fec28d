"""Capacity heatmap benchmark: 100 staff x the next 8 weeks (and the 14-day view).

Usage:  DATABASE_URL=postgres://... .venv/bin/python bench/heatmap_bench.py
        .venv/bin/python bench/heatmap_bench.py          # temporary SQLite file
        STAFF=1000 .venv/bin/python bench/heatmap_bench.py

Builds a fresh database (migrate) and a firm of STAFF people (default 100) under
five managers and a partner, each with 20 open tasks (accepted, in progress,
awaiting acceptance) due over the next ten weeks, working patterns by day for
every seventh person (four tens) and a busy season for every eleventh, a third of them on engagements
still waiting for client documents, time off for every fifth person, requested
staffers awaiting a manager's confirmation, and 200 unassigned tasks. Then, as the
partner (the whole firm) through Django's test client with DEBUG off:
- renders the heatmap (weeks) and the day view RENDERS times each (server time
  per request; queries per render counted apart);
- renders the deadline distribution and the engine metrics 10 times each.
The last line is one JSON object with heatmap_p50_ms, heatmap_p95_ms,
heatmap_queries, days_p95_ms, deadlines_p95_ms, metrics_p95_ms and the load
average (target: heatmap queries <= 10 for 100 staff).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from _throwaway import Throwaway

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STAFF = int(os.environ.get("STAFF", "100"))
TASKS_PER_PERSON = 20
RENDERS = int(os.environ.get("RENDERS", "30"))
TODAY = date(2026, 12, 7)


def build_firm() -> object:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User

    from clients.models import Client
    from dispatch.models import DispatchDecision
    from engagements.models import Engagement, RequiredDocument, Task, WorkType
    from staff.models import SkillTag, StaffMember, StaffSkill, TimeOff, WorkingPattern
    from staff.services import staff_member_sync_role

    rng = random.Random(12)
    password = make_password("bench-password")
    users = User.objects.bulk_create(
        User(username=f"bench{i}", first_name="Bench", last_name=f"{i:04d}", password=password)
        for i in range(STAFF)
    )
    partner = StaffMember.objects.create(user=users[0], role="partner", seniority=6)
    staff_member_sync_role(staff_member=partner)
    managers = StaffMember.objects.bulk_create(
        StaffMember(user=u, role="manager", seniority=4, manager=partner) for u in users[1:6]
    )
    people = StaffMember.objects.bulk_create(
        StaffMember(
            user=u,
            role="staff",
            seniority=1 + i % 3,
            manager=managers[i % 5],
            weekly_capacity_hours=Decimal(rng.choice(["40", "40", "32", "24"])),
        )
        for i, u in enumerate(users[6:])
    )
    everyone = [partner, *managers, *people]
    skills = list(SkillTag.objects.filter(category="work_type"))
    StaffSkill.objects.bulk_create(
        StaffSkill(staff_member=m, skill=s) for m in everyone for s in rng.sample(skills, 2)
    )
    ten = Decimal("10")
    WorkingPattern.objects.bulk_create(
        [
            *(
                WorkingPattern(
                    staff_member=m,
                    name="Four tens",
                    monday_hours=ten,
                    tuesday_hours=ten,
                    wednesday_hours=ten,
                    thursday_hours=ten,
                )
                for m in everyone[::7]
            ),
            *(
                WorkingPattern(
                    staff_member=m,
                    name="Busy season",
                    starts_on=TODAY + timedelta(days=21),
                    ends_on=TODAY + timedelta(days=48),
                    monday_hours=ten,
                    tuesday_hours=ten,
                    wednesday_hours=ten,
                    thursday_hours=ten,
                    friday_hours=ten,
                    saturday_hours=Decimal("5"),
                )
                for m in everyone[::11]
            ),
        ]
    )
    TimeOff.objects.bulk_create(
        TimeOff(
            staff_member=m,
            start_date=TODAY + timedelta(days=rng.randint(0, 40)),
            end_date=TODAY + timedelta(days=rng.randint(41, 45)),
        )
        for m in everyone[::5]
    )
    work_types = list(WorkType.objects.all())
    clients = Client.objects.bulk_create(
        Client(name=f"Bench Client {i:04d}", entity_type="s_corp") for i in range(STAFF * 4)
    )
    engagements = Engagement.objects.bulk_create(
        Engagement(
            client=clients[i % len(clients)],
            work_type=work_types[i % len(work_types)],
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            due_date=TODAY + timedelta(days=rng.randint(-3, 70)),
            estimated_hours=Decimal("8"),
        )
        for i in range(STAFF * 10)
    )
    RequiredDocument.objects.bulk_create(
        RequiredDocument(engagement=e, name="Bank statements") for e in engagements[::3]
    )
    statuses = ["accepted", "accepted", "in_progress", "assigned"]
    tasks = [
        Task(
            engagement=engagements[(i * TASKS_PER_PERSON + k) % len(engagements)],
            title=f"Task {i}-{k}",
            assignee=member,
            status=statuses[k % 4],
            estimated_hours=Decimal(rng.choice(["1.5", "3", "4", "6", "8"])),
            due_date=TODAY + timedelta(days=rng.randint(-3, 70)),
        )
        for i, member in enumerate(everyone)
        for k in range(TASKS_PER_PERSON)
    ]
    open_tasks = [
        Task(
            engagement=engagements[k % len(engagements)],
            title=f"Open {k}",
            status="unassigned",
            estimated_hours=Decimal("4") if k % 7 else None,
            due_date=TODAY + timedelta(days=rng.randint(-5, 60)),
        )
        for k in range(200)
    ]
    Task.objects.bulk_create(tasks + open_tasks, batch_size=2000)
    DispatchDecision.objects.bulk_create(
        DispatchDecision(
            task=task,
            trigger="engagement_created",
            outcome="needs_confirmation",
            assignee=everyone[k % len(everyone)],
        )
        for k, task in enumerate(open_tasks[::10])
    )
    return partner.user


def _timed(http: object, url: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = http.get(url)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    bench = Throwaway("heatmap_bench")
    from unittest import mock

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    # The firm is built around a fixed Monday; the pages read "today" from the clock.
    clock = mock.patch("django.utils.timezone.localdate", return_value=TODAY)
    try:
        call_command("migrate", verbosity=0)
        user = build_firm()
        clock.start()
        http = Client()
        http.force_login(user)
        weeks, days = reverse("portal:capacity"), reverse("portal:capacity-days")
        deadlines, metrics = (
            reverse("portal:capacity-deadlines"),
            reverse("portal:capacity-metrics"),
        )
        http.get(weeks)  # warm: templates, the policy cache, the session
        queries = []
        for url in (weeks, days):
            with CaptureQueriesContext(connection) as captured:
                assert http.get(url).status_code == 200
            queries.append(len(captured.captured_queries))
        heatmap_ms = _timed(http, weeks, RENDERS)
        days_ms = _timed(http, days, RENDERS)
        deadline_ms = _timed(http, deadlines, 10)
        metric_ms = _timed(http, metrics, 10)
        load = os.getloadavg()
        rows = STAFF
        print(f"database: {connection.vendor}; {rows} staff, {rows * TASKS_PER_PERSON} open tasks")
        print(
            f"heatmap (8 weeks): p50 {statistics.median(heatmap_ms):.1f} ms, "
            f"p95 {_p95(heatmap_ms):.1f} ms; queries {queries[0]}"
        )
        print(
            f"day view (14 days): p50 {statistics.median(days_ms):.1f} ms, "
            f"p95 {_p95(days_ms):.1f} ms; queries {queries[1]}"
        )
        print(f"deadline distribution: p95 {_p95(deadline_ms):.1f} ms")
        print(f"engine metrics: p95 {_p95(metric_ms):.1f} ms")
        print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        print(
            json.dumps(
                {
                    "database": connection.vendor,
                    "staff": rows,
                    "heatmap_p50_ms": round(statistics.median(heatmap_ms), 1),
                    "heatmap_p95_ms": round(_p95(heatmap_ms), 1),
                    "heatmap_queries": queries[0],
                    "days_p50_ms": round(statistics.median(days_ms), 1),
                    "days_p95_ms": round(_p95(days_ms), 1),
                    "days_queries": queries[1],
                    "deadlines_p95_ms": round(_p95(deadline_ms), 1),
                    "metrics_p95_ms": round(_p95(metric_ms), 1),
                    "load_average_1m": round(load[0], 2),
                }
            )
        )
    finally:
        clock.stop()
        bench.close()


if __name__ == "__main__":
    main()
