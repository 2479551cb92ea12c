"""The whole geographic-access analysis behind ``optimizer access``, as one API call.

:func:`access_analysis` reads nothing: it takes loaded :class:`~optimizer.geo.io.Units`
and :class:`~optimizer.geo.io.Demand`, a region assignment and a coverage relation, and
returns every table the planner reads (per region, per demand point, per unit) in a
frozen :class:`AccessReport`. :func:`write_access_outputs` writes them to a folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.errors import InputError
from optimizer.geo.indicators import (
    Adequacy,
    Decay,
    PointAccess,
    point_access,
    regions_from_points,
    unit_reach,
)
from optimizer.geo.inequality import equity, nearest_distance, time_distribution
from optimizer.geo.io import WGS84, Demand, Units
from optimizer.geo.relation import Coverage, merge_identical_rows
from optimizer.validation import numeric_column

REGION_COLUMNS = (
    "population",
    "need_population",
    "units",
    "units_per_100k",
    "covered_share",
    "covered_need_share",
    "access_2sfca",
    "access_e2sfca",
    "points",
)


@dataclass(frozen=True)
class RegionAssignment:
    """Region of every demand point and unit (None outside every region)."""

    demand: pd.Series
    units: pd.Series
    polygons: gpd.GeoDataFrame | None = None

    @property
    def demand_outside(self) -> pd.Index:
        return self.demand.index[self.demand.isna().to_numpy()]

    @property
    def units_outside(self) -> pd.Index:
        return self.units.index[self.units.isna().to_numpy()]


@dataclass(frozen=True)
class AccessReport:
    """Everything ``optimizer access`` computes.

    Attributes
    ----------
    regions : pd.DataFrame
        Per region (index ``region``): :data:`REGION_COLUMNS` (plus ``name``, ``kind``
        when region polygons were given).
    points : PointAccess
        Per demand point: region, population, need, units in reach, covered, 2SFCA, E2SFCA.
    units : pd.DataFrame
        Per unit: region, supply, population / need within reach and exclusively in reach.
    merge : dict
        Shrink from merging demand points with identical reaching sets (within a region).
    assignment : RegionAssignment
    decay : Decay
    adequacy : Adequacy or None
    equity : dict
        Gini of 2SFCA, the concentration index (with a ranking variable), the worst-off
        10 % of people (:func:`optimizer.geo.inequality.equity`); the regions table adds the
        median / 90th percentile distance to the nearest unit and the share beyond reach.
    """

    regions: pd.DataFrame
    points: PointAccess
    units: pd.DataFrame
    merge: dict
    assignment: RegionAssignment
    decay: Decay
    adequacy: Adequacy | None = None
    settings: dict = field(default_factory=dict)
    equity: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """The JSON document of ``optimizer access --json``."""
        keep = [c for c in ("name", "kind") if c in self.regions.columns] + list(REGION_COLUMNS)
        rows = [{"region": region, **record} for region, record in zip(self.regions.index, self.regions[keep].to_dict(orient="records"), strict=True)]
        t = self.points.table
        pop = t["population"].sum()
        doc = {
            "regions": rows,
            "totals": {
                "population": pop,
                "need_population": t["need"].sum(),
                "units": len(self.units),
                "demand_points": len(t),
                "covered_share": float((t["population"] * t["covered"]).sum() / pop) if pop > 0 else None,
                "access_2sfca": float((t["population"] * t["access_2sfca"]).sum() / pop) if pop > 0 else None,
                "access_e2sfca": float((t["population"] * t["access_e2sfca"]).sum() / pop) if pop > 0 else None,
            },
            "outside": {
                "demand": list(self.assignment.demand_outside),
                "demand_population": float(t.loc[self.assignment.demand_outside, "population"].sum()),
                "units": list(self.assignment.units_outside),
            },
            "equity": self.equity,
            "merge": self.merge,
            "decay": self.decay.describe(),
            "settings": self.settings,
        }
        if self.adequacy is not None:
            doc["adequacy"] = self.adequacy.grid.reset_index().to_dict(orient="records")
        return doc


def unit_supply(units: Units, column: str | None) -> np.ndarray:
    """Supply of each unit: the ``column`` (number >= 0) or 1 per unit."""
    if column is None:
        return np.ones(len(units))
    return numeric_column(units.frame.reset_index(), column, file=units.source, minimum=0.0)


def access_analysis(
    demand: Demand,
    units: Units,
    coverage: Coverage,
    assignment: RegionAssignment,
    *,
    decay: Decay,
    supply: np.ndarray | None = None,
    adequacy: Adequacy | None = None,
    settings: dict | None = None,
    rank_by: np.ndarray | None = None,
) -> AccessReport:
    """Per-point, per-region and per-unit indicators on a built coverage relation."""
    if not coverage.demand_ids.equals(pd.Index(demand.ids)) or not coverage.unit_ids.equals(pd.Index(units.ids)):
        raise ValueError("the coverage relation does not match the demand and units given")
    s = np.ones(len(units)) if supply is None else np.asarray(supply, dtype=float)
    points = point_access(
        coverage, demand.population, demand.need, assignment.demand.to_numpy(dtype=object), supply=s, decay=decay
    )
    region_index = None if assignment.polygons is None else assignment.polygons.index
    table = regions_from_points(points, assignment.units.to_numpy(dtype=object), regions=region_index)
    if assignment.polygons is not None:
        table.insert(0, "name", assignment.polygons["name"].reindex(table.index))
        table.insert(1, "kind", assignment.polygons["kind"].reindex(table.index))
    near = nearest_distance(coverage) if coverage.distance is not None else np.full(coverage.n_demand, np.nan)
    pt = points.table
    fair = equity(pt["access_2sfca"].to_numpy(), pt["population"].to_numpy(), covered=pt["covered"].to_numpy(dtype=float), nearest=near, rank_by=rank_by)
    spread = time_distribution(near, pt["population"].to_numpy(), pt["region"].to_numpy(dtype=object), regions=table.index)
    for column in ("median", "p90", "share_beyond"):
        table[f"nearest_{column}"] = spread[column].to_numpy()
    reach = unit_reach(coverage, demand.population, demand.need)
    reach.insert(0, "supply", s)
    reach.insert(0, "region", assignment.units.to_numpy(dtype=object))
    codes = pd.factorize(assignment.demand.fillna("\0outside").to_numpy(dtype=object))[0]
    merged = merge_identical_rows(coverage.matrix, np.column_stack([demand.population, demand.need]), by=codes)
    merge = {
        "rows": coverage.n_demand,
        "groups": merged.n_groups,
        "pairs": coverage.n_pairs,
        "merged_pairs": int(merged.matrix.nnz),
        "by": "region",
    }
    return AccessReport(
        regions=table,
        points=points,
        units=reach,
        merge=merge,
        assignment=assignment,
        decay=decay,
        adequacy=adequacy,
        settings=dict(settings or {}),
        equity=fair.summary(),
    )


def write_access_outputs(report: AccessReport, demand: Demand, units: Units, folder: Path) -> list[Path]:
    """Write ``regions.csv``, ``demand_access.csv``, ``unit_reach.csv``, ``access.json``
    and ``access.gpkg`` into ``folder`` (an existing, empty folder).

    The GeoPackage holds a ``regions`` layer (the polygons with their indicators; when
    regions come from a column, a table without geometry), a ``demand`` point layer with
    the per-point values and a ``units`` point layer with each unit's reach.
    """
    from optimizer.output import write_json

    folder = Path(folder)
    written = []
    points = report.points.table.copy()
    points.insert(0, "lat", demand.lat)
    points.insert(0, "lon", demand.lon)
    paths = {
        "regions": folder / "regions.csv",
        "points": folder / "demand_access.csv",
        "units": folder / "unit_reach.csv",
        "json": folder / "access.json",
        "gpkg": folder / "access.gpkg",
    }
    report.regions.to_csv(paths["regions"], index_label="region")
    points.to_csv(paths["points"], index_label="demand_id")
    unit_table = report.units.copy()
    unit_table.insert(0, "lat", units.lat)
    unit_table.insert(0, "lon", units.lon)
    unit_table.to_csv(paths["units"], index_label="unit_id")
    write_json(paths["json"], report.summary())
    if report.adequacy is not None:
        paths["adequacy"] = folder / "adequacy.csv"
        report.adequacy.grid.to_csv(paths["adequacy"])
    regions = report.regions.reset_index()
    if report.assignment.polygons is not None:
        geoms = report.assignment.polygons.geometry.reindex(report.regions.index).to_numpy()
        gpd.GeoDataFrame(regions, geometry=geoms, crs=WGS84).to_file(paths["gpkg"], layer="regions", driver="GPKG")
    else:
        import pyogrio

        pyogrio.write_dataframe(_plain(regions), paths["gpkg"], layer="regions", driver="GPKG")
    gpd.GeoDataFrame(
        _plain(points.reset_index()), geometry=shapely.points(demand.lon, demand.lat), crs=WGS84
    ).to_file(paths["gpkg"], layer="demand", driver="GPKG")
    gpd.GeoDataFrame(
        _plain(unit_table.reset_index()), geometry=shapely.points(units.lon, units.lat), crs=WGS84
    ).to_file(paths["gpkg"], layer="units", driver="GPKG")
    written.extend(paths.values())
    return written


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns as strings (None kept) so GeoPackage layers get a text type."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


def check_region_column(frame_len: int, values: pd.Series, *, file, column: str) -> pd.Series:
    """A region column must name a region for at least one row."""
    if frame_len and values.isna().all():
        raise InputError("expected region codes, found only empty values", file=file, column=column)
    return values
