"""Benchmark: a WorldPop-like raster read into 1 km demand points (time, peak memory, sums).

The raster is synthetic and seeded, shaped like a WorldPop "ppp" GeoTIFF: EPSG:4326,
3 arc-second cells (about 93 m x 78 m at 33 N), float32, nodata -99999. It covers central
Iran (lon 48.0 to 56.33, lat 29.17 to 37.5). About 30 % of the cells are nodata, in
patches (a coarse seeded noise field, like deserts and water bodies); the others hold
lognormal people per cell (median 1, a heavy tail for towns). The writer keeps the exact
float64 total of the valid cells, the independent check of ``total_in_raster``.

Each case runs in its own subprocess so that peak memory (ru_maxrss of that process) does
not mix between cases; the raster is written by another subprocess, because Linux carries
a process's ru_maxrss over to the children it starts (a big parent would inflate every
case's peak):

* ``no regions``      — every valid cell kept;
* ``31 provinces``    — clipped to the real provinces of /work/shared/data/iran.

Both aggregate to ``--cell-m`` (default 1000 m: factor round(1000 / 77.4) = 13).

    python benchmarks/bench_population.py                 # 10,000 x 10,000 cells
    python benchmarks/bench_population.py --size 2000     # a quick run
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CELL_DEG = 1.0 / 1200.0  # 3 arc-seconds, WorldPop's grid
WEST, NORTH = 48.0, 37.5
NODATA = -99999.0
PROVINCES = Path(__file__).resolve().parents[2] / "shared" / "data" / "iran" / "provinces.geojson"


def write_raster(path: Path, size: int, seed: int = 20261122, strip: int = 1000) -> float:
    """Write the seeded size x size raster strip by strip; return the exact total of valid cells."""
    import rasterio
    from affine import Affine

    rng = np.random.default_rng(seed)
    patch = max(1, size // 100)
    noise = rng.random(((size - 1) // patch + 1, (size - 1) // patch + 1))
    cut = np.quantile(noise, 0.30)  # ~30 % of the patches (hence of the cells) are nodata
    profile = {
        "driver": "GTiff",
        "height": size,
        "width": size,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": Affine(CELL_DEG, 0.0, WEST, 0.0, -CELL_DEG, NORTH),
        "nodata": NODATA,
        "tiled": False,
        "blockysize": 16,
    }
    total = 0.0
    with rasterio.open(path, "w", **profile) as dst:
        for row0 in range(0, size, strip):
            n = min(strip, size - row0)
            rows = np.arange(row0, row0 + n) // patch
            holes = noise[rows][:, np.arange(size) // patch] < cut
            values = rng.lognormal(0.0, 1.5, (n, size)).astype(np.float32)
            values[holes] = NODATA
            total += float(values[~holes].sum(dtype=np.float64))
            dst.write(values, 1, window=rasterio.windows.Window(0, row0, size, n))
    return total


def run_case(path: str, regions: str | None, cell_m: float) -> dict:
    """Read once in this process; report time, points, sums and peak RSS."""
    from optimizer.geo.io import load_regions
    from optimizer.geo.population import raster_demand

    zones = load_regions(regions) if regions else None
    t0 = time.perf_counter()
    c0 = time.process_time()
    demand = raster_demand(path, regions=zones, cell_m=cell_m)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out_sum = float(demand.frame["population"].sum())
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "factor": demand.factor,
        "cell_km": demand.cell_km,
        "points": len(demand),
        "total_in_raster": demand.total_in_raster,
        "total_clipped": demand.total_clipped,
        "total_out": out_sum,
        "regions": int(demand.frame["region"].nunique()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000, help="rows = columns of the raster (default 10,000)")
    ap.add_argument("--cell-m", type=float, default=1000.0, help="target cell size in metres (default 1000)")
    ap.add_argument("--tmp", default=None, help="directory for the temporary raster (default: the system's)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--write", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write:
        print(json.dumps({"total": write_raster(Path(args.write), args.size)}))
        return
    if args.child:
        path, regions, cell_m = args.child
        print(json.dumps(run_case(path, regions or None, float(cell_m))))
        return
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        path = Path(tmp) / "worldpop_like.tif"
        t0 = time.perf_counter()
        cmd = [sys.executable, __file__, "--size", str(args.size), "--write", str(path)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        written = json.loads(proc.stdout.strip().splitlines()[-1])["total"]
        write_s = time.perf_counter() - t0
        mb = path.stat().st_size / 2**20
        print(f"Population raster -> demand points, {args.size:,} x {args.size:,} cells (3 arc-seconds, EPSG:4326, float32, {mb:,.0f} MB, written in {write_s:.1f} s)")
        print(f"Target cell {args.cell_m:g} m. Times are wall seconds (CPU seconds in brackets); peak = max RSS of the case's process.")
        print("sum check: |total_in_raster - writer's total| / total and |sum of points - total_clipped| / total_clipped.\n")
        print("| case | cells | factor | cell km | points out | regions | s | peak MB | kept share | in-raster check | points check |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, regions in (("no regions", ""), ("31 provinces", str(PROVINCES))):
            cmd = [sys.executable, __file__, "--child", str(path), regions, str(args.cell_m)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            in_check = abs(r["total_in_raster"] - written) / written
            out_check = abs(r["total_out"] - r["total_clipped"]) / r["total_clipped"]
            print(
                f"| {label} | {args.size**2:,} | {r['factor']} | {r['cell_km']:.3f} | {r['points']:,} | {r['regions']} | "
                f"{r['seconds']:.2f} ({r['cpu']:.2f}) | {r['peak_mb']:,.0f} | {r['total_clipped'] / r['total_in_raster']:.4f} | "
                f"{in_check:.1e} | {out_check:.1e} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
