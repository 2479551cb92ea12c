"""Rank acceptability (SMAA-style Monte Carlo, Lahdelma & Salminen 2001) and weight thresholds.

The batched Monte Carlo is checked against a plain loop that scores each Dirichlet draw
with ``score`` one at a time; the thresholds against a case solved by hand (AHP ratings
are linear in the weights, so the crossing weight is the root of a linear equation) and
against a brute-force scan on a random TOPSIS problem.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.mcdm.scoring import score
from optimizer.mcdm.sensitivity import draw_weights, rank_acceptability, weight_thresholds


def random_table(rng, n=9, m=3):
    return pd.DataFrame(rng.uniform(1, 10, (n, m)), index=[f"u{i}" for i in range(n)], columns=[f"c{j}" for j in range(m)])


W3 = {"c0": 0.5, "c1": 0.3, "c2": 0.2}


@pytest.mark.parametrize("method", ["topsis", "vikor", "promethee", "waspas", "copras"])
def test_batched_acceptability_equals_a_plain_loop(rng, method):
    t = random_table(rng)
    acc = rank_acceptability(t, W3, cost=["c2"], method=method, samples=60, concentration=20.0, seed=7, top_k=3)
    draws = np.random.default_rng(7).dirichlet(20.0 * np.array([0.5, 0.3, 0.2]), size=60)
    counts = pd.DataFrame(0, index=t.index, columns=range(1, 10))
    first_sum = pd.DataFrame(0.0, index=t.index, columns=t.columns)
    for w in draws:
        res = score(t, dict(zip(t.columns, w, strict=True)), cost=["c2"], method=method)
        for uid, r in res.ranks.items():
            counts.loc[uid, r] += 1
            if r == 1:
                first_sum.loc[uid] += w
    np.testing.assert_allclose(acc.rank_shares.to_numpy(), counts.to_numpy() / 60)
    np.testing.assert_allclose(acc.top_k_share, counts.iloc[:, :3].sum(axis=1) / 60)
    firsts = counts[1]
    central = first_sum.div(firsts.replace(0, np.nan), axis=0)
    np.testing.assert_allclose(acc.central_weights.to_numpy(), central.to_numpy())
    np.testing.assert_allclose(acc.rank_shares.sum(axis=1), 1.0)


def test_acceptability_is_seeded_and_concentrates(rng):
    t = random_table(rng)
    a = rank_acceptability(t, W3, samples=300, seed=1)
    b = rank_acceptability(t, W3, samples=300, seed=1)
    c = rank_acceptability(t, W3, samples=300, seed=2)
    pd.testing.assert_frame_equal(a.rank_shares, b.rank_shares)
    assert not a.rank_shares.equals(c.rank_shares)
    # a huge concentration keeps every draw at the base weights' ranking
    tight = rank_acceptability(t, W3, samples=100, concentration=1e9, seed=0)
    base = score(t, W3).ranks
    for uid, r in base.items():
        assert tight.rank_shares.loc[uid, r] == 1.0
    pd.testing.assert_series_equal(tight.base_ranks, base)


def test_dominant_unit_is_always_first(rng):
    t = random_table(rng)
    t.loc["u4"] = t.max() + 1.0
    acc = rank_acceptability(t, W3, samples=200, concentration=2.0, top_k=1)
    assert acc.top_k_share["u4"] == 1.0 and acc.expected_rank["u4"] == 1.0


def test_draws_keep_zero_weights_at_zero_and_have_the_base_mean():
    w = draw_weights(np.array([0.6, 0.4, 0.0]), 20000, 100.0, 3)
    assert (w[:, 2] == 0).all()
    np.testing.assert_allclose(w.mean(axis=0), [0.6, 0.4, 0.0], atol=0.003)
    # Dirichlet variance w(1-w)/(c+1)
    np.testing.assert_allclose(w[:, 0].var(), 0.6 * 0.4 / 101, rtol=0.05)


def test_thresholds_solved_by_hand():
    """AHP ratings, two criteria: score_i(t) = t*ra_i + (1 - t)*rb_i.

    ra = (1, .6, .4), rb = (.5, 1, .8) for A, B, C. At t = .5 B leads (.8 vs .75 vs .6).
    A overtakes B when t + .5(1 - t) = .6t + (1 - t), i.e. t = 5/9: raising a's weight to
    5/9 (= lowering b's to 4/9) swaps the top-1 unit; the other directions never change it.
    """
    t = pd.DataFrame({"a": [10.0, 6.0, 4.0], "b": [5.0, 10.0, 8.0]}, index=["A", "B", "C"])
    th = weight_thresholds(t, {"a": 0.5, "b": 0.5}, method="ahp", top_k=1)
    assert th.loc["a", "up_weight"] == pytest.approx(5 / 9, abs=2e-6)
    assert th.loc["a", "up_enters"] == "A" and th.loc["a", "up_leaves"] == "B"
    assert np.isnan(th.loc["a", "down_weight"]) and pd.isna(th.loc["a", "down_enters"])
    assert th.loc["b", "down_weight"] == pytest.approx(4 / 9, abs=2e-6)
    assert th.loc["b", "down_change"] == pytest.approx(4 / 9 - 0.5, abs=2e-6)
    assert np.isnan(th.loc["b", "up_weight"])


def test_thresholds_match_a_brute_force_scan(rng):
    t = random_table(rng, n=8, m=3)
    th = weight_thresholds(t, W3, method="topsis", top_k=2)
    base = set(score(t, W3).ranks.nsmallest(2).index)
    names = list(W3)
    for c in names:
        found = np.nan
        for tw in np.arange(W3[c], 1.0 + 1e-12, 1e-3):
            others = {k: W3[k] * (1 - tw) / (1 - W3[c]) for k in names if k != c}
            r = score(t, {c: tw, **others}).ranks
            if set(r[r <= 2].index) != base:
                found = tw
                break
        if np.isnan(found):
            assert np.isnan(th.loc[c, "up_weight"])
        else:
            assert found - 1e-3 - 1e-9 <= th.loc[c, "up_weight"] <= found + 1e-9


def test_bad_arguments(rng):
    t = random_table(rng)
    with pytest.raises(InputError, match="samples"):
        rank_acceptability(t, W3, samples=0)
    with pytest.raises(InputError, match="positive"):
        rank_acceptability(t, W3, concentration=-1)
    with pytest.raises(InputError, match="top_k smaller"):
        weight_thresholds(t, W3, top_k=9)
    with pytest.raises(InputError, match="unknown method"):
        rank_acceptability(t, W3, method="electre")
