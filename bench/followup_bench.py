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
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
CHUNK = 10_000


def build(invoices: int) -> None:
    """N issued invoices, two per client, in multi-row INSERTs (``core.bulk``: plain
    tuples, no model instances), each with its state due today."""
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
    for start in range(0, invoices, CHUNK):
        count = min(CHUNK, invoices - start)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
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

    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "ACbench", "bench"
    settings.TWILIO_FROM = "+15005550006"
    core.queue.publish = lambda *a, **k: None  # type: ignore[assignment]

    batch_queries: list[int] = []
    run_batch = followup_run._run_batch

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

    followup_run._run_batch = counted  # type: ignore[assignment]
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        build(args.invoices)
        built_s = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        today = timezone.localdate()
        # A worker imports the URL conf once, on its first link; not the run's work.
        reverse("billing:tasks")

        started, cpu = time.perf_counter(), time.process_time()
        first = followup_run.followups_run(today=today)
        run_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        first_batches = list(batch_queries)
        started = time.perf_counter()
        again = followup_run.followups_run(today=today)
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
        print(f"first run's own CPU (this process, not the database's): {cpu_s:.2f} s")
        print(f"second run the same day: {again_s:.2f} s, {again.touches} touches")
        print(
            json.dumps(
                {
                    "database": connection.vendor,
                    "invoices": args.invoices,
                    "followup_100k_s": round(run_s, 2),
                    "run_cpu_s": round(cpu_s, 2),
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
        throwaway.close()


if __name__ == "__main__":
    main()
