"""Inbound webhooks under load: gunicorn on PostgreSQL and Redis over loopback.

Usage:
    DATABASE_URL=postgres://user:pass@host/db REDIS_URL=redis://host:6379/8 \\
        .venv/bin/python bench/webhook_bench.py [--seconds 20] [--clients 16] [--workers 8] [--runs 40] [--port N]

1. Builds ``<db>_webhook_bench`` (dropped afterwards): a TaxDome integration on the
   generic signed endpoint, a client with its TaxDome id, and a payroll team with room.
2. Acknowledgement: starts gunicorn (``--workers`` sync processes) and, from
   ``--clients`` concurrent senders (one asyncio loop, events signed beforehand),
   posts signed events for ``--seconds``; each is stored (request row, event row)
   and a drain asked for before its 200. Reports the accepted events per second
   and the p50/p99 time to the acknowledgement. (The drain goes to a queue no worker
   reads, so the processing does not compete.)
3. End to end: starts a Celery worker and posts ``--runs`` "job.created" events one
   after another; each opens a payroll engagement through the same service as the
   page, whose preparer is dispatched. Reports the time from the POST to the task
   assigned with its notification stored (p50/p95).
The last line is one JSON object (with the load average, since this machine is shared).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _processes import stop  # noqa: E402

SECRET = "bench-generic-secret"
SLUG = "bench-taxdome"


def _url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + name))


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _body(event_id: str, kind: str, job: str, due: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": kind,
            "occurred_at": "2026-11-20T10:00:00Z",
            "data": {
                "job_id": job,
                "client_id": "BENCH-1",
                "work_type": "payroll",
                "due_date": due,
            },
        }
    ).encode()


def _post(port: int, body: bytes) -> tuple[int, float]:
    from integrations.signatures import closeloop_sign

    header = closeloop_sign(secret=SECRET, body=body, timestamp=int(time.time()))
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            f"/webhooks/{SLUG}/",
            body=body,
            headers={"Content-Type": "application/json", "Closeloop-Signature": header},
        )
        response = conn.getresponse()
        response.read()
        status = response.status
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000


def _gunicorn(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "-b", f"127.0.0.1:{port}"]
        + ["--workers", str(workers), "--log-level", "warning", "--backlog", "2048"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login/")
            conn.getresponse().read()
            conn.close()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def _request(port: int, body: bytes, signed_at: int) -> bytes:
    """One signed POST as raw HTTP/1.1 bytes (the server closes the connection after it)."""
    from integrations.signatures import closeloop_sign

    header = closeloop_sign(secret=SECRET, body=body, timestamp=signed_at)
    head = (
        f"POST /webhooks/{SLUG}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Closeloop-Signature: {header}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def _send(port: int, request: bytes) -> tuple[int, float]:
    """(status, milliseconds from connecting to the whole answer read)."""
    import asyncio

    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        answer = await reader.read()  # to EOF: the sync worker closes after answering
    finally:
        writer.close()
    status = int(answer[9:12]) if answer.startswith(b"HTTP/1.") else 0
    return status, (time.perf_counter() - started) * 1000


def acknowledgement(port: int, seconds: float, clients: int, due: str) -> dict[str, float]:
    """``clients`` concurrent senders, each posting its next event as soon as the last is
    answered, for ``seconds``. The events are signed beforehand (signatures stay well
    inside the endpoint's 5-minute tolerance) and sent from one asyncio loop, so the
    sender costs the 2 cores as little as possible: the server's work is what is timed."""
    import asyncio

    signed_at = int(time.time())
    per_client = int(seconds * 2000 / clients) + 1  # more than the server can take
    requests = [
        [
            _request(port, _body(f"ack-{c}-{n}", "job.note_added", f"A-{c}-{n}", due), signed_at)
            for n in range(per_client)
        ]
        for c in range(clients)
    ]
    latencies: list[float] = []
    errors: list[int] = []

    async def client(mine: list[bytes], stop: float) -> None:
        for request in mine:
            if time.monotonic() >= stop:
                return
            status, ms = await _send(port, request)
            if status == 200:
                latencies.append(ms)
            else:
                errors.append(status)

    async def run() -> float:
        started = time.monotonic()
        stop = started + seconds
        await asyncio.gather(*(client(mine, stop) for mine in requests))
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    if errors:
        print(f"{len(errors)} refused: {sorted(set(errors))}", file=sys.stderr)
    return {
        "accepted": len(latencies),
        "refused": len(errors),
        "events_per_s": round(len(latencies) / elapsed, 1),
        "ack_p50_ms": round(statistics.median(latencies), 1),
        "ack_p99_ms": round(_quantile(latencies, 0.99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL (see the docstring)")

    base = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    name = f"{base}_webhook_bench"
    _admin(f'drop database if exists "{name}"')
    _admin(f'create database "{name}"')
    tag = f"webhook-bench-{os.getpid()}"
    os.environ.update(
        {
            "DATABASE_URL": _url(name),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "webhook-bench-not-secret-" + "x" * 40,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "CLOSELOOP_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from clients.models import ClientExternalId
    from engagements.models import Task, WorkType
    from integrations.choices import EventStatus
    from integrations.models import InboundEvent, Integration
    from notifications.models import Notification
    from staff.models import StaffSkill
    from tests.factories import ClientFactory, StaffMemberFactory

    Integration.objects.create(slug=SLUG, source="taxdome", name="Bench TaxDome", secret=SECRET)
    client = ClientFactory(name="Bench client")
    ClientExternalId.objects.create(client=client, source="taxdome", external_id="BENCH-1")
    work_type = WorkType.objects.get(code="payroll")
    for _ in range(12):
        member = StaffMemberFactory(seniority=2)
        for rule in work_type.skill_rules.all():
            StaffSkill.objects.create(staff_member=member, skill=rule.skill, level=3)
    due = (timezone.localdate() + timedelta(days=21)).isoformat()
    connections.close_all()

    port = args.port or _free_port()
    ack_queue = f"{tag}-unread"
    web_env = {**os.environ, "CELERY_TASK_DEFAULT_QUEUE": ack_queue}
    load_before = os.getloadavg()
    server = _gunicorn(port, args.workers, web_env)
    try:
        for i in range(50):  # warm every worker process
            _post(port, _body(f"warm-{i}", "job.note_added", f"W-{i}", due))
        ack = acknowledgement(port, args.seconds, args.clients, due)
    finally:
        stop(server)
    load_during = os.getloadavg()
    stored = InboundEvent.objects.count()
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).delete(ack_queue)
    # The drain those events asked for was in that queue: its ask goes with it, and
    # they are set aside, or the end-to-end drain would apply them all first.
    from django.core.cache import cache

    from integrations.inbox import KICK_KEY

    cache.delete(KICK_KEY)
    InboundEvent.objects.filter(status=EventStatus.PENDING).update(
        status=EventStatus.IGNORED, detail="Acknowledgement benchmark: not processed."
    )
    # The burst just written leaves autovacuum work (tens of thousands of new rows) that
    # would otherwise land inside the end-to-end timings: done now, before they start.
    with connections["default"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE integrations_inboundevent")
        cursor.execute("VACUUM ANALYZE integrations_inboundrequest")

    queue = f"{tag}-e2e"
    e2e_env = {
        **os.environ,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_NOTIFICATIONS_QUEUE": f"{queue}-notifications",
    }
    server = _gunicorn(port, args.workers, e2e_env)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            f"{queue},{queue}-notifications",
        ]
        + ["--concurrency=2", "--loglevel=warning", "-n", f"{tag}@%h"],
        cwd=ROOT,
        env=e2e_env,
    )
    totals: list[float] = []
    try:
        time.sleep(4)  # the worker connects and starts consuming (the warm-up waits longer)
        for index in range(args.runs + 3):
            job = f"E2E-{index}"
            sent = timezone.now()
            status, _ = _post(port, _body(f"e2e-{index}", "job.created", job, due))
            if status != 200:
                raise SystemExit(f"event {index} refused: {status}")
            # The first events wait for the worker to finish starting (slow on a loaded machine).
            wait = 180 if index < 3 else 30
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                task = (
                    Task.objects.filter(engagement__external_id=job, role="preparer")
                    .values("pk", "assigned_at")
                    .first()
                )
                queued = (
                    task
                    and task["assigned_at"]
                    and Notification.objects.filter(task_id=task["pk"], template="task_assigned")
                    .values_list("created_at", flat=True)
                    .first()
                )
                if queued:
                    break
                time.sleep(0.005)
            else:
                event = (
                    InboundEvent.objects.filter(event_id=f"e2e-{index}")
                    .values("status", "detail")
                    .first()
                )
                raise SystemExit(f"job {job} not assigned with a notification in {wait} s: {event}")
            if index >= 3:  # the first few warm the worker's processes
                totals.append((max(task["assigned_at"], queued) - sent).total_seconds() * 1000)
    finally:
        stop(worker)
        stop(server)
        redis.Redis.from_url(os.environ["REDIS_URL"]).delete(queue, f"{queue}-notifications")
        connections.close_all()
        _admin(f'drop database if exists "{name}"')

    result = {
        **ack,
        "stored_events": stored,
        "end_to_end_runs": len(totals),
        "end_to_end_p50_ms": round(statistics.median(totals), 1),
        "end_to_end_p95_ms": round(_quantile(totals, 0.95), 1),
        "end_to_end_slowest_ms": [round(t) for t in sorted(totals)[-4:]],
        "gunicorn_workers": args.workers,
        "client_threads": args.clients,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after_ack": [round(x, 2) for x in load_during],
    }
    print(
        f"{ack['accepted']} events acknowledged in {args.seconds:g} s: {ack['events_per_s']}/s, "
        f"p50 {ack['ack_p50_ms']} ms, p99 {ack['ack_p99_ms']} ms; end to end "
        f"p50 {result['end_to_end_p50_ms']} ms, p95 {result['end_to_end_p95_ms']} ms "
        f"(load {load_during[0]:.2f})"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
