"""Seeded instance factories and an independent brute force over every subset of units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from optimizer.geo.relation import Coverage


@dataclass(frozen=True)
class Instance:
    units: pd.DataFrame
    demand: pd.DataFrame
    coverage: Coverage
    dense: np.ndarray  # (n, m) bool, only for the brute force of small instances


def random_instance(
    seed: int,
    *,
    m: int = 10,
    n: int = 40,
    density: float = 0.25,
    regions: int = 2,
    services: int = 1,
    score: bool = True,
    capacity: bool = False,
    need: bool = False,
) -> Instance:
    """Random sparse relation with integer costs and populations (seeded)."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n, m)) < density
    unit_ids = [f"u{j}" for j in range(m)]
    demand_ids = [f"d{i}" for i in range(n)]
    units = pd.DataFrame({"cost": rng.integers(1, 10, m).astype(float)}, index=unit_ids)
    if score:
        units["score"] = rng.integers(1, 10, m) / 10.0
    if services > 1:
        units["service"] = [f"s{rng.integers(services)}" for _ in range(m)]
    units["region"] = [f"r{rng.integers(regions)}" for _ in range(m)]
    if capacity:
        units["capacity"] = rng.integers(20, 150, m).astype(float)
    population = rng.integers(1, 100, n).astype(float)
    demand = pd.DataFrame({"population": population, "region": [f"r{i % regions}" for i in range(n)]}, index=demand_ids)
    if need:
        demand["need"] = population * rng.choice([1.0, 1.5, 2.0], n)
    coverage = Coverage(pd.Index(demand_ids), pd.Index(unit_ids), sp.csr_array(dense))
    return Instance(units, demand, coverage, dense)


@dataclass(frozen=True)
class Brute:
    """Every subset of units with its cost, coverage, quality, score and regional shares."""

    subsets: np.ndarray  # (2^m, m) bool
    cost: np.ndarray
    need_covered: np.ndarray
    pop_covered: np.ndarray
    quality: np.ndarray
    score: np.ndarray
    region_share: np.ndarray  # (2^m, R)
    region_units: np.ndarray  # (2^m, R)
    regions: list


def brute_force(inst: Instance, service_weights: dict | None = None) -> Brute:
    """Evaluate all ``2^m`` subsets directly from the dense relation (independent of the model)."""
    u, d, a = inst.units, inst.demand, inst.dense
    m = len(u)
    subsets = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(bool)
    services = sorted(u["service"].unique()) if "service" in u else ["all"]
    svc = u["service"].to_numpy() if "service" in u else np.array(["all"] * m)
    w = np.array([(service_weights or {}).get(s, 1.0) for s in services])
    w = w / w.sum()
    pop = d["population"].to_numpy()
    need = d["need"].to_numpy() if "need" in d else pop
    score = u["score"].to_numpy() if "score" in u else np.ones(m)
    cov_frac = np.zeros((len(subsets), len(d)))
    qual_frac = np.zeros((len(subsets), len(d)))
    for k, s in enumerate(services):
        cols = svc == s
        hit = (subsets[:, cols].astype(int) @ a[:, cols].T.astype(int)) > 0
        cov_frac += w[k] * hit
        best = np.zeros((len(subsets), len(d)))
        for j in np.flatnonzero(cols):
            best = np.maximum(best, np.where(subsets[:, [j]] & a[:, j][None, :], score[j], 0.0))
        qual_frac += w[k] * best
    regions = sorted(set(d["region"]) | set(u["region"]))
    reg_share = np.zeros((len(subsets), len(regions)))
    reg_units = np.zeros((len(subsets), len(regions)), dtype=int)
    for g, r in enumerate(regions):
        rows = d["region"].to_numpy() == r
        reg_share[:, g] = (cov_frac[:, rows] @ pop[rows]) / pop[rows].sum() if rows.any() else 1.0
        reg_units[:, g] = subsets[:, u["region"].to_numpy() == r].sum(axis=1)
    return Brute(
        subsets=subsets,
        cost=subsets.astype(float) @ u["cost"].to_numpy(),
        need_covered=cov_frac @ need,
        pop_covered=cov_frac @ pop,
        quality=qual_frac @ need,
        score=subsets.astype(float) @ score,
        region_share=reg_share,
        region_units=reg_units,
        regions=regions,
    )


def lexicographic(values: list[tuple[np.ndarray, bool]], feasible: np.ndarray) -> np.ndarray:
    """Indices of the subsets optimal for each stage in turn (True = maximise)."""
    idx = np.flatnonzero(feasible)
    for v, maximize in values:
        if not len(idx):
            return idx
        best = v[idx].max() if maximize else v[idx].min()
        idx = idx[np.abs(v[idx] - best) <= 1e-9 * max(1.0, abs(best))]
    return idx


@pytest.fixture
def instance_factory():
    return random_instance


@pytest.fixture
def example_dir():
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "examples" / "select"


@pytest.fixture
def brute():
    return brute_force


@pytest.fixture
def lexi():
    return lexicographic
