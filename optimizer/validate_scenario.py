"""Check a scenario's inputs and collect every problem, not only the first.

:func:`check_inputs` opens every input file a scenario names and checks them against the
scenario: files exist and are readable, columns are present, vector files declare a CRS,
ids are unique, values lie in range, criteria are numeric, the weight spec resolves, the
method and normalization are known, must-keep / excluded units exist and do not overlap,
the budget covers the must-keep units, floors name known regions, reach names known
services. Each check that fails adds an :class:`~optimizer.errors.InputError`; checks
that depend on a failed one are skipped. When everything passes it returns the loaded
:class:`Inputs`, which the pipeline uses as is (so a run reads each file once).

:func:`validate_path` is what ``optimizer validate`` runs: schema errors of the TOML
(unknown keys, wrong types) and data errors are reported together.
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from optimizer.errors import InputError, InputErrors
from optimizer.geo.io import (
    Demand,
    Units,
    assign_regions,
    is_vector_file,
    load_demand,
    load_regions,
    load_units,
    region_column,
)
from optimizer.geography import is_population_raster, mode_problems, raster_demand_table
from optimizer.mcdm.catalog import DIMENSIONS, aggregate_indicators, match_dimensions
from optimizer.mcdm.scoring import ScoreResult, resolve_method, score
from optimizer.mcdm.weights import WeightSpec, resolve_weights
from optimizer.scenario import (
    Criteria,
    DemandInput,
    FrictionInput,
    Outputs,
    Reach,
    RegionsInput,
    RoadsInput,
    Scenario,
    Scoring,
    Selection,
    TravelInput,
    UnitsInput,
    build_scenario,
    load_raw,
)
from optimizer.validation import boolean_column, numeric_column, require_columns

T = TypeVar("T")

SECTIONS: dict[str, type[BaseModel]] = {
    "units": UnitsInput,
    "demand": DemandInput,
    "regions": RegionsInput,
    "travel": TravelInput,
    "roads": RoadsInput,
    "friction": FrictionInput,
    "criteria": Criteria,
    "scoring": Scoring,
    "reach": Reach,
    "selection": Selection,
    "outputs": Outputs,
}

DEFAULT_SERVICE = "all"


@dataclass(frozen=True)
class Inputs:
    """A scenario's inputs, loaded and checked.

    ``units`` is indexed by unit id with columns ``lon``, ``lat``, ``cost``, ``service``,
    ``region``, ``contracted`` (bool), ``capacity`` (when present), the criteria (after
    indicator aggregation) and every other column of the file; ``demand`` is indexed by
    demand id with ``lon``, ``lat``, ``population``, ``need``, ``region``, ``kind``.
    """

    units: pd.DataFrame
    demand: pd.DataFrame
    unit_points: Units
    demand_points: Demand
    regions: gpd.GeoDataFrame | None
    criteria: tuple[str, ...]
    cost_criteria: tuple[str, ...]
    dimensions: dict[str, str]
    weights: WeightSpec | None
    score_result: ScoreResult | None
    must_keep: pd.Index
    exclude: pd.Index
    hashes: dict[str, str]
    warnings: tuple[str, ...] = field(default_factory=tuple)


class _Collector:
    """Run checks, keep every InputError, and remember which steps failed."""

    def __init__(self, scenario_file: Path | None) -> None:
        self.errors: list[InputError] = []
        self.warnings: list[str] = []
        self.scenario_file = scenario_file

    def run(self, fn: Callable[[], T], *, key: str | None = None) -> T | None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return fn()
            except InputErrors as exc:
                self.errors.extend(exc.errors)
            except InputError as exc:
                self.errors.append(_with_key(exc, key, self.scenario_file) if key else exc)
            finally:
                self.warnings.extend(str(w.message) for w in caught)
        return None

    def add(self, key: str, message: str, *, found: object = None, file: Path | None = None) -> None:
        self.errors.append(InputError(f"key {key!r}: {message}", file=file or self.scenario_file, found=found))


def _with_key(exc: InputError, key: str, scenario_file: Path | None) -> InputError:
    """Prefix an error raised by a library function with the scenario key it came from.

    An error about a data file (a missing column, an unreadable file) keeps its file; an
    error about the scenario's value itself (no file) names the scenario file instead, and drops the
    library's option name (the key replaces it).
    """
    if exc.message.startswith("key ") or (exc.file is not None and exc.row is not None):
        return exc  # already keyed, or a bad value in a data row (file, row and column say where)
    if exc.file is not None:
        return InputError(f"key {key!r}: {exc.message}", file=exc.file, row=exc.row, column=exc.column, found=exc.found, option=exc.option)
    return InputError(f"key {key!r}: {exc.message}", file=scenario_file, row=exc.row, found=exc.found)


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- pieces


def _optional_column(frame: pd.DataFrame, section: BaseModel, key: str) -> str | None:
    """The column named by ``section.key`` if present; stating an absent one is an error."""
    name = getattr(section, key)
    if name is None:
        return None
    if name in frame.columns:
        return name
    if key in section.model_fields_set:
        raise InputError(
            f"key '{type(section).__name__.removesuffix('Input').lower()}.{key}': expected a column {name!r} in the file",
            file=getattr(section, "file", None),
            found=list(map(str, frame.columns)),
        )
    return None


def _ids_from(value: str | list[str] | None, units: pd.DataFrame, file: Path, key: str) -> pd.Index:
    """Unit ids named by a flag column (string) or listed (list of ids)."""
    if value is None:
        return pd.Index([], dtype=object)
    if isinstance(value, str):
        if value not in units.columns:
            raise InputError(
                f"key {key!r}: expected a flag column of the units file or a list of unit ids; no column {value!r}",
                file=file,
            )
        flags = boolean_column(units.reset_index(), value, file=file)
        return pd.Index(units.index[flags], dtype=object)
    unknown = [v for v in value if str(v) not in units.index]
    if unknown:
        raise InputError(f"key {key!r}: expected ids of units in the units file; unknown ids", file=file, found=unknown[:10])
    return pd.Index([str(v) for v in value], dtype=object)


def _units_frame(units: Units, sec: UnitsInput, regions: gpd.GeoDataFrame | None, col: _Collector) -> tuple[pd.DataFrame, bool]:
    """The units table in the data contract's names; each column checked on its own.

    Returns (frame, complete): a column that fails is reported to ``col`` and filled with
    NaN / None, so the other checks (criteria, weights, ids) still run.
    """
    frame = units.frame.copy()
    file = sec.file
    flat = frame.reset_index()
    out = pd.DataFrame(index=pd.Index(units.ids, name="unit_id"))
    out["lon"] = units.lon
    out["lat"] = units.lat
    n_errors = len(col.errors)

    def fill(name: str, values, default) -> None:
        out[name] = default if values is None else values

    fill("cost", col.run(lambda: numeric_column(flat, sec.cost, file=file, minimum=0.0), key="units.cost"), np.nan)
    svc = col.run(lambda: _optional_column(frame, sec, "service"))
    fill("service", col.run(lambda: _service_values(frame, svc, file), key="units.service") if svc is not None else None, DEFAULT_SERVICE)
    reg = col.run(lambda: _optional_column(frame, sec, "region"))
    fill("region", col.run(lambda: _regions_for(frame, reg, units.lon, units.lat, regions, file, "units"), key="units.region"), None)
    contracted = col.run(lambda: _optional_column(frame, sec, "contracted"))
    fill("contracted", col.run(lambda: boolean_column(flat, contracted, file=file), key="units.contracted") if contracted else None, False)
    cap = col.run(lambda: _optional_column(frame, sec, "capacity"))
    if cap is not None:
        fill("capacity", col.run(lambda: numeric_column(flat, cap, file=file, minimum=0.0), key="units.capacity"), np.nan)
    if sec.score is not None:
        fill("score_input", col.run(lambda: _score_values(flat, sec.score, file), key="units.score"), np.nan)
    used = {sec.cost, svc, reg, contracted, cap, sec.score, sec.lon, sec.lat}
    for name in frame.columns:
        if name not in used and name not in out.columns:
            out[name] = frame[name].to_numpy()
    return out, len(col.errors) == n_errors


def _service_values(frame: pd.DataFrame, column: str, file: Path) -> np.ndarray:
    values = frame[column].astype(object).where(frame[column].notna(), None)
    empty = values.map(lambda v: v is None or str(v).strip() == "").to_numpy(dtype=bool)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError("expected a service name, found an empty value", file=file, row=i + 1, column=column)
    return values.map(lambda v: str(v).strip()).to_numpy(dtype=object)


def _score_values(flat: pd.DataFrame, column: str, file: Path) -> np.ndarray:
    values = numeric_column(flat, column, file=file, minimum=0.0)
    bad = np.flatnonzero(values > 1)
    if len(bad):
        raise InputError("expected a score in [0, 1]", file=file, row=int(bad[0]) + 1, column=column, found=values[bad[0]])
    return values


def _regions_for(
    frame: pd.DataFrame,
    column: str | None,
    lon: np.ndarray,
    lat: np.ndarray,
    regions: gpd.GeoDataFrame | None,
    file: Path,
    what: str,
) -> np.ndarray:
    """Region of each point: the file's region column, else point-in-polygon, else None."""
    if column is not None:
        codes = region_column(frame, column, file=file)
        if regions is not None:
            known = set(map(str, regions.index))
            bad = codes.notna().to_numpy() & ~codes.isin(known).to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(
                    "expected a region id of the regions file", file=file, row=i + 1, column=column, found=codes.iloc[i]
                )
        return codes.to_numpy(dtype=object)
    if regions is not None:
        return assign_regions(lon, lat, regions, ids=frame.index, what=f"{what} points").to_numpy(dtype=object)
    return np.full(len(lon), None, dtype=object)


def _demand_frame(demand: Demand, sec: DemandInput, regions: gpd.GeoDataFrame | None) -> pd.DataFrame:
    frame = demand.frame
    out = pd.DataFrame(index=pd.Index(demand.ids, name="demand_id"))
    out["lon"] = demand.lon
    out["lat"] = demand.lat
    out["population"] = demand.population
    out["need"] = demand.need
    reg = _optional_column(frame, sec, "region")
    out["region"] = _regions_for(frame, reg, demand.lon, demand.lat, regions, sec.file, "demand")
    kind = _optional_column(frame, sec, "kind")
    if kind is not None:
        values = frame[kind].astype(object).where(frame[kind].notna(), None)
        out["kind"] = values.map(lambda v: None if v is None or str(v).strip() == "" else str(v).strip()).to_numpy(dtype=object)
    elif regions is not None and regions["kind"].notna().any():
        out["kind"] = pd.Series(out["region"]).map(regions["kind"]).to_numpy(dtype=object)
    else:
        out["kind"] = None
    used = {reg, kind, sec.population, sec.lon, sec.lat}
    for col in frame.columns:
        if col not in used and col not in out.columns:
            out[col] = frame[col].to_numpy()
    return out


def _criteria_table(units: pd.DataFrame, raw_units: pd.DataFrame, crit: Criteria, file: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Units x criteria table: indicator aggregation, then the direct criterion columns."""
    parts = []
    dimensions = dict(crit.dimensions)
    if crit.indicators:
        aggregated = aggregate_indicators(raw_units.reset_index(drop=True), dict(crit.indicators))
        aggregated.index = units.index
        parts.append(aggregated)
        dimensions.update({c: c for c in aggregated.columns})
    if crit.columns is not None:
        direct = list(crit.columns)
    else:
        taken = {c for p in parts for c in p.columns}
        direct = [d for d in DIMENSIONS if d in units.columns and d not in taken]
    if direct:
        try:
            require_columns(units, direct, file=file)
        except InputError as exc:
            raise _with_key(exc, "criteria.columns", None) from None
        flat = units[direct].reset_index(drop=True)
        parts.append(pd.DataFrame({c: numeric_column(flat, c, file=file) for c in direct}, index=units.index))
    if not parts:
        raise InputError(
            "key 'criteria': expected criterion columns (criteria.columns, criteria.indicators, or columns named "
            "after the ten dimensions in the units file)",
            file=file,
        )
    table = pd.concat(parts, axis=1)
    order = [d for d in DIMENSIONS if d in table.columns] + [c for c in table.columns if c not in DIMENSIONS]
    if not table.columns.duplicated().any():
        table = table[order]
    if table.columns.duplicated().any():
        dup = table.columns[table.columns.duplicated()][0]
        raise InputError(
            f"key 'criteria': the criterion {dup!r} is both a column and the result of indicator aggregation", file=file
        )
    for col in direct:
        if col not in dimensions:
            with contextlib.suppress(InputError):
                dimensions[col] = match_dimensions([col])[col]
    missing = table.isna().any()
    if missing.any():
        col = str(missing[missing].index[0])
        i = int(np.flatnonzero(table[col].isna().to_numpy())[0])
        raise InputError(f"expected at least one indicator value of dimension {col!r}", file=file, row=i + 1)
    return table, dimensions


def _header(path: Path, layer: str | None) -> list[str] | None:
    """Column names of a table or vector file, read without its rows (None if unreadable).

    Lets :func:`check_inputs` report every missing column of a file at once, each with the
    scenario key that names it; the full read then reports anything else.
    """
    try:
        if is_vector_file(path):
            import pyogrio

            return [str(c) for c in pyogrio.read_info(path, layer=layer)["fields"]]
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            return [str(c) for c in pq.read_schema(path).names]
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        return [str(c).strip() for c in pd.read_csv(path, sep=sep, nrows=0, skipinitialspace=True).columns]
    except Exception:  # the full read reports why the file cannot be read
        return None


def _files_and_columns_ok(scenario: Scenario, col: _Collector) -> dict[str, bool]:
    """Check that each input file exists and has the columns its section names.

    Returns section -> True when its file can be loaded; every problem is added to ``col``
    with the key that states the file or column.
    """
    ok: dict[str, bool] = {}
    for name in ("units", "demand", "regions", "travel"):
        sec = getattr(scenario, name)
        if sec is None:
            continue
        file = Path(sec.file)
        if not file.is_file():
            col.add(f"{name}.file", f"expected an existing {name} file", found=str(file))
            ok[name] = False
            continue
        header = _header(file, getattr(sec, "layer", None))
        if header is None:
            ok[name] = True
            continue
        named = {f"{name}.id": sec.id} if name != "travel" else {}
        if name in ("units", "demand") and not is_vector_file(file):
            named.update({f"{name}.lon": sec.lon, f"{name}.lat": sec.lat})
        if name == "demand":  # the units' other columns are checked one by one when loading
            named["demand.population"] = sec.population
            named.update({f"demand.need_weights.{g}": g for g in sec.need_weights})
            named.update({f"demand.group_use_rates.{g}": g for g in sec.group_use_rates})
        elif name == "travel":
            named.update({"travel.demand_id": sec.demand_id, "travel.unit_id": sec.unit_id, "travel.distance": sec.distance})
        missing = {k: c for k, c in named.items() if c not in header}
        for key, column in missing.items():
            col.add(key, f"expected a column {column!r} in the {name} file", found=header, file=file)
        ok[name] = not missing
    return ok


def ratio_per_region(standards: dict | None, demand: pd.DataFrame, units: pd.DataFrame) -> dict[str, float] | None:
    """Units per 100,000 required in each region, from the standard of its kind.

    A region's kind is the kind of most of its population (``default`` applies to the
    others). Per-service standards (kind -> {service -> value}) add up, since the
    selection model counts the units of every service in the region; their services
    must be services of the ``units`` table.
    """
    if not standards:
        return None
    services = set(units["service"]) if "service" in units.columns else None
    for value in standards.values():
        unknown = sorted(set(value) - services) if isinstance(value, dict) and services is not None else []
        if unknown:
            raise InputError(
                f"key 'selection.ratio_standards': expected services among {sorted(services)}", found=unknown
            )
    pop_kind = demand.groupby([demand["region"].to_numpy(dtype=object), demand["kind"].fillna("default").to_numpy(dtype=object)])["population"].sum()
    out: dict[str, float] = {}
    for region in {r for r, _ in pop_kind.index if r is not None}:
        kind = pop_kind.loc[region].idxmax()
        value = standards.get(kind, standards.get("default"))
        if value is None:
            continue
        out[str(region)] = float(sum(value.values())) if isinstance(value, dict) else float(value)
    return out or None


# --------------------------------------------------------------------------- main checks


def check_inputs(scenario: Scenario, *, skip: frozenset[str] = frozenset()) -> tuple[Inputs | None, list[InputError], list[str]]:
    """Load and check every input of ``scenario``; return (inputs or None, errors, warnings).

    ``skip`` names sections whose schema was invalid (``optimizer validate`` still checks
    the data of the others); their checks are left out.
    """
    col = _Collector(scenario.path)
    readable = _files_and_columns_ok(scenario, col)
    regions = None
    if scenario.regions is not None and readable["regions"]:
        r = scenario.regions
        regions = col.run(lambda: load_regions(r.file, id_col=r.id, name_col=r.name, kind_col=r.kind, layer=r.layer), key="regions")
    u = scenario.units
    units_pts = None
    if readable["units"]:
        units_pts = col.run(lambda: load_units(u.file, id_col=u.id, lon_col=u.lon, lat_col=u.lat, layer=u.layer), key="units")
    units, units_complete = _units_frame(units_pts, u, regions, col) if units_pts is not None else (None, False)
    d = scenario.demand
    demand_pts = None
    if readable["demand"] and is_population_raster(d.file):  # cells of a population raster become the points
        table_file = col.run(lambda: raster_demand_table(scenario, regions), key="demand.file")
        if table_file is not None:
            demand_pts = col.run(lambda: load_demand(table_file, need_weights=d.need_weights), key="demand")
    elif readable["demand"]:
        demand_pts = col.run(
            lambda: load_demand(
                d.file, id_col=d.id, lon_col=d.lon, lat_col=d.lat, population_col=d.population, need_weights=d.need_weights, layer=d.layer
            ),
            key="demand",
        )
    demand = col.run(lambda: _demand_frame(demand_pts, d, regions), key="demand") if demand_pts is not None else None

    table = weights = score_result = None
    dimensions: dict[str, str] = {}
    crit = scenario.criteria
    if units is not None and u.score is None and not {"criteria", "scoring"} & skip:
        built = col.run(lambda: _criteria_table(units, units_pts.frame, crit, u.file), key="criteria")
        if built is not None:
            table, dimensions = built
            unknown_cost = [c for c in crit.cost if c not in table.columns]
            if unknown_cost:
                col.add("criteria.cost", f"expected criteria among {list(table.columns)}", found=unknown_cost)
            sc = scenario.scoring
            method_ok = col.run(lambda: resolve_method(sc.method), key="scoring.method") is not None
            weights = col.run(
                lambda: resolve_weights(
                    sc.weights,
                    criteria=list(table.columns),
                    table=table,
                    cost=crit.cost,
                    base_dir=scenario.base_dir("scoring.weights"),
                    table_file=u.file,
                ),
                key="scoring.weights",
            )
            if weights is not None and not unknown_cost and method_ok:
                score_result = col.run(
                    lambda: score(table, weights.weights, cost=crit.cost, method=sc.method, normalization=sc.normalization),
                    key="scoring",
                )
    elif units is not None and u.score is not None and (crit.columns or crit.indicators):
        col.add("criteria", "expected no criteria when units.score gives a precomputed score")

    sel = scenario.selection
    must_keep = exclude = pd.Index([], dtype=object)
    check_sel = "selection" not in skip
    check_reach = "reach" not in skip
    if units is not None and check_sel:
        must_keep = col.run(lambda: _ids_from(sel.must_keep, units, u.file, "selection.must_keep"))
        exclude = col.run(lambda: _ids_from(sel.exclude, units, u.file, "selection.exclude"))
        if must_keep is not None and exclude is not None:
            both = must_keep.intersection(exclude)
            if len(both):
                col.add("selection.exclude", "expected no unit both kept and excluded", found=list(both[:10]))
        quality = score_result.quality if score_result is not None else units.get("score_input")
        if must_keep is not None and sel.min_score is not None and quality is not None:
            low = [i for i in must_keep if quality[i] < sel.min_score - 1e-12]
            if low:
                col.add(
                    "selection.must_keep",
                    f"expected must-keep units that reach selection.min_score = {sel.min_score:g}; these score below it",
                    found=[f"{i} ({quality[i]:.3f})" for i in low[:10]],
                )
        if must_keep is not None and sel.budget is not None and units_complete:
            need = float(units.loc[must_keep, "cost"].sum())
            if need > sel.budget + 1e-9:
                col.add(
                    "selection.budget",
                    f"expected a budget of at least {need:,.2f}, the cost of the {len(must_keep)} must-keep units",
                    found=sel.budget,
                )
        services = set(units["service"])
        unknown = [s for s in sel.service_weights if s not in services] if units_complete else []
        if unknown:
            col.add("selection.service_weights", f"expected services among {sorted(services)}", found=unknown)
        if sel.capacity and "capacity" not in units.columns:
            col.add("selection.capacity", f"expected a capacity column {u.capacity!r} in the units file", file=u.file)
        d_sec = scenario.demand
        unknown = [s for s in d_sec.use_rates if s not in services] if units_complete else []
        if unknown:
            col.add("demand.use_rates", f"expected services among {sorted(services)}", found=unknown)
        for group, rates in d_sec.group_use_rates.items():
            unknown = [s for s in rates if s not in services] if units_complete else []
            if unknown:
                col.add(f"demand.group_use_rates.{group}", f"expected services among {sorted(services)}", found=unknown)
        if (d_sec.use_rates or d_sec.group_use_rates) and sel.capacity is not False and "capacity" not in units.columns:
            col.add("demand.use_rates", f"expected a capacity column {u.capacity!r} in the units file: use rates only matter with capacities", file=u.file)
    if units is not None and units_complete and check_reach:
        services = set(units["service"])
        unknown = [s for s in scenario.reach.km if s not in services]
        if unknown:
            col.add("reach.km", f"expected services among {sorted(services)}", found=unknown)
    if check_sel and sel.solver != "greedy":
        from optimizer.select.solvers import check_solver  # (pulp only when a scenario is checked)

        col.run(lambda: check_solver(sel.solver), key="selection.solver")
    if check_sel and sel.objective == "min-cost" and sel.target is None and sel.floors is None:
        col.add("selection.target", "expected a coverage target (or floors) with objective = 'min-cost'")
    if check_sel and sel.objective != "min-cost" and sel.budget is None:
        col.add("selection.budget", f"expected a budget with objective = {sel.objective!r}")
    if (demand is not None or regions is not None) and check_sel:
        if demand is not None:
            known_regions = {r for r in demand["region"] if r is not None}
        else:
            known_regions = set(map(str, regions.index))
        if isinstance(sel.floors, dict):
            unknown = [r for r in sel.floors if r not in known_regions]
            if unknown:
                col.add("selection.floors", "expected region ids of the demand points", found=unknown[:10])
        if sel.floors is not None and not known_regions:
            col.add("selection.floors", "expected regions (a region column or region polygons) to apply floors")
    if demand is not None:
        kinds = {k for k in demand["kind"] if k is not None}
    if demand is not None and check_sel and sel.ratio_standards:
        unknown = [k for k in sel.ratio_standards if k not in kinds and k != "default"]
        if unknown:
            col.add("selection.ratio_standards", f"expected region kinds among {sorted(kinds)} or 'default'", found=unknown)
        if units is not None:
            col.run(lambda: ratio_per_region(sel.ratio_standards, demand, units), key="selection.ratio_standards")
    if demand is not None and check_reach:
        reach_kinds = {k for v in scenario.reach.km.values() if isinstance(v, dict) for k in v} - {"default"}
        unknown = sorted(reach_kinds - kinds)
        if unknown:
            col.add("reach.km", f"expected region kinds among {sorted(kinds)} (demand kind column)", found=unknown)
        minute_kinds = {k for v in scenario.reach.minutes.values() if isinstance(v, dict) for k in v} - {"default"}
        unknown = sorted(minute_kinds - kinds)
        if unknown:
            col.add("reach.minutes", f"expected region kinds among {sorted(kinds)} (demand kind column)", found=unknown)
    for key, message in mode_problems(scenario):
        col.add(key, message)
    for key, path in _geography_files(scenario):
        if not Path(path).is_file():
            col.add(key, "expected an existing file", found=str(path))

    if col.errors:
        return None, col.errors, col.warnings
    hashes = {str(p): sha256(p) for p in _input_files(scenario)}
    inputs = Inputs(
        units=units if table is None else units.assign(**{c: table[c] for c in table.columns}),
        demand=demand,
        unit_points=units_pts,
        demand_points=demand_pts,
        regions=regions,
        criteria=tuple(table.columns) if table is not None else (),
        cost_criteria=tuple(crit.cost),
        dimensions=dimensions,
        weights=weights,
        score_result=score_result,
        must_keep=must_keep,
        exclude=exclude,
        hashes=hashes,
        warnings=tuple(col.warnings),
    )
    return inputs, [], col.warnings


def _geography_files(scenario: Scenario) -> list[tuple[str, Path]]:
    """(key, path) of every roads, friction and population-raster file the scenario names."""
    out: list[tuple[str, Path]] = []
    if scenario.roads is not None:
        out.append(("roads.extract", Path(scenario.roads.extract)))
    if scenario.friction is not None:
        f = scenario.friction
        for key in ("raster", "landcover", "roads", "landcover_speeds"):
            value = getattr(f, key)
            if isinstance(value, Path):
                out.append((f"friction.{key}", value))
    out.extend((f"demand.group_rasters.{g}", Path(p)) for g, p in scenario.demand.group_rasters.items())
    if scenario.demand.group_shares is not None:
        out.append(("demand.group_shares", Path(scenario.demand.group_shares)))
    return out


def _input_files(scenario: Scenario) -> list[Path]:
    """Every file the scenario reads (data files, weight files named in the spec)."""
    files = [scenario.units.file, scenario.demand.file]
    if scenario.regions is not None:
        files.append(scenario.regions.file)
    if scenario.travel is not None:
        files.append(scenario.travel.file)
    files.extend(p for _, p in _geography_files(scenario) if p.is_file())
    spec = scenario.scoring.weights
    base = scenario.base_dir("scoring.weights")
    for token in spec.replace(":", ",").replace(";", ",").split(","):
        token = token.strip()
        if token and any(token.lower().endswith(s) for s in (".csv", ".json", ".tsv", ".txt")):
            p = Path(token) if Path(token).is_absolute() else base / token
            if p.is_file():
                files.append(p)
    files.extend(p for p in scenario.chain if p.is_file())
    return [Path(f).resolve() for f in files]


def load_inputs(scenario: Scenario) -> Inputs:
    """Load a scenario's inputs or raise :class:`InputErrors` listing every problem."""
    inputs, errors, _ = check_inputs(scenario)
    if errors:
        raise InputErrors(errors)
    assert inputs is not None
    return inputs


def _partial_scenario(data: dict[str, Any], origins: dict[str, Path], chain: tuple[Path, ...], broken: set[str]) -> Scenario | None:
    """A scenario built from the sections that validate, for data checks despite schema errors."""
    if {"units", "demand", "name"} & broken:
        return None
    clean = {k: v for k, v in data.items() if k not in broken and (k in SECTIONS or k in {"name", "description", "credits"})}
    try:
        return build_scenario(clean, origins=origins, path=chain[0], chain=chain)
    except InputErrors:
        return None


def validate_path(path: str | Path) -> tuple[Scenario | None, Inputs | None, list[InputError], list[str]]:
    """Everything ``optimizer validate`` checks: schema and data, all problems together."""
    try:
        data, origins, chain = load_raw(path)
    except InputError as exc:  # unreadable file, bad TOML, broken 'extends' chain
        return None, None, [exc], []
    try:
        scenario = build_scenario(data, origins=origins, path=chain[0], chain=chain)
        schema: list[InputError] = []
    except InputErrors as exc:
        schema = exc.errors
        try:
            Scenario.model_validate(data)
            broken: set[str] = set()
        except ValidationError as verr:
            broken = {str(e["loc"][0]) for e in verr.errors() if e["type"] != "extra_forbidden" or len(e["loc"]) > 1}
        scenario = _partial_scenario(data, origins, chain, broken)
    else:
        broken = set()
    if scenario is None:
        return None, None, schema, []
    inputs, errors, warns = check_inputs(scenario, skip=frozenset(broken))
    return (scenario if not schema else None), (inputs if not schema else None), [*schema, *errors], warns
