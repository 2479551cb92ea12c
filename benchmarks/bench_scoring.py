"""Benchmark: scoring time per method at 1,000 / 10,000 / 100,000 units x 10 criteria,
and the time of ``compare`` with 2,000 Monte Carlo weight draws on 1,000 units.

Run: ``python benchmarks/bench_scoring.py`` (add ``--quick`` to stop at 10,000 units).
Times are the best of a few runs of the validating entry point
(:func:`optimizer.mcdm.scoring.score`: validation, kernel, pandas wrapping of every
intermediate). Targets (issue 2): TOPSIS on 100,000 x 10 under 0.5 s; compare with 2,000
samples on 1,000 units under 20 s. Data: seeded uniform values in [1, 10], criterion 0 a
cost criterion, equal weights.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd

from optimizer.mcdm.compare import compare_methods
from optimizer.mcdm.scoring import METHODS, score
from optimizer.mcdm.sensitivity import rank_acceptability

COMPARE_METHODS = ("topsis", "ahp", "vikor", "promethee")


def make_table(n: int, m: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.uniform(1.0, 10.0, (n, m)),
        index=pd.Index([f"u{i}" for i in range(n)], name="unit_id"),
        columns=[f"c{j}" for j in range(m)],
    )


def best_time(func, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 10,000 units")
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, {platform.machine()}")
    print()
    print("| method | " + " | ".join(f"{n:,} x 10 (s)" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    tables = {n: make_table(n) for n in sizes}
    weights = {f"c{j}": 0.1 for j in range(10)}
    for method in METHODS:
        cells = []
        for n in sizes:
            t = best_time(lambda n=n, method=method: score(tables[n], weights, cost=["c0"], method=method), 3 if n < 100_000 else 2)
            cells.append(f"{t:.3f}")
        print(f"| {method} | " + " | ".join(cells) + " |")
    print()
    t = tables[1_000]
    print("| compare on 1,000 units x 10 criteria | time (s) |")
    print("|---|---:|")
    t_cmp = best_time(lambda: compare_methods(t, weights, cost=["c0"], methods=COMPARE_METHODS), 1)
    print(f"| rankings + 4 correlation matrices ({', '.join(COMPARE_METHODS)}) | {t_cmp:.3f} |")
    total = t_cmp
    for method in COMPARE_METHODS:
        t_acc = best_time(lambda method=method: rank_acceptability(t, weights, cost=["c0"], method=method, samples=2000, seed=0), 1)
        total += t_acc
        print(f"| rank acceptability, 2,000 draws, {method} | {t_acc:.3f} |")
    print(f"| **compare with 2,000 samples (all of the above, as the CLI runs it)** | **{total:.3f}** |")


if __name__ == "__main__":
    main()
