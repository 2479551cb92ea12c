"""A small synthetic run (three square regions, twelve units, forty settlements) for the report tests.

It is built directly as an :class:`optimizer.pipeline.RunResult`, so the report is tested
independently of the pipeline; the end-to-end tests run the real demo.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from optimizer.pipeline import RunResult


def synthetic_run(rng: np.random.Generator, *, with_geometry: bool = True) -> RunResult:
    regions_ids = ["R1", "R2", "R3"]
    boxes = [box(50.0 + k, 30.0, 51.0 + k, 31.0) for k in range(3)]
    n_units = 12
    unit_region = np.repeat(regions_ids, 4)
    ulon = 50.0 + np.repeat(np.arange(3), 4) + rng.uniform(0.1, 0.9, n_units)
    ulat = rng.uniform(30.1, 30.9, n_units)
    contracted = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0], dtype=bool)
    selected = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0], dtype=bool)
    score = np.round(rng.uniform(0.2, 0.95, n_units), 4)
    rank = pd.Series(score).rank(ascending=False, method="min").astype(int).to_numpy()
    units = pd.DataFrame(
        {
            "lon": ulon,
            "lat": ulat,
            "region": unit_region,
            "service": np.where(np.arange(n_units) % 2 == 0, "lab", "imaging"),
            "cost": np.round(rng.uniform(50_000, 150_000, n_units), 0),
            "score": score,
            "rank": rank,
            "eligible": score >= 0.25,
            "contracted": contracted,
            "selected": selected,
            "marginal_coverage": np.round(rng.uniform(0, 5_000, n_units), 0),
            "reason": np.where(selected, "selected: covers <people> & more", "not selected: budget"),
        },
        index=pd.Index([f"U{k:02d}" for k in range(n_units)], name="unit_id"),
    )
    n_dem = 40
    dregion = np.array(regions_ids)[np.arange(n_dem) % 3]
    dlon = 50.0 + (np.arange(n_dem) % 3) + rng.uniform(0.05, 0.95, n_dem)
    demand = pd.DataFrame(
        {
            "lon": dlon,
            "lat": rng.uniform(30.05, 30.95, n_dem),
            "population": rng.integers(100, 20_000, n_dem).astype(float),
            "region": dregion,
            "covered_before": rng.random(n_dem) < 0.5,
            "covered_after": rng.random(n_dem) < 0.8,
        },
        index=pd.Index([f"D{k:03d}" for k in range(n_dem)], name="demand_id"),
    )
    pop = demand.groupby("region")["population"].sum()
    cov_b = demand[demand.covered_before].groupby("region")["population"].sum().reindex(regions_ids, fill_value=0) / pop
    cov_a = demand[demand.covered_after].groupby("region")["population"].sum().reindex(regions_ids, fill_value=0) / pop
    ub = units.groupby("region")["contracted"].sum()
    ua = units.groupby("region")["selected"].sum()
    regions = pd.DataFrame(
        {
            "name": ["North <A>", "Centre", "South"],
            "population": pop,
            "need_population": pop * 1.1,
            "units_before": ub,
            "units_after": ua,
            "units_per_100k_before": ub / pop * 1e5,
            "units_per_100k_after": ua / pop * 1e5,
            "covered_share_before": cov_b,
            "covered_share_after": cov_a,
            "access_2sfca_before": [0.1, 0.2, 0.3],
            "access_2sfca_after": [0.2, 0.3, 0.4],
            "floor": [0.5, np.nan, 0.99],
            "floor_met": pd.array([True, pd.NA, False], dtype="boolean"),
        },
        index=pd.Index(regions_ids, name="region"),
    )
    geometry = (
        gpd.GeoDataFrame({"name": regions["name"].tolist()}, geometry=boxes, index=pd.Index(regions_ids, name="region"), crs="EPSG:4326")
        if with_geometry
        else None
    )
    total_pop = float(demand.population.sum())
    cb = float(demand.population[demand.covered_before].sum())
    ca = float(demand.population[demand.covered_after].sum())
    selection = SimpleNamespace(status="optimal", gap=0.0, objective=ca, total_cost=float(units.cost[selected].sum()))
    figures = {
        "budget": 700_000.0,
        "total_cost": selection.total_cost,
        "status": "optimal",
        "gap": 0.0,
        "objective": ca,
        "population": total_pop,
        "coverage_share_before": cb / total_pop,
        "coverage_share_after": ca / total_pop,
        "people_newly_covered": ca - cb,
        "solver": "highs",
        "objective_mode": "coverage",
    }
    weights = pd.Series({"demographic": 0.4, "economic": 0.35, "physical": 0.25})
    return RunResult(
        scenario=SimpleNamespace(name="synthetic-test"),
        scenario_path=Path("synthetic/scenario.toml"),
        units=units,
        regions=regions,
        region_geometry=geometry,
        demand=demand,
        score_result=SimpleNamespace(method="topsis"),
        selection=selection,
        weights=weights,
        weight_details={"source": "preset:path-coefficients"},
        figures=figures,
        timings={"total": 0.5},
        inputs={"units.csv": "ab" * 32},
        versions={"optimizer": "0.1.0"},
    )


@pytest.fixture
def run(rng) -> RunResult:
    return synthetic_run(rng)


@pytest.fixture
def run_without_geometry(rng) -> RunResult:
    return synthetic_run(rng, with_geometry=False)
