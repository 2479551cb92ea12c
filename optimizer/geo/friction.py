"""Travel time over terrain: accumulated cost on a friction surface (AccessMod's method).

A friction surface holds, per raster cell, the minutes it takes to cross one metre of
it. A move between two neighbouring cells (8 neighbours) runs from centre to centre,
half in each cell, so it costs ``length x (f_a + f_b) / 2`` with ``length`` the cell
size along a row or column, or ``sqrt(dx^2 + dy^2)`` on a diagonal. The time from a
unit to a demand point is the least accumulated cost from the unit's cell to the
point's cell, computed with scikit-image's :class:`~skimage.graph.MCP_Geometric`
(exactly this cost, a Dijkstra over the grid). Points take the time of the cell they lie
in; a pair is within reach when that time is ``<= cut-off``. Cells with no data, a
friction that is not finite, or a friction <= 0 cannot be crossed.

Only the part of the grid a unit can reach is searched: the search stops once the
cheapest unsettled cell costs more than the cut-off, and it runs in a window around the
unit, which is exact once the cheapest cell on its border costs more than the cut-off (a path that leaves the window crosses its border first, so every
cell cheaper than the border was reached inside it). The window starts at 64 cells each
side and doubles until that holds or it covers the raster.

The surface must be in a projected CRS whose unit is the metre (as AccessMod requires);
a geographic raster is refused with the reprojection to do. Surfaces come from

* a raster of minutes per metre (:func:`read_friction`), or
* a land-cover raster with a speed per class and mode, with roads burnt onto it at
  their speed (:func:`friction_from_landcover`). Modes: ``walking`` (every cell at its
  class's walking speed; roads at least at ``walking_kmh``), ``motorised`` (road cells
  at the road's speed, other cells at the class's motorised speed, 0 = impassable),
  ``mixed`` (road cells at the road's speed, other cells at the walking speed: drive on
  roads, walk to and from them).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from optimizer.errors import InputError

MODES = ("walking", "motorised", "mixed")
_START_HALF = 64


@dataclass(frozen=True)
class FrictionSurface:
    """Minutes per metre on a projected grid.

    Attributes
    ----------
    minutes_per_m : np.ndarray (rows, cols) float64
        ``inf`` where the cell cannot be crossed.
    transform : affine.Affine
        Grid to CRS coordinates (north-up, no rotation).
    crs : rasterio.crs.CRS
        Projected, in metres.
    source : Path
    """

    minutes_per_m: np.ndarray
    transform: object
    crs: object
    source: Path

    @property
    def cell_m(self) -> tuple[float, float]:
        """(row height, column width) in metres."""
        return abs(float(self.transform.e)), abs(float(self.transform.a))

    @property
    def shape(self) -> tuple[int, int]:
        return self.minutes_per_m.shape  # type: ignore[return-value]

    def cells(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, col, inside) of each WGS84 point on the grid."""
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True).transform(np.asarray(lon, float), np.asarray(lat, float))
        t = self.transform  # north-up (checked on reading): no rotation terms
        col = np.floor((np.asarray(x, float) - t.c) / t.a)
        row = np.floor((np.asarray(y, float) - t.f) / t.e)
        rows, cols = self.shape
        inside = np.isfinite(row) & np.isfinite(col) & (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        return np.where(inside, row, 0).astype(np.int64), np.where(inside, col, 0).astype(np.int64), inside


def _open(path: str | Path, what: str):
    import rasterio

    p = Path(path)
    if not p.is_file():
        raise InputError(f"expected a {what} raster (GeoTIFF); the file does not exist", file=p)
    try:
        return rasterio.open(p)
    except rasterio.errors.RasterioError as exc:
        raise InputError(f"expected a readable {what} raster (GeoTIFF); rasterio could not open it ({exc})", file=p) from exc


def _check_metric(src, p: Path, what: str) -> None:
    if src.crs is None:
        raise InputError(f"expected a {what} raster with a declared CRS (a projected CRS in metres); it declares none", file=p)
    if not src.crs.is_projected:
        raise InputError(
            f"expected a {what} raster in a projected CRS in metres (friction is per metre); it is in {src.crs.to_string()} "
            "(reproject it first, e.g. gdalwarp -t_srs EPSG:32639 in.tif out.tif for a UTM zone)",
            file=p,
        )
    unit = (src.crs.linear_units or "").lower()
    if unit not in ("metre", "meter", "m", "metres", "meters"):
        raise InputError(f"expected a {what} raster whose CRS unit is the metre", file=p, found=src.crs.linear_units)
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise InputError(f"expected a north-up {what} raster (no rotation in its geotransform)", file=p, found=tuple(t)[:6])


def _band(src, p: Path, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64, valid mask) of band 1; an all-nodata raster is an error."""
    data = src.read(1, masked=True)
    values = np.asarray(data.filled(np.nan), dtype=float)
    valid = ~np.ma.getmaskarray(data) & np.isfinite(values)
    if not valid.any():
        raise InputError(f"expected a {what} raster with at least one cell of data; every cell is nodata", file=p)
    return values, valid


def read_friction(path: str | Path) -> FrictionSurface:
    """A friction raster in minutes per metre (cells <= 0, not finite or nodata impassable)."""
    p = Path(path)
    with _open(p, "friction") as src:
        _check_metric(src, p, "friction")
        values, valid = _band(src, p, "friction")
        transform, crs = src.transform, src.crs
    friction = np.where(valid & (values > 0), values, np.inf)
    return FrictionSurface(minutes_per_m=friction, transform=transform, crs=crs, source=p)


def kmh_to_minutes_per_m(kmh: np.ndarray) -> np.ndarray:
    """Minutes to cross one metre at ``kmh`` (inf where the speed is 0).

    >>> float(kmh_to_minutes_per_m(np.array([6.0]))[0])
    0.01
    """
    kmh = np.asarray(kmh, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(kmh > 0, 60.0 / (1000.0 * kmh), np.inf)


def landcover_speeds(table: Mapping[str, Mapping[str, float]] | str | Path) -> dict[int, tuple[float, float]]:
    """Land-cover class -> (walking km/h, motorised km/h) from a mapping or a CSV/Parquet file.

    The file has columns ``class``, ``walking_kmh`` and ``motorised_kmh`` (0 = impassable).
    """
    from optimizer.validation import numeric_column, read_table, require_columns

    out: dict[int, tuple[float, float]] = {}
    if isinstance(table, str | Path):
        p = Path(table)
        df = read_table(p, what="land-cover speed table")
        require_columns(df, ["class", "walking_kmh", "motorised_kmh"], file=p)
        classes = numeric_column(df, "class", file=p)
        walk = numeric_column(df, "walking_kmh", file=p, minimum=0.0)
        motor = numeric_column(df, "motorised_kmh", file=p, minimum=0.0)
        for i, c in enumerate(classes):
            if not float(c).is_integer() or int(c) in out:
                raise InputError("expected each land-cover class once, as a whole number", file=p, row=i + 2, column="class", found=c)
            out[int(c)] = (float(walk[i]), float(motor[i]))
        return out
    for key, speeds in table.items():
        try:
            code = int(str(key))
        except ValueError:
            raise InputError("expected a whole-number land-cover class", option="friction.landcover_speeds", found=key) from None
        walk_v = float(speeds.get("walking", 0.0))
        motor_v = float(speeds.get("motorised", 0.0))
        for name, v in (("walking", walk_v), ("motorised", motor_v)):
            if not (np.isfinite(v) and v >= 0):
                raise InputError("expected a speed >= 0 km/h", option=f"friction.landcover_speeds.{key}.{name}", found=v)
        out[code] = (walk_v, motor_v)
    return out


def burn_roads(shape: tuple[int, int], transform, crs, roads, *, speed_col: str = "kmh") -> np.ndarray:
    """Road speed (km/h) per cell, 0 off the roads: lines burnt with ``all_touched``, the
    fastest road of a cell winning. ``roads`` is a GeoDataFrame of lines with ``speed_col``.
    """
    from rasterio.features import rasterize

    lines = roads.to_crs(crs)
    lines = lines[lines.geometry.notna() & ~lines.geometry.is_empty]
    order = np.argsort(lines[speed_col].to_numpy(dtype=float), kind="stable")  # fastest burnt last
    shapes = [(g, float(s)) for g, s in zip(lines.geometry.to_numpy()[order], lines[speed_col].to_numpy(dtype=float)[order], strict=True)]
    if not shapes:
        return np.zeros(shape)
    return rasterize(shapes, out_shape=shape, transform=transform, fill=0.0, all_touched=True, dtype="float64")


def friction_from_landcover(
    path: str | Path,
    speeds: Mapping[int, tuple[float, float]],
    *,
    mode: str = "mixed",
    roads=None,
    walking_kmh: float = 5.0,
) -> FrictionSurface:
    """Friction from a land-cover raster, a speed per class, and roads burnt onto it.

    ``roads`` is None or a GeoDataFrame of lines with a ``kmh`` column (e.g. the road
    edges of an OSM extract). See the module docstring for the three modes.
    """
    if mode not in MODES:
        raise InputError(f"expected a travel mode in {list(MODES)}", option="friction.mode", found=mode)
    p = Path(path)
    with _open(p, "land-cover") as src:
        _check_metric(src, p, "land-cover")
        values, valid = _band(src, p, "land-cover")
        transform, crs = src.transform, src.crs
    classes = np.where(valid, values, -1).astype(np.int64)
    present = np.unique(classes[valid])
    missing = [int(c) for c in present if int(c) not in speeds]
    if missing:
        count = int(np.isin(classes, missing).sum())
        raise InputError(
            f"expected a speed for every land-cover class in the raster; class {missing[0]} ({count} cells"
            f"{' with the other missing classes' if len(missing) > 1 else ''}) has none",
            file=p,
            found=missing,
        )
    lut_classes = np.array(sorted(speeds), dtype=np.int64)
    walk_lut = np.array([speeds[c][0] for c in lut_classes])
    motor_lut = np.array([speeds[c][1] for c in lut_classes])
    pos = np.searchsorted(lut_classes, np.where(valid, classes, lut_classes[0]))
    walk = np.where(valid, walk_lut[pos], 0.0)
    motor = np.where(valid, motor_lut[pos], 0.0)
    road = burn_roads(classes.shape, transform, crs, roads) if roads is not None else np.zeros(classes.shape)
    on_road = road > 0
    if mode == "walking":
        kmh = np.where(on_road, np.maximum(walk, walking_kmh), walk)
    elif mode == "motorised":
        kmh = np.where(on_road, road, motor)
    else:
        kmh = np.where(on_road, road, walk)
    return FrictionSurface(minutes_per_m=kmh_to_minutes_per_m(kmh), transform=transform, crs=crs, source=p)


@lru_cache(maxsize=1)
def _cut_off_mcp():
    """``MCP_Geometric`` that stops once the cheapest unsettled cell costs more than the cut-off.

    Cells are settled in increasing cost, so every cell whose cost is ``<= cutoff`` is
    settled (exact) when it stops; cells left unsettled keep a value above the cut-off.
    """
    from skimage.graph import MCP_Geometric

    class CutOff(MCP_Geometric):
        def __init__(self, costs, cutoff: float, **kwargs):
            super().__init__(costs, **kwargs)
            self.cutoff = cutoff

        def goal_reached(self, index, cumcost):
            return 2 if cumcost > self.cutoff else 0

    return CutOff


def _window_costs(friction: np.ndarray, cell_m: tuple[float, float], row: int, col: int, cutoff: float):
    """Accumulated cost from one cell in the smallest doubling window that is exact.

    Values ``<= cutoff`` in the result are exact; larger values only say "beyond the cut-off".
    """
    mcp = _cut_off_mcp()
    rows, cols = friction.shape
    half = _START_HALF
    while True:
        r0, r1 = max(0, row - half), min(rows, row + half + 1)
        c0, c1 = max(0, col - half), min(cols, col + half + 1)
        window = friction[r0:r1, c0:c1]
        costs, _ = mcp(window, cutoff, sampling=cell_m, fully_connected=True).find_costs([(row - r0, col - c0)])
        whole = r0 == 0 and c0 == 0 and r1 == rows and c1 == cols
        border = np.concatenate(
            [costs[0, :] if r0 > 0 else [], costs[-1, :] if r1 < rows else [], costs[:, 0] if c0 > 0 else [], costs[:, -1] if c1 < cols else []]
        )
        if whole or border.size == 0 or float(np.min(border)) > cutoff:
            return costs, r0, c0
        half *= 2


@dataclass(frozen=True)
class _Search:
    """What every unit's search shares (sent once to each worker process)."""

    friction: np.ndarray
    cell_m: tuple[float, float]
    cutoff: float
    d_rows: np.ndarray
    d_cols: np.ndarray

    def unit(self, row: int, col: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions in d_rows, minutes) of the demand cells within the cut-off of one unit."""
        if not np.isfinite(self.friction[row, col]):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        costs, r0, c0 = _window_costs(self.friction, self.cell_m, row, col, self.cutoff)
        lr, lc = self.d_rows - r0, self.d_cols - c0
        idx = np.flatnonzero((lr >= 0) & (lr < costs.shape[0]) & (lc >= 0) & (lc < costs.shape[1]))
        t = costs[lr[idx], lc[idx]]
        ok = np.isfinite(t) & (t <= self.cutoff)
        return idx[ok], t[ok]


_WORKER: _Search | None = None


def _init_worker(search: _Search) -> None:
    global _WORKER
    _WORKER = search


def _worker_unit(cell: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    assert _WORKER is not None
    return _WORKER.unit(*cell)


def friction_times(
    surface: FrictionSurface,
    unit_cells: tuple[np.ndarray, np.ndarray, np.ndarray],
    demand_cells: tuple[np.ndarray, np.ndarray, np.ndarray],
    cutoff: float,
    *,
    workers: int = 1,
    progress=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (demand, unit) pair with accumulated time ``<= cutoff`` (positions, minutes),
    sorted by demand then unit. Cells are ``(row, col, inside)`` from :meth:`FrictionSurface.cells`;
    ``progress(1)`` is called after each unit.
    """
    u_row, u_col, u_in = unit_cells
    d_row, d_col, d_in = demand_cells
    d_idx = np.flatnonzero(d_in)
    units = np.flatnonzero(u_in)
    search = _Search(surface.minutes_per_m, surface.cell_m, float(cutoff), d_row[d_idx], d_col[d_idx])
    cells = [(int(u_row[j]), int(u_col[j])) for j in units]
    rows_out, cols_out, time_out = [], [], []

    def collect(j: int, found: tuple[np.ndarray, np.ndarray]) -> None:
        idx, t = found
        rows_out.append(d_idx[idx])
        cols_out.append(np.full(len(idx), j, dtype=np.int64))
        time_out.append(t)
        if progress is not None:
            progress(1)

    if workers > 1 and len(cells) > 1:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(search,)) as pool:
            chunk = max(1, len(cells) // (8 * workers))
            for j, found in zip(units, pool.map(_worker_unit, cells, chunksize=chunk), strict=True):
                collect(int(j), found)
    else:
        for j, cell in zip(units, cells, strict=True):
            collect(int(j), search.unit(*cell))
    if not rows_out:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    rows = np.concatenate(rows_out).astype(np.int64)
    cols = np.concatenate(cols_out).astype(np.int64)
    times = np.concatenate(time_out)
    order = np.lexsort((cols, rows))
    return rows[order], cols[order], times[order]


def impassable_points(surface: FrictionSurface, cells: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Boolean per point: outside the raster or on a cell that cannot be crossed."""
    row, col, inside = cells
    out = ~inside.copy()
    out[inside] |= ~np.isfinite(surface.minutes_per_m[row[inside], col[inside]])
    return out


__all__ = [
    "MODES",
    "FrictionSurface",
    "burn_roads",
    "friction_from_landcover",
    "friction_times",
    "impassable_points",
    "kmh_to_minutes_per_m",
    "landcover_speeds",
    "read_friction",
]

