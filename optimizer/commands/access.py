"""CLI: ``optimizer access`` — coverage, ratios and floating-catchment access per region.

``optimizer access --units U --demand D [--regions R | --region-col COL]
(--radius-km X | --distances OD.csv --max-distance X) [--supply-col COL]
[--reach-by-kind K=KM,...] [--reach-by-service S=KM,S/K=KM,...]
[--decay step:10=1,20=0.68,30=0.22 | --decay gaussian:SIGMA] [--need COL=W,...]
[--standards S.csv] [--out DIR] [--json]``
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from optimizer.commands import travel_options as opt
from optimizer.errors import InputError
from optimizer.geo.analysis import (
    RegionAssignment,
    access_analysis,
    check_region_column,
    unit_supply,
    write_access_outputs,
)
from optimizer.geo.coverage import Reach, check_reach_options, coverage_from_table, coverage_within
from optimizer.geo.indicators import Decay, adequacy_for, load_standards
from optimizer.geo.io import (
    Demand,
    PointsOutsideRegions,
    Units,
    assign_regions,
    code_column,
    load_demand,
    load_regions,
    load_units,
    parse_need_weights,
    parse_pairs,
    region_column,
)
from optimizer.output import atomic_directory, emit_json

out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _parse_reach(radius_km: float, by_kind: str | None, by_service: str | None) -> Reach:
    """``--radius-km`` with overrides per region kind (``urban=10``), per service
    (``imaging=40``, for every kind) and per service and kind (``imaging/rural=60``).

    Look-up order: service and kind, service, kind, ``--radius-km`` (see :class:`Reach`).

    >>> r = _parse_reach(8, "urban=5,rural=25", "imaging=40,imaging/rural=60")
    >>> r.distance("lab", "urban"), r.distance("imaging", "urban"), r.distance("imaging", "rural"), r.distance("lab", None)
    (5.0, 40.0, 60.0, 8.0)
    """
    if not np.isfinite(radius_km) or radius_km < 0:
        raise InputError("expected a reach >= 0 km", option="--radius-km", found=radius_km)
    per_service: dict[str, dict[str, float]] = {}
    for key, km in parse_pairs(by_service, option="--reach-by-service", expected="SERVICE=KM or SERVICE/KIND=KM").items():
        service, _, kind = (t.strip() for t in key.partition("/"))
        if not service:
            raise InputError("expected SERVICE=KM or SERVICE/KIND=KM", option="--reach-by-service", found=key)
        per_service.setdefault(service, {})[kind or "default"] = km
    by_kind_km = parse_pairs(by_kind, option="--reach-by-kind", expected="KIND=KM")
    return Reach(default=float(radius_km), by_kind=by_kind_km, by_service=per_service)


def _assign_regions(
    demand_set: Demand,
    unit_set: Units,
    regions: Path | None,
    region_col: str | None,
    *,
    regions_id: str,
    regions_name: str,
    kind_col: str,
) -> tuple[RegionAssignment, str]:
    """Region of every demand point and unit, and a description of where it came from.

    Polygons (points outside every region are kept with no region and warned about on
    standard error), a code column on both tables (``region`` by default when the demand
    has it), or else one region ``all``.
    """
    if regions is not None:
        polygons = load_regions(regions, id_col=regions_id, name_col=regions_name, kind_col=kind_col)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PointsOutsideRegions)
            d_reg = assign_regions(demand_set.lon, demand_set.lat, polygons, ids=demand_set.ids, what="demand points")
            u_reg = assign_regions(unit_set.lon, unit_set.lat, polygons, ids=unit_set.ids, what="units")
        for w in caught:
            err_console.print(f"[bold yellow]warning:[/] {escape(str(w.message))}", markup=True)
        return RegionAssignment(demand=d_reg, units=u_reg, polygons=polygons), f"polygons {regions}"
    col = region_col if region_col is not None else ("region" if "region" in demand_set.frame.columns else None)
    if col is None:
        return (
            RegionAssignment(
                demand=pd.Series("all", index=demand_set.ids, dtype=object, name="region"),
                units=pd.Series("all", index=unit_set.ids, dtype=object, name="region"),
            ),
            "one region 'all'",
        )
    d_reg = check_region_column(len(demand_set), region_column(demand_set.frame, col, file=demand_set.source), file=demand_set.source, column=col)
    why = "the units need the region code too (or give --regions polygons)"
    u_reg = code_column(unit_set.frame, col, file=unit_set.source, name="region", why=why)
    return RegionAssignment(demand=d_reg, units=u_reg), f"column {col!r}"


def _with_region_kind(demand_set: Demand, assignment: RegionAssignment, kind_col: str) -> Demand:
    """Give each demand point its region's kind (from the polygons) when the demand has no
    ``kind_col`` of its own, so that ``--reach-by-kind`` follows the region's kind."""
    polygons = assignment.polygons
    if kind_col in demand_set.frame.columns or polygons is None or polygons["kind"].isna().all():
        return demand_set
    kinds = assignment.demand.map(polygons["kind"]).to_numpy(dtype=object)
    return replace(demand_set, frame=demand_set.frame.assign(**{kind_col: kinds}))


def access(
    units: Annotated[Path, typer.Option("--units", help="Units file: CSV/Parquet with lon, lat or a point vector file (required).")],
    demand: Annotated[Path, typer.Option("--demand", help="Demand file: points or polygons with a population (required).")],
    regions: Annotated[Path | None, typer.Option("--regions", help="Region polygons (any vector format); default: none.")] = None,
    region_col: Annotated[
        str | None,
        typer.Option("--region-col", help="Region code column on demand and units (default: 'region' when present, else one region 'all')."),
    ] = None,
    radius_km: Annotated[float | None, typer.Option("--radius-km", help="Great-circle reach in km (give this or --distances).")] = None,
    reach_by_kind: Annotated[
        str | None,
        typer.Option("--reach-by-kind", help="Reach per region kind, e.g. urban=10,rural=30 (km; kind from the demand's --kind-col, else the --regions polygons' kind; default: none)."),
    ] = None,
    reach_by_service: Annotated[
        str | None,
        typer.Option("--reach-by-service", help="Reach per unit service, e.g. lab=10,imaging=40, or per service and kind, imaging/rural=60 (km; service from --service-col; default: none)."),
    ] = None,
    distances: Annotated[Path | None, typer.Option("--distances", help="Travel table (demand_id, unit_id, distance), CSV or Parquet.")] = None,
    max_distance: Annotated[float | None, typer.Option("--max-distance", help="Reach in the travel table's unit (with --distances).")] = None,
    supply_col: Annotated[str | None, typer.Option("--supply-col", help="Units column with the supply value (default: 1 per unit).")] = None,
    decay: Annotated[
        str | None,
        typer.Option("--decay", help="E2SFCA decay: step:D1=W1,... or gaussian:SIGMA (default: step weights 1, 0.68, 0.22 over thirds of the reach)."),
    ] = None,
    need: Annotated[str | None, typer.Option("--need", help="Need weights of population-group columns, e.g. pop_over_60=2 (default: none).")] = None,
    standards: Annotated[
        Path | None,
        typer.Option("--standards", help="Adequacy standards CSV: kind, service, reach, min_per_100k[, min_covered_share] (default: none)."),
    ] = None,
    units_id: Annotated[str, typer.Option("--units-id", help="Units id column (default: unit_id).")] = "unit_id",
    demand_id: Annotated[str, typer.Option("--demand-id", help="Demand id column (default: demand_id).")] = "demand_id",
    population_col: Annotated[str, typer.Option("--population-col", help="Population column (default: population).")] = "population",
    kind_col: Annotated[str, typer.Option("--kind-col", help="Demand column with the region kind (default: kind).")] = "kind",
    service_col: Annotated[str, typer.Option("--service-col", help="Units column with the service (default: service).")] = "service",
    regions_id: Annotated[str, typer.Option("--regions-id", help="Region id column of --regions (default: region_id).")] = "region_id",
    regions_name: Annotated[str, typer.Option("--regions-name", help="Region name column of --regions (default: name).")] = "name",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write regions.csv, demand_access.csv, unit_reach.csv (population in reach of each unit, and in reach of no "
            "other), access.json and access.gpkg into this new folder (default: none).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder (default: no).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document on standard output.")] = False,
    rank_by: Annotated[str | None, typer.Option("--rank-by", help="Demand column ranking people from worse- to better-off (e.g. income) for the concentration index of access (default: none).")] = None,
    roads: opt.Roads = None,
    friction: opt.Friction = None,
    landcover: opt.Landcover = None,
    speeds: opt.Speeds = None,
    road_lines: opt.RoadLines = None,
    travel_mode: opt.TravelMode = "mixed",
    minutes: opt.Minutes = None,
    network: opt.Network = "driving",
    road_speed: opt.RoadSpeed = None,
    offroad_kmh: opt.OffroadKmh = 5.0,
    snap_max_m: opt.SnapMax = 2000.0,
    workers: opt.Workers = 1,
) -> None:
    """Coverage, units per 100,000, 2SFCA and E2SFCA accessibility per region."""
    source = opt.travel_source(roads=roads, friction=friction, landcover=landcover, speeds=speeds, road_lines=road_lines, travel_mode=travel_mode, network=network, road_speed=road_speed, offroad_kmh=offroad_kmh, snap_max_m=snap_max_m)
    opt.check_minutes(source, minutes)
    if source is None:
        check_reach_options(radius_km, distances, max_distance)
    elif radius_km is not None or distances is not None or standards is not None:
        raise InputError("expected one reach: --radius-km, --distances, or a travel source with --minutes (standards need km or a table)", option="--radius-km/--distances/--standards")
    if regions is not None and region_col is not None:
        raise InputError("expected either --regions or --region-col, not both", option="--regions/--region-col")
    if (reach_by_kind or reach_by_service) and distances is not None:
        raise InputError("--reach-by-kind and --reach-by-service apply to --radius-km", option="--reach-by-kind")

    unit_set = load_units(units, id_col=units_id)
    demand_set = load_demand(demand, id_col=demand_id, population_col=population_col, need_weights=parse_need_weights(need))
    supply = unit_supply(unit_set, supply_col)

    assignment, region_source = _assign_regions(
        demand_set, unit_set, regions, region_col, regions_id=regions_id, regions_name=regions_name, kind_col=kind_col
    )
    demand_set = _with_region_kind(demand_set, assignment, kind_col)

    if source is not None:
        coverage = opt.travel_coverage(source, demand_set, unit_set, float(minutes), workers=workers, service_col=service_col, kind_col=kind_col)
        reach_value = float(minutes)
        reach_text = f"{source.mode} travel <= {minutes:g} min"
    elif distances is not None:
        coverage = coverage_from_table(distances, demand_set, unit_set, float(max_distance))
        reach_value = float(max_distance)
        reach_text = f"travel table {distances} <= {max_distance:g}"
    else:
        reach = _parse_reach(float(radius_km), reach_by_kind, reach_by_service)
        coverage = coverage_within(demand_set, unit_set, reach, kind_col=kind_col, service_col=service_col)
        reach_value = reach.maximum
        overrides = ", ".join(t for t in (reach_by_kind, reach_by_service) if t)
        reach_text = f"great-circle <= {radius_km:g} km" + (f" ({overrides})" if overrides else "")
    decay_rule = Decay.parse(decay) if decay else Decay.default(reach_value)

    adequacy_result = None
    if standards is not None:
        rules = load_standards(standards)
        travel = None
        if distances is not None:  # the standards' reach is then read in the travel table's unit
            largest = max((std.reach for per in rules.values() for std in per.values()), default=0.0)
            travel = coverage_from_table(distances, demand_set, unit_set, largest)
        adequacy_result = adequacy_for(
            demand_set,
            unit_set,
            assignment.demand,
            assignment.units,
            rules,
            region_kind=None if assignment.polygons is None else assignment.polygons["kind"],
            kind_col=kind_col,
            service_col=service_col,
            travel=travel,
        )
    rank_values = None
    if rank_by is not None:
        from optimizer.validation import numeric_column

        rank_values = numeric_column(demand_set.frame.reset_index(), rank_by, file=demand_set.source)
    report = access_analysis(
        demand_set,
        unit_set,
        coverage,
        assignment,
        decay=decay_rule,
        supply=supply,
        adequacy=adequacy_result,
        rank_by=rank_values,
        settings={
            "units": str(units),
            "demand": str(demand),
            "regions": region_source,
            "reach": reach_text,
            "supply": supply_col or "1 per unit",
            "need": need or "none",
        },
    )
    if out is not None:
        try:
            with atomic_directory(out, force=force) as tmp:
                write_access_outputs(report, demand_set, unit_set, tmp)
        except OSError as exc:
            raise InputError(f"could not write the output folder: {exc.strerror or exc}", file=out) from None
        err_console.print(f"wrote {out}/ (regions.csv, demand_access.csv, unit_reach.csv, access.json, access.gpkg)")
    if json_out:
        emit_json(report.summary())
        return
    _print_table(report)


def _print_table(report) -> None:
    regions = report.regions
    has_name = "name" in regions.columns
    has_need = not np.allclose(regions["need_population"], regions["population"])
    table = Table(title=f"Access per region ({report.settings.get('reach')}; E2SFCA decay {report.decay.describe()})")
    columns = ["region", *(["name"] if has_name else []), "population", *(["need"] if has_need else [])]
    columns += ["units", "units/100k", "covered", "2SFCA x1e5", "E2SFCA x1e5"]
    for name in columns:
        table.add_column(name, justify="left" if name in ("region", "name") else "right")

    def fmt(x: float, spec: str, suffix: str = "") -> str:
        return "-" if x != x else format(x, spec) + suffix

    for region, r in regions.iterrows():
        cells = [str(region), *([str(r["name"])] if has_name else []), fmt(r["population"], ",.0f")]
        cells += [fmt(r["need_population"], ",.0f")] if has_need else []
        cells += [
            str(int(r["units"])),
            fmt(r["units_per_100k"], ".2f"),
            fmt(r["covered_share"] * 100, ".1f", "%"),
            fmt(r["access_2sfca"] * 1e5, ".2f"),
            fmt(r["access_e2sfca"] * 1e5, ".2f"),
        ]
        table.add_row(*cells)
    out_console.print(table)
    m = report.merge
    out_console.print(
        f"{m['rows']:,} demand points -> {m['groups']:,} rows after merging identical reaching sets "
        f"({m['pairs']:,} -> {m['merged_pairs']:,} pairs)"
    )
    for what, outside in (("demand points", report.assignment.demand_outside), ("units", report.assignment.units_outside)):
        if len(outside):
            shown = ", ".join(map(str, outside[:10])) + (", ..." if len(outside) > 10 else "")
            out_console.print(f"{len(outside)} {what} outside every region (in no region's row): {shown}")
    if report.adequacy is not None:
        grid = report.adequacy.grid
        failing = grid[~grid["passes"].astype(bool)]
        out_console.print(f"adequacy: {len(grid) - len(failing)} of {len(grid)} (region, service) pass")
        for (region, service), row in failing.iterrows():
            out_console.print(
                f"  {region} / {service}: {row['units']} units ({fmt(row['units_per_100k'], '.2f')} per 100k, "
                f"min {row['min_per_100k']:g}), covered {fmt(row['covered_share'] * 100, '.1f', '%')} "
                f"(min {row['min_covered_share'] * 100:g}%), short {row['shortfall_units']} units"
            )


def register(app: typer.Typer) -> None:
    """Register the `access` command on the app."""
    app.command("access")(access)
