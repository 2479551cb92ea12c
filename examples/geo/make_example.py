"""Regenerate the small geography example (seeded; run from the repository root).

Six counties of Qazvin province (real boundaries, OpenStreetMap contributors, ODbL, via
../shared/data/iran/counties.geojson) with 200 synthetic settlements clustered around
the county seats and 20 synthetic units (laboratories and imaging centres). Populations
and units are invented for the example; only the boundaries are real.

    python examples/geo/make_example.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1].parent / "shared" / "data" / "iran" / "counties.geojson"

# County seats (lon, lat) and whether the seat is a city (urban core).
SEATS = {
    "Qazvin": (50.004, 36.270),
    "Takestan": (49.696, 36.071),
    "Abyek": (50.531, 36.040),
    "Buin Zahra": (50.060, 35.767),
    "Alborz": (50.238, 36.191),
    "Avaj": (49.221, 35.576),
}


def main() -> None:
    rng = np.random.default_rng(2026)
    counties = gpd.read_file(SHARED)
    counties = counties[counties["province_iso"] == "IR-26"].copy()
    counties["name"] = counties["name"].str.replace(" County", "", regex=False)
    counties["kind"] = np.where(counties["name"].isin(["Qazvin", "Alborz"]), "urban", "rural")
    counties = counties[["region_id", "name", "kind", "geometry"]]
    counties.to_file(HERE / "counties.geojson", driver="GeoJSON")

    weights = {"Qazvin": 0.45, "Takestan": 0.15, "Abyek": 0.1, "Buin Zahra": 0.12, "Alborz": 0.12, "Avaj": 0.06}
    rows = []
    i = 0
    for name, share in weights.items():
        county = counties[counties["name"] == name].iloc[0]
        lon0, lat0 = SEATS[name]
        n = round(200 * share)
        while n > 0:
            spread = 0.03 if rng.random() < 0.5 else 0.15
            lon = lon0 + rng.normal(0, spread)
            lat = lat0 + rng.normal(0, spread * 0.8)
            if not county.geometry.contains(shapely.Point(lon, lat)):
                continue
            urban = spread < 0.1
            pop = int(rng.lognormal(8.0 if urban else 6.0, 0.8))
            rows.append(
                {
                    "demand_id": f"D{i:03d}",
                    "lon": round(lon, 5),
                    "lat": round(lat, 5),
                    "population": pop,
                    "pop_over_60": int(pop * rng.uniform(0.06, 0.16)),
                    "low_income": int(pop * rng.uniform(0.1, 0.4)),
                    "kind": "urban" if urban else "rural",
                    "region": county["region_id"],
                }
            )
            i += 1
            n -= 1
    demand = pd.DataFrame(rows)
    demand.to_csv(HERE / "demand.csv", index=False)

    units = []
    for j in range(20):
        seat = rng.choice(list(SEATS), p=np.array(list(weights.values())) / sum(weights.values()))
        county = counties[counties["name"] == seat].iloc[0]
        lon0, lat0 = SEATS[seat]
        while True:
            lon, lat = lon0 + rng.normal(0, 0.04), lat0 + rng.normal(0, 0.03)
            if county.geometry.contains(shapely.Point(lon, lat)):
                break
        service = "imaging" if j % 4 == 0 else "lab"
        units.append(
            {
                "unit_id": f"U{j:02d}",
                "name": f"{seat} {service} {j}",
                "lon": round(lon, 5),
                "lat": round(lat, 5),
                "service": service,
                "capacity": int(rng.integers(2, 9)) * (3 if service == "imaging" else 1),
                "cost": int(rng.integers(40, 120)) * 1000,
                "region": county["region_id"],
            }
        )
    pd.DataFrame(units).to_csv(HERE / "units.csv", index=False)

    standards = pd.DataFrame(
        [
            {"kind": "urban", "service": "lab", "reach": 10, "min_per_100k": 2, "min_covered_share": 0.9},
            {"kind": "urban", "service": "imaging", "reach": 20, "min_per_100k": 0.5, "min_covered_share": 0.8},
            {"kind": "rural", "service": "lab", "reach": 30, "min_per_100k": 1, "min_covered_share": 0.7},
            {"kind": "rural", "service": "imaging", "reach": 60, "min_per_100k": 0.25, "min_covered_share": 0.5},
        ]
    )
    standards.to_csv(HERE / "standards.csv", index=False)


if __name__ == "__main__":
    main()
