"""Every scoring method against an independent, loop-based implementation of its paper.

The reference functions below are written from the published formulas, element by
element, without numpy vector tricks and without calling our kernels or pymcdm:

* TOPSIS: Hwang & Yoon (1981), *Multiple Attribute Decision Making*, ch. 3 (vector
  normalization, ideal/anti-ideal, closeness C = D- / (D+ + D-)).
* AHP ratings mode: Saaty (1986), "Absolute and relative measurement with the AHP"
  (each value divided by the best value; cost criteria as min/x; weighted sum).
* VIKOR: Opricovic & Tzeng (2004), EJOR 156:445-455, eqs. (1)-(4) and step 5.
* PROMETHEE II: Brans & Vincke (1985), Management Science 31(6):647-656 (pairwise
  preference functions, net flow).
* COPRAS: Zavadskas & Kaklauskas (1996); Zavadskas, Kaklauskas & Sarka (1994).
* EDAS: Keshavarz Ghorabaee, Zavadskas, Olfat & Turskis (2015), Informatica 26(3).
* WASPAS: Zavadskas, Turskis, Antucheviciene & Zakarevicius (2012), Elektronika ir
  Elektrotechnika 122(6).
* SPOTIS: Dezert, Tchamova, Han & Tacnet (2020), FUSION 2020.
* MOORA: Brauers & Zavadskas (2006), Control and Cybernetics 35(2) (ratio system).

pymcdm 1.4 is used as a second opinion where it follows the paper; where it does not
(COPRAS' cost term), the test says so and checks that we differ from it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pymcdm import methods as pm
from pymcdm import normalizations as pn

from optimizer.mcdm import methods as km
from optimizer.mcdm.scoring import METHODS, score

X = [
    [250.0, 16.0, 12.0, 5.0],
    [200.0, 16.0, 8.0, 3.0],
    [300.0, 32.0, 16.0, 4.0],
    [275.0, 32.0, 8.0, 4.0],
    [225.0, 16.0, 16.0, 2.0],
    [260.0, 24.0, 10.0, 4.5],
]
W = [0.35, 0.25, 0.25, 0.15]
COST = [True, False, False, False]  # first criterion (a price) is a cost
NAMES = ["price", "storage", "camera", "looks"]
IDS = [f"u{i}" for i in range(1, 7)]


def table() -> pd.DataFrame:
    return pd.DataFrame(X, index=IDS, columns=NAMES)


def run(method: str, **kw) -> pd.Series:
    return score(table(), dict(zip(NAMES, W, strict=True)), cost=[c for c, k in zip(NAMES, COST, strict=True) if k], method=method, **kw).scores


def col(j):
    return [row[j] for row in X]


# ------------------------------------------------------------------ reference implementations


def ref_topsis():
    n, m = len(X), len(W)
    norms = [math.sqrt(sum(X[i][j] ** 2 for i in range(n))) for j in range(m)]
    v = [[W[j] * X[i][j] / norms[j] for j in range(m)] for i in range(n)]
    ideal = [min(v[i][j] for i in range(n)) if COST[j] else max(v[i][j] for i in range(n)) for j in range(m)]
    anti = [max(v[i][j] for i in range(n)) if COST[j] else min(v[i][j] for i in range(n)) for j in range(m)]
    out = []
    for i in range(n):
        dp = math.sqrt(sum((v[i][j] - ideal[j]) ** 2 for j in range(m)))
        dm = math.sqrt(sum((v[i][j] - anti[j]) ** 2 for j in range(m)))
        out.append(dm / (dp + dm))
    return out


def ref_ahp():
    n, m = len(X), len(W)
    out = []
    for i in range(n):
        s = 0.0
        for j in range(m):
            c = col(j)
            s += W[j] * (min(c) / X[i][j] if COST[j] else X[i][j] / max(c))
        out.append(s)
    return out


def ref_vikor(v=0.5):
    n, m = len(X), len(W)
    fstar = [min(col(j)) if COST[j] else max(col(j)) for j in range(m)]
    fminus = [max(col(j)) if COST[j] else min(col(j)) for j in range(m)]
    S, R = [], []
    for i in range(n):
        terms = [W[j] * (fstar[j] - X[i][j]) / (fstar[j] - fminus[j]) for j in range(m)]
        S.append(sum(terms))
        R.append(max(terms))
    return [v * (S[i] - min(S)) / (max(S) - min(S)) + (1 - v) * (R[i] - min(R)) / (max(R) - min(R)) for i in range(n)]


def ref_pref(d, kind, q=0.0, p=0.0, s=1.0):
    if d <= 0:
        return 0.0
    if kind == "usual":
        return 1.0
    if kind == "ushape":
        return 1.0 if d > q else 0.0
    if kind == "vshape":
        return d / p if d <= p else 1.0
    if kind == "level":
        return 0.0 if d <= q else (0.5 if d <= p else 1.0)
    if kind == "linear":
        return 0.0 if d <= q else ((d - q) / (p - q) if d <= p else 1.0)
    if kind == "gaussian":
        return 1.0 - math.exp(-(d * d) / (2 * s * s))
    raise AssertionError(kind)


def ref_promethee(kind="usual", q=0.0, p=0.0, s=1.0):
    n, m = len(X), len(W)

    def pi(a, b):
        total = 0.0
        for j in range(m):
            d = X[a][j] - X[b][j]
            if COST[j]:
                d = -d
            total += W[j] * ref_pref(d, kind, q[j] if isinstance(q, list) else q, p[j] if isinstance(p, list) else p, s)
        return total

    return [sum(pi(a, b) - pi(b, a) for b in range(n) if b != a) / (n - 1) for a in range(n)]


def ref_copras():
    n, m = len(X), len(W)
    d = [[W[j] * X[i][j] / sum(col(j)) for j in range(m)] for i in range(n)]
    sp = [sum(d[i][j] for j in range(m) if not COST[j]) for i in range(n)]
    sm = [sum(d[i][j] for j in range(m) if COST[j]) for i in range(n)]
    smin = min(sm)
    q = [sp[i] + smin * sum(sm) / (sm[i] * sum(smin / sm[k] for k in range(n))) for i in range(n)]
    return [qi / max(q) for qi in q]


def ref_edas():
    n, m = len(X), len(W)
    av = [sum(col(j)) / n for j in range(m)]
    sp, sn = [], []
    for i in range(n):
        a = b = 0.0
        for j in range(m):
            if COST[j]:
                pda = max(0.0, av[j] - X[i][j]) / av[j]
                nda = max(0.0, X[i][j] - av[j]) / av[j]
            else:
                pda = max(0.0, X[i][j] - av[j]) / av[j]
                nda = max(0.0, av[j] - X[i][j]) / av[j]
            a += W[j] * pda
            b += W[j] * nda
        sp.append(a)
        sn.append(b)
    return [0.5 * (sp[i] / max(sp) + 1 - sn[i] / max(sn)) for i in range(n)]


def ref_waspas(lam=0.5):
    n, m = len(X), len(W)
    out = []
    for i in range(n):
        r = [min(col(j)) / X[i][j] if COST[j] else X[i][j] / max(col(j)) for j in range(m)]
        wsm = sum(W[j] * r[j] for j in range(m))
        wpm = math.prod(r[j] ** W[j] for j in range(m))
        out.append(lam * wsm + (1 - lam) * wpm)
    return out


def ref_spotis():
    n, m = len(X), len(W)
    out = []
    for i in range(n):
        p = 0.0
        for j in range(m):
            lo, hi = min(col(j)), max(col(j))
            ideal = lo if COST[j] else hi
            p += W[j] * abs(X[i][j] - ideal) / (hi - lo)
        out.append(p)
    return out


def ref_moora():
    n, m = len(X), len(W)
    norms = [math.sqrt(sum(X[i][j] ** 2 for i in range(n))) for j in range(m)]
    return [sum((-1 if COST[j] else 1) * W[j] * X[i][j] / norms[j] for j in range(m)) for i in range(n)]


# ------------------------------------------------------------------ tests


def test_methods_list():
    assert set(METHODS) >= {"topsis", "ahp", "vikor", "promethee", "copras", "edas", "waspas", "spotis", "moora"}


@pytest.mark.parametrize(
    ("method", "ref"),
    [
        ("topsis", ref_topsis),
        ("ahp", ref_ahp),
        ("vikor", ref_vikor),
        ("promethee", ref_promethee),
        ("copras", ref_copras),
        ("edas", ref_edas),
        ("waspas", ref_waspas),
        ("spotis", ref_spotis),
        ("moora", ref_moora),
    ],
)
def test_method_matches_independent_implementation(method, ref):
    np.testing.assert_allclose(run(method).to_numpy(), ref(), rtol=1e-12, atol=1e-12)


def test_vikor_v_and_waspas_lambda_options():
    np.testing.assert_allclose(run("vikor", v=0.2).to_numpy(), ref_vikor(0.2), rtol=1e-12)
    np.testing.assert_allclose(run("waspas", lam=0.8).to_numpy(), ref_waspas(0.8), rtol=1e-12)


@pytest.mark.parametrize(
    ("kind", "q", "p", "s"),
    [
        ("ushape", 5.0, 0.0, 1.0),
        ("vshape", 0.0, 30.0, 1.0),
        ("level", [10.0, 4.0, 2.0, 0.5], [40.0, 10.0, 6.0, 1.5], 1.0),
        ("linear", [10.0, 4.0, 2.0, 0.5], [40.0, 10.0, 6.0, 1.5], 1.0),
        ("gaussian", 0.0, 0.0, 3.0),
    ],
)
def test_promethee_preference_functions(kind, q, p, s):
    def per(v):
        return dict(zip(NAMES, v, strict=True)) if isinstance(v, list) else v

    got = run("promethee", preference=kind, q=per(q), p=per(p), s=s).to_numpy()
    np.testing.assert_allclose(got, ref_promethee(kind, q, p, s), rtol=1e-12, atol=1e-12)


def test_promethee_sorted_sums_match_pairwise_on_random_data_with_ties(rng):
    """The O(n log n) preference sums equal the O(n^2) pairwise definition (ties included)."""
    col_ = rng.integers(0, 8, 60).astype(float)
    for kind, q, p in [("usual", 0, 0), ("ushape", 1.5, 0), ("vshape", 0, 3), ("level", 1, 3), ("linear", 1, 4), ("linear", 2, 2)]:
        want = [sum(ref_pref(a - b, kind, q, p) for b in col_) for a in col_]
        np.testing.assert_allclose(km.preference_sums(col_, kind, q=q, p=p), want, atol=1e-9)


def test_pymcdm_agrees_where_it_follows_the_paper():
    """Second opinion from pymcdm 1.4 for the methods where it implements the paper."""
    x, w = np.array(X), np.array(W)
    types = np.where(COST, -1, 1)
    np.testing.assert_allclose(run("topsis"), pm.TOPSIS(pn.vector_normalization)(x, w, types), rtol=1e-10)
    np.testing.assert_allclose(run("vikor"), pm.VIKOR()(x, w, types), rtol=1e-10)
    np.testing.assert_allclose(run("edas"), pm.EDAS()(x, w, types), rtol=1e-10)
    np.testing.assert_allclose(run("waspas"), pm.WASPAS()(x, w, types), rtol=1e-10)
    np.testing.assert_allclose(run("spotis"), pm.SPOTIS(pm.SPOTIS.make_bounds(x))(x, w, types), rtol=1e-10)
    np.testing.assert_allclose(run("moora"), pm.MOORA()(x, w, types), rtol=1e-10)
    np.testing.assert_allclose(run("promethee"), pm.PROMETHEE_II("usual")(x, w, types), rtol=1e-10)
    q, p = [10.0, 4.0, 2.0, 0.5], [40.0, 10.0, 6.0, 1.5]
    ours = run("promethee", preference="linear", q=dict(zip(NAMES, q, strict=True)), p=dict(zip(NAMES, p, strict=True)))
    np.testing.assert_allclose(ours, pm.PROMETHEE_II("vshape_2", p=p, q=q)(x, w, types), rtol=1e-10)


def test_copras_follows_the_paper_not_pymcdm():
    """pymcdm 1.4's COPRAS returns Q = S+ + S- (its cost term simplifies to S-): not the paper.

    Ours uses Zavadskas & Kaklauskas' relative significance (see ``ref_copras``); the two
    must differ on this problem, and ours must equal the reference.
    """
    x, w = np.array(X), np.array(W)
    theirs = pm.COPRAS()(x, w, np.where(COST, -1, 1))
    ours = run("copras").to_numpy()
    np.testing.assert_allclose(ours, ref_copras(), rtol=1e-12)
    assert not np.allclose(ours, theirs)


def test_copras_and_moora_without_cost_criteria():
    """pymcdm refuses benefit-only problems; the published formulas reduce to Q = S+ and y = sum."""
    t = table().drop(columns="price")
    w = dict(zip(NAMES[1:], [1 / 3] * 3, strict=True))
    c = score(t, w, method="copras")
    sp = (t / t.sum()).mul(pd.Series(w)).sum(axis=1)
    np.testing.assert_allclose(c.scores, sp / sp.max())
    mo = score(t, w, method="moora")
    np.testing.assert_allclose(mo.scores, (t / np.sqrt((t**2).sum())).mul(pd.Series(w)).sum(axis=1))


def test_vikor_compromise_rule():
    """Opricovic & Tzeng (2004) step 5 on hand-made S, R, Q."""
    s = np.array([0.2, 0.3, 0.9, 0.5])
    r = np.array([0.1, 0.2, 0.5, 0.3])
    # C1 fails (0.2 < DQ = 1/3): every unit within DQ of the best is in the set
    np.testing.assert_array_equal(km.vikor_compromise(s, r, np.array([0.0, 0.2, 1.0, 0.3])), [True, True, False, True])
    # C1 holds, C2 fails (the Q-best unit 1 is neither S- nor R-best): the first two
    np.testing.assert_array_equal(km.vikor_compromise(s, r, np.array([0.4, 0.0, 1.0, 0.9])), [True, True, False, False])
    # both hold: only the best
    np.testing.assert_array_equal(km.vikor_compromise(s, r, np.array([0.0, 0.5, 1.0, 0.9])), [True, False, False, False])


def test_batched_weights_equal_one_at_a_time(rng):
    """Every kernel evaluated on a (k, m) batch equals k separate calls."""
    x = np.array(X)
    cost = np.array(COST)
    wb = rng.dirichlet(np.ones(4), size=5)
    for name, spec in km.SPECS.items():
        batch = spec.kernel(x, wb, cost)["score"]
        for k in range(5):
            np.testing.assert_allclose(batch[k], spec.kernel(x, wb[k], cost)["score"], rtol=1e-12, err_msg=name)


def test_rank_min_ties_and_direction():
    np.testing.assert_array_equal(km.rank_min(np.array([0.3, 0.1, 0.3, 0.2]), False), [3, 1, 3, 2])
    np.testing.assert_array_equal(km.rank_min(np.array([[1.0, 2.0, 2.0], [3.0, 2.0, 1.0]]), True), [[3, 1, 1], [1, 2, 3]])
