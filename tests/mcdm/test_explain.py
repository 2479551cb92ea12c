"""Per-unit explanations: contributions add up to the score, and the text names the right criteria.

The additive rules are exact by the methods' definitions (AHP ratings: Saaty 1986; MOORA:
Brauers & Zavadskas 2006; SPOTIS: Dezert et al. 2020; PROMETHEE II net flow is a weighted
sum of single-criterion net flows, Brans & Vincke 1985); the others are the documented
splits of ``optimizer.mcdm.explain``. Expected values below are computed by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.mcdm.explain import contributions, explain_unit
from optimizer.mcdm.scoring import METHODS, score

T = pd.DataFrame(
    {"quality": [8.0, 6.0, 9.0, 5.0], "access": [7.0, 9.0, 4.0, 5.0], "price": [120.0, 100.0, 150.0, 90.0]},
    index=["A", "B", "C", "D"],
)
W = {"quality": 0.5, "access": 0.3, "price": 0.2}


@pytest.mark.parametrize("method", METHODS)
def test_contributions_sum_to_the_score(method):
    res = score(T, W, cost=["price"], method=method)
    c = contributions(res, T)
    assert list(c.columns) == list(T.columns) and list(c.index) == list(T.index)
    target = res.intermediates["S"] if method == "vikor" else res.scores
    np.testing.assert_allclose(c.sum(axis=1), target, rtol=1e-12, atol=1e-12)


def test_ahp_contributions_by_hand():
    """AHP ratings: quality/9, access/9, 90/price, weighted."""
    c = contributions(score(T, W, cost=["price"], method="ahp"))
    np.testing.assert_allclose(c.loc["A"], [0.5 * 8 / 9, 0.3 * 7 / 9, 0.2 * 90 / 120])


def test_topsis_split_of_closeness():
    """TOPSIS: C_i times each criterion's share of the squared distance to the anti-ideal."""
    res = score(T, W, cost=["price"])
    v = res.intermediates["weighted"]
    sq = (v - res.intermediates["anti_ideal"]) ** 2
    want = sq.div(sq.sum(axis=1), axis=0).mul(res.scores, axis=0)
    pd.testing.assert_frame_equal(contributions(res), want, check_names=False)
    # the anti-ideal unit on a criterion gets nothing for it: D is worst on quality
    assert contributions(res).loc["D", "quality"] == 0.0


def test_explain_unit_names_strengths_and_weaknesses():
    res = score(T, W, cost=["price"], method="ahp")
    best = res.best()
    # A: 0.5*8/9 + 0.3*7/9 + 0.2*90/120 = 0.8278; B: 0.5*6/9 + 0.3*9/9 + 0.2*90/100 = 0.8133
    assert best == "A"
    ex = explain_unit(res, T, "B")
    assert ex.reference_id == "A" and ex.rank == 2
    assert ex.strengths == ("access", "price")  # +0.3*2/9 = 0.0667, +0.2*(0.9 - 0.75) = 0.03
    assert ex.weaknesses == ("quality",)  # 0.5*(6 - 8)/9 = -0.111
    np.testing.assert_allclose(ex.table.loc["price", "advantage"], 0.2 * 90 / 100 - 0.2 * 90 / 120)
    np.testing.assert_allclose(ex.table.loc["quality", "advantage"], 0.5 * (6 - 8) / 9)
    text = ex.text()
    assert "Unit B is ranked 2 of 4" in text and "best unit A" in text and "access (+0.0667)" in text
    # the best unit is compared with the runner-up
    assert explain_unit(res, T, "A").reference_id == "B"


def test_explain_lower_is_better_method_signs():
    """For SPOTIS (lower is better) a smaller distance contribution is an advantage."""
    res = score(T, W, cost=["price"], method="spotis")
    ex = explain_unit(res, T, "B")
    assert ex.table.loc["access", "advantage"] > 0  # B has the best access


def test_explain_errors():
    res = score(T, W, cost=["price"])
    with pytest.raises(InputError, match="unknown unit id"):
        explain_unit(res, T, "Z")
    with pytest.raises(InputError, match="table the result was scored on"):
        contributions(res, T.drop(columns="access"))
