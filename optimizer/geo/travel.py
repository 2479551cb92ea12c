"""Travel tables from roads or terrain, cached, and the coverage relation they give.

One entry point, :func:`compute_travel`, turns a :class:`RoadSource` (an OpenStreetMap
extract) or a :class:`FrictionSource` (a friction raster, or land cover with speeds and
roads) into the long table the selection reads: ``demand_id, unit_id, minutes``, every
pair within the largest cut-off needed. :func:`coverage_from_travel` then keeps the
pairs within each pair's own cut-off (per service and region kind, as network-adequacy
standards state them: urban 30 min, rural 60 min), inclusive.

The table is cached as Parquet under ``cache_dir``, keyed by a SHA-256 of everything
that changes it: the source files' bytes, the options, the cut-off and the ids and
coordinates of the points. A second run with the same inputs reads it back instead of
recomputing; any change makes a new key.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.geo.coverage import Reach, _coverage_from_pairs
from optimizer.geo.io import Demand, Units, code_column
from optimizer.geo.relation import Coverage
from optimizer.geo.roads import RoadOptions, network_times, read_network, road_lines, snap
from optimizer.output import atomic_file, write_json

#: Fastest speed assumed when widening the area read from an extract (km/h): no path
#: within the cut-off leaves the points' bounding box widened by cut-off x this speed.
TOP_SPEED_KMH = 140.0
TRAVEL_COLUMNS = ("demand_id", "unit_id", "minutes")


class PointsOffNetwork(UserWarning):
    """Demand points too far from any road, outside the raster or on impassable cells."""


@dataclass(frozen=True)
class RoadSource:
    """Travel on the roads of an OpenStreetMap extract (see :mod:`optimizer.geo.roads`)."""

    extract: Path
    options: RoadOptions = field(default_factory=RoadOptions)
    mode = "road"

    def files(self) -> list[Path]:
        return [Path(self.extract)]

    def key(self) -> dict:
        return {"mode": "road", **self.options.key()}


@dataclass(frozen=True)
class FrictionSource:
    """Travel over a friction surface (see :mod:`optimizer.geo.friction`).

    Give ``raster`` (minutes per metre), or ``landcover`` with ``speeds`` (a mapping
    class -> {walking, motorised} km/h or a CSV) and optionally ``roads`` (an ``.osm.pbf``
    extract, or a line vector file with a ``kmh`` or ``highway`` column).
    """

    raster: Path | None = None
    landcover: Path | None = None
    speeds: Mapping[str, Mapping[str, float]] | Path | None = None
    roads: Path | None = None
    travel_mode: str = "mixed"
    road_options: RoadOptions = field(default_factory=RoadOptions)
    walking_kmh: float = 5.0
    mode = "friction"

    def __post_init__(self) -> None:
        if (self.raster is None) == (self.landcover is None):
            raise InputError("expected exactly one of a friction raster or a land-cover raster", option="friction.raster/friction.landcover")
        if self.landcover is not None and self.speeds is None:
            raise InputError("expected the land-cover speeds (class -> walking/motorised km/h) with a land-cover raster", option="friction.landcover_speeds")

    def files(self) -> list[Path]:
        out = [Path(p) for p in (self.raster, self.landcover, self.roads) if p is not None]
        if isinstance(self.speeds, str | Path):
            out.append(Path(self.speeds))
        return out

    def key(self) -> dict:
        speeds = None if isinstance(self.speeds, str | Path) or self.speeds is None else {str(k): dict(v) for k, v in self.speeds.items()}
        return {
            "mode": "friction",
            "travel_mode": self.travel_mode,
            "speeds": speeds,
            "walking_kmh": self.walking_kmh,
            "roads": self.road_options.key() if self.roads is not None else None,
        }


@dataclass(frozen=True)
class TravelTable:
    """Every (demand, unit) pair within ``cutoff`` minutes.

    Attributes
    ----------
    pairs : pd.DataFrame
        ``demand_id``, ``unit_id`` (str), ``minutes`` (float), sorted by demand then unit.
    mode : "road" or "friction"
    cutoff : float
        Largest travel time kept (minutes, inclusive).
    key : str
        SHA-256 of the inputs (the cache key).
    off_network : pd.Index
        Demand points no unit can reach by this mode (too far from a road, outside the
        raster, or on a cell that cannot be crossed).
    cached : bool
        Read back from the cache rather than computed.
    seconds : float
        Time spent computing or reading it.
    """

    pairs: pd.DataFrame
    mode: str
    cutoff: float
    key: str
    off_network: pd.Index
    cached: bool
    seconds: float

    def summary(self) -> dict:
        return {
            "mode": self.mode,
            "cutoff_minutes": self.cutoff,
            "pairs": int(len(self.pairs)),
            "off_network_demand": int(len(self.off_network)),
            "cached": self.cached,
            "key": self.key,
            "seconds": round(self.seconds, 3),
        }


def file_digest(path: Path) -> str:
    if not path.is_file():
        raise InputError("expected an input file; it does not exist", file=path)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def travel_key(source: RoadSource | FrictionSource, demand: Demand, units: Units, cutoff: float) -> str:
    """SHA-256 of the source files, the options, the cut-off and the points."""
    h = hashlib.sha256()
    h.update(json.dumps({"source": source.key(), "cutoff": float(cutoff), "files": [file_digest(p) for p in source.files()]}, sort_keys=True).encode())
    for ids, lon, lat in ((demand.ids, demand.lon, demand.lat), (units.ids, units.lon, units.lat)):
        h.update("\x1f".join(map(str, ids)).encode())
        h.update(np.ascontiguousarray(lon, dtype=float).tobytes())
        h.update(np.ascontiguousarray(lat, dtype=float).tobytes())
    return h.hexdigest()


def _bbox(lon: np.ndarray, lat: np.ndarray, margin_km: float) -> tuple[float, float, float, float]:
    """Lon/lat bounds of the points widened by ``margin_km`` on the ground (conservative)."""
    dlat = margin_km / 111.19
    top = min(89.0, float(np.max(np.abs(lat))) + dlat)
    dlon = min(180.0, margin_km / (111.19 * np.cos(np.radians(top))))
    return (
        max(-180.0, float(lon.min()) - dlon),
        max(-90.0, float(lat.min()) - dlat),
        min(180.0, float(lon.max()) + dlon),
        min(90.0, float(lat.max()) + dlat),
    )


def _shown(ids: pd.Index) -> str:
    return ", ".join(map(str, ids[:5])) + (", ..." if len(ids) > 5 else "")


def _road_pairs(source: RoadSource, demand: Demand, units: Units, cutoff: float, workers: int, progress):
    opts = source.options
    lon = np.concatenate([demand.lon, units.lon])
    lat = np.concatenate([demand.lat, units.lat])
    margin = cutoff / 60.0 * max(TOP_SPEED_KMH, *opts.class_speed().values()) + opts.snap_max_m / 1000.0
    network = read_network(source.extract, opts, bbox=_bbox(lon, lat, margin))
    su = snap(network, units.lon, units.lat, opts)
    if su.too_far.any():
        far = pd.Index(units.ids)[su.too_far]
        raise InputError(
            f"expected every unit within {opts.snap_max_m:g} m of a road of the extract; {len(far)} unit(s) are farther: "
            f"{_shown(far)} (nearest road {su.metres[su.too_far].min():.0f} m or more; raise roads.snap_max_m or check the coordinates)",
            file=units.source,
            found=list(map(str, far[:5])),
        )
    sd = snap(network, demand.lon, demand.lat, opts)
    rows, cols, minutes = network_times(network.graph, su.node, su.minutes, sd.node, sd.minutes, cutoff, workers=workers, progress=progress)
    return rows, cols, minutes, pd.Index(demand.ids)[sd.too_far], len(np.unique(su.node))


def _road_frame(source: FrictionSource, bbox):
    """The roads to burn onto the friction surface (GeoDataFrame with ``kmh``), or None."""
    if source.roads is None:
        return None
    p = Path(source.roads)
    if p.name.lower().endswith(".pbf"):
        return road_lines(p, source.road_options, bbox=bbox)
    from optimizer.geo.io import read_vector

    lines = read_vector(p, what="roads file")
    if "kmh" in lines.columns:
        from optimizer.validation import numeric_column

        lines = lines.assign(kmh=numeric_column(lines, "kmh", file=p, minimum=0.0))
    elif "highway" in lines.columns:
        table = source.road_options.class_speed()
        lines = lines.assign(kmh=[table.get(str(h), table["other"]) for h in lines["highway"]])
    else:
        raise InputError("expected a 'kmh' (speed) or 'highway' (OSM class) column on the road lines", file=p, found=list(map(str, lines.columns)))
    return lines


def _friction_pairs(source: FrictionSource, demand: Demand, units: Units, cutoff: float, workers: int, progress):
    from optimizer.geo import friction as fr

    if source.raster is not None:
        surface = fr.read_friction(source.raster)
    else:
        lon = np.concatenate([demand.lon, units.lon])
        lat = np.concatenate([demand.lat, units.lat])
        roads = _road_frame(source, _bbox(lon, lat, cutoff / 60.0 * TOP_SPEED_KMH))
        speeds = fr.landcover_speeds(source.speeds)  # type: ignore[arg-type]
        surface = fr.friction_from_landcover(source.landcover, speeds, mode=source.travel_mode, roads=roads, walking_kmh=source.walking_kmh)  # type: ignore[arg-type]
    ucells = surface.cells(units.lon, units.lat)
    dcells = surface.cells(demand.lon, demand.lat)
    blocked = fr.impassable_points(surface, ucells)
    if blocked.all():
        raise InputError(
            "expected units inside the friction raster on cells that can be crossed; none is "
            f"(check the raster's extent and CRS: {surface.crs.to_string()})",
            file=surface.source,
        )
    if blocked.any():
        warnings.warn(
            f"{int(blocked.sum())} unit(s) lie outside the friction raster or on impassable cells and reach nobody: {_shown(pd.Index(units.ids)[blocked])}",
            PointsOffNetwork,
            stacklevel=3,
        )
    rows, cols, minutes = fr.friction_times(surface, ucells, dcells, cutoff, workers=workers, progress=progress)
    return rows, cols, minutes, pd.Index(demand.ids)[fr.impassable_points(surface, dcells)], int((~blocked).sum())


def compute_travel(
    source: RoadSource | FrictionSource,
    demand: Demand,
    units: Units,
    cutoff: float,
    *,
    cache_dir: str | Path | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> TravelTable:
    """The travel table of every pair within ``cutoff`` minutes, from the cache when present.

    ``progress(done, total)`` is called as unit searches finish (not when cached).
    """
    if not (np.isfinite(cutoff) and cutoff >= 0):
        raise InputError("expected a travel-time cut-off >= 0 minutes", option="reach.minutes", found=cutoff)
    if workers < 1:
        raise InputError("expected at least 1 worker", option="--workers", found=workers)
    t0 = time.perf_counter()
    key = travel_key(source, demand, units, cutoff)
    cache = None if cache_dir is None else Path(cache_dir) / f"travel-{key[:20]}.parquet"
    if cache is not None and cache.is_file():
        frame = pd.read_parquet(cache)
        meta_file = cache.with_suffix(".json")
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        off = pd.Index(meta.get("off_network", []), dtype=object)
        return TravelTable(frame, source.mode, float(cutoff), key, off, True, time.perf_counter() - t0)
    total = len(units)
    done = [0]

    def tick(k: int) -> None:
        done[0] += k
        if progress is not None:
            progress(min(done[0], total), total)

    pairs_of = _road_pairs if isinstance(source, RoadSource) else _friction_pairs
    rows, cols, minutes, off, _ = pairs_of(source, demand, units, float(cutoff), workers, tick)
    frame = pd.DataFrame(
        {
            "demand_id": pd.Index(demand.ids).to_numpy(dtype=object)[rows].astype(str),
            "unit_id": pd.Index(units.ids).to_numpy(dtype=object)[cols].astype(str),
            "minutes": minutes,
        }
    )
    if len(off):
        warnings.warn(
            f"{len(off)} demand point(s) cannot be reached by {source.mode} travel (too far from a road, outside the raster "
            f"or on an impassable cell): {_shown(off)}",
            PointsOffNetwork,
            stacklevel=2,
        )
    if cache is not None:  # the metadata first: a table in the cache always has its metadata
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_json(cache.with_suffix(".json"), {"key": key, "off_network": list(map(str, off)), "cutoff": float(cutoff), "source": source.key()})
        with atomic_file(cache) as tmp:
            frame.to_parquet(tmp, index=False)
    return TravelTable(frame, source.mode, float(cutoff), key, pd.Index(off, dtype=object), False, time.perf_counter() - t0)


def write_travel(table: TravelTable, path: str | Path) -> Path:
    """Write the pairs as CSV or Parquet (by suffix)."""
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        table.pairs.to_parquet(p, index=False)
    elif p.suffix.lower() == ".csv":
        table.pairs.to_csv(p, index=False)
    else:
        raise InputError("expected a .csv or .parquet file for the travel table", option="--out", found=p.name)
    return p


def coverage_from_travel(
    table: TravelTable,
    demand: Demand,
    units: Units,
    reach: Reach,
    *,
    kind_col: str = "kind",
    service_col: str = "service",
) -> Coverage:
    """Coverage: the pairs whose minutes are ``<= reach(service of the unit, kind of the point)``."""
    rows = pd.Index(demand.ids).get_indexer(table.pairs["demand_id"].to_numpy(dtype=object))
    cols = pd.Index(units.ids).get_indexer(table.pairs["unit_id"].to_numpy(dtype=object))
    minutes = table.pairs["minutes"].to_numpy(dtype=float)
    if (rows < 0).any() or (cols < 0).any():
        raise InputError("expected the travel table's ids to match the demand points and units (a stale cache?)", found=int(((rows < 0) | (cols < 0)).sum()))
    limit = np.full(len(rows), float(reach.default))
    if reach.uses_service or reach.uses_kind:
        services = code_column(units.frame, service_col, file=units.source, why="the reach is set per service").to_numpy(dtype=object) if reach.uses_service else np.full(len(units), None, dtype=object)
        kinds = code_column(demand.frame, kind_col, file=demand.source, why="the reach is set per region kind").to_numpy(dtype=object) if reach.uses_kind else np.full(len(demand), None, dtype=object)
        combos = pd.MultiIndex.from_arrays([pd.Index(services[cols], dtype=object), pd.Index(kinds[rows], dtype=object)])
        codes, uniques = pd.factorize(combos)
        values = np.array([reach.distance(s, k) for s, k in uniques], dtype=float)
        limit = values[codes]
    keep = minutes <= limit
    return _coverage_from_pairs(demand.ids, units.ids, rows[keep].astype(np.int64), cols[keep].astype(np.int64), minutes[keep])
