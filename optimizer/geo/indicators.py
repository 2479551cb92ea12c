"""What planners read per region: ratios, coverage and floating-catchment accessibility.

All kernels take the sparse :class:`~optimizer.geo.relation.Coverage` (pairs within
reach, with their distances) and plain arrays; nothing here looks at geometry.

Two-step floating catchment area (2SFCA, Luo & Wang 2003), for units j with supply
``S_j`` (default 1 per unit) and demand points i with demand ``D_i`` (need-weighted
population; equal to the population without need weights), over the pairs within reach:

    R_j = S_j / sum_{i : d_ij <= r} D_i          (supply-to-demand ratio of unit j)
    A_i = sum_{j : d_ij <= r} R_j                (accessibility of point i)

Enhanced 2SFCA (Luo & Qi 2009) weights both steps with a distance decay ``W(d)``:

    R_j = S_j / sum_i D_i W(d_ij),    A_i = sum_j R_j W(d_ij)

Default decay when none is given: the step weights of Luo & Qi (2009) over thirds of the
reach, ``W = 1`` for ``d <= r/3``, ``0.68`` for ``d <= 2r/3``, ``0.22`` for ``d <= r``
(with a travel table, ``r`` is ``--max-distance``). A unit whose catchment holds no
demand has ``R_j = 0``. Values are supply per person (multiply by 100,000 for "units per
100,000 people"); with an unbounded catchment both give total supply / total demand
everywhere. These conventions are those of PySAL ``access`` (``two_stage_fca``,
``enhanced_two_stage_fca``, ``weights.step_fn``: a step applies up to and including its
threshold; ``weights.gaussian``: ``exp(-d^2 / 2 sigma^2)``).

Per region, accessibility is the population-weighted mean over the region's points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.errors import InputError
from optimizer.geo.relation import Coverage
from optimizer.validation import numeric_column

LUO_QI_STEP_WEIGHTS = (1.0, 0.68, 0.22)
"""Luo & Qi (2009) E2SFCA step weights for the three sub-zones of the catchment."""


@dataclass(frozen=True)
class Decay:
    """Distance decay for E2SFCA: ``step`` thresholds or a ``gaussian`` of width sigma.

    >>> Decay.parse("step:10=1,20=0.68,30=0.22").weights(np.array([0.0, 10.0, 15.0, 30.0, 31.0])).tolist()
    [1.0, 1.0, 0.68, 0.22, 0.0]
    >>> round(float(Decay.parse("gaussian:20").weights(np.array([20.0]))[0]), 6)
    0.606531
    >>> Decay.default(30.0).steps
    ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22))
    """

    kind: str
    steps: tuple[tuple[float, float], ...] = ()
    sigma: float | None = None

    @classmethod
    def default(cls, reach: float) -> Decay:
        """Luo & Qi (2009) steps over thirds of ``reach``: 1, 0.68, 0.22."""
        r = float(reach)
        return cls(kind="step", steps=tuple((r * (k + 1) / 3.0, w) for k, w in enumerate(LUO_QI_STEP_WEIGHTS)))

    @classmethod
    def parse(cls, text: str) -> Decay:
        """Parse ``step:D1=W1,D2=W2,...`` or ``gaussian:SIGMA``."""
        raw = str(text).strip()
        name, sep, rest = raw.partition(":")
        name = name.strip().lower()
        if not sep or name not in ("step", "gaussian"):
            raise InputError("expected a decay 'step:D1=W1,D2=W2,...' or 'gaussian:SIGMA'", option="--decay", found=raw)
        from optimizer.geo.io import parse_pairs, to_number

        if name == "gaussian":
            sigma = to_number(rest)
            if not math.isfinite(sigma) or sigma <= 0:
                raise InputError("expected a positive sigma in 'gaussian:SIGMA'", option="--decay", found=raw)
            return cls(kind="gaussian", sigma=sigma)
        steps = []
        for d, w in parse_pairs(rest, option="--decay", expected="step DISTANCE=WEIGHT").items():
            dv = to_number(d)
            if not math.isfinite(dv) or dv < 0:
                raise InputError("expected a step distance (a number >= 0)", option="--decay", found=d)
            steps.append((dv, w))
        steps.sort()
        if not steps or len({d for d, _ in steps}) != len(steps):
            raise InputError("expected at least one step and distinct step distances", option="--decay", found=raw)
        return cls(kind="step", steps=tuple(steps))

    def weights(self, distance: np.ndarray) -> np.ndarray:
        """Decay weight of each distance (0 beyond the last step)."""
        d = np.asarray(distance, dtype=float)
        if self.kind == "gaussian":
            return np.exp(-(d * d) / (2.0 * float(self.sigma) ** 2))
        bounds = np.array([s for s, _ in self.steps])
        values = np.r_[[w for _, w in self.steps], 0.0]
        return values[np.searchsorted(bounds, d, side="left")]

    def describe(self) -> str:
        if self.kind == "gaussian":
            return f"gaussian:{self.sigma:g}"
        return "step:" + ",".join(f"{d:g}={w:g}" for d, w in self.steps)


# --------------------------------------------------------------------------- kernels


def _weighted(coverage: Coverage, values: np.ndarray | None) -> sp.csr_array:
    m = coverage.matrix
    data = np.ones(m.nnz) if values is None else np.asarray(values, dtype=float)
    return sp.csr_array((data, m.indices, m.indptr), shape=m.shape)


def _fca(w: sp.csr_array, demand: np.ndarray, supply: np.ndarray) -> np.ndarray:
    catchment = w.T @ np.asarray(demand, dtype=float)
    ratio = np.divide(np.asarray(supply, dtype=float), catchment, out=np.zeros(w.shape[1]), where=catchment > 0)
    return w @ ratio


def two_step_fca(coverage: Coverage, demand: np.ndarray, supply: np.ndarray | None = None) -> np.ndarray:
    """2SFCA accessibility ``A_i = sum_j S_j / sum_k D_k`` over pairs within reach.

    >>> import pandas as pd
    >>> m = sp.csr_array(np.array([[1, 0], [1, 1], [0, 1]], dtype=bool))
    >>> cov = Coverage(pd.Index(["a", "b", "c"]), pd.Index(["x", "y"]), m)
    >>> two_step_fca(cov, np.array([100.0, 100.0, 200.0])).tolist()  # R = 1/200, 1/300
    [0.005, 0.008333333333333333, 0.0033333333333333335]
    """
    s = np.ones(coverage.n_units) if supply is None else supply
    return _fca(_weighted(coverage, None), demand, s)


def enhanced_two_step_fca(
    coverage: Coverage,
    demand: np.ndarray,
    decay: Decay,
    supply: np.ndarray | None = None,
) -> np.ndarray:
    """E2SFCA accessibility: both steps weighted by ``decay.weights(d_ij)``."""
    if coverage.distance is None:
        raise ValueError("enhanced 2SFCA needs the distances of the coverage pairs (keep_distance=True)")
    s = np.ones(coverage.n_units) if supply is None else supply
    return _fca(_weighted(coverage, decay.weights(coverage.distance)), demand, s)


def fca_ratio(
    coverage: Coverage,
    neighbours: Coverage,
    demand: np.ndarray,
    supply: np.ndarray | None = None,
) -> np.ndarray:
    """Floating catchment ratio: supply within reach of i over demand within reach of i.

    ``neighbours`` is the demand-to-demand relation within the same reach (each point
    reaches itself). Points with no demand around them get NaN.
    """
    s = np.ones(coverage.n_units) if supply is None else np.asarray(supply, dtype=float)
    near_supply = _weighted(coverage, None) @ s
    near_demand = _weighted(neighbours, None) @ np.asarray(demand, dtype=float)
    return np.divide(near_supply, near_demand, out=np.full(len(near_demand), np.nan), where=near_demand > 0)


def reach_counts(coverage: Coverage) -> np.ndarray:
    """Number of units within reach of each demand point."""
    return np.diff(coverage.matrix.indptr)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PointAccess:
    """Per-demand-point indicators, indexed by demand id.

    Columns: ``region``, ``population``, ``need``, ``units_in_reach``, ``covered``,
    ``access_2sfca``, ``access_e2sfca``.
    """

    table: pd.DataFrame
    decay: Decay


def point_access(
    coverage: Coverage,
    population: np.ndarray,
    need: np.ndarray,
    region: pd.Series | np.ndarray | None = None,
    *,
    supply: np.ndarray | None = None,
    decay: Decay,
) -> PointAccess:
    """2SFCA and E2SFCA (demand = ``need``) plus reach counts at every demand point."""
    counts = reach_counts(coverage)
    table = pd.DataFrame(
        {
            "region": (np.full(coverage.n_demand, None, dtype=object) if region is None else np.asarray(region, dtype=object)),
            "population": np.asarray(population, dtype=float),
            "need": np.asarray(need, dtype=float),
            "units_in_reach": counts,
            "covered": counts > 0,
            "access_2sfca": two_step_fca(coverage, need, supply),
            "access_e2sfca": enhanced_two_step_fca(coverage, need, decay, supply),
        },
        index=pd.Index(coverage.demand_ids, name="demand_id"),
    )
    return PointAccess(table=table, decay=decay)


def _weighted_mean(values: pd.Series, weights: pd.Series, groups: pd.Series) -> pd.Series:
    num = (values * weights).groupby(groups, dropna=True).sum()
    den = weights.groupby(groups, dropna=True).sum()
    return num / den.where(den > 0)


def regions_from_points(
    points: PointAccess,
    unit_region: pd.Series | np.ndarray,
    *,
    regions: pd.Index | None = None,
) -> pd.DataFrame:
    """Indicators per region from the per-point table and each unit's region.

    Columns: ``population``, ``need_population``, ``units``, ``units_per_100k``
    (units / population x 100,000), ``covered_share`` (share of the population with at
    least one unit in reach), ``covered_need_share``, ``access_2sfca`` and
    ``access_e2sfca`` (population-weighted means over the region's points), ``points``.
    ``regions`` fixes the rows (regions with no points or units get zeros); by default
    the regions met in the points and the units. Points and units with no region are left
    out (the caller reports them).
    """
    t = points.table
    grp = t["region"]
    pop, need = t["population"], t["need"]
    unit_region = pd.Series(np.asarray(unit_region, dtype=object))
    if regions is None:
        seen = [r for r in pd.unique(pd.concat([grp, unit_region], ignore_index=True)) if r is not None and not pd.isna(r)]
        regions = pd.Index(sorted(map(str, seen)), name="region")
    regions = pd.Index(regions, name="region")
    out = pd.DataFrame(index=regions)
    out["population"] = pop.groupby(grp).sum().reindex(regions, fill_value=0.0)
    out["need_population"] = need.groupby(grp).sum().reindex(regions, fill_value=0.0)
    out["points"] = grp.value_counts().reindex(regions, fill_value=0).astype(int)
    out["units"] = unit_region.value_counts().reindex(regions, fill_value=0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["units_per_100k"] = np.where(out["population"] > 0, out["units"] / out["population"] * 1e5, np.nan)
    covered = t["covered"].astype(float)
    out["covered_share"] = _weighted_mean(covered, pop, grp).reindex(regions)
    out["covered_need_share"] = _weighted_mean(covered, need, grp).reindex(regions)
    out["access_2sfca"] = _weighted_mean(t["access_2sfca"], pop, grp).reindex(regions)
    out["access_e2sfca"] = _weighted_mean(t["access_e2sfca"], pop, grp).reindex(regions)
    return out


def region_indicators(
    demand,
    units,
    coverage: Coverage,
    region_of_demand: pd.Series | np.ndarray,
    region_of_units: pd.Series | np.ndarray,
    *,
    supply: np.ndarray | None = None,
    decay: Decay | None = None,
    reach: float | None = None,
    regions: pd.Index | None = None,
) -> pd.DataFrame:
    """Indicators per region for loaded demand and units on a built coverage relation.

    ``decay`` defaults to :meth:`Decay.default` of ``reach`` (or, without ``reach``, of
    the longest pair distance in ``coverage``). See :func:`regions_from_points` for the
    columns.
    """
    if decay is None:
        if reach is None:
            if coverage.distance is None or len(coverage.distance) == 0:
                raise ValueError("give a decay or the reach: the coverage holds no distances")
            reach = float(np.max(coverage.distance))
        decay = Decay.default(reach)
    points = point_access(coverage, demand.population, demand.need, np.asarray(region_of_demand, dtype=object), supply=supply, decay=decay)
    return regions_from_points(points, region_of_units, regions=regions)


def unit_reach(coverage: Coverage, population: np.ndarray, need: np.ndarray | None = None) -> pd.DataFrame:
    """Per unit: (need-weighted) population within reach, and within reach of no other unit.

    A geography-derived criterion for the "demographic factors" dimension.

    >>> import pandas as pd
    >>> m = sp.csr_array(np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=bool))
    >>> cov = Coverage(pd.Index(["a", "b", "c", "d"]), pd.Index(["x", "y"]), m)
    >>> unit_reach(cov, np.array([10.0, 20.0, 30.0, 40.0]))[["population", "exclusive_population"]].to_dict("list")
    {'population': [30.0, 50.0], 'exclusive_population': [10.0, 30.0]}
    """
    pop = np.asarray(population, dtype=float)
    nd = pop if need is None else np.asarray(need, dtype=float)
    w = _weighted(coverage, None)
    counts = reach_counts(coverage)
    single = np.flatnonzero(counts == 1)
    only = coverage.matrix.indices[coverage.matrix.indptr[single]]
    m = coverage.n_units
    return pd.DataFrame(
        {
            "population": w.T @ pop,
            "need": w.T @ nd,
            "exclusive_population": np.bincount(only, weights=pop[single], minlength=m),
            "exclusive_need": np.bincount(only, weights=nd[single], minlength=m),
        },
        index=pd.Index(coverage.unit_ids, name="unit_id"),
    )


# --------------------------------------------------------------------------- adequacy


@dataclass(frozen=True)
class Standard:
    """A network-adequacy standard for one region kind and one service.

    ``reach`` (km or travel unit) defines "within reach"; ``min_per_100k`` the minimum
    units per 100,000 people; ``min_covered_share`` the minimum share of the population
    within reach of at least one unit of the service (0 to 1).
    """

    reach: float
    min_per_100k: float = 0.0
    min_covered_share: float = 0.0


@dataclass(frozen=True)
class Adequacy:
    """Pass/fail grid region x service.

    ``grid`` is indexed by (region, service) with columns ``kind``, ``population``,
    ``units``, ``units_per_100k``, ``min_per_100k``, ``covered_share``,
    ``min_covered_share``, ``passes_ratio``, ``passes_coverage``, ``passes``,
    ``shortfall_units`` (units missing to meet the ratio: ``ceil(rho P / 1e5) - units``)
    and ``shortfall_population`` (people to bring within reach to meet the share).
    ``passes`` pivots the verdict as region x service.
    """

    grid: pd.DataFrame

    @property
    def passes(self) -> pd.DataFrame:
        return self.grid["passes"].unstack("service")


def adequacy(
    covered: Mapping[str, np.ndarray],
    population: np.ndarray,
    demand_region: pd.Series | np.ndarray,
    unit_region: pd.Series | np.ndarray,
    unit_service: pd.Series | np.ndarray,
    region_kind: pd.Series,
    standards: Mapping[str, Mapping[str, Standard]],
) -> Adequacy:
    """Evaluate adequacy standards per region kind for every (region, service).

    ``covered[service]`` is a boolean per demand point: reached by a unit of that service
    within the reach of the standard for the point's region kind (see
    :func:`optimizer.geo.coverage.coverage_within` with a per-service, per-kind
    :class:`~optimizer.geo.coverage.Reach`). ``region_kind`` maps region id -> kind;
    ``standards[kind][service]`` is the :class:`Standard`. Regions whose kind has no
    standard for a service are not listed for it.
    """
    pop = pd.Series(np.asarray(population, dtype=float))
    dreg = pd.Series(np.asarray(demand_region, dtype=object))
    region_pop = pop.groupby(dreg).sum()
    unit_count = pd.Series(1, index=pd.MultiIndex.from_arrays([np.asarray(unit_region, dtype=object), np.asarray(unit_service, dtype=object)]))
    unit_count = unit_count.groupby(level=[0, 1]).sum()
    reached_pop = {}
    for service, hit in covered.items():
        hit = np.asarray(hit, dtype=bool)
        reached_pop[service] = pop[hit].groupby(dreg[hit]).sum()
    rows = []
    for region, kind in region_kind.items():
        for service, std in standards.get(kind, {}).items():
            p = float(region_pop.get(region, 0.0))
            n_units = int(unit_count.get((region, service), 0))
            reached = float(reached_pop[service].get(region, 0.0)) if service in reached_pop else 0.0
            share = reached / p if p > 0 else float("nan")
            ratio = n_units / p * 1e5 if p > 0 else float("nan")
            need_units = math.ceil(std.min_per_100k * p / 1e5 - 1e-9) if p > 0 else 0
            pass_ratio = n_units >= need_units
            pass_cov = p == 0 or share >= std.min_covered_share - 1e-12
            rows.append(
                {
                    "region": region,
                    "service": service,
                    "kind": kind,
                    "population": p,
                    "units": n_units,
                    "units_per_100k": ratio,
                    "min_per_100k": std.min_per_100k,
                    "covered_share": share,
                    "min_covered_share": std.min_covered_share,
                    "passes_ratio": bool(pass_ratio),
                    "passes_coverage": bool(pass_cov),
                    "passes": bool(pass_ratio and pass_cov),
                    "shortfall_units": max(0, need_units - n_units),
                    "shortfall_population": max(0.0, std.min_covered_share * p - reached) if p > 0 else 0.0,
                }
            )
    grid = pd.DataFrame(rows)
    if grid.empty:
        grid = pd.DataFrame(columns=["region", "service", "kind", "population", "units", "passes"])
    return Adequacy(grid=grid.set_index(["region", "service"]))


def load_standards(path) -> dict[str, dict[str, Standard]]:
    """Read adequacy standards: one row per (kind, service) with ``reach``,
    ``min_per_100k`` and optionally ``min_covered_share`` (0 to 1).

    ``kind`` is the region kind (urban, rural, ...), ``service`` the units' service.
    """
    from optimizer.validation import read_table, require_columns

    df = read_table(path, id_columns=["kind", "service"], what="standards file")
    require_columns(df, ["kind", "service", "reach", "min_per_100k"], file=path)
    reach = numeric_column(df, "reach", file=path, minimum=0.0)
    ratio = numeric_column(df, "min_per_100k", file=path, minimum=0.0)
    share = (
        numeric_column(df, "min_covered_share", file=path, minimum=0.0)
        if "min_covered_share" in df.columns
        else np.zeros(len(df))
    )
    out: dict[str, dict[str, Standard]] = {}
    for i, (kind, service) in enumerate(zip(df["kind"].astype(str).str.strip(), df["service"].astype(str).str.strip(), strict=True)):
        if share[i] > 1:
            raise InputError("expected a share between 0 and 1", file=path, row=i + 1, column="min_covered_share", found=float(share[i]))
        if service in out.setdefault(kind, {}):
            raise InputError("expected one standard per (kind, service)", file=path, row=i + 1, column="kind/service", found=f"{kind}/{service}")
        out[kind][service] = Standard(reach=float(reach[i]), min_per_100k=float(ratio[i]), min_covered_share=float(share[i]))
    return out


def region_kinds(
    demand_region: pd.Series,
    demand_kind: pd.Series,
    population: np.ndarray,
) -> pd.Series:
    """Kind of each region: the kind holding most of the region's population."""
    df = pd.DataFrame({"region": demand_region.to_numpy(dtype=object), "kind": demand_kind.to_numpy(dtype=object), "pop": population})
    df = df.dropna(subset=["region", "kind"])
    totals = df.groupby(["region", "kind"])["pop"].sum().reset_index()
    totals = totals.sort_values(["region", "pop", "kind"], ascending=[True, False, True])
    return totals.drop_duplicates("region").set_index("region")["kind"].astype(object)


def covered_by_standard(
    coverage: Coverage,
    point_kind: np.ndarray,
    unit_service: np.ndarray,
    standards: Mapping[str, Mapping[str, Standard]],
) -> dict[str, np.ndarray]:
    """Per service, a boolean per demand point: some unit of that service lies within the
    standard's reach for the point's kind, ``d_ij <= standards[kind_i][service].reach``.

    ``coverage`` holds the pairs (with their distances) within at least the largest reach
    of any standard; points whose kind has no standard for a service are never covered.

    >>> m = sp.csr_array(np.array([[1, 1], [1, 0]], dtype=bool))
    >>> cov = Coverage(pd.Index(["a", "b"]), pd.Index(["x", "y"]), m, np.array([12.0, 5.0, 25.0]))
    >>> std = {"urban": {"lab": Standard(10)}, "rural": {"lab": Standard(30)}}
    >>> covered_by_standard(cov, np.array(["urban", "rural"], dtype=object), np.array(["lab", "lab"], dtype=object), std)["lab"].tolist()
    [True, True]
    """
    if coverage.distance is None:
        raise ValueError("adequacy needs the distances of the coverage pairs")
    mat = coverage.matrix
    rows = np.repeat(np.arange(coverage.n_demand), np.diff(mat.indptr))
    services = np.asarray(unit_service, dtype=object)[mat.indices]
    kinds = pd.Series(np.asarray(point_kind, dtype=object))
    out: dict[str, np.ndarray] = {}
    for service in sorted({s for per in standards.values() for s in per}):
        limit = kinds.map({k: per[service].reach for k, per in standards.items() if service in per}).to_numpy(dtype=float)
        ok = (services == service) & (coverage.distance <= limit[rows])  # NaN limit: never
        hit = np.zeros(coverage.n_demand, dtype=bool)
        hit[rows[ok]] = True
        out[service] = hit
    return out


def adequacy_for(
    demand,
    units,
    demand_region: pd.Series,
    unit_region: pd.Series,
    standards: Mapping[str, Mapping[str, Standard]],
    *,
    region_kind: pd.Series | None = None,
    kind_col: str = "kind",
    service_col: str = "service",
    travel: Coverage | None = None,
) -> Adequacy:
    """Adequacy grid from loaded demand and units (entry point of :func:`adequacy`).

    The kind of a region comes from ``region_kind`` (e.g. the regions file's ``kind``
    column) or else from the demand's ``kind_col`` (the kind with most population).
    Each point is judged with its region's kind; a unit of service ``s`` covers a point
    of kind ``k`` within ``standards[k][s].reach``: great-circle km, or — when ``travel``
    (the user's travel table as a :class:`Coverage` with distances, holding every pair
    within the largest reach) is given — in the travel table's unit.
    """
    from optimizer.geo.coverage import coverage_within
    from optimizer.geo.io import code_column

    if region_kind is None or region_kind.isna().all():
        if kind_col not in demand.frame.columns:
            raise InputError(
                f"expected a region kind: a 'kind' column on the regions or a {kind_col!r} column on the demand",
                file=demand.source,
                column=kind_col,
            )
        region_kind = region_kinds(demand_region, demand.frame[kind_col].astype(object), demand.population)
    region_kind = region_kind.dropna().astype(str)
    services = code_column(units.frame, service_col, file=units.source, why="adequacy standards are set per service").to_numpy(dtype=object)
    point_kind = demand_region.map(region_kind).to_numpy(dtype=object)
    if travel is None:
        largest = max((std.reach for per in standards.values() for std in per.values()), default=0.0)
        travel = coverage_within(demand, units, largest, keep_distance=True)
    covered = covered_by_standard(travel, point_kind, services, standards)
    return adequacy(covered, demand.population, demand_region, unit_region, services, region_kind, standards)
