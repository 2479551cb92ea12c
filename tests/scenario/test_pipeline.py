"""The pipeline's Python API on small hand-made scenarios (no shipped data needed).

Expected selections are found by brute force over all subsets in the test itself.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
import shapely

from optimizer.errors import InputErrors
from optimizer.pipeline import default_out_dir, run_scenario, write_run
from optimizer.scenario import load_scenario

from .conftest import write_scenario

# Four settlements on the equator 0, 0.1, 0.2 and 1 degree east (about 11.1 km apart,
# the last 111 km away); five units; reach 6 km: a unit covers only its own settlement.
DEMAND = pd.DataFrame(
    {
        "demand_id": ["d1", "d2", "d3", "d4"],
        "lon": [0.0, 0.1, 0.2, 1.0],
        "lat": [0.0, 0.0, 0.0, 0.0],
        "population": [1000, 3000, 500, 2500],
    }
)
UNITS = pd.DataFrame(
    {
        "unit_id": ["u1", "u2", "u3", "u4", "u5"],
        "lon": [0.0, 0.1, 0.2, 1.0, 0.1],
        "lat": [0.0, 0.0, 0.0, 0.0, 0.0],
        "cost": [10.0, 25.0, 5.0, 20.0, 15.0],
        "contracted": [True, False, True, False, False],
        "q1": [5.0, 7.0, 3.0, 9.0, 6.0],
        "q2": [2.0, 8.0, 6.0, 5.0, 4.0],
    }
)


def brute_force(budget: float) -> float:
    reach = {"u1": "d1", "u2": "d2", "u3": "d3", "u4": "d4", "u5": "d2"}
    pop = dict(zip(DEMAND["demand_id"], DEMAND["population"], strict=True))
    cost = dict(zip(UNITS["unit_id"], UNITS["cost"], strict=True))
    best = 0.0
    for k in range(len(reach) + 1):
        for subset in itertools.combinations(reach, k):
            if sum(cost[u] for u in subset) <= budget:
                best = max(best, sum(pop[d] for d in {reach[u] for u in subset}))
    return best


@pytest.fixture
def tiny(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    DEMAND.to_csv(data / "demand.csv", index=False)
    UNITS.to_csv(data / "units.csv", index=False)
    return tmp_path


def scenario_text(budget: float, extra: str = "") -> str:
    """A tiny scenario; ``extra`` lines go into its ``[selection]`` table."""
    return (
        'name = "tiny"\n[units]\nfile = "data/units.csv"\n[demand]\nfile = "data/demand.csv"\n'
        '[criteria]\ncolumns = ["q1", "q2"]\n[scoring]\nweights = "equal"\n'
        f"[reach]\ndefault_km = 6\n[selection]\nbudget = {budget}\n{extra}[outputs]\nreport = false\n"
    )


@pytest.mark.parametrize("budget", [0, 10, 30, 45, 100])
def test_covered_population_equals_brute_force(tiny, budget):
    path = write_scenario(tiny, scenario_text(budget))
    run = run_scenario(load_scenario(path))
    assert run.selection.covered_population == brute_force(budget)
    assert run.figures["covered_population_after"] == brute_force(budget)
    # before = the current contracts u1 and u3: d1 + d3
    assert run.figures["covered_population_before"] == 1500
    assert run.units["cost"][run.units["selected"]].sum() <= budget
    assert len(run.regions) == 0  # no region column and no polygons: no regions


def test_more_budget_never_lowers_coverage(tiny):
    shares = [run_scenario(load_scenario(write_scenario(tiny, scenario_text(b), f"b{b}.toml"))).figures["coverage_share_after"] for b in (5, 15, 25, 35, 60)]
    assert shares == sorted(shares)


def test_points_outside_every_polygon_are_reported_not_dropped(tiny):
    import geopandas as gpd

    polygons = gpd.GeoDataFrame(
        {"region_id": ["W", "E"], "name": ["West", "East"]},
        geometry=[shapely.box(-0.05, -1, 0.15, 1), shapely.box(0.15, -1, 0.5, 1)],
        crs="EPSG:4326",
    )
    polygons.to_file(tiny / "data" / "regions.geojson", driver="GeoJSON")
    path = write_scenario(tiny, scenario_text(100, "") + '[regions]\nfile = "data/regions.geojson"\n')
    run = run_scenario(load_scenario(path))
    assert any("outside every region" in w for w in run.warnings)
    assert pd.isna(run.demand.loc["d4", "region"])  # kept, with no region
    assert run.selection.covered_population == 7000  # d4 still counts
    np.testing.assert_allclose(run.regions.loc[["W", "E"], "population"], [4000, 500])
    assert run.regions.loc["W", "name"] == "West"


def test_failure_while_writing_leaves_no_folder(tiny, monkeypatch):
    path = write_scenario(tiny, scenario_text(30).replace("report = false", "report = true"))
    run = run_scenario(load_scenario(path))

    def broken(folder, run):
        (folder / "report.html").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr("optimizer.report.write_report", broken)
    target = tiny / "out" / "run"
    with pytest.raises(RuntimeError, match="disk full"):
        write_run(run, target)
    assert not target.exists()
    assert list((tiny / "out").iterdir()) == []


def test_write_run_and_default_folder_names(tiny):
    scenario = load_scenario(write_scenario(tiny, scenario_text(30)))
    run = run_scenario(scenario)
    first = default_out_dir(scenario, root=tiny / "runs", now=pd.Timestamp("2026-11-22 10:00:00").to_pydatetime())
    assert first.name == "tiny-20261122-100000"
    write_run(run, first)
    second = default_out_dir(scenario, root=tiny / "runs", now=pd.Timestamp("2026-11-22 10:00:00").to_pydatetime())
    assert second.name == "tiny-20261122-100000-2"
    summary = json.loads((first / "summary.json").read_text())
    assert summary["covered_population"] == brute_force(30)
    sel = pd.read_csv(first / "selection.csv").set_index("unit_id")
    assert set(sel.index) == set(UNITS["unit_id"])


def test_run_scenario_raises_every_input_problem(tiny):
    UNITS.assign(cost=["x", 1, 2, 3, 4]).to_csv(tiny / "data" / "units.csv", index=False)
    path = write_scenario(tiny, scenario_text(30, 'exclude = ["nope"]\n'))
    with pytest.raises(InputErrors) as info:
        run_scenario(load_scenario(path))
    text = str(info.value)
    assert "column 'cost': expected a number, found 'x'" in text
    assert "key 'selection.exclude'" in text


def test_ratio_standards_per_region_follow_the_majority_kind():
    """A region's standard is its majority kind's; per-service values add up."""
    from optimizer.validate_scenario import ratio_per_region

    demand = pd.DataFrame(
        {
            "region": ["A", "A", "B", "B", "C"],
            "kind": ["urban", "rural", "rural", "rural", None],
            "population": [900.0, 100.0, 50.0, 60.0, 10.0],
        }
    )
    standards = {"urban": {"lab": 2.0, "imaging": 1.0}, "rural": 0.5, "default": 0.25}
    units = pd.DataFrame({"service": ["lab", "imaging"]})
    assert ratio_per_region(standards, demand, units) == {"A": 3.0, "B": 0.5, "C": 0.25}
    assert ratio_per_region({"urban": 1.0}, demand, pd.DataFrame()) == {"A": 1.0}
    assert ratio_per_region(None, demand, pd.DataFrame()) is None


def test_progress_is_shown_unless_quiet(cli, tmp_path, fast_demo):
    res = cli("run", fast_demo, "--out", tmp_path / "a")
    assert res.code == 0
    assert "- selecting contracts" in res.stderr and "coverage share" in res.stdout
    res = cli("run", fast_demo, "--out", tmp_path / "b", "--quiet")
    assert res.code == 0
    assert res.stdout == "" and "selecting" not in res.stderr


def test_ratio_standard_for_an_unknown_service_is_reported(cli, tmp_path):
    from .conftest import REACH_DEMO as DEMO

    path = write_scenario(
        tmp_path, f'extends = "{DEMO.as_posix()}"\nname = "r"\n[selection]\nratio_standards = {{ urban = {{ dental = 1.0 }} }}\n'
    )
    res = cli("validate", path)
    assert res.code == 2
    assert "key 'selection.ratio_standards': expected services among ['imaging', 'lab'], found ['dental']" in res.stderr


def test_ratio_standards_appear_in_the_regions_table(tiny):
    """With ``ratio_standards = {default = 40}`` (units per 100,000 people) region R1
    (4,500 people) needs ceil(1.8) = 2 units and R2 (2,500 people) ceil(1.0) = 1; the
    regions table states both and whether the selection meets them."""
    DEMAND.assign(region=["R1", "R1", "R1", "R2"]).to_csv(tiny / "data" / "demand.csv", index=False)
    UNITS.assign(region=["R1", "R1", "R1", "R2", "R1"]).to_csv(tiny / "data" / "units.csv", index=False)
    run = run_scenario(load_scenario(write_scenario(tiny, scenario_text(40, "ratio_standards = { default = 40.0 }\n"))))
    regions = run.regions
    assert regions["units_required"].tolist() == [2, 1]
    assert (regions["units_after"] >= regions["units_required"]).all() and regions["ratio_met"].tolist() == [True, True]
    plain = run_scenario(load_scenario(write_scenario(tiny, scenario_text(40), name="plain.toml")))
    assert "units_required" not in plain.regions.columns
