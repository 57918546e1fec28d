"""Follow-up benchmark: the daily run over 100,000 open invoices.

Usage:  DATABASE_URL=postgres://... .venv/bin/python bench/followup_bench.py
        DATABASE_URL=postgres://... .venv/bin/python bench/followup_bench.py --invoices 2000
        .venv/bin/python bench/followup_bench.py --invoices 2000   # temporary SQLite file

Builds a fresh database (migrate) with N issued invoices (default 100,000), two per
client, each with its follow-up state due today and spread over the standard
sequence's three touches (day 1, 15 + SMS, 30 + hold and call task), then times one
``followups_run`` (every invoice gets its touch: the worst day), and a second run the
same day (it must send nothing). Publishing to the broker is stubbed (it happens after
commit and is not the run's work); the outbox rows, touches, messages, holds and tasks
are all written. Queries are counted per client batch (``execute_wrapper``, cheap).

The last line is one JSON object with ``followup_100k_s`` (the first run's seconds, for
the N given), ``queries_per_batch_max`` (target: constant, whatever N) and the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHUNK = 5000


def build(invoices: int) -> None:
    from django.utils import timezone

    from billing.choices import InvoiceOrigin, InvoiceStatus
    from billing.models import FollowUpSequence, FollowUpState, Invoice
    from clients.models import Client

    today = timezone.localdate()
    sequence = FollowUpSequence.objects.get(kind="standard", is_default=True)
    offsets = [(1, 0), (15, 1), (30, 2)]  # (days past due, touches already sent)
    for start in range(0, invoices, CHUNK):
        count = min(CHUNK, invoices - start)
        clients = Client.objects.bulk_create(
            Client(
                name=f"Bench Client {start // 2 + i:06d}",
                entity_type="s_corp",
                email=f"ap{start // 2 + i}@client.example",
                mobile="+12025550143" if i % 3 == 0 else "",
                contact_name="Dana",
            )
            for i in range((count + 1) // 2)
        )
        rows = []
        for i in range(count):
            n = start + i
            days, _ = offsets[n % 3]
            due = today - timedelta(days=days)
            rows.append(
                Invoice(
                    number=f"B-{n + 1:07d}",
                    client=clients[i // 2],
                    origin=InvoiceOrigin.MANUAL,
                    status=InvoiceStatus.ISSUED,
                    issued_on=due - timedelta(days=30),
                    due_on=due,
                    total=Decimal("1000.00"),
                    sent_at=timezone.now(),
                )
            )
        made = Invoice.objects.bulk_create(rows)
        FollowUpState.objects.bulk_create(
            FollowUpState(
                invoice=invoice,
                client_id=invoice.client_id,
                sequence=sequence,
                cycle=1,
                anchor_on=invoice.due_on,
                last_position=offsets[(start + i) % 3][1],
                next_touch_on=today,
            )
            for i, invoice in enumerate(made)
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    args = parser.parse_args()
    tmp = None
    if "DATABASE_URL" not in os.environ:
        tmp = tempfile.TemporaryDirectory()
        os.environ["CLOSELOOP_VAR_DIR"] = tmp.name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    import core.queue
    from billing import followups

    settings.DEBUG = False
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "ACbench", "bench"
    settings.TWILIO_FROM = "+15005550006"
    core.queue.publish = lambda *a, **k: None  # type: ignore[assignment]

    batch_queries: list[int] = []
    run_batch = followups._run_batch

    def counted(*a: object, **k: object) -> None:
        seen = [0]

        def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            seen[0] += 1
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                took = time.perf_counter() - began
                if took > 1.0:  # a slow statement is worth naming
                    print(f"slow query ({took:.1f} s): {sql[:300]}", file=sys.stderr)

        with connection.execute_wrapper(count):
            run_batch(*a, **k)  # type: ignore[arg-type]
        batch_queries.append(seen[0])

    followups._run_batch = counted  # type: ignore[assignment]

    if connection.vendor == "postgresql":
        name = connection.settings_dict["NAME"]
        bench_db = f"{name}_followup_bench"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
            cursor.execute(f'CREATE DATABASE "{bench_db}"')
        connection.close()
        connection.settings_dict["NAME"] = bench_db
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        build(args.invoices)
        built_s = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        today = timezone.localdate()

        started = time.perf_counter()
        first = followups.followups_run(today=today)
        run_s = time.perf_counter() - started
        first_batches = list(batch_queries)
        started = time.perf_counter()
        again = followups.followups_run(today=today)
        again_s = time.perf_counter() - started
        assert again.touches == 0, "a second run the same day sent touches"
        assert first.touches == args.invoices, (first.touches, args.invoices)

        print(
            f"database: {connection.vendor}; {args.invoices} open invoices built in {built_s:.1f} s"
        )
        print(
            f"first run: {run_s:.2f} s, {first.touches} touches, {first.messages} messages, "
            f"{first.sms} texts, {first.holds} holds, {first.call_tasks} call tasks, "
            f"{first.batches} batches; queries per batch "
            f"{min(first_batches, default=0)}–{max(first_batches, default=0)}"
        )
        print(f"second run the same day: {again_s:.2f} s, {again.touches} touches")
        print(
            json.dumps(
                {
                    "database": connection.vendor,
                    "invoices": args.invoices,
                    "followup_100k_s": round(run_s, 2),
                    "queries_per_batch_max": max(first_batches, default=0),
                    "queries_per_batch_min": min(first_batches, default=0),
                    "batches": first.batches,
                    "touches": first.touches,
                    "messages": first.messages,
                    "second_run_s": round(again_s, 2),
                    "load_average": os.getloadavg()[0],
                }
            )
        )
    finally:
        if connection.vendor == "postgresql":
            connection.close()
            connection.settings_dict["NAME"] = name
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
