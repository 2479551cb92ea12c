"""`optimizer access` end to end on the example in examples/geo (Qazvin province)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from optimizer.geo.distance import haversine_km

KEYS = {"region", "population", "units", "units_per_100k", "covered_share", "access_2sfca", "access_e2sfca"}


@pytest.fixture
def ex(examples):
    return {k: examples / f for k, f in [("u", "units.csv"), ("d", "demand.csv"), ("r", "counties.geojson"), ("s", "standards.csv")]}


def test_region_column_json(cli, ex):
    res = cli("access", "--units", ex["u"], "--demand", ex["d"], "--region-col", "region", "--radius-km", 15, "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    rows = {r["region"]: r for r in doc["regions"]}
    assert len(rows) == 6 and all(set(r) >= KEYS for r in rows.values())
    demand = pd.read_csv(ex["d"])
    units = pd.read_csv(ex["u"])
    np.testing.assert_allclose(sum(r["population"] for r in rows.values()), demand["population"].sum())
    assert sum(r["units"] for r in rows.values()) == len(units)
    # independent check of one region's covered share and ratio by brute force
    d = haversine_km(demand["lon"].to_numpy()[:, None], demand["lat"].to_numpy()[:, None], units["lon"].to_numpy(), units["lat"].to_numpy())
    covered = (d <= 15).any(axis=1)
    for region, r in rows.items():
        m = (demand["region"] == region).to_numpy()
        pop = demand["population"].to_numpy()[m]
        assert r["covered_share"] == pytest.approx((pop * covered[m]).sum() / pop.sum())
        assert r["units_per_100k"] == pytest.approx((units["region"] == region).sum() / pop.sum() * 1e5)
    assert doc["merge"]["groups"] < doc["merge"]["rows"]


def test_polygons_agree_with_region_column(cli, ex):
    by_col = cli("access", "--units", ex["u"], "--demand", ex["d"], "--region-col", "region", "--radius-km", 15, "--json").json()
    by_poly = cli("access", "--units", ex["u"], "--demand", ex["d"], "--regions", ex["r"], "--radius-km", 15, "--json").json()
    a = pd.DataFrame(by_col["regions"]).set_index("region")
    b = pd.DataFrame(by_poly["regions"]).set_index("region")
    assert b.loc["C436", "name"] == "Qazvin" and b.loc["C436", "kind"] == "urban"
    pd.testing.assert_frame_equal(a[sorted(KEYS - {"region"})], b.loc[a.index, sorted(KEYS - {"region"})])


def test_travel_table_equals_great_circle(cli, ex, tmp_path):
    demand = pd.read_csv(ex["d"])
    units = pd.read_csv(ex["u"])
    d = haversine_km(demand["lon"].to_numpy()[:, None], demand["lat"].to_numpy()[:, None], units["lon"].to_numpy(), units["lat"].to_numpy())
    i, j = np.nonzero(d <= 40)
    od = pd.DataFrame({"demand_id": demand["demand_id"].to_numpy()[i], "unit_id": units["unit_id"].to_numpy()[j], "distance": d[i, j]})
    od.to_csv(tmp_path / "od.csv", index=False)
    gc = cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 15, "--json").json()
    tt = cli("access", "--units", ex["u"], "--demand", ex["d"], "--distances", tmp_path / "od.csv", "--max-distance", 15, "--json").json()
    for a, b in zip(gc["regions"], tt["regions"], strict=True):
        assert a["region"] == b["region"]
        for k in KEYS - {"region"}:
            assert a[k] == pytest.approx(b[k], rel=1e-9)


def test_decay_need_and_supply_options(cli, ex):
    base = cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 15, "--json").json()
    gauss = cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 15, "--decay", "gaussian:3", "--json").json()
    assert base["decay"] == "step:5=1,10=0.68,15=0.22" and gauss["decay"] == "gaussian:3"
    assert [r["access_2sfca"] for r in base["regions"]] == [r["access_2sfca"] for r in gauss["regions"]]
    assert [r["access_e2sfca"] for r in base["regions"]] != [r["access_e2sfca"] for r in gauss["regions"]]
    need = cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 15, "--need", "pop_over_60=3", "--json").json()
    demand = pd.read_csv(ex["d"])
    expected = (demand["population"] + 2 * demand["pop_over_60"]).groupby(demand["region"]).sum()
    for r in need["regions"]:
        assert r["need_population"] == pytest.approx(expected[r["region"]])
    cap = cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 15, "--supply-col", "capacity", "--json").json()
    units = pd.read_csv(ex["u"])
    # total population-weighted 2SFCA = supply of units that reach someone / population
    assert cap["totals"]["access_2sfca"] * cap["totals"]["population"] == pytest.approx(units["capacity"].sum())


def test_standards_grid(cli, ex):
    doc = cli("access", "--units", ex["u"], "--demand", ex["d"], "--regions", ex["r"], "--radius-km", 15, "--standards", ex["s"], "--json").json()
    grid = pd.DataFrame(doc["adequacy"]).set_index(["region", "service"])
    assert len(grid) == 12
    avaj = grid.loc[("C432", "lab")]  # Avaj has no unit
    assert avaj["units"] == 0 and not avaj["passes"] and avaj["shortfall_units"] >= 1


def test_out_folder(cli, ex, tmp_path):
    out = tmp_path / "run"
    res = cli("access", "--units", ex["u"], "--demand", ex["d"], "--regions", ex["r"], "--radius-km", 15, "--out", out)
    assert res.code == 0, res.stderr
    assert "region" in res.stdout  # readable table without --json
    points = pd.read_csv(out / "demand_access.csv")
    assert len(points) == 200 and {"access_2sfca", "access_e2sfca", "covered", "lon", "lat"} <= set(points.columns)
    layers = dict(pyogrio.list_layers(out / "access.gpkg"))
    assert layers["regions"] in ("Polygon", "MultiPolygon") and layers["demand"] == "Point"
    regions = gpd.read_file(out / "access.gpkg", layer="regions")
    assert len(regions) == 6 and "covered_share" in regions.columns
    again = cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 15, "--out", out)
    assert again.code == 2 and "already exists" in again.stderr
    # region column: the regions layer is a table without geometry
    out2 = tmp_path / "run2"
    assert cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 15, "--out", out2).code == 0
    assert dict(pyogrio.list_layers(out2 / "access.gpkg"))["regions"] is None


def test_points_outside_every_region_are_reported(cli, ex, tmp_path):
    demand = pd.read_csv(ex["d"])
    extra = pd.DataFrame([{"demand_id": "FAR", "lon": 60.0, "lat": 30.0, "population": 1000, "pop_over_60": 0, "low_income": 0, "kind": "rural", "region": ""}])
    path = tmp_path / "d.csv"
    pd.concat([demand, extra]).to_csv(path, index=False)
    res = cli("access", "--units", ex["u"], "--demand", path, "--regions", ex["r"], "--radius-km", 15, "--json")
    assert res.code == 0
    doc = res.json()
    assert doc["outside"]["demand"] == ["FAR"] and doc["outside"]["demand_population"] == 1000
    assert "outside every region" in res.stderr
    assert sum(r["population"] for r in doc["regions"]) == demand["population"].sum()


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("demand_text", "expected"),
    [
        ("demand_id,lon,lat\nA,50,36\n", ["d.csv", "missing column 'population'"]),
        ("demand_id,lon,lat,population\nA,50,36,x\n", ["d.csv", "row 1", "column 'population'", "expected a number"]),
        ("demand_id,lon,lat,population\nA,50,36,-1\n", ["d.csv", "row 1", "column 'population'", ">= 0"]),
        ("demand_id,lon,lat,population\nA,50,36,1\nA,50,36,2\n", ["d.csv", "row 2", "column 'demand_id'", "duplicate"]),
        ("", ["d.csv", "empty"]),
        ("demand_id,lon,lat,population\nA,50,-95,1\n", ["d.csv", "row 1", "column 'lat'"]),
    ],
)
def test_bad_demand_exits_2(cli, ex, tmp_path, demand_text, expected):
    res = cli("access", "--units", ex["u"], "--demand", _write(tmp_path, "d.csv", demand_text), "--radius-km", 10, "--json")
    assert res.code == 2 and res.stdout == ""
    for part in expected:
        assert part in res.stderr


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_unknown_crs_and_invalid_geometry_exit_2(cli, ex, tmp_path):
    shp = tmp_path / "units.shp"
    gpd.GeoDataFrame({"unit_id": ["a"]}, geometry=[shapely.Point(500000, 4000000)]).to_file(shp)
    res = cli("access", "--units", shp, "--demand", ex["d"], "--radius-km", 10)
    assert res.code == 2 and "units.shp" in res.stderr and "coordinate reference system" in res.stderr
    bad = tmp_path / "regions.geojson"
    bowtie = shapely.Polygon([(50, 36), (51, 37), (51, 36), (50, 37)])
    gpd.GeoDataFrame({"region_id": ["x"]}, geometry=[bowtie], crs="EPSG:4326").to_file(bad, driver="GeoJSON")
    res = cli("access", "--units", ex["u"], "--demand", ex["d"], "--regions", bad, "--radius-km", 10)
    assert res.code == 2 and "regions.geojson" in res.stderr and "row 1" in res.stderr and "valid geometry" in res.stderr


def test_option_errors_exit_2(cli, ex, tmp_path):
    base = ("access", "--units", ex["u"], "--demand", ex["d"])
    assert "exactly one of --radius-km or --distances" in cli(*base).stderr
    assert cli(*base, "--radius-km", 5, "--distances", ex["d"], "--max-distance", 3).code == 2
    assert "--max-distance" in cli(*base, "--distances", ex["d"]).stderr
    res = cli(*base, "--radius-km", 5, "--decay", "linear:4")
    assert res.code == 2 and "--decay" in res.stderr
    res = cli(*base, "--radius-km", 5, "--supply-col", "beds")
    assert res.code == 2 and "units.csv" in res.stderr and "'beds'" in res.stderr
    res = cli(*base, "--radius-km", 5, "--region-col", "county")
    assert res.code == 2 and "'county'" in res.stderr
    units = _write(tmp_path, "u.csv", "unit_id,lon,lat\nA,50,36\n")
    res = cli("access", "--units", units, "--demand", ex["d"], "--region-col", "region", "--radius-km", 5)
    assert res.code == 2 and "u.csv" in res.stderr and "region" in res.stderr


def test_reach_by_kind_and_service(cli, ex):
    """Coverage with reach 5 km for urban points, 25 km for rural ones, and 40 km for
    imaging units whatever the kind, checked pair by pair with the haversine formula."""
    res = cli(
        "access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 8,
        "--reach-by-kind", "urban=5,rural=25", "--reach-by-service", "imaging=40", "--json",
    )
    assert res.code == 0, res.stderr
    rows = {r["region"]: r for r in res.json()["regions"]}
    demand = pd.read_csv(ex["d"])
    units = pd.read_csv(ex["u"])
    d = haversine_km(demand["lon"].to_numpy()[:, None], demand["lat"].to_numpy()[:, None], units["lon"].to_numpy(), units["lat"].to_numpy())
    limit = np.where(demand["kind"].to_numpy()[:, None] == "urban", 5.0, 25.0) * np.ones(len(units))
    limit[:, (units["service"] == "imaging").to_numpy()] = 40.0
    covered = (d <= limit).any(axis=1)
    for region, r in rows.items():
        m = (demand["region"] == region).to_numpy()
        pop = demand["population"].to_numpy()[m]
        assert r["covered_share"] == pytest.approx((pop * covered[m]).sum() / pop.sum())
    res = cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", -3)
    assert res.code == 2 and "--radius-km" in res.stderr
    res = cli("access", "--units", ex["u"], "--demand", ex["d"], "--radius-km", 5, "--reach-by-kind", "urban")
    assert res.code == 2 and "--reach-by-kind" in res.stderr


def test_standards_with_region_column_take_the_kind_of_most_people(cli, ex):
    doc = cli("access", "--units", ex["u"], "--demand", ex["d"], "--region-col", "region", "--radius-km", 15, "--standards", ex["s"], "--json").json()
    grid = pd.DataFrame(doc["adequacy"]).set_index(["region", "service"])
    demand = pd.read_csv(ex["d"])
    by_kind = demand.groupby(["region", "kind"])["population"].sum().unstack(fill_value=0)
    for region, row in by_kind.iterrows():
        assert grid.loc[(region, "lab"), "kind"] == row.idxmax()
