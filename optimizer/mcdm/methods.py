r"""Pure numpy kernels of the MCDM scoring methods, batched over weight vectors.

Every kernel takes the raw decision matrix ``x`` (n units x m criteria, float), the weights
``w`` (shape ``(m,)``, or ``(k, m)`` for ``k`` weight vectors at once, each summing to 1)
and the cost mask ``cost`` (shape ``(m,)``, True for a cost criterion), and returns a dict
of arrays: ``"score"`` (shape ``(n,)`` or ``(k, n)``) and the method's intermediates. The
kernels never check their input: :func:`optimizer.mcdm.scoring.score` validates once at
the door. Batching over weights lets the Monte Carlo sensitivity analysis evaluate
thousands of weight vectors as a few array operations.

Notation: :math:`x_{ij}` value of unit i on criterion j, :math:`w_j` weight,
:math:`r_{ij}` benefit-oriented normalized value (see :mod:`.normalization`),
:math:`B` / :math:`C` the benefit / cost criteria.

Methods and references (each follows the published definition; see the tests):

* TOPSIS (Hwang & Yoon 1981): :math:`v_{ij} = w_j r_{ij}`, ideal :math:`v^+_j=\max_i v_{ij}`,
  anti-ideal :math:`v^-_j=\min_i v_{ij}`, :math:`D^\pm_i=\lVert v_i-v^\pm\rVert_2`,
  closeness :math:`C_i=D^-_i/(D^+_i+D^-_i)` (0.5 if both are 0). Higher is better.
* AHP ratings mode (Saaty 1986, absolute measurement): :math:`r_{ij}=x_{ij}/\max_i x_{ij}`
  for benefit, :math:`r_{ij}=\min_i x_{ij}/x_{ij}` for cost; :math:`s_i=\sum_j w_j r_{ij}`.
* VIKOR (Opricovic & Tzeng 2004): :math:`d_{ij}=(f^*_j-f_{ij})/(f^*_j-f^-_j)` with
  :math:`f^*` the best and :math:`f^-` the worst value; :math:`S_i=\sum_j w_j d_{ij}`,
  :math:`R_i=\max_j w_j d_{ij}`,
  :math:`Q_i=v\frac{S_i-S^*}{S^--S^*}+(1-v)\frac{R_i-R^*}{R^--R^*}` (a term whose
  denominator is 0 is 0). Lower is better.
* PROMETHEE II (Brans & Vincke 1985): per criterion the preference :math:`P_j(a,b)=F_j(d)`
  of :math:`d = x_{aj}-x_{bj}` (sign flipped for cost), :math:`\phi^+(a)=\frac{1}{n-1}\sum_b
  \sum_j w_j P_j(a,b)`, :math:`\phi^-(a)=\frac{1}{n-1}\sum_b\sum_j w_j P_j(b,a)`,
  net flow :math:`\phi=\phi^+-\phi^-`. Computed in O(n log n) per criterion by sorting and
  cumulative sums for every piecewise-linear preference function (usual, ushape, vshape,
  level, linear); gaussian is O(n^2) (row blocks).
* COPRAS (Zavadskas & Kaklauskas 1996): :math:`d_{ij}=w_j x_{ij}/\sum_i x_{ij}`,
  :math:`S_{+i}=\sum_{j\in B}d_{ij}`, :math:`S_{-i}=\sum_{j\in C}d_{ij}`,
  :math:`Q_i=S_{+i}+\frac{\min S_- \sum_i S_{-i}}{S_{-i}\sum_i (\min S_-/S_{-i})}`
  (:math:`Q_i=S_{+i}` without cost criteria); score = utility degree :math:`N_i=Q_i/\max Q`.
* EDAS (Keshavarz Ghorabaee et al. 2015): average :math:`AV_j`, :math:`PDA_{ij}=\max(0,
  x_{ij}-AV_j)/AV_j` (benefit; reversed for cost), :math:`NDA_{ij}` likewise,
  :math:`SP_i=\sum_j w_j PDA_{ij}`, :math:`SN_i=\sum_j w_j NDA_{ij}`,
  :math:`AS_i=\tfrac12(SP_i/\max SP + 1 - SN_i/\max SN)`.
* WASPAS (Zavadskas et al. 2012): :math:`Q_i=\lambda\sum_j w_j r_{ij}+(1-\lambda)\prod_j
  r_{ij}^{w_j}`, linear (max) normalization by default, :math:`\lambda=0.5`.
* SPOTIS (Dezert et al. 2020): bounds :math:`[S^{min}_j,S^{max}_j]` (default: the data's
  min and max), ideal :math:`S^*_j` = max for benefit, min for cost,
  :math:`P_i=\sum_j w_j |x_{ij}-S^*_j|/(S^{max}_j-S^{min}_j)`. Lower is better.
* MOORA ratio system (Brauers & Zavadskas 2006): :math:`x^*_{ij}=x_{ij}/\sqrt{\sum_i
  x_{ij}^2}`, :math:`y_i=\sum_{j\in B}w_jx^*_{ij}-\sum_{j\in C}w_jx^*_{ij}`.

Where pymcdm 1.4 differs from the published definition, these kernels follow the paper:
pymcdm's COPRAS reduces the cost term to :math:`S_{-i}` itself (its expression
``min(Sm)*Sm / (Sm*(min(Sm)/Sm))`` simplifies to ``Sm``), and its COPRAS and MOORA refuse
problems without a cost criterion; its TOPSIS defaults to min-max normalization, ours to
vector normalization.

>>> import numpy as np
>>> x = np.array([[7.0, 9.0], [8.0, 7.0], [9.0, 6.0]])
>>> out = topsis(x, np.array([0.5, 0.5]), np.array([False, False]))
>>> out["score"].round(4).tolist()
[0.6186, 0.382, 0.3814]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optimizer.mcdm.normalization import Normalization, get_normalization, max_ratio

Arrays = dict[str, np.ndarray]


def _wb(w: np.ndarray) -> np.ndarray:
    """Weights ready to broadcast against an (n, m) matrix: (m,) or (k, 1, m)."""
    return w if w.ndim == 1 else w[:, None, :]


def _wsum(r: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted row sums ``r @ w``: (n,) for one weight vector, (k, n) for a batch."""
    return r @ w if w.ndim == 1 else w @ r.T


def _safe_div(num: np.ndarray, den: np.ndarray, fill: float) -> np.ndarray:
    """``num / den`` with ``fill`` where ``den == 0``."""
    den = np.asarray(den, dtype=float)
    ok = den != 0
    return np.where(ok, num / np.where(ok, den, 1.0), fill)


# --------------------------------------------------------------------------- TOPSIS


def topsis(x: np.ndarray, w: np.ndarray, cost: np.ndarray, *, normalization: Normalization | None = None) -> Arrays:
    """TOPSIS closeness coefficient (vector normalization unless another is given)."""
    r = get_normalization(normalization or "vector")(x, cost)
    v = r * _wb(w)
    pis = v.max(axis=-2)
    nis = v.min(axis=-2)
    d_plus = np.sqrt(((v - pis[..., None, :]) ** 2).sum(axis=-1))
    d_minus = np.sqrt(((v - nis[..., None, :]) ** 2).sum(axis=-1))
    c = _safe_div(d_minus, d_plus + d_minus, 0.5)
    return {
        "normalized": r,
        "weighted": v,
        "ideal": pis,
        "anti_ideal": nis,
        "d_plus": d_plus,
        "d_minus": d_minus,
        "score": c,
    }


# --------------------------------------------------------------------------- AHP ratings


def ahp_ratings(x: np.ndarray, w: np.ndarray, cost: np.ndarray) -> Arrays:
    """AHP ratings mode: ``x/max`` (cost ``min/x``) per criterion, then the weighted sum."""
    r = max_ratio(x, cost)
    return {"normalized": r, "weighted": r * _wb(w), "score": _wsum(r, w)}


# --------------------------------------------------------------------------- VIKOR


def vikor(x: np.ndarray, w: np.ndarray, cost: np.ndarray, *, v: float = 0.5) -> Arrays:
    """VIKOR compromise index Q (lower is better), with S (group utility) and R (regret)."""
    best = np.where(cost, x.min(axis=0), x.max(axis=0))
    worst = np.where(cost, x.max(axis=0), x.min(axis=0))
    d = (best - x) / (best - worst)
    wd = d * _wb(w)
    s = wd.sum(axis=-1)
    r = wd.max(axis=-1)
    s_star, s_minus = s.min(axis=-1, keepdims=True), s.max(axis=-1, keepdims=True)
    r_star, r_minus = r.min(axis=-1, keepdims=True), r.max(axis=-1, keepdims=True)
    q = v * _safe_div(s - s_star, s_minus - s_star, 0.0) + (1 - v) * _safe_div(r - r_star, r_minus - r_star, 0.0)
    return {"best": best, "worst": worst, "regret": d, "weighted": wd, "S": s, "R": r, "score": q}


def vikor_compromise(s: np.ndarray, r: np.ndarray, q: np.ndarray) -> np.ndarray:
    """VIKOR's compromise set (Opricovic & Tzeng 2004, step 5), as a boolean mask.

    With units sorted by Q (a1 first, a2 second) and DQ = 1/(n-1):
    C1 "acceptable advantage": Q(a2) - Q(a1) >= DQ; C2 "acceptable stability": a1 is also
    best ranked by S or by R. Both hold: {a1}. Only C2 fails: {a1, a2}. C1 fails: a1..aM,
    M the largest position with Q(aM) - Q(a1) < DQ.

    >>> vikor_compromise(np.array([0.1, 0.5, 0.9]), np.array([0.1, 0.4, 0.8]), np.array([0.0, 0.6, 1.0])).tolist()
    [True, False, False]
    """
    n = q.size
    order = np.argsort(q, kind="stable")
    dq = 1.0 / (n - 1)
    a1 = order[0]
    c1 = q[order[1]] - q[a1] >= dq
    c2 = s[a1] <= s.min() or r[a1] <= r.min()
    out = np.zeros(n, dtype=bool)
    if c1 and c2:
        out[a1] = True
    elif c1:
        out[order[:2]] = True
    else:
        out[order[q[order] - q[a1] < dq]] = True
    return out


# --------------------------------------------------------------------------- PROMETHEE II

PREFERENCE_FUNCTIONS = ("usual", "ushape", "vshape", "level", "linear", "gaussian")


def preference_sums(col: np.ndarray, function: str = "usual", *, q: float = 0.0, p: float = 0.0, s: float = 1.0) -> np.ndarray:
    """For each a: ``sum_b F(col[a] - col[b])`` with PROMETHEE preference function ``F``.

    ``usual``: F(d) = [d > 0]; ``ushape``: [d > q]; ``vshape``: min(d/p, 1) for d > 0;
    ``level``: 0.5 for q < d <= p, 1 for d > p; ``linear``: (d - q)/(p - q) for
    q < d <= p, 1 for d > p; ``gaussian``: 1 - exp(-d^2 / (2 s^2)) for d > 0.
    All but gaussian run in O(n log n): sort once, count and sum the values below the
    thresholds ``a - p`` and ``a - q`` with binary search and prefix sums.

    >>> preference_sums(np.array([1.0, 2.0, 4.0]), "vshape", p=2.0).tolist()
    [0.0, 0.5, 2.0]
    """
    if function == "gaussian":
        out = np.empty(col.size)
        step = max(1, 2_000_000 // max(col.size, 1))
        for start in range(0, col.size, step):
            d = col[start : start + step, None] - col[None, :]
            out[start : start + step] = np.where(d > 0, -np.expm1(-(d * d) / (2.0 * s * s)), 0.0).sum(axis=1)
        return out
    xs = np.sort(col)
    prefix = np.concatenate(([0.0], np.cumsum(xs)))

    def below(t: np.ndarray) -> np.ndarray:  # how many values are < t
        return np.searchsorted(xs, t, side="left")

    if function == "usual":
        return below(col).astype(float)
    if function == "ushape":
        return below(col - q).astype(float)
    if function == "vshape":
        q = 0.0
    n_full = below(col - p)  # d > p: full preference
    if function == "level":
        return n_full + 0.5 * (below(col - q) - n_full)
    if p <= q:  # linear with no ramp is a u-shape
        return below(col - q).astype(float)
    n_ramp = below(col - q)
    count = n_ramp - n_full
    total = prefix[n_ramp] - prefix[n_full]
    return n_full + ((col - q) * count - total) / (p - q)


def promethee_ii(
    x: np.ndarray,
    w: np.ndarray,
    cost: np.ndarray,
    *,
    preference: tuple[str, ...] | None = None,
    q: np.ndarray | None = None,
    p: np.ndarray | None = None,
    s: np.ndarray | None = None,
) -> Arrays:
    """PROMETHEE II net flow (usual preference function on every criterion by default).

    ``preference``, ``q``, ``p``, ``s``: one entry per criterion (thresholds in the
    criterion's own units). The flows are additive over criteria, so the per-criterion
    flows are computed once and a batch of weight vectors costs one matrix product.
    """
    n, m = x.shape
    preference = preference or ("usual",) * m
    q = np.zeros(m) if q is None else q
    p = np.zeros(m) if p is None else p
    s = np.ones(m) if s is None else s
    oriented = np.where(cost, -x, x)
    plus = np.empty((n, m))
    minus = np.empty((n, m))
    for j in range(m):
        kw = {"q": float(q[j]), "p": float(p[j]), "s": float(s[j])}
        plus[:, j] = preference_sums(oriented[:, j], preference[j], **kw) / (n - 1)
        minus[:, j] = preference_sums(-oriented[:, j], preference[j], **kw) / (n - 1)
    phi_plus = _wsum(plus, w)
    phi_minus = _wsum(minus, w)
    return {
        "criterion_flows": plus - minus,
        "phi_plus": phi_plus,
        "phi_minus": phi_minus,
        "score": phi_plus - phi_minus,
    }


# --------------------------------------------------------------------------- COPRAS


def copras(x: np.ndarray, w: np.ndarray, cost: np.ndarray) -> Arrays:
    """COPRAS utility degree N = Q / max Q (published formula, Zavadskas & Kaklauskas 1996)."""
    r = x / x.sum(axis=0)
    d = r * _wb(w)
    s_plus = _wsum(r * ~cost, w)
    if cost.any():
        s_minus = _wsum(r * cost, w)
        s_min = s_minus.min(axis=-1, keepdims=True)
        rel = s_min * s_minus.sum(axis=-1, keepdims=True) / (s_minus * (s_min / s_minus).sum(axis=-1, keepdims=True))
    else:
        s_minus = np.zeros_like(s_plus)
        rel = np.zeros_like(s_plus)
    big_q = s_plus + rel
    return {
        "normalized": r,
        "weighted": d,
        "S_plus": s_plus,
        "S_minus": s_minus,
        "Q": big_q,
        "score": big_q / big_q.max(axis=-1, keepdims=True),
    }


# --------------------------------------------------------------------------- EDAS


def edas(x: np.ndarray, w: np.ndarray, cost: np.ndarray) -> Arrays:
    """EDAS appraisal score (Keshavarz Ghorabaee et al. 2015)."""
    av = x.mean(axis=0)
    dev = np.where(cost, av - x, x - av) / av
    pda = np.maximum(dev, 0.0)
    nda = np.maximum(-dev, 0.0)
    sp = _wsum(pda, w)
    sn = _wsum(nda, w)
    nsp = _safe_div(sp, sp.max(axis=-1, keepdims=True), 0.0)
    nsn = 1.0 - _safe_div(sn, sn.max(axis=-1, keepdims=True), 0.0)
    return {"average": av, "PDA": pda, "NDA": nda, "SP": sp, "SN": sn, "NSP": nsp, "NSN": nsn, "score": 0.5 * (nsp + nsn)}


# --------------------------------------------------------------------------- WASPAS


def waspas(
    x: np.ndarray, w: np.ndarray, cost: np.ndarray, *, normalization: Normalization | None = None, lam: float = 0.5
) -> Arrays:
    """WASPAS joint criterion ``lam * WSM + (1 - lam) * WPM`` (linear normalization by default)."""
    r = get_normalization(normalization or "max")(x, cost)
    wsm = _wsum(r, w)
    with np.errstate(divide="ignore"):
        wpm = np.exp(_wsum(np.log(r), w))
    return {"normalized": r, "weighted": r * _wb(w), "WSM": wsm, "WPM": wpm, "score": lam * wsm + (1 - lam) * wpm}


# --------------------------------------------------------------------------- SPOTIS


def spotis(
    x: np.ndarray,
    w: np.ndarray,
    cost: np.ndarray,
    *,
    bounds: np.ndarray | None = None,
) -> Arrays:
    """SPOTIS distance to the ideal point (lower is better); ``bounds`` (m, 2), default data min/max."""
    if bounds is None:
        bounds = np.column_stack([x.min(axis=0), x.max(axis=0)])
    ideal = np.where(cost, bounds[:, 0], bounds[:, 1])
    d = np.abs(x - ideal) / (bounds[:, 1] - bounds[:, 0])
    return {"bounds_min": bounds[:, 0], "bounds_max": bounds[:, 1], "ideal": ideal, "distance": d, "weighted": d * _wb(w), "score": _wsum(d, w)}


# --------------------------------------------------------------------------- MOORA


def moora(x: np.ndarray, w: np.ndarray, cost: np.ndarray) -> Arrays:
    """MOORA ratio system: weighted vector-normalized benefits minus weighted costs."""
    r = x / np.sqrt((x * x).sum(axis=0))
    signed = np.where(cost, -r, r)
    return {"normalized": r, "weighted": signed * _wb(w), "score": _wsum(signed, w)}


# --------------------------------------------------------------------------- registry


def quality_identity(score: np.ndarray) -> np.ndarray:
    """Scores that already lie in [0, 1], higher better."""
    return np.clip(score, 0.0, 1.0)


def quality_complement(score: np.ndarray) -> np.ndarray:
    """Scores in [0, 1], lower better: ``1 - score``."""
    return np.clip(1.0 - score, 0.0, 1.0)


def quality_net_flow(score: np.ndarray) -> np.ndarray:
    """PROMETHEE net flow in [-1, 1]: ``(phi + 1) / 2``."""
    return np.clip((score + 1.0) / 2.0, 0.0, 1.0)


def quality_minmax(score: np.ndarray) -> np.ndarray:
    """Unbounded scores, higher better: min-max over the units (1 for every unit if all equal)."""
    lo, hi = score.min(), score.max()
    return np.ones_like(score) if hi == lo else (score - lo) / (hi - lo)


@dataclass(frozen=True)
class MethodSpec:
    """What the entry point needs to know about a method.

    ``normalizations``: the strategies it accepts (empty: the method fixes its own, named
    by ``default_normalization``); ``options``: keyword options and their defaults;
    ``domain``: "any", "positive" (every value > 0) or "positive_mean" (column mean > 0);
    ``needs_spread``: the formula divides by each criterion's range.
    """

    name: str
    kernel: Callable[..., Arrays]
    higher_is_better: bool
    default_normalization: str
    reference: str
    quality: Callable[[np.ndarray], np.ndarray]
    quality_rule: str
    normalizations: tuple[str, ...] = ()
    options: dict[str, object] = field(default_factory=dict)
    domain: str = "any"
    needs_spread: bool = False


SPECS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec("topsis", topsis, True, "vector", "Hwang & Yoon (1981)", quality_identity, "closeness C itself",
                   normalizations=("vector", "minmax", "max", "sum")),
        MethodSpec("ahp", ahp_ratings, True, "max", "Saaty (1986), ratings mode", quality_identity, "score itself (in [0, 1])",
                   domain="positive"),
        MethodSpec("vikor", vikor, False, "own (linear)", "Opricovic & Tzeng (2004)", quality_complement, "1 - Q",
                   options={"v": 0.5}, needs_spread=True),
        MethodSpec("promethee", promethee_ii, True, "none (raw differences)", "Brans & Vincke (1985)", quality_net_flow,
                   "(phi + 1) / 2", options={"preference": "usual", "q": 0.0, "p": 0.0, "s": 1.0}),
        MethodSpec("copras", copras, True, "own (sum)", "Zavadskas & Kaklauskas (1996)", quality_identity,
                   "utility degree N = Q / max Q", domain="positive"),
        MethodSpec("edas", edas, True, "own (average)", "Keshavarz Ghorabaee et al. (2015)", quality_identity,
                   "appraisal score AS itself (in [0, 1])", domain="positive_mean"),
        MethodSpec("waspas", waspas, True, "max", "Zavadskas et al. (2012)", quality_identity, "score itself (in [0, 1])",
                   normalizations=("max", "sum", "vector", "minmax"), options={"lam": 0.5}),
        MethodSpec("spotis", spotis, False, "own (bounds)", "Dezert et al. (2020)", quality_complement, "1 - P",
                   options={"bounds": None}, needs_spread=True),
        MethodSpec("moora", moora, True, "own (vector)", "Brauers & Zavadskas (2006)", quality_minmax,
                   "min-max of y over the units"),
    )
}
ALIASES = {"promethee_ii": "promethee", "promethee2": "promethee", "ahp_ratings": "ahp"}


# --------------------------------------------------------------------------- ranking


def rank_min(scores: np.ndarray, higher_is_better: bool, *, rtol: float = 1e-9) -> np.ndarray:
    """Competition ("min") ranks, 1 = best, along the last axis; works on (n,) or (k, n).

    Two scores closer than ``rtol * max(1, max |score|)`` count as tied (float noise) and
    share the best rank of their group.

    >>> rank_min(np.array([0.2, 0.9, 0.5, 0.9 + 1e-13]), True).tolist()
    [4, 1, 3, 1]
    """
    oriented = np.asarray(scores, dtype=float) if higher_is_better else -np.asarray(scores, dtype=float)
    two_d = np.atleast_2d(oriented)
    tol = rtol * np.maximum(1.0, np.abs(two_d).max(axis=-1, keepdims=True))
    order = np.argsort(-two_d, axis=-1, kind="stable")
    ordered = np.take_along_axis(two_d, order, axis=-1)
    positions = np.broadcast_to(np.arange(two_d.shape[-1]), two_d.shape)
    new_group = np.concatenate([np.ones((two_d.shape[0], 1), dtype=bool), (ordered[:, :-1] - ordered[:, 1:]) > tol], axis=-1)
    starts = np.maximum.accumulate(np.where(new_group, positions, 0), axis=-1) + 1
    ranks = np.empty_like(starts)
    np.put_along_axis(ranks, order, starts, axis=-1)
    return ranks.reshape(np.shape(scores))
