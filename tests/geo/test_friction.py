"""Friction-surface travel time against a brute-force Dijkstra on the 8-neighbour grid."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS

from optimizer.errors import InputError
from optimizer.geo.friction import (
    FrictionSurface,
    friction_from_landcover,
    friction_times,
    kmh_to_minutes_per_m,
    landcover_speeds,
    read_friction,
)

UTM39 = CRS.from_epsg(32639)


def from_origin(west, north, xsize, ysize):
    from affine import Affine

    return Affine(xsize, 0.0, west, 0.0, -ysize, north)





def _brute(friction, dy, dx, starts, targets, cutoff):
    """Dijkstra (networkx) on the grid graph: a move costs length x (f_a + f_b) / 2,
    length dx, dy or sqrt(dx^2 + dy^2) on a diagonal."""
    rows, cols = friction.shape
    g = nx.Graph()
    for i in range(rows):
        for j in range(cols):
            g.add_node((i, j))
            for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
                a, b = i + di, j + dj
                if 0 <= a < rows and 0 <= b < cols and np.isfinite(friction[i, j]) and np.isfinite(friction[a, b]):
                    g.add_edge((i, j), (a, b), weight=np.hypot(di * dy, dj * dx) * (friction[i, j] + friction[a, b]) / 2)
    out = {}
    for k, (r, c) in enumerate(starts):
        if not np.isfinite(friction[r, c]):
            continue
        dist = nx.single_source_dijkstra_path_length(g, (r, c))
        for q, (tr, tc) in enumerate(targets):
            t = dist.get((tr, tc))
            if t is not None and t <= cutoff:
                out[(q, k)] = t
    return out


@pytest.mark.parametrize(("shape", "cutoff"), [((30, 40), 25.0), ((200, 180), 12.0)])
def test_accumulated_cost_equals_brute_force(shape, cutoff):
    """Small grid (one window) and a large one where the window must grow and stop early."""
    rng = np.random.default_rng(shape[0])
    friction = rng.uniform(0.002, 0.02, shape)
    friction[rng.random(shape) < 0.12] = np.inf
    dy, dx = 80.0, 100.0
    surface = FrictionSurface(friction, from_origin(500_000, 4_000_000, dx, dy), UTM39, None)
    nu, nd = 6, 1500
    ur, uc = rng.integers(0, shape[0], nu), rng.integers(0, shape[1], nu)
    dr, dc = rng.integers(0, shape[0], nd), rng.integers(0, shape[1], nd)
    rows, cols, minutes = friction_times(surface, (ur, uc, np.ones(nu, bool)), (dr, dc, np.ones(nd, bool)), cutoff)
    ref = _brute(friction, dy, dx, list(zip(ur, uc, strict=True)), list(zip(dr, dc, strict=True)), cutoff)
    got = {(int(r), int(c)): float(m) for r, c, m in zip(rows, cols, minutes, strict=True)}
    assert len(ref) > 20
    assert set(got) == set(ref)
    assert max(abs(got[k] - ref[k]) for k in ref) < 1e-9


def test_workers_give_identical_results():
    rng = np.random.default_rng(9)
    friction = rng.uniform(0.002, 0.02, (60, 60))
    surface = FrictionSurface(friction, from_origin(0, 0, 50, 50), UTM39, None)
    u = (rng.integers(0, 60, 8), rng.integers(0, 60, 8), np.ones(8, bool))
    d = (rng.integers(0, 60, 100), rng.integers(0, 60, 100), np.ones(100, bool))
    one = friction_times(surface, u, d, 10.0)
    two = friction_times(surface, u, d, 10.0, workers=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def _write(path, data, crs=UTM39, transform=None, nodata=None, dtype="float64"):
    transform = transform or from_origin(500_000, 4_000_000, 100, 100)
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1, dtype=dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data.astype(dtype), 1)
    return path


def test_landcover_modes_and_roads(tmp_path):
    """Class 1 grass (walk 5, drive 20), class 2 water (impassable); a road burnt at 60 km/h."""
    import geopandas as gpd
    import shapely

    cover = np.ones((5, 5))
    cover[:, 2] = 2  # a river down the middle column
    path = _write(tmp_path / "cover.tif", cover)
    speeds = landcover_speeds({"1": {"walking": 5, "motorised": 20}, "2": {"walking": 0, "motorised": 0}})
    # a road along row 2 (y = 4,000,000 - 250), crossing the river on a bridge
    road = gpd.GeoDataFrame({"kmh": [60.0]}, geometry=[shapely.LineString([(500_000, 3_999_750), (500_500, 3_999_750)])], crs=UTM39)
    walking = friction_from_landcover(path, speeds, mode="walking", roads=road)
    mixed = friction_from_landcover(path, speeds, mode="mixed", roads=road)
    motor = friction_from_landcover(path, speeds, mode="motorised", roads=road)
    five, sixty, twenty = kmh_to_minutes_per_m(np.array([5.0, 60.0, 20.0]))
    assert walking.minutes_per_m[2, 2] == five and np.isinf(walking.minutes_per_m[0, 2])  # bridge walkable
    assert mixed.minutes_per_m[2, 0] == sixty and mixed.minutes_per_m[0, 0] == five
    assert motor.minutes_per_m[2, 0] == sixty and motor.minutes_per_m[0, 0] == twenty
    assert np.isinf(motor.minutes_per_m[4, 2])


def test_read_friction_and_its_errors(tmp_path):
    good = _write(tmp_path / "f.tif", np.full((3, 3), 0.01), nodata=-1)
    surface = read_friction(good)
    assert surface.cell_m == (100.0, 100.0)
    with pytest.raises(InputError, match="projected CRS in metres"):
        read_friction(_write(tmp_path / "geo.tif", np.full((3, 3), 0.01), crs=CRS.from_epsg(4326), transform=from_origin(50, 30, 0.01, 0.01)))
    with pytest.raises(InputError, match="declared CRS"):
        read_friction(_write(tmp_path / "nocrs.tif", np.full((3, 3), 0.01), crs=None))
    with pytest.raises(InputError, match="every cell is nodata"):
        read_friction(_write(tmp_path / "empty.tif", np.full((3, 3), -1.0), nodata=-1))
    with pytest.raises(InputError, match="does not exist"):
        read_friction(tmp_path / "none.tif")


def test_landcover_class_without_speed_is_named(tmp_path):
    path = _write(tmp_path / "c.tif", np.array([[1, 1], [7, 7]]), dtype="int16")
    with pytest.raises(InputError, match="class 7 \\(2 cells\\) has none"):
        friction_from_landcover(path, {1: (5.0, 20.0)})


def test_points_map_to_their_cells():
    surface = FrictionSurface(np.full((10, 10), 0.01), from_origin(500_000, 4_000_000, 100, 100), UTM39, None)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(UTM39, "EPSG:4326", always_xy=True).transform([500_050, 500_950, 400_000], [3_999_950, 3_999_050, 3_999_950])
    row, col, inside = surface.cells(np.array(lon), np.array(lat))
    assert inside.tolist() == [True, True, False]
    assert (row[:2].tolist(), col[:2].tolist()) == ([0, 9], [0, 9])
