"""CLI: ``optimizer select`` — choose the units to contract within a budget.

``optimizer select --units U --demand D (--radius-km X | --distances OD.csv --max-distance X)
--budget B [--score-col COL] [--must-keep COL] [--exclude COL] [--min-score S]
[--objective coverage|quality-coverage|min-cost --target SHARE] [--region-col COL --floor SHARE]
[--ratio PER100K] [--solver highs|cbc|greedy] [--time-limit S] [--out DIR] [--json]``
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from optimizer.commands import travel_options as opt
from optimizer.errors import InfeasibleError, InputError
from optimizer.geo.coverage import check_reach_options, coverage_from_table, coverage_within
from optimizer.geo.io import load_demand, load_units, parse_need_weights, parse_pairs, region_column
from optimizer.output import atomic_directory, emit_json, write_json
from optimizer.select import SelectionResult, build_problem, solve
from optimizer.validation import boolean_column, require_columns

out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def select(
    units: Annotated[Path, typer.Option("--units", help="Units file: CSV/Parquet with unit_id, lon, lat, cost (or a point vector file).")],
    demand: Annotated[Path, typer.Option("--demand", help="Demand file: demand_id, lon, lat, population (points or polygons).")],
    budget: Annotated[float | None, typer.Option("--budget", help="Total contract cost allowed (required except with --objective min-cost).")] = None,
    radius_km: Annotated[float | None, typer.Option("--radius-km", help="Great-circle reach in km (give this or --distances).")] = None,
    distances: Annotated[Path | None, typer.Option("--distances", help="Travel table (demand_id, unit_id, distance), CSV or Parquet.")] = None,
    max_distance: Annotated[float | None, typer.Option("--max-distance", help="Reach in the travel table's unit (with --distances).")] = None,
    objective: Annotated[str, typer.Option("--objective", help="coverage | quality-coverage | min-cost (default: coverage).")] = "coverage",
    target: Annotated[float | None, typer.Option("--target", help="min-cost: covered population share to reach, 0-1 (default: none).")] = None,
    score_col: Annotated[str | None, typer.Option("--score-col", help="Units column with a score in [0, 1] (default: 'score' when present).")] = None,
    must_keep: Annotated[str | None, typer.Option("--must-keep", help="Units true/false column: units that must be selected (default: none).")] = None,
    exclude: Annotated[str | None, typer.Option("--exclude", help="Units true/false column: units that must not be selected (default: none).")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", help="Units scoring below this are not eligible (default: none).")] = None,
    region_col: Annotated[str | None, typer.Option("--region-col", help="Region column of demand (and units) (default: 'region' when present).")] = None,
    floor: Annotated[float | None, typer.Option("--floor", help="Minimum covered share in every region, 0-1 (default: none).")] = None,
    ratio: Annotated[float | None, typer.Option("--ratio", help="Minimum selected units per 100,000 people in every region (default: none).")] = None,
    solver: Annotated[str, typer.Option("--solver", help="highs | cbc | greedy | any pulp solver name (default: highs).")] = "highs",
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds for the whole selection (default: no limit).")] = None,
    gap: Annotated[float, typer.Option("--gap", help="Relative optimality gap accepted (default: 0, proven optimal).")] = 0.0,
    unit_id: Annotated[str, typer.Option("--id", help="Units id column (default: unit_id).")] = "unit_id",
    demand_id: Annotated[str, typer.Option("--demand-id", help="Demand id column (default: demand_id).")] = "demand_id",
    cost_col: Annotated[str, typer.Option("--cost-col", help="Units cost column (default: cost).")] = "cost",
    population_col: Annotated[str, typer.Option("--population-col", help="Demand population column (default: population).")] = "population",
    service_col: Annotated[str, typer.Option("--service-col", help="Units service column (default: 'service' when present).")] = "service",
    capacity_col: Annotated[str | None, typer.Option("--capacity-col", help="Units capacity column: the volume a unit serves per period (tests, visits), in the unit of --use-rate (default: 'capacity' when present; capacities are then modelled).")] = None,
    no_capacity: Annotated[bool, typer.Option("--no-capacity", help="Ignore unit capacities: everyone in reach of a contracted unit counts as covered (default: capacities modelled when the units carry them).")] = False,
    use_rate: Annotated[str | None, typer.Option("--use-rate", help="Volume per person per period for each service, SERVICE=RATE,... e.g. lab=2,imaging=0.3 (one service: all=RATE; default 1: capacity counts people).")] = None,
    group_use_rate: Annotated[str | None, typer.Option("--group-use-rate", help="Use rate of the people of a demand population-group column, GROUP:SERVICE=RATE,... e.g. pop_over_60:lab=5 (default: the service's rate).")] = None,
    assignment: Annotated[str, typer.Option("--assignment", help="With capacities, who may use which contracted unit: any (a unit of the service in reach) or closest (the nearest contracted unit, which serves up to its capacity) (default: any).")] = "any",
    spend: Annotated[str, typer.Option("--spend", help="needed: after coverage, the quality of coverage, then the least cost, leaving budget that buys nothing unspent; all: after coverage, the largest total score, spending the budget (default: needed).")] = "needed",
    need: Annotated[str | None, typer.Option("--need", help="Need weights of population-group columns, e.g. pop_over_60=2 (default: none).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write selection.csv, regions.csv, services.csv, assignment.csv and result.json into this new folder.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out folder (default: no).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document on standard output.")] = False,
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
    """Choose the units to contract: budgeted maximal coverage, exact (MILP) by default."""
    source = opt.travel_source(roads=roads, friction=friction, landcover=landcover, speeds=speeds, road_lines=road_lines, travel_mode=travel_mode, network=network, road_speed=road_speed, offroad_kmh=offroad_kmh, snap_max_m=snap_max_m)
    opt.check_minutes(source, minutes)
    if source is None:
        check_reach_options(radius_km, distances, max_distance)
    elif radius_km is not None or distances is not None:
        raise InputError("expected one reach: --radius-km, --distances, or a travel source with --minutes", option="--radius-km/--distances")
    if (floor is not None or ratio is not None) and region_col is None:
        region_col = "region"
    unit_set = load_units(units, id_col=unit_id)
    demand_set = load_demand(demand, id_col=demand_id, population_col=population_col, need_weights=parse_need_weights(need))
    if source is not None:
        coverage = opt.travel_coverage(source, demand_set, unit_set, float(minutes), workers=workers, service_col=service_col)
    elif distances is not None:
        coverage = coverage_from_table(distances, demand_set, unit_set, float(max_distance))
    else:
        coverage = coverage_within(demand_set, unit_set, float(radius_km), service_col=service_col, keep_distance=assignment == "closest")

    u_frame = unit_set.frame.copy()
    require_columns(u_frame, [cost_col], file=unit_set.source)
    d_frame = pd.DataFrame({"population": demand_set.population, "need": demand_set.need}, index=demand_set.ids)
    group_rates = parse_group_use_rates(group_use_rate)
    for group in group_rates:
        if group not in demand_set.frame.columns:
            raise InputError(f"expected the population-group column {group!r} on the demand (named in --group-use-rate)", file=demand_set.source, column=group, option="--group-use-rate")
        d_frame[group] = demand_set.frame[group].to_numpy()
    col = region_col if region_col is not None else ("region" if "region" in demand_set.frame.columns else None)
    if col is not None:
        if col not in demand_set.frame.columns:
            raise InputError(f"expected a region column {col!r} on the demand", file=demand_set.source, column=col)
        d_frame["region"] = region_column(demand_set.frame, col, file=demand_set.source).to_numpy()
        if col in u_frame.columns:
            u_frame["region"] = region_column(u_frame, col, file=unit_set.source).to_numpy()
        elif "region" in u_frame.columns:
            u_frame = u_frame.drop(columns="region")
    score_name = score_col if score_col is not None else ("score" if "score" in u_frame.columns else None)
    if score_col is not None:
        require_columns(u_frame, [score_col], file=unit_set.source)
    if capacity_col is not None:
        require_columns(u_frame, [capacity_col], file=unit_set.source)
    elif "capacity" in u_frame.columns and not no_capacity:
        capacity_col = "capacity"
    if no_capacity:
        capacity_col = None
    if (use_rate or group_use_rate) and capacity_col is None:
        raise InputError("expected unit capacities with --use-rate / --group-use-rate (a capacity column, without --no-capacity)", file=unit_set.source, option="--use-rate")
    problem = build_problem(
        u_frame,
        d_frame,
        coverage,
        cost_col=cost_col,
        score_col=score_name,
        service_col=service_col,
        region_col="region",
        capacity_col=capacity_col,
        use_rates=parse_pairs(use_rate, option="--use-rate", expected="SERVICE=RATE") or None,
        group_use_rates=group_rates or None,
        units_file=str(unit_set.source or units),
        demand_file=str(demand_set.source or demand),
    )
    keep_ids = _flag_ids(u_frame, must_keep, unit_set.source)
    exclude_ids = _flag_ids(u_frame, exclude, unit_set.source)
    result = solve(
        problem,
        budget=budget,
        objective=objective,
        target=target,
        must_keep=keep_ids,
        exclude=exclude_ids,
        min_score=min_score,
        floors=floor,
        ratio_standards=ratio,
        capacity=capacity_col is not None,
        assignment=assignment,
        spend=spend,
        solver=solver,
        time_limit=time_limit,
        gap_rel=gap,
    )
    if out is not None and result.status != "infeasible":
        with atomic_directory(out, force=force) as tmp:
            result.units.reset_index().to_csv(tmp / "selection.csv", index=False)
            result.by_region.reset_index().to_csv(tmp / "regions.csv", index=False)
            result.by_service.reset_index().to_csv(tmp / "services.csv", index=False)
            if result.assignment is not None:
                result.assignment.pairs.to_csv(tmp / "assignment.csv", index=False)
            write_json(tmp / "result.json", result.to_dict())
        err_console.print(f"wrote {out}/selection.csv, regions.csv, services.csv, assignment.csv, result.json")
    if json_out:
        emit_json(result.to_dict())
    else:
        _print(result)
    if result.status == "infeasible":
        raise InfeasibleError(result.explanation.get("relax", "no selection meets every constraint"), result.explanation)


def parse_group_use_rates(text: str | None) -> dict[str, dict[str, float]]:
    """Parse ``GROUP:SERVICE=RATE,...`` (the ``--group-use-rate`` option).

    >>> parse_group_use_rates("pop_over_60:lab=5, pop_over_60:imaging=0.8")
    {'pop_over_60': {'lab': 5.0, 'imaging': 0.8}}
    """
    out: dict[str, dict[str, float]] = {}
    for key, rate in parse_pairs(text, option="--group-use-rate", expected="GROUP:SERVICE=RATE").items():
        group, sep, service = (t.strip() for t in key.partition(":"))
        if not sep or not group or not service:
            raise InputError("expected GROUP:SERVICE=RATE pairs separated by commas", option="--group-use-rate", found=key)
        out.setdefault(group, {})[service] = rate
    return out


def _flag_ids(frame: pd.DataFrame, column: str | None, file) -> list[str]:
    if column is None:
        return []
    flags = boolean_column(frame, column, file=file)
    return list(frame.index[flags].astype(str))


def _fmt(x, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return f"{x:.2%}" if pct else f"{x:,.2f}"


def _print(result: SelectionResult) -> None:
    t = Table(title=f"Selection ({result.objective_mode})", show_header=False)
    t.add_row("status", result.status)
    t.add_row("selected units", str(len(result.selected)))
    t.add_row("total cost", _fmt(result.total_cost) + ("" if result.budget is None else f" of {_fmt(result.budget)}"))
    t.add_row("served population" if result.capacity else "covered population", f"{result.covered_population:,.0f} of {result.total_population:,.0f}")
    if result.capacity:
        t.add_row("in reach (capacity)", f"{result.reached_population:,.0f}; {result.capacity_shortfall:,.0f} in reach but beyond the contracted capacity")
    t.add_row("coverage share", _fmt(result.coverage_share, pct=True))
    t.add_row("proven gap", _fmt(result.gap, pct=True))
    t.add_row("solver", f"{result.solver} in {result.solve_time:.2f} s")
    if result.spending.get("note"):
        t.add_row("budget", result.spending["note"])
    out_console.print(t)
    if result.explanation:
        out_console.print(f"[bold]explanation:[/] {result.explanation.get('relax') or result.explanation.get('note')}")
    if len(result.by_region):
        rt = Table(title="By region")
        for c in ("region", "population", "covered", "share", "floor", "units"):
            rt.add_column(c, justify="left" if c == "region" else "right")
        for region, row in result.by_region.iterrows():
            rt.add_row(str(region), f"{row.population:,.0f}", f"{row.covered:,.0f}", _fmt(row.share, pct=True), _fmt(row.floor, pct=True), str(row.units))
        out_console.print(rt)
    if len(result.selected):
        ut = Table(title="Selected units")
        for c in ("unit", "cost", "marginal", "cost/person", "reason"):
            ut.add_column(c)
        sel = result.units[result.units.selected]
        for uid, row in sel.iterrows():
            ut.add_row(str(uid), _fmt(row.cost), f"{row.marginal_coverage:,.0f}", _fmt(row.cost_per_new_person), row.reason)
        out_console.print(ut)


def register(app: typer.Typer) -> None:
    """Register the `select` command on the app."""
    app.command("select")(select)
