"""Time ``optimizer run`` end to end on the shipped scenarios (demo and iran).

Each run is a fresh process (``optimizer run SCENARIO --out TMP --quiet``), so the time
includes Python start-up, imports, reading the inputs, scoring, the coverage relation,
the selection, the indicators and writing every output (report included). The table
also splits the in-process time into the steps recorded in ``summary.json``.

Usage::

    python benchmarks/bench_run.py [--repeat 3] [--scenarios demo,iran]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from optimizer.paths import shipped_scenario

STEPS = ("load_and_score", "geography", "select", "indicators", "write")


def run_once(scenario: Path, out: Path) -> tuple[float, dict]:
    """Wall-clock seconds of one ``optimizer run`` process, and its summary.json."""
    cmd = [sys.executable, "-m", "optimizer", "run", str(scenario), "--out", str(out), "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    summary = json.loads((out / "summary.json").read_text())
    shutil.rmtree(out)
    return wall, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (median reported; default 3)")
    parser.add_argument("--scenarios", default="demo,iran", help="comma-separated shipped scenarios (default demo,iran)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scenarios.split(","):
            path = shipped_scenario(name.strip())
            walls, summaries = [], []
            for k in range(args.repeat):
                wall, summary = run_once(path, Path(tmp) / f"{name}-{k}")
                walls.append(wall)
                summaries.append(summary)
            median = statistics.median(walls)
            s = summaries[walls.index(sorted(walls)[len(walls) // 2])]
            f = s["figures"]
            steps = {k: statistics.median(x["timings"].get(k, float("nan")) for x in summaries) for k in STEPS}
            rows.append(
                [
                    name,
                    f"{f['n_candidates']:,}",
                    f"{f['n_demand']:,}",
                    f"{f['n_regions']}",
                    f"{median:.2f}",
                    f"{min(walls):.2f}",
                    *(f"{steps[k]:.2f}" for k in STEPS),
                    s["status"],
                    f"{100 * f['coverage_share_before']:.1f} -> {100 * f['coverage_share_after']:.1f}",
                ]
            )
    header = ["scenario", "units", "demand pts", "regions", "wall s (median)", "wall s (min)", *(f"{k} s" for k in STEPS), "status", "coverage % before -> after"]
    print(f"optimizer run, end to end (fresh process, {args.repeat} runs each)\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
