"""How the pages word dispatch decisions: every phrase in one place.

The engine explains itself in terse reasons ("utilization 84% after this task >
threshold 80%"); a person reading a task page wants "would be at 84 % with this
task (threshold 80 %)". This module turns a stored decision (its candidate table
is plain JSON) into what the decision log, the escalations page and the
confirmation page show:

1. a headline (what happened, to whom, why it ran, who acted, when),
2. the ranking of everyone who had room, with each person's rank keys in words
   (requested by the client, client history, seniority fit, free hours) — the
   order itself comes from ``dispatch.engine.ranking.rank_key``, never re-derived,
3. for an escalation, the conflict in one sentence by cause (skills, capacity,
   deadline) instead of a "gap 0.0 h" beside "none with room",
4. the candidate table with human labels ("Senior associate", "52 % — 21 of 40 h",
   "over by 8 h"),
5. who asked off the task and why, who confirmed a requested staffer and when.

Who may see what is the caller's decision (``DecisionLogScope``): staff see
their own figures only; colleagues' figures and the reasons they were passed
over are for managers and partners.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

from dispatch.choices import DecisionOutcome, Trigger
from dispatch.engine import TaskToPlace
from dispatch.engine.fit import CAPACITY_LABELS, DEADLINES, OVER_THRESHOLD, SHORT_OF_HOURS
from dispatch.engine.ranking import rank_key
from dispatch.messages import CAUSE_CAPACITY, CAUSE_DEADLINE, CAUSE_SKILLS, escalation_cause
from dispatch.models import DispatchDecision, Escalation, ReassignmentRequest
from dispatch.selectors import DecisionLog
from engagements.choices import TaskRole
from engagements.lifecycle import TaskAction, actors_for, refusal
from staff.choices import Seniority

Row = Mapping[str, Any]
# The capacity refusals, by the label the candidate rows carry (``rule``).
OVER, SHORT, SLIP = (CAPACITY_LABELS[code] for code in (OVER_THRESHOLD, SHORT_OF_HOURS, DEADLINES))

SENIORITY = dict(Seniority.choices)
# The rank keys, in the engine's order (``dispatch.engine.ranking.rank_key``).
RANK_KEYS = ("requested by the client", "client history", "seniority fit", "free hours")
RULE_PATH = {
    "estimate": "estimate",
    "season": "season hold",
    "skill": "skills",
    "guardrail": "seniority",
    "reviewer": "reviewer rules",
    "requested": "client's request",
    "requested-not-qualified": "request not qualified",
    "urgent": "urgent",
    "capacity": "capacity",
    "deadline-fit": "deadline fit",
    "rank": "ranking",
    "escalate": "escalated",
    "manual": "by hand",
}
OUTCOME_HEADLINE = {
    DecisionOutcome.ASSIGNED: "Assigned to {name}",
    DecisionOutcome.NEEDS_CONFIRMATION: "{name} proposed: the client asked for them",
    DecisionOutcome.ESCALATED: "Escalated: nobody fits",
    DecisionOutcome.HELD_MISSING_ESTIMATE: "Held: the task needs an estimate",
    DecisionOutcome.SUPPRESSED: "Held for the season",
}


# --- Figures in words ---------------------------------------------------------------


def number(value: float) -> str:
    """An amount of hours to one decimal, without a trailing ".0": "1.5", "21"."""
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def hours(value: float | None) -> str:
    """Hours the one way every page writes them: "1.5 h", "21 h", "0 h"."""
    return "—" if value is None else f"{number(value)} h"


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{round(float(fraction) * 100)} %"


def seniority_label(level: object) -> str:
    try:
        return SENIORITY[int(level)]  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return "—"


# The engine's seniority refusals carry levels as numbers (it is plain data); people read
# the firm's titles. Reasons: "seniority 2 < required 3", "over-qualified: seniority 6 > 5
# for the preparer of this work"; counted labels: "seniority below 3",
# "over-qualified (seniority above 5)".
_BELOW = re.compile(r"^seniority (\d+) < required (\d+)$")
_OVER = re.compile(r"^over-qualified: seniority (\d+) > (\d+) for the (\w+) of this work$")
_BELOW_LABEL = re.compile(r"^seniority below (\d+)$")
_OVER_LABEL = re.compile(r"^over-qualified \(seniority above (\d+)\)$")


def refusal_in_words(text: str) -> str:
    """An engine refusal with seniority levels named as the firm names them."""
    if match := _BELOW.match(text):
        held, needed = (seniority_label(level) for level in match.groups())
        return f"{held}: this work needs at least {needed}"
    if match := _OVER.match(text):
        held, most = (seniority_label(level) for level in match.groups()[:2])
        doing = {"preparer": "prepare", "reviewer": "review"}.get(match[3], "take")
        return f"Over-qualified: a {held} does not {doing} this work (at most {most})"
    if match := _BELOW_LABEL.match(text):
        return f"below {seniority_label(match[1])}"
    if match := _OVER_LABEL.match(text):
        return f"over-qualified (above {seniority_label(match[1])})"
    return text


def utilization_text(
    fraction: float | None, committed: float | None, available: float | None
) -> str:
    """ "52 % — 21 of 40 h" when the hours are known (older decisions: "52 %")."""
    if fraction is None:
        return "no hours this week"
    if not available:
        return percent(fraction)
    return f"{percent(fraction)} — {number(committed or 0)} of {hours(available)}"


def free_text(value: float | None) -> str:
    """Free hours before the deadline: "12 h free", "none free", "over by 8 h"."""
    if value is None:
        return "—"
    value = float(value)
    if round(value, 1) > 0:
        return f"{hours(value)} free"
    if round(value, 1) == 0:
        return "none free"
    return f"over by {hours(-value)}"


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return date_format(timezone.localtime(value), "M j, H:i")


def day(value: date) -> str:
    return date_format(value, "D M j")


def person(user: Any) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


# --- One candidate -----------------------------------------------------------------


@dataclass(frozen=True)
class CandidateView:
    staff_id: int
    name: str
    seniority: str
    now: str  # utilization now, with hours
    with_task: str
    threshold: str
    free: str
    history: str
    verdict: str
    kept: bool
    qualified: bool
    chosen: bool
    is_me: bool


def _verdict(row: Row, *, chosen: bool) -> str:
    if row.get("kept"):
        return "Chosen" if chosen else "Had room; ranked lower"
    rule = row.get("rule")
    if rule == OVER:
        return (
            f"Would be at {percent(row.get('utilization_after'))} with this task "
            f"(threshold {percent(row.get('threshold'))})"
        )
    if rule == SHORT:
        return f"Not enough time before the due date: {free_text(row.get('available_before_deadline'))}"
    if rule == SLIP:
        return "Has room, but another deadline of theirs would slip"
    reason = refusal_in_words(str(row.get("reason") or ""))
    return reason[:1].upper() + reason[1:]


def _candidate(row: Row, *, chosen_id: int | None, me: int | None) -> CandidateView:
    staff_id = int(row["staff_id"])
    task_week = row.get("task_week") or 0.0
    committed = row.get("committed_week")
    return CandidateView(
        staff_id=staff_id,
        name=str(row.get("name", "")),
        seniority=seniority_label(row.get("seniority")),
        now=utilization_text(row.get("utilization"), committed, row.get("available_week")),
        with_task=utilization_text(
            row.get("utilization_after"),
            None if committed is None else float(committed) + float(task_week),
            row.get("available_week"),
        ),
        threshold=percent(row.get("threshold")),
        free=free_text(row.get("available_before_deadline")),
        history=_history(int(row.get("familiarity") or 0)),
        verdict=_verdict(row, chosen=staff_id == chosen_id),
        kept=bool(row.get("kept")),
        qualified=bool(row.get("qualified")),
        chosen=staff_id == chosen_id,
        is_me=staff_id == me,
    )


def _history(count: int) -> str:
    return "new to this client" if not count else f"{plural(count, 'earlier task')} for this client"


# --- The ranking ---------------------------------------------------------------------


@dataclass(frozen=True)
class RankedView:
    position: int
    name: str
    keys: tuple[str, ...]  # each rank key in words, in the engine's order
    chosen: bool
    is_me: bool


def _facts(role: str, requested_id: int | None) -> TaskToPlace:
    """Only what ``rank_key`` reads: the role and whom the client asked for."""
    return TaskToPlace(
        task_id=0,
        role=role,
        client_id=0,
        due_date=date.min,
        estimated_hours=None,
        engagement_requested_staff_id=requested_id,
    )


def _key(facts: TaskToPlace, row: Row) -> tuple[object, ...]:
    return rank_key(
        facts,
        staff_id=int(row["staff_id"]),
        familiarity=int(row.get("familiarity") or 0),
        seniority=int(row.get("seniority") or 0),
        free_hours=float(row.get("available_before_deadline") or 0.0),
    )


def _keys_in_words(row: Row, *, role: str, requested: bool) -> tuple[str, ...]:
    words = []
    if requested:
        words.append("requested by the client")
    words.append(_history(int(row.get("familiarity") or 0)))
    if role == TaskRole.PREPARER:
        words.append(f"seniority fit: {seniority_label(row.get('seniority'))}")
    words.append(free_text(row.get("available_before_deadline")) + " before the due date")
    return tuple(words)


def _why_first(facts: TaskToPlace, first: Row, second: Row) -> str:
    """Why the top of the ranking beat the next person: the first rank key that differs."""
    a, b = _key(facts, first), _key(facts, second)
    name, other = first.get("name"), second.get("name")
    for index, (x, y) in enumerate(zip(a, b, strict=True)):
        if x == y:
            continue
        if index == 0:
            return f"{name} ranked above {other}: the client asked for {name}."
        if index == 1:
            return (
                f"{name} ranked above {other}: more history with this client "
                f"({first.get('familiarity') or 0} earlier tasks against "
                f"{second.get('familiarity') or 0})."
            )
        if index == 2:
            return (
                f"{name} ranked above {other}: the closer seniority fit for preparing it "
                f"({seniority_label(first.get('seniority'))}, not "
                f"{seniority_label(second.get('seniority'))})."
            )
        if index == 3:
            return (
                f"{name} ranked above {other}: more free time before the due date "
                f"({free_text(first.get('available_before_deadline'))} against "
                f"{free_text(second.get('available_before_deadline'))})."
            )
        return f"{name} and {other} tied on every key; the roster order decided."
    return ""


# --- The conflict of an escalation ------------------------------------------------------


def escalation_conflict(escalation: Escalation) -> str:
    """What stands in the way, in one sentence by cause (the digest's causes)."""
    decision = escalation.decision
    rows: list[Row] = list(decision.candidates or [])
    qualified = [row for row in rows if row.get("qualified")]
    cause = escalation_cause(escalation)
    if cause == CAUSE_SKILLS:
        counts: Counter[str] = Counter(
            refusal_in_words(str(row.get("rule") or row.get("reason"))) for row in rows
        )
        for label, count in decision.rejections or []:
            counts[refusal_in_words(str(label))] += int(count)
        if not counts:
            return "Nobody on the roster holds the skills this work needs."
        parts = [f"{count} {label}" for label, count in counts.most_common(3)]
        return "Nobody holds the skills and seniority: " + "; ".join(parts) + "."
    if cause == CAUSE_CAPACITY:
        least = min(qualified, key=lambda row: float(row.get("utilization_after") or 0))
        return (
            f"Everyone qualified would pass their threshold with this task: the least busy, "
            f"{least.get('name')}, would be at {percent(least.get('utilization_after'))} "
            f"(threshold {percent(least.get('threshold'))})."
        )
    if cause == CAUSE_DEADLINE:
        # The people with room this week were short of time: the most free of them.
        within = [row for row in qualified if row.get("rule") != OVER] or qualified
        best = max(within, key=lambda row: float(row.get("available_before_deadline") or 0))
        needed = escalation.task.estimated_hours
        weight = escalation.task.engagement.work_type.complexity_weight
        need = float(needed or 0) * float(weight)
        if best.get("rule") == SLIP:
            return (
                f"{best.get('name')} has room this week, but taking it would make another of "
                f"their deadlines slip; nobody qualified can finish it by {day(escalation.task.due_date)} otherwise."
            )
        return (
            f"Not enough time before {day(escalation.task.due_date)}: the most free, "
            f"{best.get('name')}, has {free_text(best.get('available_before_deadline'))} of the "
            f"{hours(need)} it needs."
        )
    return ""


# --- One decision -----------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionLogScope:
    """Who is reading: their own staff id, and whether they may see colleagues' figures
    (managers and partners). Decided by the view, applied here."""

    me: int | None
    sees_colleagues: bool


@dataclass
class DecisionView:
    pk: int
    headline: str
    trigger: str
    at: str
    actor: str
    tags: list[str]
    reasons: list[str]
    rule_path: str
    conflict: str = ""
    why_first: str = ""
    ranking: list[RankedView] = field(default_factory=list)
    candidates: list[CandidateView] = field(default_factory=list)
    not_listed: str = ""  # people counted by reason, or hidden from staff
    confirmation: str = ""
    asked_off: list[str] = field(default_factory=list)
    awaiting_confirmation: bool = False
    assignee_name: str = ""


def _assignee_name(decision: DispatchDecision) -> str:
    """From the decision's own table when it lists them (no query), else their record."""
    if decision.assignee_id is None:
        return ""
    for row in decision.candidates or []:
        if row.get("staff_id") == decision.assignee_id:
            return str(row.get("name"))
    return decision.assignee.display_name if decision.assignee else ""


def _headline(decision: DispatchDecision) -> str:
    template = OUTCOME_HEADLINE.get(decision.outcome, "{name}")  # type: ignore[call-overload]
    name = _assignee_name(decision)
    if decision.trigger == Trigger.MANUAL:
        return f"Assigned by hand to {name}"
    return template.format(name=name)


def _confirmation(decision: DispatchDecision) -> str:
    if decision.outcome != DecisionOutcome.NEEDS_CONFIRMATION:
        return ""
    if decision.confirmed_at is None:
        return "Waiting for a manager to confirm or decline."
    verb = "Declined" if decision.declined else "Confirmed"
    return f"{verb} by {person(decision.confirmed_by)} on {moment(decision.confirmed_at)}."


def _tags(decision: DispatchDecision) -> list[str]:
    tags = []
    if decision.is_override:
        tags.append("manual override")
    if decision.urgent_override:
        tags.append("urgent override")
    if decision.requested_override:
        tags.append("client request")
    if decision.over_threshold:
        tags.append("over threshold")
    return tags


def decision_view(
    decision: DispatchDecision,
    *,
    scope: DecisionLogScope,
    role: str,
    requested_id: int | None,
    asked_off: Iterable[ReassignmentRequest] = (),
    escalation: Escalation | None = None,
) -> DecisionView:
    """One decision, worded for ``scope``'s reader."""
    rows: list[Row] = list(decision.candidates or [])
    chosen_id = decision.assignee_id
    view = DecisionView(
        pk=decision.pk,
        headline=_headline(decision),
        trigger=decision.get_trigger_display(),
        at=moment(decision.created_at),
        actor=person(decision.actor) if decision.actor_id else "",
        tags=_tags(decision),
        reasons=[],
        rule_path=" → ".join(RULE_PATH.get(step, step) for step in decision.rule_path or []),
        confirmation=_confirmation(decision),
        awaiting_confirmation=decision.awaiting_confirmation,
        assignee_name=_assignee_name(decision),
    )
    view.asked_off = [asked_off_text(request) for request in asked_off]
    if decision.outcome == DecisionOutcome.ESCALATED and escalation is not None:
        view.conflict = escalation_conflict(escalation)
        view.reasons = [str(decision.reasons[0])] if decision.reasons else []
    else:
        view.reasons = [str(reason) for reason in decision.reasons or []]

    facts = _facts(role, requested_id)
    survivors = [row for row in rows if row.get("kept")]
    survivors.sort(key=lambda row: _key(facts, row))
    if scope.sees_colleagues:
        view.ranking = [
            RankedView(
                position=index,
                name=str(row.get("name")),
                keys=_keys_in_words(row, role=role, requested=int(row["staff_id"]) == requested_id),
                chosen=int(row["staff_id"]) == chosen_id,
                is_me=int(row["staff_id"]) == scope.me,
            )
            for index, row in enumerate(survivors, start=1)
        ]
        if len(survivors) > 1 and int(survivors[0]["staff_id"]) == chosen_id:
            view.why_first = _why_first(facts, survivors[0], survivors[1])
        view.candidates = [_candidate(row, chosen_id=chosen_id, me=scope.me) for row in rows]
        counted = sum(int(count) for _label, count in decision.rejections or [])
        if counted:
            view.not_listed = "Not listed one by one: " + "; ".join(
                f"{count} × {refusal_in_words(str(label))}" for label, count in decision.rejections
            )
    else:
        mine = [row for row in rows if int(row["staff_id"]) == scope.me]
        view.candidates = [_candidate(row, chosen_id=chosen_id, me=scope.me) for row in mine]
        for index, row in enumerate(survivors, start=1):
            if int(row["staff_id"]) == scope.me:
                view.ranking = [
                    RankedView(
                        position=index,
                        name=str(row.get("name")),
                        keys=_keys_in_words(
                            row, role=role, requested=int(row["staff_id"]) == requested_id
                        ),
                        chosen=int(row["staff_id"]) == chosen_id,
                        is_me=True,
                    )
                ]
        others = (decision.candidate_count or len(rows)) - len(mine)
        if others > 0:
            view.not_listed = (
                f"{plural(others, 'colleague')} also considered; their figures are for "
                "managers and partners."
            )
        if decision.outcome == DecisionOutcome.ESCALATED:
            view.reasons = view.reasons[:1]
        elif chosen_id != scope.me:
            view.reasons = []  # the figures in them are a colleague's
    return view


def asked_off_text(request: ReassignmentRequest) -> str:
    return (
        f"{request.staff_member.display_name} asked to be taken off it on "
        f"{moment(request.created_at)}: “{request.reason}”"
    )


def decision_log(*, role: str, log: DecisionLog, scope: DecisionLogScope) -> list[DecisionView]:
    """The task page's decision log, newest first, worded for ``scope``'s reader. A
    request to be taken off a task shows on the decision that gave it to them."""
    by_decision: dict[int, list[ReassignmentRequest]] = {}
    for request in log.asked_off:
        if scope.sees_colleagues or request.staff_member_id == scope.me:
            by_decision.setdefault(request.decision_id or 0, []).append(request)
    return [
        decision_view(
            decision,
            scope=scope,
            role=role,
            requested_id=log.requested_id,
            asked_off=by_decision.get(decision.pk, ()),
            escalation=log.escalations.get(decision.pk),
        )
        for decision in log.decisions
    ]


# --- The escalations page -----------------------------------------------------------------

CAUSE_KEYS = {CAUSE_SKILLS: "skills", CAUSE_CAPACITY: "capacity", CAUSE_DEADLINE: "deadline"}


@dataclass
class EscalationCard:
    """One open escalation as the escalations page shows it (the view adds its forms)."""

    escalation: Escalation
    cause_key: str  # skills | capacity | deadline: what the filter and the digest group by
    cause: str
    conflict: str
    due: str
    estimate: str
    opened: str
    candidates: list[tuple[int, str]]  # the qualified people, best first: (staff id, label)
    asked_off: list[str]
    informed: str = ""
    forms: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> tuple[int, str] | None:
        return self.candidates[0] if self.candidates else None


def _option(row: Row) -> str:
    week = utilization_text(
        row.get("utilization"), row.get("committed_week"), row.get("available_week")
    )
    free = free_text(row.get("available_before_deadline"))
    return f"{row.get('name')} · {week} this week · {free} before the due date"


def escalation_card(escalation: Escalation) -> EscalationCard:
    """``escalation`` with its decision, task, engagement, client and work type loaded,
    and its task's reassignment requests prefetched (``escalation_list``)."""
    task = escalation.task
    cause = escalation_cause(escalation)
    qualified = [row for row in escalation.decision.candidates or [] if row.get("qualified")]
    requests = list(task.reassignment_requests.all())
    return EscalationCard(
        escalation=escalation,
        cause_key=CAUSE_KEYS.get(cause, ""),
        cause=cause,
        conflict=escalation_conflict(escalation),
        due=day(task.due_date),
        estimate=hours(float(task.estimated_hours)) if task.estimated_hours else "no estimate",
        opened=moment(escalation.created_at),
        candidates=[(int(row["staff_id"]), _option(row)) for row in qualified],
        asked_off=[asked_off_text(request) for request in requests],
        informed=(
            f"Client informed {moment(escalation.client_informed_at)}"
            if escalation.client_informed_at
            else ""
        ),
    )


def outcome_note(decision: DispatchDecision) -> str:
    """What a re-dispatch came to, in a few words."""
    if decision.outcome == DecisionOutcome.ASSIGNED and decision.assignee:
        return f"assigned to {decision.assignee.display_name}."
    if decision.outcome == DecisionOutcome.NEEDS_CONFIRMATION and decision.assignee:
        return f"{decision.assignee.display_name} proposed, waiting for confirmation."
    if decision.outcome == DecisionOutcome.ESCALATED:
        return "still nobody fits; the escalation stays open with the new figures."
    return decision.get_outcome_display().lower() + "."


@dataclass(frozen=True)
class SortLink:
    label: str
    query: str  # the page's query string with this sort
    current: bool


SORT_LABELS = (
    ("due", "Due date"),
    ("-due", "Latest due"),
    ("client", "Client"),
    ("cause", "Reason"),
    ("-opened", "Newest"),
)


def sort_links(query: Any, *, current: str) -> list[SortLink]:
    """The sort choices as links keeping the page's filters (``query``: a QueryDict)."""
    links = []
    for key, label in SORT_LABELS:
        copy = query.copy()
        copy["sort"] = key
        links.append(SortLink(label=label, query=copy.urlencode(), current=key == current))
    return links


# --- Completing a task ---------------------------------------------------------------------


def complete_refusal(task: Any, *, is_assignee: bool, is_manager: bool) -> str:
    """Why this person cannot complete ``task`` now, in words; "" when they can."""
    refused = refusal(
        TaskAction.COMPLETE,
        status=task.status,
        actors=actors_for(is_assignee=is_assignee, is_manager=is_manager),
    )
    return refused.message if refused is not None else ""


def complete_consequence(task: Any) -> str:
    """What completing sets off, so nobody completes by mistake."""
    if task.role == TaskRole.PREPARER and task.engagement.work_type.reviewer_required:
        return "The preparation is done: the review is sent to a reviewer, and you cannot undo it here."
    if task.role == TaskRole.REVIEWER:
        return (
            "The review is done: the engagement moves on to invoicing, and you cannot undo it here."
        )
    return "The work is done: the engagement moves on, and you cannot undo it here."


# --- The confirmations page --------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmationRow:
    decision: DispatchDecision
    why: str
    asked_off: list[str]


def confirmation_row(decision: DispatchDecision) -> ConfirmationRow:
    """A requested staffer waiting for a manager (``confirmation_list`` loads the rest)."""
    requested = next(
        (row for row in decision.candidates or [] if row.get("staff_id") == decision.assignee_id),
        None,
    )
    name = decision.assignee.display_name if decision.assignee else "the requested person"
    if requested is not None and not requested.get("kept"):
        verdict = _verdict(requested, chosen=False)
        why = (
            f"The client asked for {name}, so a manager must confirm: "
            f"{verdict[:1].lower()}{verdict[1:]}."
        )
    else:
        why = " ".join(str(reason) for reason in decision.reasons or [])
    return ConfirmationRow(
        decision=decision,
        why=why,
        asked_off=[asked_off_text(r) for r in decision.task.reassignment_requests.all()],
    )
