"""Dispatch benchmark: the pure engine alone, and full dispatches on the demo firm.

Usage:  .venv/bin/python bench/dispatch_bench.py
        DATABASE_URL=postgres://... .venv/bin/python bench/dispatch_bench.py

Without DATABASE_URL it builds the demo firm in a temporary SQLite file.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def engine_bench(candidates: int, rounds: int = 300) -> float:
    """Microseconds per decide() over ``candidates`` synthetic people."""
    from capacity.ledger import OpenWork, StaffCalendar
    from dispatch.engine import CandidateSnapshot, HeldSkill, SkillRequirement, TaskToPlace, decide

    today = date(2026, 11, 23)
    calendar = StaffCalendar(40.0, frozenset(range(5)), frozenset({date(2026, 11, 26)}))
    people = tuple(
        CandidateSnapshot(
            staff_id=i,
            name=f"P{i}",
            seniority=1 + i % 5,
            calendar=calendar,
            skills={"bookkeeping": HeldSkill(1 + i % 4)},
            open_work=tuple(
                OpenWork(i * 100 + k, today + timedelta(days=3 + 2 * k), 4.0 + k % 3)
                for k in range(8)
            ),
            client_familiarity=i % 3,
        )
        for i in range(candidates)
    )
    task = TaskToPlace(
        task_id=1,
        role="preparer",
        client_id=1,
        due_date=today + timedelta(days=14),
        estimated_hours=6.0,
        required_skills=(SkillRequirement("bookkeeping", 2),),
    )
    started = time.perf_counter()
    for _ in range(rounds):
        decide(task, people, today)
    return (time.perf_counter() - started) / rounds * 1e6


def main() -> None:
    tmp = None
    if "DATABASE_URL" not in os.environ:
        tmp = tempfile.TemporaryDirectory()
        os.environ["CLOSELOOP_VAR_DIR"] = tmp.name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dispatch.choices import Trigger
    from dispatch.services import task_dispatch
    from engagements.choices import TaskStatus
    from engagements.models import Task

    engine_15 = engine_bench(15)
    engine_200 = engine_bench(200, rounds=30)
    print(f"engine decide(): {engine_15:.0f} µs for 15 candidates, {engine_200:.0f} µs for 200")

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--today", "2026-11-22", stdout=StringIO())
    today = date(2026, 11, 23)
    waiting = list(
        Task.objects.filter(status=TaskStatus.UNASSIGNED)
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    timings: list[float] = []
    queries: list[int] = []
    for task_id in waiting:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            task_dispatch(task_id=task_id, trigger=Trigger.DEADLINE_PROXIMITY, today=today)
            timings.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured.captured_queries))
    vendor = connection.vendor
    print(f"database: {vendor}; dispatched {len(waiting)} waiting demo tasks")
    print(
        f"dispatch (snapshot + engine + apply): p50 {statistics.median(timings):.1f} ms, "
        f"p95 {statistics.quantiles(timings, n=20)[-1]:.1f} ms, max {max(timings):.1f} ms"
    )
    print(f"queries per dispatch: min {min(queries)}, max {max(queries)}")
    print(
        json.dumps(
            {
                "database": vendor,
                "tasks_dispatched": len(waiting),
                "engine_15_candidates_us": round(engine_15, 1),
                "engine_200_candidates_us": round(engine_200, 1),
                "dispatch_p50_ms": round(statistics.median(timings), 2),
                "dispatch_p95_ms": round(statistics.quantiles(timings, n=20)[-1], 2),
                "queries_per_dispatch_max": max(queries),
            }
        )
    )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
