"""Close-dashboard benchmark: 500 clients in one period.

Usage:  DATABASE_URL=postgres://... .venv/bin/python bench/dashboard_bench.py
        .venv/bin/python bench/dashboard_bench.py          # temporary SQLite file

Builds a fresh database (migrate), a firm of 40 staff and 500 clients each with a
month-end close for October 2026 spread over the milestones (tasks, documents,
exceptions), then, as a manager through Django's test client:
- renders the dashboard 40 times (server time per request, queries per render);
- polls it 200 times with an unchanged version stamp.
The last line is one JSON object with dashboard_p95_ms, dashboard_queries and
unchanged_poll_p95_ms (targets: p95 <= 150 ms, queries <= 10, poll <= 10 ms).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from _throwaway import Throwaway

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLIENTS = 500
STAFF = 40
RENDERS = 40
POLLS = 200


def build_firm() -> tuple[object, int]:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User

    from clients.models import Client
    from engagements.milestones import template_for
    from engagements.models import (
        Engagement,
        EngagementMilestone,
        RequiredDocument,
        ReviewException,
        Task,
        WorkType,
    )
    from staff.models import StaffMember

    rng = random.Random(7)
    password = make_password("bench-password")
    users = User.objects.bulk_create(
        User(username=f"bench{i}", first_name=f"Bench{i}", last_name="Staff", password=password)
        for i in range(STAFF + 1)
    )
    manager = StaffMember.objects.create(user=users[0], role="manager", seniority=4)
    manager.user.groups.add(*Group.objects.filter(name__in=["staff", "manager"]))
    staff = StaffMember.objects.bulk_create(
        StaffMember(user=user, role="staff", seniority=1 + i % 3, manager=manager)
        for i, user in enumerate(users[1:])
    )
    partners = staff[:4]
    clients = Client.objects.bulk_create(
        Client(
            name=f"Bench Client {i:03d}", entity_type="s_corp", relationship_partner=partners[i % 4]
        )
        for i in range(CLIENTS)
    )
    work_type = WorkType.objects.get(code="month_end_close")
    steps = template_for(work_type)
    engagements = Engagement.objects.bulk_create(
        Engagement(
            client=client,
            work_type=work_type,
            period_start=date(2026, 10, 1),
            period_end=date(2026, 10, 31),
            due_date=date(2026, 11, 12) + timedelta(days=rng.randint(0, 30)),
            milestone=steps[rng.randint(0, len(steps) - 1)].code,
            estimated_hours=Decimal("10"),
        )
        for client in clients
    )
    tz = ZoneInfo("UTC")
    tasks, docs, times, exceptions = [], [], [], []
    for index, engagement in enumerate(engagements):
        preparer, reviewer = staff[index % STAFF], staff[(index + 7) % STAFF]
        tasks += [
            Task(
                engagement=engagement,
                role="preparer",
                title="Prepare",
                assignee=preparer,
                status="accepted",
                estimated_hours=Decimal("6"),
                due_date=engagement.due_date,
            ),
            Task(
                engagement=engagement,
                role="reviewer",
                title="Review",
                assignee=reviewer,
                status="assigned",
                estimated_hours=Decimal("1.5"),
                due_date=engagement.due_date,
            ),
        ]
        docs += [
            RequiredDocument(
                engagement=engagement,
                name=name,
                received_at=None if rng.random() < 0.2 else datetime(2026, 11, 3, tzinfo=tz),
            )
            for name in work_type.document_checklist
        ]
        if engagement.milestone == "closed":
            times.append(
                EngagementMilestone(
                    engagement=engagement,
                    milestone="delivered",
                    reached_at=datetime(2026, 11, 10 + rng.randint(0, 5), tzinfo=tz),
                )
            )
        if engagement.milestone == "in_review" and rng.random() < 0.3:
            exceptions.append(
                ReviewException(
                    engagement=engagement,
                    note="Bank rec off",
                    raised_at=datetime(2026, 11, 15, tzinfo=tz),
                )
            )
    Task.objects.bulk_create(tasks, batch_size=2000)
    RequiredDocument.objects.bulk_create(docs, batch_size=2000)
    EngagementMilestone.objects.bulk_create(times)
    ReviewException.objects.bulk_create(exceptions)
    return manager.user, len(engagements)


def main() -> None:
    bench = Throwaway("dashboard_bench")
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from portal.dashboard import board_version

    try:
        call_command("migrate", verbosity=0)
        user, rows = build_firm()
        http = Client()
        http.force_login(user)
        url = reverse("portal:close-dashboard")
        params = {"period": "2026-10"}

        queries = []
        for _ in range(3):  # counted apart from the timed runs: capturing slows them
            with CaptureQueriesContext(connection) as captured:
                assert http.get(url, params).status_code == 200
            queries.append(len(captured.captured_queries))
        render_ms = []
        for _ in range(RENDERS):
            started = time.perf_counter()
            response = http.get(url, params)
            render_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        version = board_version()
        poll_ms = []
        for _ in range(POLLS):
            started = time.perf_counter()
            response = http.get(url, {**params, "since": version}, HTTP_HX_REQUEST="true")
            poll_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 204
        print(f"database: {connection.vendor}; {rows} engagements for October 2026, {STAFF} staff")
        print(
            f"dashboard render: p50 {statistics.median(render_ms):.1f} ms, p95 {statistics.quantiles(render_ms, n=20)[-1]:.1f} ms; queries {min(queries)}–{max(queries)}"
        )
        print(
            f"unchanged poll: p50 {statistics.median(poll_ms):.2f} ms, p95 {statistics.quantiles(poll_ms, n=20)[-1]:.2f} ms"
        )
        print(
            json.dumps(
                {
                    "database": connection.vendor,
                    "clients": rows,
                    "dashboard_p50_ms": round(statistics.median(render_ms), 1),
                    "dashboard_p95_ms": round(statistics.quantiles(render_ms, n=20)[-1], 1),
                    "dashboard_queries": max(queries),
                    "unchanged_poll_p50_ms": round(statistics.median(poll_ms), 2),
                    "unchanged_poll_p95_ms": round(statistics.quantiles(poll_ms, n=20)[-1], 2),
                }
            )
        )
    finally:
        bench.close()


if __name__ == "__main__":
    main()
