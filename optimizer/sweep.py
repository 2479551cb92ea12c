"""Budget sweeps: what each budget buys, and the cheapest budget reaching a coverage target.

:func:`sweep` solves one scenario at many budgets and returns a frozen
:class:`SweepResult`:

* **the frontier**: for each budget ``B_k`` (ascending) the solver status and gap, the
  total cost, the covered population and coverage share, and the number of contracts;
* **the units that enter and leave** between consecutive budgets (an optimum at a
  larger budget need not contain the smaller one: a unit can leave when a better pair
  becomes affordable);
* **the marginal coverage per unit of money** between consecutive budgets,

  .. math:: m_k = \\frac{C(B_k) - C(B_{k-1})}{B_k - B_{k-1}},

  where ``C(B)`` is the covered need-weighted population of the optimum at ``B`` (and
  ``m_k`` per unit of money actually spent, with ``B`` replaced by the total cost);
* **the smallest budget reaching each coverage target** ``tau``: one exact solve of the
  ``min-cost`` objective (cheapest set of contracts whose coverage share is at least
  ``tau``, same constraints as the scenario). Its total cost ``B*(tau)`` is the answer:
  every set of contracts costing less covers less than ``tau``, so any budget below
  ``B*(tau)`` misses the target. (Bisection on the budget would need many solves and
  only brackets the answer.)

Every budget is a pure function of (scenario, budget): the heavy inputs (units scored,
coverage relation, merged selection problem) are built once from the scenario, sent
once to each worker, and each task solves one budget. Executors: in process
(``workers=1``), local processes (``concurrent.futures.ProcessPoolExecutor``,
``workers=N``), or an existing Dask cluster (``dask_address``); results are identical
whichever runs them, and are returned in budget order.
"""

from __future__ import annotations

import math
import multiprocessing
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import InputError

Progress = Callable[[int, int], None]
"""``progress(done, total)`` called after each finished solve."""

SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9}


# --------------------------------------------------------------------------- parsing


def _money(text: str, spec: str, what: str) -> float:
    m = re.fullmatch(r"\s*([0-9][0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGbB]?)\s*", text)
    if not m:
        raise InputError(f"option --budgets: expected {what} as a non-negative number (optionally with k, M or G)", found=spec)
    value = float(m.group(1).replace("_", "")) * SUFFIXES[m.group(2).lower()]
    if not math.isfinite(value):
        raise InputError(f"option --budgets: expected a finite {what}", found=spec)
    return value


def parse_budgets(spec: str) -> np.ndarray:
    """Budgets from ``START:STOP:N`` (``N`` evenly spaced, both ends included) or ``A,B,C``.

    Amounts may carry a ``k``, ``M`` or ``G`` suffix. Returns the distinct budgets in
    ascending order.

    >>> parse_budgets("1M:2M:3").tolist()
    [1000000.0, 1500000.0, 2000000.0]
    >>> parse_budgets("300k, 100k,200000").tolist()
    [100000.0, 200000.0, 300000.0]
    """
    spec = spec.strip()
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise InputError("option --budgets: expected START:STOP:N (e.g. 1M:5M:20) or a comma list of budgets", found=spec)
        start, stop = _money(parts[0], spec, "START"), _money(parts[1], spec, "STOP")
        if not re.fullmatch(r"\s*[0-9]+\s*", parts[2]) or int(parts[2]) < 2:
            raise InputError("option --budgets: expected N, the number of budgets, as a whole number >= 2", found=spec)
        if stop <= start:
            raise InputError("option --budgets: expected START < STOP", found=spec)
        return np.linspace(start, stop, int(parts[2]))
    items = [p for p in spec.split(",")]
    if not spec or any(not p.strip() for p in items):
        raise InputError("option --budgets: expected START:STOP:N (e.g. 1M:5M:20) or a comma list of budgets", found=spec)
    values = np.unique([_money(p, spec, "a budget") for p in items])
    return values.astype(float)


def parse_targets(spec: str | None) -> tuple[float, ...]:
    """Coverage targets from ``0.8,0.9`` or ``80%,90%``: distinct shares in (0, 1], ascending.

    >>> parse_targets("90%, 0.8")
    (0.8, 0.9)
    >>> parse_targets("")
    ()
    """
    if spec is None or not spec.strip():
        return ()
    out = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(%?)\s*", part)
        value = float(m.group(1)) / (100.0 if m.group(2) else 1.0) if m else math.nan
        if not (0.0 < value <= 1.0):
            raise InputError("option --targets: expected coverage targets as shares in (0, 1] or percentages, e.g. 0.8,0.9", found=part.strip())
        out.append(value)
    return tuple(sorted(set(out)))


# --------------------------------------------------------------------------- one solve


@dataclass(frozen=True)
class BudgetPoint:
    """The result of one solve in a sweep (small and picklable: what a worker sends back).

    ``covered_need`` is the need-weighted covered population (the coverage objective),
    ``covered_population`` and ``coverage_share`` the plain ones (what targets refer to).
    """

    budget: float
    status: str
    gap: float | None
    objective: float | None
    total_cost: float
    covered_need: float
    covered_population: float
    coverage_share: float
    selected: tuple[str, ...]
    seconds: float = math.nan
    note: str = ""
    reached_population: float = math.nan
    unspent: float = math.nan
    utilisation: float = math.nan

    @property
    def feasible(self) -> bool:
        return self.status in ("optimal", "time_limit", "heuristic") and math.isfinite(self.total_cost)

    @classmethod
    def from_selection(cls, budget: float, result: Any, objective: str) -> BudgetPoint:
        """From an :class:`optimizer.select.SelectionResult` (an infeasible one has no values)."""
        if result.status == "infeasible":
            why = result.explanation or {}
            note = "; ".join(str(why[k]) for k in ("proof", "relax") if why.get(k)) or str(why.get("note", ""))
            return cls(float(budget), "infeasible", None, None, math.nan, math.nan, math.nan, math.nan, (), float(result.solve_time), note)
        stage = "quality" if objective == "quality-coverage" else ("cost" if objective == "min-cost" else "coverage")
        value = result.objective.get(stage)
        return cls(
            budget=float(budget),
            status=str(result.status),
            gap=None if result.gap is None else float(result.gap),
            objective=None if value is None else float(value),
            total_cost=float(result.total_cost),
            covered_need=float(result.covered_need),
            covered_population=float(result.covered_population),
            coverage_share=float(result.coverage_share),
            selected=tuple(sorted(str(u) for u in result.selected)),
            seconds=float(result.solve_time),
            reached_population=float(result.reached_population),
            unspent=float(result.spending.get("unspent") or 0.0) if result.spending.get("unspent") is not None else math.nan,
            utilisation=_utilisation(result),
        )


def _utilisation(result: Any) -> float:
    """Load over capacity of the selected units together (NaN without capacities)."""
    units = result.units
    if not result.capacity or not len(result.selected):
        return math.nan
    chosen = units[units["selected"]]
    capacity = float(chosen["capacity"].sum())
    return float(chosen["load"].sum()) / capacity if capacity > 0 else math.nan


@dataclass(frozen=True)
class SweepInputs:
    """The heavy inputs of a sweep, built once from the scenario and shipped once per worker.

    ``problem`` is the :class:`optimizer.select.SelectionProblem` and ``options`` the
    scenario's :class:`optimizer.select.solve.SelectionOptions` (must-keeps, exclusions,
    floors, solver, ...); a solve replaces only the budget, objective and target.
    ``solve_budget`` and ``solve_target`` are pure: the same inputs and budget (target)
    give the same answer in any process.
    """

    name: str
    problem: Any
    options: Any
    objective: str
    current_share: float | None = None

    @property
    def population(self) -> float:
        """Total population (the denominator of the coverage shares)."""
        return float(np.sum(self.problem.population))

    @property
    def need(self) -> float:
        """Total need-weighted population."""
        return float(np.sum(self.problem.need))

    def solve_budget(self, budget: float) -> BudgetPoint:
        """The best selection at ``budget`` (the scenario's objective, coverage by default)."""
        from optimizer.select.solve import solve_options

        opts = replace(self.options, budget=float(budget), objective=self.objective, target=None)
        return BudgetPoint.from_selection(budget, solve_options(self.problem, opts), self.objective)

    def solve_target(self, target: float) -> BudgetPoint:
        """The cheapest selection whose coverage share is at least ``target`` (min-cost).

        Its ``budget`` is the selection's total cost: the smallest budget reaching the target.
        """
        from optimizer.select.solve import solve_options

        opts = replace(self.options, budget=None, objective="min-cost", target=float(target))
        result = solve_options(self.problem, opts)
        return BudgetPoint.from_selection(float(result.total_cost), result, "min-cost")


def _task(inputs: SweepInputs, kind: str, value: float) -> BudgetPoint:
    return inputs.solve_budget(value) if kind == "budget" else inputs.solve_target(value)


_WORKER_INPUTS: SweepInputs | None = None


def _init_worker(inputs: SweepInputs) -> None:
    global _WORKER_INPUTS
    _WORKER_INPUTS = inputs


def _pool_task(kind: str, value: float) -> BudgetPoint:
    assert _WORKER_INPUTS is not None, "worker not initialised"
    return _task(_WORKER_INPUTS, kind, value)


# --------------------------------------------------------------------------- executors


def _run_local(inputs: SweepInputs, tasks: Sequence[tuple[str, float]], progress: Progress | None) -> list[BudgetPoint]:
    out = []
    for k, (kind, value) in enumerate(tasks):
        out.append(_task(inputs, kind, value))
        if progress:
            progress(k + 1, len(tasks))
    return out


def _run_pool(inputs: SweepInputs, tasks: Sequence[tuple[str, float]], workers: int, progress: Progress | None) -> list[BudgetPoint]:
    results: list[BudgetPoint | None] = [None] * len(tasks)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(inputs,)) as pool:
        futures = {pool.submit(_pool_task, kind, value): k for k, (kind, value) in enumerate(tasks)}
        for done, fut in enumerate(as_completed(futures), start=1):
            results[futures[fut]] = fut.result()
            if progress:
                progress(done, len(tasks))
    return results  # type: ignore[return-value]


def _run_dask(inputs: SweepInputs, tasks: Sequence[tuple[str, float]], address: str, progress: Progress | None) -> list[BudgetPoint]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    try:
        client = Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError("option --dask: could not connect to the Dask scheduler", found=f"{address} ({exc})") from None
    try:
        with client.as_current():
            remote = client.scatter(inputs, broadcast=True, hash=False)
            futures = [client.submit(_task, remote, kind, value, pure=False) for kind, value in tasks]
            index = {f.key: k for k, f in enumerate(futures)}
            results: list[BudgetPoint | None] = [None] * len(tasks)
            for done, fut in enumerate(dask_completed(futures), start=1):
                results[index[fut.key]] = fut.result()
                if progress:
                    progress(done, len(tasks))
            return results  # type: ignore[return-value]
    finally:
        client.close()


def run_tasks(
    inputs: SweepInputs,
    tasks: Sequence[tuple[str, float]],
    *,
    workers: int = 1,
    dask_address: str | None = None,
    progress: Progress | None = None,
) -> list[BudgetPoint]:
    """Solve each ``("budget", B)`` or ``("target", tau)`` task; results in task order."""
    if dask_address:
        return _run_dask(inputs, tasks, dask_address, progress)
    if workers > 1 and len(tasks) > 1:
        return _run_pool(inputs, tasks, min(workers, len(tasks)), progress)
    return _run_local(inputs, tasks, progress)


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class SweepResult:
    """A budget sweep of one scenario.

    Attributes
    ----------
    name : str
        Scenario name.
    objective : str
        Objective of the frontier solves (the scenario's ``coverage`` or
        ``quality-coverage``; a ``min-cost`` scenario is swept with ``coverage``).
    frontier : DataFrame indexed by step (0, 1, ...; budgets ascending)
        ``budget``, ``status``, ``gap``, ``objective`` (stage-1 value), ``total_cost``,
        ``covered_need`` and ``need_share`` (need-weighted: what the coverage objective
        maximises, non-decreasing in the budget when every solve is optimal),
        ``covered_population`` and ``coverage_share`` (plain population: what targets
        refer to), ``units`` (number selected), ``entering``, ``leaving`` (numbers of
        units versus the previous feasible step), ``coverage_gain`` (need-weighted),
        ``marginal_per_budget`` (``m_k`` above) and ``marginal_per_cost`` (per unit of
        money actually spent; NaN when the cost did not change), ``note`` (for an
        infeasible budget, the solver's proof and what to relax; else empty).
    selected : DataFrame (bool) indexed by unit id, one column per step
        Which units the optimum at each budget contracts (units never selected omitted).
    changes : DataFrame
        One row per unit entering or leaving between consecutive feasible steps:
        ``step``, ``budget_from``, ``budget``, ``unit_id``, ``change`` (``enters`` /
        ``leaves``).
    targets : DataFrame indexed by target share
        ``budget`` (the smallest budget reaching the target: the min-cost optimum's
        total cost; NaN when unreachable), ``status``, ``gap``, ``covered_population``,
        ``coverage_share``, ``units``, ``frontier_budget`` (smallest swept budget whose
        optimum reaches the target, NaN if none does), ``note`` (for an unreachable
        target, the solver's proof and what to relax).
    target_selected : dict
        Target share -> ids of the cheapest selection reaching it.
    population : float
        Total population (the denominator of ``coverage_share``).
    current_share : float or None
        Coverage share of the current contracts, when known.
    executor : str
        What ran the solves (for the record; results do not depend on it).
    seconds : float
        Wall time of the solves.
    solve_seconds : Series indexed by step
        Time of each budget's solve (machine-dependent, so kept out of ``frontier``).
    """

    name: str
    objective: str
    frontier: pd.DataFrame
    selected: pd.DataFrame
    changes: pd.DataFrame
    targets: pd.DataFrame
    target_selected: dict
    population: float
    current_share: float | None
    executor: str
    seconds: float
    solve_seconds: pd.Series

    def to_dict(self) -> dict[str, Any]:
        """Plain structure for ``--json``."""
        return {
            "scenario": self.name,
            "objective": self.objective,
            "population": self.population,
            "current_share": self.current_share,
            "frontier": [{"step": k, **row} for k, row in self.frontier.to_dict("index").items()],
            "changes": self.changes.to_dict("records"),
            "targets": [
                {"target": t, **row, "selected": list(self.target_selected.get(t, ()))} for t, row in self.targets.to_dict("index").items()
            ],
            "executor": self.executor,
            "seconds": self.seconds,
        }


def assemble(
    inputs: SweepInputs,
    points: Sequence[BudgetPoint],
    targets: Sequence[float],
    target_points: Sequence[BudgetPoint],
    *,
    executor: str,
    seconds: float,
) -> SweepResult:
    """Build the :class:`SweepResult` tables from the solved points (pure bookkeeping)."""
    n = len(points)
    feasible = np.array([p.feasible for p in points], dtype=bool)
    need = inputs.need
    frontier = pd.DataFrame(
        {
            "budget": [p.budget for p in points],
            "status": [p.status for p in points],
            "gap": [np.nan if p.gap is None else p.gap for p in points],
            "objective": [np.nan if p.objective is None else p.objective for p in points],
            "total_cost": [p.total_cost for p in points],
            "covered_need": [p.covered_need for p in points],
            "need_share": [p.covered_need / need if need > 0 else np.nan for p in points],
            "covered_population": [p.covered_population for p in points],
            "coverage_share": [p.coverage_share for p in points],
            "reached_population": [p.reached_population for p in points],
            "unspent": [p.unspent for p in points],
            "utilisation": [p.utilisation for p in points],
            "units": pd.array([len(p.selected) if f else pd.NA for p, f in zip(points, feasible, strict=True)], dtype="Int64"),
            "note": [p.note for p in points],
        },
        index=pd.RangeIndex(n, name="step"),
    )
    extra = {k: np.full(n, np.nan) for k in ("entering", "leaving", "coverage_gain", "marginal_per_budget", "marginal_per_cost")}
    rows = []
    prev = None
    for k in np.flatnonzero(feasible):
        if prev is not None:
            a, b = points[prev], points[k]
            enters, leaves = sorted(set(b.selected) - set(a.selected)), sorted(set(a.selected) - set(b.selected))
            gain = b.covered_need - a.covered_need
            dcost = b.total_cost - a.total_cost
            extra["entering"][k], extra["leaving"][k] = len(enters), len(leaves)
            extra["coverage_gain"][k] = gain
            extra["marginal_per_budget"][k] = gain / (b.budget - a.budget)
            extra["marginal_per_cost"][k] = gain / dcost if abs(dcost) > 1e-9 else np.nan
            rows += [(int(k), a.budget, b.budget, u, "enters") for u in enters]
            rows += [(int(k), a.budget, b.budget, u, "leaves") for u in leaves]
        prev = k
    for name, values in extra.items():
        frontier[name] = pd.array(values, dtype="Int64") if name in ("entering", "leaving") else values
    changes = pd.DataFrame(rows, columns=["step", "budget_from", "budget", "unit_id", "change"])
    ids = sorted({u for p in points for u in p.selected})
    selected = pd.DataFrame(
        {k: np.isin(ids, list(points[k].selected)) for k in range(n)}, index=pd.Index(ids, name="unit_id", dtype=object), dtype=bool
    )
    t_rows = []
    for tau, p in zip(targets, target_points, strict=True):
        reach = frontier.index[feasible & (frontier["coverage_share"].to_numpy() >= tau - 1e-12)]
        t_rows.append(
            {
                "budget": p.budget if p.feasible else np.nan,
                "status": p.status,
                "gap": np.nan if p.gap is None else p.gap,
                "covered_population": p.covered_population,
                "coverage_share": p.coverage_share,
                "units": len(p.selected) if p.feasible else pd.NA,
                "frontier_budget": float(frontier.loc[reach[0], "budget"]) if len(reach) else np.nan,
                "note": p.note,
            }
        )
    target_frame = pd.DataFrame(
        t_rows,
        index=pd.Index([float(t) for t in targets], name="target", dtype=float),
        columns=["budget", "status", "gap", "covered_population", "coverage_share", "units", "frontier_budget", "note"],
    ).astype({"units": "Int64"})
    return SweepResult(
        name=inputs.name,
        objective=inputs.objective,
        frontier=frontier,
        selected=selected,
        changes=changes,
        targets=target_frame,
        target_selected={float(t): p.selected for t, p in zip(targets, target_points, strict=True)},
        population=inputs.population,
        current_share=inputs.current_share,
        executor=executor,
        seconds=seconds,
        solve_seconds=pd.Series([p.seconds for p in points], index=frontier.index, name="seconds"),
    )


def prepare(scenario: Any) -> SweepInputs:
    """Build a scenario's heavy inputs once: load and score the units, build the coverage
    relation and the merged selection problem, and gather the scenario's options.

    The steps are the pipeline's (:func:`optimizer.pipeline.prepare_selection`), so a
    sweep point at the scenario's own budget is exactly what ``optimizer run`` selects.
    ``current_share`` is the coverage share of the current contracts (``contracted``).
    """
    from optimizer.pipeline import prepare_selection
    from optimizer.scenario import Scenario, load_scenario
    from optimizer.select.result import service_hits
    from optimizer.validate_scenario import load_inputs

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    prepared = prepare_selection(scenario, load_inputs(scenario))
    problem = prepared.problem
    contracted = prepared.units["contracted"].reindex(problem.unit_ids).fillna(False).to_numpy(dtype=bool)
    covered = (service_hits(problem, contracted) > 0) @ problem.service_weights
    total = float(problem.population.sum())
    current = float(covered @ problem.population) / total if total > 0 else None
    objective = scenario.selection.objective
    objective = objective if objective in ("coverage", "quality-coverage") else "coverage"
    return SweepInputs(name=scenario.name, problem=problem, options=prepared.options, objective=objective, current_share=current)


def sweep(
    scenario: Any,
    budgets: Sequence[float],
    *,
    targets: Sequence[float] = (),
    workers: int = 1,
    dask_address: str | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Solve ``scenario`` at every budget, and find the smallest budget reaching each
    coverage target.

    ``scenario`` is a :class:`~optimizer.scenario.Scenario`, the path of its file, or the
    :class:`SweepInputs` already built by :func:`prepare` (to sweep one scenario several
    times without rebuilding it). ``workers > 1`` runs the solves on that many local
    processes; ``dask_address`` on an existing Dask cluster (``tcp://host:8786``; the
    workers need this package installed). The result does not depend on the executor.
    See the module docstring for the definitions.
    """
    budgets = np.unique(np.asarray(budgets, dtype=float))
    targets = tuple(sorted({float(t) for t in targets}))
    _check_request(budgets, targets, workers, dask_address)  # before the costly prepare
    inputs = scenario if isinstance(scenario, SweepInputs) else prepare(scenario)
    tasks = [("budget", float(b)) for b in budgets] + [("target", t) for t in targets]
    t0 = time.perf_counter()
    points = run_tasks(inputs, tasks, workers=workers, dask_address=dask_address, progress=progress)
    seconds = time.perf_counter() - t0
    executor = f"dask at {dask_address}" if dask_address else (f"{workers} local processes" if workers > 1 else "in process")
    return assemble(inputs, points[: len(budgets)], targets, points[len(budgets) :], executor=executor, seconds=seconds)


def _check_request(budgets: np.ndarray, targets: tuple[float, ...], workers: int, dask_address: str | None) -> None:
    """InputError for a request that cannot run (no budget, a target outside (0, 1], ...)."""
    if len(budgets) == 0 or not np.all(np.isfinite(budgets)) or budgets[0] < 0:
        raise InputError("option --budgets: expected at least one finite, non-negative budget", found=budgets.tolist())
    if any(not (0.0 < t <= 1.0) for t in targets):
        raise InputError("option --targets: expected coverage targets in (0, 1]", found=list(targets))
    if workers < 1:
        raise InputError("option --workers: expected a number of workers >= 1", found=workers)
    if dask_address and workers > 1:
        raise InputError("option --workers: expected either --workers (local processes) or --dask (a Dask cluster), not both", found=workers)


def write_sweep(folder: str | Path, result: SweepResult) -> None:
    """Write a sweep's files into ``folder``: ``frontier.csv``, ``entering.csv``,
    ``targets.csv`` (when targets were asked), ``frontier.png`` and ``report.html``."""
    from optimizer.report import write_sweep_report

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result.frontier.to_csv(folder / "frontier.csv")
    result.changes.to_csv(folder / "entering.csv", index=False)
    if len(result.targets):
        targets = result.targets.copy()
        targets["selected"] = [" ".join(result.target_selected.get(t, ())) for t in targets.index]
        targets.to_csv(folder / "targets.csv")
    write_sweep_report(folder, result)
