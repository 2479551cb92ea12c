"""Objective weights, direct weights, blends and the weight-spec resolver.

References for the independent computations written in these tests:
* Entropy: Hwang & Yoon (1981), *Multiple Attribute Decision Making*, Springer (Shannon
  entropy of the column-sum normalized matrix, 0 ln 0 = 0).
* CRITIC and the standard-deviation method: Diakoulaki, Mavrotas & Papayannakis (1995),
  "Determining objective weights in multiple criteria problems: the CRITIC method",
  Computers & Operations Research 22(7), 763-770.
* MEREC: Keshavarz-Ghorabaee, Amiri, Zavadskas, Turskis & Antucheviciene (2021),
  "Determination of objective weights using a new method based on the removal effects of
  criteria (MEREC)", Symmetry 13(4), 525 (eqs. 1-5).
* Path coefficients: seed paper 002, Table 4 (beta, sum 4.10).
"""

from __future__ import annotations

import json
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pymcdm import weights as pw

from optimizer.errors import InputError
from optimizer.mcdm.catalog import DIMENSIONS
from optimizer.mcdm.weights import (
    OBJECTIVE_METHODS,
    ObjectiveWeightsWarning,
    WeightSpec,
    blend,
    objective_weights,
    resolve_weights,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ahp"


@pytest.fixture
def units(rng) -> pd.DataFrame:
    """Seeded 12 units x 4 criteria with different scales; 'price' is a cost criterion."""
    return pd.DataFrame(
        {
            "quality": rng.uniform(40, 95, 12),
            "staff": rng.integers(2, 30, 12).astype(float),
            "price": rng.uniform(500, 5000, 12),
            "access": rng.uniform(0.2, 1.0, 12),
        },
        index=[f"u{i}" for i in range(12)],
    )


# --------------------------------------------------------------------------- independent formulas


def _entropy(x: np.ndarray) -> np.ndarray:
    m, n = x.shape
    e = np.zeros(n)
    for j in range(n):
        p = x[:, j] / x[:, j].sum()
        e[j] = -sum(pi * np.log(pi) for pi in p if pi > 0) / np.log(m)
    d = 1 - e
    return d / d.sum()


def _critic(x: np.ndarray, cost: list[bool]) -> np.ndarray:
    r = np.empty_like(x)
    for j in range(x.shape[1]):
        best, worst = (x[:, j].min(), x[:, j].max()) if cost[j] else (x[:, j].max(), x[:, j].min())
        r[:, j] = (x[:, j] - worst) / (best - worst)
    sigma = r.std(axis=0, ddof=1)
    rho = np.corrcoef(r, rowvar=False)
    c = sigma * (1 - rho).sum(axis=0)
    return c / c.sum()


def _std(x: np.ndarray) -> np.ndarray:
    r = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    s = r.std(axis=0, ddof=1)
    return s / s.sum()


def _merec(x: np.ndarray, cost: list[bool]) -> np.ndarray:
    m, n = x.shape
    nx = np.empty_like(x)
    for j in range(n):
        nx[:, j] = x[:, j] / x[:, j].max() if cost[j] else x[:, j].min() / x[:, j]
    s = np.log(1 + np.abs(np.log(nx)).sum(axis=1) / n)
    e = np.zeros(n)
    for j in range(n):
        others = [k for k in range(n) if k != j]
        s_j = np.log(1 + np.abs(np.log(nx[:, others])).sum(axis=1) / n)
        e[j] = np.abs(s_j - s).sum()
    return e / e.sum()


# --------------------------------------------------------------------------- objective weights


def test_entropy_against_definition(units):
    """Entropy weights equal the textbook formula; direction (cost) does not enter."""
    w = objective_weights(units, method="entropy")
    np.testing.assert_allclose(w.to_numpy(), _entropy(units.to_numpy()), rtol=1e-12)
    w_cost = objective_weights(units, cost=["price"], method="entropy")
    np.testing.assert_allclose(w_cost.to_numpy(), w.to_numpy())
    assert list(w.index) == list(units.columns) and w.sum() == pytest.approx(1.0)
    # no zeros: pymcdm agrees
    np.testing.assert_allclose(w.to_numpy(), pw.entropy_weights(units.to_numpy()), rtol=1e-10)


def test_entropy_with_zero_follows_definition_not_pymcdm():
    """With a zero entry, 0 ln 0 = 0 (Hwang & Yoon): the weights stay defined. pymcdm 1.4
    refuses any zero (its sum normalization needs positive values); ours follows the
    definition."""
    x = pd.DataFrame({"a": [0.0, 5.0, 5.0, 5.0], "b": [1.0, 2.0, 3.0, 4.0], "c": [10.0, 1.0, 4.0, 2.0]})
    w = objective_weights(x, method="entropy")
    np.testing.assert_allclose(w.to_numpy(), _entropy(x.to_numpy()), rtol=1e-12)
    assert w["a"] > 0
    with pytest.raises(ValueError, match="positive"):
        pw.entropy_weights(x.to_numpy())


@pytest.mark.parametrize(("method", "formula"), [("critic", _critic), ("merec", _merec)])
def test_direction_aware_methods_against_definitions(units, method, formula):
    """CRITIC (Diakoulaki et al. 1995: the cost criterion is reversed before correlating) and
    MEREC (Keshavarz-Ghorabaee et al. 2021, eqs. 1-5: n = min/x for benefit, x/max for cost)
    against the formulas written above; declaring a criterion cost changes the weights."""
    cost = [c == "price" for c in units.columns]
    w = objective_weights(units, cost=["price"], method=method)
    np.testing.assert_allclose(w.to_numpy(), formula(units.to_numpy(), cost), rtol=1e-10)
    w_benefit = objective_weights(units, method=method)
    np.testing.assert_allclose(w_benefit.to_numpy(), formula(units.to_numpy(), [False] * 4), rtol=1e-10)
    assert not np.allclose(w.to_numpy(), w_benefit.to_numpy())


def test_std_is_scale_free(units):
    """Standard deviation of the min-max normalized columns: rescaling a column (rials vs
    thousands of rials) changes nothing (pymcdm's raw-scale version would)."""
    w = objective_weights(units, method="std")
    np.testing.assert_allclose(w.to_numpy(), _std(units.to_numpy()), rtol=1e-12)
    scaled = units.assign(price=units["price"] * 1000)
    np.testing.assert_allclose(objective_weights(scaled, method="std").to_numpy(), w.to_numpy(), rtol=1e-12)
    raw = pw.standard_deviation_weights(scaled.to_numpy())
    assert raw[2] > 0.99  # the raw-scale method is dominated by the big column


@pytest.mark.parametrize("method", OBJECTIVE_METHODS)
def test_constant_criterion_gets_zero_with_warning(units, method):
    """A constant criterion carries no information: weight 0 and a warning naming it; the
    other weights equal those computed without it (MEREC keeps it in n, as its formula does)."""
    x = units.assign(flat=7.0)
    with pytest.warns(ObjectiveWeightsWarning, match="flat"):
        w = objective_weights(x, cost=["price"], method=method)
    assert w["flat"] == 0.0
    assert w.sum() == pytest.approx(1.0)
    if method != "merec":
        base = objective_weights(units, cost=["price"], method=method)
        np.testing.assert_allclose(w.drop("flat").to_numpy(), base.to_numpy(), rtol=1e-10)
    else:
        cost = [c == "price" for c in x.columns]
        np.testing.assert_allclose(w.to_numpy(), _merec(x.to_numpy(), cost), rtol=1e-10, atol=1e-15)


def test_all_constant_and_other_rejections(units):
    with pytest.raises(InputError, match="every criterion is constant"):
        objective_weights(pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0]}))
    with pytest.raises(InputError, match="unknown objective weighting method; expected one of entropy, critic, std, merec"):
        objective_weights(units, method="gini")
    with pytest.raises(InputError, match="column 'nope'"):
        objective_weights(units, cost=["nope"])
    with pytest.raises(InputError, match="at least two units"):
        objective_weights(units.iloc[:1])
    neg = units.copy()
    neg.iloc[3, 1] = -2.0
    with pytest.raises(InputError, match=r"row 4, column 'staff': entropy weights need non-negative values"):
        objective_weights(neg, method="entropy")
    zero = units.copy()
    zero.iloc[5, 0] = 0.0
    with pytest.raises(InputError, match=r"row 6, column 'quality': MEREC weights need positive values"):
        objective_weights(zero, method="merec")
    text = units.astype(object)
    text.iloc[2, 2] = "n/a"
    with pytest.raises(InputError, match=r"units.csv: row 3, column 'price': expected a number, found 'n/a'"):
        objective_weights(text, file="units.csv")
    nan = units.copy()
    nan.iloc[0, 3] = np.nan
    with pytest.raises(InputError, match=r"row 1, column 'access'"):
        objective_weights(nan, method="critic")


def test_single_varying_criterion_critic():
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 4.0, 4.0]})
    with pytest.warns(ObjectiveWeightsWarning):
        w = objective_weights(x, method="critic")
    assert w.tolist() == [1.0, 0.0]


# --------------------------------------------------------------------------- blend


def test_blend_formula():
    e = pd.Series({"a": 0.6, "b": 0.3, "c": 0.1})
    o = pd.Series({"c": 0.5, "b": 0.25, "a": 0.25})
    w = blend(e, o, 0.7)
    np.testing.assert_allclose(w.to_numpy(), [0.7 * 0.6 + 0.3 * 0.25, 0.7 * 0.3 + 0.3 * 0.25, 0.7 * 0.1 + 0.3 * 0.5])
    assert list(w.index) == ["a", "b", "c"]
    np.testing.assert_allclose(blend(e, o, 1.0).to_numpy(), e.to_numpy())
    np.testing.assert_allclose(blend(e, o, 0.0).to_numpy(), o.reindex(e.index).to_numpy())
    for bad in (-0.1, 1.5, float("nan"), "x"):
        with pytest.raises(InputError, match="between 0 and 1"):
            blend(e, o, bad)
    with pytest.raises(InputError, match="only in the expert part: c"):
        blend(e, o.drop("c"), 0.5)


# --------------------------------------------------------------------------- resolver


def test_resolve_equal_and_objective(units):
    crit = list(units.columns)
    eq = resolve_weights("equal", criteria=crit)
    assert isinstance(eq, WeightSpec) and eq.weights.tolist() == [0.25] * 4
    for method in OBJECTIVE_METHODS:
        spec = resolve_weights(method.upper(), criteria=crit, table=units, cost=["price"])
        expected = objective_weights(units, cost=["price"], method=method)
        np.testing.assert_allclose(spec.weights.to_numpy(), expected.to_numpy())
        assert spec.details == {"kind": "objective", "method": method}
    sub = resolve_weights("entropy", criteria=["price", "quality"], table=units)
    np.testing.assert_allclose(sub.weights.to_numpy(), _entropy(units[["price", "quality"]].to_numpy()))
    with pytest.raises(InputError, match="need the units table"):
        resolve_weights("entropy", criteria=crit)
    with pytest.raises(InputError, match="missing column 'zzz'"):
        resolve_weights("critic", criteria=[*crit, "zzz"], table=units)
    with pytest.raises(InputError, match="take no argument"):
        resolve_weights("entropy:x", criteria=crit, table=units)


def test_resolve_preset_matches_labels_and_subsets():
    """preset:path-coefficients on columns named by key or label; a subset is renormalized
    (demographic .51 and external .49 -> .51 / 1.00)."""
    labels = [f"{d.replace('_', ' ')}" for d in DIMENSIONS]
    full = resolve_weights("preset:path-coefficients", criteria=labels)
    assert full.weights["demographic"] == pytest.approx(0.51 / 4.10)
    assert full.details["kind"] == "preset" and "absent_dimensions" not in full.details
    with pytest.warns(UserWarning, match="economic, culturalization, .* are not among the criteria"):
        sub = resolve_weights("preset:path-coefficients", criteria=["External factors", "Demographic factors"])
    assert sub.weights.tolist() == pytest.approx([0.49, 0.51])
    assert sub.details["absent_dimensions"] == [d for d in DIMENSIONS if d not in ("demographic", "external")]
    fr = resolve_weights("preset:friedman", criteria=list(DIMENSIONS))
    assert fr.weights["performance"] == pytest.approx(1.47 / 26.93)
    with pytest.raises(InputError, match="unknown weight preset"):
        resolve_weights("preset:nope", criteria=list(DIMENSIONS))
    with pytest.raises(InputError, match="column 'cost'.*--indicators") as info:
        resolve_weights("preset:equal", criteria=["demographic", "cost"], table_file="u.csv")
    assert info.value.file == "u.csv" and info.value.column == "cost"
    with pytest.raises(InputError, match="two criteria match the dimension 'economic'"):
        resolve_weights("preset:equal", criteria=["economic", "Economic factors"])


def test_resolve_ahp_single_and_group(tmp_path):
    leader = ["Age", "Experience", "Education", "Charisma"]
    one = resolve_weights("ahp:leader.csv", criteria=leader, base_dir=EXAMPLES)
    assert list(one.weights.index) == leader  # follows the criteria order
    assert one.weights["Experience"] == pytest.approx(0.5476, abs=1e-4)
    assert one.details["kind"] == "ahp" and round(one.details["cr"], 3) == 0.044
    with pytest.raises(InputError, match="leader.csv: .*; missing: Salary; not criteria: Age"):
        resolve_weights("ahp:leader.csv", criteria=["Experience", "Education", "Charisma", "Salary"], base_dir=EXAMPLES)
    files = ",".join(f"expert_{k}.csv" for k in "abc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        group = resolve_weights(f"ahp:{files}", criteria=list(DIMENSIONS), base_dir=EXAMPLES)
    assert group.details["kind"] == "group-ahp"
    assert set(group.details["experts"]) == {f"expert_{k}" for k in "abc"}
    assert group.details["files"] == [f"expert_{k}.csv" for k in "abc"]
    assert group.weights.sum() == pytest.approx(1.0)
    with pytest.raises(InputError, match="does not exist"):
        resolve_weights("ahp:none.csv", criteria=leader, base_dir=tmp_path)
    with pytest.raises(InputError, match="expected ahp:FILE.csv"):
        resolve_weights("ahp:", criteria=leader)


def test_resolve_files(tmp_path, monkeypatch):
    crit = ["a", "b", "c"]
    (tmp_path / "w.csv").write_text("criterion,weight\nb,2\na,1\nc,1\n")
    w = resolve_weights("w.csv", criteria=crit, base_dir=tmp_path)
    assert w.weights.tolist() == [0.25, 0.5, 0.25]
    assert w.details["kind"] == "file"
    (tmp_path / "w.json").write_text(json.dumps({"a": 1, "b": 1, "c": 2}))
    assert resolve_weights("w.json", criteria=crit, base_dir=tmp_path).weights.tolist() == [0.25, 0.25, 0.5]
    (tmp_path / "n.json").write_text(json.dumps({"weights": {"a": 0.2, "b": 0.3, "c": 0.5}}))
    assert resolve_weights("n.json", criteria=crit, base_dir=tmp_path).weights.tolist() == pytest.approx([0.2, 0.3, 0.5])
    monkeypatch.chdir(tmp_path)  # relative paths without base_dir resolve against the cwd
    assert resolve_weights("w.csv", criteria=crit).weights.tolist() == [0.25, 0.5, 0.25]

    bad_cases = {
        "neg.csv": ("criterion,weight\na,1\nb,-1\nc,1\n", r"neg.csv: row 2, column 'weight': expected a non-negative weight"),
        "txt.csv": ("criterion,weight\na,1\nb,x\nc,1\n", r"row 2, column 'weight': expected a number, found 'x'"),
        "dup.csv": ("criterion,weight\na,1\na,1\nc,1\n", r"row 2, column 'criterion': duplicate id"),
        "miss.csv": ("criterion,weight\na,1\nb,1\n", r"miss.csv: column 'c': expected one weight for each criterion \(a, b, c\); missing: c"),
        "extra.csv": ("criterion,weight\na,1\nb,1\nc,1\nd,1\n", r"unknown: d"),
        "zero.csv": ("criterion,weight\na,0\nb,0\nc,0\n", r"all are zero"),
        "cols.csv": ("name,value\na,1\n", r"missing columns 'criterion', 'weight'"),
        "inf.json": ('{"a": 1, "b": Infinity, "c": 1}', r"column 'b': expected a finite number as weight"),
        "str.json": ('{"a": 1, "b": "lots", "c": 1}', r"column 'b': expected a number as weight, found 'lots'"),
        "list.json": ("[1, 2, 3]", r"expected a JSON object"),
        "broken.json": ("{", r"expected a JSON object"),
    }
    for name, (text, pattern) in bad_cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError, match=pattern):
            resolve_weights(name, criteria=crit, base_dir=tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        resolve_weights("absent.csv", criteria=crit, base_dir=tmp_path)


def test_resolve_inline():
    crit = ["a", "b"]
    w = resolve_weights("b=0.7, a=0.3", criteria=crit)
    assert w.weights.tolist() == pytest.approx([0.3, 0.7]) and w.details == {"kind": "inline"}
    assert resolve_weights("a=3,b=1", criteria=crit).weights.tolist() == [0.75, 0.25]
    for spec, pattern in {
        "a=0.3": r"column 'b'.*missing: b",
        "a=0.3,b=0.3,c=0.4": r"unknown: c",
        "a=-1,b=2": r"column 'a': expected a non-negative weight",
        "a=inf,b=1": r"column 'a': expected a finite number",
        "a=nan,b=1": r"column 'a': expected a finite number",
        "a=x,b=1": r"column 'a': expected a number as weight, found 'x'",
        "a=0,b=0": r"all are zero",
        "a=1,b": r"expected inline weights like a=0.3,b=0.7, found 'b'",
        "a=1,a=2,b=1": r"column 'a': expected each criterion once",
    }.items():
        with pytest.raises(InputError, match=pattern):
            resolve_weights(spec, criteria=crit)


def test_resolve_blend(units):
    crit = list(units.columns)
    spec = "blend:quality=4,staff=3,price=2,access=1+entropy@0.6"
    w = resolve_weights(spec, criteria=crit, table=units)
    ent = objective_weights(units, method="entropy").to_numpy()
    expected = 0.6 * np.array([0.4, 0.3, 0.2, 0.1]) + 0.4 * ent
    np.testing.assert_allclose(w.weights.to_numpy(), expected)
    assert w.details["kind"] == "blend" and w.details["share"] == 0.6
    assert w.details["expert"]["details"] == {"kind": "inline"}
    assert w.details["objective"]["spec"] == "entropy"
    ahp_blend = resolve_weights(
        "blend:ahp:leader.csv+equal@0.5", criteria=["Experience", "Education", "Charisma", "Age"], base_dir=EXAMPLES
    )
    assert ahp_blend.weights["Age"] == pytest.approx(0.5 * 0.0559 + 0.125, abs=1e-4)
    for bad, pattern in {
        "blend:equal+entropy": "expected blend:EXPERT",
        "blend:equal@0.5": "expected blend:EXPERT",
        "blend:equal+entropy@1.5": "between 0 and 1",
        "blend:equal+entropy@half": "after '@'",
        "blend:blend:equal+equal@0.5+entropy@0.5": "do not nest",
    }.items():
        with pytest.raises(InputError, match=pattern):
            resolve_weights(bad, criteria=crit, table=units)


def test_resolve_survey_delegates(tmp_path, monkeypatch):
    """survey:FILE is delegated to optimizer.mcdm.panel.survey_weights(path, criteria) with
    the path resolved against base_dir; the weights are re-checked against the criteria."""
    calls = []

    def survey_weights(path, criteria):
        calls.append((path, list(criteria)))
        return WeightSpec(weights=pd.Series({"b": 3.0, "a": 1.0}), source=str(path), details={"respondents": 12})

    fake = types.ModuleType("optimizer.mcdm.panel")
    fake.survey_weights = survey_weights
    monkeypatch.setitem(sys.modules, "optimizer.mcdm.panel", fake)
    w = resolve_weights("survey:answers.csv", criteria=["a", "b"], base_dir=tmp_path)
    assert calls == [(tmp_path / "answers.csv", ["a", "b"])]
    assert w.weights.tolist() == [0.25, 0.75]
    assert w.source == "survey:answers.csv"
    assert w.details == {"kind": "survey", "respondents": 12}


def test_resolve_general_errors():
    with pytest.raises(InputError, match="unknown weight spec; expected one of: equal, entropy"):
        resolve_weights("saaty", criteria=["a"])
    with pytest.raises(InputError, match="expected a weight spec"):
        resolve_weights("  ", criteria=["a"])
    with pytest.raises(InputError, match="at least one criterion"):
        resolve_weights("equal", criteria=[])
    with pytest.raises(InputError, match="distinct criteria"):
        resolve_weights("equal", criteria=["a", "a"])


# --------------------------------------------------------------------------- CLI


def _units_csv(tmp_path: Path, units: pd.DataFrame) -> Path:
    p = tmp_path / "units.csv"
    units.rename_axis("unit_id").reset_index().to_csv(p, index=False)
    return p


def test_cli_objective(cli, tmp_path, units):
    p = _units_csv(tmp_path, units)
    res = cli("weights", "objective", p, "--method", "merec", "--cost", "price", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert doc["method"] == "merec" and doc["cost"] == ["price"]
    cost = [c == "price" for c in units.columns]
    np.testing.assert_allclose(list(doc["weights"].values()), _merec(units.to_numpy(), cost), rtol=1e-6)
    table = cli("weights", "objective", p, "--criteria", "quality,staff")
    assert table.code == 0 and "entropy weights" in table.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_id,a,b\nx,1,2\ny,oops,3\n")
    out = cli("weights", "objective", bad, "--criteria", "a,b", "--json")
    assert out.code == 2
    assert "bad.csv" in out.stderr and "row 2" in out.stderr and "'a'" in out.stderr
    assert cli("weights", "objective", p, "--method", "gini").code == 2


def test_cli_show(cli, tmp_path, units):
    p = _units_csv(tmp_path, units)
    res = cli("weights", "show", "blend:preset:friedman+equal@0.5", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert list(doc["weights"]) == list(DIMENSIONS)
    assert doc["weights"]["demographic"] == pytest.approx(0.5 * 4.14 / 26.93 + 0.05)
    res = cli("weights", "show", "critic", "--units", p, "--cost", "price", "--json")
    assert res.code == 0, res.stderr
    np.testing.assert_allclose(
        list(res.json()["weights"].values()), _critic(units.to_numpy(), [c == "price" for c in units.columns]), rtol=1e-6
    )
    err = cli("weights", "show", "a=1", "--criteria", "a,b")
    assert err.code == 2 and "missing: b" in err.stderr
