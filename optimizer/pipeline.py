"""The main job: scenario -> load -> score -> geography -> select -> run folder.

:func:`run_scenario` takes a resolved :class:`~optimizer.scenario.Scenario` and returns a
frozen :class:`RunResult`; :func:`write_run` writes it into a run folder atomically
(``selection.csv``, ``regions.csv``, ``summary.json``, ``selection.gpkg``, and
``report.html`` through :func:`optimizer.report.write_report`).

"Before" always means the current contracts (the units' ``contracted`` flag), "after"
the selection.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.errors import InfeasibleError, InputError
from optimizer.geo.coverage import coverage_from_table, coverage_within
from optimizer.geo.indicators import Decay, point_access, regions_from_points, two_step_fca
from optimizer.geo.inequality import equity, nearest_distance, time_distribution
from optimizer.geo.io import Demand, Units
from optimizer.geo.relation import Coverage
from optimizer.geo.travel import TravelTable, compute_travel, coverage_from_travel
from optimizer.geography import (
    cache_dir,
    km_reach,
    minutes_reach,
    reach_mode,
    reach_unit,
    scenario_reach,
    travel_source,
)
from optimizer.mcdm.explain import contributions
from optimizer.output import atomic_directory, write_json
from optimizer.scenario import Scenario
from optimizer.select import SelectionOptions, SelectionProblem, build_problem, solve_options
from optimizer.select.assignment import Assignment, assign, served_shares
from optimizer.validate_scenario import Inputs, load_inputs, ratio_per_region


@dataclass(frozen=True)
class RunResult:
    """Everything one run produced, indexed by unit / region / demand id.

    Attributes
    ----------
    scenario : optimizer.scenario.Scenario
        The scenario as resolved (``extends`` merged, paths absolute).
    scenario_path : Path
        The scenario file that was run.
    units : pd.DataFrame
        One row per candidate unit, index ``unit_id`` (str). Columns: ``name`` (when the
        input has it), ``service``, ``region``, ``lon``, ``lat``, ``cost``, ``score`` (the
        method's native score), ``rank`` (1 = best), ``quality`` (score in [0, 1], higher
        is better, used by the selection and ``min_score``), ``eligible``, ``contracted``
        (current contract), ``selected``, ``must_keep``, ``status`` (``kept``,
        ``dropped``, ``added`` or ``not contracted``), ``marginal_coverage`` (people who
        lose coverage if a selected unit is dropped; for an unselected unit the people it
        would newly cover), ``cost_per_new_person``, ``reason`` (why selected or not),
        ``strongest_criterion`` / ``weakest_criterion`` (largest and smallest share of the
        unit's score relative to the criterion's weight), ``capacity`` and ``synthetic``
        when the input has them.
    regions : pd.DataFrame
        One row per region, index ``region`` (str). Columns: ``name``, ``kind``,
        ``population``, ``need_population``, ``units_before``, ``units_after``,
        ``units_per_100k_before``, ``units_per_100k_after``, ``covered_share_before``,
        ``covered_share_after`` (service-weighted share of the population within reach,
        the selection model's definition), ``access_2sfca_before``, ``access_2sfca_after``
        (2SFCA, supply 1 per unit, demand = need, in units per 100,000 people,
        population-weighted mean over the region's points), ``floor`` (required covered
        share or NaN), ``floor_met`` (True / False, None when the region has no floor);
        with ratio standards also ``units_required`` (units the standard asks of the
        region) and ``ratio_met``.
    region_geometry : gpd.GeoDataFrame or None
        Region polygons (index ``region``, column ``name``, EPSG:4326) when the scenario
        ships them, else None.
    demand : pd.DataFrame
        One row per demand point, index ``demand_id``. Columns: ``lon``, ``lat``,
        ``population``, ``need``, ``region``, ``kind``, ``covered_before``,
        ``covered_after`` (float in [0, 1]: the service-weighted share of the point's
        needs within reach of a contracted / selected unit; with one service it is 1 or
        0, with lab and imaging weighted equally 0.5 means one of the two is in reach),
        and per service ``covered_<service>_before`` / ``_after`` (bool).
    score_result : optimizer.mcdm.scoring.ScoreResult
        The scoring result (method, scores, ranks, intermediates).
    selection : optimizer.select.SelectionResult
        The selection result (status, objective, gap, selected, ...).
    weights : pd.Series
        Criterion -> weight used for scoring (sums to 1).
    weight_details : dict
        How the weights were obtained (``source`` and method-specific details such as
        AHP consistency ratios).
    figures : dict
        Key figures: ``budget``, ``total_cost``, ``status``, ``gap``, ``objective``,
        ``population``, ``need_population``, ``covered_population_before`` /
        ``_after``, ``covered_need_before`` / ``_after``, ``coverage_share_before`` /
        ``_after``, ``people_newly_covered``, ``units_contracted`` (selected),
        ``units_kept`` (selected and contracted), ``units_dropped`` (contracted, not
        selected), ``units_added`` (selected, not contracted), ``n_candidates``,
        ``n_demand``, ``n_regions``, ``solver``, ``objective_mode``.
    timings : dict
        Seconds per step: ``load_and_score`` (read and check every input, score the
        units), ``geography`` (coverage relation and the merged selection problem),
        ``select`` (the solver), ``indicators`` (before / after tables), ``total``;
        ``summary.json`` adds ``write``.
    inputs : dict
        Input file path (as stated in the scenario) -> sha256 hex digest.
    versions : dict
        Package -> version (optimizer, python, numpy, pandas, pulp, highspy, ...).
    warnings : tuple of str
        Suspicious but valid input found while loading (e.g. points outside every region).
    travel : optimizer.geo.travel.TravelTable or None
        The road or friction travel table the coverage came from (``inputs/travel.parquet``
        of the run folder); None for great-circle and table reach.
    equity : dict
        ``before`` / ``after``: Gini of 2SFCA across demand points (population-weighted), the
        worst-off 10 % of people's covered share and median distance to the nearest unit
        (:mod:`optimizer.geo.inequality`); ``regions`` adds ``nearest_median_*``,
        ``nearest_p90_*`` and ``nearest_share_beyond_*`` (km or minutes, inf = beyond reach).
    """

    scenario: Any
    scenario_path: Path
    units: pd.DataFrame
    regions: pd.DataFrame
    region_geometry: gpd.GeoDataFrame | None
    demand: pd.DataFrame
    score_result: Any
    selection: Any
    weights: pd.Series
    weight_details: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    travel: TravelTable | None = None
    equity: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- running

Progress = Callable[[str], None]

#: Columns of ``selection.csv`` (in order; columns a run does not have are left out).
UNIT_COLUMNS = (
    "name",
    "service",
    "region",
    "lon",
    "lat",
    "cost",
    "score",
    "rank",
    "quality",
    "eligible",
    "contracted",
    "selected",
    "status",
    "marginal_coverage",
    "reason",
    "strongest_criterion",
    "weakest_criterion",
    "capacity",
    "load",
    "utilisation",
    "served",
    "synthetic",
)

#: Columns of ``regions.csv`` (in order).
REGION_COLUMNS = (
    "name",
    "kind",
    "population",
    "need_population",
    "units_before",
    "units_after",
    "units_per_100k_before",
    "units_per_100k_after",
    "covered_share_before",
    "covered_share_after",
    "access_2sfca_before",
    "access_2sfca_after",
    "reached_share",
    "served_share",
    "volume_needed",
    "capacity_in_reach",
    "floor",
    "floor_met",
)


def _quiet(_: str) -> None:
    return None


def package_versions() -> dict[str, str]:
    """Versions of Python, this package and the libraries that shape a run's results."""
    out = {"python": platform.python_version()}
    for name in ("optimizer", "numpy", "pandas", "scipy", "geopandas", "shapely", "pyproj", "pulp", "highspy", "pymcdm", "pydantic"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _point_sets(inputs: Inputs) -> tuple[Demand, Units]:
    units = Units(ids=inputs.unit_points.ids, lon=inputs.unit_points.lon, lat=inputs.unit_points.lat, frame=inputs.units, source=inputs.unit_points.source)
    demand = Demand(
        ids=inputs.demand_points.ids,
        lon=inputs.demand_points.lon,
        lat=inputs.demand_points.lat,
        population=inputs.demand_points.population,
        need=inputs.demand_points.need,
        frame=inputs.demand,
        source=inputs.demand_points.source,
    )
    return demand, units


def build_travel(scenario: Scenario, inputs: Inputs, *, progress: Callable[[int, int], None] | None = None) -> TravelTable | None:
    """The road or friction travel table within the largest cut-off (cached); None otherwise."""
    source = travel_source(scenario)
    if source is None:
        return None
    demand, units = _point_sets(inputs)
    return compute_travel(
        source,
        demand,
        units,
        minutes_reach(scenario).maximum,
        cache_dir=cache_dir(scenario),
        workers=scenario.reach.workers,
        progress=progress,
    )


def build_coverage(scenario: Scenario, inputs: Inputs, travel: TravelTable | None = None) -> Coverage:
    """The sparse coverage relation in the scenario's reach mode (see :mod:`optimizer.geography`).

    ``travel`` is the road or friction table from :func:`build_travel` (computed here when
    the mode needs one and it is not given).
    """
    demand, units = _point_sets(inputs)
    mode = reach_mode(scenario)
    if mode in ("road", "friction"):
        table = travel if travel is not None else build_travel(scenario, inputs)
        assert table is not None
        return coverage_from_travel(table, demand, units, minutes_reach(scenario), kind_col="kind", service_col="service")
    if mode == "table":
        travel_in = scenario.travel
        if travel_in is None:
            raise InputError("expected a [travel] section with reach.mode = 'table'", option="reach.mode", file=scenario.path)
        return coverage_from_table(
            travel_in.file,
            demand,
            units,
            travel_in.max_distance,
            demand_col=travel_in.demand_id,
            unit_col=travel_in.unit_id,
            value_col=travel_in.distance,
        )
    return coverage_within(demand, units, km_reach(scenario), kind_col="kind", service_col="service", keep_distance=True)


def _subset(coverage: Coverage, mask: np.ndarray) -> Coverage:
    """The relation restricted to the units in ``mask`` (distances follow the pairs)."""
    matrix = coverage.matrix
    keep_pair = mask[matrix.indices]
    sub = sp.csr_array(matrix[:, np.flatnonzero(mask)])
    distance = None if coverage.distance is None else coverage.distance[keep_pair]
    return Coverage(demand_ids=coverage.demand_ids, unit_ids=coverage.unit_ids[mask], matrix=sub, distance=distance)


def _equity_of(coverage: Coverage, mask: np.ndarray, share: np.ndarray, demand: pd.DataFrame, regions: pd.Index) -> tuple[dict, pd.DataFrame]:
    """Equity of one network (:mod:`optimizer.geo.inequality`): Gini of 2SFCA (supply 1 per
    unit, demand = need), the worst-off 10 % of people, and per region the median and 90th
    percentile distance (km or minutes) to the nearest contracted unit."""
    access = two_step_fca(_subset(coverage, mask), demand["need"].to_numpy())
    near = nearest_distance(coverage, mask) if coverage.distance is not None else np.full(len(demand), np.nan)
    pop = demand["population"].to_numpy()
    result = equity(access, pop, covered=share, nearest=near, measure="2sfca")
    spread = time_distribution(near, pop, demand["region"].to_numpy(dtype=object), regions=regions)
    return result.summary(), spread


def _network_state(problem: SelectionProblem, coverage: Coverage, decay: Decay, a: Assignment, mask: np.ndarray, demand: pd.DataFrame, units: pd.DataFrame, regions: pd.Index) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per-region indicators, per-point service-weighted covered share and per-service
    served shares of the network ``mask`` with its assignment ``a``.

    ``covered_share`` is the selection model's definition (service-weighted share of the
    population served: with a unit of each service in reach, or with capacities the
    assigned share), so "after" agrees with the solver's result; 2SFCA (supply 1 per
    unit, demand = need) comes from the geography module.
    """
    share = served_shares(problem, a)
    share_point = (share * problem.service_weights[None, :]).sum(axis=1)
    points = point_access(_subset(coverage, mask), demand["population"].to_numpy(), demand["need"].to_numpy(), demand["region"].to_numpy(dtype=object), decay=decay)
    table = regions_from_points(points, units.loc[mask, "region"].to_numpy(dtype=object), regions=regions)
    pop = demand["population"].to_numpy()
    region = demand["region"]
    covered_pop = pd.Series(share_point * pop, index=demand.index).groupby(region.to_numpy()).sum().reindex(regions, fill_value=0.0)
    table["covered_share"] = np.divide(covered_pop.to_numpy(), table["population"].to_numpy(), out=np.ones(len(regions)), where=table["population"].to_numpy() > 0)
    return table, share_point, share


def _regions_table(before: pd.DataFrame, after: pd.DataFrame, selection, geometry: gpd.GeoDataFrame | None) -> pd.DataFrame:
    out = pd.DataFrame(index=after.index)
    if geometry is not None:
        out["name"] = geometry["name"].reindex(out.index).to_numpy(dtype=object)
        out["kind"] = geometry["kind"].reindex(out.index).to_numpy(dtype=object)
    else:
        out["name"] = out.index.to_numpy(dtype=object)
        out["kind"] = None
    out["population"] = after["population"]
    out["need_population"] = after["need_population"]
    out["units_before"] = before["units"].astype(int)
    out["units_after"] = after["units"].astype(int)
    out["units_per_100k_before"] = before["units_per_100k"]
    out["units_per_100k_after"] = after["units_per_100k"]
    out["covered_share_before"] = before["covered_share"]
    out["covered_share_after"] = after["covered_share"]
    out["access_2sfca_before"] = before["access_2sfca"] * 1e5
    out["access_2sfca_after"] = after["access_2sfca"] * 1e5
    by_region = selection.by_region.reindex(out.index)
    if len(selection.by_region):
        out["served_share"] = by_region["served_share"].astype(float)
        out["reached_share"] = np.divide(by_region["reached"].to_numpy(dtype=float), out["population"].to_numpy(dtype=float), out=np.ones(len(out)), where=out["population"].to_numpy(dtype=float) > 0)
        out["volume_needed"] = by_region["volume_needed"].astype(float)
        out["capacity_in_reach"] = by_region["capacity_in_reach"].astype(float)
    else:
        out["served_share"] = out["covered_share_after"]
        out["reached_share"] = np.nan
        out["volume_needed"] = np.nan
        out["capacity_in_reach"] = np.nan
    out["floor"] = by_region["floor"].astype(float) if len(selection.by_region) else np.nan
    met = (out["covered_share_after"] >= out["floor"] - 1e-9).astype(object)
    out["floor_met"] = met.where(out["floor"].notna(), None)
    out.index.name = "region"
    out = out[list(REGION_COLUMNS)]
    required = by_region["units_required"] if "units_required" in by_region.columns else None
    if required is not None and (required.fillna(0) > 0).any():  # ratio standards: units needed, and met?
        out["units_required"] = required.astype("Int64")
        met = (out["units_after"] >= out["units_required"]).astype(object)
        out["ratio_met"] = met.where(out["units_required"].notna(), None)
    return out


def _units_table(inputs: Inputs, scored: pd.DataFrame, selection, problem: SelectionProblem) -> pd.DataFrame:
    units = inputs.units
    sel = selection.units.reindex(units.index)
    out = pd.DataFrame(index=units.index)
    for col in ("name",):
        if col in units.columns:
            out[col] = units[col].to_numpy(dtype=object)
    out["service"] = units["service"].to_numpy(dtype=object)
    out["region"] = units["region"].to_numpy(dtype=object)
    out["lon"] = units["lon"]
    out["lat"] = units["lat"]
    out["cost"] = units["cost"]
    out["score"] = scored["score"]
    out["rank"] = scored["rank"].astype(int)
    out["quality"] = scored["quality"]
    out["eligible"] = sel["eligible"].astype(bool)
    out["contracted"] = units["contracted"].astype(bool)
    out["selected"] = sel["selected"].astype(bool)
    out["must_keep"] = sel["must_keep"].astype(bool)
    kept, chosen = out["contracted"], out["selected"]
    out["status"] = np.select([kept & chosen, kept & ~chosen, ~kept & chosen], ["kept", "dropped", "added"], "not contracted")
    out["marginal_coverage"] = np.where(chosen, sel["marginal_coverage"], sel["would_add"])
    out["cost_per_new_person"] = sel["cost_per_new_person"]
    out["reason"] = sel["reason"].to_numpy(dtype=object)
    for col in ("strongest_criterion", "weakest_criterion"):
        if col in scored.columns:
            out[col] = scored[col].to_numpy(dtype=object)
    for col in ("capacity", "synthetic"):
        if col in units.columns:
            out[col] = units[col].to_numpy()
    out["load"] = sel["load"].to_numpy()
    if "capacity" in units.columns:
        out["utilisation"] = sel["utilisation"].to_numpy()
    out["served"] = sel["served"].to_numpy()
    return out


def _scored(inputs: Inputs) -> pd.DataFrame:
    """score / rank / quality per unit, and the strongest and weakest criterion."""
    result = inputs.score_result
    if result is None:  # precomputed score column in [0, 1]
        s = inputs.units["score_input"].astype(float)
        ranks = s.rank(method="min", ascending=False).astype(int)
        return pd.DataFrame({"score": s, "rank": ranks, "quality": s})
    out = pd.DataFrame({"score": result.scores, "rank": result.ranks, "quality": result.quality})
    parts = contributions(result, inputs.units[list(result.criteria)])
    share = parts.div(parts.sum(axis=1).where(parts.sum(axis=1) != 0), axis=0)
    relative = share.sub(result.weights.reindex(share.columns), axis=1)
    out["strongest_criterion"] = relative.idxmax(axis=1)
    out["weakest_criterion"] = relative.idxmin(axis=1)
    return out


@dataclass(frozen=True)
class PreparedSelection:
    """What the selection needs, built once from a scenario's checked inputs.

    ``units`` is the inputs' units table with the ``quality`` column the selection uses;
    ``scored`` holds ``score``, ``rank``, ``quality`` (and the strongest / weakest
    criterion); ``options`` are the scenario's ``[selection]`` keys as solver options.
    A budget sweep reuses ``problem`` and changes only ``options.budget``.
    """

    units: pd.DataFrame
    scored: pd.DataFrame
    coverage: Coverage
    problem: SelectionProblem
    options: SelectionOptions
    travel: TravelTable | None = None


def prepare_selection(scenario: Scenario, inputs: Inputs, *, travel_progress: Callable[[int, int], None] | None = None) -> PreparedSelection:
    """Scores -> (travel table) -> coverage relation -> merged selection problem and the solver options."""
    scored = _scored(inputs)
    units = inputs.units.assign(quality=scored["quality"])
    travel = build_travel(scenario, inputs, progress=travel_progress)
    coverage = build_coverage(scenario, inputs, travel)
    sel = scenario.selection
    problem = build_problem(
        units,
        inputs.demand,
        coverage,
        service_weights=sel.service_weights or None,
        use_rates=scenario.demand.use_rates or None,
        group_use_rates=scenario.demand.group_use_rates or None,
        score_col="quality",
        units_file=str(scenario.units.file),
        demand_file=str(scenario.demand.file),
    )
    options = SelectionOptions(
        budget=sel.budget,
        objective=sel.objective,
        target=sel.target,
        must_keep=tuple(inputs.must_keep),
        exclude=tuple(inputs.exclude),
        min_score=sel.min_score,
        floors=sel.floors,
        ratio_standards=ratio_per_region(sel.ratio_standards, inputs.demand, units),
        capacity=sel.capacity,
        assignment=sel.assignment,
        spend=sel.spend,
        solver=sel.solver,
        time_limit=sel.time_limit,
        gap_rel=sel.gap,
    )
    return PreparedSelection(units=units, scored=scored, coverage=coverage, problem=problem, options=options, travel=travel)


def run_scenario(scenario: Scenario, *, progress: Progress | None = None, inputs: Inputs | None = None) -> RunResult:
    """Run a scenario end to end: load -> score -> geography -> select -> indicators.

    ``progress`` is called with a short description before each step (the CLI shows it).
    Raises :class:`~optimizer.errors.InputErrors` listing every input problem, and
    :class:`~optimizer.errors.InfeasibleError` (with the solver's explanation of what to
    relax) when the selection has no feasible solution.
    """
    say = progress or _quiet
    timings: dict[str, float] = {}
    t_start = t0 = time.perf_counter()
    if inputs is None:
        say("loading and checking inputs, scoring units")
        inputs = load_inputs(scenario)
    timings["load_and_score"] = time.perf_counter() - t0

    say(f"building the coverage relation ({len(inputs.demand):,} demand points x {len(inputs.units):,} units)")
    t0 = time.perf_counter()
    def travel_progress(done: int, total: int) -> None:
        say(f"travel times on the {reach_mode(scenario)} network: {done:,} of {total:,} units")

    prepared = prepare_selection(scenario, inputs, travel_progress=travel_progress)
    units, scored, coverage, problem = prepared.units, prepared.scored, prepared.coverage, prepared.problem
    demand = inputs.demand
    timings["geography"] = time.perf_counter() - t0

    say("selecting contracts")
    t0 = time.perf_counter()
    selection = solve_options(problem, prepared.options)
    timings["select"] = time.perf_counter() - t0
    if selection.status == "infeasible":
        raise InfeasibleError(
            "the scenario has no feasible selection: " + _explain(selection.explanation),
            explanation=selection.explanation,
        )

    say("computing regional indicators before and after")
    t0 = time.perf_counter()
    contracted = units["contracted"].to_numpy(dtype=bool)
    selected = units.index.isin(selection.selected)
    regions = _region_index(inputs, demand, units)
    reach_max = scenario.travel.max_distance if reach_mode(scenario) == "table" and scenario.travel is not None else scenario_reach(scenario).maximum
    decay = Decay.default(reach_max)
    assignment_before = assign(problem, contracted, capacity=selection.capacity, rule=selection.assignment_rule)
    before, share_before, hits_before = _network_state(problem, coverage, decay, assignment_before, contracted, demand, units, regions)
    after, share_after, hits_after = _network_state(problem, coverage, decay, selection.assignment, selected, demand, units, regions)
    region_table = _regions_table(before, after, selection, inputs.regions)
    equity_figures = {}
    for label, mask, share in (("before", contracted, share_before), ("after", selected, share_after)):
        figures_eq, spread = _equity_of(coverage, mask, share, demand, regions)
        equity_figures[label] = figures_eq
        for column in ("median", "p90", "share_beyond"):
            region_table[f"nearest_{column}_{label}"] = spread[column].to_numpy()
    unit_table = _units_table(inputs, scored, selection, problem)
    demand_table = demand[["lon", "lat", "population", "need", "region", "kind"]].copy()
    demand_table["covered_before"] = share_before
    demand_table["covered_after"] = share_after
    for k, service in enumerate(problem.services):
        demand_table[f"covered_{service}_before"] = hits_before[:, k]
        demand_table[f"covered_{service}_after"] = hits_after[:, k]
    timings["indicators"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start

    figures = _figures(scenario, selection, unit_table, demand_table, region_table, problem)
    geometry = None
    if inputs.regions is not None:
        geometry = inputs.regions[inputs.regions.index.isin(region_table.index)].copy()
    return RunResult(
        scenario=scenario,
        scenario_path=scenario.path,
        units=unit_table,
        regions=region_table,
        region_geometry=geometry,
        demand=demand_table,
        score_result=inputs.score_result,
        selection=selection,
        weights=inputs.weights.weights if inputs.weights is not None else pd.Series(dtype=float),
        weight_details={
            "spec": scenario.scoring.weights if inputs.weights is not None else "precomputed score",
            "method": inputs.score_result.method if inputs.score_result is not None else "precomputed",
            "normalization": inputs.score_result.normalization if inputs.score_result is not None else None,
            "dimensions": inputs.dimensions,
            "indicators": dict(scenario.criteria.indicators),
            **(inputs.weights.details if inputs.weights is not None else {}),
        },
        figures=figures,
        timings=timings,
        inputs=inputs.hashes,
        versions=package_versions(),
        warnings=tuple(inputs.warnings),
        travel=prepared.travel,
        equity=equity_figures,
    )


def _explain(explanation: dict) -> str:
    """One readable sentence from the selection's infeasibility explanation."""
    if not explanation:
        return "no explanation available"
    options = explanation.get("options") or [explanation]
    texts = [f"{o.get('constraint', '?')}: {o['relax']}" for o in options if o.get("relax")]
    if not texts:
        return "; ".join(f"{k}: {v}" for k, v in explanation.items())
    proof = f" ({explanation['proof']})" if explanation.get("proof") else ""
    return "relax one of" + proof + ": " + " | ".join(texts)


def _region_index(inputs: Inputs, demand: pd.DataFrame, units: pd.DataFrame) -> pd.Index:
    """Every region: the polygons' ids, else the codes met in the demand and units tables."""
    if inputs.regions is not None:
        return pd.Index(inputs.regions.index.astype(str), name="region")
    seen = {r for r in demand["region"] if r is not None} | {r for r in units["region"] if r is not None}
    return pd.Index(sorted(map(str, seen)), name="region", dtype=object)


def _figures(scenario: Scenario, selection, units: pd.DataFrame, demand: pd.DataFrame, regions: pd.DataFrame, problem: SelectionProblem) -> dict:
    pop = demand["population"].to_numpy()
    need = demand["need"].to_numpy()
    covered_before = float((demand["covered_before"] * pop).sum())
    covered_after = float((demand["covered_after"] * pop).sum())
    total = float(pop.sum())
    kept = units["contracted"] & units["selected"]
    return {
        "budget": selection.budget,
        "total_cost": selection.total_cost,
        "cost_before": float(units.loc[units["contracted"], "cost"].sum()),
        "status": selection.status,
        "gap": selection.gap,
        "objective": selection.objective,
        "objective_mode": selection.objective_mode,
        "solver": selection.solver,
        "population": total,
        "need_population": float(need.sum()),
        "covered_population_before": covered_before,
        "covered_population_after": covered_after,
        "covered_need_before": float((demand["covered_before"] * need).sum()),
        "covered_need_after": float((demand["covered_after"] * need).sum()),
        "coverage_share_before": covered_before / total if total > 0 else 1.0,
        "coverage_share_after": covered_after / total if total > 0 else 1.0,
        "people_newly_covered": covered_after - covered_before,
        "units_contracted": int(units["selected"].sum()),
        "units_kept": int(kept.sum()),
        "units_dropped": int((units["contracted"] & ~units["selected"]).sum()),
        "units_added": int((~units["contracted"] & units["selected"]).sum()),
        "units_contracted_before": int(units["contracted"].sum()),
        "n_candidates": len(units),
        "n_eligible": int(units["eligible"].sum()),
        "n_demand": len(demand),
        "n_regions": len(regions),
        "services": list(map(str, problem.services)),
        "floors_met": None if regions["floor"].isna().all() else int(regions["floor_met"].eq(True).sum()),
        "capacity": selection.capacity,
        "reached_population_after": selection.reached_population,
        "capacity_shortfall": selection.capacity_shortfall,
        "budget_unspent": selection.spending.get("unspent"),
        "coverage_saturated": selection.spending.get("saturated"),
        "spending_note": selection.spending.get("note"),
        "volume_needed": float(problem.volume.sum()),
        "volume_served": float(selection.by_service["volume_served"].sum()),
        "capacity_selected": float(selection.by_service["capacity"].sum()) if selection.capacity else None,
    }


# --------------------------------------------------------------------------- writing


def default_out_dir(scenario: Scenario, *, root: str | Path = "runs", now: datetime | None = None) -> Path:
    """``runs/<scenario-name>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3``... if it exists."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{scenario.name}-{stamp}"
    out, k = base, 2
    while out.exists():
        out = base.with_name(f"{base.name}-{k}")
        k += 1
    return out


def summary(run: RunResult) -> dict:
    """The content of ``summary.json``: scenario as resolved, inputs, versions, results."""
    sel = run.selection
    return {
        "scenario": {
            "name": run.scenario.name,
            "file": str(run.scenario_path) if run.scenario_path else None,
            "extends": [str(p) for p in run.scenario.chain[1:]],
            "resolved": run.scenario.resolved(),
        },
        "inputs": run.inputs,
        "versions": run.versions,
        "reach": {
            "mode": reach_mode(run.scenario),
            "unit": reach_unit(run.scenario),
            "travel": run.travel.summary() if run.travel is not None else None,
        },
        "equity": run.equity,
        "status": sel.status,
        "gap": sel.gap,
        "bound": sel.bound,
        "objective_mode": sel.objective_mode,
        "objective": sel.objective,
        "solver": sel.solver,
        "budget": sel.budget,
        "total_cost": sel.total_cost,
        "covered_population": sel.covered_population,
        "capacity": sel.capacity,
        "reached_population": sel.reached_population,
        "capacity_shortfall": sel.capacity_shortfall,
        "spending": sel.spending,
        "stages": sel.stages,
        "covered_need": sel.covered_need,
        "total_population": sel.total_population,
        "coverage_share": sel.coverage_share,
        "selected": list(sel.selected),
        "figures": run.figures,
        "by_service": {str(k): v for k, v in sel.by_service.to_dict(orient="index").items()},
        "weights": {str(k): float(v) for k, v in run.weights.items()},
        "weight_details": run.weight_details,
        "model_size": sel.model_size,
        "explanation": sel.explanation,
        "warnings": list(run.warnings),
        "timings": run.timings,
    }


def _units_gdf(run: RunResult) -> gpd.GeoDataFrame:
    frame = run.units.reset_index()
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")


def _regions_gdf(run: RunResult) -> gpd.GeoDataFrame | None:
    if run.region_geometry is None:
        return None
    frame = run.regions.reset_index()
    for col in ("floor_met", "ratio_met"):
        if col in frame.columns:
            frame[col] = frame[col].map(lambda v: None if v is None or v is pd.NA else bool(v))
    geometry = run.region_geometry.geometry.reindex(run.regions.index).to_numpy()
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def write_run(run: RunResult, out_dir: str | Path, *, force: bool = False) -> Path:
    """Write the run folder atomically; return its path.

    Files: ``summary.json`` (always), ``selection.csv`` with ``assignment.csv`` (demand
    point, unit, service, people and volume of every positive assignment), ``regions.csv``,
    ``selection.gpkg`` (layers ``units``, ``regions`` when polygons exist, ``demand``)
    and ``report.html`` as the scenario's ``[outputs]`` say. The folder appears only
    when every file is written; an existing folder is an error unless ``force``.
    """
    out_dir = Path(out_dir)
    outputs = run.scenario.outputs
    with atomic_directory(out_dir, force=force) as tmp:
        t0 = time.perf_counter()
        if outputs.selection_csv:
            cols = [c for c in UNIT_COLUMNS if c in run.units.columns]
            cols += [c for c in run.units.columns if c not in cols]
            run.units[cols].to_csv(tmp / "selection.csv", index_label="unit_id")
        if outputs.selection_csv and run.selection.assignment is not None:
            # who is served by which contracted unit: every served figure follows from it
            run.selection.assignment.pairs.to_csv(tmp / "assignment.csv", index=False)
        if outputs.regions_csv:
            run.regions.to_csv(tmp / "regions.csv", index_label="region")
        if outputs.gpkg:
            path = tmp / "selection.gpkg"
            _units_gdf(run).to_file(path, layer="units", driver="GPKG")
            regions = _regions_gdf(run)
            if regions is not None:
                regions.to_file(path, layer="regions", driver="GPKG")
            frame = run.demand.reset_index()
            gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326").to_file(
                path, layer="demand", driver="GPKG"
            )
        if run.travel is not None:  # the computed travel table, so the run can be audited and re-run
            (tmp / "inputs").mkdir()
            run.travel.pairs.to_parquet(tmp / "inputs" / "travel.parquet", index=False)
        if outputs.report:
            from optimizer.report import write_report

            write_report(tmp, run)
        timings = {**run.timings, "write": time.perf_counter() - t0}
        write_json(tmp / "summary.json", {**summary(run), "timings": timings})
    return out_dir
