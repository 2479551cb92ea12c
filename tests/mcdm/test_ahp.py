"""AHP: eigenvector weights, consistency ratio, reading matrices, group AHP, CLI.

References:
* Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill: eigenvector method,
  CI = (lambda_max - n)/(n - 1), CR = CI/RI, random index table for n = 1..15.
* "Analytic hierarchy process - leader example" (Wikipedia): criteria matrix Experience,
  Education, Charisma, Age with priorities 0.547, 0.127, 0.270, 0.056 and CR = 4.4 %.
* Aczel & Saaty (1983), Forman & Peniwati (1998): aggregation of individual judgements
  by the element-wise geometric mean.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.mcdm.ahp import (
    RANDOM_INDEX,
    InconsistentJudgementsWarning,
    ahp_weights,
    group_ahp,
    read_pairwise_csv,
    validate_pairwise,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ahp"
LEADER = ["Experience", "Education", "Charisma", "Age"]


def _frame(a, names=None) -> pd.DataFrame:
    a = np.asarray(a, dtype=float)
    names = names or [f"c{i}" for i in range(a.shape[0])]
    return pd.DataFrame(a, index=names, columns=names)


def _consistent(w) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w[:, None] / w[None, :]


def _power_iteration(a: np.ndarray, iters: int = 2000) -> tuple[np.ndarray, float]:
    """Independent Perron vector: repeated multiplication, lambda = mean of (A w)_i / w_i."""
    w = np.ones(a.shape[0]) / a.shape[0]
    for _ in range(iters):
        w = a @ w
        w = w / w.sum()
    return w, float(np.mean((a @ w) / w))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_leader_example_published_values():
    """Wikipedia AHP leader example: priorities 0.547 / 0.127 / 0.270 / 0.056, CR 4.4 %;
    lambda_max and the vector cross-checked with a power iteration written here."""
    m = read_pairwise_csv(EXAMPLES / "leader.csv")
    assert list(m.columns) == LEADER
    r = ahp_weights(m)
    np.testing.assert_allclose(r.weights.round(3).to_numpy(), [0.547, 0.127, 0.270, 0.056], atol=1e-3)
    assert round(r.cr, 3) == 0.044
    assert r.consistent
    assert r.random_index == 0.90
    w, lam = _power_iteration(m.to_numpy())
    np.testing.assert_allclose(r.weights.to_numpy(), w, rtol=1e-9)
    assert r.lambda_max == pytest.approx(lam, rel=1e-9)
    assert r.ci == pytest.approx((lam - 4) / 3, rel=1e-9)
    assert r.cr == pytest.approx((lam - 4) / 3 / 0.90, rel=1e-9)
    assert list(r.weights.index) == LEADER


def test_consistent_matrix_recovers_weights():
    """For a_ij = w_i / w_j the eigenvector is w, lambda_max = n, CI = CR = 0 (Saaty 1980)."""
    w = np.array([0.4, 0.3, 0.2, 0.06, 0.04])
    r = ahp_weights(_frame(_consistent(w)))
    np.testing.assert_allclose(r.weights.to_numpy(), w, rtol=1e-10)
    assert r.lambda_max == pytest.approx(5.0, abs=1e-10)
    assert r.ci == pytest.approx(0.0, abs=1e-12)
    assert r.cr == pytest.approx(0.0, abs=1e-12)
    assert r.worst_comparisons["deviation"].max() < 1e-10


def test_random_reciprocal_matrices_match_power_iteration(rng):
    """Eigenvector and lambda_max against the power iteration on random Saaty-scale matrices."""
    scale = np.array([1 / 9, 1 / 7, 1 / 5, 1 / 3, 1, 3, 5, 7, 9])
    for n in (3, 6, 9):
        a = np.ones((n, n))
        iu = np.triu_indices(n, 1)
        a[iu] = rng.choice(scale, size=len(iu[0]))
        a[(iu[1], iu[0])] = 1 / a[iu]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InconsistentJudgementsWarning)
            r = ahp_weights(_frame(a))
        w, lam = _power_iteration(a)
        np.testing.assert_allclose(r.weights.to_numpy(), w, rtol=1e-7)
        assert r.lambda_max == pytest.approx(lam, rel=1e-7)
        assert r.lambda_max >= n - 1e-9
        assert r.cr == pytest.approx((lam - n) / (n - 1) / RANDOM_INDEX[n], rel=1e-6)


def test_random_index_table():
    """Saaty (1980) RI: 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49 for n = 3..10, then
    1.51, 1.48, 1.56, 1.57, 1.59 for n = 11..15; 0 for n = 1, 2."""
    assert [RANDOM_INDEX[n] for n in range(1, 16)] == [
        0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59,
    ]
    r2 = ahp_weights(_frame([[1, 5], [1 / 5, 1]]))
    assert (r2.cr, r2.ci, r2.random_index, r2.consistent) == (0.0, 0.0, 0.0, True)
    assert r2.weights.tolist() == pytest.approx([5 / 6, 1 / 6])
    r1 = ahp_weights(_frame([[1]]))
    assert r1.weights.tolist() == [1.0]
    r12 = ahp_weights(_frame(_consistent(np.arange(1, 13))))
    assert r12.random_index == 1.48
    with pytest.raises(InputError, match="at most 15 criteria"):
        ahp_weights(_frame(np.ones((16, 16))))


def test_one_corrupted_judgement_is_reported_first():
    """A consistent 5x5 matrix with a_{c1,c3} replaced by its inverse: CR > 0.10, a warning
    names c1 vs c3 first, and worst_comparisons lists that pair first."""
    w = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
    a = _consistent(w)
    # make it a clear error: c1 judged 5 times *less* important than c3 instead of ~2 times more
    a[1, 3], a[3, 1] = 1 / 5, 5
    with pytest.warns(InconsistentJudgementsWarning) as rec:
        r = ahp_weights(_frame(a), file="expert.csv")
    assert r.cr > 0.10 and not r.consistent
    message = str(rec[0].message)
    assert message.startswith("expert.csv: consistency ratio")
    assert "re-ask" in message
    assert message.split("first: ")[1].startswith("c1 vs c3 (judged 1/5")
    first = r.worst_comparisons.iloc[0]
    assert (first["row"], first["column"]) == ("c1", "c3")
    assert first["judgement"] == pytest.approx(0.2)
    assert first["deviation"] == pytest.approx(abs(np.log(0.2 * r.weights["c3"] / r.weights["c1"])))
    assert len(r.worst_comparisons) == 10
    assert r.worst_comparisons["deviation"].is_monotonic_decreasing
    assert r.to_dict()["reask"][0]["row"] == "c1"


def test_fractions_and_layout_parsing(tmp_path):
    """Fractions like 1/3 (also with spaces), decimals, BOM, blank lines, corner label."""
    p = _write(
        tmp_path,
        "m.csv",
        "\ufeff,a,b,c\n\na,1,3,1 / 2\nb,1/3,1,0.2\nc,2,5,1\n",
    )
    m = read_pairwise_csv(p)
    assert list(m.columns) == ["a", "b", "c"] and list(m.index) == ["a", "b", "c"]
    assert m.loc["b", "a"] == pytest.approx(1 / 3)
    assert m.loc["a", "c"] == pytest.approx(0.5)
    assert m.loc["b", "c"] == pytest.approx(0.2)
    r = ahp_weights(m, file=p)
    assert r.consistent
    assert r.weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (",a,b\na,1,x\nb,1,1\n", r"m\.csv: row 1, column 'b': expected a positive number or a fraction such as 1/3, found 'x'"),
        (",a,b\na,1,\nb,1,1\n", r"row 1, column 'b': expected a positive number or a fraction"),
        (",a,b\na,1,1/0\nb,1,1\n", r"row 1, column 'b'.*found '1/0'"),
        (",a,b,c\na,1,1,1\nb,1,1,1\n", r"expected a square matrix: 3 criteria in the header, so 3 rows"),
        (",a,b\na,1,1,1\nb,1,1\n", r"row 1: expected a square matrix: a name and 2 entries in every row"),
        (",a,b\nb,1,1\na,1,1\n", r"row 1: expected the row labels to repeat the header in the same order: row 1 should be 'a', found 'b'"),
        (",a,a\na,1,1\na,1,1\n", r"expected distinct criterion names"),
        ("a,b\na,1,2\nb,1/2,1\n", r"row header: expected the header's first cell to be a corner label"),
    ],
)
def test_read_rejections(tmp_path, text, pattern):
    p = _write(tmp_path, "m.csv", text)
    with pytest.raises(InputError, match=pattern):
        ahp_weights(read_pairwise_csv(p), file=p)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_pairwise_csv(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="empty"):
        read_pairwise_csv(_write(tmp_path, "e.csv", ""))
    with pytest.raises(InputError, match="criterion names"):
        read_pairwise_csv(_write(tmp_path, "h.csv", "corner\n"))


@pytest.mark.parametrize(
    ("a", "pattern"),
    [
        ([[1, 0], [0, 1]], r"row 1, column 'c1': expected a positive number, found 0"),
        ([[1, -3], [-1 / 3, 1]], r"row 1, column 'c1': expected a positive number"),
        ([[1, np.inf], [0, 1]], r"expected a finite number"),
        ([[1, np.nan], [1, 1]], r"expected a finite number"),
        ([[2, 1], [1, 1]], r"row 1, column 'c0': expected 1 on the diagonal"),
        ([[1, 3], [3, 1]], r"reciprocal matrix: a\['c0', 'c1'\] \* a\['c1', 'c0'\] should be 1.*found 3 \* 3 = 9"),
    ],
)
def test_matrix_rejections(a, pattern):
    with pytest.raises(InputError, match=pattern):
        ahp_weights(_frame(a))


def test_structure_rejections():
    with pytest.raises(InputError, match="square matrix, found 2 rows and 3 columns"):
        ahp_weights(pd.DataFrame(np.ones((2, 3)), index=["a", "b"], columns=["a", "b", "c"]))
    with pytest.raises(InputError, match="non-empty"):
        ahp_weights(pd.DataFrame())
    m = pd.DataFrame(np.ones((2, 2)), index=["a", "b"], columns=["b", "a"])
    with pytest.raises(InputError, match="row 1 should be 'b'"):
        ahp_weights(m)


def test_near_reciprocal_is_made_exact():
    """0.33 for 1/3 passes the 2 % tolerance and the matrix is made exactly reciprocal by
    a_ij <- sqrt(a_ij / a_ji)."""
    m = validate_pairwise(_frame([[1, 3], [0.33, 1]]))
    a = m.to_numpy()
    np.testing.assert_allclose(a * a.T, 1.0)
    assert a[0, 1] == pytest.approx(np.sqrt(3 / 0.33))


def test_group_ahp_is_elementwise_geometric_mean():
    """AIJ: group a_ij = (prod_k a_ij^(k))^(1/K), computed here independently; the result is
    reciprocal, and each expert keeps its own CR."""
    names = ["a", "b", "c"]
    m1 = _frame([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]], names)
    m2 = _frame([[1, 1 / 2, 4], [2, 1, 7], [1 / 4, 1 / 7, 1]], names)
    m3 = _frame([[1, 2, 2], [1 / 2, 1, 1], [1 / 2, 1, 1]], names)
    g = group_ahp([m1, m2, m3], names=["e1", "e2", "e3"])
    expected = (m1.to_numpy() * m2.to_numpy() * m3.to_numpy()) ** (1 / 3)
    np.testing.assert_allclose(g.matrix.to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(g.matrix.to_numpy() * g.matrix.to_numpy().T, 1.0, rtol=1e-12)
    assert g.matrix.loc["a", "b"] == pytest.approx((3 * 0.5 * 2) ** (1 / 3))
    assert set(g.experts) == {"e1", "e2", "e3"}
    assert g.experts["e1"].cr == pytest.approx(ahp_weights(m1).cr)
    assert g.experts["e3"].cr == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(g.weights.to_numpy(), ahp_weights(_frame(expected, names)).weights.to_numpy())
    # identical experts -> the group is that expert
    same = group_ahp([m1, m1])
    np.testing.assert_allclose(same.matrix.to_numpy(), m1.to_numpy())
    assert list(same.experts) == ["expert 1", "expert 2"]


def test_group_ahp_reorders_and_rejects_other_criteria():
    names = ["a", "b", "c"]
    m1 = _frame([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]], names)
    reordered = m1.loc[["c", "a", "b"], ["c", "a", "b"]]
    g = group_ahp([m1, reordered], names=["x", "y"])
    np.testing.assert_allclose(g.matrix.to_numpy(), m1.to_numpy())
    other = _frame(np.ones((3, 3)), ["a", "b", "d"])
    with pytest.raises(InputError, match=r"y: column 'c': expected the same criteria as x; missing: c; not in x: d"):
        group_ahp([m1, other], names=["x", "y"])
    with pytest.raises(InputError, match="at least one"):
        group_ahp([])
    with pytest.raises(InputError, match="distinct expert names"):
        group_ahp([m1, m1], names=["x", "x"])


def test_group_inconsistent_expert_warns_with_name():
    names = ["a", "b", "c"]
    good = _frame(_consistent([0.5, 0.3, 0.2]), names)
    bad = _frame([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]], names)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        g = group_ahp([good, bad], names=["good.csv", "bad.csv"])
    messages = [str(w.message) for w in rec if w.category is InconsistentJudgementsWarning]
    assert any(m.startswith("bad.csv: consistency ratio") for m in messages)
    assert not any(m.startswith("good.csv") for m in messages)
    assert not g.experts["bad.csv"].consistent
    assert g.experts["good.csv"].consistent


# --------------------------------------------------------------------------- CLI


def test_cli_single_matrix_json(cli):
    res = cli("weights", "ahp", EXAMPLES / "leader.csv", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert {"weights", "lambda_max", "ci", "cr", "consistent"} <= set(doc)
    assert "experts" not in doc and "reask" not in doc
    assert list(doc["weights"]) == LEADER
    assert doc["weights"]["Experience"] == pytest.approx(0.5476, abs=1e-4)
    assert round(doc["cr"], 3) == 0.044
    assert doc["consistent"] is True


def test_cli_group_json_with_inconsistent_expert(cli):
    files = [EXAMPLES / f"expert_{k}.csv" for k in "abc"]
    res = cli("weights", "ahp", *files, "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert set(doc["experts"]) == {"expert_a", "expert_b", "expert_c"}  # the file stems
    c = doc["experts"]["expert_c"]
    assert c["cr"] > 0.10 and c["consistent"] is False
    assert {c["reask"][0]["row"], c["reask"][0]["column"]} <= {"economic", "performance", "demographic", "marketing"}
    assert doc["experts"]["expert_a"]["consistent"] is True
    assert sum(doc["weights"].values()) == pytest.approx(1.0)
    assert "warning" in res.stderr and "expert_c.csv" in res.stderr


def test_cli_tables_and_errors(cli, tmp_path):
    res = cli("weights", "ahp", EXAMPLES / "expert_c.csv")
    assert res.code == 0
    assert "comparisons to re-ask" in res.stdout
    bad = _write(tmp_path, "bad.csv", ",a,b\na,1,3\nb,3,1\n")
    out = cli("weights", "ahp", bad, "--json")
    assert out.code == 2
    assert "bad.csv" in out.stderr and "reciprocal" in out.stderr
    assert out.stdout == ""
    typo = _write(tmp_path, "typo.csv", ",a,b\na,1,3\nb,l/3,1\n")
    out = cli("weights", "ahp", typo)
    assert out.code == 2
    assert "row 2, column 'a'" in out.stderr and "'l/3'" in out.stderr
    missing = cli("weights", "ahp", tmp_path / "none.csv")
    assert missing.code == 2 and "does not exist" in missing.stderr
