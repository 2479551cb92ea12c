"""Normalization strategies, checked against the formulas written out element by element.

Sources: vector and linear (max) normalization as in Hwang & Yoon (1981) and Zavadskas et
al. (2012); min-max and sum as in Jahan & Edwards (2015), "A state-of-the-art survey on
the influence of normalization techniques in ranking". Expected values are computed by
hand below (independent of the module).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer.mcdm.normalization import NORMALIZATIONS, domain_problem, get_normalization

X = np.array([[2.0, 10.0], [4.0, 20.0], [6.0, 40.0]])
COST = np.array([False, True])


def test_vector_by_hand():
    r = NORMALIZATIONS["vector"](X, COST)
    n0 = math.sqrt(4 + 16 + 36)
    n1 = math.sqrt(100 + 400 + 1600)
    np.testing.assert_allclose(r[:, 0], [2 / n0, 4 / n0, 6 / n0])
    np.testing.assert_allclose(r[:, 1], [1 - 10 / n1, 1 - 20 / n1, 1 - 40 / n1])


def test_minmax_by_hand():
    r = NORMALIZATIONS["minmax"](X, COST)
    np.testing.assert_allclose(r[:, 0], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(r[:, 1], [1.0, 20 / 30, 0.0])


def test_max_by_hand_and_alias():
    r = get_normalization("linear")(X, COST)
    np.testing.assert_allclose(r[:, 0], [1 / 3, 2 / 3, 1.0])
    np.testing.assert_allclose(r[:, 1], [1.0, 0.5, 0.25])


def test_sum_by_hand():
    r = NORMALIZATIONS["sum"](X, COST)
    np.testing.assert_allclose(r[:, 0], [2 / 12, 4 / 12, 6 / 12])
    inv = np.array([1 / 10, 1 / 20, 1 / 40])
    np.testing.assert_allclose(r[:, 1], inv / inv.sum())


@pytest.mark.parametrize("name", sorted(NORMALIZATIONS))
def test_every_strategy_is_benefit_oriented(name):
    """After normalization larger is better: a cost column's smallest raw value maps to the largest r."""
    r = NORMALIZATIONS[name](X, COST)
    assert np.argmax(r[:, 0]) == 2
    assert np.argmax(r[:, 1]) == 0


def test_domain_problems():
    assert domain_problem(NORMALIZATIONS["max"], np.array([1.0, 0.0, 2.0])) == (
        "expected values > 0 (max normalization divides by them)",
        1,
    )
    assert domain_problem(NORMALIZATIONS["minmax"], np.array([3.0, 3.0]))[1] is None
    assert domain_problem(NORMALIZATIONS["vector"], np.array([3.0, 3.0])) is None
    assert domain_problem(NORMALIZATIONS["vector"], np.zeros(3)) is not None


def test_unknown_name_raises_keyerror():
    with pytest.raises(KeyError):
        get_normalization("zscore")
