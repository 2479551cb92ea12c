"""Build the sparse coverage relation: which units reach which demand points.

Reach is great-circle distance (km) by default, or the user's travel table (any unit).
A demand point i is reached by unit j when ``d(i, j) <= reach(service_j, kind_i)``:
the reach may depend on the unit's service (lab, imaging, ...) and on the kind of the
demand point's region (urban, rural, ...), as network-adequacy standards do.

Spatial index and exactness
---------------------------
Points go on the unit sphere (:func:`optimizer.geo.distance.unit_sphere`), where a
great-circle radius ``d`` is the chord ``c = 2 sin(d / 2R)``. Demand points are grouped
into small tiles; for each tile (centre ``t``, circumradius ``rho`` as a chord) a KD-tree
over the units returns the candidates within ``c_max + rho`` of ``t`` (a superset, by the
triangle inequality), and each (point, candidate) pair is then tested exactly:
``x_i . u_j >= 1 - c_j^2 / 2`` (equivalent to chord ``<= c_j``). Only tile-local blocks
are ever dense, never the demand x unit matrix. The result is right across the
antimeridian, at the poles and across UTM zones because nothing is projected.

Merging while building
----------------------
:func:`merged_coverage_within` never materialises every pair: each tile's rows are
packed into bit strings and identical rows (same reaching set and same ``by`` code) are
merged inside the tile; the tiles' distinct rows are then grouped across tiles by a
64-bit hash of their set (:func:`optimizer.geo.relation.row_hashes`) and every such merge
is confirmed element by element (a hash collision switches to the exact byte-string
grouping). The merge is exact: two demand points are merged only when their reaching
sets are identical.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from optimizer.errors import InputError
from optimizer.geo.distance import EARTH_RADIUS_KM, chord_to_km, km_to_chord, unit_sphere
from optimizer.geo.io import Demand, Units, code_column, reject_rows, to_number
from optimizer.geo.relation import (
    Coverage,
    MergedCoverage,
    bool_csr,
    group_by_hash,
    merge_row_segments,
    merged_from_groups,
    row_hashes,
)
from optimizer.validation import numeric_column, read_table, require_columns

BLOCK_ENTRIES = 1 << 20
"""Largest dense tile block (rows x candidate units) computed at once: 8 MB of cosines."""


def _positive(value: object, what: str) -> float:
    x = to_number(value)
    if np.isnan(x):
        raise InputError(f"expected a number for {what}", found=value)
    if not np.isfinite(x) or x < 0:
        raise InputError(f"expected a finite reach >= 0 for {what}", found=value)
    return x


@dataclass(frozen=True)
class Reach:
    """How far a unit reaches, possibly per service and per region kind.

    ``distance(service, kind)`` looks up, in order: ``by_service[service][kind]``,
    ``by_service[service]["default"]``, ``by_kind[kind]``, ``default``.

    >>> r = Reach.parse({"urban": 10, "rural": 30, "lab": {"urban": 5}})
    >>> r.distance(None, "urban"), r.distance("lab", "urban"), r.distance("lab", "rural"), r.maximum
    (10.0, 5.0, 30.0, 30.0)
    >>> Reach.parse(12).distance("imaging", "rural")
    12.0
    """

    default: float
    by_kind: Mapping[str, float] = field(default_factory=dict)
    by_service: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: Reach | float | int | Mapping[str, object], *, default: float | None = None) -> Reach:
        """Build from a number, or a mapping of kinds to numbers and services to mappings.

        A mapping's ``"default"`` key (or the ``default`` argument) sets the reach of kinds
        and services not listed; without either, the largest stated value is used.
        """
        if isinstance(spec, Reach):
            return spec
        if isinstance(spec, Mapping):
            by_kind: dict[str, float] = {}
            by_service: dict[str, dict[str, float]] = {}
            base = default
            for key, value in spec.items():
                if isinstance(value, Mapping):
                    by_service[str(key)] = {str(k): _positive(v, f"reach of {key}/{k}") for k, v in value.items()}
                elif str(key) == "default":
                    base = _positive(value, "the default reach")
                else:
                    by_kind[str(key)] = _positive(value, f"reach of {key}")
            if base is None:
                values = list(by_kind.values()) + [v for s in by_service.values() for v in s.values()]
                if not values:
                    raise InputError("expected at least one reach value", found=dict(spec))
                base = max(values)
            return cls(default=float(base), by_kind=by_kind, by_service=by_service)
        return cls(default=_positive(spec, "the reach"))

    def distance(self, service: str | None, kind: str | None) -> float:
        """Reach for a unit of ``service`` and a demand point of region ``kind``."""
        per = self.by_service.get(service, {}) if service is not None else {}
        if kind is not None and kind in per:
            return float(per[kind])
        if "default" in per:
            return float(per["default"])
        if kind is not None and kind in self.by_kind:
            return float(self.by_kind[kind])
        return float(self.default)

    @property
    def maximum(self) -> float:
        """The largest reach any pair can have."""
        values = [self.default, *self.by_kind.values()] + [v for s in self.by_service.values() for v in s.values()]
        return float(max(values))

    @property
    def uses_kind(self) -> bool:
        return bool(self.by_kind) or any(set(s) - {"default"} for s in self.by_service.values())

    @property
    def uses_service(self) -> bool:
        return bool(self.by_service)


# --------------------------------------------------------------------------- kernels


CROWDED_TILE = 128
"""A coarse tile with more demand points than this is split into fine tiles."""


def _grid_keys(lon: np.ndarray, lat: np.ndarray, size_km: float) -> np.ndarray:
    """Cell key of each point in a grid of about ``size_km``: latitude bands of ``size_km``
    cut into longitude cells of about ``size_km`` (wider cells near the poles)."""
    deg = max(size_km, 1e-3) / (np.pi * EARTH_RADIUS_KM / 180.0)
    band = np.floor((lat + 90.0) / deg).astype(np.int64)
    band_lat = np.minimum(np.abs(band * deg - 90.0), np.abs((band + 1) * deg - 90.0))
    width = deg / np.maximum(np.cos(np.radians(band_lat)), 1e-3)
    cell = np.floor((lon + 180.0) / width).astype(np.int64)
    return band * (np.int64(1) << 32) + cell


def _tiles(lon: np.ndarray, lat: np.ndarray, reach_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Group points into tiles; returns (order, tile start offsets into ``order``).

    Two levels: coarse tiles of twice the reach (few tiles where points are sparse) and,
    inside coarse tiles holding more than :data:`CROWDED_TILE` points, fine tiles of half
    the reach (few candidate units per point where points are dense). Tiles are only a
    grouping for the exact per-pair test, so their shape needs no precision.
    """
    coarse = _grid_keys(lon, lat, max(2.0 * reach_km, 1.0))
    _, inverse, counts = np.unique(coarse, return_inverse=True, return_counts=True)
    crowded = counts[inverse] > CROWDED_TILE
    key = coarse.copy()
    if crowded.any():
        fine = _grid_keys(lon[crowded], lat[crowded], max(reach_km / 2.0, 0.25))
        key[crowded] = fine | (np.int64(1) << 62)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    return order, np.r_[starts, len(order)]


def _tile_blocks(
    demand_xyz: np.ndarray,
    demand_lon: np.ndarray,
    demand_lat: np.ndarray,
    unit_xyz: np.ndarray,
    unit_chord: np.ndarray,
    tree: cKDTree,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(rows, candidates, within)`` blocks covering every demand row once.

    ``rows`` are demand positions, ``candidates`` sorted unit positions and ``within`` the
    exact boolean block ``x_i . u_j >= 1 - c_j^2 / 2`` (chord ``<= c_j``). Rows with no
    candidate at all come in one block with no columns.
    """
    max_chord = float(unit_chord.max()) if len(unit_chord) else 0.0
    order, bounds = _tiles(demand_lon, demand_lat, float(chord_to_km(max_chord)))
    starts = bounds[:-1]
    pts = demand_xyz[order]
    centres = np.add.reduceat(pts, starts, axis=0)
    norms = np.linalg.norm(centres, axis=1)
    centres = np.where(norms[:, None] > 0, centres / np.where(norms > 0, norms, 1.0)[:, None], pts[starts])
    sizes = np.diff(bounds)
    offsets = np.linalg.norm(pts - np.repeat(centres, sizes, axis=0), axis=1)
    rho = np.maximum.reduceat(offsets, starts)
    candidates = tree.query_ball_point(centres, max_chord + rho + 1e-12, return_sorted=True, workers=-1)
    threshold = 1.0 - unit_chord**2 / 2.0
    empty: list[np.ndarray] = []
    for t, (a, b) in enumerate(zip(starts, bounds[1:], strict=True)):
        rows = order[a:b]
        if not candidates[t]:
            empty.append(rows)
            continue
        cand = np.asarray(candidates[t], dtype=np.int32)
        cand_xyz = unit_xyz[cand]
        thr = threshold[cand]
        batch = max(16, BLOCK_ENTRIES // len(cand))
        for s in range(0, len(rows), batch):
            sub = rows[s : s + batch]
            yield sub, cand, (demand_xyz[sub] @ cand_xyz.T) >= thr
    if empty:
        rows = np.concatenate(empty)
        yield rows, np.zeros(0, dtype=np.int32), np.zeros((len(rows), 0), dtype=bool)


def _unit_chords(reach: Reach, units: Units, kind: str | None, service_col: str) -> np.ndarray:
    """Chord radius of every unit for demand points of region ``kind``."""
    if not reach.uses_service:
        return np.full(len(units), float(km_to_chord(reach.distance(None, kind))))
    services = _service_codes(units, service_col)
    km = np.array([reach.distance(s, kind) for s in services], dtype=float)
    return km_to_chord(km)


def _service_codes(units: Units, service_col: str) -> list[str | None]:
    return code_column(units.frame, service_col, file=units.source, why="the reach is set per service").tolist()


def _kind_groups(reach: Reach, demand: Demand, kind_col: str) -> list[tuple[str | None, np.ndarray]]:
    """(kind, demand positions) groups; one group of every row when reach ignores kind."""
    if not reach.uses_kind:
        return [(None, np.arange(len(demand)))]
    why = "the reach is set per region kind"
    kinds = code_column(demand.frame, kind_col, file=demand.source, why=why).fillna("").to_numpy(dtype=object)
    out = []
    for k in pd.unique(kinds):
        out.append((None if k == "" else str(k), np.flatnonzero(kinds == k)))
    return out


# --------------------------------------------------------------------------- entry points


def check_reach_options(radius_km: float | None, distances: object, max_distance: float | None) -> None:
    """The command-line reach contract: ``--radius-km X`` or ``--distances T --max-distance X``.

    >>> check_reach_options(10.0, None, None)
    >>> check_reach_options(None, "od.csv", None)
    Traceback (most recent call last):
    optimizer.errors.InputError: option '--max-distance': expected --max-distance with --distances (in the travel table's unit)
    """
    if (radius_km is None) == (distances is None):
        raise InputError("expected exactly one of --radius-km or --distances", option="--radius-km/--distances")
    if distances is not None and max_distance is None:
        raise InputError("expected --max-distance with --distances (in the travel table's unit)", option="--max-distance")
    if distances is None and max_distance is not None:
        raise InputError("--max-distance applies to --distances; use --radius-km for great-circle reach", option="--max-distance")


def coverage_within(
    demand: Demand,
    units: Units,
    reach: Reach | float | Mapping[str, object],
    *,
    kind_col: str = "kind",
    service_col: str = "service",
    keep_distance: bool = True,
) -> Coverage:
    """Every (demand, unit) pair within great-circle reach, as a sparse relation.

    ``reach`` is km: one number, or per region kind / per service (see :class:`Reach`).
    Distances (km) of the stored pairs are kept when ``keep_distance``.

    >>> import pandas as pd
    >>> d = Demand(pd.Index(["a", "b"]), np.array([179.95, 0.0]), np.array([0.0, 89.9]),
    ...            np.array([1.0, 1.0]), np.array([1.0, 1.0]), pd.DataFrame(index=pd.Index(["a", "b"])))
    >>> u = Units(pd.Index(["x", "y"]), np.array([-179.95, 180.0]), np.array([0.0, 89.9]), pd.DataFrame(index=pd.Index(["x", "y"])))
    >>> cov = coverage_within(d, u, 25.0)  # across the antimeridian; over the pole
    >>> cov.matrix.toarray().tolist(), np.round(cov.distance, 2).tolist()
    ([[True, False], [False, True]], [11.12, 22.24])
    """
    reach = Reach.parse(reach)
    m = len(units)
    dxyz = unit_sphere(demand.lon, demand.lat)
    uxyz = unit_sphere(units.lon, units.lat)
    tree = cKDTree(uxyz)
    n = len(demand)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []
    row_counts = np.zeros(n, dtype=np.int64)
    for kind, positions in _kind_groups(reach, demand, kind_col):
        chords = _unit_chords(reach, units, kind, service_col)
        if m == 0 or len(positions) == 0:
            continue
        for rows, cand, within in _tile_blocks(
            dxyz[positions], demand.lon[positions], demand.lat[positions], uxyz, chords, tree
        ):
            glob = positions[rows]
            counts = np.count_nonzero(within, axis=1)
            row_counts[glob] = counts
            cols = np.broadcast_to(cand, within.shape)[within]  # column ids, row by row
            if keep_distance:
                # the exact chord of each kept pair (the dot product loses digits when d is small)
                pair_rows = np.repeat(glob, counts)
                dist = chord_to_km(np.linalg.norm(dxyz[pair_rows] - uxyz[cols], axis=1))
            else:
                dist = None
            blocks.append((glob, counts, cols, dist))
    # each demand row lies in exactly one block, its columns already sorted: scatter into CSR
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    nnz = int(indptr[-1])
    indices = np.empty(nnz, dtype=np.int32)
    distance = np.empty(nnz) if keep_distance else None
    for glob, counts, cols, dist in blocks:
        local_start = np.cumsum(counts) - counts
        dest = np.repeat(indptr[glob] - local_start, counts) + np.arange(len(cols))
        indices[dest] = cols
        if distance is not None:
            distance[dest] = dist
    matrix = bool_csr(indices, indptr, (n, m))
    return Coverage(demand_ids=pd.Index(demand.ids), unit_ids=pd.Index(units.ids), matrix=matrix, distance=distance)


def _coverage_from_pairs(
    demand_ids: pd.Index,
    unit_ids: pd.Index,
    rows: np.ndarray,
    cols: np.ndarray,
    distance: np.ndarray | None,
) -> Coverage:
    """CSR relation (indices sorted per row) from pair arrays; distances follow the pairs."""
    n, m = len(demand_ids), len(unit_ids)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    matrix = bool_csr(cols, indptr, (n, m))
    return Coverage(
        demand_ids=pd.Index(demand_ids),
        unit_ids=pd.Index(unit_ids),
        matrix=matrix,
        distance=None if distance is None else np.asarray(distance, dtype=float)[order],
    )


@dataclass(frozen=True)
class MergedBuild:
    """A coverage relation built already merged (identical reaching sets in one row).

    Attributes
    ----------
    merged : MergedCoverage
        Group rows (g x m), summed weights (g x k), ``group`` of each demand row, ``key``.
    demand_ids, unit_ids : pd.Index
        Labels of the original demand rows and of the unit columns.
    n_pairs : int
        Number of (demand, unit) pairs the unmerged relation would hold.
    """

    merged: MergedCoverage
    demand_ids: pd.Index
    unit_ids: pd.Index
    n_pairs: int

    @property
    def group(self) -> pd.Series:
        """Group of each demand point, indexed by demand id."""
        return pd.Series(self.merged.group, index=self.demand_ids, name="group")

    @property
    def shrink(self) -> dict[str, float]:
        """Rows and pairs before and after merging."""
        g = self.merged.n_groups
        merged_pairs = int(self.merged.matrix.nnz)
        n = len(self.demand_ids)
        return {
            "rows": n,
            "groups": g,
            "pairs": self.n_pairs,
            "merged_pairs": merged_pairs,
            "row_factor": n / g if g else float("nan"),
            "pair_factor": self.n_pairs / merged_pairs if merged_pairs else float("nan"),
        }


def merged_coverage_within(
    demand: Demand,
    units: Units,
    reach: Reach | float | Mapping[str, object],
    *,
    weights: np.ndarray | None = None,
    by: np.ndarray | None = None,
    kind_col: str = "kind",
    service_col: str = "service",
) -> MergedBuild:
    """The coverage relation with identical rows merged while it is built.

    ``weights`` (n,) or (n, k) default to ``[population, need]``; ``by`` (int codes, n)
    keeps rows of different codes (e.g. regions) apart. Equivalent to
    ``merge_identical_rows(coverage_within(...).matrix, weights, by)`` up to the order
    of the groups, without ever holding every pair.
    """
    reach = Reach.parse(reach)
    n, m = len(demand), len(units)
    w = np.column_stack([demand.population, demand.need]) if weights is None else np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = w[:, None]
    codes = np.zeros(n, dtype=np.int64) if by is None else np.asarray(by, dtype=np.int64)
    dxyz = unit_sphere(demand.lon, demand.lat)
    uxyz = unit_sphere(units.lon, units.lat)
    tree = cKDTree(uxyz)
    local_group = np.empty(n, dtype=np.int64)
    parts_indices: list[np.ndarray] = []
    parts_lengths: list[np.ndarray] = []
    parts_codes: list[np.ndarray] = []
    parts_hashes: list[np.ndarray] = []
    n_local = 0
    n_pairs = 0
    for kind, positions in _kind_groups(reach, demand, kind_col):
        chords = _unit_chords(reach, units, kind, service_col)
        if len(positions) == 0:
            continue
        if m == 0:
            empty = np.zeros((len(positions), 0), dtype=bool)
            blocks = iter([(np.arange(len(positions)), np.zeros(0, dtype=np.int32), empty)])
        else:
            blocks = _tile_blocks(dxyz[positions], demand.lon[positions], demand.lat[positions], uxyz, chords, tree)
        for rows, cand, within in blocks:
            glob = positions[rows]
            n_pairs += int(np.count_nonzero(within))
            first, inverse = _unique_rows(within, codes[glob])
            local_group[glob] = n_local + inverse
            uniq = within[first]
            idx = np.broadcast_to(cand, uniq.shape)[uniq]  # column ids, row by row
            counts = np.count_nonzero(uniq, axis=1)
            offsets = np.zeros(len(first) + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
            parts_indices.append(idx)
            parts_lengths.append(counts)
            parts_hashes.append(row_hashes(idx, offsets, m))
            parts_codes.append(codes[glob[first]])
            n_local += len(first)
    lengths = np.concatenate(parts_lengths) if parts_lengths else np.zeros(0, dtype=np.int64)
    local_codes = np.concatenate(parts_codes) if parts_codes else np.zeros(0, dtype=np.int64)
    hashes = np.concatenate(parts_hashes) if parts_hashes else np.zeros(0, dtype=np.uint64)
    local_w = np.column_stack([np.bincount(local_group, weights=w[:, k], minlength=n_local) for k in range(w.shape[1])])
    local_w = local_w.reshape(n_local, w.shape[1])
    final = _merge_parts(parts_indices, parts_lengths, lengths, local_codes, hashes, local_w, m)
    merged = MergedCoverage(matrix=final.matrix, weights=final.weights, group=final.group[local_group], key=final.key)
    return MergedBuild(merged=merged, demand_ids=pd.Index(demand.ids), unit_ids=pd.Index(units.ids), n_pairs=n_pairs)


def _merge_parts(
    parts: list[np.ndarray],
    part_lengths: list[np.ndarray],
    lengths: np.ndarray,
    codes: np.ndarray,
    hashes: np.ndarray,
    weights: np.ndarray,
    m: int,
) -> MergedCoverage:
    """Merge the tiles' distinct rows across tiles without concatenating every pair.

    ``parts[p]`` holds the column lists of the rows of tile block ``p`` back to back. Rows
    grouped together by their hash are checked element by element against their group's
    first row; on a hash collision the exact path runs on the concatenated rows.
    """
    n = len(lengths)
    group, first = group_by_hash(codes, lengths, hashes)
    part_of = np.repeat(np.arange(len(parts)), [len(c) for c in part_lengths])
    starts = np.cumsum(lengths) - lengths
    part_row0 = np.r_[0, np.cumsum([len(c) for c in part_lengths])][:-1].astype(np.int64)
    local_start = starts - starts[part_row0][part_of] if n else starts
    for row in np.flatnonzero(first[group] != np.arange(n)):
        rep = first[group[row]]
        a, b = part_of[row], part_of[rep]
        seg = parts[a][local_start[row] : local_start[row] + lengths[row]]
        if not np.array_equal(seg, parts[b][local_start[rep] : local_start[rep] + lengths[rep]]):
            indptr = np.r_[0, np.cumsum(lengths)]
            return merge_row_segments(np.concatenate(parts), indptr, m, weights, codes)
    keep = np.zeros(n, dtype=bool)
    keep[first] = True
    kept = np.empty(int(lengths[first].sum()), dtype=np.int32)
    pos = 0
    for p in range(len(parts)):
        rows = slice(part_row0[p], part_row0[p] + len(part_lengths[p]))
        piece = parts[p] if keep[rows].all() else parts[p][np.repeat(keep[rows], part_lengths[p])]
        kept[pos : pos + len(piece)] = piece
        pos += len(piece)
        parts[p] = piece[:0]  # free the tile's pairs as soon as they are copied
    return merged_from_groups(kept, lengths[first], m, group, weights, codes[first])


def _unique_rows(block: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First row of each distinct (code, boolean row) and the distinct row of every row."""
    packed = np.packbits(block, axis=1)
    key = np.concatenate([codes.astype(">i8").view(np.uint8).reshape(-1, 8), packed], axis=1)
    key = np.ascontiguousarray(key).view(np.dtype((np.void, key.shape[1]))).ravel()
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def coverage_from_table(
    path: str | Path,
    demand: Demand,
    units: Units,
    max_distance: float,
    *,
    demand_col: str = "demand_id",
    unit_col: str = "unit_id",
    value_col: str = "distance",
) -> Coverage:
    """Coverage from the user's travel table (CSV or Parquet, long format).

    A pair is within reach when its value is ``<= max_distance`` (same unit as the table).
    Pairs absent from the table are unreachable. Ids matching no demand point or unit,
    negative or non-numeric values and duplicated pairs are errors naming the row.
    """
    max_distance = _positive(max_distance, "--max-distance")
    p = Path(path)
    df = read_table(p, id_columns=[demand_col, unit_col], what="travel table")
    if value_col == "distance" and "distance" not in df.columns and "minutes" in df.columns:
        value_col = "minutes"  # a table written by ``optimizer travel``
    require_columns(df, [demand_col, unit_col, value_col], file=p)
    values = numeric_column(df, value_col, file=p, minimum=0.0)
    d_ids = df[demand_col].astype(str).str.strip().to_numpy(dtype=object)
    u_ids = df[unit_col].astype(str).str.strip().to_numpy(dtype=object)
    rows = pd.Index(demand.ids).get_indexer(d_ids)
    cols = pd.Index(units.ids).get_indexer(u_ids)
    for pos, col, label, what in ((rows, demand_col, d_ids, "demand point"), (cols, unit_col, u_ids, "unit")):
        reject_rows(pos < 0, f"expected the id of a {what} in the inputs; this id matches none", file=p, column=col, found=label)
    reject_rows(
        pd.MultiIndex.from_arrays([rows, cols]).duplicated(),
        "expected each (demand, unit) pair once; this pair is listed twice",
        file=p,
        column=f"{demand_col}/{unit_col}",
        found=d_ids + " / " + u_ids,
    )
    keep = values <= max_distance
    return _coverage_from_pairs(demand.ids, units.ids, rows[keep].astype(np.int64), cols[keep].astype(np.int64), values[keep])

