"""The travel-time options shared by ``optimizer travel``, ``access`` and ``select``.

Each command lists these annotated parameters and passes them to :func:`travel_source`;
the options are declared once here so the three commands say the same thing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optimizer.errors import InputError
from optimizer.geo.io import parse_pairs
from optimizer.geo.roads import RoadOptions
from optimizer.geo.travel import FrictionSource, RoadSource

Roads = Annotated[Path | None, typer.Option("--roads", help="OpenStreetMap extract (.osm.pbf): reach in travel minutes on its roads.")]
Friction = Annotated[Path | None, typer.Option("--friction", help="Friction raster in minutes per metre (projected CRS in metres): reach in minutes over it.")]
Landcover = Annotated[Path | None, typer.Option("--landcover", help="Land-cover raster (class codes; projected CRS in metres) for a friction surface, with --speeds.")]
Speeds = Annotated[Path | None, typer.Option("--speeds", help="Land-cover speed table: class, walking_kmh, motorised_kmh (0 = impassable).")]
RoadLines = Annotated[Path | None, typer.Option("--road-lines", help="Roads burnt onto the land cover: an .osm.pbf extract, or lines with a kmh or highway column.")]
TravelMode = Annotated[str, typer.Option("--travel-mode", help="Friction from land cover: walking | motorised | mixed (drive on roads, walk elsewhere) (default: mixed).")]
Minutes = Annotated[float | None, typer.Option("--minutes", help="Travel-time cut-off in minutes (with --roads, --friction or --landcover); a pair at exactly the cut-off is in reach.")]
Network = Annotated[str, typer.Option("--network", help="Road network: driving | walking (default: driving).")]
RoadSpeed = Annotated[str | None, typer.Option("--road-speed", help="Speeds per highway class overriding the defaults, e.g. residential=25,track=10 (km/h).")]
OffroadKmh = Annotated[float, typer.Option("--offroad-kmh", help="Speed between a point and the nearest road node (default: 5 km/h).")]
SnapMax = Annotated[float, typer.Option("--snap-max-m", help="Farthest a point may be from a road, metres (default: 2000).")]
Workers = Annotated[int, typer.Option("--workers", help="Processes computing travel times (default: 1).")]


def travel_source(
    *,
    roads: Path | None,
    friction: Path | None,
    landcover: Path | None,
    speeds: Path | None,
    road_lines: Path | None,
    travel_mode: str,
    network: str,
    road_speed: str | None,
    offroad_kmh: float,
    snap_max_m: float,
) -> RoadSource | FrictionSource | None:
    """The travel source the options describe (None when none of them is given)."""
    given = [name for name, v in (("--roads", roads), ("--friction", friction), ("--landcover", landcover)) if v is not None]
    if len(given) > 1:
        raise InputError("expected one of --roads, --friction or --landcover", option="/".join(given))
    options = RoadOptions(
        network=network,
        speeds=parse_pairs(road_speed, option="--road-speed", expected="CLASS=KMH"),
        offroad_kmh=offroad_kmh,
        snap_max_m=snap_max_m,
    )
    if roads is not None:
        return RoadSource(extract=roads, options=options)
    if friction is not None or landcover is not None:
        if landcover is not None and speeds is None:
            raise InputError("expected --speeds (the land-cover speed table) with --landcover", option="--speeds")
        return FrictionSource(raster=friction, landcover=landcover, speeds=speeds, roads=road_lines, travel_mode=travel_mode, road_options=options)
    return None


def check_minutes(source: object, minutes: float | None) -> float | None:
    """``--minutes`` goes with a travel source and only with one."""
    if source is not None and minutes is None:
        raise InputError("expected --minutes (the travel-time cut-off) with --roads, --friction or --landcover", option="--minutes")
    if source is None and minutes is not None:
        raise InputError("--minutes applies to --roads, --friction or --landcover", option="--minutes")
    if minutes is not None and not (minutes >= 0 and minutes < float("inf")):
        raise InputError("expected a cut-off >= 0 minutes", option="--minutes", found=minutes)
    return minutes


def travel_coverage(source, demand, units, minutes: float, *, workers: int = 1, service_col: str = "service", kind_col: str = "kind"):
    """Coverage within ``minutes`` of travel from the source (computed, not cached)."""
    from optimizer.geo.coverage import Reach
    from optimizer.geo.travel import compute_travel, coverage_from_travel

    table = compute_travel(source, demand, units, minutes, workers=workers)
    return coverage_from_travel(table, demand, units, Reach(default=minutes), kind_col=kind_col, service_col=service_col)
