"""Estimates that learn: how long work of each type really takes against its estimate,
once time is logged (billing keeps ``Task.logged_hours``).

For completed tasks with an estimate and logged time over the last ``LOOKBACK`` (and,
for a work type whose default was last set from this page, created since then: the
older ones were estimated from the old default):
- per work type, the median of logged / estimated hours, and the default estimate
  that ratio suggests (shown beside the work type's default with a "use this");
- per person and work type, the same median: their effort factor (1.2 = they take
  20 % longer than estimated), shown once they have ``MIN_SAMPLE`` tasks.

Two queries (the tasks' figures, the work types), whatever the history; the effort
factors alone one (and none from the cache).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from engagements.choices import TaskStatus
from engagements.lifecycle import MAX_ESTIMATE_HOURS, MIN_ESTIMATE_HOURS
from engagements.models import Task, WorkType

LOOKBACK = timedelta(days=365)
MIN_SAMPLE = 5  # completed tasks with logged time before a median is shown
# Ratios beyond these are typing mistakes (a 2 h estimate logged as 200 h), not effort.
RATIO_BOUNDS = (0.1, 10.0)
CLOSE_ENOUGH = 0.05  # a median within 5 % of 1: the default is right as it is
EFFORT_CACHE_KEY = "capacity:effort:v1"
EFFORT_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class EffortFactor:
    staff_id: int
    name: str
    sample: int
    ratio: float


@dataclass(frozen=True)
class Calibration:
    work_type: WorkType
    sample: int
    ratio: float | None  # median logged / estimated; None below MIN_SAMPLE
    people: tuple[EffortFactor, ...]  # per-person medians, slowest first

    @property
    def default(self) -> Decimal | None:
        return self.work_type.default_estimated_hours

    @property
    def suggested(self) -> Decimal | None:
        """The default estimate times the median ratio, to the quarter hour, in range;
        None when there is nothing to suggest (no default, too few tasks, already right)."""
        if self.ratio is None or self.default is None or abs(self.ratio - 1) < CLOSE_ENOUGH:
            return None
        hours = (self.default * Decimal(str(self.ratio)) * 4).quantize(
            Decimal("1"), rounding=ROUND_HALF_UP
        ) / Decimal("4")
        hours = min(max(hours, MIN_ESTIMATE_HOURS), MAX_ESTIMATE_HOURS)
        return hours.quantize(Decimal("0.01")) if hours != self.default else None

    @property
    def ratio_percent(self) -> int | None:
        return None if self.ratio is None else round(self.ratio * 100)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if len(values) >= MIN_SAMPLE else None


_Ratios = tuple[dict[int, list[float]], dict[tuple[int, int], list[float]], dict[int, str]]


def _ratios(today: date) -> _Ratios:
    """Logged / estimated hours of the completed tasks that count (one query): per work
    type, per (work type, person), and the people's names."""
    since = timezone.make_aware(datetime.combine(today - LOOKBACK, time.min))
    rows = (
        Task.objects.filter(
            status=TaskStatus.COMPLETED,
            completed_at__gte=since,
            estimated_hours__gt=0,
            logged_hours__gt=0,
            assignee__isnull=False,
        )
        .order_by()
        .values_list(
            "engagement__work_type_id",
            "created_at",
            "engagement__work_type__default_estimate_calibrated_at",
            "assignee_id",
            "assignee__user__first_name",
            "assignee__user__last_name",
            "assignee__user__username",
            "estimated_hours",
            "logged_hours",
        )
    )
    by_type: dict[int, list[float]] = defaultdict(list)
    by_person: dict[tuple[int, int], list[float]] = defaultdict(list)
    names: dict[int, str] = {}
    low, high = RATIO_BOUNDS
    for (
        work_type_id,
        created,
        calibrated,
        staff_id,
        first,
        last,
        username,
        estimate,
        logged,
    ) in rows:
        ratio = float(logged) / float(estimate)
        if not low <= ratio <= high or (calibrated is not None and created < calibrated):
            continue
        by_type[work_type_id].append(ratio)
        by_person[(work_type_id, staff_id)].append(ratio)
        names[staff_id] = f"{first} {last}".strip() or username
    return by_type, by_person, names


def estimate_calibrations(*, today: date) -> list[Calibration]:
    """Every active work type with its median ratio and its people's effort factors."""
    by_type, by_person, names = _ratios(today)
    people: dict[int, list[EffortFactor]] = defaultdict(list)
    for (work_type_id, staff_id), ratios in by_person.items():
        median = _median(ratios)
        if median is not None:
            people[work_type_id].append(
                EffortFactor(staff_id, names[staff_id], len(ratios), median)
            )
    return [
        Calibration(
            work_type=work_type,
            sample=len(by_type.get(work_type.pk, [])),
            ratio=_median(by_type.get(work_type.pk, [])),
            people=tuple(sorted(people.get(work_type.pk, []), key=lambda f: (-f.ratio, f.name))),
        )
        for work_type in WorkType.objects.filter(active=True).order_by("name")
    ]


def effort_factors(*, today: date) -> dict[int, dict[int, float]]:
    """staff id -> {work type id -> the person's median logged / estimated hours}, for
    those with ``MIN_SAMPLE`` completed tasks of the type: the hours a task would take
    them are its estimate times this factor (the planner and the dispatch engine).
    One query (``_ratios``)."""
    _, by_person, _ = _ratios(today)
    factors: dict[int, dict[int, float]] = defaultdict(dict)
    for (work_type_id, staff_id), ratios in sorted(by_person.items()):
        median = _median(ratios)
        if median is not None:
            factors[staff_id][work_type_id] = median
    return dict(factors)


def effort_factors_cached(*, today: date) -> dict[int, dict[int, float]]:
    """``effort_factors`` from the cache (one query when it is cold or the day changed),
    kept for an hour like the capacity policy: a factor moves with weeks of logged time,
    not minutes. Saving a work type ("use this" recalibrates its default) forgets it."""
    kept: tuple[date, dict[int, dict[int, float]]] | None = cache.get(EFFORT_CACHE_KEY)
    if kept is not None and kept[0] == today:
        return kept[1]
    factors = effort_factors(today=today)
    cache.set(EFFORT_CACHE_KEY, (today, factors), EFFORT_CACHE_SECONDS)
    return factors


def effort_factors_forget(**_: object) -> None:
    """Drop the cached factors once the change commits (a signal receiver: a work type's
    default estimate was recalibrated, so the tasks estimated from the old one stop
    counting)."""
    transaction.on_commit(lambda: cache.delete(EFFORT_CACHE_KEY))
