"""The coverage relation: reach per kind/service, merging while building, travel tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from optimizer.errors import InputError
from optimizer.geo import relation
from optimizer.geo.coverage import (
    Reach,
    coverage_from_table,
    coverage_within,
    merged_coverage_within,
)
from optimizer.geo.distance import haversine_km
from optimizer.geo.relation import merge_identical_rows

from .conftest import make_demand, make_units, random_points


def _partition(labels: np.ndarray) -> np.ndarray:
    """Relabel groups by order of first appearance (to compare partitions)."""
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inv]


def exact_groups(matrix: sp.csr_array, by: np.ndarray) -> np.ndarray:
    """Oracle: group rows by the Python tuple of their (code, column set)."""
    seen: dict[tuple, int] = {}
    dense = matrix.toarray()
    return np.array([seen.setdefault((int(by[i]), *np.flatnonzero(dense[i])), len(seen)) for i in range(dense.shape[0])])


def test_reach_per_kind_and_service_matches_brute_force(rng):
    """d(i, j) <= reach(service_j, kind_i), checked pair by pair."""
    dlon, dlat = random_points(rng, 300, 51.4, 35.7, 30.0)
    ulon, ulat = random_points(rng, 40, 51.4, 35.7, 30.0)
    kinds = rng.choice(["urban", "rural", "remote"], 300)
    services = rng.choice(["lab", "imaging"], 40)
    reach = Reach.parse({"urban": 5, "rural": 15, "imaging": {"urban": 10, "default": 25}})
    demand = make_demand(dlon, dlat, kind=kinds)
    units = make_units(ulon, ulat, service=services)
    cov = coverage_within(demand, units, reach)
    d = haversine_km(dlon[:, None], dlat[:, None], ulon[None, :], ulat[None, :])
    limit = np.array([[reach.distance(s, k) for s in services] for k in kinds])
    np.testing.assert_array_equal(cov.matrix.toarray(), d <= limit)
    assert reach.distance("lab", "remote") == 25.0  # unlisted kind -> default = largest value


def test_reach_parse_rejects_bad_values():
    with pytest.raises(InputError, match="expected a finite reach"):
        Reach.parse(-1)
    with pytest.raises(InputError, match="expected a number"):
        Reach.parse({"urban": "far"})


@pytest.mark.parametrize("with_by", [False, True])
def test_merged_build_equals_merging_the_full_relation(rng, with_by):
    """Merging while building gives exactly the partition, rows and weights of merging after."""
    dlon, dlat = random_points(rng, 3000, 50.0, 36.0, 15.0)
    # co-located and rural points so that many rows share a reaching set
    dlon[:500], dlat[:500] = dlon[500:1000], dlat[500:1000]
    ulon, ulat = random_points(rng, 80, 50.0, 36.0, 10.0)
    pop = rng.integers(1, 1000, 3000).astype(float)
    demand = make_demand(dlon, dlat, pop, pop * 2)
    units = make_units(ulon, ulat)
    by = rng.integers(0, 3, 3000) if with_by else None
    full = coverage_within(demand, units, 8.0)
    ref = merge_identical_rows(full.matrix, np.column_stack([pop, pop * 2]), by=by)
    built = merged_coverage_within(demand, units, 8.0, by=by)
    assert built.n_pairs == full.n_pairs
    np.testing.assert_array_equal(_partition(built.merged.group), _partition(ref.group))
    # same groups (numbered differently): same set and same summed weights for every row
    np.testing.assert_array_equal(
        built.merged.matrix.toarray()[built.merged.group], ref.matrix.toarray()[ref.group]
    )
    np.testing.assert_allclose(built.merged.weights[built.merged.group], ref.weights[ref.group])
    assert built.merged.n_groups == ref.n_groups
    # exactness: every row's reaching set is its group's set
    np.testing.assert_array_equal(built.merged.matrix.toarray()[built.merged.group], full.matrix.toarray())
    oracle = exact_groups(full.matrix, np.zeros(3000, dtype=int) if by is None else by)
    np.testing.assert_array_equal(_partition(oracle), _partition(ref.group))
    assert built.shrink["groups"] < 3000


def test_merge_survives_hash_collisions(monkeypatch, rng):
    """With every hash equal, the element-wise check catches it and the exact path runs."""
    dense = rng.random((200, 12)) < 0.2
    dense[100:] = dense[:100]
    m = sp.csr_array(dense)
    monkeypatch.setattr(relation, "row_hashes", lambda indices, indptr, m: np.zeros(len(indptr) - 1, dtype=np.uint64))
    merged = merge_identical_rows(m, np.ones(200))
    np.testing.assert_array_equal(_partition(merged.group), _partition(exact_groups(m, np.zeros(200, dtype=int))))
    np.testing.assert_array_equal(merged.matrix.toarray()[merged.group], dense)


def test_merged_build_with_reach_by_kind(rng):
    dlon, dlat = random_points(rng, 800, 50.0, 36.0, 20.0)
    ulon, ulat = random_points(rng, 30, 50.0, 36.0, 20.0)
    demand = make_demand(dlon, dlat, kind=rng.choice(["urban", "rural"], 800))
    units = make_units(ulon, ulat, service=rng.choice(["lab", "imaging"], 30))
    reach = {"urban": 6, "rural": 12, "imaging": {"default": 20}}
    full = coverage_within(demand, units, reach)
    built = merged_coverage_within(demand, units, reach)
    np.testing.assert_array_equal(built.merged.matrix.toarray()[built.merged.group], full.matrix.toarray())
    assert built.merged.n_groups == merge_identical_rows(full.matrix, np.ones(800)).n_groups


def test_reach_by_kind_needs_the_kind_column():
    demand = make_demand([50.0], [36.0])
    with pytest.raises(InputError, match="'kind' column"):
        coverage_within(demand, make_units([50.0], [36.0]), {"urban": 5})


# --------------------------------------------------------------------------- travel tables


@pytest.fixture
def small():
    return make_demand([50.0, 50.1, 50.2], [36.0, 36.0, 36.0]), make_units([50.0, 50.3], [36.0, 36.0])


def test_travel_table_replaces_great_circle(small, write_csv):
    demand, units = small
    path = write_csv("od.csv", "demand_id,unit_id,distance\nd0,u0,5\nd1,u0,35\nd1,u1,20\nd2,u1,30.5\n")
    cov = coverage_from_table(path, demand, units, 30)
    assert cov.matrix.toarray().tolist() == [[True, False], [False, True], [False, False]]
    assert cov.distance.tolist() == [5.0, 20.0]


def test_travel_table_parquet(small, tmp_path):
    demand, units = small
    path = tmp_path / "od.parquet"
    pd.DataFrame({"demand_id": ["d2", "d0"], "unit_id": ["u1", "u0"], "distance": [3.0, 4.0]}).to_parquet(path)
    cov = coverage_from_table(path, demand, units, 10)
    assert cov.matrix.toarray().tolist() == [[True, False], [False, False], [False, True]]
    assert cov.distance.tolist() == [4.0, 3.0]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("demand_id,unit_id,distance\nd0,u0,5\nd9,u0,3\n", r"row 2, column 'demand_id'.*matches none, found 'd9'"),
        ("demand_id,unit_id,distance\nd0,u7,5\n", r"row 1, column 'unit_id'.*matches none, found 'u7'"),
        ("demand_id,unit_id,distance\nd0,u0,5\nd0,u0,6\n", r"row 2.*listed twice"),
        ("demand_id,unit_id,distance\nd0,u0,-5\n", r"row 1, column 'distance': expected a number >= 0"),
        ("demand_id,unit_id,distance\nd0,u0,far\n", r"row 1, column 'distance': expected a number, found 'far'"),
        ("demand_id,unit,distance\nd0,u0,5\n", r"missing column 'unit_id'"),
        ("demand_id,unit_id,distance\n", r"no data rows"),
    ],
)
def test_travel_table_errors(small, write_csv, text, match):
    demand, units = small
    with pytest.raises(InputError, match=match) as err:
        coverage_from_table(write_csv("od.csv", text), demand, units, 30)
    assert "od.csv" in str(err.value)


def test_merged_build_survives_hash_collisions(monkeypatch, rng):
    """Forcing every row hash to 0 makes all cross-tile groups collide: the element-wise
    check must catch it and fall back to the exact grouping."""
    from optimizer.geo import coverage as coverage_module

    dlon, dlat = random_points(rng, 1500, 50.0, 36.0, 40.0)
    ulon, ulat = random_points(rng, 60, 50.0, 36.0, 40.0)
    demand, units = make_demand(dlon, dlat), make_units(ulon, ulat)
    full = coverage_within(demand, units, 6.0)
    monkeypatch.setattr(coverage_module, "row_hashes", lambda idx, offsets, m: np.zeros(len(offsets) - 1, dtype=np.uint64))
    built = merged_coverage_within(demand, units, 6.0)
    np.testing.assert_array_equal(built.merged.matrix.toarray()[built.merged.group], full.matrix.toarray())
    assert built.merged.n_groups == merge_identical_rows(full.matrix, np.ones(1500)).n_groups


def test_no_units_and_isolated_points():
    demand = make_demand([50.0, 10.0], [36.0, -20.0], [5.0, 7.0])
    cov = coverage_within(demand, make_units([], []), 10.0)
    assert cov.matrix.shape == (2, 0) and cov.n_pairs == 0
    built = merged_coverage_within(demand, make_units([], []), 10.0)
    assert built.merged.n_groups == 1 and built.merged.weights[0].tolist() == [12.0, 12.0]
    built = merged_coverage_within(demand, make_units([50.0], [36.0]), 10.0)
    assert built.merged.matrix.toarray().tolist() == [[True], [False]]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_row_hashes_in_slices_are_the_wrapping_sums_of_the_column_codes(chunk, monkeypatch):
    """Hashing the rows slice by slice (here ``chunk`` nonzeros per slice) gives every
    row the wrapping 64-bit sum of its columns' codes, empty rows (first, inner, last) 0."""
    rng = np.random.default_rng(chunk)
    m = 9
    lengths = [0, 3, 0, 0, 5, 1, 9, 2, 0]
    indices = np.concatenate([np.sort(rng.choice(m, n, replace=False)) for n in lengths]).astype(np.int32)
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int32)
    monkeypatch.setattr(relation, "HASH_CHUNK", chunk)
    codes = relation._column_hashes(m)
    expected = [int(codes[indices[a:b]].astype(object).sum()) % 2**64 for a, b in zip(indptr[:-1], indptr[1:], strict=True)]
    assert relation.row_hashes(indices, indptr, m).tolist() == expected
