"""Travel tables end to end: cache, cut-offs per service and kind, CLI and scenario runs."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.geo.coverage import Reach
from optimizer.geo.io import load_demand, load_units
from optimizer.geo.roads import RoadOptions
from optimizer.geo.travel import PointsOffNetwork, RoadSource, compute_travel, coverage_from_travel

HELSINKI = Path(__file__).resolve().parents[2] / "examples" / "helsinki"


@pytest.fixture
def points():
    return load_demand(HELSINKI / "demand.csv"), load_units(HELSINKI / "units.csv")


def test_cache_is_reused_and_keyed_by_options(points, tmp_path):
    demand, units = points
    source = RoadSource(HELSINKI / "Helsinki.osm.pbf")
    first = compute_travel(source, demand, units, 5.0, cache_dir=tmp_path)
    second = compute_travel(source, demand, units, 5.0, cache_dir=tmp_path)
    assert not first.cached and second.cached and first.key == second.key
    pd.testing.assert_frame_equal(first.pairs, second.pairs)
    slower = compute_travel(RoadSource(source.extract, RoadOptions(offroad_kmh=2.0)), demand, units, 5.0, cache_dir=tmp_path)
    assert slower.key != first.key and not slower.cached
    assert len(slower.pairs) < len(first.pairs)  # a slower walk to and from the roads reaches fewer points
    assert len(list(tmp_path.glob("travel-*.parquet"))) == 2
    assert first.pairs["minutes"].max() <= 5.0 and len(first.pairs) > 500


def test_larger_cut_off_is_a_superset_with_equal_times(points):
    demand, units = points
    source = RoadSource(HELSINKI / "Helsinki.osm.pbf")
    small = compute_travel(source, demand, units, 3.0).pairs.set_index(["demand_id", "unit_id"])["minutes"]
    large = compute_travel(source, demand, units, 6.0).pairs.set_index(["demand_id", "unit_id"])["minutes"]
    assert set(small.index) <= set(large.index)
    np.testing.assert_array_equal(large.loc[small.index].to_numpy(), small.to_numpy())
    np.testing.assert_array_equal(large[large <= 3.0].sort_index().to_numpy(), small.sort_index().to_numpy())


def test_coverage_cut_offs_per_service_and_kind(points):
    demand, units = points
    kinds = np.where(np.arange(len(demand)) % 2 == 0, "urban", "rural")
    demand = type(demand)(demand.ids, demand.lon, demand.lat, demand.population, demand.need, demand.frame.assign(kind=kinds), demand.source)
    table = compute_travel(RoadSource(HELSINKI / "Helsinki.osm.pbf"), demand, units, 6.0)
    reach = Reach(default=3.0, by_service={"imaging": {"rural": 6.0, "default": 4.0}})
    cov = coverage_from_travel(table, demand, units, reach)
    service = units.frame["service"].reindex(table.pairs["unit_id"]).to_numpy()
    kind = pd.Series(kinds, index=demand.ids).reindex(table.pairs["demand_id"]).to_numpy()
    limit = np.where(service == "imaging", np.where(kind == "rural", 6.0, 4.0), 3.0)
    expected = table.pairs[table.pairs["minutes"].to_numpy() <= limit]
    got = {(demand.ids[i], units.ids[j]) for i in range(cov.n_demand) for j in cov.units_reaching(i)}
    assert got == set(zip(expected["demand_id"], expected["unit_id"], strict=True))
    assert cov.n_pairs < len(table.pairs)


def test_demand_points_far_from_roads_are_reported(points):
    demand, units = points
    far = type(demand)(demand.ids, demand.lon.copy(), demand.lat.copy(), demand.population, demand.need, demand.frame, demand.source)
    far.lat[:3] += 0.05  # about 5.5 km north, off the extract's roads
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = compute_travel(RoadSource(HELSINKI / "Helsinki.osm.pbf", RoadOptions(snap_max_m=1500)), far, units, 5.0)
    assert list(table.off_network) == list(demand.ids[:3])
    assert any(issubclass(w.category, PointsOffNetwork) for w in caught)
    assert not set(table.pairs["demand_id"]) & set(demand.ids[:3])


def test_cli_travel_then_select_with_distances_equals_select_with_roads(cli, tmp_path):
    args = ["--units", HELSINKI / "units.csv", "--demand", HELSINKI / "demand.csv"]
    extract = HELSINKI / "Helsinki.osm.pbf"
    r = cli("travel", *args, "--roads", extract, "--minutes", "4", "--out", tmp_path / "t.parquet", "--json")
    assert r.code == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["pairs"] == len(pd.read_parquet(tmp_path / "t.parquet")) > 0
    by_table = cli("select", *args, "--budget", "150000", "--distances", tmp_path / "t.parquet", "--max-distance", "4", "--json")
    by_roads = cli("select", *args, "--budget", "150000", "--roads", extract, "--minutes", "4", "--json")
    assert by_table.code == by_roads.code == 0, by_roads.stderr
    a, b = json.loads(by_table.stdout), json.loads(by_roads.stdout)
    assert a["selected"] == b["selected"] and a["covered_population"] == b["covered_population"] > 0
    again = cli("travel", *args, "--roads", extract, "--minutes", "4", "--out", tmp_path / "t.parquet")
    assert again.code == 2 and "--force" in again.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--roads", "X", "--out", "t.parquet"], "expected --minutes"),
        (["--minutes", "5", "--out", "t.parquet"], "expected one of --roads, --friction or --landcover"),
        (["--roads", "X", "--minutes", "5"], "expected --out"),
        (["--roads", "X", "--minutes", "5", "--out", "t.parquet", "--road-speed", "motorwayz=90"], "unknown class 'motorwayz'"),
        (["--landcover", "X", "--minutes", "5", "--out", "t.parquet"], "expected --speeds"),
    ],
)
def test_cli_travel_bad_options_exit_2(cli, tmp_path, extra, message):
    extra = [str(HELSINKI / "Helsinki.osm.pbf") if e == "X" else (str(tmp_path / e) if e == "t.parquet" else e) for e in extra]
    r = cli("travel", "--units", HELSINKI / "units.csv", "--demand", HELSINKI / "demand.csv", *extra)
    assert r.code == 2 and message in r.stderr, r.stderr


def test_unit_too_far_from_any_road_is_an_error(cli, tmp_path):
    units = pd.read_csv(HELSINKI / "units.csv")
    units.loc[0, "lat"] += 0.2
    units.to_csv(tmp_path / "u.csv", index=False)
    r = cli("travel", "--units", tmp_path / "u.csv", "--demand", HELSINKI / "demand.csv", "--roads", HELSINKI / "Helsinki.osm.pbf", "--minutes", "5", "--out", tmp_path / "t.csv")
    assert r.code == 2
    assert "u.csv" in r.stderr and "U00" in r.stderr and "snap_max_m" in r.stderr


def test_scenario_in_road_mode_runs_and_writes_its_travel_table(cli, tmp_path):
    folder = tmp_path / "helsinki"
    shutil.copytree(HELSINKI, folder, ignore=shutil.ignore_patterns(".optimizer-cache"))
    r = cli("run", folder, "--out", tmp_path / "run", "--quiet")
    assert r.code == 0, r.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["reach"]["mode"] == "road" and summary["reach"]["unit"] == "min"
    assert summary["reach"]["travel"]["cutoff_minutes"] == 6.0 and not summary["reach"]["travel"]["cached"]
    travel = pd.read_parquet(tmp_path / "run" / "inputs" / "travel.parquet")
    assert len(travel) == summary["reach"]["travel"]["pairs"] and travel["minutes"].max() <= 6.0
    assert (folder / ".optimizer-cache").is_dir()
    r2 = cli("run", folder, "--out", tmp_path / "run2", "--quiet")
    assert r2.code == 0
    summary2 = json.loads((tmp_path / "run2" / "summary.json").read_text())
    assert summary2["reach"]["travel"]["cached"] and summary2["selected"] == summary["selected"]


def test_scenario_mode_without_its_section_fails_validate(cli, tmp_path):
    (tmp_path / "s.toml").write_text(
        f'name = "x"\n[units]\nfile = "{HELSINKI / "units.csv"}"\nscore = "score"\n[demand]\nfile = "{HELSINKI / "demand.csv"}"\n'
        '[reach]\nmode = "friction"\n[selection]\nbudget = 1000\n'
    )
    r = cli("validate", tmp_path / "s.toml")
    assert r.code == 2 and "reach.mode" in r.stderr and "[friction]" in r.stderr


def test_run_reports_equity_and_nearest_times_consistent_with_its_travel_table(cli, tmp_path):
    folder = tmp_path / "helsinki"
    shutil.copytree(HELSINKI, folder, ignore=shutil.ignore_patterns(".optimizer-cache"))
    table = pd.read_csv(folder / "demand.csv")
    table.assign(region=np.where(table["lon"] < 24.9425, "W", "E")).to_csv(folder / "demand.csv", index=False)
    units_in = pd.read_csv(folder / "units.csv")
    units_in.assign(region=np.where(units_in["lon"] < 24.9425, "W", "E")).to_csv(folder / "units.csv", index=False)
    r = cli("run", folder, "--out", tmp_path / "run", "--quiet")
    assert r.code == 0, r.stderr
    run = tmp_path / "run"
    summary = json.loads((run / "summary.json").read_text())
    travel = pd.read_parquet(run / "inputs" / "travel.parquet")
    units = pd.read_csv(run / "selection.csv", index_col="unit_id")
    demand = pd.read_csv(folder / "demand.csv", dtype={"demand_id": str})
    limit = np.where(units.loc[travel["unit_id"], "service"].to_numpy() == "imaging", 6.0, 4.0)
    within = travel[(travel["minutes"].to_numpy() <= limit) & units.loc[travel["unit_id"], "selected"].to_numpy()]
    nearest = within.groupby("demand_id")["minutes"].min()
    regions = pd.read_csv(run / "regions.csv", index_col="region")
    assert sorted(regions.index) == ["E", "W"]
    for name, part in demand.groupby("region"):
        pop = part.set_index("demand_id")["population"]
        beyond = pop[~pop.index.isin(nearest.index)].sum() / pop.sum()
        assert regions.loc[name, "nearest_share_beyond_after"] == pytest.approx(beyond)
        reached = nearest.reindex(pop.index).dropna()
        if beyond < 0.5:  # the median is a travel time, the smallest with half the people at or below it
            ordered = reached.sort_values()
            cum = pop[ordered.index].cumsum()
            assert regions.loc[name, "nearest_median_after"] == ordered[cum >= pop.sum() / 2].iloc[0]
    assert 0 <= summary["equity"]["after"]["gini"] <= 1 and summary["equity"]["before"]["measure"] == "2sfca"
    html = (run / "report.html").read_text()
    assert 'id="sec-equity"' in html and "Gini of access" in html
    assert f"{summary['equity']['after']['gini']:.3f}" in html
    median_w = regions.loc["W", "nearest_median_after"]
    assert ("beyond reach" if np.isinf(median_w) else f"{median_w:.4g} min") in html
