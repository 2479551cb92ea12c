"""Benchmark: does a time limit hold? Selection solves under short limits, S / M / L (XL on request).

Run: ``python benchmarks/bench_time_limits.py`` (``--sizes S,M,L`` and ``--limits
0.1,0.3,1,2`` to choose; XL takes a few minutes per limit).

The instances are those of ``bench_select.py`` (seeded clustered settlements, costs
50-150, reach 10 km). For each size, limit and budget (5, 10, 20 % of the total cost), a
fresh problem is built from the coverage relation and solved twice with
``solve(..., time_limit=T)``: *first* (reductions and model built inside the limit) and
*again* (a budget sweep's case: both reused). Columns: seconds of each solve, status,
proven gap, and whether both solves ended within the limit. A time limit covers the
whole ``solve`` call, assembling the result included; reading the files and building
the coverage relation come before it and are not timed here.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_select import BUDGETS, RADIUS_KM, SIZES, make_instance


def problem_factory(size: str):
    """A function building a fresh problem of ``size`` (files read and the coverage
    relation built once)."""
    from optimizer.geo.coverage import coverage_within
    from optimizer.geo.io import load_demand, load_units
    from optimizer.select import build_problem

    units_df, demand_df = make_instance(*SIZES[size])
    with tempfile.TemporaryDirectory() as tmp:
        units_df.to_csv(Path(tmp) / "units.csv", index=False)
        demand_df.to_csv(Path(tmp) / "demand.csv", index=False)
        units = load_units(Path(tmp) / "units.csv")
        demand = load_demand(Path(tmp) / "demand.csv")
    coverage = coverage_within(demand, units, RADIUS_KM, keep_distance=False)
    u = units.frame[["cost"]]
    d = pd.DataFrame({"population": demand.population}, index=demand.ids)
    return lambda: build_problem(u, d, coverage)


def run(sizes: list[str], limits: list[float]) -> list[dict]:
    from optimizer.select import solve

    rows = []
    for size in sizes:
        fresh = problem_factory(size)
        for limit in limits:
            problem = fresh()
            for frac in BUDGETS:
                budget = frac * float(problem.cost.sum())
                times, results = [], []
                for _ in ("first", "again"):
                    t = time.perf_counter()
                    results.append(solve(problem, budget=budget, time_limit=limit, lexicographic=False))
                    times.append(time.perf_counter() - t)
                rows.append(
                    {
                        "size": size,
                        "limit": limit,
                        "budget": frac,
                        "first": times[0],
                        "again": times[1],
                        "status": f"{results[0].status} / {results[1].status}",
                        "gap": (results[0].gap, results[1].gap),
                        "held": max(times) <= limit,
                    }
                )
                print(f"# {size} {limit} s {frac:.0%}: {times[0]:.3f} / {times[1]:.3f} s", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="comma-separated sizes (default S,M,L)")
    parser.add_argument("--limits", default="0.1,0.3,1,2", help="comma-separated limits in seconds (default 0.1,0.3,1,2)")
    args = parser.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; expected some of {list(SIZES)}")
    limits = [float(v) for v in args.limits.split(",") if v.strip()]
    rows = run(sizes, limits)

    def gap(g):
        return "-" if g is None else f"{100 * g:.2f} %"

    print(f"python {platform.python_version()}, reach {RADIUS_KM:g} km, each solve on a fresh problem (first) and again")
    print()
    print("| size | limit s | budget | first s | again s | status | gap (first / again) | held |")
    print("|---|---:|---:|---:|---:|---|---|---|")
    for r in rows:
        print(f"| {r['size']} | {r['limit']:g} | {r['budget']:.0%} | {r['first']:.3f} | {r['again']:.3f} | {r['status']} | {gap(r['gap'][0])} / {gap(r['gap'][1])} | {'yes' if r['held'] else 'NO'} |")
    held = sum(r["held"] for r in rows)
    print()
    print(f"{held} of {len(rows)} held")


if __name__ == "__main__":
    main()
