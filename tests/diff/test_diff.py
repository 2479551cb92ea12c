"""``optimizer diff``: units and regions that changed between two run folders.

The run folders here are written by hand (the files ``optimizer run`` writes:
``selection.csv``, ``regions.csv``, ``summary.json``), so every expected change is known;
the expected deltas are computed by hand in each test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.diff import diff_runs
from optimizer.errors import InputError

REACH_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_reach.toml"  # the demo, capacities off


def write_run(folder: Path, selection: pd.DataFrame, regions: pd.DataFrame, figures: dict) -> Path:
    folder.mkdir(parents=True)
    selection.to_csv(folder / "selection.csv", index_label="unit_id")
    regions.to_csv(folder / "regions.csv", index_label="region")
    summary = {"scenario": {"name": folder.name}, "figures": figures, "timings": {"total": float(len(folder.name))}}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


@pytest.fixture
def runs(tmp_path):
    ids = ["007", "7", "u3", "u4"]
    sel_a = pd.DataFrame({"score": [0.9, 0.8, 0.5, 0.4], "rank": [1, 2, 3, 4], "selected": [True, True, False, False]}, index=ids)
    sel_b = sel_a.copy()
    sel_b.loc["7", "selected"] = False  # leaves
    sel_b.loc["u3", "selected"] = True  # enters
    sel_b.loc["u4", ["score", "rank"]] = [0.6, 3]  # score and rank move, still not selected
    sel_b.loc["u3", "rank"] = 4
    sel_b = pd.concat([sel_b, pd.DataFrame({"score": [0.1], "rank": [5], "selected": [False]}, index=["u5"])])
    reg_a = pd.DataFrame(
        {"name": ["North", "South"], "population": [1000, 500], "units_after": [2, 0], "covered_share_after": [0.8, 0.0], "floor_met": [True, False]},
        index=["R1", "R2"],
    )
    reg_b = reg_a.copy()
    reg_b.loc["R2", ["units_after", "covered_share_after"]] = [1, 0.6]
    reg_b.loc["R2", "floor_met"] = True
    fig_a = {"total_cost": 100.0, "coverage_share_after": 0.53, "status": "optimal", "units_contracted": 2}
    fig_b = {"total_cost": 90.0, "coverage_share_after": 0.73, "status": "optimal", "units_contracted": 2}
    a = write_run(tmp_path / "run_a", sel_a, reg_a, fig_a)
    b = write_run(tmp_path / "run_b", sel_b, reg_b, fig_b)
    return a, b


def test_units_that_changed(runs):
    d = diff_runs(*runs)
    assert d.entered == ("u3",) and d.left == ("7",)
    assert d.units["change"].to_dict() == {"7": "left", "u3": "entered", "u4": "score/rank", "u5": "only in B"}
    assert "007" not in d.units.index  # ids are text: 007 and 7 are different units
    np.testing.assert_allclose(d.units.at["u4", "score_delta"], 0.2)
    assert d.units.at["u4", "rank_delta"] == -1
    assert d.units.at["u3", "rank_delta"] == 1
    assert pd.isna(d.units.at["u5", "score_a"]) and d.units.at["u5", "score_b"] == pytest.approx(0.1)


def test_regions_and_summary(runs):
    d = diff_runs(*runs)
    assert list(d.regions.index) == ["R2"]
    r2 = d.regions.loc["R2"]
    assert r2["units_after_delta"] == 1
    np.testing.assert_allclose(r2["covered_share_after_delta"], 0.6)
    assert (r2["floor_met_a"], r2["floor_met_b"]) == ("false", "true")
    np.testing.assert_allclose(d.summary.loc["total_cost", "delta"], -10.0)
    np.testing.assert_allclose(d.summary.loc["coverage_share_after", "delta"], 0.2)
    assert "status" not in d.summary.index  # text figures are not deltas
    assert "total" not in d.summary.index  # timings differ between reruns and are not figures
    assert not d.identical


def test_a_run_against_itself_is_identical(runs):
    d = diff_runs(runs[0], runs[0])
    assert d.identical and d.units.empty and d.regions.empty
    assert (d.summary["delta"] == 0).all()


def test_not_a_run_folder(tmp_path, runs):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="expected a run folder.*missing selection.csv, regions.csv, summary.json"):
        diff_runs(empty, runs[1])
    with pytest.raises(InputError, match="does not exist"):
        diff_runs(runs[0], tmp_path / "nowhere")
    (runs[0] / "summary.json").write_text("{not json")
    with pytest.raises(InputError, match="expected a JSON summary"):
        diff_runs(*runs)


def test_bad_selection_flag(runs):
    sel = pd.read_csv(runs[1] / "selection.csv", dtype=str)
    sel.loc[1, "selected"] = "maybe"
    sel.to_csv(runs[1] / "selection.csv", index=False)
    with pytest.raises(InputError, match="row 2, column 'selected': expected true or false, found 'maybe'"):
        diff_runs(*runs)


def test_cli_diff(cli, runs, tmp_path):
    res = cli("diff", *runs, "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    assert doc["entered"] == ["u3"] and doc["left"] == ["7"]
    assert {r["region"] for r in doc["regions"]} == {"R2"}
    assert doc["summary"]["total_cost"] == {"a": 100.0, "b": 90.0, "delta": -10.0}
    text = cli("diff", *runs)
    assert text.code == 0 and "Units that changed" in text.stdout and "u3" in text.stdout
    bad = cli("diff", runs[0], tmp_path)
    assert bad.code == 2 and "expected a run folder" in bad.stderr


def test_diff_of_two_demo_runs(cli, tmp_path):
    """End to end: the demo at its budget against a variant with a 1/3 budget cut
    (``extends`` the demo). Coverage can only fall, units only leave on balance, and
    the key-figure deltas are the differences of the two summaries."""

    variant = tmp_path / "cut.toml"
    variant.write_text(f'extends = "{REACH_DEMO.as_posix()}"\nname = "demo-cut"\n[selection]\nbudget = 40000\n')
    a, b = tmp_path / "full", tmp_path / "cut"
    assert cli("run", REACH_DEMO, "--out", a, "--quiet").code == 0
    res = cli("run", variant, "--out", b, "--quiet")
    assert res.code == 0, res.stderr
    d = diff_runs(a, b)
    sa = json.loads((a / "summary.json").read_text())["figures"]
    sb = json.loads((b / "summary.json").read_text())["figures"]
    np.testing.assert_allclose(d.summary.loc["total_cost", "delta"], sb["total_cost"] - sa["total_cost"])
    assert d.summary.loc["coverage_share_after", "delta"] < 0
    sel_a = pd.read_csv(a / "selection.csv", dtype={"unit_id": str}, index_col="unit_id")["selected"]
    sel_b = pd.read_csv(b / "selection.csv", dtype={"unit_id": str}, index_col="unit_id")["selected"]
    assert set(d.left) == set(sel_a.index[sel_a & ~sel_b])
    assert set(d.entered) == set(sel_b.index[sel_b & ~sel_a])
    assert len(d.left) > len(d.entered)
    assert (d.units["score_delta"].fillna(0).abs() < 1e-9).all()  # same scoring, only the budget changed
    reg_a = pd.read_csv(a / "regions.csv", dtype={"region": str}, index_col="region")
    reg_b = pd.read_csv(b / "regions.csv", dtype={"region": str}, index_col="region")
    moved = (reg_b["covered_share_after"] - reg_a["covered_share_after"]).abs() > 1e-9
    moved |= reg_b["units_after"] != reg_a["units_after"]
    assert set(d.regions.index) >= set(reg_a.index[moved])
    assert cli("diff", a, a, "--json").json()["identical"] is True
