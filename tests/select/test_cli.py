"""``optimizer select`` end to end on the example files (examples/select/).

The expected optimum is checked against a brute force over every subset of the 15
example units, with the coverage relation recomputed here from the haversine formula.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest


def _haversine(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(h))


def _brute(example_dir, budget, radius=15.0):
    u = pd.read_csv(example_dir / "units.csv", dtype={"unit_id": str})
    d = pd.read_csv(example_dir / "demand.csv", dtype={"demand_id": str})
    reach = _haversine(d.lon.to_numpy()[:, None], d.lat.to_numpy()[:, None], u.lon.to_numpy()[None, :], u.lat.to_numpy()[None, :]) <= radius
    keep = u.contracted.astype(str).str.lower().eq("true").to_numpy()
    banned = u.blacklisted.astype(str).str.lower().eq("true").to_numpy()
    free = [j for j in range(len(u)) if not keep[j] and not banned[j]]
    best = -1.0
    for k in range(len(free) + 1):
        for extra in itertools.combinations(free, k):
            sel = keep.copy()
            sel[list(extra)] = True
            if u.cost[sel].sum() <= budget:
                best = max(best, d.population[reach[:, sel].any(axis=1)].sum())
    return best


def test_select_json_matches_brute_force(cli, example_dir):
    budget = 400000
    res = cli(
        "select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv",
        "--radius-km", 15, "--budget", budget, "--must-keep", "contracted", "--exclude", "blacklisted", "--json",
    )
    assert res.code == 0, res.stderr
    out = res.json()
    for key in ("status", "selected", "total_cost", "covered_population", "coverage_share", "gap", "objective", "by_region", "model_size", "solve_time", "solver"):
        assert key in out
    assert out["status"] == "optimal" and out["gap"] == 0.0
    assert out["covered_population"] == pytest.approx(_brute(example_dir, budget))
    assert {"L01", "L06", "L11"} <= set(out["selected"])
    assert "L09" not in out["selected"]
    assert out["total_cost"] <= budget


def test_select_json_on_the_real_standard_output_is_only_json(example_dir):
    """In a real process (the in-process runner sees only Python's ``sys.stdout``), the
    ``--json`` output is the JSON document and nothing else: no solver banner written by
    native code to the process's standard output (highspy 1.16 prints its licence line
    when ``highspy.Highs()`` is constructed)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "optimizer", "select", "--units", str(example_dir / "units.csv"), "--demand", str(example_dir / "demand.csv"),
         "--radius-km", "15", "--budget", "400000", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.lstrip().startswith("{")
    assert json.loads(done.stdout)["status"] == "optimal"
    assert "Running HiGHS" not in done.stdout + done.stderr


def test_select_out_folder_and_floor(cli, example_dir, tmp_path):
    target = tmp_path / "run"
    res = cli(
        "select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv",
        "--radius-km", 15, "--budget", 500000, "--floor", 0.6, "--out", target,
    )
    assert res.code == 0, res.stderr
    assert "status" in res.stdout
    sel = pd.read_csv(target / "selection.csv")
    regions = pd.read_csv(target / "regions.csv")
    result = json.loads((target / "result.json").read_text())
    assert set(sel.unit_id[sel.selected]) == set(result["selected"])
    assert (regions.share >= 0.6 - 1e-9).all() and regions.floor_met.all()
    assert sel.reason.str.len().gt(0).all()
    again = cli("select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv", "--radius-km", 15, "--budget", 1, "--out", target)
    assert again.code == 2 and "already exists" in again.stderr


def test_select_infeasible_prints_json_and_exits_2(cli, example_dir):
    res = cli(
        "select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv",
        "--radius-km", 15, "--budget", 100000, "--must-keep", "contracted", "--json",
    )
    assert res.code == 2
    out = res.json()
    assert out["status"] == "infeasible"
    assert out["explanation"]["constraint"] == "budget"
    assert "infeasible" in res.stderr


def test_select_min_cost_greedy_and_distances(cli, example_dir, tmp_path):
    res = cli(
        "select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv",
        "--radius-km", 15, "--objective", "min-cost", "--target", 0.7, "--json",
    )
    assert res.code == 0, res.stderr
    out = res.json()
    assert out["status"] == "optimal" and out["coverage_share"] >= 0.7
    greedy = cli(
        "select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv",
        "--radius-km", 15, "--budget", 400000, "--solver", "greedy", "--json",
    ).json()
    assert greedy["status"] == "heuristic" and greedy["gap"] >= 0
    # a travel table: every pair listed with distance 1, max 1 -> everything in reach
    u = pd.read_csv(example_dir / "units.csv")
    d = pd.read_csv(example_dir / "demand.csv")
    od = pd.DataFrame(list(itertools.product(d.demand_id, u.unit_id)), columns=["demand_id", "unit_id"]).assign(distance=1.0)
    od.to_csv(tmp_path / "od.csv", index=False)
    full = cli(
        "select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv",
        "--distances", tmp_path / "od.csv", "--max-distance", 1, "--budget", 60000, "--json",
    ).json()
    assert full["coverage_share"] == pytest.approx(1.0)
    assert len(full["selected"]) == 1


def test_select_bad_input_names_file_and_column(cli, example_dir, tmp_path):
    u = pd.read_csv(example_dir / "units.csv", dtype={"cost": str})
    u.loc[3, "cost"] = "cheap"
    u.to_csv(tmp_path / "units.csv", index=False)
    res = cli("select", "--units", tmp_path / "units.csv", "--demand", example_dir / "demand.csv", "--radius-km", 15, "--budget", 1000, "--json")
    assert res.code == 2
    assert "units.csv" in res.stderr and "row 4" in res.stderr and "'cost'" in res.stderr
    assert res.stdout == ""
    res = cli("select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv", "--budget", 1000)
    assert res.code == 2 and "--radius-km" in res.stderr
    res = cli("select", "--units", example_dir / "units.csv", "--demand", example_dir / "demand.csv", "--radius-km", 15, "--budget", 1000, "--must-keep", "nope")
    assert res.code == 2 and "nope" in res.stderr
