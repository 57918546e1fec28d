"""The exact models: CP-SAT over some (or all) people and tasks, and the LP relaxation.

``SubModel`` builds the integer model with everything outside it fixed as a given
choice says: the full problem for a bound or a proof, a few people's tasks for the
local search. ``relaxation`` solves the linear relaxation with GLOP: a valid lower
bound on the objective within a second or two, and a rounded assignment to start from.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from capacity.planner.indexed import UNPLACED, Indexed


class SubModel:
    """The CP-SAT model of the free tasks ``tasks`` among ``people``; every other free
    task stays where ``fixed`` puts it. With ``soft``, a hard limit may be broken at
    the search's price (``Indexed.hard_price``)."""

    def __init__(
        self,
        ix: Indexed,
        tasks: Sequence[int],
        people: Iterable[int],
        fixed: Sequence[int],
        *,
        soft: bool = False,
    ) -> None:
        self.ix = ix
        self.tasks = list(tasks)
        self.people = set(people)
        model = self.model = cp_model.CpModel()
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        self.u: dict[int, cp_model.IntVar] = {}
        terms: list[cp_model.IntVar] = []
        coefs: list[int] = []
        in_play = set(self.tasks)
        load_terms: dict[int, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
        window_terms: dict[int, list[tuple[cp_model.IntVar, int, int]]] = defaultdict(list)
        for i in self.tasks:
            lits = []
            w = ix.window[i]
            for at, h, ld, c in ix.opts[i]:
                if at not in self.people:
                    continue
                var = model.new_bool_var("")
                self.x[(i, at)] = var
                lits.append(var)
                terms.append(var)
                coefs.append(c)
                load_terms[at].append((var, ld))
                if w is not None and ix.has_windows(at):
                    window_terms[at].append((var, h, w))
            if not ix.required[i] or not lits:
                unplaced = model.new_bool_var("")
                self.u[i] = unplaced
                lits.append(unplaced)
                if not ix.required[i] and ix.unplaced_cost is not None:
                    terms.append(unplaced)
                    coefs.append(ix.unplaced_cost)
            model.add_exactly_one(lits)
        fixed_load: dict[int, int] = defaultdict(int)
        fixed_window: dict[int, list[int]] = defaultdict(lambda: [0] * ix.k_windows)
        holder: dict[int, int] = {}
        for i, person in enumerate(fixed):
            if i in in_play or person == UNPLACED:
                continue
            holder[i] = person
            if person in self.people:
                _, h, ld, _ = ix.lookup[i][person]
                fixed_load[person] += ld
                w = ix.window[i]
                if w is not None:
                    fixed_window[person][w] += h
        late_price = ix.late_price(soft=soft)
        for at in sorted(self.people):
            room = ix.cap[at] - ix.base_usage[at] - fixed_load[at]
            loads = load_terms[at]
            if loads or room < 0:
                expr = cp_model.LinearExpr.weighted_sum(
                    [v for v, _ in loads], [ld for _, ld in loads]
                )
                over_price = ix.over_price(at, soft=soft)
                if over_price is not None:
                    top = max(0, sum(ld for _, ld in loads) - room)
                    over = model.new_int_var(0, top, "")
                    model.add(expr - over <= room)
                    terms.append(over)
                    coefs.append(over_price)
                else:
                    # Already past a hard limit: only work that adds nothing to it.
                    model.add(expr <= max(room, 0))
            if ix.has_windows(at):
                self._windows(at, window_terms[at], fixed_window[at], late_price, terms, coefs)
        for a, b in ix.apart:
            for at in self.people:
                va, vb = self.x.get((a, at)), self.x.get((b, at))
                if va is not None and vb is not None:
                    model.add_at_most_one([va, vb])
                elif va is not None and holder.get(b) == at:
                    model.add(va == 0)
                elif vb is not None and holder.get(a) == at:
                    model.add(vb == 0)
        model.minimize(cp_model.LinearExpr.weighted_sum(terms, coefs))

    def _windows(
        self,
        at: int,
        members: list[tuple[cp_model.IntVar, int, int]],
        fixed: list[int],
        late_price: int | None,
        terms: list[cp_model.IntVar],
        coefs: list[int],
    ) -> None:
        ix, model = self.ix, self.model
        base = [b + f for b, f in zip(ix.base_window[at], fixed, strict=True)]
        late = None
        if late_price is not None:
            top = max(0, sum(h for _, h, _ in members) + sum(base))
            late = model.new_int_var(0, top, "")
            terms.append(late)
            coefs.append(late_price)
        running = 0
        for k in range(ix.k_windows):
            running += base[k]
            inside = [(v, h) for v, h, w in members if w <= k]
            room = ix.rooms[at][k] - running
            if room >= sum(h for _, h in inside):
                continue  # cannot bind: everything that could land here fits
            expr = cp_model.LinearExpr.weighted_sum([v for v, _ in inside], [h for _, h in inside])
            model.add(expr - late <= room if late is not None else expr <= room)

    def hint(self, choice: Sequence[int]) -> None:
        for (i, at), var in self.x.items():
            self.model.add_hint(var, choice[i] == at)
        for i, var in self.u.items():
            self.model.add_hint(var, choice[i] == UNPLACED)

    def solve(
        self, seconds: float, workers: int, seed: int
    ) -> tuple[cp_model.CpSolverStatus, list[int] | None, float]:
        """(status, the choice for the tasks in play or None, the proved bound)."""
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(seconds, 0.01)
        solver.parameters.num_workers = max(1, workers)
        solver.parameters.random_seed = seed
        if len(self.tasks) < len(self.ix.free):
            # A neighbourhood: small and solved many times; presolve costs more than it saves.
            solver.parameters.cp_model_presolve = False
        status = solver.solve(self.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # No assignment in time, but the bound proved so far still holds.
            proved = solver.best_objective_bound if status == cp_model.UNKNOWN else -math.inf
            return status, None, proved
        picks = []
        for i in self.tasks:
            chosen = UNPLACED
            for at, *_ in self.ix.opts[i]:
                var = self.x.get((i, at))
                if var is not None and solver.boolean_value(var):
                    chosen = at
                    break
            picks.append(chosen)
        return status, picks, solver.best_objective_bound


def relaxation(ix: Indexed) -> tuple[float, list[int], set[int]] | None:
    """The LP relaxation (GLOP): (its optimum, a valid lower bound on the scaled
    objective; each task rounded to its largest share; the tasks it splits). None if
    GLOP fails."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:
        return None
    infinity = solver.infinity()
    objective = solver.Objective()
    x: list[list[tuple[int, pywraplp.Variable]]] = []
    load_ct: dict[int, pywraplp.Constraint] = {}
    window_ct: dict[tuple[int, int], pywraplp.Constraint] = {}
    for at in range(len(ix.people)):
        ct = load_ct[at] = solver.Constraint(-infinity, ix.cap[at] - ix.base_usage[at])
        over_price = ix.over_price(at)
        if over_price is not None:
            over = solver.NumVar(0, infinity, "")
            ct.SetCoefficient(over, -1)
            objective.SetCoefficient(over, over_price)
        elif ix.cap[at] - ix.base_usage[at] < 0:
            ct.SetBounds(-infinity, 0)
        if ix.has_windows(at):
            late = solver.NumVar(0, infinity, "") if ix.late_cost is not None else None
            if late is not None:
                objective.SetCoefficient(late, ix.late_cost)
            running = 0
            for k in range(ix.k_windows):
                running += ix.base_window[at][k]
                ct = window_ct[(at, k)] = solver.Constraint(-infinity, ix.rooms[at][k] - running)
                if late is not None:
                    ct.SetCoefficient(late, -1)
    for i, row in enumerate(ix.opts):
        one = solver.Constraint(1, 1)
        mine = []
        w = ix.window[i]
        for at, h, ld, c in row:
            var = solver.NumVar(0, 1, "")
            one.SetCoefficient(var, 1)
            objective.SetCoefficient(var, c)
            load_ct[at].SetCoefficient(var, ld)
            if w is not None and ix.has_windows(at):
                for k in range(w, ix.k_windows):
                    window_ct[(at, k)].SetCoefficient(var, h)
            mine.append((at, var))
        if not ix.required[i] or not row:
            var = solver.NumVar(0, 1, "")
            one.SetCoefficient(var, 1)
            objective.SetCoefficient(var, ix.unplaced_cost or 0)
            mine.append((UNPLACED, var))
        x.append(mine)
    # Apart pairs: x_a,p + x_b,p <= 1 is implied in the relaxation by each summing to 1,
    # except when both could go to p; it is cheap enough to state.
    for a, b in ix.apart:
        shared = {at for at, _ in x[a]} & {at for at, _ in x[b]} - {UNPLACED}
        for at in shared:
            ct = solver.Constraint(-infinity, 1)
            ct.SetCoefficient(dict(x[a])[at], 1)
            ct.SetCoefficient(dict(x[b])[at], 1)
    objective.SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    choice = [
        max(mine, key=lambda item: item[1].solution_value())[0] if mine else UNPLACED for mine in x
    ]
    split = {
        i for i, mine in enumerate(x) if mine and max(v.solution_value() for _, v in mine) < 0.999
    }
    return objective.Value() + ix.pinned_cost, choice, split
