"""Cochran's sample size, the Friedman ranking and Kendall's W (optimizer.mcdm.survey)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimizer.errors import InputError
from optimizer.mcdm.survey import (
    Scale,
    cochran_sample_size,
    concordance,
    parse_scale,
    rank_dimensions,
    read_responses,
    z_value,
)


# --------------------------------------------------------------------------- sample size
def test_paper_sample_size_384_16_and_385_questionnaires():
    """Seed 002 (contracting paper), "Cochran formula": Z = 1.96, p = q = 0.5, e = 0.05
    gives n0 = 384.16, and 385 questionnaires were distributed."""
    s = cochran_sample_size(0.95, 0.5, 0.05)
    assert s.z == 1.96
    assert s.n0 == 384.16
    assert s.n == s.n0  # no population given: no correction
    assert s.questionnaires == 385
    assert s.to_dict()["n0"] == 384.16


def test_exact_z_and_given_z():
    """The unrounded quantile 1.959964 gives 1.959964^2 * 0.25 / 0.0025 = 384.146."""
    s = cochran_sample_size(exact_z=True)
    assert s.z == pytest.approx(1.959963985, abs=1e-9)
    assert s.n0 == pytest.approx(384.1459, abs=1e-4)
    assert s.questionnaires == 385
    assert cochran_sample_size(z=2.0).n0 == pytest.approx(400.0)
    assert z_value(0.99) == 2.58 and z_value(0.90) == 1.64


def test_finite_population_correction_hand_values():
    """n = n0 / (1 + (n0 - 1) / N): N = 1000 -> 384.16 / 1.38316 = 277.7408;
    N = 500 -> 384.16 / 1.76632 = 217.4917 (hand computation)."""
    assert cochran_sample_size(population=1000).n == pytest.approx(277.7408, abs=1e-4)
    s = cochran_sample_size(population=500)
    assert s.n == pytest.approx(217.4917, abs=1e-4)
    assert s.questionnaires == 218
    # a population of 1 needs exactly one answer
    assert cochran_sample_size(population=1).n == pytest.approx(1.0)


def test_response_rate_and_questionnaires_to_distribute():
    """The paper collected 329 of 385 at first (rate 329/385 = 0.8545): to get 385 usable
    answers at that rate one distributes ceil(385 / 0.854545) = ceil(450.53) = 451."""
    s = cochran_sample_size(response_rate=329 / 385)
    assert s.usable == 385
    assert s.distribute == 451
    s = cochran_sample_size(usable=300, response_rate=0.5)
    assert s.distribute == 600  # exactly, no floating-point overshoot to 601
    s = cochran_sample_size(distributed=500)
    assert s.response_rate_needed == pytest.approx(385 / 500)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"confidence": 1.0},
        {"confidence": 0.0},
        {"p": 0.0},
        {"p": 1.5},
        {"margin": 0.0},
        {"population": 0},
        {"response_rate": 0.0},
        {"response_rate": 1.2},
        {"usable": 0},
        {"z": -1.0},
        {"distributed": 100},  # fewer than the 385 usable answers needed
    ],
)
def test_sample_size_rejects_bad_parameters(kwargs):
    with pytest.raises(InputError, match="expected"):
        cochran_sample_size(**kwargs)


# --------------------------------------------------------------------------- scale
def test_parse_scale():
    assert parse_scale("1-5") == Scale(1.0, 5.0)
    assert parse_scale("0..10") == Scale(0.0, 10.0)
    assert parse_scale("-2:2") == Scale(-2.0, 2.0)
    for bad in ("5-1", "abc", "1-", "3-3"):
        with pytest.raises(InputError, match="scale"):
            parse_scale(bad)


# --------------------------------------------------------------------------- concordance
def test_kendall_w_with_ties_siegel_worked_example():
    """Siegel (1956), *Nonparametric Statistics for the Behavioral Sciences*, McGraw-Hill,
    pp. 233-235, the example of W with tied observations (3 sets of ranks of 10 objects):
    W = 0.796 without and 0.828 with the correction for ties; the same data are the NAG
    Library G08DAF example (W = 0.828, significance 0.008 from chi2 = k (N - 1) W)."""
    ranks = np.array(
        [
            [1.0, 4.5, 2.0, 4.5, 3.0, 7.5, 6.0, 9.0, 7.5, 10.0],
            [2.5, 1.0, 2.5, 4.5, 4.5, 8.0, 9.0, 6.5, 10.0, 6.5],
            [2.0, 1.0, 4.5, 4.5, 4.5, 4.5, 8.0, 8.0, 8.0, 10.0],
        ]
    )
    c = concordance(pd.DataFrame(ranks))
    assert round(c.w, 3) == 0.828
    assert round(c.pvalue, 3) == 0.008
    assert c.statistic == pytest.approx(3 * 9 * c.w)
    assert c.df == 9
    # the rank sums of Siegel's table and the uncorrected W = 12 S / (k^2 (N^3 - N))
    assert c.rank_sums.tolist() == [5.5, 6.5, 9.0, 13.5, 12.0, 20.0, 23.0, 23.5, 25.5, 26.5]
    s = float(((c.rank_sums - c.rank_sums.mean()) ** 2).sum())
    assert round(12 * s / (9 * (10**3 - 10)), 3) == 0.796


def test_friedman_matches_scipy_with_ties(rng):
    """Tie-corrected Friedman chi-square and p-value equal scipy.stats.friedmanchisquare."""
    for m, k in [(8, 3), (25, 5), (40, 10)]:
        x = rng.integers(1, 6, size=(m, k)).astype(float)
        c = concordance(pd.DataFrame(x))
        ref = stats.friedmanchisquare(*x.T)
        assert c.statistic == pytest.approx(float(ref.statistic), rel=1e-12)
        assert c.pvalue == pytest.approx(float(ref.pvalue), rel=1e-10)


def test_kendall_w_identity_with_tie_correction(rng):
    """W = 12 S / (m^2 (k^3 - k) - m sum T) (Kendall & Babington Smith, with T = sum t^3 - t
    over tie groups) equals chi2_Friedman / (m (k - 1)) with scipy's tie-corrected chi2."""
    x = rng.integers(1, 6, size=(30, 6)).astype(float)
    m, k = x.shape
    r = stats.rankdata(x, axis=1)
    sums = r.sum(axis=0)
    s = float(((sums - sums.mean()) ** 2).sum())
    t = sum(float(((c**3) - c).sum()) for c in (np.unique(row, return_counts=True)[1] for row in x))
    w_direct = 12 * s / (m**2 * (k**3 - k) - m * t)
    c = concordance(pd.DataFrame(x))
    assert c.w == pytest.approx(w_direct, rel=1e-12)
    assert c.w == pytest.approx(float(stats.friedmanchisquare(*x.T).statistic) / (m * (k - 1)), rel=1e-12)
    assert 0.0 <= c.w <= 1.0


def test_perfect_agreement_gives_w_one_and_all_ties_undefined():
    x = pd.DataFrame([[1, 2, 3, 4]] * 5, columns=list("abcd"))
    assert concordance(x).w == pytest.approx(1.0)
    c = concordance(pd.DataFrame([[3, 3, 3]] * 4))
    assert math.isnan(c.w) and math.isnan(c.statistic)
    assert c.mean_ranks.tolist() == [2.0, 2.0, 2.0]


# --------------------------------------------------------------------------- ranking
def test_rank_dimensions_mean_ranks_direction_and_weights():
    """Hand case: 4 respondents, 3 dimensions; ratings ranked ascending within each
    respondent (ties averaged), so a higher rating gives a higher rank.
    Rows: (5,3,1) -> (3,2,1); (4,4,2) -> (2.5,2.5,1); (5,2,3) -> (3,1,2); (3,4,5) -> (1,2,3).
    Rank sums 9.5, 7.5, 7 -> mean ranks 2.375, 1.875, 1.75 (sum k(k+1)/2 = 6)."""
    x = pd.DataFrame({"a": [5, 4, 5, 3], "b": [3, 4, 2, 4], "c": [1, 2, 3, 5]}, index=list("pqrs"))
    r = rank_dimensions(x)
    np.testing.assert_allclose(r.concordance.mean_ranks, [2.375, 1.875, 1.75])
    assert r.importance.to_dict() == {"a": 1, "b": 2, "c": 3}
    np.testing.assert_allclose(r.weights_from_ranks, np.array([2.375, 1.875, 1.75]) / 6)
    np.testing.assert_allclose(r.mean_ratings, [4.25, 3.25, 2.75])
    np.testing.assert_allclose(r.weights_from_means, np.array([4.25, 3.25, 2.75]) / 10.25)
    ref = stats.friedmanchisquare(x["a"], x["b"], x["c"])
    assert r.concordance.statistic == pytest.approx(float(ref.statistic))


def test_rank_means_weights_need_non_negative_ratings():
    x = pd.DataFrame({"a": [-2, -1, 0], "b": [1, 2, 2], "c": [0, 0, 1]})
    r = rank_dimensions(x)
    assert r.weights_from_means is None
    assert any("non-negative" in n for n in r.notes)


def test_rank_needs_two_respondents_and_two_dimensions():
    with pytest.raises(InputError, match="at least 2 respondents"):
        rank_dimensions(pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(InputError, match="at least 2 dimensions"):
        rank_dimensions(pd.DataFrame({"a": [1, 2]}))


def test_read_responses_validates(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("respondent,a,b\nR1,1,2\nR2,x,3\n")
    with pytest.raises(InputError, match=r"r.csv: row 2, column 'a': expected a number, found 'x'"):
        read_responses(p)
    p.write_text("respondent,a,b\nR1,1,2\nR2,7,3\n")
    with pytest.raises(InputError, match=r"row 2, column 'a': expected a rating on the scale 1-5"):
        read_responses(p, scale=Scale(1, 5))
    p.write_text("respondent,a,b\nR1,1,2\nR1,4,3\n")
    with pytest.raises(InputError, match="duplicate id"):
        read_responses(p)
    p.write_text("a,b,c\n1,2,3\n3,2,1\n")
    df = read_responses(p)
    assert list(df.index) == ["1", "2"] and list(df.columns) == ["a", "b", "c"]
