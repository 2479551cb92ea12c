"""A scenario's geography: how reach is measured and where travel tables are cached.

The scenario's ``[reach] mode`` picks one of four ways (:func:`reach_mode`):

* ``great-circle``: distance in km on the sphere (``km``, ``default_km``);
* ``road``: minutes on the roads of ``[roads] extract`` (an OpenStreetMap ``.osm.pbf``);
* ``friction``: minutes over the ``[friction]`` surface;
* ``table``: the user's ``[travel]`` table with its ``max_distance``.

Road and friction tables are computed by :func:`optimizer.geo.travel.compute_travel`
and cached in :func:`cache_dir`; the cut-offs per service and region kind come from
``minutes`` and ``default_minutes``.
"""

from __future__ import annotations

from pathlib import Path

from optimizer.errors import InputError
from optimizer.geo.coverage import Reach
from optimizer.geo.roads import RoadOptions
from optimizer.geo.travel import FrictionSource, RoadSource
from optimizer.scenario import Scenario

CACHE_FOLDER = ".optimizer-cache"


def reach_mode(scenario: Scenario) -> str:
    """The scenario's reach mode, with the default stated in :class:`optimizer.scenario.Reach`."""
    if scenario.reach.mode is not None:
        return scenario.reach.mode
    return "table" if scenario.travel is not None else "great-circle"


def mode_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """(key, message) for every section the reach mode needs and does not have."""
    mode = reach_mode(scenario)
    need = {"road": ("roads", "an [roads] section with the OpenStreetMap extract"), "friction": ("friction", "a [friction] section"), "table": ("travel", "a [travel] section with the travel table")}
    out = []
    if mode in need and getattr(scenario, need[mode][0]) is None:
        out.append(("reach.mode", f"expected {need[mode][1]} with reach.mode = {mode!r}"))
    if mode == "friction" and scenario.friction is not None:
        f = scenario.friction
        if (f.raster is None) == (f.landcover is None):
            out.append(("friction.raster", "expected exactly one of friction.raster (minutes per metre) or friction.landcover"))
        if f.landcover is not None and f.landcover_speeds is None:
            out.append(("friction.landcover_speeds", "expected the speeds of the land-cover classes with friction.landcover"))
    return out


def road_options(scenario: Scenario) -> RoadOptions:
    """The ``[roads]`` options (defaults when the section is absent)."""
    r = scenario.roads
    if r is None:
        return RoadOptions()
    return RoadOptions(
        network=r.network,
        speeds=dict(r.speeds),
        use_maxspeed=r.use_maxspeed,
        walking_kmh=r.walking_kmh,
        offroad_kmh=r.offroad_kmh,
        snap_max_m=r.snap_max_m,
    )


def travel_source(scenario: Scenario) -> RoadSource | FrictionSource | None:
    """What the road or friction travel table is computed from (None for the other modes)."""
    mode = reach_mode(scenario)
    problems = mode_problems(scenario)
    if problems:
        key, message = problems[0]
        raise InputError(message, option=key, file=scenario.path)
    if mode == "road":
        assert scenario.roads is not None
        return RoadSource(extract=Path(scenario.roads.extract), options=road_options(scenario))
    if mode == "friction":
        f = scenario.friction
        assert f is not None
        return FrictionSource(
            raster=f.raster,
            landcover=f.landcover,
            speeds=f.landcover_speeds,
            roads=f.roads,
            travel_mode=f.mode,
            road_options=road_options(scenario),
            walking_kmh=f.walking_kmh,
        )
    return None


def minutes_reach(scenario: Scenario) -> Reach:
    """Cut-offs in minutes per service and region kind (``minutes``, ``default_minutes``)."""
    return _reach(scenario.reach.minutes, scenario.reach.default_minutes)


def km_reach(scenario: Scenario) -> Reach:
    """Great-circle reach in km per service and region kind (``km``, ``default_km``)."""
    return _reach(scenario.reach.km, scenario.reach.default_km)


def _reach(table: dict, default: float) -> Reach:
    by_service: dict[str, dict[str, float]] = {}
    for service, value in table.items():
        by_service[service] = {"default": float(value)} if not isinstance(value, dict) else {k: float(v) for k, v in value.items()}
    return Reach(default=float(default), by_service=by_service)


def scenario_reach(scenario: Scenario) -> Reach:
    """The reach in the unit of the scenario's mode (km, or minutes for road and friction)."""
    return minutes_reach(scenario) if reach_mode(scenario) in ("road", "friction") else km_reach(scenario)


def reach_unit(scenario: Scenario) -> str:
    """``km``, ``min`` or the travel table's own unit."""
    mode = reach_mode(scenario)
    return {"great-circle": "km", "road": "min", "friction": "min"}.get(mode, "table unit")


def cache_dir(scenario: Scenario) -> Path:
    """Where computed travel tables and raster demand tables are kept."""
    if scenario.reach.cache is not None:
        return Path(scenario.reach.cache)
    base = scenario.path.parent if scenario.path is not None else Path.cwd()
    return base / CACHE_FOLDER


RASTER_SUFFIXES = (".tif", ".tiff")


def is_population_raster(path: str | Path) -> bool:
    """A demand file that is a population raster (GeoTIFF of people per cell)."""
    return Path(path).suffix.lower() in RASTER_SUFFIXES


def raster_demand_table(scenario: Scenario, regions) -> Path:
    """The demand points of the scenario's population raster, as a cached CSV.

    The raster is clipped to the scenario's regions (when it has any) and aggregated as
    ``raster_factor`` / ``raster_cell_m`` say (:func:`optimizer.geo.population.raster_demand`);
    the table is kept in :func:`cache_dir` under a key of the files' bytes and the options,
    and read back on the next run.
    """
    import hashlib
    import json

    from optimizer.geo.population import raster_demand, write_demand
    from optimizer.geo.travel import file_digest
    from optimizer.output import atomic_file

    d = scenario.demand
    files = [Path(d.file), *map(Path, d.group_rasters.values())]
    if d.group_shares is not None:
        files.append(Path(d.group_shares))
    if scenario.regions is not None:
        files.append(Path(scenario.regions.file))
    key = hashlib.sha256(
        json.dumps(
            {
                "files": [file_digest(p) for p in files],
                "factor": d.raster_factor,
                "cell_m": d.raster_cell_m,
                "groups": sorted(d.group_rasters),
                "regions": None if scenario.regions is None else [scenario.regions.id, scenario.regions.layer],
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    out = cache_dir(scenario) / f"demand-{key[:20]}.csv"
    if out.is_file():
        return out
    made = raster_demand(
        d.file,
        regions=regions,
        factor=d.raster_factor,
        cell_m=d.raster_cell_m,
        groups={k: Path(v) for k, v in d.group_rasters.items()} or None,
        group_shares=d.group_shares,
    )
    with atomic_file(out) as tmp:
        write_demand(made, tmp)
    return out
