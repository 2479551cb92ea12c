"""`optimizer access` on every input format, and on bad input (exit 2, file/row/column)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def examples_dir():
    return EXAMPLES


@pytest.fixture(scope="module")
def example_frames():
    demand = pd.read_csv(EXAMPLES / "demand.csv", dtype={"demand_id": str})
    units = pd.read_csv(EXAMPLES / "units.csv", dtype={"unit_id": str})
    return demand, units


def _as_points(df: pd.DataFrame, crs: str) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=shapely.points(df["lon"], df["lat"]), crs="EPSG:4326")
    return gdf.to_crs(crs)


def _regions_json(cli, *args):
    res = cli("access", *map(str, args), "--radius-km", "15", "--json")
    assert res.code == 0, res.stderr
    return pd.DataFrame(res.json()["regions"]).set_index("region")


COMPARED = ["population", "units", "covered_share", "access_2sfca", "access_e2sfca", "points"]


@pytest.mark.filterwarnings("ignore:Column names longer than 10", "ignore:Normalized/laundered field name")
@pytest.mark.parametrize(
    ("units_name", "units_crs", "demand_name", "demand_crs"),
    [
        ("units.gpkg", "EPSG:32639", "demand.gpkg", "EPSG:3857"),
        ("units.shp", "EPSG:3857", "demand.shp", "EPSG:32639"),
        ("units.geojson", "EPSG:4326", "demand.parquet", "EPSG:32639"),  # GeoParquet
    ],
)
def test_vector_inputs_in_projected_crs_equal_the_csv_run(cli, tmp_path, examples_dir, example_frames, units_name, units_crs, demand_name, demand_crs):
    """The same points stored in UTM 39N / Web Mercator in GeoPackage, Shapefile, GeoJSON or
    GeoParquet give exactly the per-region indicators of the WGS84 CSV files."""
    demand, units = example_frames
    paths = {}
    for name, df, crs in ((units_name, units, units_crs), (demand_name, demand, demand_crs)):
        gdf = _as_points(df, crs)
        path = tmp_path / name
        if name.endswith(".parquet"):
            gdf.to_parquet(path)
        else:
            gdf.to_file(path)
        paths[name] = path
    ref = _regions_json(cli, "--units", examples_dir / "units.csv", "--demand", examples_dir / "demand.csv", "--region-col", "region")
    got = _regions_json(cli, "--units", paths[units_name], "--demand", paths[demand_name], "--region-col", "region")
    pd.testing.assert_frame_equal(got.loc[ref.index, COMPARED], ref[COMPARED], rtol=1e-9)


def test_polygon_demand_through_the_cli(cli, tmp_path, examples_dir, example_frames):
    """Census-block-like squares (1 km, drawn in UTM 39N) around each settlement: each
    becomes its area centroid with its whole population, so the indicators match the
    point file."""
    demand, _ = example_frames
    blocks = _as_points(demand, "EPSG:32639")
    blocks["geometry"] = blocks.buffer(500.0, cap_style="square")
    path = tmp_path / "blocks.gpkg"
    blocks.to_file(path)
    ref = _regions_json(cli, "--units", examples_dir / "units.csv", "--demand", examples_dir / "demand.csv", "--regions", examples_dir / "counties.geojson")
    got = _regions_json(cli, "--units", examples_dir / "units.csv", "--demand", path, "--regions", examples_dir / "counties.geojson")
    pd.testing.assert_frame_equal(got[COMPARED], ref[COMPARED], rtol=1e-9)


# --------------------------------------------------------------------------- bad input


def _gpkg(path, rows, geoms, crs="EPSG:4326"):
    gpd.GeoDataFrame(rows, geometry=geoms, crs=crs).to_file(path)
    return path


def _bad_inputs(tmp: object) -> dict[str, tuple[str, object, list[str]]]:
    """name -> (which option gets the file, the file, parts the message must contain)."""
    bowtie = shapely.Polygon([(50, 36), (51, 37), (51, 36), (50, 37)])
    p = tmp
    (p / "folder.csv").mkdir()
    (p / "empty.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (p / "od.csv").write_text("demand_id,unit_id,distance\nD000,U00,3\nD001,U00,4\nNOPE,U01,5\n")
    (p / "od_unit.csv").write_text("demand_id,unit_id,distance\nD000,U99,3\n")
    (p / "dup_units.csv").write_text("unit_id,lon,lat\nA,50,36\nB,50.1,36\nA,50.2,36\n")
    (p / "header.csv").write_text("demand_id,lon,lat,population\n")
    two = [shapely.Point(50, 36), shapely.Point(50.1, 36.1)]
    return {
        "directory": ("--demand", p / "folder.csv", ["folder.csv", "found a directory"]),
        "invalid geometry": (
            "--demand",
            _gpkg(p / "bowtie.gpkg", {"demand_id": ["a", "b"], "population": [1, 2]}, [two[0], bowtie]),
            ["bowtie.gpkg", "row 2", "column 'geometry'", "expected a valid geometry"],
        ),
        "line geometry": (
            "--demand",
            _gpkg(p / "line.gpkg", {"demand_id": ["a", "b"], "population": [1, 2]}, [two[0], shapely.LineString([(50, 36), (51, 36)])]),
            ["line.gpkg", "row 2", "column 'geometry'", "point or polygon", "LineString"],
        ),
        "negative population": (
            "--demand",
            _gpkg(p / "neg.gpkg", {"demand_id": ["a", "b"], "population": [1, -2]}, two),
            ["neg.gpkg", "row 2", "column 'population'", ">= 0"],
        ),
        "non-numeric population": (
            "--demand",
            _gpkg(p / "text.gpkg", {"demand_id": ["a", "b"], "population": ["1", "many"]}, two),
            ["text.gpkg", "row 2", "column 'population'", "expected a number", "many"],
        ),
        "duplicate id in a vector file": (
            "--demand",
            _gpkg(p / "dup.gpkg", {"demand_id": ["a", "a"], "population": [1, 2]}, two),
            ["dup.gpkg", "row 2", "column 'demand_id'", "duplicate"],
        ),
        "metres declared as degrees": (
            "--demand",
            _gpkg(p / "range.gpkg", {"demand_id": ["a", "b"], "population": [1, 2]}, [two[0], shapely.Point(500000, 4000000)]),
            ["range.gpkg", "row 2", "column 'geometry'", "longitude in [-180, 180]"],
        ),
        "empty vector file": ("--demand", p / "empty.geojson", ["empty.geojson", "no features"]),
        "header only": ("--demand", p / "header.csv", ["header.csv", "no data rows"]),
        "duplicate unit id": ("--units", p / "dup_units.csv", ["dup_units.csv", "row 3", "column 'unit_id'", "duplicate"]),
        "unknown demand id in the travel table": ("--distances", p / "od.csv", ["od.csv", "row 3", "column 'demand_id'", "NOPE"]),
        "unknown unit id in the travel table": ("--distances", p / "od_unit.csv", ["od_unit.csv", "row 1", "column 'unit_id'", "U99"]),
    }


BAD = [
    "directory",
    "invalid geometry",
    "line geometry",
    "negative population",
    "non-numeric population",
    "duplicate id in a vector file",
    "metres declared as degrees",
    "empty vector file",
    "header only",
    "duplicate unit id",
    "unknown demand id in the travel table",
    "unknown unit id in the travel table",
]


@pytest.mark.parametrize("case", BAD)
def test_bad_input_exits_2_naming_file_row_column(cli, tmp_path, examples_dir, case):
    option, path, parts = _bad_inputs(tmp_path)[case]
    args = {"--units": examples_dir / "units.csv", "--demand": examples_dir / "demand.csv"}
    reach = ["--radius-km", "10"]
    if option == "--distances":
        reach = ["--distances", str(path), "--max-distance", "10"]
    else:
        args[option] = path
    res = cli("access", "--units", str(args["--units"]), "--demand", str(args["--demand"]), *reach, "--json")
    assert res.code == 2, (res.code, res.stderr)
    assert res.stdout == "" and "Traceback" not in res.stderr
    for part in parts:
        assert part in res.stderr, (part, res.stderr)


def test_unwritable_out_folder_exits_2(cli, tmp_path, examples_dir):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    res = cli("access", "--units", examples_dir / "units.csv", "--demand", examples_dir / "demand.csv", "--radius-km", 10, "--out", blocker / "run")
    assert res.code == 2 and "could not write the output folder" in res.stderr and "a_file" in res.stderr


def test_numeric_vector_ids_match_a_csv_travel_table(cli, tmp_path):
    """Integer ids in a GeoPackage are read as the strings a CSV travel table holds."""
    demand = _gpkg(tmp_path / "d.gpkg", {"demand_id": [1, 2], "population": [100, 300]}, [shapely.Point(50, 36), shapely.Point(50.2, 36)])
    units = _gpkg(tmp_path / "u.gpkg", {"unit_id": [7]}, [shapely.Point(50.1, 36)])
    (tmp_path / "od.csv").write_text("demand_id,unit_id,distance\n1,7,12\n2,7,31\n")
    res = cli("access", "--units", units, "--demand", demand, "--distances", tmp_path / "od.csv", "--max-distance", 30, "--json")
    assert res.code == 0, res.stderr
    row = res.json()["regions"][0]
    assert row["covered_share"] == pytest.approx(0.25) and row["access_2sfca"] == pytest.approx(0.25 * 1 / 100)
    assert np.isclose(res.json()["totals"]["population"], 400)
