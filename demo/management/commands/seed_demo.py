"""``manage.py seed_demo``: build the demo firm (logic in ``demo``)."""

from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.services import change_stamp_bump
from demo.billing import demo_billing_build, demo_billing_report
from demo.build import demo_build, demo_logins, demo_report
from demo.capacity import demo_capacity_build, demo_capacity_report
from demo.morning import demo_morning
from demo.rebalancing import demo_rebalance
from demo.specs import SIZES, DemoConflictError
from dispatch.roster import ROSTER_STAMP


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Build a believable demo CPA firm (staff, clients, recurring plans, engagements with "
        "their milestone history, tasks) around a date. "
        "Deterministic for a seed and date; running it again creates nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument(
            "--size",
            choices=sorted(SIZES),
            default="demo",
            help="demo: 15 staff, ~130 clients; large: 1,000 staff, 10,000 clients, ~100,000 tasks.",
        )
        parser.add_argument(
            "--no-morning",
            action="store_true",
            help="Build the firm as of this morning and stop: no documents in, no work for "
            "managers, no first sweep (a fresh build otherwise plays them through the live "
            "services).",
        )
        parser.add_argument(
            "--today",
            type=_iso_date,
            default=None,
            help="Date the firm is built around, YYYY-MM-DD (default: today).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = demo_build(
                seed=options["seed"],
                size=options["size"],
                today=options["today"] or timezone.localdate(),
            )
        except DemoConflictError as exc:
            raise CommandError(str(exc)) from exc
        # The firm was written in bulk, past the signals that tell dispatch its roster moved.
        change_stamp_bump(ROSTER_STAMP)
        lines = demo_report(result)
        if result.created["engagements"] and not options["no_morning"]:
            today = options["today"] or timezone.localdate()
            morning = demo_morning(plan=result.plan, today=today)
            lines = demo_report(result, morning=morning.lines())
        plan = result.plan
        billing = demo_billing_build(
            today=plan.today,
            logins=[username for username, _role, _password in demo_logins(plan)],
            seed=plan.seed,
        )
        capacity = None
        if options["size"] == "demo":
            # A pending rebalancing proposal for the manager to find, made by the loop.
            demo_rebalance(today=plan.today)
            # A working pattern by day and a work type whose estimate learned from time.
            capacity = demo_capacity_build(today=plan.today, seed=plan.seed)
        for line in lines:
            self.stdout.write(line)
        for line in demo_billing_report(billing):
            self.stdout.write(line)
        for line in demo_capacity_report(capacity) if capacity is not None else []:
            self.stdout.write(line)
