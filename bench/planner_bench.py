"""Planner benchmark: generated firms against the engine one task at a time and against
the proven bound, then the published Generalized Assignment instances.

Usage:
    .venv/bin/python bench/planner_bench.py            # CI-sized: a few minutes
    .venv/bin/python bench/planner_bench.py --gap-full # + types A-E up to 400 jobs, 60 s each (~25 min)
    .venv/bin/python bench/planner_bench.py --sizes 15 --no-gap   # a smoke run, seconds
    .venv/bin/python bench/planner_bench.py --sizes 15 --instances d20100,e20100  # 60 s each

Sizes (--sizes, staff counts; each run normal and congested):
    15    staff x   120 tasks, solver limit --firm-limit (4 s)
    100   staff x 2,000 tasks, solver limit --firm-limit (4 s): the issue's target size,
          plan_100x2000_s = building the problem + solving it
    1000  staff x 5,000 tasks, solver limit --large-limit (20 s)

(a) Firms of 15, 100 and 1,000 staff, generated as plain data (no database): each
    person's calendar, skills, seniority and held work, tasks with skills, hours, due
    dates, client history and a few requested staffers. The problem is built by the
    same code as "Plan the week" (``dispatch.engine.plan.build_plan``, the engine's
    rules); the yardstick is ``engine_greedy`` (``decide`` one task at a time, earliest
    due first, each seeing the work the earlier ones gave out). A "normal" and a
    "congested" firm per size: congested asks for more hours than the team has room.
    Printed: build time, solve time, objective, bound, greedy's objective, and the work
    at risk: hours left unplaced (escalated) plus hours past a threshold plus hours past
    deadline fit.
(b) OR-Library gap1-12 (maximisation, proven optima) and Chu & Beasley / Yagiura
    types A-E up to 400 jobs (minimisation, best-known values), from the shared
    bench-data folder beside the checkout.

The last line is one JSON object: plan_100x2000_s (build + solve, normal firm),
gap_to_bound_pct (same run), improvement_vs_greedy_pct (work at risk, congested
firms, worst size), gap_benchmark_worst_pct (worst distance to best-known over the
published instances run).

The machine this runs on is shared: say the load average beside the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from capacity.ledger import OpenWork, StaffCalendar  # noqa: E402
from capacity.planner import objective_of, plan_loads, solve  # noqa: E402
from capacity.planner.gap import read_gap  # noqa: E402
from dispatch.engine import CandidateSnapshot, HeldSkill, SkillRequirement, TaskToPlace  # noqa: E402
from dispatch.engine.plan import build_plan, engine_greedy  # noqa: E402

TODAY = date(2026, 11, 17)  # a Tuesday
HOLIDAYS = frozenset({date(2026, 11, 26), date(2026, 12, 25)})


def firm(staff: int, tasks: int, *, congested: bool, seed: int = 1):  # type: ignore[no-untyped-def]
    """(task specs, snapshots, candidate_ids) for a generated firm."""
    rng = random.Random(seed * 1000 + staff)
    skills = [f"skill-{k}" for k in range(max(6, staff // 12))]
    calendar = StaffCalendar(40.0, frozenset(range(5)), HOLIDAYS)
    part_time = StaffCalendar(24.0, frozenset(range(3)), HOLIDAYS)
    snapshots = {}
    holders: dict[str, list[int]] = {slug: [] for slug in skills}
    next_task = 10_000_000
    for pk in range(1, staff + 1):
        held = {}
        for slug in rng.sample(skills, rng.choice((1, 1, 2))):
            held[slug] = HeldSkill(level=rng.choice((2, 3, 3, 4)))
            holders[slug].append(pk)
        work = []
        for _ in range(rng.randint(0, 5)):
            next_task += 1
            due = TODAY + timedelta(days=rng.randint(1, 35))
            work.append(OpenWork(task_id=next_task, due_date=due, hours=rng.uniform(2, 10)))
        snapshots[pk] = CandidateSnapshot(
            staff_id=pk,
            name=f"Person {pk}",
            seniority=rng.choice((1, 2, 2, 3, 3, 4, 5)),
            calendar=part_time if rng.random() < 0.1 else calendar,
            skills=held,
            open_work=tuple(sorted(work, key=lambda w: (w.due_date, w.task_id))),
        )
    # Congested: about 1.4 times the hours the team has room for in the period.
    hours_range = (2.0, 8.0) if congested else (0.5, 3.0)
    clients = max(10, tasks // 6)
    specs = []
    for t in range(1, tasks + 1):
        slug = rng.choice(skills)
        if not holders[slug]:
            continue
        client = rng.randrange(clients)
        history = {rng.choice(holders[slug]): rng.randint(1, 6) for _ in range(rng.randint(0, 2))}
        requested = rng.choice(holders[slug]) if rng.random() < 0.03 else None
        specs.append(
            TaskToPlace(
                task_id=t,
                role="preparer",
                client_id=client,
                due_date=TODAY + timedelta(days=rng.randint(3 if congested else 7, 35)),
                estimated_hours=round(rng.uniform(*hours_range), 1),
                required_skills=(SkillRequirement(slug, 2),),
                complexity=rng.choice(("low", "medium", "medium", "high")),
                work_type_min_seniority=2,
                engagement_requested_staff_id=requested,
                client_history=history,
            )
        )

    def candidate_ids(spec: TaskToPlace) -> list[int]:
        return holders[spec.required_skills[0].slug]

    return specs, snapshots, candidate_ids


def at_risk(problem, assignment, specs) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Hours unplaced (escalated), past a threshold, and past deadline fit."""
    hours = {s.task_id: s.weighted_hours for s in specs}
    unplaced = sum(hours[t] for t, s in assignment.items() if s is None and t in hours)
    unplaced += sum(hours[s.task_id] for s in specs if s.task_id not in assignment)
    loads = plan_loads(problem, assignment)
    over = sum(load.overload for load in loads.values())
    late = sum(load.late for load in loads.values())
    return {
        "unplaced_h": unplaced,
        "overload_h": over,
        "late_h": late,
        "total_h": unplaced + over + late,
    }


def run_firm(staff: int, tasks: int, *, congested: bool, limit: float) -> dict[str, float]:
    specs, snapshots, candidate_ids = firm(staff, tasks, congested=congested)
    started = time.perf_counter()
    greedy = engine_greedy(specs, candidate_ids, snapshots, TODAY)
    greedy_s = time.perf_counter() - started
    started = time.perf_counter()
    plan_input = build_plan(
        specs, candidate_ids, snapshots, TODAY, time_limit_s=limit, fallback=greedy
    )
    build_s = time.perf_counter() - started
    problem = plan_input.problem
    # Everything the plan leaves out (no one qualifies, no estimate) is left out of both.
    all_tasks = {t.task_id for t in problem.tasks}
    greedy_in = {t: s for t, s in greedy.items() if t in all_tasks}
    plan = solve(problem)
    greedy_value, _ = objective_of(problem, greedy_in)
    kept = [s for s in specs if s.task_id in all_tasks]
    plan_risk = at_risk(problem, plan.assignment, kept)
    greedy_risk = at_risk(problem, greedy_in, kept)
    gap = (plan.objective - plan.bound) / max(abs(plan.objective), 1e-9) * 100
    improvement = (
        (greedy_risk["total_h"] - plan_risk["total_h"]) / greedy_risk["total_h"] * 100
        if greedy_risk["total_h"] > 1e-9
        else 0.0
    )
    options = sum(len(t.options) for t in problem.tasks)
    return {
        "staff": staff,
        "tasks": len(problem.tasks),
        "options": options,
        "congested": congested,
        "greedy_s": round(greedy_s, 2),
        "build_s": round(build_s, 2),
        "solve_s": round(plan.seconds, 2),
        "plan_s": round(build_s + plan.seconds, 2),
        "status": plan.status.value,
        "objective": round(plan.objective, 1),
        "bound": round(plan.bound, 1),
        "gap_to_bound_pct": round(gap, 3),
        "greedy_objective": round(greedy_value, 1),
        "plan_risk_h": round(plan_risk["total_h"], 1),
        "greedy_risk_h": round(greedy_risk["total_h"], 1),
        "plan_unplaced_h": round(plan_risk["unplaced_h"], 1),
        "greedy_unplaced_h": round(greedy_risk["unplaced_h"], 1),
        "improvement_vs_greedy_pct": round(improvement, 1),
    }


def gap_folder() -> Path | None:
    for folder in (ROOT.parent, ROOT.parent.parent):
        candidate = folder / "shared" / "bench-data" / "gap"
        if candidate.exists():
            return candidate
    return None


def run_gap(folder: Path, names: list[str], seconds: float) -> list[dict[str, object]]:
    best = {
        (row["instance"], row["sense"]): float(row["best_known"])
        for row in csv.DictReader((folder / "best_known.csv").open())
    }
    rows = []
    for name in names:
        if name.startswith("gap"):
            instances = read_gap(
                (folder / "orlib" / f"{name}.txt").read_text(), name=name, multi=True, maximise=True
            )
        else:
            instances = read_gap((folder / "individual" / name).read_text(), name=name, multi=False)
        for instance in instances:
            plan = solve(instance.problem(time_limit_s=seconds))
            value = instance.value(plan.objective)
            known = best[(instance.name, "max" if instance.maximise else "min")]
            gap = abs(value - known) / known * 100
            rows.append(
                {
                    "instance": instance.name,
                    "size": f"{instance.agents}x{instance.jobs}",
                    "value": value,
                    "best_known": known,
                    "gap_pct": round(gap, 3),
                    "status": plan.status.value,
                    "seconds": round(plan.seconds, 1),
                    "feasible": plan.feasible,
                }
            )
            print(
                f"  {instance.name:10} {instance.agents:>3}x{instance.jobs:<4} {value:>9.0f} "
                f"best {known:>9.0f}  {gap:6.3f} %  {plan.status.value:8} {plan.seconds:5.1f} s",
                flush=True,
            )
    return rows


ORLIB = [f"gap{k}" for k in range(1, 13)]
TYPES_AE = [
    f"{kind}{size}"
    for kind in "abcde"
    for size in ("05100", "10100", "20100", "05200", "10200", "20200")
] + [f"{kind}{size}" for kind in "cde" for size in ("10400", "20400", "40400")]
QUICK_AE = ["a05100", "b10100", "c10100", "d10100", "e10100"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--gap-full", action="store_true", help="types A-E up to 400 jobs at --gap-seconds each"
    )
    parser.add_argument("--gap-seconds", type=float, default=60.0)
    parser.add_argument(
        "--quick-seconds", type=float, default=10.0, help="per instance without --gap-full"
    )
    parser.add_argument(
        "--firm-limit", type=float, default=4.0, help="solver seconds for the 15/100-staff firms"
    )
    parser.add_argument(
        "--large-limit", type=float, default=20.0, help="solver seconds for the 1,000-staff firm"
    )
    parser.add_argument("--skip-large", action="store_true", help="the same as --sizes 15,100")
    parser.add_argument(
        "--sizes",
        default="15,100,1000",
        help="comma-separated staff counts among 15, 100, 1000 (default: all three)",
    )
    parser.add_argument("--no-gap", action="store_true", help="skip the published GAP instances")
    parser.add_argument(
        "--instances",
        default="",
        help="comma-separated published instances to run alone at --gap-seconds each "
        "(e.g. d20100,e10400 or gap12)",
    )
    args = parser.parse_args()
    chosen = {int(size) for size in args.sizes.split(",") if size.strip()}
    if args.skip_large:
        chosen.discard(1000)

    print(f"load average {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})", flush=True)
    print("(a) generated firms", flush=True)
    sizes = [
        (staff, tasks, limit)
        for staff, tasks, limit in (
            (15, 120, args.firm_limit),
            (100, 2000, args.firm_limit),
            (1000, 5000, args.large_limit),
        )
        if staff in chosen
    ]
    firms = []
    for staff, tasks, limit in sizes:
        for congested in (False, True):
            row = run_firm(staff, tasks, congested=congested, limit=limit)
            firms.append(row)
            print("  " + json.dumps(row), flush=True)
    normal_100 = next((r for r in firms if r["staff"] == 100 and not r["congested"]), {})
    congested = [r for r in firms if r["congested"]]

    print("(b) published GAP instances", flush=True)
    folder = gap_folder()
    gap_rows: list[dict[str, object]] = []
    if args.no_gap:
        print("  skipped (--no-gap)", flush=True)
    elif folder is None:
        print("  bench-data/gap not found beside the checkout: skipped", flush=True)
    elif args.instances:
        names = [name.strip() for name in args.instances.split(",") if name.strip()]
        unknown = sorted(set(names) - set(ORLIB) - set(TYPES_AE))
        if unknown:
            parser.error(f"unknown instances: {', '.join(unknown)}")
        gap_rows += run_gap(folder, names, args.gap_seconds)
    else:
        gap_rows += run_gap(folder, ORLIB, args.quick_seconds)
        if args.gap_full:
            gap_rows += run_gap(folder, TYPES_AE, args.gap_seconds)
        else:
            gap_rows += run_gap(folder, QUICK_AE, args.quick_seconds)
    orlib_optimal = all(r["gap_pct"] == 0 for r in gap_rows if str(r["instance"]).startswith("gap"))
    print(
        json.dumps(
            {
                "load_average": round(os.getloadavg()[0], 2),
                "plan_100x2000_s": normal_100.get("plan_s"),
                "build_100x2000_s": normal_100.get("build_s"),
                "solve_100x2000_s": normal_100.get("solve_s"),
                "gap_to_bound_pct": normal_100.get("gap_to_bound_pct"),
                "improvement_vs_greedy_pct": min(
                    (r["improvement_vs_greedy_pct"] for r in congested), default=None
                ),
                "sizes": sorted(chosen),
                "gap_benchmark_worst_pct": max((r["gap_pct"] for r in gap_rows), default=None),
                "gap_orlib_all_optimal": orlib_optimal,
                "gap_instances": len(gap_rows),
                "gap_full": args.gap_full,
            }
        )
    )


if __name__ == "__main__":
    main()
