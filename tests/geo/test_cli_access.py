"""`optimizer access` end to end on the example in examples/geo (Qazvin province)."""

from __future__ import annotations

import json

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
    assert avaj["units"] == 0 and not avaj["passes"] and avaj["shortfall_units"] == 1  # ceil(1.0 x 29,486 / 1e5)


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


# --------------------------------------------------------------------------- hand cases


def _hand_case(tmp_path, with_kind: bool = True):
    """Points on the equator, where 0.1 degree of longitude is 11.12 km (R pi / 1800).

    Labs L1 at lon 0.5 and L2 at (0.56, 0.05); imaging unit I at lon 1.5. Demand:
    a urban lon 0.56 (L1 6.67 km, L2 5.56 km), b rural lon 0.7 (L1 22.24 km, L2 16.52 km),
    c urban lon 1.8 (I 33.36 km), d rural lon 2.0 (I 55.60 km), e urban lon 0.38 (L1 13.34 km).
    """
    demand = pd.DataFrame(
        {
            "demand_id": list("abcde"),
            "lon": [0.56, 0.7, 1.8, 2.0, 0.38],
            "lat": [0.0] * 5,
            "population": [100, 200, 300, 400, 500],
            "kind": ["urban", "rural", "urban", "rural", "urban"],
        }
    )
    units = pd.DataFrame({"unit_id": ["L1", "L2", "I"], "lon": [0.5, 0.56, 1.5], "lat": [0.0, 0.05, 0.0], "service": ["lab", "lab", "imaging"]})
    if not with_kind:
        demand = demand.drop(columns="kind")
    demand.to_csv(tmp_path / "d.csv", index=False)
    units.to_csv(tmp_path / "u.csv", index=False)
    return tmp_path / "u.csv", tmp_path / "d.csv"


REACH = ("--radius-km", 8, "--reach-by-kind", "urban=10,rural=25", "--reach-by-service", "imaging=40,imaging/rural=60")


def test_reach_per_service_and_kind_by_hand(cli, tmp_path):
    """Urban 10 km, rural 25 km, imaging 40 km (urban) and 60 km (rural): L1 and L2 reach
    a and b, not e (13.3 km > 10); I reaches c (33.4 <= 40) and d (55.6 <= 60).

    Hand computation (Luo & Wang 2003): R_L1 = R_L2 = 1/300, R_I = 1/700; A_a = A_b = 2/300,
    A_c = A_d = 1/700, A_e = 0; covered share 1000/1500; units per 100k 3/1500 x 1e5 = 200;
    population-weighted 2SFCA (100 + 200) 2/300 + 700/700 = 3 over 1500 people = 0.002.
    E2SFCA with the default steps over thirds of 60 km (W = 1 to 20 km, 0.68 to 40, 0.22
    to 60): R_L1 = 1/(100 + 0.68 x 200) = 1/236, R_L2 = 1/300, R_I = 1/(0.68 x 300 + 0.22 x 400)
    = 1/292, A_a = 1/236 + 1/300, A_b = 0.68/236 + 1/300, A_c = 0.68/292, A_d = 0.22/292.
    Unit reach: L1 and L2 each 300 people, none exclusive (both reach a and b); I 700, all
    exclusive."""
    u, d = _hand_case(tmp_path)
    res = cli("access", "--units", u, "--demand", d, *REACH, "--out", tmp_path / "out", "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    (row,) = doc["regions"]
    assert row["region"] == "all" and row["units"] == 3
    assert row["covered_share"] == pytest.approx(1000 / 1500)
    assert row["units_per_100k"] == pytest.approx(200.0)
    assert row["access_2sfca"] == pytest.approx(0.002)
    assert doc["decay"] == "step:20=1,40=0.68,60=0.22"
    points = pd.read_csv(tmp_path / "out" / "demand_access.csv", index_col="demand_id")
    assert points["units_in_reach"].to_dict() == {"a": 2, "b": 2, "c": 1, "d": 1, "e": 0}
    np.testing.assert_allclose(points.loc[list("abcde"), "access_2sfca"], [2 / 300, 2 / 300, 1 / 700, 1 / 700, 0.0])
    e2 = [1 / 236 + 1 / 300, 0.68 / 236 + 1 / 300, 0.68 / 292, 0.22 / 292, 0.0]
    np.testing.assert_allclose(points.loc[list("abcde"), "access_e2sfca"], e2)
    reach = pd.read_csv(tmp_path / "out" / "unit_reach.csv", index_col="unit_id")
    assert reach["population"].to_dict() == {"L1": 300.0, "L2": 300.0, "I": 700.0}
    assert reach["exclusive_population"].to_dict() == {"L1": 0.0, "L2": 0.0, "I": 700.0}


def test_reach_by_kind_follows_the_region_polygons_kind(cli, tmp_path):
    """Without a kind column on the demand, --reach-by-kind uses the kind of the point's
    region polygon: one box per point with the kind of the hand case gives the same reach.
    The units stand in no region and are reported, not dropped."""
    u, d = _hand_case(tmp_path, with_kind=False)
    lons = [0.56, 0.7, 1.8, 2.0, 0.38]
    kinds = ["urban", "rural", "urban", "rural", "urban"]
    boxes = [shapely.box(x - 0.01, -0.01, x + 0.01, 0.01) for x in lons]
    gpd.GeoDataFrame({"region_id": list("ABCDE"), "kind": kinds}, geometry=boxes, crs="EPSG:4326").to_file(tmp_path / "r.geojson")
    res = cli("access", "--units", u, "--demand", d, "--regions", tmp_path / "r.geojson", *REACH, "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    shares = {r["region"]: r["covered_share"] for r in doc["regions"]}
    assert shares == {"A": 1.0, "B": 1.0, "C": 1.0, "D": 1.0, "E": 0.0}
    assert sorted(doc["outside"]["units"]) == ["I", "L1", "L2"] and "3 units fall outside every region" in res.stderr


def test_cli_matches_pysal_access_with_travel_table_gaussian_and_supply(cli, ex, tmp_path):
    """Per-region values of `--distances --decay gaussian:8 --supply-col capacity` equal the
    population-weighted means of PySAL access ``two_stage_fca`` (with and without
    ``weights.gaussian``) computed on the same travel table (minutes = 1.4 x km)."""
    fca = pytest.importorskip("access.fca")
    weights = pytest.importorskip("access.weights")
    demand = pd.read_csv(ex["d"], dtype={"demand_id": str})
    units = pd.read_csv(ex["u"], dtype={"unit_id": str})
    d = haversine_km(demand["lon"].to_numpy()[:, None], demand["lat"].to_numpy()[:, None], units["lon"].to_numpy(), units["lat"].to_numpy())
    i, j = np.nonzero(d <= 50)
    od = pd.DataFrame({"demand_id": demand["demand_id"].to_numpy()[i], "unit_id": units["unit_id"].to_numpy()[j], "minutes": 1.4 * d[i, j]})
    od.rename(columns={"minutes": "distance"}).to_csv(tmp_path / "od.csv", index=False)
    res = cli(
        "access", "--units", ex["u"], "--demand", ex["d"], "--region-col", "region", "--distances", tmp_path / "od.csv",
        "--max-distance", 30, "--decay", "gaussian:8", "--supply-col", "capacity", "--json",
    )
    assert res.code == 0, res.stderr
    rows = pd.DataFrame(res.json()["regions"]).set_index("region")
    dem = pd.DataFrame({"geoid": demand["demand_id"], "demand": demand["population"].astype(float)})
    sup = pd.DataFrame({"supply": units["capacity"].to_numpy(dtype=float)}, index=pd.Index(units["unit_id"], name="geoid"))
    cost = od.rename(columns={"demand_id": "origin", "unit_id": "dest", "minutes": "cost"})
    plain = fca.two_stage_fca(dem, sup, cost, max_cost=30).reindex(demand["demand_id"]).fillna(0.0).to_numpy()
    gauss = fca.two_stage_fca(dem, sup, cost, max_cost=30, weight_fn=weights.gaussian(8)).reindex(demand["demand_id"]).fillna(0.0).to_numpy()
    pop = demand["population"].to_numpy(dtype=float)
    for region, r in rows.iterrows():
        m = (demand["region"] == region).to_numpy()
        assert r["access_2sfca"] == pytest.approx((pop[m] * plain[m]).sum() / pop[m].sum(), rel=1e-10)
        assert r["access_e2sfca"] == pytest.approx((pop[m] * gauss[m]).sum() / pop[m].sum(), rel=1e-10)
    assert rows["access_2sfca"].gt(0).sum() >= 5


def test_adequacy_grid_matches_brute_force(cli, ex):
    """Every (county, service) row recomputed from the haversine matrix: units of the
    service in the county, share of its population within the standard's reach (for the
    county's kind) of a unit of the service, pass/fail and the shortfall in units."""
    doc = cli("access", "--units", ex["u"], "--demand", ex["d"], "--regions", ex["r"], "--radius-km", 15, "--standards", ex["s"], "--json").json()
    grid = pd.DataFrame(doc["adequacy"]).set_index(["region", "service"])
    demand = pd.read_csv(ex["d"])
    units = pd.read_csv(ex["u"])
    counties = gpd.read_file(ex["r"]).set_index("region_id")
    standards = pd.read_csv(ex["s"]).set_index(["kind", "service"])
    d = haversine_km(demand["lon"].to_numpy()[:, None], demand["lat"].to_numpy()[:, None], units["lon"].to_numpy(), units["lat"].to_numpy())
    assert len(grid) == len(counties) * 2
    for (region, service), row in grid.iterrows():
        kind = counties.loc[region, "kind"]
        std = standards.loc[(kind, service)]
        in_region = (demand["region"] == region).to_numpy()
        of_service = (units["service"] == service).to_numpy()
        pop = demand["population"].to_numpy()[in_region]
        covered = (d[in_region][:, of_service] <= std["reach"]).any(axis=1)
        n_units = int((of_service & (units["region"] == region).to_numpy()).sum())
        share = (pop * covered).sum() / pop.sum()
        short = max(0, int(np.ceil(std["min_per_100k"] * pop.sum() / 1e5 - 1e-9)) - n_units)
        assert row["kind"] == kind and row["units"] == n_units
        assert row["covered_share"] == pytest.approx(share)
        assert row["shortfall_units"] == short
        assert row["shortfall_population"] == pytest.approx(max(0.0, std["min_covered_share"] * pop.sum() - (pop * covered).sum()))
        assert row["passes"] == (short == 0 and share >= std["min_covered_share"])
    assert 0 < grid["passes"].sum() < len(grid)


def test_out_files_hold_the_reported_values(cli, ex, tmp_path):
    """The GeoPackage's regions layer equals the JSON per region and keeps the county
    polygons; the demand and units layers are WGS84 points at the input coordinates with
    the CSV values; unit_reach equals a brute-force count of people within 15 km."""
    out = tmp_path / "run"
    res = cli("access", "--units", ex["u"], "--demand", ex["d"], "--regions", ex["r"], "--radius-km", 15, "--out", out, "--json")
    assert res.code == 0, res.stderr
    doc = res.json()
    regions = gpd.read_file(out / "access.gpkg", layer="regions").set_index("region")
    js = pd.DataFrame(doc["regions"]).set_index("region")
    for col in ("population", "units", "units_per_100k", "covered_share", "access_2sfca", "access_e2sfca"):
        np.testing.assert_allclose(regions.loc[js.index, col], js[col], rtol=1e-12)
    counties = gpd.read_file(ex["r"]).set_index("region_id")
    assert all(regions.loc[r, "geometry"].equals_exact(counties.loc[r, "geometry"], 1e-9) for r in counties.index)
    demand = pd.read_csv(ex["d"], dtype={"demand_id": str}).set_index("demand_id")
    layer = gpd.read_file(out / "access.gpkg", layer="demand").set_index("demand_id")
    assert layer.crs.to_epsg() == 4326
    np.testing.assert_allclose(layer.geometry.x.loc[demand.index], demand["lon"], atol=1e-9)
    csv = pd.read_csv(out / "demand_access.csv", dtype={"demand_id": str}).set_index("demand_id")
    np.testing.assert_allclose(layer.loc[csv.index, "access_e2sfca"], csv["access_e2sfca"], rtol=1e-12)
    assert (csv["region"] == demand.loc[csv.index, "region"]).all()
    units = pd.read_csv(ex["u"], dtype={"unit_id": str}).set_index("unit_id")
    d = haversine_km(demand["lon"].to_numpy()[:, None], demand["lat"].to_numpy()[:, None], units["lon"].to_numpy(), units["lat"].to_numpy())
    within = d <= 15
    only = within & (within.sum(axis=1) == 1)[:, None]
    reach = pd.read_csv(out / "unit_reach.csv", dtype={"unit_id": str}).set_index("unit_id").loc[units.index]
    pop = demand["population"].to_numpy(dtype=float)
    np.testing.assert_allclose(reach["population"], pop @ within)
    np.testing.assert_allclose(reach["exclusive_population"], pop @ only)
    assert json.loads((out / "access.json").read_text())["regions"] == doc["regions"]


def test_standards_with_a_travel_table_use_its_values(cli, ex, tmp_path):
    """With --distances the standards' reach is read in the travel table's unit: a table
    holding twice the great-circle km gives the grid of standards with half the reach."""
    demand = pd.read_csv(ex["d"], dtype={"demand_id": str})
    units = pd.read_csv(ex["u"], dtype={"unit_id": str})
    d = haversine_km(demand["lon"].to_numpy()[:, None], demand["lat"].to_numpy()[:, None], units["lon"].to_numpy(), units["lat"].to_numpy())
    i, j = np.nonzero(d <= 200)
    pd.DataFrame({"demand_id": demand["demand_id"].to_numpy()[i], "unit_id": units["unit_id"].to_numpy()[j], "distance": 2 * d[i, j]}).to_csv(
        tmp_path / "od.csv", index=False
    )
    half = pd.read_csv(ex["s"]).assign(reach=lambda t: t["reach"] / 2)
    half.to_csv(tmp_path / "half.csv", index=False)
    common = ("access", "--units", ex["u"], "--demand", ex["d"], "--regions", ex["r"])
    by_table = cli(*common, "--distances", tmp_path / "od.csv", "--max-distance", 30, "--standards", ex["s"], "--json")
    by_km = cli(*common, "--radius-km", 15, "--standards", tmp_path / "half.csv", "--json")
    assert by_table.code == 0 and by_km.code == 0, by_table.stderr + by_km.stderr
    a = pd.DataFrame(by_table.json()["adequacy"]).set_index(["region", "service"])
    b = pd.DataFrame(by_km.json()["adequacy"]).set_index(["region", "service"])
    pd.testing.assert_frame_equal(a[["covered_share", "passes", "shortfall_units"]], b[["covered_share", "passes", "shortfall_units"]], rtol=1e-12)
    assert a["covered_share"].nunique() > 3
