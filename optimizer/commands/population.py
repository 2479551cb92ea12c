"""CLI: ``optimizer population`` — demand points from a population raster (WorldPop, GHS-POP).

``optimizer population RASTER [--regions R] [--factor N | --cell-m M] [--group NAME=FILE.tif,...]
[--group-shares TABLE] --out demand.csv`` writes a demand table every command reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optimizer.errors import InputError
from optimizer.output import atomic_file, emit_json

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def population(
    raster: Annotated[Path, typer.Argument(help="Population raster (GeoTIFF of people per cell) with a declared CRS.")],
    out: Annotated[Path, typer.Option("--out", help="Demand table to write: .csv, .parquet, .gpkg or .geojson (points).")],
    regions: Annotated[Path | None, typer.Option("--regions", help="Region polygons: cells whose centre is in no region are dropped; each point gets its region.")] = None,
    regions_id: Annotated[str, typer.Option("--regions-id", help="Region id column of --regions (default: region_id).")] = "region_id",
    factor: Annotated[int | None, typer.Option("--factor", help="Aggregate blocks of N x N cells into one point (default 1).")] = None,
    cell_m: Annotated[float | None, typer.Option("--cell-m", help="Aggregate to cells of about this size in metres, e.g. 1000 (instead of --factor).")] = None,
    group: Annotated[str | None, typer.Option("--group", help="Need-group rasters on the same grid, NAME=FILE.tif,... (e.g. pop_over_60=over60.tif).")] = None,
    group_shares: Annotated[Path | None, typer.Option("--group-shares", help="Table region_id + one column per group: the group's share of the region's people.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file (default: no).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document on standard output.")] = False,
) -> None:
    """Turn a population raster into demand points, clipped to the regions, summed exactly."""
    from optimizer.geo.io import load_regions
    from optimizer.geo.population import raster_demand, write_demand

    if out.exists() and not force:
        raise InputError("the output file exists; give --force to replace it", option="--out", found=str(out))
    groups: dict[str, Path] = {}
    for part in (group or "").split(","):
        if part.strip():
            name, sep, file = (t.strip() for t in part.partition("="))
            if not sep or not name or not file or name in groups:
                raise InputError("expected NAME=FILE.tif pairs separated by commas, each name once", option="--group", found=part)
            groups[name] = Path(file)
    polygons = load_regions(regions, id_col=regions_id) if regions is not None else None
    made = raster_demand(raster, regions=polygons, factor=factor, cell_m=cell_m, groups=groups or None, group_shares=group_shares)
    with atomic_file(out) as tmp:
        write_demand(made, tmp)
    info = {**made.summary(), "out": str(out)}
    if json_out:
        emit_json(info)
        return
    err_console.print(
        f"{len(made.frame):,} demand points ({made.cell_km:.2f} km cells, factor {made.factor}); "
        f"{made.total_clipped:,.0f} people kept of {made.total_in_raster:,.0f} in the raster -> {out}"
    )


def register(app: typer.Typer) -> None:
    app.command("population")(population)
