"""The engine one candidate at a time, in plain Python: ``dispatch.engine.rules.decide``
as it was before candidates became columns, kept as the reference the column engine
must agree with exactly (``test_columns.py``). It reads the same public rule functions
(``eligibility``, ``fit``, ``ranking``), one person at a time.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import TypedDict

from dispatch.engine.eligibility import eligibility_problem, requested_staff, suppressed
from dispatch.engine.fit import capacity_fit, capacity_problem
from dispatch.engine.ranking import rank_key
from dispatch.engine.types import (
    CandidateRow,
    CandidateSnapshot,
    Decision,
    Outcome,
    Problem,
    TaskToPlace,
)

# The decision log lists this many people one by one (the top of the ranking, then
# those who qualified without room, then those refused) and counts the rest by reason,
# so a decision at a 1,000-person firm stays a few kilobytes and still explains itself.
TABLE_SIZE = 25
HAS_ROOM = Problem("passes every rule", "qualified with room, ranked lower")


class _Summary(TypedDict):
    candidate_count: int
    rejections: tuple[tuple[str, int], ...]


class _Evaluation:
    """One qualified (or listed) person judged for the task; their table row is built
    only when it is shown, so a thousand candidates cost a thousand fits, not rows."""

    __slots__ = ("_row", "candidate", "familiarity", "fit", "problem", "qualified")

    def __init__(
        self, task: TaskToPlace, candidate: CandidateSnapshot, today: date, problem: Problem | None
    ) -> None:
        self.candidate = candidate
        self.fit = capacity_fit(task, candidate, today)
        self.qualified = problem is None
        self.problem = capacity_problem(task, self.fit) if problem is None else problem
        self.familiarity = task.client_history.get(candidate.staff_id, 0)
        self._row: CandidateRow | None = None

    @property
    def staff_id(self) -> int:
        return self.candidate.staff_id

    @property
    def kept(self) -> bool:
        return self.problem is None

    @property
    def within_threshold(self) -> bool:
        return self.fit.within_threshold

    @property
    def row(self) -> CandidateRow:
        if self._row is None:
            candidate, fit = self.candidate, self.fit
            self._row = CandidateRow(
                staff_id=candidate.staff_id,
                name=candidate.name,
                seniority=candidate.seniority,
                utilization=fit.utilization,
                utilization_after=fit.utilization_after,
                threshold=fit.threshold,
                available_before_deadline=fit.free_before_deadline,
                familiarity=self.familiarity,
                qualified=self.qualified,
                kept=self.problem is None,
                reason=self.problem or HAS_ROOM,
                committed_week=fit.committed_week,
                available_week=fit.available_week,
                task_week=fit.task_week,
            )
        return self._row


def evaluate(task: TaskToPlace, candidate: CandidateSnapshot, today: date) -> CandidateRow:
    """One person's line of the candidate table: their figures and the first rule that
    refuses them (a manager assigning by hand sees where their choice stood)."""
    return _Evaluation(task, candidate, today, eligibility_problem(task, candidate, today)).row


def _rank_key(task: TaskToPlace, evaluation: _Evaluation) -> tuple[object, ...]:
    return rank_key(
        task,
        staff_id=evaluation.candidate.staff_id,
        familiarity=evaluation.familiarity,
        seniority=evaluation.candidate.seniority,
        free_hours=evaluation.fit.free_before_deadline,
    )


def _table(
    task: TaskToPlace,
    ranked: list[_Evaluation],
    refused: list[tuple[CandidateSnapshot, Problem]],
    today: date,
) -> tuple[tuple[CandidateRow, ...], tuple[tuple[str, int], ...]]:
    """The rows the log lists, and everyone else counted by reason."""
    ordered = [e for e in ranked if e.kept] + [e for e in ranked if not e.kept]
    rows = [e.row for e in ordered[:TABLE_SIZE]]
    room = TABLE_SIZE - len(rows)
    rows += [_Evaluation(task, c, today, problem).row for c, problem in refused[:room]]
    counts = Counter((e.problem or HAS_ROOM).label for e in ordered[TABLE_SIZE:])
    counts.update(problem.label for _, problem in refused[max(room, 0) :])
    rejections = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return tuple(rows), rejections


def decide(task: TaskToPlace, candidates: tuple[CandidateSnapshot, ...], today: date) -> Decision:
    """Pick an assignee for ``task`` among ``candidates`` as of ``today``, or say why not."""
    if task.estimated_hours is None or task.estimated_hours <= 0:
        return Decision(
            outcome=Outcome.HELD_MISSING_ESTIMATE,
            assignee_id=None,
            reasons=("No estimate: held until someone supplies the hours.",),
            rule_path=("estimate",),
            candidates=(),
        )
    if suppressed(task):
        return Decision(
            outcome=Outcome.SUPPRESSED,
            assignee_id=None,
            reasons=(
                "Low-priority work is held from auto-assignment this season; "
                "it dispatches when the season ends or a manager assigns it.",
            ),
            rule_path=("season",),
            candidates=(),
        )

    # Eligibility first (cheap, no figures); capacity only for those who pass it.
    qualified: list[_Evaluation] = []
    refused: list[tuple[CandidateSnapshot, Problem]] = []
    for candidate in sorted(candidates, key=lambda c: c.staff_id):
        problem = eligibility_problem(task, candidate, today)
        if problem is None:
            qualified.append(_Evaluation(task, candidate, today, None))
        else:
            refused.append((candidate, problem))
    qualified.sort(key=lambda e: _rank_key(task, e))
    table, rejections = _table(task, qualified, refused, today)
    summary = _Summary(candidate_count=len(candidates), rejections=rejections)
    path: list[str] = ["skill", "guardrail", "reviewer"]

    # Client-requested staffer: overrides ranking and capacity, never skills.
    requested_id = requested_staff(task)
    requested = next((e for e in qualified if e.staff_id == requested_id), None)
    if requested_id is not None:
        path.append("requested")
        if requested is not None:
            if requested.kept:
                return Decision(
                    outcome=Outcome.ASSIGNED,
                    assignee_id=requested.row.staff_id,
                    reasons=(f"Client asked for {requested.row.name}, who has room.",),
                    rule_path=tuple(path),
                    candidates=table,
                    requested_override=True,
                    **summary,
                )
            if not task.urgent:
                return Decision(
                    outcome=Outcome.NEEDS_CONFIRMATION,
                    assignee_id=requested.row.staff_id,
                    reasons=(
                        f"Client asked for {requested.row.name}, but {requested.row.reason}; "
                        "a manager must confirm.",
                    ),
                    rule_path=tuple(path),
                    candidates=table,
                    over_threshold=not requested.within_threshold,
                    requested_override=True,
                    **summary,
                )
        else:
            path.append("requested-not-qualified")

    if task.urgent:
        path.append("urgent")
        if qualified:
            # Someone with room takes it without an override when there is such a person.
            chosen = requested or next((e for e in qualified if e.kept), qualified[0])
            over = not chosen.kept
            reasons = [f"Urgent: assigned to the first qualified person, {chosen.row.name}."]
            if over:
                reasons.append(
                    f"{chosen.row.name} is now overloaded ({chosen.row.reason}); "
                    "their manager is told."
                )
            return Decision(
                outcome=Outcome.ASSIGNED,
                assignee_id=chosen.row.staff_id,
                reasons=tuple(reasons),
                rule_path=tuple(path),
                candidates=table,
                over_threshold=over,
                urgent_override=True,
                **summary,
            )
        return _escalation(
            task, qualified, table, summary, path, "Urgent, but nobody holds the required skills."
        )

    path += ["capacity", "deadline-fit", "rank"]
    survivors = [e for e in qualified if e.kept]
    if survivors:
        chosen = survivors[0]
        why = [
            f"{chosen.row.name} at {chosen.row.utilization_after:.0%} this week with the task "
            f"(threshold {chosen.row.threshold:.0%})"
        ]
        if chosen.row.familiarity:
            why.append(f"has worked {chosen.row.familiarity} task(s) for this client")
        return Decision(
            outcome=Outcome.ASSIGNED,
            assignee_id=chosen.row.staff_id,
            reasons=("; ".join(why) + ".",),
            rule_path=tuple(path),
            candidates=table,
            **summary,
        )
    if not qualified:
        return _escalation(
            task, qualified, table, summary, path, "Nobody holds the required skills and seniority."
        )
    return _escalation(
        task,
        qualified,
        table,
        summary,
        path,
        f"{len(qualified)} qualified, none with room before {task.due_date.isoformat()}.",
    )


def _escalation(
    task: TaskToPlace,
    qualified: list[_Evaluation],
    table: tuple[CandidateRow, ...],
    summary: _Summary,
    path: list[str],
    headline: str,
) -> Decision:
    gap = None
    if qualified:
        best_free = max(e.fit.free_before_deadline for e in qualified)
        gap = max(0.0, task.weighted_hours - best_free)
    reasons = [headline]
    listed = [row for row in table if row.qualified]
    for row in listed:
        reasons.append(
            f"{row.name}: {row.utilization:.0%} now, {row.available_before_deadline:.1f} h free "
            f"before the deadline — {row.reason}"
        )
    if len(qualified) > len(listed):
        reasons.append(f"… and {len(qualified) - len(listed)} more qualified, none with room.")
    if gap is not None:
        reasons.append(f"Gap to the deadline: {gap:.1f} h beyond the most free qualified person.")
    return Decision(
        outcome=Outcome.ESCALATED,
        assignee_id=None,
        reasons=tuple(reasons),
        rule_path=(*path, "escalate"),
        candidates=table,
        deadline_gap_hours=gap,
        **summary,
    )
