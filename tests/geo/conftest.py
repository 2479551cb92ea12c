"""Factories for the geography tests: in-memory demand/units and small files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.geo.io import Demand, Units

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "geo"


def make_demand(lon, lat, population=None, need=None, **columns) -> Demand:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ids = pd.Index([f"d{i}" for i in range(len(lon))], name="demand_id")
    pop = np.ones(len(lon)) if population is None else np.asarray(population, dtype=float)
    frame = pd.DataFrame(columns, index=ids)
    return Demand(ids, lon, lat, pop, pop.copy() if need is None else np.asarray(need, dtype=float), frame)


def make_units(lon, lat, **columns) -> Units:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ids = pd.Index([f"u{i}" for i in range(len(lon))], name="unit_id")
    return Units(ids, lon, lat, pd.DataFrame(columns, index=ids))


def random_points(rng: np.random.Generator, n: int, lon0: float, lat0: float, spread_km: float):
    """Points scattered around (lon0, lat0), longitudes wrapped to [-180, 180)."""
    dlat = rng.normal(0, spread_km / 111.2, n)
    lat = np.clip(lat0 + dlat, -89.999, 89.999)
    dlon = rng.normal(0, spread_km / (111.2 * max(np.cos(np.radians(lat0)), 0.02)), n)
    lon = (lon0 + dlon + 180.0) % 360.0 - 180.0
    return lon, lat


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def write_csv(tmp_path):
    def write(name: str, df: pd.DataFrame | str) -> Path:
        p = tmp_path / name
        if isinstance(df, str):
            p.write_text(df)
        else:
            df.to_csv(p, index=False)
        return p

    return write
