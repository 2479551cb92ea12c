"""Great-circle distances on a spherical Earth, right anywhere on the globe.

Distances are measured along the sphere of radius :data:`EARTH_RADIUS_KM` (the IUGG mean
radius, 6371.0088 km). Two formulations are used and agree exactly:

* the haversine formula for a distance between two lon/lat points
  ``d = 2 R asin(sqrt(sin^2(dphi/2) + cos(phi1) cos(phi2) sin^2(dlambda/2)))``;
* unit-sphere coordinates ``(cos phi cos lambda, cos phi sin lambda, sin phi)``, where a
  great-circle distance ``d`` is the straight chord ``c = 2 sin(d / 2R)`` between the two
  points. A ball of chord radius ``c`` around a point on the unit sphere is exactly the
  spherical cap of great-circle radius ``d``, so a KD-tree on these 3-D points answers
  "within d km" queries with no projection, across the antimeridian and at the poles.

Nothing here is Euclidean on degrees.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG) in kilometres."""


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasts).

    >>> round(float(haversine_km(179.95, 0.0, -179.95, 0.0)), 3)  # across the antimeridian
    11.12
    >>> round(float(haversine_km(0.0, 89.9, 180.0, 89.9)), 3)  # over the North Pole
    22.239
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2))
    dlat = lat2 - lat1
    dlon = lon2 - lon1
    h = np.sin(dlat / 2.0) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def unit_sphere(lon, lat) -> np.ndarray:
    """Unit-sphere 3-D coordinates (n, 3) of lon/lat points in degrees.

    >>> unit_sphere([0.0, 90.0], [0.0, 0.0]).round(12).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    lon = np.radians(np.asarray(lon, dtype=float))
    lat = np.radians(np.asarray(lat, dtype=float))
    cos_lat = np.cos(lat)
    return np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))


def km_to_chord(distance_km) -> np.ndarray:
    """Chord length on the unit sphere for a great-circle distance: ``2 sin(d / 2R)``.

    Distances beyond half the circumference are capped at the antipode (chord 2).

    >>> float(km_to_chord(0.0)), round(float(km_to_chord(np.pi * EARTH_RADIUS_KM)), 12)
    (0.0, 2.0)
    """
    d = np.minimum(np.asarray(distance_km, dtype=float), np.pi * EARTH_RADIUS_KM)
    return 2.0 * np.sin(d / (2.0 * EARTH_RADIUS_KM))


def chord_to_km(chord) -> np.ndarray:
    """Great-circle distance in km for a unit-sphere chord: ``2 R asin(c / 2)``.

    >>> round(float(chord_to_km(km_to_chord(123.456))), 9)
    123.456
    """
    c = np.clip(np.asarray(chord, dtype=float), 0.0, 2.0)
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(c / 2.0)
