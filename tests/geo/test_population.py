"""Population rasters as demand: exact sums, centre-rule clipping, block regions, groups, bad input.

Every expected value is computed independently of the module: block sums by explicit
loops over the blocks, clipping by shapely point-in-polygon on the cell centres, centres
by hand from the affine transform and pyproj. Populations are integers (or dyadic
fractions), so float64 sums are exact and compared with ``==``.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer

from optimizer.errors import InputError
from optimizer.geo.distance import haversine_km
from optimizer.geo.io import load_demand
from optimizer.geo.population import RasterDemand, block_sums, raster_demand, write_demand

NODATA = -99999.0


def from_origin(west, north, xsize, ysize):
    """North-up transform (rasterio's own from_origin multiplies Affines with the deprecated ``*``)."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


def write_tif(path, data, *, crs="EPSG:4326", transform=None, nodata=NODATA, dtype="float32"):
    data = np.asarray(data)
    transform = transform or from_origin(50.0, 38.0, 0.5, 0.5)
    profile = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1, "dtype": dtype, "transform": transform}
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(dtype), 1)
    return path


def regions_of(**polygons) -> gpd.GeoDataFrame:
    """Regions in file order (keyword order), indexed by id, as load_regions returns them."""
    ids = list(polygons)
    return gpd.GeoDataFrame({"name": ids, "kind": [None] * len(ids)}, geometry=list(polygons.values()), index=pd.Index(ids, name="region"), crs="EPSG:4326")


@pytest.fixture
def grid(tmp_path):
    """7 x 8 cells of 0.5 degree from (50 E, 38 N); integer people, nodata and a NaN; dyadic cells."""
    rng = np.random.default_rng(7)
    data = rng.integers(0, 1000, (7, 8)).astype(np.float64)
    data[0, 0] = 0.25  # dyadic fractions stay exact
    data[6, 7] = 1.5
    data[1, 2] = NODATA
    data[4, 5] = NODATA
    data[3, 3] = np.nan  # NaN counts as nodata
    data[5, 1] = 0.0
    return write_tif(tmp_path / "pop.tif", data), data


def valid_mask(data):
    return np.isfinite(data) & (data != NODATA)


def centres(shape, transform):
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    t = transform
    return t.a * (cols + 0.5) + t.b * (rows + 0.5) + t.c, t.d * (cols + 0.5) + t.e * (rows + 0.5) + t.f


def reference_blocks(values, factor):
    """Block sums by explicit loops (the independent oracle for block_sums)."""
    nr, nc = math.ceil(values.shape[0] / factor), math.ceil(values.shape[1] / factor)
    out = np.zeros((nr, nc))
    for i in range(nr):
        for j in range(nc):
            out[i, j] = values[i * factor : (i + 1) * factor, j * factor : (j + 1) * factor].sum()
    return out


def by_id(demand: RasterDemand) -> pd.DataFrame:
    return demand.frame.set_index("demand_id")


# --------------------------------------------------------------------------- aggregation


@pytest.mark.parametrize("factor", [1, 2, 3])
def test_aggregation_preserves_the_total_exactly(grid, factor):
    """7 x 8 cells: factor 2 and 3 leave partial edge blocks; every block sum and the total are exact."""
    path, data = grid
    values = np.where(valid_mask(data), data, 0.0)
    demand = raster_demand(path, factor=factor)
    total = values.sum()
    assert demand.total_in_raster == total == demand.total_clipped
    assert demand.frame["population"].sum() == total
    assert demand.factor == factor
    expected = reference_blocks(values, factor)
    rows, cols = np.nonzero(expected > 0)
    assert demand.frame["demand_id"].tolist() == [f"r{i}c{j}" for i, j in zip(rows, cols, strict=True)]
    np.testing.assert_array_equal(demand.frame["population"], expected[rows, cols])
    assert demand.frame["region"].isna().all()
    assert (demand.frame["population"] > 0).all()
    assert list(demand.frame.columns) == ["demand_id", "lon", "lat", "population", "region"]


def test_zero_cells_are_not_output(grid):
    path, data = grid
    demand = raster_demand(path)
    assert "r5c1" not in set(demand.frame["demand_id"])  # 0 people
    assert "r1c2" not in set(demand.frame["demand_id"])  # nodata
    assert "r3c3" not in set(demand.frame["demand_id"])  # NaN
    assert len(demand) == int((valid_mask(data) & (np.nan_to_num(data) > 0)).sum())


def test_block_sums_kernel_matches_loops():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 50, (11, 13)).astype(float)
    for factor in (1, 2, 4, 5, 13, 20):
        np.testing.assert_array_equal(block_sums(values, factor), reference_blocks(values, factor))


@pytest.mark.parametrize("factor", [1, 2, 3])
def test_strips_give_the_same_result(grid, factor):
    """Reading a few rows at a time (strip_cells tiny) gives the identical frame."""
    path, _ = grid
    regions = regions_of(A=shapely.box(50.3, 35.1, 52.2, 38.0), B=shapely.Polygon([(51.0, 34.0), (54.0, 37.4), (54.0, 34.0)]))
    whole = raster_demand(path, factor=factor, regions=regions)
    strips = raster_demand(path, factor=factor, regions=regions, strip_cells=1)
    pd.testing.assert_frame_equal(whole.frame, strips.frame)
    assert whole.total_clipped == strips.total_clipped


# --------------------------------------------------------------------------- clipping


def test_clipping_keeps_exactly_the_cells_whose_centre_is_inside(grid):
    """Oracle: shapely point-in-polygon on every cell centre; overlapping polygons go to the first region."""
    path, data = grid
    tri = shapely.Polygon([(50.13, 34.61), (53.87, 37.77), (52.91, 34.27)])
    box = shapely.box(51.07, 35.33, 53.71, 36.93)  # overlaps the triangle
    regions = regions_of(T=tri, B=box)
    with rasterio.open(path) as ds:
        x, y = centres(ds.shape, ds.transform)
    in_t = shapely.contains_xy(tri, x, y)
    in_b = shapely.contains_xy(box, x, y) & ~in_t  # file order: T wins where both contain
    values = np.where(valid_mask(data), data, 0.0)
    demand = raster_demand(path, regions=regions)
    assert demand.total_clipped == values[in_t | in_b].sum()
    assert demand.frame["population"].sum() == values[in_t | in_b].sum()
    assert demand.total_in_raster == values.sum()
    got = demand.frame.groupby("region")["population"].sum()
    assert got["T"] == values[in_t].sum()
    assert got["B"] == values[in_b].sum()
    # the reverse file order gives the overlap to B
    demand = raster_demand(path, regions=regions_of(B=box, T=tri))
    got = demand.frame.groupby("region")["population"].sum()
    assert got["B"] == values[shapely.contains_xy(box, x, y)].sum()


def test_clipping_a_projected_raster_with_lonlat_regions(tmp_path):
    """UTM 39N raster, WGS84 regions: the polygon is reprojected and tested on the UTM centres."""
    transform = from_origin(400_000.0, 3_600_000.0, 1000.0, 1000.0)
    data = np.arange(1, 13 * 11 + 1, dtype=float).reshape(13, 11)
    path = write_tif(tmp_path / "utm.tif", data, crs="EPSG:32639", transform=transform)
    to_ll = Transformer.from_crs("EPSG:32639", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(403_300.0, 3_591_700.0)
    lon1, lat1 = to_ll.transform(409_100.0, 3_596_300.0)
    poly = shapely.box(lon0, lat0, lon1, lat1)
    utm_poly = gpd.GeoSeries([poly], crs="EPSG:4326").to_crs("EPSG:32639").iloc[0]
    x, y = centres(data.shape, transform)
    inside = shapely.contains_xy(utm_poly, x, y)
    demand = raster_demand(path, regions=regions_of(Z=poly))
    assert inside.sum() > 10
    assert demand.total_clipped == data[inside].sum() == demand.frame["population"].sum()
    assert demand.frame["region"].eq("Z").all()


# --------------------------------------------------------------------------- block regions


def block_rule_case(tmp_path, e_value):
    """4 x 4 cells of 1 degree from (0, 4); factor 2 gives four 2 x 2 blocks.

    Regions in file order: A (lon 0-2.6, lat 2-4), B (lon 2.6-4, lat 2-4), D (lon 0-0.9,
    lat 0-2), E (lon 1.2-1.8, lat 0-1). Block r0c1 has 1040 people in A and 136 in B but
    its centre (3, 3) is in B; block r1c0's centre (1, 1) is in no region: D holds 2 + 3,
    E holds ``e_value``; cell (1.5, 1.5) is in no region and block r1c1 in none.
    """
    data = np.array(
        [
            [1, 2, 400, 8],
            [16, 32, 640, 128],
            [2, 7, 256, 512],
            [3, e_value, 1024, 2048],
        ],
        dtype=float,
    )
    path = write_tif(tmp_path / "rule.tif", data, transform=from_origin(0.0, 4.0, 1.0, 1.0))
    regions = regions_of(
        A=shapely.box(0, 2, 2.6, 4), B=shapely.box(2.6, 2, 4, 4), D=shapely.box(0, 0, 0.9, 2), E=shapely.box(1.2, 0, 1.8, 1.0)
    )
    return path, regions, data


def test_block_region_centre_rule_and_most_people_fallback(tmp_path):
    path, regions, data = block_rule_case(tmp_path, e_value=7)
    demand = raster_demand(path, regions=regions, factor=2)
    f = by_id(demand)
    assert f.index.tolist() == ["r0c0", "r0c1", "r1c0"]
    assert f.loc["r0c0", "region"] == "A" and f.loc["r0c0", "population"] == 51
    assert f.loc["r0c1", "region"] == "B" and f.loc["r0c1", "population"] == 1040 + 136  # centre wins over majority
    assert f.loc["r1c0", "region"] == "E" and f.loc["r1c0", "population"] == 5 + 7  # most people: E (7) over D (5)
    assert demand.total_clipped == 51 + 1176 + 12
    assert demand.total_in_raster == data.sum()
    # at native resolution the region totals are the exact clip
    native = raster_demand(path, regions=regions).frame.groupby("region")["population"].sum()
    assert native.to_dict() == {"A": 1 + 2 + 400 + 16 + 32 + 640, "B": 136, "D": 5, "E": 7}


def test_block_region_fallback_tie_goes_to_the_first_region(tmp_path):
    path, regions, _ = block_rule_case(tmp_path, e_value=5)
    f = by_id(raster_demand(path, regions=regions, factor=2))
    assert f.loc["r1c0", "region"] == "D" and f.loc["r1c0", "population"] == 10


# --------------------------------------------------------------------------- centres


def test_centres_geographic_with_partial_edge_blocks(grid):
    """Factor 3 on 7 x 8 cells of 0.5 deg from (50, 38): blocks cut at the edge use the centre of their part."""
    path, _ = grid
    f = by_id(raster_demand(path, factor=3))
    # r0c0: rows 0-2, cols 0-2 -> centre pixel (1.5, 1.5) -> lon 50.75, lat 37.25
    assert (f.loc["r0c0", "lon"], f.loc["r0c0", "lat"]) == (50.75, 37.25)
    # r1c2: rows 3-5, cols 6-7 (cut) -> centre pixel (col 7.0, row 4.5) -> lon 53.5, lat 35.75
    assert (f.loc["r1c2", "lon"], f.loc["r1c2", "lat"]) == (53.5, 35.75)
    # r2c2: row 6 only, cols 6-7 -> centre pixel (col 7.0, row 6.5) -> lon 53.5, lat 34.75
    assert (f.loc["r2c2", "lon"], f.loc["r2c2", "lat"]) == (53.5, 34.75)
    # native cells: centre of the cell
    g = by_id(raster_demand(path))
    assert (g.loc["r6c7", "lon"], g.loc["r6c7", "lat"]) == (53.75, 34.75)


def test_centres_projected_are_transformed_to_wgs84(tmp_path):
    transform = from_origin(500_000.0, 4_000_000.0, 1000.0, 1000.0)
    path = write_tif(tmp_path / "utm.tif", np.ones((5, 5)), crs="EPSG:32639", transform=transform)
    f = by_id(raster_demand(path, factor=2))
    to_ll = Transformer.from_crs("EPSG:32639", "EPSG:4326", always_xy=True)
    for cell, (x, y) in {"r0c0": (501_000.0, 3_999_000.0), "r2c2": (504_500.0, 3_995_500.0), "r1c2": (504_500.0, 3_997_000.0)}.items():
        lon, lat = to_ll.transform(x, y)
        np.testing.assert_allclose([f.loc[cell, "lon"], f.loc[cell, "lat"]], [lon, lat], rtol=0, atol=1e-9)
    assert f.loc["r2c2", "population"] == 1 and f.loc["r0c0", "population"] == 4 and f.loc["r1c2", "population"] == 2
    # sanity: 4.5 km east of zone 39's central meridian (51 E)
    lat = f.loc["r2c2", "lat"]
    assert f.loc["r2c2", "lon"] == pytest.approx(51.0 + 4.5 / (111.32 * math.cos(math.radians(lat))), abs=1e-3)


# --------------------------------------------------------------------------- factor from cell_m


def test_cell_m_geographic_uses_great_circle_width_at_the_centre(tmp_path):
    """0.01 degree cells centred on the equator: native width = haversine(0, 0, 0.01, 0) = 1111.95 m."""
    path = write_tif(tmp_path / "eq.tif", np.ones((10, 10)), transform=from_origin(-0.05, 0.05, 0.01, 0.01))
    native_m = float(haversine_km(0.0, 0.0, 0.01, 0.0)) * 1000.0
    assert round(native_m, 2) == 1111.95
    demand = raster_demand(path, cell_m=3000)  # 2.70 -> 3
    assert demand.factor == 3
    assert demand.cell_km == pytest.approx(3 * native_m / 1000.0, rel=1e-12)
    assert raster_demand(path, cell_m=2700).factor == 2  # 2.43 -> 2
    assert raster_demand(path, cell_m=10).factor == 1  # never below 1
    assert raster_demand(path).cell_km == pytest.approx(native_m / 1000.0, rel=1e-12)


def test_cell_m_geographic_at_higher_latitude(tmp_path):
    """At 60 N a 0.01 degree cell is half as wide: 1000 m asks for factor round(1000 / 555.97) = 2."""
    path = write_tif(tmp_path / "n60.tif", np.ones((4, 4)), transform=from_origin(10.0, 60.02, 0.01, 0.01))
    native_m = float(haversine_km(10.02, 60.0, 10.03, 60.0)) * 1000.0
    demand = raster_demand(path, cell_m=1000)
    assert demand.factor == round(1000 / native_m) == 2
    assert demand.cell_km == pytest.approx(2 * native_m / 1000.0, rel=1e-12)


def test_cell_m_projected_uses_metres(tmp_path):
    transform = from_origin(500_000.0, 4_000_000.0, 250.0, 250.0)
    path = write_tif(tmp_path / "utm.tif", np.ones((8, 8)), crs="EPSG:32639", transform=transform)
    assert raster_demand(path, cell_m=1000).factor == 4
    assert raster_demand(path, cell_m=1100).factor == 4
    assert raster_demand(path, cell_m=1200).factor == 5
    assert raster_demand(path, cell_m=1000).cell_km == 1.0
    assert raster_demand(path).cell_km == 0.25


def test_cell_m_with_a_crs_in_feet_is_an_error(tmp_path):
    transform = from_origin(6_000_000.0, 2_100_000.0, 100.0, 100.0)
    path = write_tif(tmp_path / "feet.tif", np.ones((4, 4)), crs="EPSG:2227", transform=transform)
    with pytest.raises(InputError, match=r"feet\.tif: .*metres.*US survey foot"):
        raster_demand(path, cell_m=1000)
    assert raster_demand(path).cell_km == pytest.approx(100 * 0.3048006096 / 1000, rel=1e-9)  # still reported in km


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"factor": 0}, r"option 'factor': expected an integer aggregation factor >= 1, found 0"),
        ({"factor": -2}, r"option 'factor'.*found -2"),
        ({"factor": 1.5}, r"option 'factor'.*found 1.5"),
        ({"cell_m": 0}, r"option 'cell_m': expected a target cell size in metres > 0, found 0"),
        ({"cell_m": -100.0}, r"option 'cell_m'.*found -100.0"),
        ({"factor": 2, "cell_m": 1000}, r"expected one of factor and cell_m \(or neither\), found both"),
    ],
)
def test_bad_factor_options(grid, kwargs, match):
    path, _ = grid
    with pytest.raises(InputError, match=match):
        raster_demand(path, **kwargs)


# --------------------------------------------------------------------------- need groups


def test_group_rasters_are_clipped_and_aggregated_like_the_population(tmp_path, grid):
    path, data = grid
    valid = valid_mask(data)
    values = np.where(valid, data, 0.0)
    old = np.floor(values / 4)
    kids = np.floor(values / 3)
    kids[2, 2] = NODATA  # a group nodata cell counts as 0 people of the group
    old_path = write_tif(tmp_path / "old.tif", old)
    kids_path = write_tif(tmp_path / "kids.tif", kids)
    regions = regions_of(A=shapely.box(50.3, 35.1, 52.2, 38.0))
    demand = raster_demand(path, regions=regions, factor=2, groups={"pop_old": old_path, "pop_kids": kids_path})
    with rasterio.open(path) as ds:
        x, y = centres(ds.shape, ds.transform)
    kept = shapely.contains_xy(regions.geometry.iloc[0], x, y) & valid
    kids_counted = np.where(kids == NODATA, 0.0, kids)
    pop_blocks = reference_blocks(np.where(kept, values, 0.0), 2)
    rows, cols = np.nonzero(pop_blocks > 0)
    np.testing.assert_array_equal(demand.frame["pop_old"], reference_blocks(np.where(kept, old, 0.0), 2)[rows, cols])
    np.testing.assert_array_equal(demand.frame["pop_kids"], reference_blocks(np.where(kept, kids_counted, 0.0), 2)[rows, cols])
    assert list(demand.frame.columns) == ["demand_id", "lon", "lat", "population", "region", "pop_old", "pop_kids"]
    assert demand.groups == ("pop_old", "pop_kids")
    assert demand.summary()["groups"]["pop_old"] == old[kept].sum()


def test_group_above_the_population_names_the_pixel(tmp_path, grid):
    path, data = grid
    group = np.where(valid_mask(data), data, 0.0) / 2
    group[2, 4] = data[2, 4] + 1  # row 3, column 5 (1-based)
    gpath = write_tif(tmp_path / "old.tif", group)
    with pytest.raises(InputError) as err:
        raster_demand(path, groups={"old": gpath})
    text = str(err.value)
    assert text.startswith(f"{gpath}: pixel at raster row 3, column 5 (1-based)")
    assert f"the cell has {data[2, 4]:g} people in pop.tif" in text and f"found {float(data[2, 4] + 1)!r}" in text
    # within 1e-9 relative is accepted
    group[2, 4] = data[2, 4] * (1 + 1e-10)
    write_tif(gpath, group, dtype="float64")
    assert raster_demand(path, groups={"old": gpath}).groups == ("old",)


def test_group_negative_cell_names_the_pixel(tmp_path, grid):
    path, data = grid
    group = np.zeros(data.shape)
    group[6, 0] = -3
    gpath = write_tif(tmp_path / "g.tif", group)
    with pytest.raises(InputError, match=r"g\.tif: pixel at raster row 7, column 1 \(1-based\).*found -3\.0"):
        raster_demand(path, groups={"g": gpath})


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"transform": from_origin(50.0, 38.5, 0.5, 0.5)}, r"transform"),
        ({"crs": "EPSG:4269"}, r"CRS EPSG:4269 instead of EPSG:4326"),
        ({"shape": (7, 9)}, r"7 x 9 cells instead of 7 x 8"),
    ],
)
def test_group_raster_on_another_grid_is_an_error(tmp_path, grid, change, match):
    path, _ = grid
    shape = change.pop("shape", (7, 8))
    gpath = write_tif(tmp_path / "other.tif", np.zeros(shape), **change)
    with pytest.raises(InputError, match=r"other\.tif: expected the group 'x' raster on the same grid .*" + match):
        raster_demand(path, groups={"x": gpath})


def test_group_shares_by_region(tmp_path):
    path, regions, _ = block_rule_case(tmp_path, e_value=7)
    shares = tmp_path / "shares.csv"
    shares.write_text("region_id,old,kids\nA,0.25,0.5\nB,0.125,0\nD,1,0.75\nE,0.5,0.25\nZ,0.9,0.9\n")  # Z unused
    demand = raster_demand(path, regions=regions, factor=2, group_shares=shares)
    f = by_id(demand)
    assert f.loc["r0c0", "old"] == 0.25 * 51 and f.loc["r0c0", "kids"] == 0.5 * 51
    assert f.loc["r0c1", "old"] == 0.125 * 1176 and f.loc["r0c1", "kids"] == 0
    assert f.loc["r1c0", "old"] == 0.5 * 12 and f.loc["r1c0", "kids"] == 0.25 * 12  # the block's region is E
    assert demand.groups == ("old", "kids")


def test_group_shares_errors(tmp_path):
    path, regions, _ = block_rule_case(tmp_path, e_value=7)
    shares = tmp_path / "shares.csv"
    shares.write_text("region_id,old\nA,0.25\nB,0.5\nE,0.5\n")
    with pytest.raises(InputError, match=r"shares\.csv: column 'region_id': expected a row for region 'D'"):
        raster_demand(path, regions=regions, group_shares=shares)
    shares.write_text("region_id,old\nA,0.25\nB,1.5\nD,0\nE,0.5\n")
    with pytest.raises(InputError, match=r"shares\.csv: row 2, column 'old': expected a share in \[0, 1\].*found 1\.5"):
        raster_demand(path, regions=regions, group_shares=shares)
    shares.write_text("region_id,old\nA,0.25\nB,-0.5\nD,0\nE,0.5\n")
    with pytest.raises(InputError, match=r"shares\.csv: row 2, column 'old': expected a number >= 0"):
        raster_demand(path, regions=regions, group_shares=shares)
    shares.write_text("region_id,old\nA,0.25\n")
    with pytest.raises(InputError, match=r"shares\.csv: expected region polygons"):
        raster_demand(path, group_shares=shares)
    shares.write_text("region_id,population\nA,0.25\nB,0.5\nD,0\nE,0.5\n")
    with pytest.raises(InputError, match=r"shares\.csv: expected group names distinct .*found 'population'"):
        raster_demand(path, regions=regions, group_shares=shares)
    with pytest.raises(InputError, match=r"found both"):
        raster_demand(path, regions=regions, group_shares=shares, groups={"g": path})


# --------------------------------------------------------------------------- bad input


def test_not_a_raster(tmp_path):
    bad = tmp_path / "pop.tif"
    bad.write_text("this is not a GeoTIFF\n")
    with pytest.raises(InputError, match=r"pop\.tif: expected a raster readable by rasterio/GDAL"):
        raster_demand(bad)
    with pytest.raises(InputError, match=r"missing\.tif: population raster does not exist"):
        raster_demand(tmp_path / "missing.tif")


def test_raster_without_crs(tmp_path):
    path = write_tif(tmp_path / "nocrs.tif", np.ones((3, 3)), crs=None)
    with pytest.raises(InputError, match=r"nocrs\.tif: expected a raster with a declared CRS \(.*\), found none"):
        raster_demand(path)


def test_nodata_everywhere(tmp_path):
    data = np.full((4, 5), NODATA)
    data[1, 1] = np.nan
    path = write_tif(tmp_path / "empty.tif", data)
    with pytest.raises(InputError, match=r"empty\.tif: expected at least one valid cell, found nodata everywhere \(nodata value -99999\.0"):
        raster_demand(path)


def test_negative_population_names_the_first_pixel(tmp_path):
    data = np.ones((6, 4))
    data[2, 1] = -4.0  # row 3, column 2 (1-based): the first in raster order
    data[4, 0] = -1.0
    path = write_tif(tmp_path / "neg.tif", data)
    with pytest.raises(InputError, match=r"neg\.tif: pixel at raster row 3, column 2 \(1-based\): expected a population >= 0, found -4\.0"):
        raster_demand(path, strip_cells=4)  # the first negative is in the third strip


def test_no_overlap_gives_both_bounding_boxes(grid):
    path, _ = grid
    regions = regions_of(F=shapely.box(10.0, 45.0, 11.5, 46.25))
    with pytest.raises(InputError) as err:
        raster_demand(path, regions=regions)
    text = str(err.value)
    assert text.startswith(f"{path}: ")
    assert "the raster and the regions do not overlap" in text
    assert "raster: lon 50.0000 to 54.0000, lat 34.5000 to 38.0000" in text
    assert "regions: lon 10.0000 to 11.5000, lat 45.0000 to 46.2500" in text


def test_bad_band(grid):
    path, _ = grid
    with pytest.raises(InputError, match=r"option 'band': expected a band number in 1\.\.1 .*found 2"):
        raster_demand(path, band=2)


# --------------------------------------------------------------------------- output


def test_write_demand_formats_round_trip(tmp_path):
    path, regions, _ = block_rule_case(tmp_path, e_value=7)
    demand = raster_demand(path, regions=regions, factor=2)
    csv = write_demand(demand, tmp_path / "out" / "demand.csv")
    assert csv.read_text().splitlines()[0] == "demand_id,lon,lat,population,region"
    loaded = load_demand(csv)  # the CSV is a demand file the rest of the package reads
    assert loaded.ids.tolist() == ["r0c0", "r0c1", "r1c0"]
    np.testing.assert_array_equal(loaded.population, [51, 1176, 12])
    assert loaded.frame["region"].tolist() == ["A", "B", "E"]
    back = pd.read_parquet(write_demand(demand, tmp_path / "demand.parquet"))
    pd.testing.assert_frame_equal(back.astype({"region": object}), demand.frame)
    for name in ("demand.gpkg", "demand.geojson"):
        gdf = gpd.read_file(write_demand(demand, tmp_path / name))
        assert gdf.crs.to_epsg() == 4326
        np.testing.assert_allclose(gdf.geometry.x, demand.frame["lon"])
        np.testing.assert_array_equal(gdf["population"], demand.frame["population"])
    with pytest.raises(InputError, match=r"demand\.xlsx: expected an output suffix"):
        write_demand(demand, tmp_path / "demand.xlsx")


def test_summary_and_to_demand(tmp_path):
    path, regions, data = block_rule_case(tmp_path, e_value=7)
    shares = tmp_path / "shares.csv"
    shares.write_text("region_id,old\nA,0.25\nB,0.125\nD,1\nE,0.5\n")
    demand = raster_demand(path, regions=regions, factor=2, group_shares=shares)
    s = demand.summary()
    assert s["raster_cells"] == 16 and s["points"] == 3 and s["factor"] == 2 and s["crs"] == "EPSG:4326"
    assert s["total_in_raster"] == data.sum() and s["total_clipped"] == s["total_output"] == 1239
    assert s["population_by_region"] == {"A": 51.0, "B": 1176.0, "E": 12.0}
    assert s["groups"] == {"old": 0.25 * 51 + 0.125 * 1176 + 0.5 * 12}
    d = demand.to_demand(need_weights={"old": 2.0})
    assert d.ids.tolist() == ["r0c0", "r0c1", "r1c0"]
    np.testing.assert_array_equal(d.need, [51 + 12.75, 1176 + 147, 12 + 6])
    assert d.frame.loc["r0c1", "region"] == "B"
    with pytest.raises(InputError, match=r"expected need weights for group columns .*found 'young'"):
        demand.to_demand(need_weights={"young": 2.0})


def test_kept_cells_with_no_people_give_an_empty_frame(tmp_path):
    """Cells inside the regions but all 0 (and NaN with no nodata value declared): no point, no error."""
    data = np.zeros((3, 4))
    data[0, 3] = 9.0  # outside the region
    data[1, 1] = np.nan
    path = write_tif(tmp_path / "zeros.tif", data, transform=from_origin(0.0, 3.0, 1.0, 1.0), nodata=None)
    demand = raster_demand(path, regions=regions_of(A=shapely.box(0, 0, 2.5, 3)), factor=2)
    assert len(demand) == 0 and demand.total_clipped == 0 and demand.total_in_raster == 9.0
    assert list(demand.frame.columns) == ["demand_id", "lon", "lat", "population", "region"]
