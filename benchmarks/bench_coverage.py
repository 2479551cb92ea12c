"""Benchmark: build time and peak memory of the coverage relation, and the merge shrink.

Instances are clustered like real settlements: 300 settlement centres in Iran's bounding
box with Zipf (rank-size) sizes; each demand point and unit is drawn around a centre
chosen in proportion to its size, with a Gaussian spread growing with the square root of
the size (2 to 9 km); a fifth of the demand points are villages spread six times wider,
where few units stand. About 3 % of all (demand, unit) pairs lie within the 10 km reach.
Seeded.

Each case runs in its own subprocess so that peak memory (ru_maxrss of that process,
instance included) does not mix between cases. Two builds are timed:

* ``full``   — :func:`optimizer.geo.coverage.coverage_within` (every pair, no distances);
* ``merged`` — :func:`optimizer.geo.coverage.merged_coverage_within` (identical reaching
  sets merged while building; never holds every pair).

    python benchmarks/bench_coverage.py            # 20k x 1k, 100k x 3k, 500k x 10k
    python benchmarks/bench_coverage.py --grid     # all 9 combinations
    python benchmarks/bench_coverage.py --quick    # small cases, a few seconds
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

IRAN_LON = (44.0, 63.3)
IRAN_LAT = (25.1, 39.8)


def settlements(n_demand: int, n_units: int, seed: int = 20261122):
    """Seeded clustered instance: (demand lon, lat, population), (unit lon, lat).

    300 settlement centres with Zipf sizes (s_k = 1 / k^1.2, the rank-size rule of city
    populations); points are drawn around a centre chosen in proportion to its size with
    a Gaussian spread of 9 km x sqrt(s_k / s_1), at least 2 km; 20 % of the demand points
    (5 % of the units) are villages spread six times wider.
    """
    rng = np.random.default_rng(seed)
    k = 300
    lon0 = rng.uniform(IRAN_LON[0] + 2, IRAN_LON[1] - 2, k)
    lat0 = rng.uniform(IRAN_LAT[0] + 1.5, IRAN_LAT[1] - 1.5, k)
    size = 1.0 / np.arange(1, k + 1) ** 1.2
    p = size / size.sum()
    sigma = np.clip(9.0 * np.sqrt(size / size[0]), 2.0, None)

    def draw(n: int, rural_share: float):
        c = rng.choice(k, size=n, p=p)
        spread = sigma[c] * np.where(rng.random(n) < rural_share, 6.0, 1.0)
        xy = rng.normal(0.0, 1.0, (n, 2)) * spread[:, None]
        lat = lat0[c] + xy[:, 1] / 111.2
        lon = lon0[c] + xy[:, 0] / (111.2 * np.cos(np.radians(lat0[c])))
        return lon, lat

    dlon, dlat = draw(n_demand, 0.20)
    ulon, ulat = draw(n_units, 0.05)
    population = np.round(rng.lognormal(6.0, 1.2, n_demand))
    return (dlon, dlat, population), (ulon, ulat)


def run_case(n_demand: int, n_units: int, method: str, radius: float) -> dict:
    """Build once in this process; report time, pairs, groups and peak RSS."""
    import pandas as pd

    from optimizer.geo.coverage import coverage_within, merged_coverage_within
    from optimizer.geo.io import Demand, Units

    (dlon, dlat, pop), (ulon, ulat) = settlements(n_demand, n_units)
    d_ids = pd.RangeIndex(n_demand).astype(str)
    u_ids = pd.RangeIndex(n_units).astype(str)
    demand = Demand(d_ids, dlon, dlat, pop, pop, pd.DataFrame(index=d_ids))
    units = Units(u_ids, ulon, ulat, pd.DataFrame(index=u_ids))
    t0 = time.perf_counter()
    c0 = time.process_time()
    if method == "full":
        cov = coverage_within(demand, units, radius, keep_distance=False)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        out = {"pairs": cov.n_pairs, "rows": n_demand}
    else:
        built = merged_coverage_within(demand, units, radius)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        out = {"pairs": built.n_pairs, "rows": n_demand, **built.shrink}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"n_demand": n_demand, "n_units": n_units, "method": method, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, **out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small cases only")
    ap.add_argument("--grid", action="store_true", help="all 9 size combinations")
    ap.add_argument("--radius", type=float, default=10.0, help="reach in km (default 10)")
    ap.add_argument("--skip-full-above", type=int, default=10**9, help="skip the full build above this many demand points")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        n, m, method = args.child
        print(json.dumps(run_case(int(n), int(m), method, args.radius)))
        return
    if args.quick:
        cases = [(5_000, 300), (20_000, 1_000)]
    elif args.grid:
        cases = [(n, m) for n in (20_000, 100_000, 500_000) for m in (1_000, 3_000, 10_000)]
    else:
        cases = [(20_000, 1_000), (100_000, 3_000), (500_000, 10_000)]
    print(f"Coverage relation build, reach {args.radius:g} km, clustered settlements (seeded)\n")
    print("Times are wall seconds (CPU seconds of the process in brackets); peak = max RSS of the case's process.\n")
    print("| demand | units | pairs in reach | full: s | full: peak MB | merged: s | merged: peak MB | groups | rows / groups | pairs / merged pairs |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, m in cases:
        res = {}
        for method in ("full", "merged"):
            if method == "full" and n > args.skip_full_above:
                continue
            cmd = [sys.executable, __file__, "--radius", str(args.radius), "--child", str(n), str(m), method]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            res[method] = json.loads(proc.stdout.strip().splitlines()[-1])
        f = res.get("full")
        g = res["merged"]
        full_s = f"{f['seconds']:.2f} ({f['cpu']:.2f})" if f else "-"
        full_mb = f"{f['peak_mb']:,.0f}" if f else "-"
        print(
            f"| {n:,} | {m:,} | {g['pairs']:,} | {full_s} | {full_mb} | {g['seconds']:.2f} ({g['cpu']:.2f}) | {g['peak_mb']:,.0f} | "
            f"{g['groups']:,} | {g['row_factor']:.2f} | {g['pair_factor']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
