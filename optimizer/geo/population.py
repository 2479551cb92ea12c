"""Population rasters as demand: a GeoTIFF of people per cell becomes demand points.

A WorldPop or GHS-POP raster holds the number of people living in each cell. It is read
with rasterio, clipped to the region polygons, optionally aggregated to a coarser grid,
and each (coarse) cell with people becomes one demand point at the cell's centre.

Rules
-----
Valid cells
    A cell is valid unless it holds the raster's nodata value or NaN. A valid negative
    cell is an error (the first one is named, row and column of the raster, 1-based).
    ``total_in_raster`` is the sum of every valid cell.
Clipping (fine cells, by their centre)
    With regions, a native cell is kept when its centre lies in a region polygon: the
    polygons, reprojected to the raster's CRS, are burnt onto the grid with
    :func:`rasterio.features.rasterize`, whose default rule (``all_touched=False``) is
    exactly the cell-centre rule. The burnt value is the region's position + 1, burnt in
    reverse file order so that where polygons overlap the first region in file order
    wins. Without regions every valid cell is kept (region None). ``total_clipped`` is
    the sum of the kept cells.
Aggregation
    With an integer ``factor`` the grid is cut into blocks of ``factor x factor`` native
    cells, starting at the top-left corner; blocks on the right and bottom edges are
    partial. A block's population is the float64 sum of its kept cells. ``cell_m``
    alternatively gives the target size in metres: ``factor = max(1, round(cell_m /
    native))`` (halves rounded up), where ``native`` is the width of one native cell
    measured along a row at the raster's centre, by great-circle distance
    (:func:`optimizer.geo.distance.haversine_km`) for a geographic CRS, in the CRS's
    linear unit (which must then be metres) for a projected CRS.
Centres
    A block's point is the centre of the part of the block inside the raster (the full
    block's centre for interior blocks), transformed to WGS84 (EPSG:4326) with pyproj
    when the raster is in another CRS.
Region of a block
    With ``factor`` 1 a cell keeps the region it was clipped by. A coarser block belongs
    to the first region (file order) containing its centre (shapely, boundary included,
    in the raster's CRS); when its centre is in no region (a block on the outer border)
    it goes to the region holding most of its kept people (ties: first in file order).
    A block split by a border between two regions goes wholly to one of them.
Output
    Only blocks with population > 0 are output, row-major; ``demand_id`` is ``r{row}c{col}``
    (0-based block row and column).
Need groups
    ``groups`` maps a column name to a raster of the group's people (e.g. WorldPop age
    and sex rasters) on exactly the same grid (CRS, transform, shape); it is clipped and
    aggregated with the same kept cells. A group's nodata cell counts as 0 people of the
    group; a negative group cell, or one above the population of its cell by more than
    1e-9 relative, is an error naming the pixel. ``group_shares`` instead gives, per
    region, the share in [0, 1] of its people in each group; a block's group column is
    the share of the block's region times the block's population.

Why the sums are exact
----------------------
The blocks tile the grid: each native cell lies in exactly one block (edge blocks are
cut at the raster's edge, never dropped), and each kept cell in exactly one region (one
burnt value per cell). Summing a partition loses nobody and counts nobody twice, so the
blocks' populations add up to ``total_clipped`` and the blocks dropped for holding 0
people hold nobody. The sums are accumulated in float64: a float32 cell converts to
float64 exactly, and for integer-valued counts every partial sum is an integer below
2**53, so the totals are exact; otherwise the relative error is below
``cells x 2**-53``. Reading in row strips changes nothing: a strip is a whole number of
block rows, so no block straddles two strips, and burning the polygons with the strip's
window transform tests the same cell centres as burning the whole grid.

Region totals, by contrast, are exact only at the native resolution: a coarse block that
a border splits goes wholly to one region, so a region's total differs from its
native-cell clip by at most the people of the blocks straddling its border (each moves
whole, the total does not change).

Memory
------
The raster is read in row strips of about ``strip_cells`` cells (a multiple of
``factor`` rows) with rasterio windows, and the regions are burnt per strip, so a
10,000 x 10,000 raster never needs its whole grid in memory; only the output blocks
with people are kept. GDAL's block cache is capped at 64 MB during the read (its default,
5 % of the RAM, would hold up to a gigabyte of blocks that a single pass never reuses).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.errors
import rasterio.features
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.enums import MergeAlg
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from optimizer.errors import InputError
from optimizer.geo.distance import haversine_km
from optimizer.geo.io import WGS84, need_weighted, reject_rows
from optimizer.validation import (
    id_column,
    numeric_column,
    read_table,
    require_columns,
    require_file,
)

STRIP_CELLS = 1 << 24
"""Default number of native cells read at once (about 16 million: 64 MB of float32)."""

GDAL_CACHE_MB = 64
"""GDAL block cache while reading: one pass in strips gains nothing from a bigger cache."""

GROUP_TOLERANCE = 1e-9
"""Relative slack allowed when a group cell exceeds the population of its cell."""

RESERVED_COLUMNS = ("demand_id", "lon", "lat", "population", "region")


@dataclass(frozen=True)
class RasterDemand:
    """Demand points read from a population raster.

    Attributes
    ----------
    frame : pd.DataFrame
        One row per output cell with people > 0: ``demand_id`` (``r{row}c{col}``, 0-based
        coarse row and column), ``lon``, ``lat`` (WGS84 centre, degrees), ``population``,
        ``region`` (region id, None without regions), then one column per need group.
    source : Path
        The population raster.
    factor : int
        Aggregation factor (1 = native cells).
    cell_km : float
        Width of one output cell (km), along a row at the raster's centre.
    total_in_raster : float
        Sum of every valid (non-nodata) cell.
    total_clipped : float
        Sum of the cells kept (centre inside a region; every valid cell without regions);
        equals ``frame.population.sum()`` up to float rounding.
    shape : tuple[int, int]
        Native rows and columns of the raster.
    crs : str
        The raster's CRS (``EPSG:...`` when it has a code, else WKT).
    groups : tuple[str, ...]
        Names of the need-group columns of ``frame``.
    """

    frame: pd.DataFrame
    source: Path
    factor: int
    cell_km: float
    total_in_raster: float
    total_clipped: float
    shape: tuple[int, int] = (0, 0)
    crs: str = ""
    groups: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.frame)

    def summary(self) -> dict:
        """Totals for a report: what was read, kept and output, by region and group."""
        pop = self.frame["population"]
        out = {
            "source": str(self.source),
            "crs": self.crs,
            "raster_cells": int(self.shape[0]) * int(self.shape[1]),
            "factor": self.factor,
            "cell_km": self.cell_km,
            "points": len(self.frame),
            "total_in_raster": self.total_in_raster,
            "total_clipped": self.total_clipped,
            "total_output": float(pop.sum()),
            "clipped_share": self.total_clipped / self.total_in_raster if self.total_in_raster > 0 else float("nan"),
        }
        if self.frame["region"].notna().any():
            out["population_by_region"] = {str(k): float(v) for k, v in pop.groupby(self.frame["region"], sort=False).sum().items()}
        if self.groups:
            out["groups"] = {g: float(self.frame[g].sum()) for g in self.groups}
        return out

    def to_demand(self, need_weights: Mapping[str, float] | None = None):
        """The points as an :class:`optimizer.geo.io.Demand` (indexed by ``demand_id``).

        ``need_weights`` maps group columns to weights, as in
        :func:`optimizer.geo.io.load_demand`: ``need = population + sum_g (w_g - 1) pop_g``.
        """
        from optimizer.geo.io import Demand

        weights = dict(need_weights or {})
        unknown = [g for g in weights if g not in self.groups]
        if unknown:
            raise InputError(f"expected need weights for group columns of the raster demand ({', '.join(self.groups) or 'none'})", found=unknown[0])
        for name, w in weights.items():
            if not np.isfinite(w) or w < 0:
                raise InputError(f"expected a need weight >= 0 for group column {name!r}", found=w)
        ids = pd.Index(self.frame["demand_id"].to_numpy(dtype=object), name="demand_id")
        population = self.frame["population"].to_numpy(dtype=float)
        need = np.maximum(need_weighted(population, {g: self.frame[g].to_numpy(dtype=float) for g in weights}, weights), 0.0)
        frame = self.frame.drop(columns=["demand_id", "lon", "lat", "population"]).set_axis(ids, axis=0)
        return Demand(
            ids=ids,
            lon=self.frame["lon"].to_numpy(dtype=float),
            lat=self.frame["lat"].to_numpy(dtype=float),
            population=population,
            need=need,
            frame=frame,
            source=self.source,
        )


# --------------------------------------------------------------------------- kernels


def block_sums(values: np.ndarray, factor: int) -> np.ndarray:
    """Sum a 2-D array over ``factor x factor`` blocks from the top-left; edge blocks partial.

    Pure kernel (float64 accumulation, no checks).

    >>> block_sums(np.arange(1.0, 13.0).reshape(3, 4), 2).tolist()
    [[14.0, 22.0], [19.0, 23.0]]
    """
    a = np.asarray(values, dtype=np.float64)
    if factor == 1:
        return a
    rows = np.add.reduceat(a, np.arange(0, a.shape[0], factor), axis=0)
    return np.add.reduceat(rows, np.arange(0, a.shape[1], factor), axis=1)


def block_centres(start: int, stop: int, size: int, factor: int) -> np.ndarray:
    """Pixel coordinate of the centre of each block along one axis, cut at ``size``.

    Blocks ``[k f, min((k+1) f, size))`` for the block indices ``start <= k < stop``.

    >>> block_centres(0, 3, 7, 3).tolist()  # blocks [0,3), [3,6), [6,7)
    [1.5, 4.5, 6.5]
    """
    k = np.arange(start, stop, dtype=np.float64)
    return (k * factor + np.minimum((k + 1) * factor, size)) / 2.0


def majority_labels(block: np.ndarray, label: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each block, the label with the largest total weight (ties: the smallest label).

    Pure kernel: ``block``, ``label`` (ints) and ``weight`` are aligned per cell. Returns
    the distinct blocks (sorted) and the winning label of each.

    >>> majority_labels(np.array([0, 0, 0, 5, 5]), np.array([2, 1, 1, 3, 1]), np.array([4.0, 3, 2, 1, 1]))
    (array([0, 5]), array([1, 1]))
    """
    block = np.asarray(block, dtype=np.int64)
    label = np.asarray(label, dtype=np.int64)
    span = int(label.max()) + 1 if len(label) else 1
    keys, inverse = np.unique(block * span + label, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=np.asarray(weight, dtype=np.float64), minlength=len(keys))
    kb, kl = keys // span, keys % span
    order = np.lexsort((kl, -sums, kb))
    kb, kl = kb[order], kl[order]
    first = np.ones(len(kb), dtype=bool)
    first[1:] = kb[1:] != kb[:-1]
    return kb[first], kl[first]


# --------------------------------------------------------------------------- checks


def _positive_int(value: object, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float):
        raise InputError("expected an integer aggregation factor >= 1", option=option, found=value)
    if isinstance(value, float) and not value.is_integer() or value < 1:
        raise InputError("expected an integer aggregation factor >= 1", option=option, found=value)
    return int(value)


def _open(path: Path, what: str):
    try:
        return rasterio.open(path)
    except (rasterio.errors.RasterioError, OSError) as exc:
        raise InputError(f"expected a raster readable by rasterio/GDAL (e.g. a GeoTIFF) for the {what}: {exc}", file=path) from None


def _crs_text(crs) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else crs.to_wkt()


def _native_cell_m(ds, path: Path, *, need_metres: bool) -> float:
    """Width of one native cell in metres, along a row at the raster's centre."""
    t = ds.transform
    if ds.crs.is_geographic:
        col, row = ds.width / 2.0, ds.height / 2.0
        x0, y0 = t.a * col + t.b * row + t.c, t.d * col + t.e * row + t.f
        return float(haversine_km(x0, y0, x0 + t.a, y0 + t.d)) * 1000.0
    unit, to_metre = ds.crs.linear_units_factor
    if need_metres and not math.isclose(to_metre, 1.0):
        raise InputError(
            f"expected a raster in a geographic CRS or a projected CRS in metres to use a cell size in metres, found a CRS in {unit}",
            file=path,
        )
    return math.hypot(t.a, t.d) * to_metre


def _factor(ds, path: Path, factor: object, cell_m: object) -> int:
    if factor is not None and cell_m is not None:
        raise InputError("expected one of factor and cell_m (or neither), found both", option="factor", found=(factor, cell_m))
    if cell_m is not None:
        if isinstance(cell_m, bool) or not isinstance(cell_m, int | float | np.integer | np.floating) or not (math.isfinite(cell_m) and cell_m > 0):
            raise InputError("expected a target cell size in metres > 0", option="cell_m", found=cell_m)
        native = _native_cell_m(ds, path, need_metres=True)
        return max(1, math.floor(float(cell_m) / native + 0.5))
    return 1 if factor is None else _positive_int(factor, "factor")


def _same_grid(ds, gds, path: Path, group: str, gpath: Path) -> None:
    """Raise unless the group raster ``gds`` has the population raster's grid."""
    differs = []
    if gds.crs != ds.crs:
        differs.append(f"CRS {None if gds.crs is None else _crs_text(gds.crs)} instead of {_crs_text(ds.crs)}")
    if (gds.height, gds.width) != (ds.height, ds.width):
        differs.append(f"{gds.height} x {gds.width} cells instead of {ds.height} x {ds.width}")
    precision = 1e-6 * min(abs(ds.transform.a) or 1.0, abs(ds.transform.e) or 1.0)
    if not gds.transform.almost_equals(ds.transform, precision=precision):
        differs.append(f"transform {tuple(gds.transform)[:6]} instead of {tuple(ds.transform)[:6]}")
    if differs:
        raise InputError(
            f"expected the group {group!r} raster on the same grid (CRS, transform, shape) as the population raster {path}, found "
            + "; ".join(differs),
            file=gpath,
        )


def _pixel(row: int, col: int) -> str:
    return f"pixel at raster row {row + 1}, column {col + 1} (1-based)"


@dataclass(frozen=True, eq=False)
class _Zones:
    """Region polygons in the raster's CRS, ready to burn and to test points against."""

    ids: np.ndarray  # region ids (object), file order
    geoms: np.ndarray  # shapely geometries in the raster CRS
    tree: shapely.STRtree
    dtype: str
    lonlat_bounds: tuple[float, float, float, float]

    def burn(self, window_transform: Affine, shape: tuple[int, int], strip_box) -> np.ndarray:
        """Region position + 1 of each cell centre of the strip (0 outside every region)."""
        hits = np.sort(self.tree.query(strip_box, predicate="intersects"))
        if len(hits) == 0:
            return np.zeros(shape, dtype=self.dtype)
        shapes = [(self.geoms[i], int(i) + 1) for i in hits[::-1]]  # reverse: the first region, burnt last, wins
        return rasterio.features.rasterize(
            shapes, out_shape=shape, transform=window_transform, fill=0, all_touched=False, merge_alg=MergeAlg.replace, dtype=self.dtype
        )

    def first_containing(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Position of the first region (file order) containing each point (boundary included), -1 if none."""
        point_pos, region_pos = self.tree.query(shapely.points(x, y))  # bounding boxes
        hit = shapely.intersects_xy(self.geoms[region_pos], x[point_pos], y[point_pos])  # exact, prepared polygons
        point_pos, region_pos = point_pos[hit], region_pos[hit]
        none = np.iinfo(np.int64).max
        first = np.full(len(x), none, dtype=np.int64)
        np.minimum.at(first, point_pos, region_pos)
        first[first == none] = -1
        return first


def _zones(regions: gpd.GeoDataFrame, ds) -> _Zones:
    if len(regions) == 0:
        raise InputError("expected at least one region polygon, found none", option="regions")
    gdf = regions if regions.crs is not None else regions.set_crs(WGS84)
    lonlat = tuple(float(v) for v in gdf.to_crs(WGS84).total_bounds)
    geoms = gdf.to_crs(ds.crs.to_wkt()).geometry.to_numpy()
    shapely.prepare(geoms)
    n = len(geoms)
    dtype = "uint8" if n < 255 else "uint16" if n < 65535 else "int32"
    return _Zones(np.asarray(regions.index.astype(str), dtype=object), geoms, shapely.STRtree(geoms), dtype, lonlat)


def _read_shares(path: str | Path, zones: _Zones | None) -> tuple[list[str], dict[str, np.ndarray]]:
    """Group shares per region (aligned with ``zones.ids``) from a region_id + groups table."""
    p = require_file(path, "group shares table")
    if zones is None:
        raise InputError("expected region polygons (regions=) to apply group shares by region, found none", file=p)
    df = read_table(p, id_columns=["region_id"], what="group shares table")
    require_columns(df, ["region_id"], file=p)
    ids = id_column(df, "region_id", file=p)
    names = [c for c in df.columns if c != "region_id"]
    if not names:
        raise InputError("expected one column per group (a share in [0, 1]) besides 'region_id'", file=p, found=list(df.columns))
    pos = pd.Series(np.arange(len(ids)), index=ids)
    missing = [r for r in zones.ids if r not in pos.index]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise InputError(f"expected a row for region {missing[0]!r}{more}: every region needs its group shares", file=p, column="region_id")
    rows = pos.loc[list(zones.ids)].to_numpy()
    shares = {}
    for name in names:
        values = numeric_column(df, name, file=p, minimum=0.0)
        reject_rows(values > 1.0, "expected a share in [0, 1] of the region's people", file=p, column=name, found=values)
        shares[name] = values[rows]
    return names, shares


def _group_names(names, origin: Path | None) -> list[str]:
    out = []
    for name in names:
        text = str(name)
        if text in RESERVED_COLUMNS or text in out or not text.strip():
            raise InputError(
                f"expected group names distinct from each other and from {', '.join(RESERVED_COLUMNS)}",
                file=origin,
                option=None if origin is not None else "groups",
                found=text,
            )
        out.append(text)
    return out


# --------------------------------------------------------------------------- reading


def _valid(raw: np.ndarray, nodata) -> np.ndarray:
    valid = np.isfinite(raw) if raw.dtype.kind == "f" else np.ones(raw.shape, dtype=bool)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        valid &= raw != np.asarray(nodata).astype(raw.dtype)
    return valid


def _read(ds, band: int, window: Window, path: Path) -> np.ndarray:
    try:
        return ds.read(band, window=window)
    except (rasterio.errors.RasterioError, OSError) as exc:
        raise InputError(f"could not read rows {window.row_off + 1}-{window.row_off + window.height} of the raster: {exc}", file=path) from None


def raster_demand(
    path: str | Path,
    *,
    regions: gpd.GeoDataFrame | None = None,
    factor: int | None = None,
    cell_m: float | None = None,
    groups: Mapping[str, str | Path] | None = None,
    group_shares: str | Path | None = None,
    band: int = 1,
    strip_cells: int = STRIP_CELLS,
) -> RasterDemand:
    """Read a population raster (people per cell) into demand points; rules in the module doc.

    Parameters
    ----------
    path : the population GeoTIFF (any raster GDAL reads), with a declared CRS.
    regions : region polygons indexed by region id (:func:`optimizer.geo.io.load_regions`);
        cells whose centre is in no region are dropped. None keeps every valid cell.
    factor : aggregate blocks of ``factor x factor`` native cells (default 1).
    cell_m : or the target cell size in metres (``factor = max(1, round(cell_m / native))``).
    groups : group column name -> raster of that group's people on the same grid.
    group_shares : or a CSV/Parquet table ``region_id`` + one share column per group.
    band : band of the population raster (1-based); group rasters use band 1.
    strip_cells : about how many native cells are read at once (bounds the memory).
    """
    p = require_file(path, "population raster")
    if groups and group_shares is not None:
        raise InputError("expected group rasters (groups=) or group shares (group_shares=), found both", option="groups")
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        return _raster_demand(p, regions, factor, cell_m, groups, group_shares, band, strip_cells)


def _raster_demand(p: Path, regions, factor, cell_m, groups, group_shares, band, strip_cells) -> RasterDemand:
    opened = []
    try:
        ds = _open(p, "population raster")
        opened.append(ds)
        if ds.crs is None or not ds.crs.to_wkt():
            raise InputError(
                "expected a raster with a declared CRS (a georeferenced GeoTIFF, e.g. EPSG:4326 for WorldPop), found none", file=p
            )
        if isinstance(band, bool) or not isinstance(band, int | np.integer) or not 1 <= band <= ds.count:
            raise InputError(f"expected a band number in 1..{ds.count} of {p}", option="band", found=band)
        f = _factor(ds, p, factor, cell_m)
        cell_km = _native_cell_m(ds, p, need_metres=False) * f / 1000.0
        zones = None if regions is None else _zones(regions, ds)
        group_files: list[tuple[str, Path, object]] = []
        share_names: list[str] = []
        shares: dict[str, np.ndarray] = {}
        if groups:
            for name in _group_names(list(groups), None):
                gp = require_file(groups[name], f"group {name!r} raster")
                gds = _open(gp, f"group {name!r} raster")
                opened.append(gds)
                _same_grid(ds, gds, p, name, gp)
                group_files.append((name, gp, gds))
        elif group_shares is not None:
            share_names, shares = _read_shares(group_shares, zones)
            share_names = _group_names(share_names, Path(group_shares))
        table, (total_in_raster, total_clipped, n_valid, n_kept) = _scan(ds, p, band, f, zones, group_files, max(1, int(strip_cells)))
        if n_valid == 0:
            raise InputError(
                f"expected at least one valid cell, found nodata everywhere (nodata value {ds.nodatavals[band - 1]!r}; "
                "NaN counts as nodata)",
                file=p,
            )
        if n_kept == 0:
            rb = transform_bounds(ds.crs, WGS84, *ds.bounds, densify_pts=21)
            zb = zones.lonlat_bounds
            raise InputError(
                "expected valid cells with their centre inside a region, found none: the raster and the regions do not "
                f"overlap (raster: lon {rb[0]:.4f} to {rb[2]:.4f}, lat {rb[1]:.4f} to {rb[3]:.4f}; regions: lon "
                f"{zb[0]:.4f} to {zb[2]:.4f}, lat {zb[1]:.4f} to {zb[3]:.4f})",
                file=p,
            )
        names = [g for g, _, _ in group_files]
        frame = _frame(table, ds.crs, zones, names, share_names, shares)
        return RasterDemand(
            frame=frame,
            source=p,
            factor=f,
            cell_km=cell_km,
            total_in_raster=total_in_raster,
            total_clipped=total_clipped,
            shape=(ds.height, ds.width),
            crs=_crs_text(ds.crs),
            groups=tuple(names + share_names),
        )
    finally:
        for d in opened:
            d.close()


def _strip_transform(t: Affine, row0: int) -> Affine:
    """The transform of the strip starting at row ``row0`` (its top-left corner moved)."""
    return Affine(t.a, t.b, t.b * row0 + t.c, t.d, t.e, t.e * row0 + t.f)


def _strip_box(t: Affine, row0: int, nrows: int, width: int):
    """Bounding box of a strip in the raster's CRS (from its four corners)."""
    cols = np.array([0.0, width, 0.0, width])
    rows = np.array([row0, row0, row0 + nrows, row0 + nrows], dtype=float)
    x, y = t.a * cols + t.b * rows + t.c, t.d * cols + t.e * rows + t.f
    return shapely.box(x.min(), y.min(), x.max(), y.max())


def _check_group(raw, valid, graw, gvalid, row0: int, path: Path, gpath: Path) -> None:
    """Raise at the first valid cell whose group value is negative or above its population."""
    pop = raw.astype(np.float64)
    g = graw.astype(np.float64)
    bad = valid & gvalid & ((g < 0) | (g > pop + GROUP_TOLERANCE * np.abs(pop)))
    if bad.any():
        r, c = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise InputError(
            f"{_pixel(row0 + r, c)}: expected a group population in [0, the population of the cell], "
            f"the cell has {pop[r, c]:g} people in {path.name}",
            file=gpath,
            found=float(g[r, c]),
        )


def _scan(ds, path: Path, band: int, f: int, zones: _Zones | None, group_files, strip_cells: int):
    """Read the raster strip by strip; return the output blocks and the totals."""
    height, width, t = ds.height, ds.width, ds.transform
    strip_rows = max(f, (strip_cells // max(width, 1)) // f * f)
    nodata = ds.nodatavals[band - 1]
    col_centres = block_centres(0, (width - 1) // f + 1, width, f)
    names = [g for g, _, _ in group_files]
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("row", "col", "x", "y", "population", "region", *names)}
    total_in, clipped, n_valid, n_kept = [], [], 0, 0
    for row0 in range(0, height, strip_rows):
        nrows = min(strip_rows, height - row0)
        window = Window(0, row0, width, nrows)
        raw = _read(ds, band, window, path)
        valid = _valid(raw, nodata)
        negative = valid & (raw < 0)
        if negative.any():
            r, c = np.unravel_index(int(np.argmax(negative)), raw.shape)
            raise InputError(f"{_pixel(row0 + r, c)}: expected a population >= 0", file=path, found=float(raw[r, c]))
        n_valid += int(np.count_nonzero(valid))
        total_in.append(float(np.sum(raw, where=valid, dtype=np.float64)))
        label = None
        kept = valid
        if zones is not None:
            label = zones.burn(_strip_transform(t, row0), raw.shape, _strip_box(t, row0, nrows, width))
            kept = valid & (label > 0)
        values = np.zeros(raw.shape, dtype=np.float64)
        np.copyto(values, raw, where=kept)
        n_kept += int(np.count_nonzero(kept))
        clipped.append(float(values.sum()) if zones is not None else total_in[-1])
        group_values = {}
        for g, gp, gds in group_files:
            graw = _read(gds, 1, window, gp)
            gvalid = _valid(graw, gds.nodatavals[0])
            _check_group(raw, valid, graw, gvalid, row0, path, gp)
            gv = np.zeros(raw.shape, dtype=np.float64)
            np.copyto(gv, graw, where=kept & gvalid)
            group_values[g] = gv
        del raw, valid
        sums = block_sums(values, f)
        bi, bj = np.nonzero(sums > 0)
        if not len(bi):
            continue
        rc = block_centres(row0 // f, (row0 + nrows - 1) // f + 1, height, f)[bi]
        cc = col_centres[bj]
        x = t.a * cc + t.b * rc + t.c
        y = t.d * cc + t.e * rc + t.f
        region = np.full(len(bi), -1, dtype=np.int64)
        if zones is not None:
            if f == 1:
                region = label[bi, bj].astype(np.int64) - 1
            else:
                region = zones.first_containing(x, y)
                lost = region < 0
                if lost.any():
                    region[lost] = _fallback(bi[lost], bj[lost], label, kept, values, f)
        parts["row"].append(bi + row0 // f)
        parts["col"].append(bj)
        parts["x"].append(x)
        parts["y"].append(y)
        parts["population"].append(sums[bi, bj])
        parts["region"].append(region)
        for g, gv in group_values.items():
            parts[g].append(block_sums(gv, f)[bi, bj])
    table = {k: (np.concatenate(v) if v else np.empty(0)) for k, v in parts.items()}
    return table, (math.fsum(total_in), math.fsum(clipped), n_valid, n_kept)


def _fallback(bi: np.ndarray, bj: np.ndarray, label: np.ndarray, kept: np.ndarray, values: np.ndarray, f: int) -> np.ndarray:
    """Region position holding most kept people of each block (strip-local block bi, bj)."""
    nbc = (label.shape[1] - 1) // f + 1
    flag = np.zeros(((label.shape[0] - 1) // f + 1, nbc), dtype=bool)
    flag[bi, bj] = True
    fine_flag = np.repeat(np.repeat(flag, f, axis=0)[: label.shape[0]], f, axis=1)[:, : label.shape[1]]
    r, c = np.nonzero(kept & fine_flag)
    blocks, winner = majority_labels((r // f) * nbc + c // f, label[r, c], values[r, c])
    lookup = dict(zip(blocks.tolist(), winner.tolist(), strict=True))
    return np.array([lookup[i * nbc + j] - 1 for i, j in zip(bi.tolist(), bj.tolist(), strict=True)], dtype=np.int64)


def _frame(table: dict, crs, zones: _Zones | None, group_raster_names, share_names, shares) -> pd.DataFrame:
    x, y = table["x"], table["y"]
    if crs.to_epsg() == 4326:
        lon, lat = x, y
    else:
        lon, lat = Transformer.from_crs(crs.to_wkt(), WGS84, always_xy=True).transform(x, y)
    rows = table["row"].astype(np.int64)
    cols = table["col"].astype(np.int64)
    ids = np.array([f"r{i}c{j}" for i, j in zip(rows.tolist(), cols.tolist(), strict=True)], dtype=object)
    population = table["population"].astype(np.float64)
    if zones is None:
        region = np.full(len(rows), None, dtype=object)
        pos = None
    else:
        pos = table["region"].astype(np.int64)
        region = zones.ids[pos]
    frame = pd.DataFrame(
        {
            "demand_id": ids,
            "lon": np.asarray(lon, dtype=np.float64),
            "lat": np.asarray(lat, dtype=np.float64),
            "population": population,
            "region": pd.Series(region, dtype=object),
        }
    )
    for g in group_raster_names:
        frame[g] = table[g].astype(np.float64)
    for g in share_names:
        frame[g] = shares[g][pos] * population
    return frame


# --------------------------------------------------------------------------- writing


def write_demand(demand: RasterDemand, path: str | Path) -> Path:
    """Write the demand points by suffix: CSV, Parquet, or points in GeoPackage/GeoJSON.

    Columns: ``demand_id, lon, lat, population, region`` then the group columns; the
    vector formats add point geometries in WGS84 (EPSG:4326).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    frame = demand.frame
    p.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".csv", ".tsv", ".txt"):
        frame.to_csv(p, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(p, index=False)
    elif suffix in (".gpkg", ".geojson", ".json"):
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=WGS84)
        if p.exists():
            p.unlink()  # GeoJSON and GeoPackage layers are not overwritten in place by every driver
        gdf.to_file(p, driver="GPKG" if suffix == ".gpkg" else "GeoJSON")
    else:
        raise InputError(
            "expected an output suffix .csv, .tsv, .parquet, .gpkg or .geojson for the demand points", file=p, found=p.suffix or "no suffix"
        )
    return p
