"""Great-circle distances and reach: antimeridian, poles, UTM zone borders, brute force."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.geo.coverage import coverage_within
from optimizer.geo.distance import (
    EARTH_RADIUS_KM,
    chord_to_km,
    haversine_km,
    km_to_chord,
    unit_sphere,
)

from .conftest import make_demand, make_units, random_points


def vincenty_sphere_km(lon1, lat1, lon2, lat2):
    """Independent oracle: Vincenty's (1975) formula on the sphere (atan2 form).

    d = R atan2(sqrt((cos p2 sin dl)^2 + (cos p1 sin p2 - sin p1 cos p2 cos dl)^2),
                sin p1 sin p2 + cos p1 cos p2 cos dl)
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.hypot(np.cos(p2) * np.sin(dl), np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    x = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl)
    return EARTH_RADIUS_KM * np.arctan2(y, x)


def test_haversine_known_cases():
    """One degree of arc is R * pi / 180 = 111.195 km; 0.1 deg across the antimeridian is
    11.1195 km; two points at 89.9 N on opposite meridians are 0.2 deg apart over the pole."""
    deg = EARTH_RADIUS_KM * np.pi / 180
    np.testing.assert_allclose(haversine_km(0, 0, 1, 0), deg, rtol=1e-12)
    np.testing.assert_allclose(haversine_km(179.95, 0.0, -179.95, 0.0), 0.1 * deg, rtol=1e-9)
    np.testing.assert_allclose(haversine_km(0.0, 89.9, 180.0, 89.9), 0.2 * deg, rtol=1e-9)
    # UTM zones 38/39 meet at 48 E: 0.02 deg of longitude at 35 N
    np.testing.assert_allclose(haversine_km(47.99, 35.0, 48.01, 35.0), vincenty_sphere_km(47.99, 35.0, 48.01, 35.0), rtol=1e-9)


def test_haversine_matches_vincenty_everywhere(rng):
    lon1, lon2 = rng.uniform(-180, 180, (2, 2000))
    lat1, lat2 = rng.uniform(-90, 90, (2, 2000))
    np.testing.assert_allclose(haversine_km(lon1, lat1, lon2, lat2), vincenty_sphere_km(lon1, lat1, lon2, lat2), rtol=1e-9, atol=1e-6)


def test_chord_is_the_great_circle_distance(rng):
    """|x_i - x_j| on the unit sphere equals 2 sin(d / 2R) for the haversine d."""
    lon1, lon2 = rng.uniform(-180, 180, (2, 500))
    lat1, lat2 = rng.uniform(-90, 90, (2, 500))
    chord = np.linalg.norm(unit_sphere(lon1, lat1) - unit_sphere(lon2, lat2), axis=1)
    d = haversine_km(lon1, lat1, lon2, lat2)
    np.testing.assert_allclose(chord, km_to_chord(d), atol=1e-12)
    np.testing.assert_allclose(chord_to_km(chord), d, atol=1e-6)


@pytest.mark.parametrize(
    ("demand", "unit", "inside", "outside"),
    [
        ((179.95, 0.0), (-179.95, 0.0), 11.2, 11.0),  # across the antimeridian, 11.12 km
        ((0.0, 89.9), (180.0, 89.9), 22.3, 22.2),  # over the North Pole, 22.24 km
        ((10.0, -89.95), (-170.0, -89.95), 11.2, 11.0),  # over the South Pole, 11.12 km
        ((47.99, 35.0), (48.01, 35.0), 1.83, 1.82),  # across the UTM 38/39 border, 1.822 km
    ],
)
def test_reach_is_great_circle(demand, unit, inside, outside):
    """Reach is decided on the haversine distance, wherever the points are."""
    d = haversine_km(*demand, *unit)
    assert outside < d < inside
    dem = make_demand([demand[0]], [demand[1]])
    uni = make_units([unit[0]], [unit[1]])
    cov = coverage_within(dem, uni, inside)
    assert cov.n_pairs == 1
    np.testing.assert_allclose(cov.distance, [d], rtol=1e-9)
    assert coverage_within(dem, uni, outside).n_pairs == 0


@pytest.mark.parametrize(("lon0", "lat0"), [(179.9, 10.0), (0.0, 89.7), (-60.0, -89.8), (51.4, 35.7), (48.0, 30.0)])
def test_coverage_matches_brute_force(rng, lon0, lat0):
    """Random clustered instances: the sparse relation equals the all-pairs haversine check."""
    dlon, dlat = random_points(rng, 400, lon0, lat0, 25.0)
    ulon, ulat = random_points(rng, 60, lon0, lat0, 25.0)
    radius = 12.0
    full = haversine_km(dlon[:, None], dlat[:, None], ulon[None, :], ulat[None, :])
    cov = coverage_within(make_demand(dlon, dlat), make_units(ulon, ulat), radius)
    dense = cov.matrix.toarray()
    np.testing.assert_array_equal(dense, full <= radius)
    rows, cols = np.nonzero(dense)
    np.testing.assert_allclose(cov.distance, full[rows, cols], rtol=1e-7, atol=1e-7)
    assert 0 < cov.n_pairs < dense.size
