"""Equity of access: how unequally access is spread over the people of a scenario.

Pure numpy kernels, each weighted by population:

* :func:`weighted_gini` — the Gini coefficient as the mean absolute difference over twice
  the mean, ``G = sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mu)`` (Cowell, *Measuring
  Inequality*, 3rd ed., 2011, eq. 2.2 with weights), computed in O(n log n) from the
  sorted values: ``G = sum_i w_i x_i (2 F_i - W - w_i) / (W^2 mu)`` with ``F_i`` the
  weight of values up to and including i in ascending order.
* :func:`concentration_index` — O'Donnell, van Doorslaer, Wagstaff & Lindelow (2008),
  *Analyzing Health Equity Using Household Survey Data*, World Bank, ch. 8, eq. 8.7 (the
  "convenient covariance" form): ``C = 2 cov_w(h, R) / mu_h`` with ``R`` the weighted
  fractional rank by the ranking variable (lowest first, ``R_i = (W_below_i + w_i / 2) / W``).
  Tied ranking values share the mean fractional rank of their group, so the index does
  not depend on the order of ties. ``C > 0``: access concentrated among the better-off.
* :func:`weighted_quantile` — the inverted-CDF quantile: the smallest value ``v`` whose
  cumulative weight reaches ``q W``; ``+inf`` (no unit within reach) is allowed.
* :func:`nearest_distance` — per demand point, the nearest selected unit in the sparse
  relation (distance or minutes), ``+inf`` when none is within reach.
* :func:`equity` — the Gini of an access measure, the concentration index when a ranking
  variable is given, and the worst-off 10 % of people (ranked by access, the boundary
  point entering with the fraction of its people needed): their covered share and their
  median distance to the nearest unit.
* :func:`time_distribution` — per region, the median and 90th percentile of the distance
  to the nearest unit and the share of people beyond reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.geo.relation import Coverage


def _weights(values: np.ndarray, weights) -> np.ndarray:
    return np.ones(len(values)) if weights is None else np.asarray(weights, dtype=float)


def weighted_gini(values, weights=None) -> float:
    """Population-weighted Gini coefficient of a non-negative variable (nan when the mean is 0).

    >>> round(weighted_gini([1, 2, 3, 4, 5]), 6)  # 4/15 by the mean-difference formula
    0.266667
    >>> weighted_gini([3, 3, 3])
    0.0
    """
    x = np.asarray(values, dtype=float)
    w = _weights(x, weights)
    keep = w > 0
    x, w = x[keep], w[keep]
    total = w.sum()
    mu = float((w * x).sum() / total) if total > 0 else 0.0
    if total <= 0 or mu <= 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w)
    return float((w * x * (2 * cum - total - w)).sum() / (total**2 * mu))


def fractional_rank(rank_by, weights=None) -> np.ndarray:
    """Weighted fractional rank in (0, 1), lowest first; ties share their group's mean rank.

    >>> fractional_rank([10, 30, 20]).round(4).tolist()
    [0.1667, 0.8333, 0.5]
    """
    r = np.asarray(rank_by, dtype=float)
    w = _weights(r, weights)
    total = w.sum()
    order = np.argsort(r, kind="stable")
    below = np.cumsum(w[order]) - w[order]
    rank_sorted = (below + w[order] / 2) / total
    out = np.empty(len(r))
    out[order] = rank_sorted
    # ties: the weighted mean rank of the tied group (= the group's midpoint)
    codes, uniques = pd.factorize(r, sort=True)
    if len(uniques) < len(r):
        group_w = np.bincount(codes, weights=w)
        group_r = np.bincount(codes, weights=w * out)
        out = np.divide(group_r, group_w, out=np.zeros_like(group_r), where=group_w > 0)[codes]
    return out


def concentration_index(values, rank_by, weights=None) -> float:
    """``C = 2 cov_w(h, R) / mu_h`` (O'Donnell et al. 2008, eq. 8.7); nan when the mean is 0."""
    h = np.asarray(values, dtype=float)
    w = _weights(h, weights)
    total = w.sum()
    mu = float((w * h).sum() / total) if total > 0 else 0.0
    if total <= 0 or mu == 0:
        return float("nan")
    rank = fractional_rank(rank_by, w)
    cov = float((w * (h - mu) * (rank - (w * rank).sum() / total)).sum() / total)
    return 2.0 * cov / mu


def weighted_quantile(values, weights, q: float) -> float:
    """Smallest value whose cumulative weight reaches ``q`` of the total (inverted CDF).

    >>> weighted_quantile([1.0, 2.0, np.inf], [1, 1, 2], 0.5), weighted_quantile([1.0, 2.0, np.inf], [1, 1, 2], 0.6)
    (2.0, inf)
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    x, w = x[keep], w[keep]
    if len(x) == 0:
        return float("nan")
    order = np.argsort(x, kind="stable")
    x, cum = x[order], np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(x[min(k, len(x) - 1)])


def nearest_distance(coverage: Coverage, selected: np.ndarray | None = None) -> np.ndarray:
    """Per demand point, the smallest stored distance to a selected unit (+inf when none)."""
    if coverage.distance is None:
        raise ValueError("the coverage relation keeps no distances")
    m = coverage.matrix
    d = np.asarray(coverage.distance, dtype=float).copy()
    if selected is not None:
        d[~np.asarray(selected, dtype=bool)[m.indices]] = np.inf
    out = np.full(m.shape[0], np.inf)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    np.minimum.at(out, rows, d)
    return out


@dataclass(frozen=True)
class Equity:
    """Equity of one network's access (see the module docstring)."""

    gini: float
    concentration: float | None
    worst_share: float
    worst_covered: float
    worst_median_distance: float
    measure: str

    def summary(self) -> dict:
        def plain(v):
            return None if v is None or not np.isfinite(v) else round(float(v), 6)

        return {
            "measure": self.measure,
            "gini": plain(self.gini),
            "concentration_index": plain(self.concentration),
            "worst_off_share": self.worst_share,
            "worst_off_covered_share": plain(self.worst_covered),
            "worst_off_median_distance": plain(self.worst_median_distance),
        }


def equity(access, population, *, covered, nearest, rank_by=None, worst: float = 0.10, measure: str = "2sfca") -> Equity:
    """Gini (and concentration index) of ``access``; the worst-off ``worst`` share of people."""
    a = np.asarray(access, dtype=float)
    pop = np.asarray(population, dtype=float)
    cov = np.asarray(covered, dtype=float)
    near = np.asarray(nearest, dtype=float)
    if not (len(a) == len(pop) == len(cov) == len(near)) or (rank_by is not None and len(rank_by) != len(a)):
        raise InputError("expected access, population, covered, nearest and rank_by of one length per demand point")
    if (pop < 0).any():
        raise InputError("expected a population >= 0 at every demand point")
    order = np.lexsort((np.arange(len(a)), -near, a))  # least access first; among equals the farthest
    take = np.zeros(len(a))
    need = worst * pop.sum()
    cum = np.cumsum(pop[order]) - pop[order]
    take[order] = np.clip(need - cum, 0, pop[order])
    share = float((take * cov).sum() / take.sum()) if take.sum() > 0 else float("nan")
    return Equity(
        gini=weighted_gini(a, pop),
        concentration=None if rank_by is None else concentration_index(a, rank_by, pop),
        worst_share=worst,
        worst_covered=share,
        worst_median_distance=weighted_quantile(near, take, 0.5) if take.sum() > 0 else float("nan"),
        measure=measure,
    )


def time_distribution(nearest, population, region, *, regions=None) -> pd.DataFrame:
    """Per region: people, median and 90th percentile distance to the nearest unit, share beyond reach."""
    frame = pd.DataFrame({"near": np.asarray(nearest, float), "pop": np.asarray(population, float), "region": np.asarray(region, dtype=object)})
    rows = {}
    for name, g in frame.groupby("region", sort=False, dropna=False):
        total = g["pop"].sum()
        rows[name] = {
            "population": total,
            "median": weighted_quantile(g["near"], g["pop"], 0.5),
            "p90": weighted_quantile(g["near"], g["pop"], 0.9),
            "share_beyond": float(g.loc[~np.isfinite(g["near"]), "pop"].sum() / total) if total > 0 else float("nan"),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "region"
    return out.reindex(regions) if regions is not None else out
