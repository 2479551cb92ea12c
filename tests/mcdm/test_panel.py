"""Panel AHP with its dissent report, and the survey:FILE weight spec (optimizer.mcdm.panel)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimizer.errors import InputError
from optimizer.mcdm.panel import (
    compatibility_index,
    export_weights,
    make_provenance,
    panel_ahp,
    survey_weights,
)
from optimizer.mcdm.weights import WeightSpec, resolve_weights

CRIT = ["a", "b", "c"]


def consistent(w) -> pd.DataFrame:
    """The perfectly consistent matrix a_ij = w_i / w_j of a weight vector."""
    w = np.asarray(w, float)
    return pd.DataFrame(w[:, None] / w[None, :], index=CRIT, columns=CRIT)


def test_dissent_report_independent_computation():
    """Two experts with consistent matrices of w1 = (.5, .3, .2) and w2 = (.2, .3, .5).
    The geometric mean of consistent matrices is consistent with weights proportional to
    sqrt(w1 w2) = (.3162, .3, .3162) / .9325 (Aczel & Saaty 1983), so the group weights and
    each expert's distance to them are known in closed form."""
    w1, w2 = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    res = panel_ahp([consistent(w1), consistent(w2)], ["x", "y"])
    g = np.sqrt(w1 * w2)
    g = g / g.sum()
    np.testing.assert_allclose(res.group_weights.to_numpy(), g, atol=1e-12)
    d = res.dissent
    for name, w in (("x", w1), ("y", w2)):
        assert d.loc[name, "euclidean"] == pytest.approx(float(np.sqrt(((w - g) ** 2).sum())))
        assert d.loc[name, "max_abs"] == pytest.approx(float(np.abs(w - g).max()))
        assert d.loc[name, "spearman"] == pytest.approx(float(stats.spearmanr(w, g).statistic))
        assert d.loc[name, "cr"] == pytest.approx(0.0, abs=1e-12)
        # Saaty's compatibility index written out as a double loop
        s = sum(w[i] / w[j] * g[j] / g[i] for i in range(3) for j in range(3)) / 9
        assert d.loc[name, "compatibility"] == pytest.approx(s)
    assert d.loc["x", "most_different"] == "a" and d.loc["y", "most_different"] == "c"
    np.testing.assert_allclose(res.weights.loc["x"].to_numpy(), w1, atol=1e-12)


def test_identical_experts_have_no_dissent():
    w = [0.6, 0.3, 0.1]
    res = panel_ahp([consistent(w), consistent(w), consistent(w)])
    np.testing.assert_allclose(res.dissent["euclidean"], 0.0, atol=1e-12)
    np.testing.assert_allclose(res.dissent["compatibility"], 1.0)
    assert res.dissent["compatible"].all()
    np.testing.assert_allclose(res.dissent["spearman"], 1.0)


def test_compatibility_grows_with_disagreement():
    w = np.array([0.5, 0.3, 0.2])
    assert compatibility_index(consistent(w).to_numpy(), w) == pytest.approx(1.0)
    far = compatibility_index(consistent([0.2, 0.3, 0.5]).to_numpy(), w)
    near = compatibility_index(consistent([0.45, 0.33, 0.22]).to_numpy(), w)
    assert 1.0 < near < far


def test_panel_needs_two_experts():
    with pytest.raises(InputError, match="at least 2 experts"):
        panel_ahp([consistent([0.5, 0.3, 0.2])])


# --------------------------------------------------------------------------- export / survey:FILE
@pytest.fixture
def source(tmp_path):
    p = tmp_path / "rounds.csv"
    p.write_text("round,expert,factor,rating\n")
    return p


def _export(tmp_path, weights: dict, source, name="w.json"):
    prov = make_provenance(panel="test panel", method="delphi", rounds=[1, 2], rule="r", source_files=[source])
    return export_weights(tmp_path / name, pd.Series(weights), prov)


def test_export_and_read_back_by_name(tmp_path, source):
    path = _export(tmp_path, {"a": 2.0, "b": 1.0, "c": 1.0}, source)
    data = json.loads(path.read_text())
    prov = data["provenance"]
    assert prov["panel"] == "test panel" and prov["rounds"] == [1, 2] and prov["rule"] == "r"
    assert prov["source_files"][0]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert prov["created"].endswith("+00:00")
    spec = survey_weights(path, ["c", "b", "a"])
    assert isinstance(spec, WeightSpec)
    assert spec.weights.to_dict() == {"c": 0.25, "b": 0.25, "a": 0.5}
    assert spec.details["provenance"]["method"] == "delphi"
    assert spec.details["matched_by"] == "name"


def test_export_refuses_to_overwrite(tmp_path, source):
    _export(tmp_path, {"a": 1.0}, source)
    with pytest.raises(InputError, match="already exists"):
        _export(tmp_path, {"a": 1.0}, source)
    prov = make_provenance(panel="p", method="m")
    export_weights(tmp_path / "w.json", pd.Series({"a": 3.0}), prov, force=True)
    assert json.loads((tmp_path / "w.json").read_text())["weights"] == {"a": 3.0}


def test_survey_weights_match_dimensions_by_label(tmp_path, source):
    """Factors named by the catalog's labels weight the criteria named by its keys."""
    labels = {
        "Demographic factors": 5, "Economic factors": 4, "Culturalization": 1, "Specialization": 1,
        "Physical factors": 1, "Personnel literacy and experience": 2, "Performance management": 1,
        "Marketing": 2, "Customer satisfaction": 3, "External factors": 5,
    }
    path = _export(tmp_path, labels, source)
    keys = ["demographic", "economic", "culturalization", "specialization", "physical",
            "personnel", "performance", "marketing", "satisfaction", "external"]
    spec = survey_weights(path, keys)
    assert spec.details["matched_by"] == "dimension"
    assert spec.weights["demographic"] == pytest.approx(5 / 25)
    assert spec.weights["personnel"] == pytest.approx(2 / 25)
    with pytest.raises(InputError, match="criteria without a weight: xyz.*not criteria: Demographic factors"):
        survey_weights(path, ["xyz", *keys[1:]])
    with pytest.raises(InputError, match="weighted factors that are not criteria: External factors"):
        survey_weights(path, keys[:-1])


def test_survey_weights_name_the_missing_and_extra(tmp_path, source):
    path = _export(tmp_path, {"a": 1.0, "b": 1.0, "q": 1.0}, source)
    with pytest.raises(InputError, match="criteria without a weight: c; weighted factors that are not criteria: q"):
        survey_weights(path, CRIT)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("not json", "expected a JSON survey weights file"),
        ('{"weights": {}}', "expected a JSON object"),
        ('{"weights": {"a": 1}}', "provenance"),
        ('{"weights": {"a": -1, "b": 2}, "provenance": {}}', r"column 'a': expected a finite non-negative weight"),
        ('{"weights": {"a": "x"}, "provenance": {}}', "non-negative weight"),
        ('{"weights": {"a": 0, "b": 0}, "provenance": {}}', "at least one positive weight"),
    ],
)
def test_survey_weights_bad_files(tmp_path, text, pattern):
    p = tmp_path / "bad.json"
    p.write_text(text)
    with pytest.raises(InputError, match=pattern):
        survey_weights(p, ["a", "b"])


def test_resolve_weights_survey_round_trip(tmp_path, source):
    """export -> resolve_weights("survey:FILE") (the weight spec of `score` and scenarios)."""
    path = _export(tmp_path, {"a": 1.0, "b": 3.0, "c": 4.0}, source)
    spec = resolve_weights(f"survey:{path.name}", criteria=CRIT, base_dir=tmp_path)
    np.testing.assert_allclose(spec.weights.to_numpy(), [0.125, 0.375, 0.5])
    assert spec.details["kind"] == "survey"
    assert spec.details["provenance"]["panel"] == "test panel"
    assert spec.details["provenance"]["source_files"][0]["path"] == str(source)
