"""Benchmark: budgeted maximal-coverage selection at S / M / L / XL, ours vs spopt vs greedy.

Run: ``python benchmarks/bench_select.py`` (``--sizes S,M`` to choose sizes, ``--quick``
for S and M only with spopt at S only; ``--time-limit`` per solve, default 60 s).

Instances (seeded): demand points clustered like settlements inside Iran's bounding box
(cluster sizes Pareto-distributed, points at gamma-distributed distances around the
cluster centre), lognormal populations, units placed near people; costs uniform in
[50, 150]; reach 10 km great-circle; budgets 5 %, 10 % and 20 % of the total cost.

| size | units  | demand points |
|------|--------|---------------|
| S    | 200    | 2,000         |
| M    | 1,000  | 20,000        |
| L    | 3,000  | 100,000       |
| XL   | 10,000 | 500,000       |

For each size, in a fresh process (so the peak memory is per size):

* **ours**: end to end from the CSV files (read units and demand, build the coverage
  relation with :func:`optimizer.geo.coverage.coverage_within`, merge rows and build the
  problem), then one :func:`optimizer.select.solve` per budget (coverage objective, first
  stage only, so it is the same problem spopt solves; HiGHS; time limit per solve);
* **greedy**: ``solver="greedy"`` (heuristic, gap to the LP bound);
* **ours (unit costs)** and **spopt MCLP**: unit costs and budget ``p`` = the same
  fraction of the number of units, the exact MCLP of Church & ReVelle; spopt
  (``MCLP.from_cost_matrix`` on the dense distance matrix, CBC) runs in a child process
  killed after ``--spopt-timeout`` seconds (default 600); by default only at S and M.

Columns: build = read + coverage + merge + problem (s, once per size); solve (s); total =
build + solve; status; objective (covered population); proven gap; merged rows (model
rows after merging and reductions); peak RSS of the process (GB).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = {"S": (200, 2_000), "M": (1_000, 20_000), "L": (3_000, 100_000), "XL": (10_000, 500_000)}
BUDGETS = (0.05, 0.10, 0.20)
RADIUS_KM = 10.0
IRAN_BBOX = (44.5, 25.5, 62.5, 39.5)


def make_instance(n_units: int, n_demand: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded clustered settlements and units near people (lon/lat in WGS84)."""
    rng = np.random.default_rng(seed)
    n_clusters = max(20, n_demand // 400)
    lon0, lat0, lon1, lat1 = IRAN_BBOX
    c_lon = rng.uniform(lon0, lon1, n_clusters)
    c_lat = rng.uniform(lat0, lat1, n_clusters)
    size = rng.pareto(1.2, n_clusters) + 1.0
    cluster = rng.choice(n_clusters, n_demand, p=size / size.sum())
    r_km = rng.gamma(1.5, 6.0, n_demand)
    angle = rng.uniform(0.0, 2 * np.pi, n_demand)
    lat = c_lat[cluster] + r_km * np.sin(angle) / 111.0
    lon = c_lon[cluster] + r_km * np.cos(angle) / (111.0 * np.cos(np.radians(c_lat[cluster])))
    population = np.round(rng.lognormal(6.0, 1.2, n_demand))
    near = rng.choice(n_demand, n_units, p=population / population.sum())
    ru = rng.gamma(1.2, 2.0, n_units)
    au = rng.uniform(0.0, 2 * np.pi, n_units)
    u_lat = lat[near] + ru * np.sin(au) / 111.0
    u_lon = lon[near] + ru * np.cos(au) / (111.0 * np.cos(np.radians(lat[near])))
    units = pd.DataFrame(
        {
            "unit_id": [f"u{j}" for j in range(n_units)],
            "lon": u_lon.round(6),
            "lat": u_lat.round(6),
            "cost": np.round(rng.uniform(50.0, 150.0, n_units)),
        }
    )
    demand = pd.DataFrame(
        {"demand_id": [f"d{i}" for i in range(n_demand)], "lon": lon.round(6), "lat": lat.round(6), "population": population}
    )
    return units, demand


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run_ours(size: str, time_limit: float, unit_costs_for: list[str]) -> list[dict]:
    """Every row for one size (runs inside a child process)."""
    from optimizer.geo.coverage import coverage_within
    from optimizer.geo.io import load_demand, load_units
    from optimizer.select import build_problem, solve

    n_units, n_demand = SIZES[size]
    units_df, demand_df = make_instance(n_units, n_demand)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        units_df.to_csv(Path(tmp) / "units.csv", index=False)
        demand_df.to_csv(Path(tmp) / "demand.csv", index=False)
        t0 = time.perf_counter()
        units = load_units(Path(tmp) / "units.csv")
        demand = load_demand(Path(tmp) / "demand.csv")
        coverage = coverage_within(demand, units, RADIUS_KM, keep_distance=False)
        u = units.frame[["cost"]]
        d = pd.DataFrame({"population": demand.population}, index=demand.ids)
        problem = build_problem(u, d, coverage)
        build = time.perf_counter() - t0
    total_cost = float(problem.cost.sum())
    base = {"size": size, "pairs": coverage.n_pairs, "merged": problem.rows.n_rows}
    for frac in BUDGETS:
        t = time.perf_counter()
        res = solve(problem, budget=frac * total_cost, time_limit=time_limit, lexicographic=False)
        solve_s = time.perf_counter() - t
        rows.append({**base, "model": "ours (HiGHS)", "budget": frac, "build": build, "solve": solve_s, "status": res.status,
                     "objective": res.covered_population, "gap": res.gap, "model_rows": res.model_size.get("rows_after"), "peak_gb": peak_gb()})
        t = time.perf_counter()
        res = solve(problem, budget=frac * total_cost, solver="greedy", time_limit=time_limit)
        solve_s = time.perf_counter() - t
        rows.append({**base, "model": "greedy", "budget": frac, "build": build, "solve": solve_s, "status": res.status,
                     "objective": res.covered_population, "gap": res.gap, "model_rows": res.model_size.get("rows_after"), "peak_gb": peak_gb()})
    if size in unit_costs_for:
        unit_problem = build_problem(u.assign(cost=1.0), d, coverage)
        for frac in BUDGETS:
            p = max(1, round(frac * n_units))
            t = time.perf_counter()
            res = solve(unit_problem, budget=float(p), time_limit=time_limit, lexicographic=False)
            solve_s = time.perf_counter() - t
            rows.append({**base, "model": f"ours, unit costs, p={p}", "budget": frac, "build": build, "solve": solve_s, "status": res.status,
                         "objective": res.covered_population, "gap": res.gap, "model_rows": res.model_size.get("rows_after"), "peak_gb": peak_gb()})
    return rows


def run_spopt(size: str, frac: float) -> dict:
    """spopt MCLP with unit costs, p = frac * units (runs inside a child process)."""
    import warnings

    import pulp
    from spopt.locate import MCLP

    from optimizer.geo.distance import haversine_km

    n_units, n_demand = SIZES[size]
    units_df, demand_df = make_instance(n_units, n_demand)
    p = max(1, round(frac * n_units))
    t0 = time.perf_counter()
    dist = haversine_km(demand_df.lon.to_numpy()[:, None], demand_df.lat.to_numpy()[:, None], units_df.lon.to_numpy()[None, :], units_df.lat.to_numpy()[None, :])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(dist, demand_df.population.to_numpy(), service_radius=RADIUS_KM, p_facilities=p)
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    seconds = time.perf_counter() - t0
    return {"size": size, "model": f"spopt MCLP, p={p}", "budget": frac, "build": 0.0, "solve": seconds, "status": pulp.LpStatus[model.problem.status].lower(),
            "objective": float(pulp.value(model.problem.objective)), "gap": None, "model_rows": len(model.problem.constraints), "peak_gb": peak_gb()}


def _child(kind: str, args: list) -> None:
    rows = run_ours(*args) if kind == "ours" else [run_spopt(*args)]
    sys.stdout.write(json.dumps(rows) + "\n")


def in_child(kind: str, args: list, timeout: float | None) -> list[dict] | None:
    code = f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_select as b; b._child({kind!r}, json.loads(sys.argv[1]))"
    try:
        out = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr)
        raise
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(v, kind: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    if kind == "pct":
        return f"{v:.3%}"
    if kind == "s":
        return f"{v:.2f}"
    if kind == "int":
        return f"{int(v):,}"
    return f"{v:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L,XL", help="comma-separated sizes (default S,M,L,XL)")
    parser.add_argument("--quick", action="store_true", help="S and M only, spopt at S only")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve (default 60)")
    parser.add_argument("--spopt", default="S,M", help="sizes where spopt runs (default S,M)")
    parser.add_argument("--spopt-timeout", type=float, default=600.0, help="seconds before spopt is stopped (default 600)")
    args = parser.parse_args()
    sizes = ["S", "M"] if args.quick else [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    spopt_sizes = ["S"] if args.quick else [s.strip().upper() for s in args.spopt.split(",") if s.strip()]
    print(f"python {platform.python_version()}, {mp.cpu_count()} cores, radius {RADIUS_KM:g} km, time limit {args.time_limit:g} s per solve")
    print()
    print("| size | budget | model | pairs | merged rows | model rows | build s | solve s | total s | status | covered population | gap | peak GB |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for size in sizes:
        rows = in_child("ours", [size, args.time_limit, spopt_sizes], None) or []
        for frac in BUDGETS:
            if size in spopt_sizes:
                res = in_child("spopt", [size, frac], args.spopt_timeout)
                rows += res if res else [{"size": size, "model": "spopt MCLP", "budget": frac, "status": f"not run (> {args.spopt_timeout:g} s)"}]
            else:
                reason = "not run (> 10 min)" if size in ("L", "XL") else "not run (not in --spopt)"
                rows.append({"size": size, "model": "spopt MCLP", "budget": frac, "status": reason})
        for r in sorted(rows, key=lambda r: (r["budget"], r["model"])):
            total = None if r.get("solve") is None else r.get("build", 0.0) + r["solve"]
            print(
                f"| {r['size']} | {r['budget']:.0%} | {r['model']} | {fmt(r.get('pairs'), 'int')} | {fmt(r.get('merged'), 'int')} | "
                f"{fmt(r.get('model_rows'), 'int')} | {fmt(r.get('build'), 's')} | {fmt(r.get('solve'), 's')} | {fmt(total, 's')} | "
                f"{r['status']} | {fmt(r.get('objective'), 'num')} | {fmt(r.get('gap'), 'pct')} | {fmt(r.get('peak_gb'), 's')} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
