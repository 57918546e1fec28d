"""Seed benchmark: build the large demo firm on a fresh database and time it.

Usage:  .venv/bin/python bench/seed_demo_bench.py [--seed N] [--today YYYY-MM-DD]
        DATABASE_URL=postgres://... .venv/bin/python bench/seed_demo_bench.py

Without DATABASE_URL it migrates a temporary SQLite file first (removed at the
end); with it, it migrates that database, which must not hold the large demo
firm already (the run would create nothing and time nothing). The time covers
``seed_demo --size large`` only, not the migrations. The last line printed is
one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="42")
    parser.add_argument("--today", default="2026-11-22")
    args = parser.parse_args()

    tmp = None
    if "DATABASE_URL" not in os.environ:
        # Settings read DATABASE_URL at import, so it is set before django.setup().
        tmp = tempfile.TemporaryDirectory(prefix="closeloop-seed-bench-")
        os.environ["CLOSELOOP_VAR_DIR"] = tmp.name
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from clients.models import Client
    from engagements.choices import EngagementSource
    from engagements.models import (
        Engagement,
        EngagementMilestone,
        MilestoneTransition,
        RecurringPlan,
        RequiredDocument,
        ReviewException,
        Task,
    )
    from staff.models import StaffMember

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_seconds = time.perf_counter() - started
    if Engagement.objects.filter(
        source=EngagementSource.DEMO, external_id__startswith="large-"
    ).exists():
        sys.exit(
            "This database already holds the large demo firm; point DATABASE_URL at an empty one."
        )

    out = StringIO()
    started = time.perf_counter()
    call_command(
        "seed_demo", "--size", "large", "--seed", args.seed, "--today", args.today, stdout=out
    )
    seconds = time.perf_counter() - started

    counts = {
        "staff": StaffMember.objects.count(),
        "clients": Client.objects.count(),
        "engagements": Engagement.objects.count(),
        "tasks": Task.objects.count(),
        "required_documents": RequiredDocument.objects.count(),
        "milestone_times": EngagementMilestone.objects.count(),
        "milestone_transitions": MilestoneTransition.objects.count(),
        "review_exceptions": ReviewException.objects.count(),
        "recurring_plans": RecurringPlan.objects.count(),
    }
    print(out.getvalue().rstrip())
    print()
    print(f"database: {connection.vendor}; migrate {migrate_seconds:.1f} s (not counted)")
    print("rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    print(f"seed_demo --size large: {seconds:.1f} s")
    print(
        json.dumps(
            {
                "seed_large_seconds": round(seconds, 1),
                "database": connection.vendor,
                **counts,
            }
        )
    )
    connection.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
