r"""Who is served by which contracted unit, for a fixed selection.

Every served figure of a result (people served per region and service, each unit's load
and utilisation, the capacity shortfall) is recomputed here from the selected units,
never read off the solver's variables.

* **With capacities** ("any unit in reach", the planner's default): for the fixed set
  ``S`` of selected units the served need is the transportation problem::

      max   sum_{r, j in S ∩ N(r)} (n_r / p_r) z_rj
      s.t.  sum_j z_rj <= p_r            every row r (its people)
            sum_r u_r z_rj <= K_j         every selected unit j (its capacity, a volume)
            z >= 0

  solved exactly as an LP (HiGHS through :func:`scipy.optimize.linprog`); then, with the
  served need held at its optimum, the assignment that maximises the quality of coverage
  ``sum (n_r / p_r) s_j z_rj`` (the score of the unit serving each person). It is solved
  on the capacity model's merged rows (rows with the same reaching units, region,
  service, need and volume per person: exact, any split of a merged row's served people
  over its points in proportion to their people is an optimal assignment of the
  unmerged problem) and the served people are split back over the demand points so.
* **With capacities, closest first**: every (point, service) row goes to its nearest
  selected units of the service in reach (split freely among equally near ones), and each
  unit serves up to its capacity of what comes to it: the same LP with a share
  ``a_rj`` of row r directed to unit j, ``a_rj = 0`` unless j is among the nearest
  selected, ``sum_j a_rj = 1`` when any selected unit is in reach, ``z_rj <= p_r a_rj``;
  on unmerged rows.
* **Without capacities**: everyone with a selected unit of the service in reach is
  served, by the best-scoring such unit (the first by position on ties): that is the
  unit their volume loads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from optimizer.errors import SolverError
from optimizer.select.problem import SelectionProblem

SERVED_TOLERANCE = 1e-9
"""Relative slack on the served need when the quality of the assignment is maximised
(the LP's own feasibility tolerance is 1e-7 absolute)."""


@dataclass(frozen=True)
class Assignment:
    """The assignment of a fixed selection.

    Attributes
    ----------
    capacity : bool
        True when unit capacities bound what is served.
    reached : np.ndarray (n, K) bool
        A selected unit of service k is in reach of demand point i.
    served_people : np.ndarray (n, K)
        People of point i served for service k (not service-weighted; at most the
        point's population, equal to it when reached and capacities are not modelled).
    served_volume : np.ndarray (n, K)
        Volume of service k served at point i.
    load : np.ndarray (m,)
        Volume assigned to each unit (0 for units not selected).
    pairs : pd.DataFrame
        One row per (demand point, unit) pair with a positive assignment:
        ``demand_id, unit_id, service, people, volume``.
    """

    capacity: bool
    reached: np.ndarray
    served_people: np.ndarray
    served_volume: np.ndarray
    load: np.ndarray
    pairs: pd.DataFrame


RULES = ("any", "closest")
"""Assignment rules: any unit in reach (the default), or the closest contracted unit."""


def assign(problem: SelectionProblem, selected: np.ndarray, *, capacity: bool, rule: str = "any") -> Assignment:
    """The assignment of the selection mask ``selected`` (over all units); see the module
    docstring."""
    selected = np.asarray(selected, dtype=bool)
    if capacity and problem.capacity is None:
        raise ValueError("capacity assignment needs unit capacities")
    if capacity and rule == "closest":
        return _closest(problem, selected)
    if capacity:
        return _capacitated(problem, selected)
    return _best_unit(problem, selected)


def _best_unit(problem: SelectionProblem, selected: np.ndarray) -> Assignment:
    c = sp.csr_array(problem.coverage.matrix)
    n, k_count = len(problem.demand_ids), problem.n_services
    row_of_pair = np.repeat(np.arange(n), np.diff(c.indptr))
    unit_of_pair = c.indices
    ok = selected[unit_of_pair]
    rows, units = row_of_pair[ok], unit_of_pair[ok]
    service = problem.unit_service[units]
    score = problem.score[units] if problem.score is not None else np.zeros(len(units))
    # best score first, then the lowest unit position, per (point, service)
    order = np.lexsort((units, -score, service, rows))
    rows, units, service = rows[order], units[order], service[order]
    head = np.ones(len(rows), dtype=bool)
    head[1:] = (rows[1:] != rows[:-1]) | (service[1:] != service[:-1])
    rows, units, service = rows[head], units[head], service[head]
    reached = np.zeros((n, k_count), dtype=bool)
    reached[rows, service] = True
    people = problem.population[:, None] * reached
    volume = problem.volume * reached
    pair_volume = problem.volume[rows, service]
    load = np.bincount(units, weights=pair_volume, minlength=problem.n_units)
    pairs = _pairs_frame(problem, rows, units, service, problem.population[rows], pair_volume)
    return Assignment(False, reached, people, volume, load, pairs)


def _capacitated(problem: SelectionProblem, selected: np.ndarray) -> Assignment:
    mrows = problem.rows_for(capacity=True)
    n, k_count = len(problem.demand_ids), problem.n_services
    cols = np.flatnonzero(selected)
    sub = sp.csr_array(mrows.matrix[:, cols]) if len(cols) else sp.csr_array((mrows.n_rows, 0), dtype=bool)
    sub.sort_indices()
    n_rows = sub.shape[0]
    r_of_pair = np.repeat(np.arange(n_rows), np.diff(sub.indptr))
    j_local = sub.indices
    pop = mrows.population
    npairs = len(r_of_pair)
    z = np.zeros(npairs)
    if npairs:
        per_person = mrows.volume_per_person[r_of_pair]
        need_ratio = np.divide(mrows.need, pop, out=np.zeros_like(pop), where=pop > 0)[r_of_pair]
        a = sp.vstack(
            [
                sp.csr_array((np.ones(npairs), (r_of_pair, np.arange(npairs))), shape=(n_rows, npairs)),
                sp.csr_array((per_person, (j_local, np.arange(npairs))), shape=(len(cols), npairs)),
            ],
            format="csr",
        )
        b = np.concatenate([pop, problem.capacity[cols]])
        bounds = np.column_stack([np.zeros(npairs), pop[r_of_pair]])
        quality = None if problem.score is None else need_ratio * problem.score[cols][j_local]
        z = np.clip(_served_then_quality(need_ratio, quality, a, b, bounds), 0.0, pop[r_of_pair])
    served_row = np.bincount(r_of_pair, weights=z, minlength=n_rows)
    share_row = np.divide(served_row, pop, out=np.zeros_like(pop), where=pop > 0)
    # back to the (point, service) rows: row o = k * n + i belongs to merged row group[o]
    share = share_row[mrows.group].reshape(k_count, n).T
    reach_hits = _reach(problem, selected)
    share = np.where(reach_hits, np.minimum(share, 1.0), 0.0)
    people = problem.population[:, None] * share
    volume = problem.volume * share
    load = np.zeros(problem.n_units)
    if npairs:
        load[cols] = np.bincount(j_local, weights=z * mrows.volume_per_person[r_of_pair], minlength=len(cols))
    pairs = _split_pairs(problem, mrows, sub, cols, r_of_pair, j_local, z)
    return Assignment(True, reach_hits, people, volume, load, pairs)


def _closest(problem: SelectionProblem, selected: np.ndarray) -> Assignment:
    rows = problem.closest_rows()
    n, k_count = len(problem.demand_ids), problem.n_services
    m = rows.matrix
    keep = selected[m.indices]
    row_of_pair = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    r, j, d = row_of_pair[keep], m.indices[keep], rows.distance[keep]
    npairs = len(r)
    z = np.zeros(npairs)
    pop = rows.population
    if npairs:
        # the nearest selected units of each row get its people (ties: any split)
        nearest = np.full(m.shape[0], np.inf)
        np.minimum.at(nearest, r, d)
        directed = d <= nearest[r] + 1e-12
        r_d, j_d = r[directed], j[directed]
        cols = np.unique(j_d)
        col_of = np.searchsorted(cols, j_d)
        nd = len(r_d)
        per_person = rows.volume_per_person[r_d]
        need_ratio = np.divide(rows.need, pop, out=np.zeros_like(pop), where=pop > 0)[r_d]
        # variables: z (nd) then a (nd)
        eye = np.arange(nd)
        n_rows = m.shape[0]
        a_mat = sp.vstack(
            [
                sp.csr_array((np.ones(nd), (r_d, nd + eye)), shape=(n_rows, 2 * nd)),  # sum_j a_rj <= 1
                -sp.csr_array((np.ones(nd), (r_d, nd + eye)), shape=(n_rows, 2 * nd)),  # ... >= 1 (reached)
                sp.csr_array((np.concatenate([np.ones(nd), -pop[r_d]]), (np.concatenate([eye, eye]), np.concatenate([eye, nd + eye]))), shape=(nd, 2 * nd)),
                sp.csr_array((per_person, (col_of, eye)), shape=(len(cols), 2 * nd)),
            ],
            format="csr",
        )
        reached = np.bincount(r_d, minlength=n_rows) > 0
        b = np.concatenate([np.ones(n_rows), np.where(reached, -1.0, 0.0), np.zeros(nd), problem.capacity[cols]])
        bounds = np.column_stack([np.zeros(2 * nd), np.concatenate([pop[r_d], np.ones(nd)])])
        no_a = np.zeros(nd)  # the shares a carry no value
        quality = None if problem.score is None else np.concatenate([need_ratio * problem.score[j_d], no_a])
        sol = _served_then_quality(np.concatenate([need_ratio, no_a]), quality, a_mat, b, bounds)
        z_d = np.clip(sol[:nd], 0.0, pop[r_d])
        z[np.flatnonzero(directed)] = z_d
    served_row = np.bincount(r, weights=z, minlength=m.shape[0])
    share_row = np.divide(served_row, pop, out=np.zeros_like(pop), where=pop > 0)
    share = np.zeros(n * k_count)
    ok = rows.group >= 0
    share[ok] = share_row[rows.group[ok]]
    share = share.reshape(k_count, n).T
    reach_hits = _reach(problem, selected)
    share = np.where(reach_hits, np.minimum(share, 1.0), 0.0)
    people = problem.population[:, None] * share
    volume = problem.volume * share
    load = np.bincount(j, weights=z * rows.volume_per_person[r], minlength=problem.n_units) if npairs else np.zeros(problem.n_units)
    point, svc = np.flatnonzero(ok)[np.argsort(rows.group[ok])] % n, np.flatnonzero(ok)[np.argsort(rows.group[ok])] // n
    positive = z > 1e-9
    pr, pj = r[positive], j[positive]
    w = problem.service_weights[svc[pr]]
    people_pairs = z[positive] / w
    vol_pairs = people_pairs * np.divide(problem.volume[point[pr], svc[pr]], problem.population[point[pr]], out=np.zeros(len(pr)), where=problem.population[point[pr]] > 0)
    pairs = _pairs_frame(problem, point[pr], pj, svc[pr], people_pairs, vol_pairs)
    return Assignment(True, reach_hits, people, volume, load, pairs)


def _served_then_quality(need: np.ndarray, quality: np.ndarray | None, a: sp.csr_array, b: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``max need . v`` s.t. ``a v <= b`` within ``bounds``; then, with that value held
    (to :data:`SERVED_TOLERANCE`), ``max quality . v`` when ``quality`` is given."""
    first = _lp(-need, a, b, bounds)
    if quality is None:
        return first
    served = float(need @ first)
    a2 = sp.vstack([a, sp.csr_array(-need[None, :])], format="csr")
    b2 = np.append(b, -(served - SERVED_TOLERANCE * max(1.0, abs(served))))
    return _lp(-quality, a2, b2, bounds, fallback=first)


def _lp(c: np.ndarray, a: sp.csr_array, b: np.ndarray, bounds: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
    res = linprog(c, A_ub=a, b_ub=b, bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        if fallback is not None:  # the quality pass failed: the served-need optimum stands
            return fallback
        raise SolverError(f"the assignment LP failed: {res.message}")
    return np.asarray(res.x)


def _reach(problem: SelectionProblem, selected: np.ndarray) -> np.ndarray:
    c = sp.csr_array(problem.coverage.matrix)
    out = np.zeros((len(problem.demand_ids), problem.n_services), dtype=bool)
    row_of_pair = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    ok = selected[c.indices]
    out[row_of_pair[ok], problem.unit_service[c.indices[ok]]] = True
    return out


def _split_pairs(problem, mrows, sub, cols, r_of_pair, j_local, z) -> pd.DataFrame:
    """The merged rows' assignment split over their (point, service) rows by people."""
    n = len(problem.demand_ids)
    positive = z > 1e-9
    if not positive.any():
        return _pairs_frame(problem, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    r_pos, j_pos, z_pos = r_of_pair[positive], cols[j_local[positive]], z[positive]
    # members of each merged row (the original (point, service) rows)
    order = np.argsort(mrows.group, kind="stable")
    starts = np.searchsorted(mrows.group[order], np.arange(mrows.n_rows + 1))
    counts = starts[r_pos + 1] - starts[r_pos]
    pair_idx = np.repeat(np.arange(len(r_pos)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    member = order[np.repeat(starts[r_pos], counts) + offsets]
    point, service = member % n, member // n
    w = problem.service_weights[service]
    weighted_pop = problem.population[point] * w
    row_pop = mrows.population[r_pos][pair_idx]
    frac = np.divide(weighted_pop, row_pop, out=np.zeros_like(weighted_pop), where=row_pop > 0)
    served_weighted = z_pos[pair_idx] * frac
    people = np.divide(served_weighted, w, out=np.zeros_like(served_weighted), where=w > 0)
    vol_per_person = np.divide(problem.volume[point, service], problem.population[point], out=np.zeros_like(people), where=problem.population[point] > 0)
    keep = people > 1e-9
    return _pairs_frame(problem, point[keep], j_pos[pair_idx][keep], service[keep], people[keep], (people * vol_per_person)[keep])


def _pairs_frame(problem, rows, units, service, people, volume) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "demand_id": problem.demand_ids[rows].to_numpy(dtype=object),
            "unit_id": problem.unit_ids[units].to_numpy(dtype=object),
            "service": problem.services[service].to_numpy(dtype=object),
            "people": np.asarray(people, dtype=float),
            "volume": np.asarray(volume, dtype=float),
        }
    )
    return frame.sort_values(["unit_id", "demand_id", "service"], kind="stable").reset_index(drop=True)


def served_shares(problem: SelectionProblem, a: Assignment) -> np.ndarray:
    """Served share of each demand point's people per service, (n, K) in [0, 1]
    (1 / 0 for reached / not reached without capacities)."""
    if not a.capacity:
        return a.reached.astype(float)
    pop = problem.population[:, None]
    return np.divide(a.served_people, pop, out=a.reached.astype(float), where=pop > 0)
