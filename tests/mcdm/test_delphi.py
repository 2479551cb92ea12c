"""Delphi rounds: statistics, verdicts, stability, concordance, stopping (optimizer.mcdm.delphi)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimizer.errors import InputError
from optimizer.mcdm.delphi import (
    DelphiRules,
    analyze_delphi,
    analyze_delphi_file,
    delphi_from_frame,
    factor_statistics,
    paired_wilcoxon,
)
from optimizer.mcdm.survey import Scale

EXPERTS = ["e1", "e2", "e3", "e4"]
ROUND1 = {"A": [4, 5, 4, 3], "B": [2, 3, 5, 1], "C": [1, 2, 1, 2]}
ROUND2 = {"A": [4, 5, 4, 4], "B": [3, 3, 4, 2], "C": [1, 2, 1, 1]}


def long_table(*rounds: dict[str, list[int]], experts=EXPERTS) -> pd.DataFrame:
    rows = [
        (r, e, f, v)
        for r, table in enumerate(rounds, start=1)
        for f, values in table.items()
        for e, v in zip(experts, values, strict=True)
    ]
    return pd.DataFrame(rows, columns=["round", "expert", "factor", "rating"])


@pytest.fixture
def small():
    return analyze_delphi(delphi_from_frame(long_table(ROUND1, ROUND2)))


def test_factor_statistics_hand_computed(small):
    """Round 1, hand computation (quartiles by linear interpolation, position (n-1)p):
    A = 4,5,4,3 -> sorted 3,4,4,5: median 4, Q1 = 3 + 0.75 = 3.75, Q3 = 4 + 0.25 = 4.25,
    IQR 0.5, agreement (>= 4) 3/4, mean 4, sd sqrt(2/3) = 0.8165, CV 0.2041 -> accepted.
    B = 1,2,3,5: median 2.5, Q1 1.75, Q3 3.5, IQR 1.75, agreement 1/4, disagreement
    (<= 2) 2/4, mean 2.75, sd sqrt(8.75/3) = 1.7078, CV 0.6211 -> no consensus.
    C = 1,1,2,2: median 1.5, IQR 1, disagreement 4/4 -> rejected."""
    f = small.factors
    a, b, c = f.loc[(1, "A")], f.loc[(1, "B")], f.loc[(1, "C")]
    assert (a["median"], a["q1"], a["q3"], a["iqr"], a["agreement"]) == (4.0, 3.75, 4.25, 0.5, 0.75)
    assert a["sd"] == pytest.approx(np.sqrt(2 / 3)) and a["cv"] == pytest.approx(np.sqrt(2 / 3) / 4)
    assert a["verdict"] == "accepted" and a["consensus"]
    assert (b["median"], b["q1"], b["q3"], b["iqr"]) == (2.5, 1.75, 3.5, 1.75)
    assert (b["agreement"], b["disagreement"]) == (0.25, 0.5)
    assert b["cv"] == pytest.approx(np.sqrt(8.75 / 3) / 2.75)
    assert b["verdict"] == "no consensus" and not b["consensus"]
    assert (c["median"], c["iqr"], c["disagreement"], c["verdict"]) == (1.5, 1.0, 1.0, "rejected")
    # round 2: A = 4,4,4,5 -> IQR 0.25, agreement 1
    assert small.factors.loc[(2, "A"), "iqr"] == 0.25
    assert small.factors.loc[(2, "A"), "agreement"] == 1.0


def test_rules_are_configurable():
    v = np.array([3, 4, 4, 5, 5.0])
    assert factor_statistics(v, DelphiRules())["verdict"] == "accepted"  # 80 %, IQR 1
    assert factor_statistics(v, DelphiRules(min_agreement=0.9))["verdict"] == "no consensus"
    assert factor_statistics(v, DelphiRules(max_iqr=0.5))["verdict"] == "no consensus"
    assert factor_statistics(v, DelphiRules(agree_threshold=5, min_agreement=0.4))["verdict"] == "accepted"
    assert DelphiRules(scale=Scale(1, 7), agree_threshold=5).reject_at == 3
    with pytest.raises(InputError, match="agreement threshold on the scale"):
        DelphiRules(agree_threshold=6).validate()
    with pytest.raises(InputError, match="minimum agreement"):
        DelphiRules(min_agreement=1.5).validate()


def test_kendall_w_per_round_matches_friedman_identity(small):
    """W per round = scipy's tie-corrected Friedman chi2 / (m (k - 1)), experts as blocks."""
    for r, table in ((1, ROUND1), (2, ROUND2)):
        cols = [table[f] for f in sorted(table)]
        chi2 = float(stats.friedmanchisquare(*cols).statistic)
        row = small.kendall.loc[r]
        assert row["chi2"] == pytest.approx(chi2)
        assert row["w"] == pytest.approx(chi2 / (4 * 2))
        assert row["df"] == 2
        assert row["pvalue"] == pytest.approx(float(stats.chi2.sf(chi2, 2)))


def test_wilcoxon_matches_scipy_and_handles_all_zero():
    """paired_wilcoxon = scipy.stats.wilcoxon on the paired ratings (two-sided, zeros
    dropped); all-equal pairs give statistic 0 and p = 1 instead of scipy's NaN."""
    before = np.array([2, 3, 3, 4, 2, 1, 3, 4, 2, 3.0])
    after = np.array([4, 4, 3, 5, 4, 3, 4, 4, 3, 5.0])
    ref = stats.wilcoxon(after - before)
    assert paired_wilcoxon(before, after) == (pytest.approx(float(ref.statistic)), pytest.approx(float(ref.pvalue)))
    assert paired_wilcoxon(before, before) == (0.0, 1.0)


def test_exact_signed_rank_equals_scipy_permutation_test(rng):
    """With ties/zeros and <= 13 differences scipy enumerates all 2^n sign flips; our
    dynamic-programming count of the same distribution gives identical p-values. Without
    ties (exact table) and with many tied pairs (normal approximation) scipy is used."""
    for n in (4, 6, 9, 16, 30):
        for _ in range(3):
            a = rng.integers(1, 6, n).astype(float)
            b = np.clip(a + rng.integers(-2, 3, n), 1, 5)
            if not np.any(b != a):
                continue
            ref = stats.wilcoxon(b - a)
            stat, p = paired_wilcoxon(a, b)
            assert stat == pytest.approx(float(ref.statistic), abs=1e-12)
            assert p == pytest.approx(float(ref.pvalue), abs=1e-12)
    distinct = np.array([0.5, -1.5, 2.5, 3.5, -4.5, 5.5, 6.5])
    assert paired_wilcoxon(np.zeros(7), distinct)[1] == pytest.approx(float(stats.wilcoxon(distinct).pvalue))


def test_stability_and_stop_rule(small):
    """A: agreement 0.75 -> 1.0 (change 0.25 > 0.15): not stable. B: 0.25 -> 0.25 and
    Wilcoxon p >= 0.05: stable. C: unchanged agreement, stable. After round 2 the only
    open factor (B) is stable -> stop; after round 1 no stability is known -> go on."""
    s = small.stability
    assert s.loc[(1, 2, "A"), "agreement_change"] == pytest.approx(0.25)
    assert not s.loc[(1, 2, "A"), "stable"]
    assert s.loc[(1, 2, "B"), "stable"] and s.loc[(1, 2, "C"), "stable"]
    ref = stats.wilcoxon(np.array(ROUND2["B"]) - np.array(ROUND1["B"]))
    assert s.loc[(1, 2, "B"), "pvalue"] == pytest.approx(float(ref.pvalue))
    assert not small.stopping.loc[1, "stop"]
    assert "stability needs at least 2 rounds" in small.stopping.loc[1, "reason"]
    assert small.stop and "stable between rounds 1 and 2" in small.stop_reason


def test_stop_by_consensus_and_not_stable():
    r3 = {"A": [4, 5, 4, 4], "B": [4, 4, 5, 4], "C": [1, 1, 1, 2]}
    res = analyze_delphi(delphi_from_frame(long_table(ROUND1, ROUND2, r3)))
    assert res.stop and res.stop_reason.startswith("consensus reached on all 3 factors in round 3")
    # B moves from 0.25 to 1.0 agreement in round 2 -> 3 (not stable) but reaches consensus
    assert not res.stability.loc[(2, 3, "B"), "stable"]
    moving = {"A": [4, 5, 4, 3], "B": [5, 5, 3, 1], "C": [1, 2, 1, 2]}
    res = analyze_delphi(delphi_from_frame(long_table(ROUND1, moving)))
    assert not res.stop and "not yet stable: B" in res.stop_reason


def test_weights_from_latest_round_means(small):
    """Round 2 means: A 4.25, B 3, C 1.25 -> weights / 8.5; accepted_only keeps A only."""
    np.testing.assert_allclose(small.weights.loc[["A", "B", "C"]], np.array([4.25, 3.0, 1.25]) / 8.5)
    acc = analyze_delphi(delphi_from_frame(long_table(ROUND1, ROUND2)), accepted_only=True)
    assert acc.weights.to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0}


def test_no_weights_when_none_can_be_derived():
    """A -2..2 scale with negative means still gets its statistics; weights are None with a
    note. Likewise --accepted-only when nothing is accepted."""
    neg = {"A": [-2, -1, -2, -1], "B": [-1, -2, 0, -1]}
    rules = DelphiRules(scale=Scale(-2, 2), agree_threshold=1)
    res = analyze_delphi(delphi_from_frame(long_table(neg, neg), scale=Scale(-2, 2)), rules)
    assert res.weights is None and any("non-negative mean" in n for n in res.notes)
    assert res.factors.loc[(1, "A"), "verdict"] == "rejected"  # all <= -1 = low + high - 1
    nothing = {"A": [1, 2, 3, 5], "B": [2, 3, 4, 1]}
    res = analyze_delphi(delphi_from_frame(long_table(nothing, nothing)), accepted_only=True)
    assert res.weights is None and any("no factor is accepted" in n for n in res.notes)


def test_factor_dropped_in_a_later_round():
    """A factor not re-asked keeps its last round's statistics and weight; stability and
    the stop rule only look at the factors asked in both rounds / the last round."""
    df = long_table(ROUND1, {"B": [3, 3, 4, 2]})
    res = analyze_delphi(delphi_from_frame(df))
    assert list(res.stability.index.get_level_values("factor")) == ["B"]
    assert np.isnan(res.kendall.loc[2, "w"])  # one factor: W undefined
    np.testing.assert_allclose(res.weights.loc[["A", "B", "C"]], np.array([4.0, 3.0, 1.5]) / 8.5)
    assert res.stop  # B is the only open factor of round 2 and it is stable


def test_single_round_needs_the_flag():
    data = delphi_from_frame(long_table(ROUND1))
    with pytest.raises(InputError, match="at least 2 rounds to judge stability"):
        analyze_delphi(data)
    res = analyze_delphi(data, require_stability=False)
    assert res.stability.empty and not res.stop


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda d: d.assign(rating=d["rating"].where(d.index != 5, 6)), r"row 6, column 'rating': expected a rating on the scale 1-5, found 6"),
        (lambda d: d.assign(rating=d["rating"].astype(object).where(d.index != 2, "high")), r"row 3, column 'rating': expected a number, found 'high'"),
        (lambda d: d.drop(index=4), r"expert 'e1' did not rate factor 'B' in round 1"),
        (lambda d: pd.concat([d, d.iloc[[7]]], ignore_index=True), r"row 25: duplicate rating of factor 'B' by expert 'e4' in round 1 \(first in row 8\)"),
        (lambda d: d[d["expert"] == "e1"], r"expected at least 2 experts in round 1"),
        (lambda d: d.assign(round=d["round"].astype(float).where(d.index != 0, 1.5)), r"row 1, column 'round': expected a whole round number"),
        (lambda d: d.drop(columns="factor"), r"missing column 'factor'"),
    ],
)
def test_bad_delphi_tables(mutate, pattern):
    df = long_table(ROUND1, ROUND2)
    with pytest.raises(InputError, match=pattern):
        delphi_from_frame(mutate(df), file="rounds.csv")


def test_reads_the_shipped_example():
    """examples/panel/delphi.csv: 3 rounds, 10 experts, the ten dimensions."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "panel" / "delphi.csv"
    res = analyze_delphi_file(path)
    assert res.rounds == (1, 2, 3)
    assert len(res.factors.xs(3, level="round")) == 10
    assert (res.kendall["n_experts"] == 10).all()
    assert res.weights.sum() == pytest.approx(1.0)
    assert res.stop
