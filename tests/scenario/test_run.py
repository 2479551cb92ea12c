"""End-to-end tests of ``optimizer run`` on the shipped demo: the run folder's contents.

Coverage is recomputed here independently of the package: great-circle distance by the
haversine formula (R = 6371.0088 km, the IUGG mean Earth radius), each demand point
covered for a service when a unit of that service lies within the scenario's reach for
the point's kind, services weighted equally (the demo's ``service_weights``).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from optimizer.scenario import load_scenario

from .conftest import (
    DEMO_DATA,
    REACH_BASE,
    REACH_DATA,
    REACH_DEMO,
    REACH_EQUITY,
    run_cli,
    write_scenario,
)

# What issue 5 asks of each file (every unit: score, rank, eligible, selected, cost, region,
# marginal coverage, why; every region before and after: population, units, units per
# 100,000, covered share, accessibility, floor met).
SELECTION_COLUMNS = ["score", "rank", "eligible", "selected", "cost", "region", "marginal_coverage", "reason", "status"]
REGION_COLUMNS = ["population", "units_before", "units_after", "units_per_100k_before", "units_per_100k_after", "covered_share_before", "covered_share_after", "access_2sfca_before", "access_2sfca_after", "floor", "floor_met"]


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance (km) between every pair, shape (len(1), len(2))."""
    p1, p2 = np.radians(lat1)[:, None], np.radians(lat2)[None, :]
    dphi = p2 - p1
    dlam = np.radians(lon2)[None, :] - np.radians(lon1)[:, None]
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


def covered_population(units: pd.DataFrame, demand: pd.DataFrame, mask: np.ndarray, reach: dict) -> float:
    """Service-weighted covered population of the units in ``mask`` (independent check)."""
    services = sorted(units["service"].unique())
    share = np.zeros(len(demand))
    for service in services:
        chosen = units[mask & (units["service"] == service).to_numpy()]
        if chosen.empty:
            continue
        d = haversine_km(demand["lon"].to_numpy(), demand["lat"].to_numpy(), chosen["lon"].to_numpy(), chosen["lat"].to_numpy())
        limit = demand["kind"].map(reach[service]).to_numpy()[:, None]
        share += (d <= limit).any(axis=1) / len(services)
    return float((share * demand["population"].to_numpy()).sum())


@pytest.fixture(scope="module")
def demo_inputs():
    units = pd.read_csv(DEMO_DATA / "units.csv", dtype={"unit_id": str}).set_index("unit_id")
    demand = pd.read_csv(DEMO_DATA / "demand.csv", dtype={"demand_id": str, "region": str}).set_index("demand_id")
    reach = {"lab": {"urban": 10.0, "rural": 25.0}, "imaging": {"urban": 20.0, "rural": 50.0}}
    return units, demand, reach


def test_selection_csv_lists_every_unit_with_its_result(demo_run, demo_inputs):
    units, _, _ = demo_inputs
    sel = demo_run.selection
    assert set(sel.index) == set(units.index)
    assert [c for c in SELECTION_COLUMNS if c not in sel.columns] == []
    assert sel["selected"].dtype == bool and sel["contracted"].dtype == bool
    assert (sel["contracted"] == units.loc[sel.index, "contracted"]).all()
    # rank 1 = best score (TOPSIS closeness, higher is better)
    assert sel["score"].idxmax() in set(sel.index[sel["rank"] == 1])
    # eligibility = the demo's minimum score 0.3
    np.testing.assert_array_equal(sel["eligible"].to_numpy(), (sel["quality"] >= 0.3).to_numpy())
    assert not sel.loc[~sel["eligible"], "selected"].any()
    assert sel["reason"].str.startswith("selected").eq(sel["selected"]).all()
    status = np.select(
        [sel["contracted"] & sel["selected"], sel["contracted"] & ~sel["selected"], sel["selected"]],
        ["kept", "dropped", "added"],
        "not contracted",
    )
    assert (sel["status"] == status).all()


def test_cost_within_budget_and_equal_to_summary(demo_run):
    sel, summary = demo_run.selection, demo_run.summary
    cost = float(sel.loc[sel["selected"], "cost"].sum())
    assert cost <= summary["budget"] + 1e-9
    assert cost == pytest.approx(summary["total_cost"], rel=1e-12)
    assert sorted(summary["selected"]) == sorted(sel.index[sel["selected"]])


def test_covered_population_recomputed_from_selection_and_demand(demo_run, demo_inputs):
    units, demand, reach = demo_inputs
    sel, summary = demo_run.selection, demo_run.summary
    mask = units.index.isin(sel.index[sel["selected"]])
    after = covered_population(units, demand, mask, reach)
    assert summary["covered_population"] == pytest.approx(after, rel=1e-12)
    assert summary["coverage_share"] == pytest.approx(after / demand["population"].sum(), rel=1e-12)
    before = covered_population(units, demand, units["contracted"].to_numpy(), reach)
    assert summary["figures"]["covered_population_before"] == pytest.approx(before, rel=1e-12)
    # the optimum covers at least as many people as the greedy-free "keep what we have" when affordable
    if summary["figures"]["cost_before"] <= summary["budget"]:
        assert after >= before


def test_regions_csv_has_every_region_before_and_after(demo_run, demo_inputs):
    import geopandas as gpd

    units, demand, reach = demo_inputs
    regions = demo_run.regions
    polygons = gpd.read_file(DEMO_DATA / "regions.geojson")
    assert set(regions.index) == set(polygons["region_id"])
    assert [c for c in REGION_COLUMNS if c not in regions.columns] == []
    pop = demand.groupby("region")["population"].sum()
    np.testing.assert_allclose(regions.loc[pop.index, "population"], pop.to_numpy())
    sel = demo_run.selection
    after_counts = sel[sel["selected"]].groupby("region").size().reindex(regions.index, fill_value=0)
    before_counts = sel[sel["contracted"]].groupby("region").size().reindex(regions.index, fill_value=0)
    np.testing.assert_array_equal(regions["units_after"], after_counts)
    np.testing.assert_array_equal(regions["units_before"], before_counts)
    np.testing.assert_allclose(regions["units_per_100k_after"], regions["units_after"] / regions["population"] * 1e5)
    # population-weighted covered shares add up to the overall coverage before and after
    total = regions["population"].sum()
    assert (regions["covered_share_after"] * regions["population"]).sum() / total == pytest.approx(
        demo_run.summary["coverage_share"], rel=1e-9
    )
    assert (regions["covered_share_before"] * regions["population"]).sum() / total == pytest.approx(
        demo_run.summary["figures"]["coverage_share_before"], rel=1e-9
    )
    assert regions["covered_share_after"].between(0, 1).all()


def test_summary_records_scenario_hashes_versions_status_gap_timings(demo_run):
    s = demo_run.summary
    assert s["scenario"]["name"] == "demo"
    assert s["scenario"]["resolved"]["selection"]["budget"] == 65000
    credits = s["scenario"]["resolved"]["credits"]
    assert "GeoNames" in credits and "CC BY 4.0" in credits and "OpenStreetMap contributors" in credits
    assert "OpenStreetMap contributors, ODbL" in (demo_run.folder / "report.html").read_text(encoding="utf-8")
    units_file = str((REACH_DATA / "units.csv").resolve())
    assert s["inputs"][units_file] == hashlib.sha256((REACH_DATA / "units.csv").read_bytes()).hexdigest()
    assert str(REACH_BASE.resolve()) in s["inputs"] and str(REACH_DEMO.resolve()) in s["inputs"]
    for package in ("optimizer", "python", "numpy", "pandas", "pulp", "highspy", "pymcdm"):
        assert s["versions"][package]
    assert s["status"] == "optimal"
    assert s["gap"] == pytest.approx(0.0, abs=1e-9)
    assert s["solver"] == "highs"
    assert s["timings"]["total"] > 0 and "select" in s["timings"] and "write" in s["timings"]
    assert set(s["weights"]) == {
        "demographic", "economic", "culturalization", "specialization", "physical",
        "personnel", "performance", "marketing", "satisfaction", "external",
    }  # fmt: skip
    assert sum(s["weights"].values()) == pytest.approx(1.0)
    # the path-coefficient preset of seed 002 (Table 4): beta_demographic / sum(beta) = 0.51 / 4.10
    assert s["weights"]["demographic"] == pytest.approx(0.51 / 4.10)


def test_gpkg_holds_units_regions_and_demand_layers(demo_run):
    import geopandas as gpd
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(demo_run.folder / "selection.gpkg")}
    assert layers == {"units", "regions", "demand"}
    units = gpd.read_file(demo_run.folder / "selection.gpkg", layer="units")
    assert len(units) == len(demo_run.selection)
    assert int(units["selected"].sum()) == int(demo_run.selection["selected"].sum())
    regions = gpd.read_file(demo_run.folder / "selection.gpkg", layer="regions")
    assert set(regions["region"]) == set(demo_run.regions.index)


def test_second_run_to_same_folder_fails_and_keeps_the_first(demo_run, capsys):
    before = (demo_run.folder / "summary.json").read_bytes()
    code = run_cli("run", REACH_DEMO, "--out", demo_run.folder, "--quiet")
    assert code == 2
    assert "already exists" in capsys.readouterr().err
    assert (demo_run.folder / "summary.json").read_bytes() == before


def test_force_replaces_an_existing_folder(tmp_path, fast_demo):
    folder = tmp_path / "out" / "run"
    folder.mkdir(parents=True)
    (folder / "old.txt").write_text("from an earlier run")
    assert run_cli("run", fast_demo, "--out", folder, "--quiet", "--force") == 0
    assert not (folder / "old.txt").exists()
    assert (folder / "summary.json").is_file() and (folder / "selection.csv").is_file()
    assert not (folder / "report.html").exists()  # [outputs] report = false
    assert [p.name for p in folder.parent.iterdir()] == ["run"]  # no temporary folder left


def test_json_prints_the_summary(cli, tmp_path, fast_demo):
    res = cli("run", fast_demo, "--out", tmp_path / "r", "--quiet", "--json")
    assert res.code == 0
    doc = res.json()
    on_disk = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert doc["run_folder"] == str(tmp_path / "r")
    assert doc["total_cost"] == on_disk["total_cost"] and doc["selected"] == on_disk["selected"]


def test_run_without_scenario_runs_the_demo_into_runs(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = cli("run", "--quiet")
    assert res.code == 0
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("demo-")
    assert json.loads((folders[0] / "summary.json").read_text())["scenario"]["name"] == "demo"


def test_equity_variant_extends_the_demo_and_meets_its_floors(tmp_path):
    """The shipped variant ``equity.toml`` keeps current contracts and sets a 50 % floor."""
    from optimizer.pipeline import run_scenario

    scenario = load_scenario(REACH_EQUITY)
    assert scenario.units.file == (REACH_DATA / "units.csv").resolve()  # from the base
    assert scenario.selection.min_score == 0.25  # overridden
    assert scenario.selection.objective == "coverage"  # kept from the base
    assert scenario.scoring.weights == "preset:path-coefficients"  # kept from the base
    assert scenario.selection.budget == 75000  # overridden
    run = run_scenario(scenario)
    assert run.selection.status == "optimal"
    assert run.units.loc[run.units["contracted"], "selected"].all()
    assert (run.regions["covered_share_after"] >= 0.5 - 1e-9).all()
    assert run.regions["floor_met"].eq(True).all()


def test_infeasible_scenario_exits_2_and_writes_nothing(cli, tmp_path):
    path = write_scenario(
        tmp_path,
        f'extends = "{REACH_DEMO.as_posix()}"\nname = "impossible"\n[selection]\nbudget = 1000\nfloors = 1.0\n',
    )
    out = tmp_path / "out" / "run"
    res = cli("run", path, "--out", out, "--quiet")
    assert res.code == 2
    assert "infeasible" in res.stderr
    assert not out.exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_travel_table_and_precomputed_score(cli, tmp_path):
    """A tiny scenario with a travel table: coverage follows the table, not the map."""
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame(
        {
            "unit_id": ["a", "b", "c"],
            "lon": [51.0, 51.0, 51.0],
            "lat": [35.0, 35.0, 35.0],
            "cost": [10.0, 10.0, 15.0],
            "score": [0.9, 0.5, 0.7],
        }
    ).to_csv(data / "units.csv", index=False)
    pd.DataFrame(
        {"demand_id": ["p", "q", "r"], "lon": [51.0] * 3, "lat": [35.0] * 3, "population": [100, 200, 400], "region": ["R1", "R1", "R2"]}
    ).to_csv(data / "demand.csv", index=False)
    pd.DataFrame(
        {"demand_id": ["p", "q", "r", "r"], "unit_id": ["a", "b", "c", "a"], "distance": [5.0, 5.0, 5.0, 50.0]}
    ).to_csv(data / "od.csv", index=False)
    path = write_scenario(
        tmp_path,
        'name = "tiny"\n[units]\nfile = "data/units.csv"\nscore = "score"\n[demand]\nfile = "data/demand.csv"\n'
        '[travel]\nfile = "data/od.csv"\nmax_distance = 30\n[selection]\nbudget = 25\n[outputs]\nreport = false\ngpkg = false\n',
    )
    res = cli("run", path, "--out", tmp_path / "run", "--quiet", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    # brute force: {b, c} covers q + r = 600 people for 25; {a, c} covers 500; {a, b} 300
    assert sorted(doc["selected"]) == ["b", "c"]
    assert doc["covered_population"] == 600
    sel = pd.read_csv(tmp_path / "run" / "selection.csv").set_index("unit_id")
    assert sel.loc["a", "rank"] == 1 and sel.loc["b", "rank"] == 3
    assert not (tmp_path / "run" / "report.html").exists()


def test_force_with_a_failing_run_keeps_the_old_folder(cli, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "old.txt").write_text("from an earlier run")
    path = write_scenario(tmp_path / "s", f'extends = "{REACH_DEMO.as_posix()}"\nname = "x"\n[selection]\nbudget = 1000\nfloors = 1.0\n')
    res = cli("run", path, "--out", folder, "--quiet", "--force")
    assert res.code == 2
    assert (folder / "old.txt").read_text() == "from an earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "s"]
