"""The data behind the report's map: region polygons as GeoJSON, units and demand points.

Everything is turned into plain JSON-ready structures here; the page's script only
draws them. Coordinates are WGS84 longitude / latitude rounded to 5 decimals (about 1 m),
and polygons are simplified for display with a tolerance of 1/2000 of the extent of the
regions (Douglas-Peucker on the display coordinates: it changes the drawing, not any
computed figure).
"""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.output import to_jsonable
from optimizer.report.status import unit_status

COORD_DECIMALS = 5
MAX_DEMAND_POINTS = 20_000
"""Demand points drawn on the map; above this, the most populous are kept (stated on the map)."""

REGION_FIELDS = (
    "name",
    "population",
    "units_before",
    "units_after",
    "covered_share_before",
    "covered_share_after",
    "floor",
)


def _plain(value: Any) -> Any:
    """A JSON-safe scalar (NaN, NA and inf become None; anything else unusual, text)."""
    plain = to_jsonable(value)
    return plain if plain is None or isinstance(plain, bool | int | float | str) else str(plain)


def regions_geojson(geometry: gpd.GeoDataFrame | None, regions: pd.DataFrame) -> dict | None:
    """FeatureCollection of region polygons carrying each region's before/after indicators.

    ``geometry`` is indexed by region id (any CRS; reprojected to EPSG:4326). Regions
    without a row in ``regions`` keep their polygon with empty indicators. Returns None
    when there is no geometry.
    """
    if geometry is None or len(geometry) == 0:
        return None
    geo = geometry
    if geo.crs is not None and not geo.crs.equals("EPSG:4326"):
        geo = geo.to_crs(4326)
    geoms = geo.geometry.to_numpy()
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    tolerance = max(maxx - minx, maxy - miny) / 2000.0
    simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
    simple = shapely.set_precision(simple, 10.0**-COORD_DECIMALS)
    features = []
    for region_id, geom in zip(geo.index, simple, strict=True):
        if geom is None or geom.is_empty:
            continue
        props: dict[str, Any] = {"region": str(region_id)}
        row = regions.loc[region_id] if region_id in regions.index else None
        for field in REGION_FIELDS:
            if row is not None and field in row.index:
                props[field] = _plain(row[field])
            elif field == "name" and "name" in geo.columns:
                props[field] = _plain(geo.at[region_id, "name"])
        features.append({"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": features}


def units_payload(units: pd.DataFrame) -> list[dict]:
    """One record per unit for the map: position, status and the tooltip's fields."""
    status = unit_status(units)
    out = []
    lon = units["lon"].to_numpy(float)
    lat = units["lat"].to_numpy(float)
    for k, unit_id in enumerate(units.index):
        if not (math.isfinite(lon[k]) and math.isfinite(lat[k])):
            continue
        row = units.iloc[k]
        rec = {
            "id": str(unit_id),
            "lon": round(float(lon[k]), COORD_DECIMALS),
            "lat": round(float(lat[k]), COORD_DECIMALS),
            "status": status.iloc[k],
        }
        for field in ("name", "service", "region", "score", "rank", "cost", "marginal_coverage", "capacity", "load", "utilisation", "reason"):
            if field in units.columns:
                rec[field] = _plain(row[field])
        out.append(rec)
    return out


def demand_payload(demand: pd.DataFrame | None, limit: int = MAX_DEMAND_POINTS) -> dict:
    """Demand points as compact rows ``[lon, lat, population, covered_before, covered_after]``.

    ``covered_*`` is the point's covered share in [0, 1] (the service-weighted share of
    the services it has in reach; a bool column counts as 0 or 1), rounded to 3 decimals.
    Above ``limit`` points, the ``limit`` most populous are kept; ``total`` and ``shown``
    say so.
    """
    if demand is None or len(demand) == 0 or not {"lon", "lat"} <= set(demand.columns):
        return {"points": [], "total": 0, "shown": 0}
    pop = pd.to_numeric(demand.get("population", pd.Series(1.0, index=demand.index)), errors="coerce").fillna(0.0)
    data = demand
    if len(data) > limit:
        keep = np.sort(np.argsort(-pop.to_numpy(float), kind="stable")[:limit])
        data, pop = data.iloc[keep], pop.iloc[keep]

    def share(column: str) -> np.ndarray:
        if column not in data.columns:
            return np.zeros(len(data))
        values = pd.to_numeric(data[column].astype(object), errors="coerce").astype(float)
        return np.round(np.clip(values.fillna(0.0).to_numpy(), 0.0, 1.0), 3)

    before, after = share("covered_before"), share("covered_after")
    lon = np.round(data["lon"].to_numpy(float), COORD_DECIMALS)
    lat = np.round(data["lat"].to_numpy(float), COORD_DECIMALS)
    popv = pop.to_numpy(float)
    points = [
        [float(lon[k]), float(lat[k]), round(float(popv[k]), 1), float(before[k]), float(after[k])]
        for k in range(len(data))
        if math.isfinite(lon[k]) and math.isfinite(lat[k])
    ]
    return {"points": points, "total": int(len(demand)), "shown": len(points)}


def script_json(obj: Any) -> str:
    """JSON safe to place inside a ``<script>`` element (no ``</`` can close it early)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")
