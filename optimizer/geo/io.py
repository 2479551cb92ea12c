"""Read units, demand and regions: the one place where geometry becomes arrays.

Every reader validates at the door and returns WGS84 longitude / latitude arrays plus a
frame of the other columns indexed by the (string) id. Accepted formats:

* tables (CSV, TSV, Parquet) with ``lon`` / ``lat`` columns in WGS84 degrees;
* any vector file geopandas reads (GeoPackage, GeoJSON, Shapefile, FlatGeobuf,
  GeoParquet, ...) in any declared CRS; geometries are transformed to WGS84
  (EPSG:4326). A file with no declared CRS is an error (its coordinates could be metres).

Polygon demand (census blocks, districts) becomes one point per polygon: the area
centroid computed in the World Cylindrical Equal Area projection (EPSG:6933), replaced
by a point on the surface (shapely ``representative_point``) when that centroid falls
outside the polygon (a crescent, a ring). The polygon's whole population is kept at
that point.

Need-weighted demand: with group columns ``g`` (people of the point in a target group,
e.g. ``pop_over_60``) and weights ``w_g`` stated by the user,

    need = population + sum_g (w_g - 1) * pop_g

so a weight of 2 counts each person of the group twice, a weight of 1 changes nothing
and a weight of 0 removes the group. Each ``pop_g`` must lie in ``[0, population]``;
groups may overlap (a person in two groups gets both extra weights); the resulting need
must not be negative. Without need weights, ``need == population``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.errors import InputError
from optimizer.validation import (
    TABLE_SUFFIXES,
    id_column,
    numeric_column,
    read_table,
    require_columns,
    require_file,
)

WGS84 = "EPSG:4326"
EQUAL_AREA = "EPSG:6933"
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".sqlite", ".zip")


class PointsOutsideRegions(UserWarning):
    """Some points fall outside every region polygon (they are kept, region = None)."""


@dataclass(frozen=True)
class Units:
    """Candidate units as WGS84 points.

    Attributes
    ----------
    ids : pd.Index
        Unit ids (strings), in file order.
    lon, lat : np.ndarray
        WGS84 degrees, aligned with ``ids``.
    frame : pd.DataFrame
        Every other column of the file, indexed by id.
    source : Path or None
        The file read.
    """

    ids: pd.Index
    lon: np.ndarray
    lat: np.ndarray
    frame: pd.DataFrame
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Demand:
    """Demand points (settlements, blocks, grid cells) with their population.

    Attributes
    ----------
    ids : pd.Index
        Demand ids (strings).
    lon, lat : np.ndarray
        WGS84 degrees.
    population : np.ndarray
        People at each point (>= 0).
    need : np.ndarray
        Need-weighted population ``population + sum_g (w_g - 1) pop_g``; equals
        ``population`` when no need weights are given.
    frame : pd.DataFrame
        Every other column, indexed by id.
    source : Path or None
        The file read.
    """

    ids: pd.Index
    lon: np.ndarray
    lat: np.ndarray
    population: np.ndarray
    need: np.ndarray
    frame: pd.DataFrame
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.ids)


def reject_rows(mask: np.ndarray, message: str, *, file, column: str | None = None, found=None) -> None:
    """Raise :class:`InputError` at the first True row of ``mask`` (1-based row number).

    ``found`` is an array aligned with ``mask`` (its value at that row is reported) or None.

    >>> reject_rows(np.array([False, True]), "expected x", file="f.csv", column="c", found=np.array([1, 7]))
    Traceback (most recent call last):
    optimizer.errors.InputError: f.csv: row 2, column 'c': expected x, found 7
    """
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        raise InputError(message, file=file, row=i + 1, column=column, found=None if found is None else found[i])


def is_vector_file(path: str | Path) -> bool:
    """True for files read with geopandas (by suffix; GeoParquet by its metadata)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        return True
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            return b"geo" in (pq.read_schema(p).metadata or {})
        except (OSError, ValueError):
            return False
    return False


def read_vector(path: str | Path, *, layer: str | None = None, what: str = "file") -> gpd.GeoDataFrame:
    """Read a vector file into WGS84; error on a missing CRS, null or invalid geometry."""
    p = require_file(path, what)
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            gdf = gpd.read_parquet(p)
        else:
            gdf = gpd.read_file(p, layer=layer)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"could not read the {what} as a vector file: {exc}", file=p) from None
    # a plain table (e.g. a CSV) reads as a frame without an active geometry column
    if not isinstance(gdf, gpd.GeoDataFrame) or getattr(gdf, "_geometry_column_name", None) not in gdf.columns:
        raise InputError(
            f"expected a vector file with geometries for the {what} (GeoJSON, GeoPackage, Shapefile, GeoParquet), found a table without geometry",
            file=p,
        )
    if len(gdf) == 0:
        raise InputError(f"the {what} has no features", file=p)
    if gdf.crs is None:
        raise InputError(
            f"expected a declared coordinate reference system (CRS) in the {what}, found none", file=p
        )
    geom = gdf.geometry
    reject_rows((geom.isna() | geom.is_empty).to_numpy(), "expected a geometry, found an empty one", file=p, column=geom.name)
    invalid = ~geom.is_valid.to_numpy()
    if invalid.any():
        reject_rows(invalid, "expected a valid geometry", file=p, column=geom.name, found=shapely.is_valid_reason(geom.to_numpy()))
    try:
        gdf = gdf.to_crs(WGS84)
    except Exception as exc:
        raise InputError(f"could not transform the {what} to WGS84: {exc}", file=p) from None
    return gdf


def _require_geometry(gdf: gpd.GeoDataFrame, allowed: list[str], expected: str, file: Path) -> None:
    kinds = gdf.geometry.geom_type.to_numpy(dtype=object)
    reject_rows(~np.isin(kinds, allowed), f"expected {expected}", file=file, column=gdf.geometry.name, found=kinds)


def polygon_points(geometry: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """One WGS84 point per geometry: points stay, polygons become area centroids.

    The centroid is computed in the equal-area EPSG:6933 projection; when it falls outside
    the polygon a representative point (always inside) is used instead.
    """
    geom = geometry.to_crs(WGS84)
    out = geom.copy()
    is_area = geom.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if is_area.any():
        areas = geom[is_area]
        centroids = areas.to_crs(EQUAL_AREA).centroid.to_crs(WGS84)
        inside = centroids.within(areas).to_numpy()
        rep = areas.representative_point()
        out[is_area] = np.where(inside, centroids.to_numpy(), rep.to_numpy())
    return shapely.get_x(out.to_numpy()), shapely.get_y(out.to_numpy())


def _check_lonlat(lon: np.ndarray, lat: np.ndarray, file, lon_col: str, lat_col: str) -> None:
    # not (inside the range) also catches NaN and infinities (e.g. a failed CRS transformation)
    reject_rows(~((lon >= -180.0) & (lon <= 180.0)), "expected a longitude in [-180, 180] degrees (WGS84)", file=file, column=lon_col, found=lon)
    reject_rows(~((lat >= -90.0) & (lat <= 90.0)), "expected a latitude in [-90, 90] degrees (WGS84)", file=file, column=lat_col, found=lat)


def _read_points(
    path: str | Path,
    *,
    id_col: str,
    lon_col: str,
    lat_col: str,
    layer: str | None,
    what: str,
    allow_polygons: bool,
) -> tuple[pd.Index, np.ndarray, np.ndarray, pd.DataFrame, Path]:
    """Shared reader: ids, lon, lat and the attribute frame (positional, not yet indexed)."""
    p = require_file(path, what)
    if is_vector_file(p):
        gdf = read_vector(p, layer=layer, what=what)
        allowed = ["Point"] + (["Polygon", "MultiPolygon"] if allow_polygons else [])
        _require_geometry(gdf, allowed, "point or polygon geometry" if allow_polygons else "point geometry", p)
        lon, lat = polygon_points(gdf.geometry)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        ids = id_column(df, id_col, file=p)
        cols_lon, cols_lat = gdf.geometry.name, gdf.geometry.name
    else:
        if p.suffix.lower() not in TABLE_SUFFIXES:
            raise InputError(
                f"expected a table ({', '.join(TABLE_SUFFIXES)}) or a vector file ({', '.join(VECTOR_SUFFIXES)}) for the {what}",
                file=p,
                found=p.suffix or "no suffix",
            )
        df = read_table(p, id_columns=[id_col], what=what)
        require_columns(df, [id_col, lon_col, lat_col], file=p)
        ids = id_column(df, id_col, file=p)
        lon = numeric_column(df, lon_col, file=p)
        lat = numeric_column(df, lat_col, file=p)
        cols_lon, cols_lat = lon_col, lat_col
    _check_lonlat(lon, lat, p, cols_lon, cols_lat)
    return ids, np.ascontiguousarray(lon, dtype=float), np.ascontiguousarray(lat, dtype=float), df.reset_index(drop=True), p


def _frame(df: pd.DataFrame, ids: pd.Index, id_col: str) -> pd.DataFrame:
    out = df.drop(columns=[id_col])
    out.index = pd.Index(ids, name=id_col)
    return out


def load_units(
    path: str | Path,
    *,
    id_col: str = "unit_id",
    lon_col: str = "lon",
    lat_col: str = "lat",
    layer: str | None = None,
) -> Units:
    """Read candidate units (CSV/Parquet with lon/lat, or a point vector file in any CRS)."""
    ids, lon, lat, df, p = _read_points(
        path, id_col=id_col, lon_col=lon_col, lat_col=lat_col, layer=layer, what="units file", allow_polygons=False
    )
    return Units(ids=ids, lon=lon, lat=lat, frame=_frame(df, ids, id_col), source=p)


def need_weighted(
    population: np.ndarray,
    groups: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
) -> np.ndarray:
    """Pure kernel: ``population + sum_g (w_g - 1) * pop_g``.

    >>> need_weighted(np.array([100.0, 50.0]), {"old": np.array([20.0, 0.0])}, {"old": 2.0}).tolist()
    [120.0, 50.0]
    """
    need = np.asarray(population, dtype=float).copy()
    for name, w in weights.items():
        need += (float(w) - 1.0) * np.asarray(groups[name], dtype=float)
    return need


def load_demand(
    path: str | Path,
    *,
    id_col: str = "demand_id",
    lon_col: str = "lon",
    lat_col: str = "lat",
    population_col: str = "population",
    need_weights: Mapping[str, float] | None = None,
    layer: str | None = None,
) -> Demand:
    """Read demand points or polygons with a population and optional need weighting.

    ``need_weights`` maps group columns (people in the group, at most the population) to
    weights ``w_g >= 0``: ``need = population + sum_g (w_g - 1) pop_g``.
    """
    ids, lon, lat, df, p = _read_points(
        path, id_col=id_col, lon_col=lon_col, lat_col=lat_col, layer=layer, what="demand file", allow_polygons=True
    )
    population = numeric_column(df, population_col, file=p, minimum=0.0)
    weights = dict(need_weights or {})
    groups: dict[str, np.ndarray] = {}
    for name, w in weights.items():
        if not np.isfinite(w) or w < 0:
            raise InputError(f"expected a need weight >= 0 for group column {name!r}", found=w)
        values = numeric_column(df, name, file=p, minimum=0.0)
        reject_rows(
            values > population * (1 + 1e-12) + 1e-9,
            f"expected a group population at most the point's population (column {population_col!r})",
            file=p,
            column=name,
            found=values,
        )
        groups[name] = values
    need = need_weighted(population, groups, weights)
    reject_rows(
        need < -1e-9,
        "expected a non-negative need-weighted population (overlapping groups with weights below 1 "
        "remove more people than live at the point)",
        file=p,
        column=", ".join(weights),
        found=need,
    )
    need = np.maximum(need, 0.0)
    return Demand(ids=ids, lon=lon, lat=lat, population=population, need=need, frame=_frame(df, ids, id_col), source=p)


def to_number(value: object) -> float:
    """``float(value)``, or NaN when it is not a number.

    >>> to_number(" 2.5 "), to_number("far")
    (2.5, nan)
    """
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def parse_pairs(text: str | None, *, option: str, expected: str) -> dict[str, float]:
    """Parse an option ``NAME=NUMBER,NAME=NUMBER`` (numbers finite and >= 0, names unique).

    ``expected`` describes the syntax in the error message, which names ``option``.

    >>> parse_pairs("urban=10, rural=30", option="--reach-by-kind", expected="KIND=KM")
    {'urban': 10.0, 'rural': 30.0}
    """
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = (t.strip() for t in part.partition("="))
        number = to_number(value)
        if not sep or not name or not np.isfinite(number) or number < 0 or name in out:
            raise InputError(f"expected {expected} pairs separated by commas, each number >= 0 and each name once", option=option, found=part)
        out[name] = number
    return out


def parse_need_weights(text: str | None) -> dict[str, float]:
    """Parse ``COL=W,COL=W`` (the ``--need`` option) into a mapping.

    >>> parse_need_weights("pop_over_60=2, low_income=1.5")
    {'pop_over_60': 2.0, 'low_income': 1.5}
    """
    return parse_pairs(text, option="--need", expected="COLUMN=WEIGHT")


def load_regions(
    path: str | Path,
    *,
    id_col: str = "region_id",
    name_col: str = "name",
    kind_col: str = "kind",
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read region polygons into WGS84, indexed by region id.

    Columns of the result: ``name`` (the id when the file has no name column), ``kind``
    (None when the file has no kind column) and ``geometry``.
    """
    gdf = read_vector(path, layer=layer, what="regions file")
    p = Path(path)
    _require_geometry(gdf, ["Polygon", "MultiPolygon"], "polygon geometry for a region", p)
    ids = id_column(gdf, id_col, file=p)
    names = gdf[name_col].astype(str).to_numpy(dtype=object) if name_col in gdf.columns else ids.to_numpy(dtype=object)
    kind = (
        gdf[kind_col].astype(object).where(gdf[kind_col].notna(), None).to_numpy(dtype=object)
        if kind_col in gdf.columns
        else np.full(len(gdf), None, dtype=object)
    )
    return gpd.GeoDataFrame(
        {"name": names, "kind": kind},
        geometry=gdf.geometry.to_numpy(),
        index=pd.Index(ids, name="region"),
        crs=WGS84,
    )


def assign_regions(
    lon: np.ndarray,
    lat: np.ndarray,
    regions: gpd.GeoDataFrame,
    *,
    ids: pd.Index | None = None,
    what: str = "points",
) -> pd.Series:
    """Region id of each point (first region in file order containing it), None outside.

    Points outside every region are kept (value None) and reported with a
    :class:`PointsOutsideRegions` warning naming how many and the first ids.

    >>> import shapely
    >>> sq = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)], index=pd.Index(["A"]), crs=WGS84)
    >>> with warnings.catch_warnings(record=True):
    ...     assign_regions(np.array([0.5, 2.0]), np.array([0.5, 2.0]), sq).tolist()
    ['A', None]
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    index = pd.RangeIndex(len(lon)) if ids is None else pd.Index(ids)
    pts = shapely.points(lon, lat)
    point_pos, region_pos = regions.sindex.query(pts, predicate="intersects")
    first = np.full(len(lon), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, point_pos, region_pos)
    inside = first != np.iinfo(np.int64).max
    labels = np.full(len(lon), None, dtype=object)
    labels[inside] = regions.index.to_numpy(dtype=object)[first[inside]]
    out = pd.Series(labels, index=index, name="region", dtype=object)
    if not inside.all():
        outside = index[~inside]
        shown = ", ".join(map(str, outside[:5])) + (", ..." if len(outside) > 5 else "")
        warnings.warn(
            f"{len(outside)} {what} fall outside every region (kept with no region): {shown}",
            PointsOutsideRegions,
            stacklevel=2,
        )
    return out


def code_column(
    frame: pd.DataFrame,
    column: str,
    *,
    file: str | Path | None = None,
    name: str | None = None,
    why: str | None = None,
) -> pd.Series:
    """A code column (region, service, kind) as strings, None where empty, indexed like ``frame``.

    A missing column is an error; ``why`` says what needs it.
    """
    if why is not None and column not in frame.columns:
        raise InputError(f"expected a {column!r} column: {why}", file=file, column=column)
    require_columns(frame, [column], file=file)
    raw = frame[column]
    values = raw.astype(object).where(raw.notna(), None)
    return pd.Series([_code(v) for v in values], index=frame.index, name=name or column, dtype=object)


def region_column(frame: pd.DataFrame, column: str, *, file: str | Path | None = None) -> pd.Series:
    """A region code column as strings (None where empty), indexed like ``frame``."""
    return code_column(frame, column, file=file, name="region")


def _code(value: object) -> str | None:
    """A region code as text: None when empty; 12.0 (a number column with gaps) -> '12'.

    >>> _code(12.0), _code(" C01 "), _code(None), _code("")
    ('12', 'C01', None, None)
    """
    if value is None:
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None
