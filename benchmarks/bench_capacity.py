"""Benchmark: the capacitated selection (capacity and assignment) as users run it.

Run: ``python benchmarks/bench_capacity.py`` (``--sizes demo,S,M`` to choose, default
``demo,S,M``; ``--time-limit`` per solve, default 60 s; ``--stage1`` only the first
stage).

Instances:

* ``demo``: the shipped demo scenario (156 units, 364 settlements, lab and imaging,
  yearly volumes from use rates, capacity on), its budget and a budget 50 % higher;
* ``S`` / ``M`` / ``L`` / ``XL``: the seeded instances of ``bench_select.py`` with 1.5
  tests per person and capacities drawn so that capacity binds in the cities: each
  unit's capacity is a lognormal share of the volume it reaches, scaled so that the
  units' total capacity is 60-120 % of the volume in reach; budgets 5 / 10 / 20 % of the
  total cost.

Every solve is the default path (all stages: served need, quality of coverage, cost).
Columns: solve seconds (whole selection), status, stage statuses with seconds, served
and reached population, the first stage's proven gap, and whether the time limit held.
Speed is measured here, never asserted in the tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_select import BUDGETS, RADIUS_KM, SIZES, make_instance

RATE = 1.5


def demo_rows(time_limit: float, stage1: bool) -> list[dict]:
    from dataclasses import replace

    from optimizer.paths import demo_scenario
    from optimizer.pipeline import load_inputs, prepare_selection
    from optimizer.scenario import load_scenario
    from optimizer.select.solve import solve_options

    scenario = load_scenario(demo_scenario())
    prepared = prepare_selection(scenario, load_inputs(scenario))
    rows = []
    for factor in (1.0, 1.5):
        opts = replace(prepared.options, budget=prepared.options.budget * factor, time_limit=time_limit, lexicographic=not stage1)
        rows.append(_row("demo", f"{factor:g} x budget", lambda o=opts: solve_options(prepared.problem, o), time_limit))
    return rows


def synthetic_rows(size: str, time_limit: float, stage1: bool) -> list[dict]:
    from optimizer.geo.coverage import coverage_within
    from optimizer.geo.io import Demand, Units
    from optimizer.select import build_problem, solve

    n_units, n_demand = SIZES[size]
    units_df, demand_df = make_instance(n_units, n_demand)
    units = Units(ids=pd.Index(units_df["unit_id"]), lon=units_df["lon"].to_numpy(), lat=units_df["lat"].to_numpy(), frame=units_df.set_index("unit_id"))
    pop = demand_df["population"].to_numpy()
    demand = Demand(ids=pd.Index(demand_df["demand_id"]), lon=demand_df["lon"].to_numpy(), lat=demand_df["lat"].to_numpy(), population=pop, need=pop, frame=demand_df.set_index("demand_id"))
    coverage = coverage_within(demand, units, RADIUS_KM, keep_distance=False)
    rng = np.random.default_rng(7)
    reach_volume = coverage.matrix.T.astype(float) @ (pop * RATE)
    served_volume = float((np.diff(coverage.matrix.indptr) > 0) @ (pop * RATE))
    share = reach_volume * rng.lognormal(0.0, 0.5, n_units)
    target = rng.uniform(0.6, 1.2) * served_volume
    capacity = np.maximum(100.0, np.round(share * target / share.sum(), -2))
    u = units_df.set_index("unit_id")[["cost"]].assign(capacity=capacity)
    d = pd.DataFrame({"population": pop}, index=demand.ids)
    problem = build_problem(u, d, coverage, use_rates={"all": RATE})
    total = float(problem.cost.sum())
    return [
        _row(size, f"{frac:.0%}", lambda b=frac * total: solve(problem, budget=b, time_limit=time_limit, lexicographic=not stage1), time_limit)
        for frac in BUDGETS
    ]


def _row(size: str, budget: str, run, time_limit: float) -> dict:
    t = time.perf_counter()
    res = run()
    seconds = time.perf_counter() - t
    stages = ", ".join(f"{k} {v['status']} {v.get('seconds') or 0:.1f} s" for k, v in res.stages.items())
    return {
        "size": size,
        "budget": budget,
        "solve s": round(seconds, 2),
        "status": res.status,
        "stages": stages,
        "served": round(res.covered_population),
        "reached": round(res.reached_population),
        "gap (stage 1)": "-" if res.gap is None else f"{res.gap:.3%}",
        "held": seconds <= time_limit + 0.5,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="demo,S,M")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--stage1", action="store_true", help="first stage only")
    args = ap.parse_args()
    rows = []
    for size in args.sizes.split(","):
        rows += demo_rows(args.time_limit, args.stage1) if size == "demo" else synthetic_rows(size, args.time_limit, args.stage1)
        print(pd.DataFrame(rows).to_markdown(index=False), flush=True) if size == args.sizes.split(",")[-1] else None
    print(f"\n(time limit {args.time_limit:g} s per solve; python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
