r"""How robust is a ranking to the weights? Monte Carlo rank acceptability and weight thresholds.

**Rank acceptability** (as in SMAA, Lahdelma & Salminen 2001): draw ``samples`` weight
vectors around the base weights :math:`w` from a Dirichlet distribution
:math:`\mathrm{Dir}(c\,w)` (``c`` = ``concentration``; seeded with ``seed``), score the units
with each, and report for every unit the share of draws in which it holds each rank
(:math:`b^r_i`, the rank acceptability index) and in which it is in the top k. The draws
have mean :math:`w` and variance :math:`w_j(1-w_j)/(c+1)`: c = 100 gives a standard
deviation of about 0.03 on a weight of 0.1; smaller c spreads the draws wider. Criteria
with a base weight of 0 stay at 0. The *central weight vector* of a unit is the mean of the
draws in which it ranks first (NaN if it never does).

Reading it: a unit with a top-k share near 1 is in the chosen set whatever the exact
weights; shares spread over many ranks mean the ranking hinges on the weights.

**Weight thresholds**: for each criterion j, move its weight from :math:`w_j` to t while
the others are rescaled proportionally, :math:`w_i(1-t)/(1-w_j)` (equal shares if
:math:`w_j = 1`), and find the smallest move up and down that changes the top-k set (the
units ranked <= k). The scan evaluates a grid of 201 weights on each side, then refines
the first change with nested grids to a resolution of 1e-6 in weight; a change that
appears and disappears between two points of the first grid (narrower than 1/200 of the
side's range) can be missed.

All weight vectors are scored in batches by the method's kernel (one array operation per
batch), so 2,000 draws on 1,000 units take seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.mcdm.methods import rank_min
from optimizer.mcdm.scoring import Prepared, prepare

#: Target number of array elements (weights x units x criteria) per batch.
BATCH_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Acceptability:
    """Rank acceptability of every unit under Dirichlet-perturbed weights.

    ``rank_shares``: units x ranks (1..n), share of draws with that rank (rows sum to 1);
    ``top_k_share``: share of draws in the top ``top_k``; ``expected_rank``: mean rank;
    ``central_weights``: units x criteria, mean weights of the draws where the unit is
    first; ``base_ranks``: ranks under the base weights.
    """

    method: str
    samples: int
    concentration: float
    seed: int
    top_k: int
    base_weights: pd.Series
    base_ranks: pd.Series
    rank_shares: pd.DataFrame
    top_k_share: pd.Series
    expected_rank: pd.Series
    central_weights: pd.DataFrame


def _batches(prep: Prepared, weights: np.ndarray):
    """Yield (batch weights, batch ranks) in slices sized to :data:`BATCH_ELEMENTS`."""
    n, m = prep.x.shape
    step = max(1, BATCH_ELEMENTS // max(1, n * m))
    for start in range(0, len(weights), step):
        wb = weights[start : start + step]
        yield wb, rank_min(prep.evaluate(wb), prep.spec.higher_is_better)


def _check_int(name: str, value: int, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise InputError(f"expected an integer {name} >= {lo}", column=name, found=value)
    return int(value)


def draw_weights(base: np.ndarray, samples: int, concentration: float, seed: int) -> np.ndarray:
    """``samples`` x m Dirichlet(concentration * base) draws; zero base weights stay zero.

    >>> w = draw_weights(np.array([0.5, 0.5, 0.0]), 3, 100.0, 0)
    >>> w.shape, bool(np.allclose(w.sum(axis=1), 1)), bool((w[:, 2] == 0).all())
    ((3, 3), True, True)
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((samples, base.size))
    active = base > 0
    out[:, active] = rng.dirichlet(concentration * base[active], size=samples)
    return out


def rank_acceptability(
    table: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    samples: int = 2000,
    concentration: float = 100.0,
    seed: int = 0,
    top_k: int = 5,
    **scoring: object,
) -> Acceptability:
    """Monte Carlo rank acceptability of every unit (see the module docstring).

    ``scoring``: the keyword arguments of :func:`~optimizer.mcdm.scoring.score` (``cost``,
    ``method`` (default topsis), ``normalization``, ``drop_constant`` and method options).
    """
    prep = prepare(table, weights, **scoring)
    samples = _check_int("samples", samples, 1)
    seed = _check_int("seed", seed, 0)
    top_k = _check_int("top_k", top_k, 1)
    try:
        concentration = float(concentration)
    except (TypeError, ValueError):
        raise InputError("expected a positive number", option="concentration", found=concentration) from None
    if not np.isfinite(concentration) or concentration <= 0:
        raise InputError("expected a positive, finite number", option="concentration", found=concentration)
    n, m = prep.x.shape
    draws = draw_weights(prep.w, samples, concentration, seed)
    counts = np.zeros(n * n, dtype=np.int64)
    first_weight_sum = np.zeros((n, m))
    first_count = np.zeros(n)
    unit = np.arange(n)
    for wb, ranks in _batches(prep, draws):
        counts += np.bincount((unit * n + (ranks - 1)).ravel(), minlength=n * n)
        first = ranks == 1
        first_weight_sum += first.T.astype(float) @ wb
        first_count += first.sum(axis=0)
    shares = counts.reshape(n, n) / samples
    rank_labels = pd.Index(np.arange(1, n + 1), name="rank")
    rank_shares = pd.DataFrame(shares, index=prep.ids, columns=rank_labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        central = first_weight_sum / first_count[:, None]
    return Acceptability(
        method=prep.spec.name,
        samples=samples,
        concentration=concentration,
        seed=seed,
        top_k=top_k,
        base_weights=pd.Series(prep.w, index=prep.criteria, name="weight"),
        base_ranks=pd.Series(rank_min(prep.evaluate(prep.w), prep.spec.higher_is_better), index=prep.ids, name="rank"),
        rank_shares=rank_shares,
        top_k_share=pd.Series(shares[:, :top_k].sum(axis=1), index=prep.ids, name=f"top_{top_k}_share"),
        expected_rank=pd.Series(shares @ np.arange(1, n + 1), index=prep.ids, name="expected_rank"),
        central_weights=pd.DataFrame(central, index=prep.ids, columns=prep.criteria),
    )


def _shifted(base: np.ndarray, j: int, t: np.ndarray) -> np.ndarray:
    """Weight vectors with w_j = t and the other weights rescaled to fill 1 - t."""
    others = base.copy()
    others[j] = 0.0
    rest = others.sum()
    share = others / rest if rest > 0 else np.where(np.arange(base.size) == j, 0.0, 1.0 / (base.size - 1))
    out = (1.0 - t)[:, None] * share[None, :]
    out[:, j] = t
    return out


def _first_change(prep: Prepared, j: int, base_top: np.ndarray, start: float, end: float, top_k: int, resolution: float):
    """Weight nearest ``start`` on the way to ``end`` where the top-k set differs, or None."""
    grid = np.linspace(start, end, 201)
    while True:
        ranks = rank_min(prep.evaluate(_shifted(prep.w, j, grid)), prep.spec.higher_is_better)
        changed = np.flatnonzero(((ranks <= top_k) != base_top).any(axis=1))
        if changed.size == 0:
            return None
        i = int(changed[0])
        if i == 0 or abs(grid[i] - grid[i - 1]) <= resolution:
            return float(grid[i]), ranks[i]
        grid = np.linspace(grid[i - 1], grid[i], 65)


def weight_thresholds(
    table: pd.DataFrame,
    weights: pd.Series | Mapping[str, float],
    *,
    top_k: int = 5,
    resolution: float = 1e-6,
    **scoring: object,
) -> pd.DataFrame:
    """Per criterion, the smallest weight change up and down that changes the top-k set.

    Columns: ``weight``; for each direction (``up_``, ``down_``): ``weight`` (the new
    weight of the criterion at the change), ``change`` (new - base), ``enters`` (the best
    ranked unit entering the top k at that weight), ``leaves`` (a unit that leaves it). Rows
    where nothing changes within [0, 1] hold missing values (NaN). ``scoring``: as in
    :func:`rank_acceptability`.
    """
    prep = prepare(table, weights, **scoring)
    top_k = _check_int("top_k", top_k, 1)
    if top_k >= len(prep.ids):
        raise InputError(f"expected top_k smaller than the number of units ({len(prep.ids)})", option="top_k", found=top_k)
    base_ranks = rank_min(prep.evaluate(prep.w), prep.spec.higher_is_better)
    base_top = base_ranks <= top_k
    rows = []
    for j, name in enumerate(prep.criteria):
        row: dict[str, object] = {"criterion": name, "weight": float(prep.w[j])}
        for side, end in (("up", 1.0), ("down", 0.0)):
            hit = None if prep.w[j] == end else _first_change(prep, j, base_top, float(prep.w[j]), end, top_k, resolution)
            if hit is None:
                row.update({f"{side}_weight": np.nan, f"{side}_change": np.nan, f"{side}_enters": None, f"{side}_leaves": None})
                continue
            t, ranks = hit
            now_top = ranks <= top_k
            entering = np.flatnonzero(now_top & ~base_top)
            leaving = np.flatnonzero(base_top & ~now_top)
            row.update({
                f"{side}_weight": t,
                f"{side}_change": t - float(prep.w[j]),
                f"{side}_enters": str(prep.ids[entering[np.argmin(ranks[entering])]]) if entering.size else None,
                f"{side}_leaves": str(prep.ids[leaving[np.argmax(ranks[leaving])]]) if leaving.size else None,
            })
        rows.append(row)
    return pd.DataFrame(rows).set_index("criterion")
