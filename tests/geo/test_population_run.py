"""A population raster as the demand of a scenario and of ``optimizer population``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine

HELSINKI = Path(__file__).resolve().parents[2] / "examples" / "helsinki"


def _raster(path: Path) -> np.ndarray:
    """People per cell over the Helsinki example (EPSG:4326, 0.0025 deg cells), integers."""
    rng = np.random.default_rng(7)
    data = rng.integers(0, 400, (8, 18)).astype("float32")
    data[0, 0] = -99999  # nodata
    transform = Affine(0.0025, 0, 24.920, 0, -0.0025, 60.175)
    with rasterio.open(path, "w", driver="GTiff", height=8, width=18, count=1, dtype="float32", crs="EPSG:4326", transform=transform, nodata=-99999) as dst:
        dst.write(data, 1)
    return data


def test_population_command_sums_exactly(cli, tmp_path):
    data = _raster(tmp_path / "pop.tif")
    total = float(data[data >= 0].sum())
    r = cli("population", tmp_path / "pop.tif", "--factor", "3", "--out", tmp_path / "d.csv", "--json")
    assert r.code == 0, r.stderr
    info = json.loads(r.stdout)
    table = pd.read_csv(tmp_path / "d.csv")
    assert info["total_in_raster"] == total == table["population"].sum()
    assert len(table) == 3 * 6  # 8 x 18 cells in 3 x 3 blocks (a partial last row of blocks)
    again = cli("population", tmp_path / "pop.tif", "--out", tmp_path / "d.csv")
    assert again.code == 2 and "--force" in again.stderr


def test_population_command_bad_raster_exits_2(cli, tmp_path):
    (tmp_path / "x.tif").write_text("not a raster")
    r = cli("population", tmp_path / "x.tif", "--out", tmp_path / "d.csv")
    assert r.code == 2 and "x.tif" in r.stderr


def test_scenario_with_a_population_raster_as_demand(cli, tmp_path):
    folder = tmp_path / "s"
    shutil.copytree(HELSINKI, folder, ignore=shutil.ignore_patterns(".optimizer-cache"))
    data = _raster(folder / "pop.tif")
    # two regions split at lon 24.9425; a cell belongs to the region holding its centre
    regions = gpd.GeoDataFrame(
        {"region_id": ["W", "E"], "name": ["west", "east"]},
        geometry=[shapely.box(24.90, 60.14, 24.9425, 60.19), shapely.box(24.9425, 60.14, 24.99, 60.19)],
        crs="EPSG:4326",
    )
    regions.to_file(folder / "regions.geojson", driver="GeoJSON")
    text = (folder / "scenario.toml").read_text().replace('file = "demand.csv"', 'file = "pop.tif"')
    text = text.replace('mode = "road"', 'mode = "great-circle"\ndefault_km = 1.0')
    text += '\n[regions]\nfile = "regions.geojson"\n'
    (folder / "scenario.toml").write_text(text)
    r = cli("run", folder, "--out", tmp_path / "run", "--quiet")
    assert r.code == 0, r.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["total_population"] == float(data[data >= 0].sum())
    table = pd.read_csv(tmp_path / "run" / "regions.csv", index_col="region")
    lon_centres = 24.920 + 0.0025 * (np.arange(18) + 0.5)
    west = float(np.where(data >= 0, data, 0)[:, lon_centres < 24.9425].sum())
    assert table.loc["W", "population"] == west
    assert list((folder / ".optimizer-cache").glob("demand-*.csv"))
