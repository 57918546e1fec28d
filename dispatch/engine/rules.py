"""The assignment rule, in order, with every rejection explained.

1. Skill match: every required skill at the required level, not expired.
2. Seniority guardrail: at or above the task's minimum seniority.
3. Reviewer rules: reviewers come from the senior pool, never the preparer.
4. Capacity: under the threshold after adding the task, and enough free hours
   before the deadline for the estimate.
5. Deadline fit: earliest-deadline-first over all their open work plus this task.
6. Rank the survivors: requested staff member, client familiarity, (preparers)
   lowest qualified seniority, most free hours, then staff id.

Exception paths: a missing estimate holds the task; a season suppression holds
it visibly; a client on account hold holds non-urgent work, with the hold's reason; urgent work skips capacity (never skills) and goes to the first
qualified person; a client-requested staffer overrides the rule and, if that
overloads them, waits for a manager; no fit escalates with the conflict.

Every candidate is judged at once, as columns (``pool.CandidatePool``,
``eligibility.eligibility_labels``, ``fit.capacity_columns``); the people a decision
names or lists are then judged one by one (``eligibility_problem``, ``capacity_fit``)
for their words, which agree with the columns to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TypedDict

import numpy as np

from dispatch.engine.eligibility import (
    account_hold_reason,
    eligibility_labels,
    eligibility_problem,
    on_account_hold,
    requested_staff,
    suppressed,
)
from dispatch.engine.fit import (
    CAPACITY_LABELS,
    DEADLINES,
    ROOM,
    Fit,
    capacity_columns,
    capacity_fit,
    capacity_problem,
)
from dispatch.engine.pool import CandidatePool, Ints
from dispatch.engine.types import (
    PREPARER,
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
HAS_ROOM = Problem("passes every rule", CAPACITY_LABELS[ROOM])


class _Summary(TypedDict):
    candidate_count: int
    rejections: tuple[tuple[str, int], ...]


class _Evaluation:
    """One person judged for the task in full: their figures and the words of the first
    rule that refuses them (built only for the people a decision names or lists)."""

    __slots__ = ("_row", "candidate", "familiarity", "fit", "problem", "qualified")

    def __init__(
        self, task: TaskToPlace, candidate: CandidateSnapshot, fit: Fit, problem: Problem | None
    ) -> None:
        self.candidate = candidate
        self.fit = fit
        self.qualified = problem is None
        self.problem = capacity_problem(task, fit) if problem is None else problem
        self.familiarity = task.client_history.get(candidate.staff_id, 0)
        self._row: CandidateRow | None = None

    @property
    def kept(self) -> bool:
        return self.problem is None

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
    problem = eligibility_problem(task, candidate, today)
    return _Evaluation(task, candidate, capacity_fit(task, candidate, today), problem).row


class _Judgement:
    """Everyone in the pool judged for the task at once, as columns: who qualifies and
    who is refused (with the class of the refusal), the qualified in ranking order
    with their figures; a person's words only when asked for (``evaluation``)."""

    def __init__(self, task: TaskToPlace, pool: CandidatePool) -> None:
        self.task, self.pool = task, pool
        rows = pool.rows
        self.count = len(rows)
        codes, self.labels = eligibility_labels(task, pool, rows)
        eligible = codes == 0
        self.refused: Ints = rows[~eligible]  # staff-id order
        self.refused_codes: Ints = codes[~eligible]
        qualified = rows[eligible]
        fit = capacity_columns(task, pool, qualified)
        familiarity = np.zeros(len(pool.people), dtype=np.int64)
        history = task.client_history
        if history:
            ids = np.fromiter(history.keys(), dtype=np.int64, count=len(history))
            held = np.fromiter(history.values(), dtype=np.int64, count=len(history))
            at = np.searchsorted(pool.staff_ids, ids)
            known = at < len(pool.staff_ids)
            known[known] = pool.staff_ids[at[known]] == ids[known]
            familiarity[at[known]] = held[known]
        staff_ids = pool.staff_ids[qualified]
        requested = requested_staff(task)
        not_requested = (
            staff_ids != requested
            if requested is not None
            else np.ones(len(qualified), dtype=np.bool_)
        )
        seniority = (
            pool.seniority[qualified]
            if task.role == PREPARER
            else np.zeros(len(qualified), dtype=np.int64)
        )
        kept = fit.code == ROOM
        # ``ranking.rank_key`` as columns (the last key sorts first), those with room first.
        order = np.lexsort(
            (
                staff_ids,
                -fit.free_before_deadline,
                seniority,
                -familiarity[qualified],
                not_requested,
                ~kept,
            )
        )
        self.ordered: Ints = qualified[order]
        self.after = fit.utilization_after[order]
        self.threshold = fit.threshold[order]
        self.free = fit.free_before_deadline[order]
        self.codes: Ints = fit.code[order]
        self.task_week = fit.task_week[order]
        self.hours = fit.hours[order]
        self.best_free = float(fit.free_before_deadline.max()) if len(qualified) else None
        self._evaluations: dict[int, _Evaluation] = {}

    def position(self, staff_id: int) -> int | None:
        """Where a qualified person stands in the ranking (None: not qualified)."""
        row = self.pool.index.get(staff_id)
        if row is None:
            return None
        where = np.flatnonzero(self.ordered == row)
        return int(where[0]) if len(where) else None

    def evaluation(self, position: int) -> _Evaluation:
        """The qualified person at ``position`` of the ranking in full, from the columns
        (the profile is walked only for the words of a deadline that breaks)."""
        judged = self._evaluations.get(position)
        if judged is None:
            task, pool = self.task, self.pool
            row = int(self.ordered[position])
            person = pool.people[row]
            deadline = None
            if self.codes[position] == DEADLINES:
                deadline = person.profile(pool.today).deadline_fit(task.open_work_for(person))
            committed = float(pool.committed_week[row])
            available = float(pool.available_week[row])
            after = float(self.after[position])
            fit = Fit(
                utilization=float(pool.utilization[row]),
                utilization_after=after,
                threshold=float(self.threshold[position]),
                free_before_deadline=float(self.free[position]),
                deadline=deadline,
                committed_week=committed,
                available_week=available,
                task_week=float(self.task_week[position]),
                hours=float(self.hours[position]),
            )
            judged = self._evaluations[position] = _Evaluation(task, person, fit, None)
        return judged

    def table(self) -> tuple[tuple[CandidateRow, ...], tuple[tuple[str, int], ...]]:
        """The rows the log lists (the top of the ranking, those qualified without room,
        then those refused), and everyone else counted by reason."""
        task, pool = self.task, self.pool
        listed = min(TABLE_SIZE, len(self.ordered))
        rows = [self.evaluation(position).row for position in range(listed)]
        room = TABLE_SIZE - listed
        for row in self.refused[:room].tolist():
            person = pool.people[row]
            problem = eligibility_problem(task, person, pool.today)
            fit = capacity_fit(task, person, pool.today)
            rows.append(_Evaluation(task, person, fit, problem).row)
        counts: dict[str, int] = {}
        for code, count in enumerate(np.bincount(self.codes[TABLE_SIZE:], minlength=4).tolist()):
            if count:
                counts[CAPACITY_LABELS[code]] = count
        unlisted = np.bincount(self.refused_codes[room:], minlength=len(self.labels)).tolist()
        for code, count in enumerate(unlisted):
            if count and code:
                label = self.labels[code]
                counts[label] = counts.get(label, 0) + count
        rejections = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
        return tuple(rows), rejections


def decide(
    task: TaskToPlace, candidates: Iterable[CandidateSnapshot] | CandidatePool, today: date
) -> Decision:
    """Pick an assignee for ``task`` among ``candidates`` as of ``today``, or say why not.

    ``candidates`` may be a ``CandidatePool`` already built for ``today`` (the dispatch
    roster keeps one), else the people are put in columns here.
    """
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
    if on_account_hold(task):
        return Decision(
            outcome=Outcome.HELD_ACCOUNT_HOLD,
            assignee_id=None,
            reasons=(str(account_hold_reason(task)),),
            rule_path=("account-hold",),
            candidates=(),
        )
    if isinstance(candidates, CandidatePool):
        if candidates.today != today:
            raise ValueError(f"the pool was built for {candidates.today}, not {today}")
        pool = candidates
    else:
        pool = CandidatePool.build(candidates, today)

    # Eligibility and capacity for everyone as columns; full figures and words only
    # for the people the decision names or lists.
    judged = _Judgement(task, pool)
    table, rejections = judged.table()
    summary = _Summary(candidate_count=judged.count, rejections=rejections)
    path: list[str] = ["skill", "guardrail", "reviewer"]
    qualified_count = len(judged.ordered)

    # Client-requested staffer: overrides ranking and capacity, never skills.
    requested_id = requested_staff(task)
    requested: _Evaluation | None = None
    if requested_id is not None:
        position = judged.position(requested_id)
        requested = judged.evaluation(position) if position is not None else None
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
                    over_threshold=not requested.fit.within_threshold,
                    requested_override=True,
                    **summary,
                )
        else:
            path.append("requested-not-qualified")

    first = judged.evaluation(0) if qualified_count else None
    if task.urgent:
        path.append("urgent")
        if first is not None:
            # Someone with room takes it without an override when there is such a person.
            chosen = requested or first
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
            task, judged, table, summary, path, "Urgent, but nobody holds the required skills."
        )

    path += ["capacity", "deadline-fit", "rank"]
    if first is not None and first.kept:
        chosen = first
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
    if not qualified_count:
        return _escalation(
            task, judged, table, summary, path, "Nobody holds the required skills and seniority."
        )
    return _escalation(
        task,
        judged,
        table,
        summary,
        path,
        f"{qualified_count} qualified, none with room before {task.due_date.isoformat()}.",
    )


def _escalation(
    task: TaskToPlace,
    judged: _Judgement,
    table: tuple[CandidateRow, ...],
    summary: _Summary,
    path: list[str],
    headline: str,
) -> Decision:
    gap = None
    if judged.best_free is not None:
        gap = max(0.0, task.weighted_hours - judged.best_free)
    reasons = [headline]
    listed = [row for row in table if row.qualified]
    for row in listed:
        reasons.append(
            f"{row.name}: {row.utilization:.0%} now, {row.available_before_deadline:.1f} h free "
            f"before the deadline — {row.reason}"
        )
    qualified = len(judged.ordered)
    if qualified > len(listed):
        reasons.append(f"… and {qualified - len(listed)} more qualified, none with room.")
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
