"""Follow-up benchmark: the daily run over 100,000 open invoices.

Usage:  DATABASE_URL=postgres://... REDIS_URL=redis://.../8 .venv/bin/python bench/followup_bench.py
        DATABASE_URL=postgres://... REDIS_URL=... .venv/bin/python bench/followup_bench.py --invoices 2000
        .venv/bin/python bench/followup_bench.py --invoices 2000   # SQLite: in this process

Builds a fresh database (migrate) with N issued invoices (default 100,000), two per
client, each with its follow-up state due today and spread over the standard
sequence's three touches (day 1, 15 + SMS, 30 + hold and call task), then times the
day's run as production runs it: the beat job (``followups_fan_out``) queues a task per
client batch and a real Celery worker (``--concurrency`` processes, prefork) takes them;
the time runs from the fan-out to the last batch committed (no state due any more).
Every touch, message, outbox row, hold and task is written; the outbox's send tasks
are queued to a queue nobody reads (sending is not the run's work). A second run the
same day must queue batches that send nothing. On PostgreSQL the statements per batch
are then counted in this process over another ``--count-invoices`` invoices
(``execute_wrapper``: must be the same for every batch, whatever N). Without
PostgreSQL and Redis (SQLite), the run is timed in this process, batch after batch.

The last line is one JSON object with ``followup_100k_s`` (the run's seconds, for the N
given), ``queries_per_batch_max`` (target: constant, whatever N) and the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _processes import stop  # noqa: E402

CHUNK = 10_000


def build(invoices: int, first: int = 0) -> None:
    """N issued invoices, two per client, in multi-row INSERTs (``core.bulk``: plain
    tuples, no model instances), each with its state due today; numbered from ``first``."""
    from django.utils import timezone

    from billing.choices import InvoiceOrigin, InvoiceStatus
    from billing.models import FollowUpSequence, FollowUpState, Invoice
    from clients.models import Client
    from core.bulk import insert_values

    today = timezone.localdate()
    now = timezone.now()
    sequence = FollowUpSequence.objects.get(kind="standard", is_default=True)
    offsets = [(1, 0), (15, 1), (30, 2)]  # (days past due, touches already sent)
    sent = dict(offsets)
    for start in range(first, first + invoices, CHUNK):
        count = min(CHUNK, first + invoices - start)
        client_ids = [
            pk
            for (pk,) in insert_values(
                Client,
                ["name", "entity_type", "email", "mobile", "contact_name"],
                [
                    (
                        f"Bench Client {start // 2 + i:06d}",
                        "s_corp",
                        f"ap{start // 2 + i}@client.example",
                        "+12025550143" if i % 3 == 0 else "",
                        "Dana",
                    )
                    for i in range((count + 1) // 2)
                ],
                returning=["id"],
            )
        ]
        made = insert_values(
            Invoice,
            ["number", "client_id", "origin", "status", "issued_on", "due_on", "total", "sent_at"],
            [
                (
                    f"B-{start + i + 1:07d}",
                    client_ids[i // 2],
                    InvoiceOrigin.MANUAL.value,
                    InvoiceStatus.ISSUED.value,
                    today - timedelta(days=offsets[(start + i) % 3][0] + 30),
                    today - timedelta(days=offsets[(start + i) % 3][0]),
                    Decimal("1000.00"),
                    now,
                )
                for i in range(count)
            ],
            returning=["id", "client_id", "due_on"],
        )
        insert_values(
            FollowUpState,
            [
                "invoice_id",
                "client_id",
                "sequence_id",
                "cycle",
                "anchor_on",
                "last_position",
                "next_touch_on",
            ],
            [
                (pk, client_id, sequence.pk, 1, due_on, sent[(today - due_on).days], today)
                for pk, client_id, due_on in made
            ],
        )


def _worker(queue: str, concurrency: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue]
        + [f"--concurrency={concurrency}", "--loglevel=warning", "-n", f"{queue}@%h"]
        + ["--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=ROOT,
        env=env,
    )


def _wait_until(done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not done in {seconds:.0f} s")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--count-invoices", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    from _throwaway import Throwaway

    throwaway = Throwaway("followup_bench")
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    import core.queue
    from billing import followup_run
    from billing.models import FollowUpState, FollowUpTouch

    twilio = {"TWILIO_ACCOUNT_SID": "ACbench", "TWILIO_AUTH_TOKEN": "bench"}
    twilio["TWILIO_FROM"] = "+15005550006"
    for name, value in twilio.items():
        setattr(settings, name, value)
    on_worker = connection.vendor == "postgresql" and bool(os.environ.get("REDIS_URL"))
    tag = f"followup-bench-{os.getpid()}"
    # The batches on a queue of the bench's own; the outbox's sends where nobody reads.
    settings.CELERY_TASK_DEFAULT_QUEUE = tag
    settings.CELERY_NOTIFICATIONS_QUEUE = f"{tag}-unread"
    from config.celery import app

    app.conf.task_default_queue = tag

    batch_queries: list[int] = []
    run_batch = followup_run._run_batch

    def counted(*a: object, **k: object) -> None:
        seen = [0]

        def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            seen[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            run_batch(*a, **k)  # type: ignore[arg-type]
        batch_queries.append(seen[0])

    worker = None
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        build(args.invoices)
        built_s = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        today = timezone.localdate()
        sending = timezone.make_aware(datetime.combine(today, dt_time(23, 0)))
        # A worker imports the URL conf once, on its first link; not the run's work.
        reverse("billing:tasks")
        due = FollowUpState.objects.filter(next_touch_on__lte=today)

        if on_worker:
            url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + throwaway.bench_db)
            env = {**os.environ, **twilio, "DATABASE_URL": urlunsplit(url)}
            env |= {"CELERY_TASK_DEFAULT_QUEUE": tag, "CELERY_NOTIFICATIONS_QUEUE": f"{tag}-unread"}
            worker = _worker(tag, args.concurrency, env)
            _wait_until(
                lambda: bool(app.control.ping([f"{tag}@{socket.gethostname()}"])), 120, "worker"
            )
            started, cpu = time.perf_counter(), time.process_time()
            batches = followup_run.followups_fan_out(now=sending)
            _wait_until(lambda: not due.exists(), 600, "the run")
            run_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
            touches = FollowUpTouch.objects.count()
            started = time.perf_counter()
            again = followup_run.followups_fan_out(now=sending)
            again_s = time.perf_counter() - started
            assert again == 0, "a second run the same day queued batches"
        else:
            core.queue.publish = lambda *a, **k: None  # type: ignore[assignment]
            started, cpu = time.perf_counter(), time.process_time()
            first = followup_run.followups_run(today=today)
            run_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
            batches, touches = first.batches, first.touches
            started = time.perf_counter()
            again_s = 0.0
            assert followup_run.followups_run(today=today).touches == 0
            again_s = time.perf_counter() - started
        assert touches == args.invoices, (touches, args.invoices)
        print(
            f"database: {connection.vendor}; {args.invoices} open invoices built in {built_s:.1f} s"
        )
        where = f"a worker of {args.concurrency} processes" if on_worker else "this process"
        print(f"run: {run_s:.2f} s on {where}, {touches} touches, {batches} batches")
        print(f"the fan-out's own CPU (this process): {cpu_s:.2f} s")
        print(f"second run the same day: {again_s:.2f} s, nothing sent")

        # Statements per batch, in this process, over more invoices due today.
        core.queue.publish = lambda *a, **k: None  # type: ignore[assignment]
        followup_run._run_batch = counted  # type: ignore[assignment]
        build(args.count_invoices, first=args.invoices)
        counted_run = followup_run.followups_run(today=today)
        print(
            f"statements per batch over {args.count_invoices} more invoices: "
            f"{min(batch_queries, default=0)}–{max(batch_queries, default=0)} "
            f"({counted_run.batches} batches)"
        )
        print(
            json.dumps(
                {
                    "database": connection.vendor,
                    "invoices": args.invoices,
                    "followup_100k_s": round(run_s, 2),
                    "on_worker": on_worker,
                    "worker_processes": args.concurrency if on_worker else 0,
                    "batches": batches,
                    "touches": touches,
                    "queries_per_batch_max": max(batch_queries, default=0),
                    "queries_per_batch_min": min(batch_queries, default=0),
                    "second_run_s": round(again_s, 2),
                    "load_average": os.getloadavg()[0],
                }
            )
        )
    finally:
        if worker is not None:
            stop(worker)
            import redis

            redis.Redis.from_url(os.environ["REDIS_URL"]).delete(tag, f"{tag}-unread")
        throwaway.close()


if __name__ == "__main__":
    main()
