"""Equity measures against published formulas and independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from optimizer.geo.inequality import (
    concentration_index,
    equity,
    fractional_rank,
    nearest_distance,
    time_distribution,
    weighted_gini,
    weighted_quantile,
)
from optimizer.geo.relation import Coverage


def _gini_double_sum(x, w):
    """Cowell (2011), eq. 2.2: mean absolute difference over twice the mean (O(n^2))."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    mu = (w * x).sum() / w.sum()
    return (w[:, None] * w[None, :] * np.abs(x[:, None] - x[None, :])).sum() / (2 * w.sum() ** 2 * mu)


def test_gini_textbook_and_double_sum():
    """(1, 2, 3, 4, 5): mean difference 1.6, mean 3, G = 1.6 / 6 = 4/15 (Cowell 2011, eq. 2.2)."""
    assert weighted_gini([1, 2, 3, 4, 5]) == pytest.approx(4 / 15, abs=1e-12)
    assert weighted_gini([0, 0, 0, 10]) == pytest.approx(0.75)  # one person holds all: (n - 1) / n
    rng = np.random.default_rng(1)
    x, w = rng.gamma(2, 3, 50), rng.integers(1, 20, 50)
    assert weighted_gini(x, w) == pytest.approx(_gini_double_sum(x, w), rel=1e-12)
    # integer weights = replicated sample
    assert weighted_gini(x, w) == pytest.approx(weighted_gini(np.repeat(x, w)), rel=1e-12)


def _ci_curve(h, rank_by, w):
    """Independent: C = 1 - 2 x area under the concentration curve (trapezoid over
    cumulative population share vs cumulative health share, ranked by rank_by);
    O'Donnell et al. (2008), ch. 7, eq. 7.2 — equal to eq. 8.7 without ties."""
    order = np.argsort(rank_by, kind="stable")
    p = np.concatenate([[0], np.cumsum(w[order]) / w.sum()])
    lh = np.concatenate([[0], np.cumsum((w * h)[order]) / (w * h).sum()])
    area = np.sum((p[1:] - p[:-1]) * (lh[1:] + lh[:-1]) / 2)
    return 1 - 2 * area


def test_concentration_index_equals_the_curve_and_its_properties():
    rng = np.random.default_rng(2)
    h, r, w = rng.gamma(2, 1, 40), rng.permutation(40).astype(float), rng.integers(1, 9, 40).astype(float)
    c = concentration_index(h, r, w)
    assert c == pytest.approx(_ci_curve(h, r, w), abs=1e-12)
    assert concentration_index(np.full(40, 3.0), r, w) == pytest.approx(0.0, abs=1e-12)
    assert concentration_index(np.arange(1, 41.0), np.arange(40.0)) > 0
    assert concentration_index(5 * h, r, w) == pytest.approx(c)
    assert concentration_index(h, -r, w) == pytest.approx(-c)


def test_ties_share_their_mean_rank():
    assert fractional_rank([1, 1, 2]).tolist() == pytest.approx([1 / 3, 1 / 3, 5 / 6])
    a = concentration_index([1.0, 5.0, 2.0], [1, 1, 2])
    b = concentration_index([5.0, 1.0, 2.0], [1, 1, 2])
    assert a == pytest.approx(b)


def test_weighted_quantile_is_the_inverted_cdf():
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=30), rng.integers(1, 6, 30)
    for q in (0.1, 0.5, 0.9, 1.0):
        assert weighted_quantile(x, w, q) == np.quantile(np.repeat(x, w), q, method="inverted_cdf")
    assert weighted_quantile([1.0, np.inf], [1, 3], 0.5) == np.inf


def test_nearest_distance_equals_dense_brute_force():
    rng = np.random.default_rng(4)
    dense = np.where(rng.random((30, 8)) < 0.3, rng.uniform(1, 9, (30, 8)), np.inf)
    m = sp.csr_array(np.isfinite(dense))
    m.sort_indices()
    dist = dense[np.repeat(np.arange(30), np.diff(m.indptr)), m.indices]
    cov = Coverage(pd.Index([f"d{i}" for i in range(30)]), pd.Index([f"u{j}" for j in range(8)]), m, dist)
    mask = np.array([True, False, True, True, False, False, True, False])
    np.testing.assert_array_equal(nearest_distance(cov), dense.min(axis=1))
    np.testing.assert_array_equal(nearest_distance(cov, mask), np.where(mask[None, :], dense, np.inf).min(axis=1))


def test_worst_off_takes_exactly_ten_percent_of_people():
    """Four points, 100 people; the worst-off 10 people: all 6 of point a and 4 of point b."""
    e = equity([0.0, 1.0, 2.0, 3.0], [6, 10, 40, 44], covered=[0.0, 1.0, 1.0, 1.0], nearest=[np.inf, 5.0, 3.0, 1.0])
    assert e.worst_covered == pytest.approx(0.4)
    assert e.worst_median_distance == np.inf  # 6 of the 10 have no unit in reach
    assert e.gini == pytest.approx(weighted_gini([0, 1, 2, 3], [6, 10, 40, 44]))


def test_time_distribution_per_region():
    t = time_distribution([1.0, 3.0, np.inf, 2.0], [10, 30, 60, 5], ["A", "A", "B", "B"], regions=["A", "B"])
    assert t.loc["A", "median"] == 3.0 and t.loc["A", "p90"] == 3.0 and t.loc["A", "share_beyond"] == 0.0
    assert t.loc["B", "median"] == np.inf and t.loc["B", "share_beyond"] == pytest.approx(60 / 65)


def test_access_command_reports_equity_with_a_ranking_column(cli, tmp_path):
    """``optimizer access --rank-by``: the JSON's indices equal the kernels on its own per-point output."""
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples" / "geo"
    demand = pd.read_csv(examples / "demand.csv")
    demand["income"] = np.arange(len(demand)) % 7
    demand.to_csv(tmp_path / "d.csv", index=False)
    r = cli("access", "--units", examples / "units.csv", "--demand", tmp_path / "d.csv", "--radius-km", "10", "--rank-by", "income", "--out", tmp_path / "out", "--json")
    assert r.code == 0, r.stderr
    import json

    doc = json.loads(r.stdout)
    points = pd.read_csv(tmp_path / "out" / "demand_access.csv")
    income = demand.set_index("demand_id").loc[points["demand_id"], "income"].to_numpy()
    assert doc["equity"]["gini"] == pytest.approx(weighted_gini(points["access_2sfca"], points["population"]), abs=1e-6)
    assert doc["equity"]["concentration_index"] == pytest.approx(concentration_index(points["access_2sfca"], income, points["population"]), abs=1e-6)
    bad = cli("access", "--units", examples / "units.csv", "--demand", tmp_path / "d.csv", "--radius-km", "10", "--rank-by", "wealth")
    assert bad.code == 2 and "wealth" in bad.stderr


def test_published_examples():
    """Gini of (1, 3, 2, 1, 1, 1, 4) = 4/13 = 0.3076923 (the documented example of the R
    ineq-based ``gini``); relative concentration index 0.0469506 and absolute 4.30052 of the
    WHO ``healthequal`` package's ordered-sample example (reference page ``rci``, vignette)."""
    assert weighted_gini([1, 3, 2, 1, 1, 1, 4]) == pytest.approx(0.3076923, abs=1e-7)
    h = np.array([75.60530, 91.01997, 96.03959, 97.04223, 99.22405])
    w = np.array([2072.436, 2112.204, 1983.059, 2052.124, 1884.510])
    rci = concentration_index(h, np.arange(1, 6), w)
    assert rci == pytest.approx(0.0469506, abs=1e-7)
    assert rci * np.average(h, weights=w) == pytest.approx(4.30052, abs=1e-5)
