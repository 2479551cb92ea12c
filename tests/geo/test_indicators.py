"""Indicators: 2SFCA / E2SFCA / FCA ratio against PySAL access, hand cases, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from optimizer.errors import InputError
from optimizer.geo.coverage import coverage_within
from optimizer.geo.indicators import (
    Decay,
    Standard,
    adequacy,
    enhanced_two_step_fca,
    fca_ratio,
    point_access,
    region_indicators,
    regions_from_points,
    two_step_fca,
    unit_reach,
)
from optimizer.geo.relation import Coverage

from .conftest import make_demand, make_units, random_points

access = pytest.importorskip("access")
from access import fca as access_fca  # noqa: E402
from access import weights as access_weights  # noqa: E402


@pytest.fixture
def instance(rng):
    """60 settlements and 12 units around Qazvin; 25 km catchments (distances kept)."""
    dlon, dlat = random_points(rng, 60, 50.0, 36.2, 20.0)
    ulon, ulat = random_points(rng, 12, 50.0, 36.2, 20.0)
    pop = rng.integers(100, 5000, 60).astype(float)
    supply = rng.integers(1, 6, 12).astype(float)
    demand = make_demand(dlon, dlat, pop)
    units = make_units(ulon, ulat)
    cov = coverage_within(demand, units, 25.0)
    return demand, units, cov, supply


def _access_frames(demand, units, cov, supply):
    rows = np.repeat(np.arange(cov.n_demand), np.diff(cov.matrix.indptr))
    cost = pd.DataFrame(
        {"origin": demand.ids[rows].to_numpy(), "dest": units.ids[cov.matrix.indices].to_numpy(), "cost": cov.distance}
    )
    demand_df = pd.DataFrame({"geoid": demand.ids.to_numpy(), "demand": demand.population})
    supply_df = pd.DataFrame({"supply": supply}, index=pd.Index(units.ids.to_numpy(), name="geoid"))
    return demand_df, supply_df, cost


def _as_series(values, ids):
    return pd.Series(values, index=ids.to_numpy())


def test_two_step_fca_matches_pysal_access(instance):
    """Same inputs through ``access.fca.two_stage_fca`` (Luo & Wang 2003; PySAL access 1.x)."""
    demand, units, cov, supply = instance
    demand_df, supply_df, cost = _access_frames(demand, units, cov, supply)
    ref = access_fca.two_stage_fca(demand_df, supply_df, cost, max_cost=25.0)
    ours = _as_series(two_step_fca(cov, demand.population, supply), demand.ids)
    assert len(ref) > 30
    np.testing.assert_allclose(ours.loc[ref.index], ref.to_numpy(), rtol=1e-12)
    assert (ours.drop(ref.index) == 0).all()  # points with no unit in reach


@pytest.mark.parametrize(
    ("decay", "weight_fn"),
    [
        ("step:8=1,16=0.68,25=0.22", access_weights.step_fn({8: 1, 16: 0.68, 25: 0.22})),
        ("gaussian:10", access_weights.gaussian(10)),
    ],
)
def test_enhanced_two_step_fca_matches_pysal_access(instance, decay, weight_fn):
    """E2SFCA (Luo & Qi 2009) as ``access`` computes it: two_stage_fca with a weight_fn."""
    demand, units, cov, supply = instance
    demand_df, supply_df, cost = _access_frames(demand, units, cov, supply)
    ref = access_fca.two_stage_fca(demand_df, supply_df, cost, max_cost=25.0, weight_fn=weight_fn)
    ours = _as_series(enhanced_two_step_fca(cov, demand.population, Decay.parse(decay), supply), demand.ids)
    np.testing.assert_allclose(ours.loc[ref.index], ref.to_numpy(), rtol=1e-12)


def test_default_decay_is_access_enhanced_default():
    """``Access.enhanced_two_stage_fca`` defaults to step_fn({10: 1, 20: 0.68, 30: 0.22});
    our default over a 30 km reach is the same function."""
    ref = access_weights.step_fn({10: 1, 20: 0.68, 30: 0.22})
    d = np.array([0, 5, 10, 10.001, 20, 25, 30, 30.5])
    np.testing.assert_allclose(Decay.default(30).weights(d), [ref(x) for x in d])


def test_enhanced_facade_matches(instance):
    """Through the ``Access`` facade too (``enhanced_two_stage_fca`` with its default decay)."""
    demand, units, _, supply = instance
    cov = coverage_within(demand, units, 30.0)
    demand_df, supply_df, cost = _access_frames(demand, units, cov, supply)
    acc = access.Access(
        demand_df=demand_df.set_index("geoid"),
        demand_value="demand",
        supply_df=supply_df,
        supply_value="supply",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    ref = acc.enhanced_two_stage_fca(max_cost=30.0)["e2sfca_supply"].dropna()
    ours = _as_series(enhanced_two_step_fca(cov, demand.population, Decay.default(30.0), supply), demand.ids)
    np.testing.assert_allclose(ours.loc[ref.index], ref.to_numpy(), rtol=1e-12)


def test_fca_ratio_matches_pysal_access(instance):
    """Floating catchment ratio: supply near i / demand near i (``access.fca.fca_ratio``)."""
    demand, units, cov, supply = instance
    neighbours = coverage_within(demand, make_units(demand.lon, demand.lat), 25.0)
    neighbours = Coverage(demand.ids, demand.ids, neighbours.matrix, neighbours.distance)
    demand_df, supply_df, cost = _access_frames(demand, units, cov, supply)
    rows = np.repeat(np.arange(neighbours.n_demand), np.diff(neighbours.matrix.indptr))
    dd = pd.DataFrame(
        {"origin": demand.ids[rows].to_numpy(), "dest": demand.ids[neighbours.matrix.indices].to_numpy(), "cost": neighbours.distance}
    )
    demand_df.index = demand.ids.to_numpy()
    with pytest.warns(UserWarning, match="unaccounted"):  # access warns about points with no unit near
        ref = access_fca.fca_ratio(demand_df, supply_df, dd, cost, 25.0)
    ours = _as_series(fca_ratio(cov, neighbours, demand.population, supply), demand.ids)
    np.testing.assert_allclose(ours.loc[ref.index], ref.to_numpy(), rtol=1e-12)


def test_two_step_fca_by_hand():
    """Hand computation (Luo & Wang 2003, eqs. 1-2) on 3 points and 2 units.

    Unit x (supply 2) reaches a, b: R_x = 2 / (100 + 300) = 0.005.
    Unit y (supply 1) reaches b, c: R_y = 1 / (300 + 100) = 0.0025.
    A_a = 0.005, A_b = 0.0075, A_c = 0.0025. With a step decay W = 1 (d <= 5), 0.5 (d <= 10)
    and distances a-x 2, b-x 8, b-y 4, c-y 9:
    R_x = 2 / (100 + 150) = 0.008, R_y = 1 / (300 + 50) = 1/350,
    A_a = 0.008, A_b = 0.004 + 1/350, A_c = 0.5/350.
    """
    m = sp.csr_array(np.array([[1, 0], [1, 1], [0, 1]], dtype=bool))
    cov = Coverage(pd.Index(["a", "b", "c"]), pd.Index(["x", "y"]), m, np.array([2.0, 8.0, 4.0, 9.0]))
    pop = np.array([100.0, 300.0, 100.0])
    supply = np.array([2.0, 1.0])
    np.testing.assert_allclose(two_step_fca(cov, pop, supply), [0.005, 0.0075, 0.0025])
    decay = Decay.parse("step:5=1,10=0.5")
    np.testing.assert_allclose(enhanced_two_step_fca(cov, pop, decay, supply), [0.008, 0.004 + 1 / 350, 0.5 / 350])


def test_unbounded_catchment_gives_supply_over_demand(instance):
    """Directional property (access tests/test_hospital_example.py): when every unit reaches
    every point, 2SFCA is total supply / total demand everywhere."""
    demand, units, _, supply = instance
    cov = coverage_within(demand, units, 20000.0)
    np.testing.assert_allclose(two_step_fca(cov, demand.population, supply), supply.sum() / demand.population.sum())


def test_population_weighted_access_equals_reached_supply(instance):
    """sum_i D_i A_i = sum of the supply of units that reach someone (a 2SFCA identity)."""
    demand, _, cov, supply = instance
    a = two_step_fca(cov, demand.population, supply)
    reaches = np.asarray(cov.matrix.sum(axis=0)).ravel() > 0
    np.testing.assert_allclose((demand.population * a).sum(), supply[reaches].sum())


def test_region_indicators_by_hand():
    m = sp.csr_array(np.array([[1, 0], [0, 0], [0, 1], [1, 1]], dtype=bool))
    cov = Coverage(pd.Index(["a", "b", "c", "d"]), pd.Index(["x", "y"]), m, np.array([1.0, 1.0, 1.0, 1.0]))
    pop = np.array([100.0, 300.0, 200.0, 400.0])
    pts = point_access(cov, pop, pop * 1.5, np.array(["N", "N", "S", "S"], dtype=object), decay=Decay.parse("step:2=1"))
    table = regions_from_points(pts, np.array(["N", "S"], dtype=object))
    # demand is the need (1.5 x population): R_x = 1 / (1.5 * 500), R_y = 1 / (1.5 * 600)
    rx, ry = 1 / 750, 1 / 900
    assert table.loc["N", "population"] == 400 and table.loc["S", "need_population"] == 900
    assert table.loc["N", "units"] == 1 and table.loc["N", "units_per_100k"] == pytest.approx(250.0)
    assert table.loc["N", "covered_share"] == pytest.approx(0.25)
    assert table.loc["S", "covered_share"] == pytest.approx(1.0)
    assert table.loc["N", "access_2sfca"] == pytest.approx(100 * rx / 400)  # weighted by population
    assert table.loc["S", "access_2sfca"] == pytest.approx((200 * ry + 400 * (rx + ry)) / 600)
    np.testing.assert_allclose(table["access_e2sfca"], table["access_2sfca"])


def test_unit_reach_exclusive():
    m = sp.csr_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=bool))
    cov = Coverage(pd.Index(list("abcd")), pd.Index(["x", "y", "z"]), m)
    out = unit_reach(cov, np.array([10.0, 20.0, 30.0, 40.0]), np.array([15.0, 20.0, 60.0, 40.0]))
    assert out["population"].tolist() == [30.0, 50.0, 0.0]
    assert out["need"].tolist() == [35.0, 80.0, 0.0]
    assert out["exclusive_population"].tolist() == [10.0, 30.0, 0.0]
    assert out["exclusive_need"].tolist() == [15.0, 60.0, 0.0]


def test_decay_parsing_errors():
    for bad in ("linear:3", "step:10", "step:10=a", "gaussian:0", "gaussian:-2", "step:5=1,5=0.5"):
        with pytest.raises(InputError, match="--decay"):
            Decay.parse(bad)


def test_adequacy_grid_by_hand():
    """Region A (urban, 200,000 people, 3 labs, 90 % within reach) against urban lab
    standard 2 per 100k and 95 % coverage: ratio passes (3 >= 4? no: needs ceil(4) = 4,
    shortfall 1), coverage fails (short of 10,000 people). Region B (rural) passes."""
    covered = {"lab": np.array([True, False, True])}
    pop = np.array([180000.0, 20000.0, 10000.0])
    grid = adequacy(
        covered,
        pop,
        np.array(["A", "A", "B"], dtype=object),
        np.array(["A", "A", "A", "B"], dtype=object),
        np.array(["lab"] * 4, dtype=object),
        pd.Series({"A": "urban", "B": "rural"}),
        {"urban": {"lab": Standard(10, 2, 0.95)}, "rural": {"lab": Standard(30, 1, 0.5)}},
    ).grid
    a = grid.loc[("A", "lab")]
    assert a["shortfall_units"] == 1 and not a["passes_ratio"]
    assert a["covered_share"] == pytest.approx(0.9) and a["shortfall_population"] == pytest.approx(10000)
    assert not a["passes"]
    b = grid.loc[("B", "lab")]
    assert b["passes"] and b["shortfall_units"] == 0 and b["units_per_100k"] == pytest.approx(10.0)


def test_region_indicators_entry_point(instance):
    """The one-call API equals per-point kernels aggregated by population."""
    demand, units, cov, supply = instance
    region = np.where(demand.lon < 50.0, "W", "E").astype(object)
    unit_region = np.where(units.lon < 50.0, "W", "E").astype(object)
    table = region_indicators(demand, units, cov, region, unit_region, supply=supply, reach=25.0)
    a = two_step_fca(cov, demand.population, supply)
    e = enhanced_two_step_fca(cov, demand.population, Decay.default(25.0), supply)
    for r in ("W", "E"):
        m = region == r
        w = demand.population[m]
        assert table.loc[r, "access_2sfca"] == pytest.approx((w * a[m]).sum() / w.sum())
        assert table.loc[r, "access_e2sfca"] == pytest.approx((w * e[m]).sum() / w.sum())
        assert table.loc[r, "units"] == (unit_region == r).sum()
