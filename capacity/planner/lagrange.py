"""A lower bound by Lagrangian relaxation, and the prices it finds (numpy).

Each person's room and deadline windows are moved into the objective at a price per
unit (``λ`` for the room, ``μ`` per window); what is left falls apart task by task:
each task takes its option with the least reduced cost (pairing cost + the prices of
the hours it uses), or waits. For any prices that sum, minus the prices of the room
itself, is a lower bound on every plan (the classic bound for the Generalized
Assignment Problem; as strong as the linear relaxation at its best, and each step is
a few array operations over the options). The prices are improved by subgradient
steps toward the best plan known.

Only limits are relaxed; reviewer ≠ preparer is dropped (a relaxation may drop a
constraint: the bound stays valid). Where a limit is soft its price cannot exceed
the price of breaking it (overload, lateness per hour). Everything is in
``Indexed``'s scaled integers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from capacity.planner.indexed import UNPLACED, Indexed

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Lagrangian:
    bound: float  # a valid lower bound on the scaled objective (pinned work included)
    reduced: list[list[float]]  # per free task, per option: its cost at the best prices


def lagrangian(ix: Indexed, *, upper: float, seconds: float, iterations: int = 400) -> Lagrangian:
    """The best bound found within ``seconds`` (or ``iterations`` steps), ``upper``
    being the value of a known plan (the target of the steps)."""
    started = time.perf_counter()
    n_people, k_windows = len(ix.people), ix.k_windows
    task_of: list[int] = []
    person: list[int] = []
    load: list[int] = []
    hours: list[int] = []
    cost: list[float] = []
    window: list[int] = []
    for i, row in enumerate(ix.opts):
        w = ix.window[i]
        for at, h, ld, c in row:
            task_of.append(i)
            person.append(at)
            load.append(ld)
            hours.append(h)
            cost.append(c)
            window.append(w if w is not None and ix.has_windows(at) else -1)
        if not ix.required[i] or not row:
            # Waiting: the unplaced price (nothing, for a task nobody may take).
            task_of.append(i)
            person.append(UNPLACED)
            load.append(0)
            hours.append(0)
            cost.append(float(ix.unplaced_cost or 0) if not ix.required[i] else 0.0)
            window.append(-1)
    if not task_of:
        return Lagrangian(float(ix.pinned_cost), [])
    tasks = np.asarray(task_of, dtype=np.int64)
    opt_at = np.asarray(person, dtype=np.int64)
    placed = opt_at != UNPLACED
    at_safe = np.where(placed, opt_at, 0)
    opt_ld = np.asarray(load, dtype=np.float64)
    opt_h = np.asarray(hours, dtype=np.float64)
    opt_c = np.asarray(cost, dtype=np.float64)
    opt_w = np.asarray(window, dtype=np.int64)
    windowed = opt_w >= 0
    w_safe = np.where(windowed, opt_w, 0)
    starts = np.flatnonzero(np.concatenate(([True], tasks[1:] != tasks[:-1])))
    # Room left by pinned work, per person and per window (cumulative).
    room = np.asarray(ix.cap, dtype=np.float64) - np.asarray(ix.base_usage, dtype=np.float64)
    if k_windows:
        rooms = np.asarray(ix.rooms, dtype=np.float64) - np.cumsum(
            np.asarray(ix.base_window, dtype=np.float64), axis=1
        )
        has_windows = np.asarray([ix.has_windows(p) for p in range(n_people)], dtype=np.bool_)
    else:
        rooms = np.zeros((n_people, 0))
        has_windows = np.zeros(n_people, dtype=np.bool_)
    # Price ceilings: a soft limit is never worth more than breaking it.
    over_cap = np.asarray(
        [ix.over_price(p) if ix.over_price(p) is not None else math.inf for p in range(n_people)],
        dtype=np.float64,
    )
    late_cap = math.inf if ix.late_cost is None else float(ix.late_cost)
    lam = np.zeros(n_people)
    mu = np.zeros((n_people, k_windows))
    best = -math.inf
    best_lam, best_mu = lam.copy(), mu.copy()
    theta = 2.0
    stale = 0
    for _ in range(iterations):
        if time.perf_counter() - started > seconds:
            break
        suffix = np.cumsum(mu[:, ::-1], axis=1)[:, ::-1] if k_windows else mu
        reduced = opt_c.copy()
        reduced[placed] += lam[at_safe[placed]] * opt_ld[placed]
        if k_windows:
            both = placed & windowed
            reduced[both] += suffix[at_safe[both], w_safe[both]] * opt_h[both]
        mins = np.minimum.reduceat(reduced, starts)
        value = float(mins.sum()) - float(lam @ room) + ix.pinned_cost
        if k_windows:
            value -= float((mu * np.where(has_windows[:, None], rooms, 0.0)).sum())
        if value > best + 1e-9:
            best, best_lam, best_mu, stale = value, lam.copy(), mu.copy(), 0
        else:
            stale += 1
            if stale >= 15:
                theta, stale = theta / 2, 0
                if theta < 1e-4:
                    break
        # The subgradient: what the cheapest choices use minus the room.
        chosen = _first_minimum(reduced, mins, tasks, starts)
        use = placed[chosen]
        g_room = (
            np.bincount(
                at_safe[chosen][use], weights=opt_ld[chosen][use], minlength=n_people
            ).astype(np.float64)
            - room
        )
        # A price only rises where the limit binds or falls back to zero.
        g_room = np.where((lam <= 0) & (g_room < 0), 0.0, g_room)
        norm = float(g_room @ g_room)
        g_window = np.zeros((n_people, k_windows))
        if k_windows:
            both = use & windowed[chosen]
            np.add.at(
                g_window,
                (at_safe[chosen][both], w_safe[chosen][both]),
                opt_h[chosen][both],
            )
            g_window = np.cumsum(g_window, axis=1) - rooms
            g_window[~has_windows] = 0.0
            g_window = np.where((mu <= 0) & (g_window < 0), 0.0, g_window)
            norm += float((g_window * g_window).sum())
        if norm <= 1e-12:
            break  # the cheapest choices keep every limit: the bound is exact
        step = theta * max(upper - value, 1e-6 * max(abs(upper), 1.0)) / norm
        lam = np.minimum(np.maximum(lam + step * g_room, 0.0), over_cap)
        if k_windows:
            mu = np.maximum(mu + step * g_window, 0.0)
            total = mu.sum(axis=1)
            over = total > late_cap
            if over.any():
                mu[over] *= (late_cap / total[over])[:, None]
    # Each option's reduced cost at the best prices (an order for a first-fit start).
    suffix = np.cumsum(best_mu[:, ::-1], axis=1)[:, ::-1] if k_windows else best_mu
    reduced = opt_c.copy()
    reduced[placed] += best_lam[at_safe[placed]] * opt_ld[placed]
    if k_windows:
        both = placed & windowed
        reduced[both] += suffix[at_safe[both], w_safe[both]] * opt_h[both]
    per_task: list[list[float]] = [[] for _ in ix.opts]
    for i, p, r in zip(tasks.tolist(), opt_at.tolist(), reduced.tolist(), strict=True):
        if p != UNPLACED:
            per_task[i].append(r)
    # Off by float rounding at most: keep the bound on the safe side.
    return Lagrangian(best - 1e-9 * abs(best) - 1e-6, per_task)


def _first_minimum(reduced: Floats, mins: Floats, tasks: Ints, starts: Ints) -> Ints:
    """The position of each task's cheapest option (the first, on a tie)."""
    positions = np.flatnonzero(reduced <= mins[tasks])
    first = np.concatenate(([True], tasks[positions][1:] != tasks[positions][:-1]))
    chosen: Ints = positions[first]
    assert len(chosen) == len(starts)
    return chosen
