"""Method comparison and rank correlations.

Spearman rs and Kendall tau-b are checked against scipy.stats (spearmanr, kendalltau) and
a brute-force pair count; the weighted Spearman rw against the formula of Pinto da Costa
& Soares (2005), "A weighted rank measure of correlation", ANZ J. Stat. 47(4):515-529,
eq. (4); the WS coefficient against Sałabun & Urbaniak (2020), "A new coefficient of
rankings similarity in decision-making problems", ICCS 2020, LNCS 12138, eq. (6). Both
are written as plain loops below; pymcdm.correlations is checked against them too.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from pymcdm import correlations as pc
from scipy import stats

from optimizer.errors import InputError
from optimizer.mcdm.compare import (
    compare_methods,
    kendall_tau_b,
    spearman,
    weighted_spearman,
    ws_similarity,
)

X = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
Y = np.array([2.0, 1.0, 3.0, 5.0, 4.0, 7.0, 6.0])
Z = np.array([7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0])


def loop_rw(x, y):
    n = len(x)
    total = 0.0
    for i in range(n):
        total += (x[i] - y[i]) ** 2 * ((n - x[i] + 1) + (n - y[i] + 1))
    return 1 - 6 * total / (n**4 + n**3 - n**2 - n)


def loop_ws(x, y):
    n = len(x)
    total = 0.0
    for i in range(n):
        total += 2 ** (-x[i]) * abs(x[i] - y[i]) / max(abs(x[i] - 1), abs(x[i] - n))
    return 1 - total


def brute_tau_b(x, y):
    conc = disc = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tx += 1
        elif dy == 0:
            ty += 1
        elif dx == dy:
            conc += 1
        else:
            disc += 1
    return (conc - disc) / np.sqrt((conc + disc + tx) * (conc + disc + ty))


@pytest.mark.parametrize(("a", "b"), [(X, Y), (X, Z), (Y, Z), (X, X)])
def test_coefficients_against_references(a, b):
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert kendall_tau_b(a, b) == pytest.approx(stats.kendalltau(a, b).statistic)
    assert kendall_tau_b(a, b) == pytest.approx(brute_tau_b(a, b))
    assert weighted_spearman(a, b) == pytest.approx(loop_rw(a, b))
    assert ws_similarity(a, b) == pytest.approx(loop_ws(a, b))
    # pymcdm agrees with the paper formulas here
    assert pc.weighted_spearman(a, b) == pytest.approx(loop_rw(a, b))
    assert pc.rank_similarity_coef(a, b) == pytest.approx(loop_ws(a, b))


def test_known_extremes():
    """Identical rankings give 1 everywhere; a full reversal gives rs = tau = rw = -1."""
    assert spearman(X, X) == 1.0 and weighted_spearman(X, X) == 1.0 and ws_similarity(X, X) == 1.0
    assert spearman(X, Z) == pytest.approx(-1.0)
    assert kendall_tau_b(X, Z) == pytest.approx(-1.0)
    assert weighted_spearman(X, Z) == pytest.approx(-1.0)


def test_ws_weighs_top_disagreement_more_and_is_asymmetric():
    top_swap = np.array([2.0, 1.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    bottom_swap = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 6.0])
    assert ws_similarity(X, top_swap) < ws_similarity(X, bottom_swap)
    assert weighted_spearman(X, top_swap) < weighted_spearman(X, bottom_swap)
    assert spearman(X, top_swap) == pytest.approx(spearman(X, bottom_swap))
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([4.0, 1.0, 2.0, 3.0])
    assert ws_similarity(a, b) != pytest.approx(ws_similarity(b, a))


def test_ties_use_fractional_ranks_like_scipy():
    a = np.array([1.0, 2.5, 2.5, 4.0, 5.0])
    b = np.array([1.0, 2.0, 3.0, 4.5, 4.5])
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert kendall_tau_b(a, b) == pytest.approx(brute_tau_b(a, b))


def test_compare_methods_on_a_table(rng):
    t = pd.DataFrame(rng.uniform(1, 10, (15, 4)), index=[f"u{i}" for i in range(15)], columns=list("abcd"))
    w = {"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1}
    comp = compare_methods(t, w, cost=["a"], methods=["topsis", "vikor", "promethee", "ahp"])
    assert list(comp.ranks.columns) == ["topsis", "vikor", "promethee", "ahp"]
    assert set(comp.correlations) == {"spearman", "weighted_spearman", "ws", "kendall"}
    for key, mat in comp.correlations.items():
        np.testing.assert_allclose(np.diag(mat), 1.0, err_msg=key)
        if key != "ws":
            np.testing.assert_allclose(mat, mat.T)
    # the spearman entry equals scipy on the two methods' oriented scores (no ties here)
    s_t = comp.scores["topsis"]
    s_v = -comp.scores["vikor"]  # vikor: lower Q is better
    assert comp.correlations["spearman"].loc["topsis", "vikor"] == pytest.approx(stats.spearmanr(s_t, s_v).statistic)
    assert comp.correlations["kendall"].loc["topsis", "vikor"] == pytest.approx(stats.kendalltau(s_t, s_v).statistic)
    pd.testing.assert_series_equal(comp.ranks["vikor"], comp.results["vikor"].ranks, check_names=False)


def test_compare_methods_errors(rng):
    t = pd.DataFrame(rng.uniform(1, 10, (5, 2)), index=list("vwxyz"), columns=["a", "b"])
    with pytest.raises(InputError, match="unknown method"):
        compare_methods(t, {"a": 1, "b": 1}, methods=["topsis", "electre"])
    with pytest.raises(InputError, match="each method once"):
        compare_methods(t, {"a": 1, "b": 1}, methods=["topsis", "TOPSIS"])
    with pytest.raises(InputError, match="at least one method"):
        compare_methods(t, {"a": 1, "b": 1}, methods=[])
    c = compare_methods(t, {"a": 1, "b": 1}, methods=["vikor", "topsis"], options={"vikor": {"v": 0.2}})
    assert c.results["vikor"].options == {"v": 0.2}
