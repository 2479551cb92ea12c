"""Time a 20-budget sweep of a shipped scenario with 1 and 2 local worker processes.

    python benchmarks/bench_sweep.py [--scenario iran] [--budgets 20] [--workers 1,2]

Budgets run from 1 % to 20 % of the total cost of all candidate units (the range of the
selection benchmark of issue 4), plus one min-cost solve for an 80 % coverage target.
The heavy inputs (scoring, coverage relation, merged problem) are built once and timed
separately; each executor then solves the same budgets, and the script checks that every
executor returns the same frontier. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from optimizer.paths import shipped_scenario
from optimizer.sweep import prepare, sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="iran", help="shipped scenario name (default iran)")
    parser.add_argument("--budgets", type=int, default=20, help="number of budgets (default 20)")
    parser.add_argument("--workers", default="1,2", help="comma list of worker counts (default 1,2)")
    parser.add_argument("--target", type=float, default=0.8, help="coverage target solved by min-cost (default 0.8)")
    args = parser.parse_args()

    path = shipped_scenario(args.scenario)
    t0 = time.perf_counter()
    inputs = prepare(path)
    t_prepare = time.perf_counter() - t0
    problem = inputs.problem
    total_cost = float(problem.cost.sum())
    budgets = np.linspace(0.01, 0.20, args.budgets) * total_cost

    print(f"scenario {args.scenario}: {problem.n_units:,} units, {len(problem.demand_ids):,} demand points, "
          f"{problem.rows.n_rows:,} merged rows; {os.cpu_count()} CPUs")
    print(f"prepare (load, score, coverage relation, problem), once: {t_prepare:.2f} s")
    print(f"budgets: {args.budgets} from {budgets[0]:,.0f} to {budgets[-1]:,.0f} (1 % to 20 % of total cost {total_cost:,.0f}); "
          f"target {args.target:.0%}\n")
    rows = []
    reference = None
    for workers in (int(w) for w in args.workers.split(",")):
        t0 = time.perf_counter()
        result = sweep(inputs, budgets, targets=(args.target,), workers=workers)
        wall = time.perf_counter() - t0
        f = result.frontier
        same = "reference" if reference is None else ("yes" if reference.frontier.equals(f) and reference.targets.equals(result.targets) else "NO")
        reference = reference or result
        solve = result.solve_seconds
        rows.append(
            {
                "workers": workers,
                "wall time (s)": f"{wall:.2f}",
                "median solve (s)": f"{solve.median():.2f}",
                "max solve (s)": f"{solve.max():.2f}",
                "optimal": f"{int((f['status'] == 'optimal').sum())}/{len(f)}",
                "max gap": f"{np.nanmax(f['gap'].to_numpy(float)) if f['gap'].notna().any() else float('nan'):.2g}",
                "coverage range": f"{f['coverage_share'].min():.1%} - {f['coverage_share'].max():.1%}",
                f"budget for {args.target:.0%}": f"{result.targets['budget'].iloc[0]:,.0f}",
                "same results": same,
            }
        )
    print(markdown(rows))


def markdown(rows: list[dict]) -> str:
    """A markdown table of dict rows (same keys)."""
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    line = lambda cells: "| " + " | ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(cols), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line([r[c] for c in cols]) for r in rows)])


if __name__ == "__main__":
    main()
