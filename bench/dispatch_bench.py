"""Dispatch benchmark: the pure engine alone, then full dispatches on the large demo
firm (1,000 staff, ~100,000 tasks) on PostgreSQL, one at a time and 8 in parallel.

Run it at 1,000 staff (the figures issue 9 asks for), from the repository root:

    DATABASE_URL=postgres://closeloop:closeloop@127.0.0.1:5432/closeloop \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/dispatch_bench.py --per-size 60

Flush that Redis db first (``redis-cli -n 7 flushdb``) so no stale message is waiting.
The large firm is kept in ``<db>_dispatch_large`` next to the configured database:
built with ``migrate`` and ``seed_demo --size large`` when absent (two to three
minutes on a quiet 2-core machine: the seed alone is 89 s, bench/RESULTS.md; several
times that under load; ~210 MB), then reused. Every run dispatches
in a fresh copy of it (``CREATE DATABASE ... TEMPLATE``, a few seconds), dropped
afterwards, so runs are repeatable and each dispatch really commits. A run with
``--per-size 60`` takes 3-5 minutes on a quiet machine. Without REDIS_URL the sends
go to Celery's in-memory broker. ``--per-size 10 --parallel-tasks 10`` is a quick
smoke run (about a minute once the firm is built).

Printed: the engine over 15, 100 and 1,000 synthetic candidates (``decide()`` over
the candidate pool a dispatch reads, as the roster keeps it built: median and min of
repeated calls; and cold, every load profile and the pool built in the call, as after
a roster rebuild); then dispatch p50/p95 and statements per candidate-pool size (the
work type decides who holds its skills: the firm's own pools of 447 to 1,000
people, and two work types added to the copy that only 15 and 100 people can take);
then the throughput of 1 and 8 dispatcher processes on tasks for different people,
with the load average before and after (the machine may be shared). The last line is
one JSON object: ``staff_count``, ``task_count``, ``dispatch_p50_ms``,
``dispatch_p95_ms`` (over the firm's own pools), ``dispatch_by_candidates`` (15, 100,
1,000), ``queries_per_dispatch_max`` (every dispatch, BEGIN and COMMIT included),
``engine_1000_candidates_ms``, ``parallel_speedup_8``, ``load_average``, ...
Targets (issue 9): p95 <= 50 ms at 1,000 staff, <= 10 statements at every size,
engine < 2 ms for 1,000 candidates, 8 dispatchers >= 1.6x one.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 11, 23)
SEED_TODAY = "2026-11-22"
PARALLEL = 8
# Candidate pools added to the run's copy of the firm (the firm's own are 447-1,000).
SMALL_POOLS = (15, 100)
# The firm's work type they copy (its skill is held by all 1,000).
SMALL_POOL_SOURCE = "1040"


def _people(count: int):  # type: ignore[no-untyped-def]
    from capacity.ledger import OpenWork, StaffCalendar
    from dispatch.engine import CandidateSnapshot, HeldSkill

    # One calendar for everyone, as the snapshot shares it among people with the same
    # hours and days and no time off; new each call, so nothing is counted in advance.
    calendar = StaffCalendar(40.0, frozenset(range(5)), frozenset({date(2026, 11, 26)}))
    return tuple(
        CandidateSnapshot(
            staff_id=i,
            name=f"P{i}",
            seniority=1 + i % 5,
            calendar=calendar,
            skills={"bookkeeping": HeldSkill(1 + i % 4)},
            open_work=tuple(
                OpenWork(i * 100 + k, TODAY + timedelta(days=3 + 2 * k), 4.0 + k % 3)
                for k in range(8)
            ),
        )
        for i in range(count)
    )


def engine_bench(candidates: int, rounds: int = 300) -> dict[str, float]:
    """Milliseconds per decide() over ``candidates`` synthetic people (8 open tasks
    each, three in four qualified): over the pool a dispatch reads (median and min of
    ``rounds`` calls), and cold (the people rebuilt every round, so each call builds
    every load profile and the pool)."""
    from dispatch.engine import SkillRequirement, TaskToPlace, decide
    from dispatch.engine.pool import CandidatePool

    task = TaskToPlace(
        task_id=1,
        role="preparer",
        client_id=1,
        due_date=TODAY + timedelta(days=14),
        estimated_hours=6.0,
        required_skills=(SkillRequirement("bookkeeping", 2),),
        client_history={i: i % 3 for i in range(candidates)},
    )
    pool = CandidatePool.build(_people(candidates), TODAY)
    decide(task, pool, TODAY)
    kept: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        decide(task, pool, TODAY)
        kept.append(time.perf_counter() - started)
    cold: list[float] = []
    for _ in range(max(5, rounds // 20)):
        people = _people(candidates)
        started = time.perf_counter()
        decide(task, people, TODAY)
        cold.append(time.perf_counter() - started)
    return {
        "median": statistics.median(kept) * 1000,
        "min": min(kept) * 1000,
        "cold": statistics.median(cold) * 1000,
    }


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def _admin(sql: str) -> None:
    import psycopg

    url = _database_url("postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _count(url: str, sql: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute(sql).fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


def prepare_large_firm(base: str) -> str:
    """The large demo firm's database, built once and kept (``<db>_dispatch_large``)."""
    import subprocess

    name = f"{base}_dispatch_large"
    url = _database_url(name)
    if _count(url, "select count(*) from staff_staffmember") >= 1000:
        return name
    print(f"building the large demo firm in {name} (a few minutes)", flush=True)
    _admin(f'drop database if exists "{name}"')
    _admin(f'create database "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "seed_demo", "--size", "large", "--seed", "42"]
        + ["--today", SEED_TODAY],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return name


def _waiting_tasks(per_work_type: int) -> dict[str, list[int]]:
    """Waiting tasks with an estimate, by work type, earliest due first."""
    from engagements.choices import TaskStatus
    from engagements.models import Task

    by_type: dict[str, list[int]] = {}
    rows = (
        Task.objects.filter(status=TaskStatus.UNASSIGNED, estimated_hours__isnull=False)
        .order_by("due_date", "pk")
        .values_list("engagement__work_type__code", "pk")
    )
    for code, pk in rows.iterator():
        bucket = by_type.setdefault(code, [])
        if len(bucket) < per_work_type:
            bucket.append(pk)
    return by_type


def _add_small_pools(tasks_each: int) -> None:
    """Work types only 15 and 100 people can take: copies of the 1040 work type whose
    skill is held by the first 15 / 100 of its pool, and ``tasks_each`` of the 1040's
    waiting engagements (the latest due, which its own pool does not use) moved onto
    each. Writes that bypass signals: run before the roster is first built."""
    from engagements.choices import TaskStatus
    from engagements.models import Engagement, Task, WorkType, WorkTypeSkill
    from staff.models import SkillTag, StaffSkill

    source = WorkType.objects.get(code=SMALL_POOL_SOURCE)
    rule = source.skill_rules.get()
    holders = list(
        StaffSkill.objects.filter(
            skill_id=rule.skill_id, level__gte=rule.min_level, staff_member__active=True
        )
        .order_by("staff_member_id")
        .values_list("staff_member_id", "level")
    )
    latest: list[int] = []
    for engagement_id in (
        Task.objects.filter(
            status=TaskStatus.UNASSIGNED,
            estimated_hours__isnull=False,
            engagement__work_type=source,
        )
        .order_by("-due_date", "-pk")
        .values_list("engagement_id", flat=True)
    ):
        if engagement_id not in latest:
            latest.append(engagement_id)
        if len(latest) == tasks_each * len(SMALL_POOLS):
            break
    for number, size in enumerate(SMALL_POOLS):
        tag = SkillTag.objects.create(
            slug=f"bench-pool-{size}", name=f"Bench pool of {size}", category=rule.skill.category
        )
        copy = WorkType.objects.get(pk=source.pk)
        copy.pk = None
        copy._state.adding = True
        copy.code, copy.name = f"bench_pool_{size}", f"{source.name} (bench pool of {size})"
        copy.save()
        WorkTypeSkill.objects.create(work_type=copy, skill=tag, min_level=rule.min_level)
        StaffSkill.objects.bulk_create(
            StaffSkill(staff_member_id=pk, skill=tag, level=level) for pk, level in holders[:size]
        )
        moved = latest[number * tasks_each : (number + 1) * tasks_each]
        Engagement.objects.filter(pk__in=moved).update(work_type=copy)


def _pool_sizes() -> dict[str, int]:
    from django.db.models import Count

    from engagements.models import WorkType
    from staff.models import StaffSkill

    sizes: dict[str, int] = {}
    for work_type in WorkType.objects.prefetch_related("skill_rules"):
        skills = [rule.skill_id for rule in work_type.skill_rules.all()]
        sizes[work_type.code] = (
            StaffSkill.objects.filter(skill_id__in=skills, staff_member__active=True).aggregate(
                n=Count("staff_member", distinct=True)
            )["n"]
            or 0
        )
    return sizes


def _dispatch_all(task_ids: list[int]) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dispatch.choices import Trigger
    from dispatch.services import task_dispatch

    timings: list[float] = []
    statements: list[int] = []
    for task_id in task_ids:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            task_dispatch(task_id=task_id, trigger=Trigger.DEADLINE_PROXIMITY, today=TODAY)
            timings.append((time.perf_counter() - started) * 1000)
        statements.append(len(captured.captured_queries))
    return timings, statements


def _worker(task_ids: list[int], results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from django.db import connection

    from dispatch.choices import Trigger
    from dispatch.services import task_dispatch

    connection.close()  # never share the parent's connection
    started = time.perf_counter()
    for task_id in task_ids:
        task_dispatch(task_id=task_id, trigger=Trigger.DEADLINE_PROXIMITY, today=TODAY)
    results.put(time.perf_counter() - started)
    connection.close()


def _throughput(chunks: list[list[int]]) -> float:
    """Dispatches per second with one process per chunk, all started together."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(chunk, results)) for chunk in chunks]
    started = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    wall = time.perf_counter() - started
    if any(p.exitcode for p in processes):
        raise SystemExit("a dispatcher process failed")
    return sum(len(c) for c in chunks) / wall


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--per-size",
        type=int,
        default=60,
        help="dispatches per candidate-pool size, the first 3 of each warming up (default 60)",
    )
    parser.add_argument(
        "--parallel-tasks",
        type=int,
        default=30,
        help="tasks per dispatcher in the throughput runs (1 x 2N, then 8 x N; default 30)",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL database (see the docstring)")

    load_before = _load()
    engine = {}
    for size in (15, 100, 1000):
        engine[size] = figures = engine_bench(size, 300)
        print(
            f"engine decide(), {size} candidates: {figures['median']:.2f} ms median, "
            f"{figures['min']:.2f} ms min over the kept pool; cold {figures['cold']:.2f} ms "
            f"(load {_load()})"
        )

    base = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    large = prepare_large_firm(base)
    copy = f"{base}_dispatch_run"
    _admin(f'drop database if exists "{copy}"')
    _admin(f'create database "{copy}" template "{large}"')
    os.environ["DATABASE_URL"] = _database_url(copy)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # As in production: DEBUG off (cached templates, no query log).
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "dispatch-bench-" + "x" * 50)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)  # the kept firm may predate a migration

    from engagements.models import Task
    from staff.models import StaffMember

    try:
        staff_count = StaffMember.objects.filter(active=True).count()
        task_count = Task.objects.count()
        _add_small_pools(args.per_size)
        pools = _pool_sizes()
        waiting = _waiting_tasks(args.per_size + 60)
        print(f"firm: {staff_count} active staff, {task_count} tasks; database {copy}")

        all_timings: list[float] = []  # the firm's own pools
        all_statements: list[int] = []  # every pool
        by_pool: dict[str, dict[str, float]] = {}
        by_candidates: dict[int, list[float]] = {}
        for code, size in sorted(pools.items(), key=lambda item: item[1]):
            ids = waiting.get(code, [])[: args.per_size]
            if len(ids) < 5:
                continue
            _dispatch_all(ids[:3])  # warm the connection, caches and code paths
            timings, statements = _dispatch_all(ids[3:])
            if not code.startswith("bench_pool_"):
                all_timings += timings
            all_statements += statements
            by_candidates.setdefault(size, []).extend(timings)
            by_pool[code] = {
                "candidates": size,
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(_p95(timings), 1),
                "statements_max": max(statements),
            }
            print(
                f"dispatch, {code} ({size} candidates, {len(timings)} tasks): "
                f"p50 {statistics.median(timings):.1f} ms, p95 {_p95(timings):.1f} ms, "
                f"statements {min(statements)}-{max(statements)} (load {_load()})"
            )

        # Throughput: 1 process, then 8, each on its own work type and clients, so
        # they place work with different people.
        each = args.parallel_tasks
        rest = [
            pk
            for code in sorted(waiting)
            if not code.startswith("bench_pool_")
            for pk in waiting[code][args.per_size :]
        ]
        one = _throughput([rest[: 2 * each]])
        chunks = [rest[2 * each + i :: PARALLEL] for i in range(PARALLEL)]
        eight = _throughput([c[:each] for c in chunks])
        speedup = eight / one
        print(
            f"throughput: 1 dispatcher {one:.1f}/s, {PARALLEL} dispatchers {eight:.1f}/s "
            f"({speedup:.2f}x, load {_load()})"
        )
        sizes = {
            str(size): {
                "dispatches": len(timings),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(_p95(timings), 2),
            }
            for size, timings in sorted(by_candidates.items())
            if size in (*SMALL_POOLS, max(by_candidates))
        }
        for size, figures in sizes.items():
            print(
                f"dispatch at {size} candidates: p50 {figures['p50_ms']} ms, "
                f"p95 {figures['p95_ms']} ms ({figures['dispatches']} dispatches)"
            )
        result = {
            "database": "postgresql",
            "staff_count": staff_count,
            "task_count": task_count,
            "dispatches": len(all_timings),
            "dispatch_p50_ms": round(statistics.median(all_timings), 2),
            "dispatch_p95_ms": round(_p95(all_timings), 2),
            "dispatch_by_candidates": sizes,
            "queries_per_dispatch_max": max(all_statements),
            "engine_15_candidates_ms": round(engine[15]["median"], 3),
            "engine_100_candidates_ms": round(engine[100]["median"], 3),
            "engine_1000_candidates_ms": round(engine[1000]["median"], 3),
            "engine_1000_candidates_min_ms": round(engine[1000]["min"], 3),
            "engine_1000_candidates_cold_ms": round(engine[1000]["cold"], 3),
            "parallel_speedup_8": round(speedup, 2),
            "load_average": [load_before, _load()],
            "by_pool": by_pool,
        }
    finally:
        connections.close_all()
        _admin(f'drop database if exists "{copy}"')
    print(json.dumps(result))


if __name__ == "__main__":
    main()
