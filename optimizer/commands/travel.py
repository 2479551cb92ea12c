"""CLI: ``optimizer travel`` — compute a travel table on roads or terrain, alone.

``optimizer travel SCENARIO --out travel.parquet`` uses the scenario's ``[reach]``,
``[roads]``/``[friction]`` and inputs; ``optimizer travel --units U --demand D (--roads X.osm.pbf
| --friction F.tif | --landcover L.tif --speeds S.csv) --minutes M --out travel.parquet``
takes the files directly. The table (``demand_id, unit_id, minutes``) is what ``--distances``
and ``[travel]`` read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from optimizer.commands import travel_options as opt
from optimizer.errors import InputError
from optimizer.output import atomic_file, emit_json

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def travel(
    scenario: Annotated[str | None, typer.Argument(help="Scenario file, folder or shipped name (default: give --units, --demand and a source).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Travel table to write (.parquet or .csv); must not exist unless --force.")] = None,
    units: Annotated[Path | None, typer.Option("--units", help="Units file (without SCENARIO).")] = None,
    demand: Annotated[Path | None, typer.Option("--demand", help="Demand file (without SCENARIO).")] = None,
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
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file (default: no).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document on standard output.")] = False,
) -> None:
    """Travel minutes from every demand point to every unit within the cut-off, on roads or terrain."""
    if out is None:
        raise InputError("expected --out (the travel table to write, .parquet or .csv)", option="--out")
    if out.exists() and not force:  # before the work, not only when writing
        raise InputError("the output file exists; give --force to replace it", option="--out", found=str(out))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console, transient=True, disable=json_out) as bar:
        task = bar.add_task("travel times (units)", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if scenario is not None:
            table = _from_scenario(scenario, progress)
        else:
            table = _from_options(units, demand, minutes, workers, progress, roads=roads, friction=friction, landcover=landcover, speeds=speeds, road_lines=road_lines, travel_mode=travel_mode, network=network, road_speed=road_speed, offroad_kmh=offroad_kmh, snap_max_m=snap_max_m)
    from optimizer.geo.travel import write_travel

    with atomic_file(out) as tmp:
        write_travel(table, tmp)
    info = {**table.summary(), "out": str(out)}
    if json_out:
        emit_json(info)
        return
    err_console.print(
        f"{len(table.pairs):,} pairs within {table.cutoff:g} min ({table.mode}; "
        f"{'read from the cache' if table.cached else f'computed in {table.seconds:.1f} s'}) -> {out}"
    )
    if len(table.off_network):
        err_console.print(f"{len(table.off_network):,} demand point(s) cannot be reached by {table.mode} travel (listed in --json)")


def _from_scenario(name: str, progress):
    from optimizer.geography import reach_mode
    from optimizer.pipeline import build_travel
    from optimizer.scenario import load_scenario
    from optimizer.validate_scenario import load_inputs

    loaded = load_scenario(name)
    if reach_mode(loaded) not in ("road", "friction"):
        raise InputError(
            f"expected reach.mode = 'road' or 'friction' in the scenario to compute a travel table; it is {reach_mode(loaded)!r}",
            file=loaded.path,
            option="reach.mode",
        )
    table = build_travel(loaded, load_inputs(loaded), progress=progress)
    assert table is not None
    return table


def _from_options(units, demand, minutes, workers, progress, **source_options):
    from optimizer.geo.io import load_demand, load_units
    from optimizer.geo.travel import compute_travel

    if units is None or demand is None:
        raise InputError("expected --units and --demand (or a SCENARIO)", option="--units/--demand")
    source = opt.travel_source(**source_options)
    if source is None:
        raise InputError("expected one of --roads, --friction or --landcover (or a SCENARIO)", option="--roads/--friction/--landcover")
    cutoff = opt.check_minutes(source, minutes)
    unit_set = load_units(units)
    demand_set = load_demand(demand)
    return compute_travel(source, demand_set, unit_set, float(cutoff), workers=workers, progress=progress)


def register(app: typer.Typer) -> None:
    app.command("travel")(travel)
