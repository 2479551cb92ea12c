"""The selection problem: units, demand and the merged coverage rows, validated once.

:func:`build_problem` turns the units table, the demand table and the sparse coverage
relation into a frozen :class:`SelectionProblem`. It is built once and reused by every
call of :func:`optimizer.select.solve` (a budget sweep solves the same problem many
times), so everything that does not depend on the options is computed here:

* **Services.** Each unit offers one service (``lab``, ``imaging``, ...; a single
  service when the column is absent). A demand point needs every service, and for
  service ``k`` it is covered only by units of service ``k`` in reach. The model row of
  the pair (demand point ``i``, service ``k``) carries the weights
  ``population_i * v_k`` and ``need_i * v_k`` with the service weights ``v`` normalised
  to sum to 1, so the weighted population over all rows equals the total population.
* **Merging.** Rows with the same reaching set, the same region and the same service
  are merged into one row whose weights are the sums (exact for coverage, floors and
  targets: a row enters the model only through its reaching set and additive weights).
  With capacities, the need-per-person ratio enters the assignment objective and the
  volume-per-person ratio the capacity rows, so the capacity model merges only rows that
  also share both ratios (:meth:`SelectionProblem.rows_for`).
* **Volumes.** A unit's capacity is a volume per planning period (tests, visits); a
  demand point needs ``volume_{i,k} = r_k p_i + sum_g (r_{k,g} - r_k) p_{i,g}`` of
  service ``k``, with ``r_k`` the use rate per person (default 1: capacity in people) and
  ``r_{k,g}`` the rate of the people of population group ``g`` (a demand column, e.g.
  ``pop_over_60``; overlapping groups add their excess use). See :func:`demand_volume`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.errors import InputError
from optimizer.geo.relation import Coverage, merge_identical_rows
from optimizer.validation import numeric_column

DEFAULT_SERVICE = "all"


@dataclass(frozen=True)
class ModelRows:
    """Merged model rows: one per distinct (reaching set, region, service[, need ratio]).

    Attributes
    ----------
    matrix : csr_array (g, m) bool
        Units reaching each row (only units of the row's service).
    population, need : np.ndarray (g,)
        Service-weighted population and need-weighted population of each row.
    region : np.ndarray (g,) int
        Region code of the row (-1 without regions).
    service : np.ndarray (g,) int
        Service code of the row.
    n_original : int
        Number of (demand point, service) rows before merging.
    volume : np.ndarray (g,)
        Volume (tests, visits) the row's people need of its service (not service-weighted).
    group : np.ndarray (n_original,) int
        Merged row of each (demand point, service) row, ``k * n_demand + i``.
    """

    matrix: sp.csr_array
    population: np.ndarray
    need: np.ndarray
    region: np.ndarray
    service: np.ndarray
    n_original: int
    volume: np.ndarray
    group: np.ndarray
    distance: np.ndarray | None = None
    """Closest-first rows only: the distance of each pair, aligned with ``matrix.indices``."""

    @property
    def n_rows(self) -> int:
        return self.matrix.shape[0]

    @cached_property
    def csc(self) -> sp.csc_array:
        """Column-wise copy (rows reached by each unit)."""
        return sp.csc_array(self.matrix)

    @cached_property
    def degree(self) -> np.ndarray:
        """Number of units reaching each row."""
        return np.diff(self.matrix.indptr)

    @cached_property
    def volume_per_person(self) -> np.ndarray:
        """Volume per (service-weighted) person of each row: the capacity rows' coefficient
        of the people assigned (0 for an empty row)."""
        return np.divide(self.volume, self.population, out=np.zeros_like(self.volume), where=self.population > 0)


@dataclass(frozen=True)
class SelectionProblem:
    """Everything the selection model needs that does not depend on the options.

    Unit arrays are aligned with ``unit_ids``, demand arrays with ``demand_ids``; the
    coverage matrix has its columns in ``unit_ids`` order.
    """

    unit_ids: pd.Index
    cost: np.ndarray
    score: np.ndarray | None
    unit_service: np.ndarray
    unit_region: np.ndarray
    capacity: np.ndarray | None
    volume: np.ndarray
    services: pd.Index
    service_weights: np.ndarray
    regions: pd.Index
    demand_ids: pd.Index
    population: np.ndarray
    need: np.ndarray
    demand_region: np.ndarray
    coverage: Coverage
    rows: ModelRows
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_services(self) -> int:
        return len(self.services)

    @property
    def has_regions(self) -> bool:
        return len(self.regions) > 0

    def rows_for(self, *, capacity: bool) -> ModelRows:
        """The merged rows to use: merged by the need and volume ratios too when
        capacities are modelled."""
        if not capacity:
            return self.rows
        if "capacity_rows" not in self._cache:
            pop = self.population
            need_ratio = np.divide(self.need, pop, out=np.zeros_like(self.need), where=pop > 0)
            vol_ratio = np.divide(self.volume, pop[:, None], out=np.zeros_like(self.volume), where=pop[:, None] > 0)
            # one code per (demand point, service) row, in the stacked order k * n + i
            keys = np.column_stack([np.tile(need_ratio, self.n_services), vol_ratio.T.ravel()])
            _, code = np.unique(keys, axis=0, return_inverse=True)
            self._cache["capacity_rows"] = merge_model_rows(
                self.coverage.matrix,
                self.unit_service,
                self.service_weights,
                self.population,
                self.need,
                self.demand_region,
                volume=self.volume,
                extra_key=np.asarray(code).ravel(),
            )
        return self._cache["capacity_rows"]

    @property
    def has_capacity(self) -> bool:
        return self.capacity is not None

    def closest_rows(self) -> ModelRows:
        """Unmerged (demand point, service) rows with their pairs' distances, for the
        closest-first assignment (merging would need equal distance orders too); rows
        without people are left out (``group`` is -1 for them)."""
        if "closest_rows" not in self._cache:
            if self.coverage.distance is None:
                raise InputError("expected distances of the coverage pairs for the closest-first assignment (a travel table or great-circle reach)")
            c = self.coverage.matrix
            n, k_count = len(self.demand_ids), self.n_services
            row = np.repeat(np.arange(n), np.diff(c.indptr))
            stacked_row = self.unit_service[c.indices].astype(np.int64) * n + row
            keep_rows = np.flatnonzero(np.tile(self.population, k_count) > 0)
            new_index = np.full(n * k_count, -1, dtype=np.int64)
            new_index[keep_rows] = np.arange(len(keep_rows))
            ok = new_index[stacked_row] >= 0
            # +1 keeps a zero distance a stored entry; undone below
            m = sp.csr_array((self.coverage.distance[ok] + 1.0, (new_index[stacked_row[ok]], c.indices[ok])), shape=(len(keep_rows), self.n_units))
            m.sort_indices()
            svc = keep_rows // n
            point = keep_rows % n
            w = self.service_weights[svc]
            self._cache["closest_rows"] = ModelRows(
                matrix=sp.csr_array((np.ones(m.nnz, dtype=bool), m.indices, m.indptr), shape=m.shape),
                population=self.population[point] * w,
                need=self.need[point] * w,
                region=self.demand_region[point].astype(np.int64),
                service=svc.astype(np.int64),
                n_original=n * k_count,
                volume=self.volume[point, svc],
                group=new_index,
                distance=m.data - 1.0,
            )
        return self._cache["closest_rows"]

    @cached_property
    def population_by_region(self) -> pd.Series:
        """Total population per region."""
        if not self.has_regions:
            return pd.Series(dtype=float)
        known = self.demand_region >= 0
        sums = np.bincount(self.demand_region[known], weights=self.population[known], minlength=len(self.regions))
        return pd.Series(sums, index=self.regions, name="population")


def merge_model_rows(
    matrix: sp.csr_array,
    unit_service: np.ndarray,
    service_weights: np.ndarray,
    population: np.ndarray,
    need: np.ndarray,
    demand_region: np.ndarray,
    *,
    volume: np.ndarray | None = None,
    extra_key: np.ndarray | None = None,
) -> ModelRows:
    """Expand demand rows per service and merge identical (reaching set, key) rows.

    ``volume`` (n, K) is the volume of each service each point needs (default: its
    population); ``extra_key`` a further merge code per point (n,) or per stacked
    (point, service) row (n * K,).

    >>> m = sp.csr_array(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=bool))
    >>> rows = merge_model_rows(m, np.array([0, 0, 1]), np.array([0.5, 0.5]),
    ...                         np.array([10.0, 20.0, 5.0]), np.array([10.0, 20.0, 5.0]),
    ...                         np.array([-1, -1, -1]))
    >>> rows.n_rows, rows.population.tolist(), rows.service.tolist()
    (4, [15.0, 2.5, 15.0, 2.5], [0, 0, 1, 1])
    """
    csr = sp.csr_array(matrix)
    n, m = csr.shape
    k_count = len(service_weights)
    if k_count == 1:
        stacked = csr
    else:
        coo = csr.tocoo()
        service_of_pair = unit_service[coo.col]
        stacked = sp.csr_array(
            (np.ones(coo.nnz, dtype=bool), (coo.row + service_of_pair.astype(np.int64) * n, coo.col)),
            shape=(n * k_count, m),
        )
    svc = np.repeat(np.arange(k_count), n)
    region = np.tile(demand_region.astype(np.int64), k_count)
    vol = np.tile(population, k_count) if volume is None else np.asarray(volume, dtype=float).T.ravel()
    weights = np.column_stack(
        (np.repeat(service_weights, n) * np.tile(population, k_count), np.repeat(service_weights, n) * np.tile(need, k_count), vol)
    )
    n_regions = int(region.max()) + 2 if len(region) else 1
    key = (region + 1) + n_regions * svc
    if extra_key is not None:
        extra = np.asarray(extra_key, dtype=np.int64)
        if len(extra) == n and k_count > 1:
            extra = np.tile(extra, k_count)
        key = key * (int(np.max(extra, initial=0)) + 1) + extra
    merged = merge_identical_rows(stacked, weights, by=key)
    first = np.zeros(merged.n_groups, dtype=np.int64)
    first[merged.group[::-1]] = np.arange(len(merged.group))[::-1]
    matrix_out = sp.csr_array(merged.matrix, dtype=bool)
    matrix_out.sort_indices()
    return ModelRows(
        matrix=matrix_out,
        population=merged.weights[:, 0],
        need=merged.weights[:, 1],
        region=region[first],
        service=svc[first],
        n_original=n * k_count,
        volume=merged.weights[:, 2],
        group=np.asarray(merged.group, dtype=np.int64),
    )


def _codes(values: pd.Series | None, n: int, categories: pd.Index) -> np.ndarray:
    if values is None:
        return np.full(n, -1, dtype=np.int64)
    text = values.astype("string")
    codes = categories.get_indexer(text.fillna("").to_numpy(dtype=object))
    return np.where(text.isna().to_numpy(), -1, codes).astype(np.int64)


def _region_values(frame: pd.DataFrame, column: str | None) -> pd.Series | None:
    if column is None or column not in frame.columns:
        return None
    s = frame[column].astype("string").str.strip()
    return s.mask(s == "")


def build_problem(
    units: pd.DataFrame,
    demand: pd.DataFrame,
    coverage: Coverage,
    *,
    service_weights: Mapping[str, float] | None = None,
    cost_col: str = "cost",
    score_col: str | None = "score",
    service_col: str = "service",
    region_col: str = "region",
    capacity_col: str | None = "capacity",
    population_col: str = "population",
    need_col: str = "need",
    use_rates: Mapping[str, float] | None = None,
    group_use_rates: Mapping[str, Mapping[str, float]] | None = None,
    units_file: str | None = None,
    demand_file: str | None = None,
) -> SelectionProblem:
    """Validate the inputs and build the merged selection problem.

    Parameters
    ----------
    units : DataFrame indexed by unit id
        ``cost`` (finite, >= 0); optional ``score`` in [0, 1], ``service``, ``region``,
        ``capacity`` (>= 0). A named column that is absent is simply not used, except
        ``cost`` (required) and an explicitly requested ``score_col``.
    demand : DataFrame indexed by demand id
        ``population`` (>= 0); optional ``need`` (need-weighted population, default the
        population) and ``region``.
    coverage : Coverage
        The sparse relation; its unit and demand ids must be exactly those of the tables
        (any order).
    service_weights : mapping service -> weight > 0, optional
        Relative importance of each service (default equal); normalised to sum to 1.
    use_rates : mapping service -> volume per person per period, optional
        Expected use of each service (e.g. lab tests per person per year); default 1
        for every service, so that a capacity counts people.
    group_use_rates : mapping group column -> {service -> rate}, optional
        Use rate of the people of a population group (a demand column such as
        ``pop_over_60``); see :func:`demand_volume`.
    """
    unit_ids = pd.Index(units.index.astype(str), name="unit_id")
    demand_ids = pd.Index(demand.index.astype(str), name="demand_id")
    _check_ids(unit_ids, coverage.unit_ids, "unit", units_file)
    _check_ids(demand_ids, coverage.demand_ids, "demand", demand_file)
    cost = numeric_column(units, cost_col, file=units_file, minimum=0.0)
    score = None
    if score_col is not None and score_col in units.columns:
        score = numeric_column(units, score_col, file=units_file, minimum=0.0)
        bad = np.flatnonzero(score > 1.0)
        if len(bad):
            raise InputError(
                "expected a score in [0, 1]", file=units_file, row=int(bad[0]) + 1, column=score_col, found=score[bad[0]]
            )
    capacity = None
    if capacity_col is not None and capacity_col in units.columns:
        capacity = numeric_column(units, capacity_col, file=units_file, minimum=0.0)
    population = numeric_column(demand, population_col, file=demand_file, minimum=0.0)
    if need_col in demand.columns:
        need = numeric_column(demand, need_col, file=demand_file, minimum=0.0)
    else:
        need = population.copy()

    svc_values = _region_values(units, service_col)
    if svc_values is not None and svc_values.isna().any():
        i = int(np.flatnonzero(svc_values.isna().to_numpy())[0])
        raise InputError("expected a service name, found an empty value", file=units_file, row=i + 1, column=service_col)
    services = (
        pd.Index([DEFAULT_SERVICE], name="service")
        if svc_values is None
        else pd.Index(sorted(pd.unique(svc_values.to_numpy(dtype=object))), name="service")
    )
    unit_service = np.zeros(len(unit_ids), dtype=np.int64) if svc_values is None else _codes(svc_values, len(unit_ids), services)
    weights = np.ones(len(services))
    if service_weights:
        unknown = [s for s in service_weights if s not in services]
        if unknown:
            raise InputError(f"expected service weights for services among {list(services)}", found=unknown)
        for s, w in service_weights.items():
            if not np.isfinite(w) or w <= 0:
                raise InputError(f"expected a positive weight for service {s!r}", found=w)
            weights[services.get_loc(s)] = float(w)
    weights = weights / weights.sum()

    u_region = _region_values(units, region_col)
    d_region = _region_values(demand, region_col)
    names = set()
    for s in (u_region, d_region):
        if s is not None:
            names.update(s.dropna().tolist())
    regions = pd.Index(sorted(names), name="region", dtype=object)
    unit_region = _codes(u_region, len(unit_ids), regions)
    demand_region = _codes(d_region, len(demand_ids), regions)

    volume = demand_volume(demand, services, population, use_rates, group_use_rates, demand_file=demand_file)
    matrix = _align(coverage, unit_ids, demand_ids)
    aligned = Coverage(demand_ids=demand_ids, unit_ids=unit_ids, matrix=matrix, distance=_aligned_distance(coverage, unit_ids, demand_ids))
    rows = merge_model_rows(matrix, unit_service, weights, population, need, demand_region)
    return SelectionProblem(
        unit_ids=unit_ids,
        cost=cost,
        score=score,
        unit_service=unit_service,
        unit_region=unit_region,
        capacity=capacity,
        volume=volume,
        services=services,
        service_weights=weights,
        regions=regions,
        demand_ids=demand_ids,
        population=population,
        need=need,
        demand_region=demand_region,
        coverage=aligned,
        rows=rows,
    )


def demand_volume(
    demand: pd.DataFrame,
    services: pd.Index,
    population: np.ndarray,
    use_rates: Mapping[str, float] | None,
    group_use_rates: Mapping[str, Mapping[str, float]] | None,
    *,
    demand_file: str | None = None,
) -> np.ndarray:
    """Volume of each service each demand point needs per period, (n, K):
    ``volume_{i,k} = r_k p_i + sum_g (r_{k,g} - r_k) p_{i,g}`` with ``r_k`` the use rate
    per person of service k (default 1), ``r_{k,g}`` the rate of group g's people (default
    ``r_k``) and ``p_{i,g}`` the group column.

    >>> d = pd.DataFrame({"pop_over_60": [100.0, 0.0]})
    >>> demand_volume(d, pd.Index(["lab"]), np.array([1000.0, 50.0]), {"lab": 2.0}, {"pop_over_60": {"lab": 6.0}}).ravel().tolist()
    [2400.0, 100.0]
    """
    rates = np.ones(len(services))
    for name, value in (use_rates or {}).items():
        if str(name) not in services:
            raise InputError(f"expected use rates for services among {list(services)}", column="use_rates", found=name)
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise InputError(f"expected a finite use rate >= 0 for service {name!r}", column="use_rates", found=value)
        rates[services.get_loc(str(name))] = v
    volume = population[:, None] * rates[None, :]
    for group, by_service in (group_use_rates or {}).items():
        if group not in demand.columns:
            raise InputError(
                f"expected the population-group column {group!r} on the demand (named in the group use rates)",
                file=demand_file,
                column=group,
            )
        people = numeric_column(demand, group, file=demand_file, minimum=0.0)
        over = np.flatnonzero(people > population + 1e-9)
        if len(over):
            raise InputError(
                f"expected at most the population ({population[over[0]]:,.0f}) in the group column",
                file=demand_file,
                row=int(over[0]) + 1,
                column=group,
                found=people[over[0]],
            )
        for name, value in by_service.items():
            if str(name) not in services:
                raise InputError(f"expected group use rates for services among {list(services)}", column=group, found=name)
            v = float(value)
            if not math.isfinite(v) or v < 0:
                raise InputError(f"expected a finite use rate >= 0 for group {group!r}, service {name!r}", column=group, found=value)
            k = services.get_loc(str(name))
            volume[:, k] += (v - rates[k]) * people
    return np.maximum(volume, 0.0)


def _check_ids(table_ids: pd.Index, coverage_ids: pd.Index, what: str, file: str | None) -> None:
    if table_ids.has_duplicates:
        dup = table_ids[table_ids.duplicated()][0]
        raise InputError(f"expected unique {what} ids", file=file, found=dup)
    cov = pd.Index(coverage_ids.astype(str))
    missing = table_ids.difference(cov)
    extra = cov.difference(table_ids)
    if len(missing) or len(extra):
        raise InputError(
            f"expected the same {what} ids in the table and in the coverage relation",
            file=file,
            found={"not in coverage": list(missing[:5]), "not in table": list(extra[:5])},
        )


def _aligned_distance(coverage: Coverage, unit_ids: pd.Index, demand_ids: pd.Index) -> np.ndarray | None:
    """The pairs' distances in the order of :func:`_align`'s matrix (None without them)."""
    if coverage.distance is None:
        return None
    m = sp.csr_array(coverage.matrix)
    # +1 keeps a zero distance a stored entry through the reordering
    weighted = sp.csr_array((np.asarray(coverage.distance, dtype=float) + 1.0, m.indices, m.indptr), shape=m.shape)
    return _align(Coverage(coverage.demand_ids, coverage.unit_ids, weighted), unit_ids, demand_ids, keep_values=True).data - 1.0


def _align(coverage: Coverage, unit_ids: pd.Index, demand_ids: pd.Index, *, keep_values: bool = False) -> sp.csr_array:
    """Coverage matrix with rows in ``demand_ids`` and columns in ``unit_ids`` order."""
    matrix = sp.csr_array(coverage.matrix) if keep_values else sp.csr_array(coverage.matrix, dtype=bool)
    cov_units = pd.Index(coverage.unit_ids.astype(str))
    cov_demand = pd.Index(coverage.demand_ids.astype(str))
    if not cov_units.equals(unit_ids):
        matrix = sp.csr_array(matrix[:, cov_units.get_indexer(unit_ids)])
    if not cov_demand.equals(demand_ids):
        matrix = sp.csr_array(matrix[cov_demand.get_indexer(demand_ids)])
    matrix.sort_indices()
    return matrix
