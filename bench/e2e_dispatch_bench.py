"""End to end with a real worker: engagement created -> task assigned -> assignment
email sent, on PostgreSQL and Redis.

Usage:
    DATABASE_URL=postgres://user:pass@host/db REDIS_URL=redis://host:6379/8 \\
        .venv/bin/python bench/e2e_dispatch_bench.py [--runs 50]

Builds the demo firm in ``<db>_e2e_bench`` (dropped afterwards), starts one Celery
worker consuming the dispatch and notification queues (prefork, 2 processes), then
opens ``--runs`` payroll engagements one after another through ``engagement_create``, as
the new-engagement page does, and reads from the database when the preparer task
was assigned and when its assignment email was sent (Django's file email backend
in a temporary directory, so a real message is written). The last line is one
JSON object. Target (issue 9): email sent p95 <= 150 ms. Flush the Redis db first
(``redis-cli -n 8 flushdb``): countdown messages left by an earlier run can fill the
worker's prefetch. Building the 15-staff demo firm takes a few seconds; 50 runs about
a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + name))


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=50, help="engagements measured, after 3 warm-up ones"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get(
        "REDIS_URL"
    ):
        raise SystemExit("set DATABASE_URL (PostgreSQL) and REDIS_URL (see the docstring)")

    base = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    name = f"{base}_e2e_bench"
    _admin(f'drop database if exists "{name}"')
    _admin(f'create database "{name}"')
    mail_dir = tempfile.mkdtemp(prefix="closeloop-e2e-mail-")
    os.environ.update(
        {
            "DATABASE_URL": _url(name),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "DJANGO_EMAIL_FILE_PATH": mail_dir,
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115

    from clients.models import Client
    from engagements.models import Task, WorkType
    from engagements.services import engagement_create
    from notifications.choices import NotificationStatus, NotificationTemplate
    from notifications.models import Notification
    from staff.models import StaffSkill
    from tests.factories import StaffMemberFactory

    # Payroll changes dispatch their preparer as the engagement opens (2 h each). The
    # demo firm's payroll people are busy, so a team with room joins it: every run
    # is an assignment, not an escalation.
    work_type = WorkType.objects.get(code="payroll")
    for _ in range(12):
        member = StaffMemberFactory(seniority=2)
        for rule in work_type.skill_rules.all():
            StaffSkill.objects.create(staff_member=member, skill=rule.skill, level=3)
    clients = list(
        Client.objects.filter(
            preferred_staff=None, min_seniority=None, account_hold=False
        ).order_by("pk")[: args.runs]
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "celery,notifications"]
        + ["--concurrency=2", "--loglevel=warning", "-n", f"e2e-bench-{os.getpid()}@%h"],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    assigned: list[float] = []
    sent: list[float] = []
    try:
        time.sleep(4)  # the worker connects and starts consuming
        for index in range(args.runs + 3):
            client = clients[index % len(clients)]
            started = timezone.now()
            engagement = engagement_create(
                client=client,
                work_type=work_type,
                due_date=timezone.localdate() + timedelta(days=21),
                name=f"E2E bench {index}",
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                task = Task.objects.filter(engagement=engagement, role="preparer").first()
                sent_at = (
                    Notification.objects.filter(
                        task_id=task.pk,
                        template=NotificationTemplate.TASK_ASSIGNED,
                        status=NotificationStatus.SENT,
                    )
                    .values_list("sent_at", flat=True)
                    .first()
                    if task
                    else None
                )
                if task and task.assigned_at and sent_at:
                    break
                time.sleep(0.005)
            else:
                from dispatch.models import DispatchDecision

                outcomes = list(
                    DispatchDecision.objects.filter(task=task).values_list("outcome", "reasons")
                )
                notes = list(
                    Notification.objects.filter(task_id=task.pk if task else None).values_list(
                        "template", "status", "last_error"
                    )
                )
                raise SystemExit(
                    f"engagement {engagement.pk} was not assigned and mailed in 30 s: task "
                    f"{task and task.status}, decisions {outcomes}, notifications {notes}"
                )
            if index >= 3:  # the first few warm the worker's processes
                assigned.append((task.assigned_at - started).total_seconds() * 1000)
                sent.append((sent_at - started).total_seconds() * 1000)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        connections.close_all()
        _admin(f'drop database if exists "{name}"')

    print(
        f"{len(sent)} engagements: assigned p50 {statistics.median(assigned):.0f} ms, "
        f"p95 {_p95(assigned):.0f} ms; email sent p50 {statistics.median(sent):.0f} ms, "
        f"p95 {_p95(sent):.0f} ms"
    )
    print(
        json.dumps(
            {
                "runs": len(sent),
                "assigned_p50_ms": round(statistics.median(assigned), 1),
                "assigned_p95_ms": round(_p95(assigned), 1),
                "email_sent_p50_ms": round(statistics.median(sent), 1),
                "email_sent_p95_ms": round(_p95(sent), 1),
                "load_average": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
