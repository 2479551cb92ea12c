"""The validating entry point: results, directional properties, and bad input.

Directional properties (STYLE.md, item 10): a unit whose cost criterion worsens never
gains score, for every method; a dominated unit never outranks its dominator under
TOPSIS; permuting the units does not change any score. Checked on seeded random tables.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.mcdm.scoring import METHODS, ScoreResult, read_units_table, score


def random_table(rng, n=12, m=4) -> pd.DataFrame:
    return pd.DataFrame(rng.uniform(1.0, 10.0, (n, m)), index=[f"u{i}" for i in range(n)], columns=[f"c{j}" for j in range(m)])


def weights(m=4):
    return {f"c{j}": w for j, w in enumerate([0.4, 0.3, 0.2, 0.1][:m])}


def oriented(res: ScoreResult) -> pd.Series:
    return res.scores if res.higher_is_better else -res.scores


@pytest.mark.parametrize("method", METHODS)
def test_result_shape_and_quality(rng, method):
    t = random_table(rng)
    res = score(t, weights(), cost=["c0"], method=method)
    assert res.method == method
    assert list(res.scores.index) == list(t.index)
    assert res.ranks.min() == 1 and res.ranks.dtype.kind == "i"
    assert ((res.quality >= 0) & (res.quality <= 1)).all()
    assert res.cost == ("c0",)
    np.testing.assert_allclose(res.weights.sum(), 1.0)
    # quality is a monotone map of the oriented score: same order
    o = oriented(res).to_numpy()
    q = res.quality.to_numpy()
    assert np.all(np.sign(o[:, None] - o[None, :]) * np.sign(q[:, None] - q[None, :]) >= 0)
    # rank 1 holds the best oriented score
    assert oriented(res)[res.ranks == 1].iloc[0] == pytest.approx(oriented(res).max())


def test_topsis_quality_is_closeness_and_intermediates_are_labelled(rng):
    t = random_table(rng)
    res = score(t, weights(), cost=["c0"])
    pd.testing.assert_series_equal(res.quality, res.scores.rename("quality"))
    assert set(res.intermediates) >= {"normalized", "weighted", "ideal", "anti_ideal", "d_plus", "d_minus"}
    assert list(res.intermediates["weighted"].columns) == list(t.columns)
    assert list(res.intermediates["ideal"].index) == list(t.columns)
    np.testing.assert_allclose(res.scores, res.intermediates["d_minus"] / (res.intermediates["d_plus"] + res.intermediates["d_minus"]))


def test_weights_are_rescaled_and_accept_series(rng):
    t = random_table(rng)
    a = score(t, {k: 10 * v for k, v in weights().items()})
    b = score(t, pd.Series(weights()))
    pd.testing.assert_series_equal(a.scores, b.scores)


@pytest.mark.parametrize("method", METHODS)
def test_worse_cost_never_gains_score(rng, method):
    for trial in range(25):
        t = random_table(rng, n=8)
        i = f"u{trial % 8}"
        before = score(t, weights(), cost=["c0", "c2"], method=method)
        worse = t.copy()
        worse.loc[i, "c0"] *= 1.0 + rng.uniform(0.05, 1.0)
        after = score(worse, weights(), cost=["c0", "c2"], method=method)
        assert oriented(after)[i] <= oriented(before)[i] + 1e-12, (method, trial)
        assert after.ranks[i] >= before.ranks[i]


@pytest.mark.parametrize("method", METHODS)
def test_better_benefit_never_loses_score(rng, method):
    for trial in range(25):
        t = random_table(rng, n=8)
        i = f"u{trial % 8}"
        before = score(t, weights(), cost=["c0"], method=method)
        better = t.copy()
        better.loc[i, "c1"] *= 1.0 + rng.uniform(0.05, 1.0)
        after = score(better, weights(), cost=["c0"], method=method)
        assert oriented(after)[i] >= oriented(before)[i] - 1e-12, (method, trial)


def test_dominated_units_never_outrank_their_dominators_topsis(rng):
    for _ in range(30):
        t = random_table(rng, n=10)
        # make u1 dominate u0: at least as good everywhere (c0 is a cost), strictly on one criterion
        t.loc["u1"] = t.loc["u0"] + np.array([-0.5, 0.0, 0.7, 0.2])
        res = score(t, weights(), cost=["c0"])
        assert res.scores["u1"] > res.scores["u0"]
        assert res.ranks["u1"] < res.ranks["u0"]


@pytest.mark.parametrize("method", METHODS)
def test_permuting_units_changes_nothing(rng, method):
    t = random_table(rng)
    perm = t.sample(frac=1.0, random_state=3)
    a = score(t, weights(), cost=["c0"], method=method)
    b = score(perm, weights(), cost=["c0"], method=method)
    pd.testing.assert_series_equal(a.scores, b.scores.loc[a.scores.index], rtol=1e-12)
    pd.testing.assert_series_equal(a.ranks, b.ranks.loc[a.ranks.index])


def test_ties_share_the_best_rank():
    t = pd.DataFrame({"a": [1.0, 2.0, 2.0, 3.0], "b": [1.0, 2.0, 2.0, 3.0]}, index=list("wxyz"))
    res = score(t, {"a": 0.5, "b": 0.5})
    assert res.ranks.to_dict() == {"w": 4, "x": 2, "y": 2, "z": 1}


# ------------------------------------------------------------------ bad input


def test_unknown_method_lists_the_valid_ones(rng):
    with pytest.raises(InputError, match="expected one of topsis, ahp, vikor"):
        score(random_table(rng), weights(), method="electre")


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"c0": -0.1, "c1": 0.5, "c2": 0.3, "c3": 0.3}, "non-negative"),
        ({"c0": np.inf, "c1": 0.5, "c2": 0.3, "c3": 0.3}, "finite"),
        ({"c0": np.nan, "c1": 0.5, "c2": 0.3, "c3": 0.3}, "finite"),
        ({"c0": 0.5, "c1": 0.5, "c2": 0.0}, "a weight for every criterion"),
        ({"c0": 0.5, "c1": 0.5, "c2": 0.0, "c3": 0.0, "zz": 1.0}, "only for the criteria"),
        ({"c0": 0.0, "c1": 0.0, "c2": 0.0, "c3": 0.0}, "at least one positive"),
        ({"c0": "x", "c1": 0.5, "c2": 0.0, "c3": 0.0}, "numeric weight"),
    ],
)
def test_bad_weights(rng, bad, match):
    with pytest.raises(InputError, match=match):
        score(random_table(rng), bad)


def test_bad_values_name_unit_and_column(rng):
    t = random_table(rng).astype(object)
    t.loc["u3", "c2"] = "abc"
    with pytest.raises(InputError) as info:
        score(t, weights())
    assert info.value.row == "unit u3" and info.value.column == "c2"
    t = random_table(rng)
    t.loc["u4", "c1"] = np.nan
    with pytest.raises(InputError, match="empty value") as info:
        score(t, weights())
    assert info.value.row == "unit u4"
    t = random_table(rng)
    t.loc["u5", "c3"] = np.inf
    with pytest.raises(InputError, match="finite"):
        score(t, weights())


def test_fewer_than_two_units_and_bad_cost(rng):
    with pytest.raises(InputError, match="at least 2 units"):
        score(random_table(rng).iloc[:1], weights())
    with pytest.raises(InputError, match="cost criteria among"):
        score(random_table(rng), weights(), cost=["price"])


def test_positive_domain_for_ratio_methods(rng):
    t = random_table(rng)
    t.loc["u2", "c1"] = 0.0
    for method in ("ahp", "copras"):
        with pytest.raises(InputError, match="> 0") as info:
            score(t, weights(), method=method)
        assert info.value.column == "c1"
    with pytest.raises(InputError, match="> 0"):
        score(t, weights(), method="topsis", normalization="max")
    # vector normalization (TOPSIS default) and VIKOR are fine with a zero
    assert score(t, weights()).ranks.notna().all()
    assert score(t, weights(), method="vikor").ranks.notna().all()


def test_constant_criterion_policy(rng):
    """Harmless where formulas stay defined; an error (or dropped on request) where they divide by the range."""
    t = random_table(rng)
    t["c3"] = 5.0
    base = score(t.drop(columns="c3"), {k: v for k, v in weights().items() if k != "c3"})
    with pytest.warns(UserWarning, match="'c3' has the same value for every unit; it cannot change the ranking"):
        kept = score(t, weights())  # TOPSIS + vector: the constant column adds nothing to either distance
    pd.testing.assert_series_equal(kept.scores, base.scores)
    for method, norm in (("vikor", None), ("spotis", None), ("topsis", "minmax")):
        with pytest.raises(InputError, match="same value for every unit") as info:
            score(t, weights(), method=method, normalization=norm)
        assert info.value.column == "c3"
        with pytest.warns(UserWarning, match="'c3' is constant"):
            dropped = score(t, weights(), method=method, normalization=norm, drop_constant=True)
        assert list(dropped.weights.index) == ["c0", "c1", "c2"]
        ref = score(t.drop(columns="c3"), {k: v for k, v in weights().items() if k != "c3"}, method=method, normalization=norm)
        pd.testing.assert_series_equal(dropped.ranks, ref.ranks)
    t2 = t.copy()
    t2[:] = 1.0
    with pytest.raises(InputError, match="every criterion is constant"):
        score(t2, weights())


def test_normalization_choice_and_refusal(rng):
    t = random_table(rng)
    for norm in ("vector", "minmax", "max", "linear", "sum"):
        assert score(t, weights(), normalization=norm).normalization in {"vector", "minmax", "max", "sum"}
    with pytest.raises(InputError, match="expected one of vector, minmax, max, sum"):
        score(t, weights(), normalization="zscore")
    with pytest.raises(InputError, match="vikor uses its own normalization"):
        score(t, weights(), method="vikor", normalization="vector")


def test_options_validated(rng):
    t = random_table(rng)
    with pytest.raises(InputError, match="unknown option for topsis"):
        score(t, weights(), v=0.3)
    with pytest.raises(InputError, match=r"v in \[0, 1\]"):
        score(t, weights(), method="vikor", v=1.5)
    with pytest.raises(InputError, match="unknown preference function"):
        score(t, weights(), method="promethee", preference="cubic")
    with pytest.raises(InputError, match="p > 0"):
        score(t, weights(), method="promethee", preference="vshape")
    with pytest.raises(InputError, match="enclosing every value"):
        score(t, weights(), method="spotis", bounds={c: (5.0, 6.0) for c in t.columns})


def test_spotis_user_bounds_are_used(rng):
    t = random_table(rng)
    b = {c: (0.0, 20.0) for c in t.columns}
    res = score(t, weights(), method="spotis", cost=["c0"], bounds=b)
    w = pd.Series(weights())
    ideal = pd.Series({"c0": 0.0, "c1": 20.0, "c2": 20.0, "c3": 20.0})
    np.testing.assert_allclose(res.scores, ((t - ideal).abs() / 20.0).mul(w).sum(axis=1))


# ------------------------------------------------------------------ reading files


def test_read_units_table(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("unit_id,name,lon,a,b,price\n1,Lab A,51.3,3,4,10\n2,Lab B,51.4,5,2,12\n3,Lab C,51.5,4,4,9\n")
    t = read_units_table(p, cost=["price"])
    assert list(t.columns) == ["a", "b", "price"]
    assert list(t.index) == ["1", "2", "3"] and t.index.name == "unit_id"
    assert read_units_table(p, criteria=["a", "b"]).shape == (3, 2)


@pytest.mark.parametrize(
    ("body", "kw", "row", "column", "match"),
    [
        ("unit_id,a,b\n1,3,4\n2,x,2\n3,4,4\n", {}, 2, "a", "expected a number"),
        ("unit_id,a,b\n1,3,4\n2,5,\n3,4,4\n", {}, 2, "b", "empty value"),
        ("unit_id,a,b\n1,3,4\n1,5,2\n", {}, 2, "unit_id", "duplicate id"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", {"cost": ["c"]}, None, None, "missing column"),
        ("unit_id,a,b,c\n1,3,4,1\n2,5,2,1\n", {"criteria": ["a"], "cost": ["b"]}, None, "b", "cost columns among"),
        ("unit_id,a\n1,3\n", {}, None, None, "at least 2 units"),
    ],
)
def test_read_units_table_errors(tmp_path, body, kw, row, column, match):
    p = tmp_path / "u.csv"
    p.write_text(body)
    with pytest.raises(InputError, match=match) as info:
        read_units_table(p, **kw)
    assert info.value.file == str(p)
    assert info.value.row == row
    assert info.value.column == column


def test_no_warning_when_nothing_dropped(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score(random_table(rng), weights(), method="vikor")


def test_read_units_table_indicators(tmp_path):
    """Theme indicators become their dimension: themes 13 (count 13) and 14 (count 15) of
    seed 002, Table 2, are both physical factors, so physical = (13 x + 15 y) / 28; a missing
    indicator is left out of that unit's mean; true/false columns are never criteria."""
    p = tmp_path / "u.csv"
    p.write_text("unit_id,flag,a,looks,size\n1,true,3,10,20\n2,false,5,,40\n3,true,4,30,10\n")
    t = read_units_table(p, indicators={"looks": "theme:13", "size": "Relative size of the structure"})
    assert list(t.columns) == ["a", "physical"]
    np.testing.assert_allclose(t["physical"], [(13 * 10 + 15 * 20) / 28, 40.0, (13 * 30 + 15 * 10) / 28])
    p.write_text("unit_id,physical,looks\n1,3,10\n2,5,20\n")
    with pytest.raises(InputError, match="either as a column or from indicators") as info:
        read_units_table(p, indicators={"looks": "theme:13"})
    assert info.value.column == "physical" and info.value.file == str(p)
    p.write_text("unit_id,a,looks,size\n1,3,10,20\n2,5,,\n")
    with pytest.raises(InputError, match="indicators of the dimension 'physical' \\(looks, size\\)") as info:
        read_units_table(p, indicators={"looks": "theme:13", "size": "theme:14"})
    assert info.value.row == 2
    p.write_text("unit_id,a,looks\n1,3,10\n2,5,x\n")
    with pytest.raises(InputError, match="expected a number") as info:
        read_units_table(p, indicators={"looks": "theme:13"})
    assert (info.value.row, info.value.column) == (2, "looks")
