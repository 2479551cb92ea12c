r"""Rankings of several methods side by side, and how much they agree.

:func:`compare_methods` scores the same units with several methods (same weights, same
cost criteria) and returns the ranks and scores per method and four rank-correlation
matrices (methods x methods). The coefficients are computed on the *fractional* ranks
(ties get the mean of the positions they span; 1 = best), which is what their formulas
assume; with no ties these equal the reported ranks. For two rankings x, y of n units:

* ``spearman``: Spearman's :math:`r_s`, the Pearson correlation of the ranks
  (:math:`1-\frac{6\sum d_i^2}{n(n^2-1)}` without ties).
* ``weighted_spearman``: :math:`r_w = 1-\frac{6\sum (x_i-y_i)^2((n-x_i+1)+(n-y_i+1))}
  {n^4+n^3-n^2-n}` (Pinto da Costa & Soares 2005): disagreements at the top weigh more.
* ``ws``: the WS similarity coefficient :math:`WS = 1-\sum_i 2^{-x_i}\frac{|x_i-y_i|}
  {\max(|x_i-1|, |x_i-n|)}` (Sałabun & Urbaniak 2020), in [0, 1]. It is **asymmetric**:
  row method = reference ranking x, column method = compared ranking y.
* ``kendall``: Kendall's :math:`\tau_b` (scipy.stats.kendalltau).

How to read them: values near 1 mean the methods would pick the same units; the weighted
coefficients (rw, WS) fall faster when the disagreement is among the top-ranked units,
which is what a contracting decision cares about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from optimizer.errors import InputError
from optimizer.mcdm.scoring import ScoreResult, resolve_method, score


def fractional_ranks(ranks: np.ndarray) -> np.ndarray:
    """Tie-averaged ranks from competition ranks: a group tied at rank r of size t gets r + (t - 1)/2.

    >>> fractional_ranks(np.array([1, 2, 2, 4])).tolist()
    [1.0, 2.5, 2.5, 4.0]
    """
    return stats.rankdata(np.asarray(ranks), method="average")


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rs of two rank vectors: the Pearson correlation of the ranks."""
    xc, yc = x - x.mean(), y - y.mean()
    den = np.sqrt((xc * xc).sum() * (yc * yc).sum())
    return float((xc * yc).sum() / den) if den > 0 else float("nan")


def weighted_spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Weighted Spearman rw of two rank vectors (Pinto da Costa & Soares 2005)."""
    n = x.size
    num = 6.0 * ((x - y) ** 2 * ((n - x + 1) + (n - y + 1))).sum()
    return float(1.0 - num / (n**4 + n**3 - n**2 - n))


def ws_similarity(x: np.ndarray, y: np.ndarray) -> float:
    """WS rank similarity of ranking ``y`` to the reference ``x`` (Sałabun & Urbaniak 2020)."""
    n = x.size
    den = np.maximum(np.abs(x - 1), np.abs(x - n))
    return float(1.0 - (2.0 ** (-x) * np.abs(x - y) / den).sum())


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two rank vectors (scipy.stats.kendalltau)."""
    return float(stats.kendalltau(x, y).statistic)


CORRELATIONS = {
    "spearman": spearman,
    "weighted_spearman": weighted_spearman,
    "ws": ws_similarity,
    "kendall": kendall_tau_b,
}


def correlation_matrices(ranks: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every coefficient of :data:`CORRELATIONS` between the columns of a units x methods rank table."""
    names = list(ranks.columns)
    out = {}
    for key, func in CORRELATIONS.items():
        mat = np.array([[func(ranks[a].to_numpy(float), ranks[b].to_numpy(float)) for b in names] for a in names])
        out[key] = pd.DataFrame(mat, index=pd.Index(names, name="reference"), columns=names)
    return out


@dataclass(frozen=True)
class Comparison:
    """Several methods on the same units.

    ``ranks`` / ``scores`` / ``quality``: units x methods (ranks 1 = best, ties share the
    best rank); ``fractional_ranks``: the tie-averaged ranks the correlations use;
    ``correlations``: ``spearman``, ``weighted_spearman``, ``ws`` (row = reference),
    ``kendall``, each methods x methods; ``results``: every method's full ScoreResult.
    """

    ranks: pd.DataFrame
    scores: pd.DataFrame
    quality: pd.DataFrame
    fractional_ranks: pd.DataFrame
    correlations: dict[str, pd.DataFrame]
    results: dict[str, ScoreResult]


def compare_methods(
    table: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    cost: Iterable[str] = (),
    methods: Sequence[str] = ("topsis", "ahp", "vikor", "promethee"),
    drop_constant: bool = False,
    options: Mapping[str, Mapping[str, object]] | None = None,
) -> Comparison:
    """Score ``table`` with each of ``methods`` (each with its default normalization).

    ``options``: per-method keyword options, e.g. ``{"vikor": {"v": 0.3}}``.

    >>> t = pd.DataFrame({"a": [7.0, 8.0, 9.0], "b": [9.0, 7.0, 6.0]}, index=["u1", "u2", "u3"])
    >>> c = compare_methods(t, {"a": 0.5, "b": 0.5}, methods=["topsis", "ahp"])
    >>> c.ranks.to_dict("list")
    {'topsis': [1, 2, 3], 'ahp': [1, 2, 2]}
    """
    names = [resolve_method(m_).name for m_ in methods]
    if not names:
        raise InputError("expected at least one method to compare", option="methods")
    if len(set(names)) != len(names):
        raise InputError("expected each method once", option="methods", found=list(methods))
    options = dict(options or {})
    unknown = [k for k in options if resolve_method(k).name not in names]
    if unknown:
        raise InputError("expected options only for the compared methods", option="options", found=unknown[0])
    options = {resolve_method(k).name: v for k, v in options.items()}
    cost = tuple(cost)
    results = {
        name: score(table, weights, cost=cost, method=name, drop_constant=drop_constant, **dict(options.get(name, {})))
        for name in names
    }
    ranks = pd.DataFrame({k: r.ranks for k, r in results.items()})
    frac = pd.DataFrame(
        {k: fractional_ranks(r.ranks.to_numpy()) for k, r in results.items()}, index=ranks.index
    )
    return Comparison(
        ranks=ranks,
        scores=pd.DataFrame({k: r.scores for k, r in results.items()}),
        quality=pd.DataFrame({k: r.quality for k, r in results.items()}),
        fractional_ranks=frac,
        correlations=correlation_matrices(frac),
        results=results,
    )
