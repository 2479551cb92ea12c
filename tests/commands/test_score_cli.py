"""``optimizer score`` and ``optimizer compare`` end to end (in process), on the shipped example.

Values are checked against the Python API (itself checked against independent
implementations in tests/mcdm); errors must exit with status 2 naming file, row, column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimizer.mcdm.catalog import DIMENSIONS
from optimizer.mcdm.scoring import read_units_table, score
from optimizer.mcdm.weights import resolve_weights

UNITS = Path(__file__).resolve().parents[2] / "examples" / "units.csv"


def test_example_has_the_ten_dimensions_and_a_cost():
    t = read_units_table(UNITS)
    assert list(t.columns) == list(DIMENSIONS)
    assert len(t) == 12
    assert "cost" in read_units_table(UNITS, cost=["cost"]).columns


def test_score_json_matches_the_api(cli):
    res = cli("score", UNITS, "--weights", "preset:path-coefficients", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert doc["method"] == "topsis" and doc["normalization"] == "vector" and doc["higher_is_better"] is True
    t = read_units_table(UNITS)
    w = resolve_weights("preset:path-coefficients", criteria=list(t.columns)).weights
    api = score(t, w)
    np.testing.assert_allclose([doc["scores"][u] for u in t.index], api.scores.to_numpy())
    assert doc["ranks"] == {u: int(r) for u, r in api.ranks.items()}
    assert sorted(doc["ranks"].values()) == list(range(1, 13))
    # path coefficients, normalized: demographic beta .51 of a total 4.10
    assert doc["weights"]["demographic"] == pytest.approx(0.51 / 4.10)


def test_score_vikor_with_cost_and_explain(cli):
    res = cli("score", UNITS, "--method", "vikor", "--weights", "equal", "--cost", "cost", "--explain", "U02", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert doc["method"] == "vikor" and doc["higher_is_better"] is False
    assert doc["cost"] == ["cost"] and len(doc["weights"]) == 11
    best = min(doc["scores"], key=doc["scores"].get)
    assert doc["ranks"][best] == 1
    ex = doc["explanation"]
    assert ex["unit"] == "U02" and ex["reference"] == best and "Unit U02 is ranked" in ex["text"]


def test_score_options_and_normalization(cli):
    a = cli("score", UNITS, "--method", "promethee", "--option", "preference=vshape", "--option", "p=2", "--json").json()
    assert a["options"]["preference"]["economic"] == "vshape" and a["options"]["p"]["economic"] == 2.0
    b = cli("score", UNITS, "--normalization", "minmax", "--json").json()
    assert b["normalization"] == "minmax"


def test_score_tables_without_json(cli):
    res = cli("score", UNITS, "--weights", "preset:friedman", "--explain", "U01")
    assert res.code == 0, res.stderr
    assert "rank" in res.stdout and "U04" in res.stdout and "Unit U01 is ranked" in res.stdout


@pytest.mark.parametrize(
    ("body", "args", "expect"),
    [
        (None, (), "u.csv: units table does not exist"),
        ("unit_id,a,b\n1,3,4\n2,x,2\n", (), "u.csv: row 2, column 'a': expected a number, found 'x'"),
        ("unit_id,a,b\n1,3,4\n2,5,\n", (), "u.csv: row 2, column 'b': expected a number, found an empty value"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--method", "electre"), "unknown method; expected one of topsis"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--weights", "a=-1,b=2"), "'a'"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--weights", "a=1,c=2"), "b"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--cost", "price"), "u.csv: missing column 'price'"),
        ("unit_id,a,b\n1,3,4\n2,3,2\n", ("--method", "vikor"), "u.csv: column 'a': criterion has the same value"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--option", "v=0.3"), "unknown option for topsis"),
        ("unit_id,a,b\n1,3,4\n2,inf,2\n", (), "u.csv: row 2, column 'a': expected a finite number, found inf"),
        ("unit_id,a,b\n1,3,4\n1,5,2\n", (), "u.csv: row 2, column 'unit_id': duplicate id (first seen in row 1)"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--id", "code"), "u.csv: missing column 'code'"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--weights", "a=inf,b=1"), "column 'a': expected a finite number as weight"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--weights", "a=nan,b=1"), "column 'a': expected a finite number as weight"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--weights", "a=0,b=0"), "expected at least one positive weight"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--weights", "preset:friedman"), "u.csv: column 'a': preset:friedman weights the ten dimensions"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--indicators", "a"), "expected indicators as COLUMN=NODE"),
        ("unit_id,a,b\n1,3,4\n2,5,2\n", ("--indicators", "a=theme:99"), "expected a dimension key or label, a theme"),
    ],
)
def test_score_errors_exit_2(cli, tmp_path, body, args, expect):
    p = tmp_path / "u.csv"
    if body is not None:
        p.write_text(body)
    res = cli("score", p, *args, "--json")
    assert res.code == 2
    assert expect in res.stderr
    assert res.stdout == ""
    assert "Traceback" not in res.stderr


def test_vikor_constant_criterion_can_be_dropped(cli, tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("unit_id,a,b\n1,3,4\n2,3,2\n3,3,5\n")
    res = cli("score", p, "--method", "vikor", "--drop-constant", "--json")
    assert res.code == 0 and "'a' is constant" in res.stderr
    assert list(res.json()["weights"]) == ["b"]


def test_compare_json(cli):
    res = cli("compare", UNITS, "--methods", "topsis,vikor,ahp", "--weights", "preset:path-coefficients",
              "--samples", "200", "--seed", "3", "--top-k", "3", "--thresholds", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert doc["methods"] == ["topsis", "vikor", "ahp"]
    assert set(doc["correlations"]) == {"spearman", "weighted_spearman", "ws", "kendall"}
    assert doc["correlations"]["spearman"]["topsis"]["topsis"] == pytest.approx(1.0)
    acc = doc["acceptability"]["topsis"]
    assert acc["samples"] == 200 and acc["seed"] == 3 and acc["top_k"] == 3
    for unit in acc["units"].values():
        assert sum(unit["rank_shares"].values()) == pytest.approx(1.0)
        assert unit["top_k_share"] == pytest.approx(sum(v for r, v in unit["rank_shares"].items() if int(r) <= 3))
    assert set(doc["thresholds"]["ahp"]) == set(DIMENSIONS)
    # same seed, same answer
    again = cli("compare", UNITS, "--methods", "topsis,vikor,ahp", "--weights", "preset:path-coefficients",
                "--samples", "200", "--seed", "3", "--top-k", "3", "--json").json()
    assert again["acceptability"] == doc["acceptability"]


def test_compare_tables_and_errors(cli, tmp_path):
    res = cli("compare", UNITS, "--samples", "50")
    assert res.code == 0, res.stderr
    assert "Spearman" in res.stdout and "rank acceptability" in res.stdout
    bad = cli("compare", UNITS, "--methods", "topsis,electre")
    assert bad.code == 2 and "unknown method" in bad.stderr
    p = tmp_path / "u.csv"
    p.write_text("unit_id,a,b\n1,3,4\n2,5,oops\n")
    bad = cli("compare", p)
    assert bad.code == 2 and "u.csv: row 2, column 'b'" in bad.stderr
    assert cli("compare", UNITS, "--samples", "0").code == 2


DEMO = Path(__file__).resolve().parents[2] / "scenarios" / "demo" / "data" / "units.csv"
DEMO_INDICATORS = (
    "clinic_appearance=theme:13,structure_size=theme:14,structural_conditions=theme:15,"
    "physical_conditions=theme:16,academic_literacy=theme:17,training_courses=theme:18"
)


def test_demo_units_true_false_columns_are_not_criteria():
    """The demo units carry `synthetic` and `contracted` (true/false): neither is a criterion."""
    t = read_units_table(DEMO)
    assert "synthetic" not in t.columns and "contracted" not in t.columns
    assert "clinic_appearance" in t.columns  # an indicator column, numeric: a criterion unless aggregated


def test_demo_units_with_indicators_and_the_paper_preset(cli):
    """Physical factors and personnel come from theme indicators, as in the demo scenario.

    Hand check of one unit: physical = repetition-weighted mean of themes 13-16 (theme
    counts 4+5+4 = 13, 6+5+4 = 15, 7+6+7 = 20, 9+5+5 = 19 in seed 002, Table 2); personnel =
    themes 17 and 18 (6+6+5 = 17 and 7+5+4 = 16).
    """
    res = cli("score", DEMO, "--weights", "preset:path-coefficients", "--indicators", DEMO_INDICATORS, "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert set(doc["weights"]) == set(DIMENSIONS)
    assert doc["weights"]["physical"] == pytest.approx(0.33 / 4.10)
    assert "warning" not in res.stderr
    t = read_units_table(DEMO, indicators=dict(x.split("=") for x in DEMO_INDICATORS.split(",")))
    # first demo unit: clinic_appearance 53.8, structure_size 29.2, structural_conditions 41.8,
    # physical_conditions 23.9, academic_literacy 53.3, training_courses 49.5
    phys = (13 * 53.8 + 15 * 29.2 + 20 * 41.8 + 19 * 23.9) / (13 + 15 + 20 + 19)
    pers = (17 * 53.3 + 16 * 49.5) / (17 + 16)
    assert t.loc["SYN-LAB-0001", "physical"] == pytest.approx(phys)
    assert t.loc["SYN-LAB-0001", "personnel"] == pytest.approx(pers)
    api = score(t, resolve_weights("preset:path-coefficients", criteria=list(t.columns)).weights)
    assert doc["ranks"] == {u: int(r) for u, r in api.ranks.items()}


def test_demo_units_preset_without_indicators_says_how_to_fix(cli):
    res = cli("score", DEMO, "--weights", "preset:path-coefficients")
    assert res.code == 2 and "Traceback" not in res.stderr
    msg = " ".join(res.stderr.split())
    assert "units.csv: column 'clinic_appearance': preset:path-coefficients weights the ten dimensions" in msg
    assert "--criteria" in msg and "--indicators" in msg
    # a subset of dimensions is allowed, with a warning naming the absent ones
    res = cli("score", DEMO, "--weights", "preset:path-coefficients", "--criteria", "demographic,economic", "--json")
    assert res.code == 0, res.stderr
    assert res.json()["weights"] == pytest.approx({"demographic": 0.51 / 0.97, "economic": 0.46 / 0.97})
    assert "physical" in res.stderr and "rescaled" in res.stderr


def test_warnings_are_printed_literally_and_once(cli, tmp_path):
    """A criterion named like rich markup ('[b]') must appear as written; compare warns once, not per method."""
    p = tmp_path / "u.csv"
    p.write_text("unit_id,a,[b]\n1,3,4\n2,5,4\n3,4,4\n")
    res = cli("compare", p, "--methods", "topsis,ahp,promethee", "--json")
    assert res.code == 0, res.stderr
    assert res.stderr.count("criterion '[b]' has the same value for every unit") == 1
