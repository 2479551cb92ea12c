"""Reading units, demand and regions: formats, CRS, polygons, need weighting, bad input."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from optimizer.errors import InputError
from optimizer.geo.io import (
    PointsOutsideRegions,
    assign_regions,
    load_demand,
    load_regions,
    load_units,
    parse_need_weights,
    region_column,
)

DEMAND = "demand_id,lon,lat,population,pop_over_60,low_income\nA,50.0,36.0,1000,100,300\nB,50.1,36.1,500,50,0\n"


def test_load_csv_units_and_demand(write_csv):
    units = load_units(write_csv("u.csv", "unit_id,lon,lat,service\n7,50,36,lab\n8,51,35.5,imaging\n"))
    assert units.ids.tolist() == ["7", "8"]  # ids are strings
    np.testing.assert_allclose(units.lon, [50, 51])
    assert units.frame.loc["8", "service"] == "imaging"
    demand = load_demand(write_csv("d.csv", DEMAND))
    np.testing.assert_allclose(demand.population, [1000, 500])
    np.testing.assert_allclose(demand.need, demand.population)


def test_need_weighting(write_csv):
    """need = population + sum_g (w_g - 1) pop_g: 1000 + 1*100 + 0.5*300 = 1250; 500 + 50 = 550."""
    demand = load_demand(write_csv("d.csv", DEMAND), need_weights={"pop_over_60": 2, "low_income": 1.5})
    np.testing.assert_allclose(demand.need, [1250.0, 550.0])
    np.testing.assert_allclose(demand.population, [1000, 500])
    assert parse_need_weights("pop_over_60=2,low_income=1.5") == {"pop_over_60": 2.0, "low_income": 1.5}
    with pytest.raises(InputError, match="COLUMN=WEIGHT"):
        parse_need_weights("pop_over_60")


def test_vector_units_in_a_projected_crs(tmp_path):
    """Points stored in UTM 39N come back as the same WGS84 lon/lat."""
    lon, lat = np.array([50.0, 51.3, 47.9]), np.array([36.0, 35.7, 30.1])
    gdf = gpd.GeoDataFrame({"unit_id": ["a", "b", "c"]}, geometry=shapely.points(lon, lat), crs="EPSG:4326")
    path = tmp_path / "units.gpkg"
    gdf.to_crs("EPSG:32639").to_file(path, driver="GPKG")
    units = load_units(path)
    np.testing.assert_allclose(units.lon, lon, atol=1e-7)
    np.testing.assert_allclose(units.lat, lat, atol=1e-7)


def test_polygon_demand_becomes_points_with_population(tmp_path):
    """A square keeps its centroid; a C-shaped polygon, whose centroid lies outside, gets an
    interior point; the population stays whole."""
    square = shapely.box(50.0, 36.0, 50.2, 36.2)
    c_shape = shapely.difference(shapely.box(51.0, 36.0, 51.3, 36.3), shapely.box(51.05, 36.05, 51.3, 36.25))
    gdf = gpd.GeoDataFrame(
        {"demand_id": ["sq", "c"], "population": [1200, 800]}, geometry=[square, c_shape], crs="EPSG:4326"
    )
    path = tmp_path / "blocks.geojson"
    gdf.to_file(path, driver="GeoJSON")
    demand = load_demand(path)
    np.testing.assert_allclose(demand.population, [1200, 800])
    assert abs(demand.lon[0] - 50.1) < 1e-6 and abs(demand.lat[0] - 36.1) < 2e-3
    assert c_shape.contains(shapely.Point(demand.lon[1], demand.lat[1]))


def test_regions_from_polygons_and_points_outside(examples):
    regions = load_regions(examples / "counties.geojson")
    assert len(regions) == 6 and regions.crs.to_epsg() == 4326
    assert set(regions["kind"]) == {"urban", "rural"}
    demand = pd.read_csv(examples / "demand.csv")
    lon = np.r_[demand["lon"].to_numpy(), 60.0]
    lat = np.r_[demand["lat"].to_numpy(), 30.0]
    with pytest.warns(PointsOutsideRegions, match="1 points fall outside every region.*outside-1"):
        got = assign_regions(lon, lat, regions, ids=pd.Index([*demand["demand_id"], "outside-1"]))
    assert got.iloc[-1] is None
    # the example's region column was built from the same polygons
    assert (got.iloc[:-1].to_numpy() == demand["region"].to_numpy()).all()


def test_region_column(examples):
    demand = load_demand(examples / "demand.csv")
    col = region_column(demand.frame, "region")
    assert col.notna().all() and col.nunique() == 6


def test_assign_regions_is_silent_when_all_inside():
    sq = gpd.GeoDataFrame({"name": ["A"], "kind": [None]}, geometry=[shapely.box(0, 0, 1, 1)], index=pd.Index(["A"]), crs="EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert assign_regions(np.array([0.5]), np.array([0.5]), sq).tolist() == ["A"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("demand_id,lon,lat,population\nA,50,36,-3\n", r"d.csv: row 1, column 'population': expected a number >= 0, found .*-3"),
        ("demand_id,lon,lat,population\nA,50,36,many\n", r"row 1, column 'population': expected a number, found 'many'"),
        ("demand_id,lon,lat,population\nA,50,36,3\nA,50,36,4\n", r"row 2, column 'demand_id': duplicate id"),
        ("demand_id,lon,lat\nA,50,36\n", r"missing column 'population'"),
        ("demand_id,lon,lat,population\n", r"no data rows"),
        ("", r"empty"),
        ("demand_id,lon,lat,population\nA,250,36,3\n", r"row 1, column 'lon': expected a longitude in \[-180, 180\]"),
        ("demand_id,lon,lat,population\nA,50,91,3\n", r"row 1, column 'lat': expected a latitude"),
    ],
)
def test_bad_demand_csv(write_csv, text, match):
    with pytest.raises(InputError, match=match):
        load_demand(write_csv("d.csv", text))


def test_group_larger_than_population(write_csv):
    with pytest.raises(InputError, match=r"row 2, column 'pop_over_60': expected a group population at most"):
        load_demand(write_csv("d.csv", DEMAND.replace("B,50.1,36.1,500,50", "B,50.1,36.1,500,600")), need_weights={"pop_over_60": 2})


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_vector_without_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"unit_id": ["a"]}, geometry=[shapely.Point(500000, 4000000)])
    path = tmp_path / "units.shp"
    gdf.to_file(path)
    with pytest.raises(InputError, match="units.shp: expected a declared coordinate reference system"):
        load_units(path)


def test_invalid_geometry(tmp_path):
    bowtie = shapely.Polygon([(50, 36), (51, 37), (51, 36), (50, 37)])
    gdf = gpd.GeoDataFrame({"region_id": ["ok", "bad"]}, geometry=[shapely.box(50, 36, 51, 37), bowtie], crs="EPSG:4326")
    path = tmp_path / "regions.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match=r"regions.geojson: row 2, column 'geometry': expected a valid geometry.*Self-intersection"):
        load_regions(path)


def test_units_must_be_points(tmp_path):
    gdf = gpd.GeoDataFrame({"unit_id": ["a"]}, geometry=[shapely.box(50, 36, 51, 37)], crs="EPSG:4326")
    path = tmp_path / "units.gpkg"
    gdf.to_file(path, driver="GPKG")
    with pytest.raises(InputError, match="row 1, column 'geometry': expected point geometry, found 'Polygon'"):
        load_units(path)


def test_geoparquet_and_plain_parquet(tmp_path):
    """A GeoParquet file is read as geometry (any CRS); a plain Parquet as a lon/lat table."""
    lon, lat = np.array([50.0, 51.0]), np.array([36.0, 35.0])
    gdf = gpd.GeoDataFrame({"demand_id": ["a", "b"], "population": [10, 20]}, geometry=shapely.points(lon, lat), crs="EPSG:4326")
    gdf.to_crs("EPSG:3857").to_parquet(tmp_path / "geo.parquet")
    demand = load_demand(tmp_path / "geo.parquet")
    np.testing.assert_allclose(demand.lon, lon, atol=1e-7)
    pd.DataFrame({"demand_id": ["a", "b"], "lon": lon, "lat": lat, "population": [10, 20]}).to_parquet(tmp_path / "plain.parquet")
    plain = load_demand(tmp_path / "plain.parquet")
    np.testing.assert_allclose(plain.lat, lat)
    assert plain.ids.tolist() == ["a", "b"]


def test_region_codes_from_a_number_column():
    """Codes from a number column with gaps (read as floats) match integer codes."""
    frame = pd.DataFrame({"region": [12.0, None, 3.0]}, index=pd.Index(["a", "b", "c"]))
    assert region_column(frame, "region").tolist() == ["12", None, "3"]


def test_points_outside_the_projection_domain(tmp_path):
    """A point at 1e12 m in UTM 39N has no WGS84 position (the transform gives inf): an
    error naming the row, not a silently wrong or NaN coordinate."""
    path = tmp_path / "far.gpkg"
    gdf = gpd.GeoDataFrame({"demand_id": ["ok", "far"], "population": [1, 2]}, geometry=[shapely.Point(500000, 4000000), shapely.Point(1e12, 1e12)], crs="EPSG:32639")
    gdf.to_file(path)
    with pytest.raises(InputError, match=r"far.gpkg: row 2, column 'geometry': expected a longitude in \[-180, 180\]"):
        load_demand(path)


def test_parse_pairs_rejects_duplicates_and_bad_numbers():
    from optimizer.geo.io import parse_pairs

    assert parse_pairs("a=1, b = 2.5", option="--x", expected="N=V") == {"a": 1.0, "b": 2.5}
    for bad in ("a=1,a=2", "a", "a=-1", "=3", "a=inf", "a=x"):
        with pytest.raises(InputError, match=r"option '--x': expected N=V pairs"):
            parse_pairs(bad, option="--x", expected="N=V")
