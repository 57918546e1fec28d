"""The capacity policy as plain data: the default thresholds and the seasons that change them.

Pure Python (no Django): the dispatch engine, the planner and the demo replay read
it; ``capacity.selectors.capacity_policy`` builds it from the admin's
``CapacityRule`` rows. This is the one home of the default thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# Utilization above which nobody gets new work (DESIGN.md: "nobody past their
# threshold except through an explicit override"); reviewers come from the
# senior pool, so theirs is lower.
DEFAULT_PREPARER_THRESHOLD = 0.80
DEFAULT_REVIEWER_THRESHOLD = 0.70


@dataclass(frozen=True)
class Thresholds:
    preparer: float = DEFAULT_PREPARER_THRESHOLD
    reviewer: float = DEFAULT_REVIEWER_THRESHOLD


DEFAULT_THRESHOLDS = Thresholds()


def season_applies(start: tuple[int, int], end: tuple[int, int], day: date) -> bool:
    """Whether (month, day) ``start`` to ``end``, both included, holds ``day``; a season
    whose end comes before its start wraps the new year (e.g. November to February)."""
    here = (day.month, day.day)
    if start <= end:
        return start <= here <= end
    return here >= start or here <= end


@dataclass(frozen=True)
class Season:
    """One threshold season: when it applies, to whom, and how full is full."""

    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    threshold: float | None = None  # a fraction: 0.9 is 90 %
    reviewer_threshold: float | None = None
    skills: frozenset[str] = frozenset()  # empty: everyone
    suppresses_flagged_work: bool = False

    def applies_on(self, day: date) -> bool:
        return season_applies(self.start, self.end, day)


@dataclass(frozen=True)
class Policy:
    """The capacity rules in force on one day."""

    seasons: tuple[Season, ...]
    day: date

    def thresholds_for(self, skill_slugs: Iterable[str]) -> Thresholds:
        """The highest threshold of the seasons that apply to someone holding these
        skills replaces the default (a surge tier raises it for tax-trained staff)."""
        held = set(skill_slugs)
        applicable = [
            season
            for season in self.seasons
            if season.applies_on(self.day) and (not season.skills or season.skills & held)
        ]
        preparer = [s.threshold for s in applicable if s.threshold]
        reviewer = [s.reviewer_threshold for s in applicable if s.reviewer_threshold]
        return Thresholds(
            max(preparer, default=DEFAULT_PREPARER_THRESHOLD),
            max(reviewer, default=DEFAULT_REVIEWER_THRESHOLD),
        )

    @property
    def suppresses_flagged_work(self) -> bool:
        return any(s.suppresses_flagged_work and s.applies_on(self.day) for s in self.seasons)
